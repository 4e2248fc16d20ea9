"""Square windows around an object, resampled to a fixed size (MaskTrack-style), and pasting results back.

A window is ``(cx, cy, side)`` in frame pixels: a square centred on ``(cx, cy)``. It may reach outside the frame;
what lies outside reads as 0. Crops go through one affine map, so images, masks and flows share the same geometry.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Window:
    """A square window ``side`` pixels wide centred on ``(cx, cy)`` (frame pixel coordinates)."""

    cx: float
    cy: float
    side: float

    def matrix(self, size: int) -> np.ndarray:
        """``float64 (2, 3)`` affine map from frame pixels to the pixels of a ``size x size`` crop."""
        scale = size / self.side
        # Pixel x covers [x - 0.5, x + 0.5]; the window's left edge cx - side / 2 goes to the crop's edge -0.5.
        return np.array(
            [
                [scale, 0.0, (self.side / 2 - self.cx) * scale - 0.5],
                [0.0, scale, (self.side / 2 - self.cy) * scale - 0.5],
            ]
        )

    def scale(self, size: int) -> float:
        """Crop pixels per frame pixel."""
        return size / self.side


def mask_window(mask: np.ndarray, margin: float = 0.25, min_side: float = 24.0) -> Window | None:
    """The square window around the non-zero pixels of ``mask`` (``(H, W)``), enlarged by ``margin`` of its side on
    each side; ``None`` when the mask is empty."""
    ys, xs = np.nonzero(mask)
    if xs.size == 0:
        return None
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    side = max(float(max(x1 - x0, y1 - y0)) * (1 + 2 * margin), min_side)
    return Window(cx=(x0 + x1 - 1) / 2, cy=(y0 + y1 - 1) / 2, side=side)


def crop(array: np.ndarray, window: Window, size: int, interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """Resample ``array`` (``(H, W)`` or ``(H, W, C)``, C ≤ 4) inside ``window`` to ``(size, size[, C])``; outside the
    frame reads 0. Same dtype as ``array``."""
    return cv2.warpAffine(
        array, window.matrix(size), (size, size), flags=interpolation, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )


def crop_flow(flow: np.ndarray, window: Window, size: int) -> np.ndarray:
    """Crop a flow ``float32 (H, W, 2)`` and express its vectors in crop pixels: ``float32 (size, size, 2)``."""
    return crop(flow.astype(np.float32, copy=False), window, size) * np.float32(window.scale(size))


def paste(values: np.ndarray, window: Window, shape: tuple[int, int]) -> np.ndarray:
    """Put a crop's ``float32 (size, size)`` values back into a frame of ``shape = (H, W)``; 0 outside the window."""
    size = values.shape[0]
    return cv2.warpAffine(
        values,
        window.matrix(size),
        (shape[1], shape[0]),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )


def paste_region(values: np.ndarray, window: Window, shape: tuple[int, int]) -> tuple[tuple[slice, slice], np.ndarray]:
    """Like :func:`paste`, restricted to the part of the frame the window covers: ``(region, frame[region] values)``.

    Returns an empty region when the window lies outside the frame.
    """
    height, width = shape
    half = window.side / 2
    x0, y0 = max(int(np.floor(window.cx - half)), 0), max(int(np.floor(window.cy - half)), 0)
    x1, y1 = min(int(np.ceil(window.cx + half)) + 1, width), min(int(np.ceil(window.cy + half)) + 1, height)
    x1, y1 = max(x1, x0), max(y1, y0)
    region = np.s_[y0:y1, x0:x1]
    if x1 == x0 or y1 == y0:
        return region, np.zeros((y1 - y0, x1 - x0), dtype=np.float32)
    shifted = Window(cx=window.cx - x0, cy=window.cy - y0, side=window.side)
    return region, paste(values, shifted, (y1 - y0, x1 - x0))
