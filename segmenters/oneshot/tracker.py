"""OneShotTracker: the OSVOS-style baseline. Per video, a U-Net trained from scratch on augmentations of the annotated
frame only, then applied to every later frame on its own.

No dreams, no previous-mask guidance, no motion: what Lucid adds is measured against this. The network has one
output per object plus background; a frame is downscaled to the working resolution (the one training saw), padded
to the network's stride, and its softmax probabilities are resized back to full size before the argmax.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf
from torch.nn import functional as F

from foundation.errors import InputError
from foundation.io import object_ids
from foundation.settings import from_container
from foundation.timing import timed
from segmenters.networks import UNet, UNetConfig, build_unet, image_features
from segmenters.oneshot.augment import AugmentConfig, OneShotSamples
from segmenters.tracking import annotated_first_frame, describe_stage_times
from segmenters.training import TrainConfig, autocast_dtype, predict, resolve_device, train

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OneShotConfig:
    """Everything the tracker reads (``conf/tracker/oneshot.yaml``)."""

    seed: int = 0
    device: str = "auto"
    """``auto`` (CUDA when available, else CPU), ``cpu`` or ``cuda[:n]``."""
    precision: str = "auto"
    """Autocast precision (:func:`~segmenters.training.autocast_dtype`): ``auto``, ``fp32``, ``bf16`` or ``fp16``."""
    threads: int = 2
    """torch CPU threads (0: leave torch's setting)."""
    crop_fraction: float = 0.5
    """Sets the working resolution: frames are downscaled (never enlarged) so that a training crop spans this
    fraction of their short side, which keeps the crops' context the same whatever the crop size."""
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    appearance: UNetConfig = field(default_factory=UNetConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    progress: bool = True


def working_size(height: int, width: int, crop_size: int, crop_fraction: float) -> tuple[int, int]:
    """``(h, w)`` of a ``height x width`` frame downscaled so that ``crop_size`` is ``crop_fraction`` of its short
    side; the frame's own size when it is already smaller."""
    factor = min(1.0, crop_size / crop_fraction / min(height, width))
    return max(1, round(height * factor)), max(1, round(width * factor))


def resize(array: np.ndarray, size: tuple[int, int], interpolation: int) -> np.ndarray:
    """``array`` (``(H, W)`` or ``(H, W, C)``) resized to ``size = (h, w)``; unchanged when already that size."""
    if array.shape[:2] == size:
        return array
    return cv2.resize(array, size[::-1], interpolation=interpolation)


def weighted_cross_entropy(logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Softmax cross-entropy of ``logits (B, K + 1, S, S)`` against class indices ``target int64 (B, S, S)``,
    averaged over pixels with ``weight (B, S, S)`` (0 on void)."""
    loss = F.cross_entropy(logits, target, reduction="none")
    return (loss * weight).sum() / weight.sum().clamp_min(1.0)


class OneShotModel:
    """A trained network applied to whole frames.

    Args:
        net: network with ``len(ids) + 1`` outputs (background first).
        ids: the object id of each output after the background.
        size: the working resolution ``(h, w)``.
        device: where the network runs.
        precision: autocast dtype, ``None`` for float32.
    """

    def __init__(
        self, net: UNet, ids: Sequence[int], size: tuple[int, int], device: torch.device, precision: torch.dtype | None
    ) -> None:
        self.net = net.to(device, memory_format=torch.channels_last).eval()
        self.ids = np.array([0, *ids], np.int32)
        self.size, self.device, self.precision = size, device, precision

    def probabilities(self, image: np.ndarray) -> torch.Tensor:
        """Softmax ``float32 (K + 1, H, W)`` of ``image`` (``uint8 (H, W, 3)`` RGB), on the model's device."""
        height, width = image.shape[:2]
        h, w = self.size
        stride = self.net.stride
        small = resize(image, self.size, cv2.INTER_AREA)
        # Replicated borders up to the stride; what the network says there is cut off again.
        padded = cv2.copyMakeBorder(small, 0, -h % stride, 0, -w % stride, cv2.BORDER_REPLICATE)
        logits = predict(self.net, torch.from_numpy(image_features(padded))[None], self.device, self.precision)
        p = torch.softmax(logits[:, :, :h, :w], dim=1)
        return F.interpolate(p, size=(height, width), mode="bilinear", align_corners=False)[0]

    def segment(self, image: np.ndarray) -> np.ndarray:
        """Labels ``int32 (H, W)`` of ``image`` (``uint8 (H, W, 3)`` RGB): the most probable object id per pixel."""
        return self.ids[self.probabilities(image).argmax(dim=0).cpu().numpy()]


class OneShotTracker:
    """One-shot fine-tuning baseline (OSVOS-style, Caelles et al., CVPR 2017, without pretraining); keyword
    arguments are the fields of :class:`OneShotConfig`.

    ``stage_times[video]`` holds the seconds spent dreaming (always 0), training and tracking each video.
    """

    def __init__(self, **settings: Any) -> None:
        settings = {
            k: OmegaConf.to_container(v, resolve=True) if isinstance(v, DictConfig) else v for k, v in settings.items()
        }
        self.cfg = from_container(OneShotConfig, settings, "tracker")
        if not 0.0 < self.cfg.crop_fraction <= 1.0:
            raise InputError("tracker.crop_fraction", f"{self.cfg.crop_fraction}", "a fraction in (0, 1]")
        self.stage_times: dict[str, dict[str, float]] = {}

    def fit(self, image: np.ndarray, labels: np.ndarray, video: str = "video") -> OneShotModel:
        """Train a network on augmentations of ``image`` (``uint8 (H, W, 3)``) and its ``labels`` (``int (H, W)``,
        :data:`~foundation.io.VOID` ignored): the model of ``video``."""
        cfg = self.cfg
        if cfg.threads > 0:
            torch.set_num_threads(cfg.threads)
        device = resolve_device(cfg.device)
        precision = autocast_dtype(device, cfg.precision)
        ids = object_ids(labels)
        torch.manual_seed(cfg.seed)
        net = build_unet(cfg.appearance, 3, len(ids) + 1)
        if cfg.augment.crop_size % net.stride:
            raise InputError("augment.crop_size", f"{cfg.augment.crop_size}", f"a multiple of {net.stride}")
        size = working_size(*labels.shape, cfg.augment.crop_size, cfg.crop_fraction)
        times = self.stage_times.setdefault(video, {})
        times["dream"] = 0.0
        with timed(times, "train"):
            samples = OneShotSamples(
                resize(image, size, cv2.INTER_AREA),
                resize(labels.astype(np.int32), size, cv2.INTER_NEAREST),
                cfg.augment,
                cfg.seed,
                cfg.train.steps * cfg.train.batch_size,
            )
            train(
                {"appearance": net}, samples, cfg.train, device, None, cfg.progress, precision, weighted_cross_entropy
            )
        return OneShotModel(net, ids, size, device, precision)

    def track(
        self, frames: Iterable[np.ndarray], first_labels: np.ndarray, name: str | None = None
    ) -> Iterator[np.ndarray]:
        """Train on the first frame, then segment each later frame on its own (see
        :class:`~segmenters.tracking.Tracker`); ``name`` names the video's timing row."""
        video = name or "video"
        iterator = iter(frames)
        first, labels = annotated_first_frame(iterator, first_labels, video)
        model = self.fit(first, first_labels, video)
        times = self.stage_times[video]
        yield labels
        try:
            with timed(times, "track"):
                for index, frame in enumerate(iterator, start=1):
                    if frame.shape != first.shape:
                        raise InputError(
                            f"frame {index}", f"shape {frame.shape}", f"the first frame's shape {first.shape}"
                        )
                    yield model.segment(frame)
        finally:
            log.info("%s: %s", video, describe_stage_times(times))
