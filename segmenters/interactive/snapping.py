"""Snapping propagated labels to the frame they were carried to.

Optical flow carries a mask's boundary a little off at every frame, and the errors add up: the mask slides off the
object's edge, drags background along, and leaves parts of the object behind. After each step the labels are
re-decided within a band around their boundaries, from that frame alone: everything outside the band
keeps its label and is a seed; inside, a multi-label random walker (Grady, CVPR 2005) weighs the frame's colour edges
against colour models of each label fitted to a ring beside the band (local models: the colours that meet at *this*
boundary, not those of the whole frame). A median filter within the band then removes the ragged pixels a per-pixel
decision leaves, which the next step's flow would otherwise carry on.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy import sparse
from scipy.sparse import linalg as sparse_linalg

from foundation.errors import InputError
from segmenters.interactive.propagation import boundary_distance
from segmenters.interactive.seeded import colour_likelihood, padded_box, subsample

_SETTING = "session.snap"


@dataclass(frozen=True)
class SnapConfig:
    """How propagated labels are snapped to each frame (``session.snap.*``).

    Attributes:
        radius: half-width of the band around the labels' boundaries that is re-decided, as a fraction of the
            frame's longer side (0.007: 6 px at 854×480, 13 px at 1920×1080: a flow's errors grow with the
            resolution); 0: off.
        ring: the colour models of each label are fitted to its pixels beside the band, up to ``ring`` times its
            half-width from a boundary.
        beta: edge sensitivity: a 4-neighbour edge weighs ``exp(−beta · ‖ΔLab‖² / mean ‖ΔLab‖²)`` (mean over the
            band's edges).
        prior_weight: weight of the colour models against the edges (≤ 1).
        smooth: aperture (px, odd) of the median filter applied to the labels within the band; 0 or 1: none.
        samples: most colours of one label its colour model is fitted to (a regular subsample beyond): 1,000 snap a
            480p frame in 0.03 s on one core (``benchmarks/snap_flow.py``); 5,000 took about twice as long, changed
            25 to 391 pixels of nine development frames and scored the same on the development sessions (0.740
            against 0.739).
    """

    radius: float = 0.007
    ring: float = 3.0
    beta: float = 3.0
    prior_weight: float = 0.01
    smooth: int = 5
    samples: int = 1000

    def __post_init__(self) -> None:
        if not self.radius >= 0.0:
            raise InputError(f"{_SETTING}.radius", f"{self.radius}", "0 (off) or a fraction of the frame's side")
        if not self.ring > 1.0:
            raise InputError(f"{_SETTING}.ring", f"{self.ring}", "a factor above 1")
        if not self.beta > 0.0:
            raise InputError(f"{_SETTING}.beta", f"{self.beta}", "a positive value")
        if not 0.0 < self.prior_weight <= 1.0:
            raise InputError(f"{_SETTING}.prior_weight", f"{self.prior_weight}", "a weight in (0, 1]")
        if self.smooth < 0 or (self.smooth > 1 and self.smooth % 2 == 0):
            raise InputError(f"{_SETTING}.smooth", f"{self.smooth}", "0 (off) or an odd aperture in px")
        if self.samples < 1:
            raise InputError(f"{_SETTING}.samples", f"{self.samples}", "at least 1")


def snap_labels(image: np.ndarray, labels: np.ndarray, cfg: SnapConfig) -> np.ndarray:
    """``labels`` re-decided near their boundaries (within ``cfg.radius`` times the frame's longer side) from
    ``image``'s colours and edges.

    Args:
        image: ``uint8 (H, W, 3)`` RGB frame the labels belong to.
        labels: ``int (H, W)`` ids in ``[0, 255]`` (0 background).
        cfg: the band and the random walker's settings.

    Returns:
        ``int32 (H, W)``: outside the band, ``labels``; inside, ids that ``labels`` has somewhere in the frame (an
        absent object stays absent). Deterministic.
    """
    if image.shape[:2] != labels.shape or image.ndim != 3 or image.shape[2] != 3:
        raise InputError("image", f"shape {image.shape} for labels {labels.shape}", "(H, W, 3) matching the labels")
    if labels.size and (labels.min() < 0 or labels.max() > 255):
        raise InputError("labels", f"ids from {labels.min()} to {labels.max()}", "ids in [0, 255]")
    labels = labels.astype(np.int32)
    distance = boundary_distance(labels)
    if cfg.radius <= 0.0 or distance is None:
        return labels
    radius = cfg.radius * max(labels.shape)
    # Work inside the box of what is read: the band and the ring beside it.
    rows, cols = padded_box(distance < radius * cfg.ring, pad=1)
    crop, near = labels[rows, cols], distance[rows, cols]
    band = near < radius
    values = np.unique(crop)
    probabilities = _walk(image[rows, cols], crop, band, values, near, radius, cfg)
    snapped = crop.copy()
    snapped[band] = values[np.argmax(probabilities, axis=0)]
    if cfg.smooth > 1:
        smoothed = cv2.medianBlur(snapped.astype(np.uint8), cfg.smooth).astype(np.int32)
        snapped[band] = smoothed[band]
    out = labels.copy()
    out[rows, cols] = snapped
    return out


def _walk(
    image: np.ndarray,
    labels: np.ndarray,
    band: np.ndarray,
    values: np.ndarray,
    distance: np.ndarray,
    radius: float,
    cfg: SnapConfig,
) -> np.ndarray:
    """``float64 (L, N)`` probabilities of ``values`` at the ``N`` pixels of ``band`` (row-major order), from a random
    walker over the band (``distance`` below ``radius`` px) seeded by the labels around it, with colour models of each
    value fitted to its ring."""
    height, width = labels.shape
    count = int(band.sum())
    index = np.full((height, width), -1, dtype=np.int64)
    index[band] = np.arange(count)
    # The 4-neighbour edges with at least one end in the band.
    first, second = [], []
    for dy, dx in ((0, 1), (1, 0)):
        ys, xs = np.nonzero(band[: height - dy, : width - dx] | band[dy:, dx:])
        first.append((ys, xs))
        second.append((ys + dy, xs + dx))
    y1, x1 = (np.concatenate(c) for c in zip(*first, strict=True))
    y2, x2 = (np.concatenate(c) for c in zip(*second, strict=True))
    lab = cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    squared = np.square(lab[y1, x1] - lab[y2, x2]).sum(axis=-1)
    weights = np.exp(-cfg.beta * squared / max(float(squared.mean()), 1e-6)) + 1e-6
    i1, i2 = index[y1, x1], index[y2, x2]
    degree = np.bincount(i1[i1 >= 0], weights[i1 >= 0], count) + np.bincount(i2[i2 >= 0], weights[i2 >= 0], count)
    inner = (i1 >= 0) & (i2 >= 0)
    adjacency = sparse.coo_array(
        (np.tile(weights[inner], 2), (np.concatenate([i1[inner], i2[inner]]), np.concatenate([i2[inner], i1[inner]]))),
        shape=(count, count),
    ).tocsr()
    system = (sparse.diags_array(degree + cfg.prior_weight) - adjacency).tocsr()
    preconditioner = sparse.diags_array(1.0 / system.diagonal())
    ring = ~band & (distance < radius * cfg.ring)
    pools = [subsample(image[ring & (labels == value)].astype(np.float64), cfg.samples) for value in values]
    likelihood = colour_likelihood(pools, image[band].astype(np.float64))
    # A band pixel's seed neighbours: edges with exactly one end in the band.
    to_second = (i1 >= 0) & (i2 < 0)
    to_first = (i2 >= 0) & (i1 < 0)
    out = np.zeros((len(values), count))
    for k, value in enumerate(values):
        if k == len(values) - 1:
            # The probabilities sum to 1 at every pixel, so the last value needs no solve.
            out[k] = 1.0 - out[:k].sum(axis=0)
            break
        seeded_second = to_second & (labels[y2, x2] == value)
        seeded_first = to_first & (labels[y1, x1] == value)
        rhs = cfg.prior_weight * likelihood[k]
        rhs += np.bincount(i1[seeded_second], weights[seeded_second], count)
        rhs += np.bincount(i2[seeded_first], weights[seeded_first], count)
        out[k], _ = sparse_linalg.cg(system, rhs, x0=likelihood[k], rtol=1e-3, atol=0.0, M=preconditioner, maxiter=1000)
    return out
