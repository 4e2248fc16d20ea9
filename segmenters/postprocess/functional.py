"""Pure array functions of the post-processing: recalibration, edge-aware refinement, component clean-up.

Probabilities are ``float32 (H, W)`` in [0, 1]; masks are ``bool (H, W)``; images ``uint8 (H, W, 3)`` RGB.
"""

from __future__ import annotations

import cv2
import numpy as np

EPS = 1e-6


def recalibrate(p: np.ndarray, threshold: float) -> np.ndarray:
    """Shift probabilities in logit space so that ``p > threshold`` becomes ``p' > 0.5``, order kept.

    Soft aggregation (:func:`~segmenters.lucid.fusion.merge_objects`) decides at 0.5 for one object; recalibrating
    every object moves that decision to ``threshold`` while keeping the competition between objects.
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must lie in (0, 1), got {threshold}")
    q = np.clip(p, EPS, 1 - EPS).astype(np.float32)
    logit = np.log(q) - np.log1p(-q) - np.float32(np.log(threshold) - np.log1p(-threshold))
    return (1.0 / (1.0 + np.exp(-logit))).astype(np.float32)


def guided_filter(guide: np.ndarray, p: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """Edge-preserving smoothing of ``p`` steered by the grey levels of ``guide`` (He et al., ECCV 2010).

    Args:
        guide: ``uint8 (H, W, 3)`` RGB or ``(H, W)`` grey image.
        p: ``float32 (H, W)`` probabilities.
        radius: box radius (px); 0 returns ``p`` unchanged.
        eps: regularisation on the guide's variance (guide in [0, 1]): larger is smoother.

    Returns:
        ``float32 (H, W)`` in [0, 1], whose edges follow the guide's.
    """
    if radius <= 0:
        return p
    grey = cv2.cvtColor(guide, cv2.COLOR_RGB2GRAY) if guide.ndim == 3 else guide
    i = grey.astype(np.float32) / 255.0
    p = p.astype(np.float32)
    size = (2 * radius + 1, 2 * radius + 1)

    def box(x: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(x, cv2.CV_32F, size, borderType=cv2.BORDER_REFLECT)

    mean_i, mean_p = box(i), box(p)
    var_i = box(i * i) - mean_i * mean_i
    a = (box(i * p) - mean_i * mean_p) / (var_i + np.float32(eps))
    b = mean_p - a * mean_i
    return np.clip(box(a) * i + box(b), 0.0, 1.0)


def remove_small_components(mask: np.ndarray, min_fraction: float) -> np.ndarray:
    """``mask`` without its 8-connected components smaller than ``min_fraction`` of its largest one
    (0: unchanged)."""
    if min_fraction <= 0 or not mask.any():
        return mask
    count, components, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.zeros(count, dtype=bool)
    keep[1:] = areas >= min_fraction * areas.max()
    return keep[components]


def fill_holes(mask: np.ndarray, max_fraction: float) -> np.ndarray:
    """``mask`` with its holes (4-connected background regions not touching the border) filled when smaller than
    ``max_fraction`` of the mask's area (0: unchanged)."""
    if max_fraction <= 0 or not mask.any():
        return mask
    _, components, stats, _ = cv2.connectedComponentsWithStats((~mask).astype(np.uint8), connectivity=4)
    height, width = mask.shape
    x, y = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    inside = (x > 0) & (y > 0) & (x + stats[:, cv2.CC_STAT_WIDTH] < width) & (y + stats[:, cv2.CC_STAT_HEIGHT] < height)
    fill = inside & (stats[:, cv2.CC_STAT_AREA] <= max_fraction * mask.sum())
    fill[0] = False  # label 0 is the mask itself
    return mask | fill[components]
