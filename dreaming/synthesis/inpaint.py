"""Step 1 of the dream: remove every object from the annotated frame and fill the hole."""

from __future__ import annotations

import cv2
import numpy as np

from dreaming.synthesis.config import INPAINT_METHODS, InpaintConfig
from foundation.errors import InputError
from foundation.morphology import disk


def object_hole(labels: np.ndarray, dilation_radius: int) -> np.ndarray:
    """Pixels to fill: every non-background label (void included), dilated by a disk. ``bool (H, W)``."""
    hole = (labels != 0).astype(np.uint8)
    if dilation_radius > 0:
        hole = cv2.dilate(hole, disk(dilation_radius))
    return hole.astype(bool)


def inpaint_background(image: np.ndarray, labels: np.ndarray, cfg: InpaintConfig) -> np.ndarray:
    """The frame with all objects removed.

    Args:
        image: ``uint8 (H, W, 3)`` RGB.
        labels: ``int32 (H, W)`` label map.

    Returns:
        ``uint8 (H, W, 3)`` RGB, equal to ``image`` outside the dilated object mask.
    """
    hole = object_hole(labels, cfg.dilation_radius)
    if hole.all():
        raise InputError("mask", "the objects (dilated) cover the whole frame", "some background to inpaint from")
    mask = hole.astype(np.uint8) * 255
    if cfg.method == "patchmatch":
        from patchmatch import patch_match

        filled = patch_match.inpaint(np.ascontiguousarray(image), mask, patch_size=cfg.patch_size)
    elif cfg.method == "telea":
        filled = cv2.inpaint(image, mask, 3, cv2.INPAINT_TELEA)
    else:
        raise InputError(
            "dream.inpaint.method", f"unknown inpainting method {cfg.method!r}", f"one of {INPAINT_METHODS}"
        )
    # Pixels outside the hole are the photograph's own, whatever the method did with them.
    return np.where(hole[..., None], filled, image).astype(np.uint8)
