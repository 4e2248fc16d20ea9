"""DAVIS region (J) and boundary (F) measures of binary masks, and their per-object statistics.

Definitions follow the semi-supervised DAVIS 2017 benchmark (Perazzi et al., CVPR 2016; Pont-Tuset et al., 2017)
so that figures agree with the official toolkit to the last printed digit. Masks are ``bool (..., H, W)``; every
function is vectorised over the leading axes (objects, frames).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from foundation.morphology import disk

BOUNDARY_TOLERANCE = 0.008
"""Boundary match tolerance as a fraction of the image diagonal (8 px at 854x480)."""


def ratio_or_one(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator`` with ``0 / 0 = 1`` (nothing to find and nothing found is a perfect score)."""
    return np.where(denominator == 0, 1.0, numerator / np.maximum(denominator, 1))


def _count(mask: np.ndarray) -> np.ndarray:
    return np.count_nonzero(mask, axis=(-2, -1))


def jaccard(prediction: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Region similarity J = |P ∩ G| / |P ∪ G| of ``bool (..., H, W)`` masks; 1 where the union is empty.

    Returns:
        ``float64 (...)``.
    """
    return ratio_or_one(_count(prediction & truth), _count(prediction | truth))


def boundary_map(mask: np.ndarray) -> np.ndarray:
    """One-pixel boundaries of ``bool (..., H, W)`` masks, as BSDS ``seg2bmap`` draws them.

    A pixel is on the boundary when it differs from its right, lower or lower-right neighbour. Beyond the last row
    and column the mask continues its edge pixels, so the bottom-right pixel is never a boundary pixel.
    """
    pad = [(0, 0)] * (mask.ndim - 2) + [(0, 1), (0, 1)]
    padded = np.pad(mask, pad, mode="edge")
    right, below, below_right = padded[..., :-1, 1:], padded[..., 1:, :-1], padded[..., 1:, 1:]
    return (mask != right) | (mask != below) | (mask != below_right)


def tolerance_radius(height: int, width: int, tolerance: float = BOUNDARY_TOLERANCE) -> int:
    """Boundary match radius in pixels: ``ceil(tolerance × diagonal)``, or ``tolerance`` itself when it is ≥ 1."""
    return int(tolerance) if tolerance >= 1 else math.ceil(tolerance * math.hypot(height, width))


def _near_counts(points: np.ndarray, targets: np.ndarray, radius: int) -> np.ndarray:
    """Per ``(H, W)`` plane, how many ``points`` pixels lie within the disk of ``radius`` around a ``targets`` pixel.

    The disk dilation of ``targets`` runs only on the box around them grown by ``radius``, which is exact: nothing
    outside that box is within reach, and pixels outside the image never contribute.
    """
    kernel = disk(radius)
    height, width = targets.shape[-2:]
    points, targets = points.reshape(-1, height, width), targets.reshape(-1, height, width)
    counts = np.zeros(len(targets), dtype=np.int64)
    for index, (plane, target) in enumerate(zip(points, targets, strict=True)):
        rows, cols = np.flatnonzero(target.any(axis=1)), np.flatnonzero(target.any(axis=0))
        if rows.size == 0:
            continue
        y0, y1 = max(rows[0] - radius, 0), min(rows[-1] + radius + 1, height)
        x0, x1 = max(cols[0] - radius, 0), min(cols[-1] + radius + 1, width)
        grown = cv2.dilate(np.ascontiguousarray(target[y0:y1, x0:x1]).view(np.uint8), kernel)
        counts[index] = np.count_nonzero(plane[y0:y1, x0:x1] & grown.view(bool))
    return counts


def boundary_f(prediction: np.ndarray, truth: np.ndarray, tolerance: float = BOUNDARY_TOLERANCE) -> np.ndarray:
    """Boundary F-measure of ``bool (..., H, W)`` masks.

    Precision is the fraction of predicted boundary pixels within ``tolerance_radius`` of a ground-truth boundary
    pixel (a disk dilation), recall the converse, F = 2PR / (P + R) and 0 when P + R = 0. An empty boundary has
    precision (or recall) 1, so both masks empty score 1 and exactly one empty scores 0.

    Returns:
        ``float64 (...)``.
    """
    if prediction.shape != truth.shape:
        raise ValueError(f"prediction {prediction.shape} and ground truth {truth.shape} differ in shape")
    radius = tolerance_radius(*truth.shape[-2:], tolerance)
    predicted, actual = boundary_map(prediction), boundary_map(truth)
    shape = truth.shape[:-2]
    precision = ratio_or_one(_near_counts(predicted, actual, radius).reshape(shape), _count(predicted))
    recall = ratio_or_one(_near_counts(actual, predicted, radius).reshape(shape), _count(actual))
    total = precision + recall
    return np.where(total == 0, 0.0, 2 * precision * recall / np.where(total == 0, 1.0, total))


@dataclass(frozen=True)
class Statistics:
    """Summary of one object's per-frame scores."""

    mean: float
    recall: float
    """Fraction of frames scoring above 0.5."""
    decay: float
    """Mean of the first quarter of the frames minus mean of the last quarter."""


def statistics(values: np.ndarray) -> Statistics:
    """Mean, recall and decay of per-frame scores ``float (N,)``, N ≥ 1.

    The quarters are the DAVIS bins: ``ids = round(linspace(1, N, 5)) - 1`` and bin ``i`` is
    ``values[ids[i] : ids[i + 1] + 1]``, so neighbouring bins share a frame.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"statistics need a non-empty 1-D array of per-frame scores, got shape {values.shape}")
    # The 1e-10 breaks round-half-to-even ties upwards, as the reference implementation does.
    ids = np.round(np.linspace(1, values.size, 5) + 1e-10).astype(np.int64) - 1
    first, last = values[ids[0] : ids[1] + 1], values[ids[3] : ids[4] + 1]
    return Statistics(
        mean=float(values.mean()),
        recall=float(np.mean(values > 0.5)),
        decay=float(first.mean() - last.mean()),
    )
