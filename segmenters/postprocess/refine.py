"""From per-object network probabilities to labels: fusion, refinement, threshold, merging, clean-up."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from segmenters.postprocess.functional import fill_holes, guided_filter, recalibrate, remove_small_components
from segmenters.postprocess.fusion import fuse, merge_objects


@dataclass(frozen=True)
class ObjectProbabilities:
    """The networks' output for one object over ``frame[region]``.

    Attributes:
        id: the object's id.
        region: ``(rows, cols)`` slices of the frame the window covers.
        appearance: ``float32 (h, w)`` probability from the appearance network.
        motion: same from the motion network, or ``None`` without one.
    """

    id: int
    region: tuple[slice, slice]
    appearance: np.ndarray
    motion: np.ndarray | None


@dataclass(frozen=True)
class PostProcessConfig:
    """Every value the post-processing uses; :mod:`segmenters.postprocess.tuning` chooses them on held-out dreams."""

    appearance_weight: float = 0.7
    """Fusion: ``appearance * w + motion * (1 - w)`` (ignored without a motion network)."""
    threshold: float = 0.5
    """Probability above which a pixel belongs to an object."""
    refine_radius: int = 0
    """Guided-filter radius (px) of the edge-aware refinement; 0: off."""
    refine_eps: float = 0.01
    """Guided-filter regularisation: larger is smoother."""
    min_component: float = 0.0
    """Drop an object's pieces smaller than this fraction of its largest piece; 0: off."""
    fill_holes: float = 0.0
    """Fill an object's holes smaller than this fraction of its area; 0: off."""


def refined_probabilities(
    image: np.ndarray, objects: Iterable[ObjectProbabilities], cfg: PostProcessConfig
) -> Iterator[tuple[int, tuple[slice, slice], np.ndarray]]:
    """``(id, region, p)`` per object after fusion, refinement and recalibration to ``cfg.threshold``."""
    for obj in objects:
        p = obj.appearance if obj.motion is None else fuse(obj.appearance, obj.motion, cfg.appearance_weight)
        p = guided_filter(image[obj.region], p, cfg.refine_radius, cfg.refine_eps)
        if cfg.threshold != 0.5:
            p = recalibrate(p, cfg.threshold)
        yield obj.id, obj.region, p


def clean_labels(labels: np.ndarray, ids: Iterable[int], cfg: PostProcessConfig) -> np.ndarray:
    """Small pieces of each object become background; its small holes are filled where they are background."""
    if cfg.min_component <= 0 and cfg.fill_holes <= 0:
        return labels
    labels = labels.copy()
    for object_id in ids:
        mask = labels == object_id
        kept = remove_small_components(mask, cfg.min_component)
        labels[mask & ~kept] = 0
        filled = fill_holes(kept, cfg.fill_holes)
        labels[filled & ~kept & (labels == 0)] = object_id
    return labels


def postprocess(
    image: np.ndarray, objects: Iterable[ObjectProbabilities], cfg: PostProcessConfig, shape: tuple[int, int]
) -> np.ndarray:
    """Labels ``int32 (H, W)`` of a frame (``uint8 (H, W, 3)`` RGB) from its objects' probabilities."""
    objects = list(objects)
    labels = merge_objects(refined_probabilities(image, objects, cfg), shape)
    return clean_labels(labels, [obj.id for obj in objects], cfg)
