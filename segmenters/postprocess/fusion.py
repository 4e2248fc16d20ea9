"""Fusing the appearance and motion predictions, and merging objects so that they never overlap."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

EPS = 1e-6


def fuse(appearance: np.ndarray, motion: np.ndarray, appearance_weight: float) -> np.ndarray:
    """Weighted average of two probability maps of the same shape (weight 1: appearance only)."""
    if not 0.0 <= appearance_weight <= 1.0:
        raise ValueError(f"appearance_weight must lie in [0, 1], got {appearance_weight}")
    return appearance_weight * appearance + (1.0 - appearance_weight) * motion


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1 - EPS)
    return np.log(p) - np.log1p(-p)


def merge_objects(
    probabilities: Iterable[tuple[int, tuple[slice, slice], np.ndarray]], shape: tuple[int, int]
) -> np.ndarray:
    """Labels from per-object foreground probabilities by soft aggregation (Oh et al., CVPR 2018).

    Background gets ``Π (1 − p_i)``; background and objects compete by their odds (a softmax over their logits), so
    each pixel goes to exactly one label, and with one object a pixel is foreground where ``p > 0.5``. Objects are
    consumed one at a time, each given only over its region (``p = 0`` elsewhere), so that memory stays ``O(H W)``
    whatever the number of objects.

    Args:
        probabilities: ``(id, region, p)`` per object: ``p`` ``float32`` in [0, 1] covering ``frame[region]``.
        shape: ``(H, W)`` of the frame.

    Returns:
        ``int32 (H, W)``: 0 or one of the ids; ties go to background, then to the earlier object.
    """
    log_background = np.zeros(shape, dtype=np.float64)
    best = np.full(shape, -np.inf, dtype=np.float64)
    labels = np.zeros(shape, dtype=np.int32)
    for object_id, region, p in probabilities:
        p = np.clip(p.astype(np.float64), EPS, 1 - EPS)
        log_background[region] += np.log1p(-p)
        logit = np.log(p) - np.log1p(-p)
        wins = logit > best[region]
        best[region][wins] = logit[wins]
        labels[region][wins] = object_id
    background = np.clip(np.exp(log_background), EPS, 1 - EPS)
    labels[best <= np.log(background) - np.log1p(-background)] = 0
    return labels
