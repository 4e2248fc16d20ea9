"""The two networks of one video and the segmentation of one frame from per-object guidance."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

from segmenters.lucid.boundary import BoundaryConfig, refine_boundary
from segmenters.lucid.crops import Window, mask_window, paste_region
from segmenters.lucid.inputs import MatchingContext, matching_inputs, network_inputs
from segmenters.lucid.proposals import ProposalConfig
from segmenters.lucid.samples import CropConfig
from segmenters.matching.embedding import EmbeddingConfig, ReferenceMatcher
from segmenters.matching.segmenter import MatchingSegmenter
from segmenters.networks import UNet
from segmenters.postprocess import ObjectProbabilities, PostProcessConfig, postprocess
from segmenters.training import predict_probability


class LucidModel:
    """Appearance (RGB + guidance) and optional motion (flow + guidance) networks applied to object crops.

    Args:
        appearance: network of 4 input channels, 1 output; or a
            :class:`~segmenters.matching.segmenter.MatchingSegmenter`, which also reads the matching inputs (the
            annotated and the previous frame: the ``context`` of :meth:`segment`).
        motion: network of :func:`~segmenters.lucid.inputs.motion_channels` inputs, or ``None`` (appearance only).
        crop: the windows (as in training).
        direction: the motion network takes the flow components besides the magnitude.
        postprocess: fusion, threshold, refinement and clean-up of the probabilities.
        device: where the networks run.
        batch_size: object crops per forward pass.
        precision: autocast dtype (:func:`~segmenters.training.autocast_dtype`), ``None`` for float32.
        boundary: the boundary refiner (:mod:`segmenters.lucid.boundary`) applied to the appearance probability,
            or ``None``.
        boundary_cfg: its settings.
        embedding: the pixel embedding (:mod:`segmenters.matching`), or ``None``.
        matching_cfg: its settings.
        flip: test-time augmentation: the appearance network and the boundary refiner average their probability
            with that of the mirrored input, mirrored back (:func:`~segmenters.training.predict_probability`).

    Attributes:
        proposals: the proposals' scoring tuned for this video (:mod:`segmenters.lucid.proposals`; the tracker
            takes the tuned fields from it), or ``None``: the tracker's own settings.
    """

    def __init__(
        self,
        appearance: UNet | MatchingSegmenter,
        motion: UNet | None,
        crop: CropConfig,
        direction: bool,
        postprocess: PostProcessConfig,
        device: torch.device,
        batch_size: int = 16,
        precision: torch.dtype | None = None,
        boundary: UNet | None = None,
        boundary_cfg: BoundaryConfig | None = None,
        embedding: UNet | None = None,
        matching_cfg: EmbeddingConfig | None = None,
        flip: bool = False,
    ) -> None:
        layout = torch.channels_last
        self.appearance = appearance.to(device, memory_format=layout).eval()
        self.motion = motion and motion.to(device, memory_format=layout).eval()
        self.boundary = boundary and boundary.to(device, memory_format=layout).eval()
        self.boundary_cfg = boundary_cfg or BoundaryConfig()
        self.embedding = embedding and embedding.to(device, memory_format=layout).eval()
        self.matching_cfg = matching_cfg or EmbeddingConfig()
        self.crop, self.direction, self.device, self.batch_size = crop, direction, device, batch_size
        self.precision = precision
        self.postprocess = postprocess
        self.proposals: ProposalConfig | None = None
        self.flip = flip

    def reference_matcher(self, image: np.ndarray, labels: np.ndarray) -> ReferenceMatcher:
        """Global matching against the annotated ``image`` (``uint8 (H, W, 3)``) and its ``labels`` (``int (H, W)``)
        with the video's embedding (which must exist)."""
        assert self.embedding is not None
        return ReferenceMatcher.from_frame(
            self.embedding, self.matching_cfg, image, labels, self.device, self.precision
        )

    @property
    def matching(self) -> bool:
        """Whether the appearance network reads matching maps (and :meth:`segment` needs a ``context``)."""
        return isinstance(self.appearance, MatchingSegmenter)

    def _inputs(
        self,
        image: np.ndarray,
        flow: np.ndarray,
        guidance: np.ndarray,
        object_id: int,
        window: Window,
        context: MatchingContext | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The appearance and motion inputs of one object; the appearance's with the matching inputs when its
        network reads them."""
        crop = self.crop
        appearance, motion = network_inputs(image, flow, guidance, window, crop.size, self.direction)
        if self.matching:
            if context is None:
                raise ValueError("this appearance network reads matching maps: segment() needs a MatchingContext")
            matching = matching_inputs(context, object_id, window, crop.size, crop.margin, crop.min_side)
            appearance = np.concatenate([appearance, matching])
        return appearance, motion

    def object_probabilities(
        self,
        image: np.ndarray,
        flow: np.ndarray,
        guidance: Sequence[np.ndarray],
        ids: Sequence[int],
        context: MatchingContext | None = None,
    ) -> Iterator[ObjectProbabilities]:
        """The networks' probabilities over its window's region for each object with a non-empty guidance mask."""
        windows = [mask_window(g, self.crop.margin, self.crop.min_side) for g in guidance]
        todo = [(i, w) for i, w in enumerate(windows) if w is not None]
        for start in range(0, len(todo), self.batch_size):
            chunk = todo[start : start + self.batch_size]
            inputs = [self._inputs(image, flow, guidance[i], ids[i], w, context) for i, w in chunk]
            appearance = predict_probability(
                self.appearance, np.stack([a for a, _ in inputs]), self.device, self.precision, self.flip
            )
            motion = [None] * len(chunk)
            if self.motion is not None:
                motion = predict_probability(self.motion, np.stack([m for _, m in inputs]), self.device, self.precision)
            for (i, window), p_appearance, p_motion in zip(chunk, appearance, motion, strict=True):
                region, p_appearance = paste_region(p_appearance, window, image.shape[:2])
                if self.boundary is not None:
                    p_appearance = refine_boundary(
                        self.boundary,
                        image,
                        region,
                        p_appearance,
                        self.boundary_cfg,
                        self.device,
                        self.precision,
                        flip=self.flip,
                    )
                if p_motion is not None:
                    p_motion = paste_region(p_motion, window, image.shape[:2])[1]
                yield ObjectProbabilities(ids[i], region, p_appearance, p_motion)

    def segment(
        self,
        image: np.ndarray,
        flow: np.ndarray,
        guidance: Sequence[np.ndarray],
        ids: Sequence[int],
        context: MatchingContext | None = None,
    ) -> np.ndarray:
        """Labels ``int32 (H, W)`` of ``image`` (``uint8 (H, W, 3)``) given each object's guidance mask
        (``bool (H, W)``, empty for a lost object), the flow to the previous frame (``float32 (H, W, 2)``) and, for
        an appearance network with matching maps, the annotated and the previous frame (``context``)."""
        objects = self.object_probabilities(image, flow, guidance, ids, context)
        return postprocess(image, objects, self.postprocess, image.shape[:2])
