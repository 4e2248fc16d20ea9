"""The two networks of one video and the segmentation of one frame from per-object guidance."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

from segmenters.lucid.crops import mask_window, paste_region
from segmenters.lucid.fusion import fuse, merge_objects
from segmenters.lucid.inputs import network_inputs
from segmenters.networks import UNet
from segmenters.training.samples import CropConfig


class LucidModel:
    """Appearance (RGB + guidance) and optional motion (flow + guidance) networks applied to object crops.

    Args:
        appearance: network of 4 input channels, 1 output.
        motion: network of :func:`~segmenters.lucid.inputs.motion_channels` inputs, or ``None`` (appearance only).
        crop: the windows (as in training).
        direction: the motion network takes the flow components besides the magnitude.
        appearance_weight: weight of the appearance probability in the fusion (1 when there is no motion network).
        device: where the networks run; CUDA runs them in half precision.
        batch_size: object crops per forward pass.
    """

    def __init__(
        self,
        appearance: UNet,
        motion: UNet | None,
        crop: CropConfig,
        direction: bool,
        appearance_weight: float,
        device: torch.device,
        batch_size: int = 16,
    ) -> None:
        self.appearance, self.motion = appearance.to(device).eval(), motion and motion.to(device).eval()
        self.crop, self.direction, self.device, self.batch_size = crop, direction, device, batch_size
        self.appearance_weight = appearance_weight if motion is not None else 1.0

    def _predict(self, net: UNet, inputs: np.ndarray) -> np.ndarray:
        with (
            torch.inference_mode(),
            torch.autocast(device_type=self.device.type, dtype=torch.float16, enabled=self.device.type == "cuda"),
        ):
            logits = net(torch.from_numpy(inputs).to(self.device))
        return torch.sigmoid(logits.float())[:, 0].cpu().numpy()

    def object_probabilities(
        self, image: np.ndarray, flow: np.ndarray, guidance: Sequence[np.ndarray], ids: Sequence[int]
    ) -> Iterator[tuple[int, tuple[slice, slice], np.ndarray]]:
        """``(id, region, p)`` for each object with a non-empty guidance mask (see
        :func:`~segmenters.lucid.fusion.merge_objects`)."""
        windows = [mask_window(g, self.crop.margin, self.crop.min_side) for g in guidance]
        todo = [(i, w) for i, w in enumerate(windows) if w is not None]
        size = self.crop.size
        for start in range(0, len(todo), self.batch_size):
            chunk = todo[start : start + self.batch_size]
            inputs = [network_inputs(image, flow, guidance[i], w, size, self.direction) for i, w in chunk]
            p = self._predict(self.appearance, np.stack([a for a, _ in inputs]))
            if self.motion is not None:
                p = fuse(p, self._predict(self.motion, np.stack([m for _, m in inputs])), self.appearance_weight)
            for (i, window), crop_p in zip(chunk, p, strict=True):
                region, values = paste_region(np.ascontiguousarray(crop_p, dtype=np.float32), window, image.shape[:2])
                yield ids[i], region, values

    def segment(
        self, image: np.ndarray, flow: np.ndarray, guidance: Sequence[np.ndarray], ids: Sequence[int]
    ) -> np.ndarray:
        """Labels ``int32 (H, W)`` of ``image`` (``uint8 (H, W, 3)``) given each object's guidance mask
        (``bool (H, W)``, empty for a lost object) and the flow to the previous frame (``float32 (H, W, 2)``)."""
        return merge_objects(self.object_probabilities(image, flow, guidance, ids), image.shape[:2])
