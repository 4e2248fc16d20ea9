"""Optical-flow arithmetic.

A flow ``float32 (H, W, 2)`` from frame a to frame b holds ``(dx, dy)`` per pixel: pixel ``(x, y)`` of frame a is
seen at ``(x + dx, y + dy)`` in frame b.
"""

from __future__ import annotations

import cv2
import numpy as np

INTERPOLATIONS = {
    "nearest": cv2.INTER_NEAREST,
    "linear": cv2.INTER_LINEAR,
    "cubic": cv2.INTER_CUBIC,
    "lanczos": cv2.INTER_LANCZOS4,
}


def flow_targets(flow: np.ndarray) -> np.ndarray:
    """Absolute target coordinates ``(x + dx, y + dy)`` of every pixel: ``float32 (H, W, 2)``."""
    height, width = flow.shape[:2]
    targets = flow.astype(np.float32, copy=True)
    targets[..., 0] += np.arange(width, dtype=np.float32)[None, :]
    targets[..., 1] += np.arange(height, dtype=np.float32)[:, None]
    return targets


def warp_backward(image: np.ndarray, flow: np.ndarray, interpolation: str = "linear", fill: float = 0) -> np.ndarray:
    """Sample ``image`` (frame b) at the positions ``flow`` (a → b) points to, giving frame b seen from frame a.

    Args:
        image: ``(H', W')`` or ``(H', W', C)`` array of frame b.
        flow: ``float32 (H, W, 2)`` flow from frame a to frame b.
        interpolation: ``nearest``, ``linear`` or ``cubic``.
        fill: value where the flow points outside frame b.

    Returns:
        Array ``(H, W[, C])`` aligned with frame a, same dtype as ``image``.
    """
    return cv2.remap(
        image, flow_targets(flow), None, INTERPOLATIONS[interpolation], borderMode=cv2.BORDER_CONSTANT, borderValue=fill
    )


def endpoint_error(flow: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per-pixel end-point error ``|flow - reference|`` (px): ``float32 (H, W)``."""
    return np.linalg.norm(flow - reference, axis=-1)
