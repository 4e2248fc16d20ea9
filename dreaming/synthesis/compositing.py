"""Step 5 of the dream: put a rendered object layer onto a frame by feathered alpha or Poisson blending."""

from __future__ import annotations

import cv2
import numpy as np

POISSON_PAD = 4
MIN_CLONE_SIZE = 3
"""``cv2.seamlessClone`` asserts on a mask whose bounding box is thinner than this (OpenCV 5.0)."""


def feather(alpha: np.ndarray, sigma: float) -> np.ndarray:
    """Soften an alpha matte ``float32 (H, W)`` in [0, 1] with a Gaussian of ``sigma`` px (0: unchanged)."""
    if sigma <= 0:
        return alpha
    return cv2.GaussianBlur(alpha, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_CONSTANT)


def alpha_blend(frame: np.ndarray, layer: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``frame * (1 - alpha) + layer * alpha``; ``uint8 (H, W, 3)`` images, ``float32 (H, W)`` alpha."""
    return cv2.blendLinear(layer, frame, alpha, 1.0 - alpha)


def poisson_blend(frame: np.ndarray, layer: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Seamless (Poisson) cloning of ``layer`` into ``frame`` where ``mask`` (``bool (H, W)``) is set.

    Only the mask's bounding box (plus a margin) is solved. ``cv2.seamlessClone`` refuses masks that touch the image
    border, so that region is padded symmetrically, cloned, and cropped back. It also fails on masks less than
    :data:`MIN_CLONE_SIZE` px wide or high (an object mostly outside the frame): those pixels are copied as they are.
    """
    if not mask.any():
        return frame
    height, width = mask.shape
    x, y, w, h = cv2.boundingRect(mask.astype(np.uint8))
    if min(w, h) < MIN_CLONE_SIZE:
        out = frame.copy()
        out[mask] = layer[mask]
        return out
    x0, y0 = max(x - POISSON_PAD, 0), max(y - POISSON_PAD, 0)
    x1, y1 = min(x + w + POISSON_PAD, width), min(y + h + POISSON_PAD, height)
    p = POISSON_PAD
    pad = (p, p, p, p, cv2.BORDER_REFLECT)
    dst = cv2.copyMakeBorder(frame[y0:y1, x0:x1], *pad)
    src = cv2.copyMakeBorder(layer[y0:y1, x0:x1], *pad)
    clone_mask = cv2.copyMakeBorder(mask[y0:y1, x0:x1].astype(np.uint8) * 255, p, p, p, p, cv2.BORDER_CONSTANT, value=0)
    bx, by, bw, bh = cv2.boundingRect(clone_mask)
    # seamlessClone puts the mask's bounding box at centre - size // 2: this centre keeps it in place.
    cloned = cv2.seamlessClone(src, dst, clone_mask, (bx + bw // 2, by + bh // 2), cv2.NORMAL_CLONE)
    out = frame.copy()
    out[y0:y1, x0:x1] = cloned[p:-p, p:-p]
    return out
