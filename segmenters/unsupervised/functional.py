"""Pure array functions of object discovery: motion masks and their refinement (the camera's motion and each pixel's
motion apart from it: :mod:`segmenters.optical_flow`).

Flows are ``float32 (H, W, 2)`` from one frame to another: pixel ``(x, y)`` is seen at ``(x + dx, y + dy)`` in the
other frame (:func:`~segmenters.optical_flow.dis_flow`). Masks are ``bool (H, W)``.
"""

from __future__ import annotations

import cv2
import numpy as np
from skimage.filters import threshold_otsu

from segmenters.optical_flow import pixel_grid


def warp_to(values: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``values`` of another frame ``float32 (H, W)`` brought onto this frame: sampled (bilinearly) where ``flow``
    (this frame → the other) says each pixel is seen there; the border is repeated outside."""
    grid = pixel_grid(flow.shape[:2]) + flow
    return cv2.remap(
        values.astype(np.float32), grid[..., 0], grid[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def temporal_motion(
    motion: np.ndarray,
    previous: np.ndarray | None,
    to_previous: np.ndarray | None,
    following: np.ndarray | None,
    to_following: np.ndarray | None,
) -> np.ndarray:
    """Residual motion ``float32 (H, W)`` of a frame averaged (in ``log1p``) with its neighbours' brought onto it
    along the flows ``to_previous`` and ``to_following`` (this frame → them): noise of one flow field fades, what
    moves in all three stays."""
    logs = [np.log1p(motion)]
    for other, flow in ((previous, to_previous), (following, to_following)):
        if other is not None and flow is not None:
            logs.append(np.log1p(warp_to(other, flow)))
    return np.expm1(np.mean(logs, axis=0)).astype(np.float32)


def motion_mask(motion: np.ndarray, min_motion: float = 0.7, min_area: float = 0.005) -> np.ndarray:
    """Pixels that move apart from the camera: ``motion`` ``(H, W)`` above Otsu's threshold of its ``log1p`` and
    above ``min_motion`` px, opened, without regions smaller than ``min_area`` of the frame."""
    values = np.log1p(motion)
    otsu = float(threshold_otsu(values)) if np.ptp(values) > 0 else np.inf
    mask = values > max(otsu, float(np.log1p(min_motion)))
    mask = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((5, 5), np.uint8)) > 0
    return remove_small(mask, min_area)


def remove_small(mask: np.ndarray, min_area: float) -> np.ndarray:
    """``mask`` without its 8-connected regions smaller than ``min_area`` of the frame."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    keep = np.zeros(count, bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= min_area * mask.size
    return keep[labels]


def refine_by_colour(
    image: np.ndarray, mask: np.ndarray, iterations: int = 3, band: int = 12, rim: int = 3, core: int = 12
) -> np.ndarray:
    """``mask`` snapped to the colours of ``image`` (``uint8 (H, W, 3)`` RGB) by GrabCut: the mask eroded by
    ``core`` px is sure foreground, eroded by ``rim`` px probable foreground, its outer ``rim`` px and a ``band``-px
    ring around it probable background, the rest sure background. A motion mask is wider than its object (the flow
    spreads over the edges), so its rim starts on the background's side. An empty mask, or one GrabCut cannot model,
    is returned as it is."""
    if mask.sum() < 50 or mask.all():
        return mask
    kernel, mask8 = np.ones((3, 3), np.uint8), mask.astype(np.uint8)
    labels = np.full(mask.shape, cv2.GC_BGD, np.uint8)
    labels[cv2.dilate(mask8, kernel, iterations=band) > 0] = cv2.GC_PR_BGD
    labels[cv2.erode(mask8, kernel, iterations=rim) > 0] = cv2.GC_PR_FGD
    labels[cv2.erode(mask8, kernel, iterations=core) > 0] = cv2.GC_FGD
    if not (labels == cv2.GC_PR_FGD).any() and not (labels == cv2.GC_FGD).any():
        return mask  # thinner than its rim: nothing to start the foreground's colours from
    models = np.zeros((1, 65)), np.zeros((1, 65))
    cv2.setRNGSeed(0)  # GrabCut's k-means initialisation draws from OpenCV's generator
    try:
        cv2.grabCut(cv2.cvtColor(image, cv2.COLOR_RGB2BGR), labels, None, *models, iterations, cv2.GC_INIT_WITH_MASK)
    except cv2.error:  # e.g. a colour model with no samples: keep the motion mask
        return mask
    return (labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)


def instances(mask: np.ndarray, min_area: float) -> list[np.ndarray]:
    """The 8-connected regions of ``mask`` of at least ``min_area`` of the frame, largest first."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    order = sorted(range(1, count), key=lambda i: -stats[i, cv2.CC_STAT_AREA])
    return [labels == i for i in order if stats[i, cv2.CC_STAT_AREA] >= min_area * mask.size]


def motion_contrast(motion: np.ndarray, mask: np.ndarray, ring: int = 10, floor: float = 0.1) -> float:
    """How much more ``mask`` moves than its surroundings: the log ratio of the mean residual motion inside to that
    in a ``ring``-px band around it, each plus ``floor`` px (0 for an empty mask). A ratio, so that an object moving
    slowly against a still background stands out as well as a fast one."""
    if not mask.any():
        return 0.0
    around = (cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=ring) > 0) & ~mask
    outside = float(motion[around].mean()) if around.any() else 0.0
    return float(np.log((motion[mask].mean() + floor) / (outside + floor)))


def boundary_connectivity(mask: np.ndarray) -> float:
    """How much of ``mask`` lies on the frame's border: its pixels in the outermost rows and columns over the
    square root of its area (0 for an empty mask). Background regions touch the border along much of their
    outline, objects seldom do (Zhu et al., "Saliency optimization from robust background detection", CVPR 2014):
    a disc inside the frame scores 0, a half-disc cut by the border about 1.6, a band across the frame
    ``2 · height / √(area)``."""
    area = np.count_nonzero(mask)
    if area == 0:
        return 0.0
    border = (
        np.count_nonzero(mask[0]) + np.count_nonzero(mask[-1])
        + np.count_nonzero(mask[1:-1, 0]) + np.count_nonzero(mask[1:-1, -1])
    )  # fmt: skip
    return float(border / np.sqrt(area))


def border_weight(mask: np.ndarray, sigma: float) -> float:
    """``exp(−c² / 2σ²)`` of the :func:`boundary_connectivity` ``c`` of ``mask``: 1 inside the frame, falling as
    the mask spreads along the border (``sigma`` 0: no weighting, always 1)."""
    if sigma <= 0:
        return 1.0
    return float(np.exp(-(boundary_connectivity(mask) ** 2) / (2 * sigma**2)))


def covered(a: np.ndarray, b: np.ndarray) -> float:
    """The fraction of mask ``b`` that mask ``a`` covers (0 when ``b`` is empty)."""
    area = np.count_nonzero(b)
    return 0.0 if area == 0 else np.count_nonzero(a & b) / area


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two masks (0 when both are empty)."""
    union = np.count_nonzero(a | b)
    return 0.0 if union == 0 else np.count_nonzero(a & b) / union


def bounded_by(labels: np.ndarray, bounds: np.ndarray, radius: int) -> np.ndarray:
    """``labels`` ``int32 (H, W)`` with each object kept within ``radius`` px of where ``bounds`` (``int32 (H, W)``,
    the same ids) holds it: pixels of id ``k`` outside ``bounds == k`` dilated by a disc of that radius (OpenCV's
    elliptic kernel) become background (0). Ids that ``bounds`` does not hold are kept whole."""
    out = labels.copy()
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    for object_id in np.unique(bounds):
        if object_id == 0:
            continue
        near = cv2.dilate((bounds == object_id).astype(np.uint8), kernel) > 0
        out[(labels == object_id) & ~near] = 0
    return out
