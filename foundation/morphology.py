"""Structuring elements and label-map morphology shared by dreaming (dilations), evaluation (boundary tolerance) and
the interactive session (thin parts of propagated labels)."""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np


def disk(radius: int) -> np.ndarray:
    """``uint8 (2r+1, 2r+1)`` disk of the pixels with ``x² + y² ≤ r²`` (as ``skimage.morphology.disk`` draws it,
    which the DAVIS boundary measure uses)."""
    y, x = np.ogrid[-radius : radius + 1, -radius : radius + 1]
    return (x * x + y * y <= radius * radius).astype(np.uint8)


def thin_parts(labels: np.ndarray, radius: int, ids: Iterable[int] | None = None) -> np.ndarray:
    """The pixels of ``labels`` (``int (H, W)``) that no disk of ``radius`` px fits inside their own label's region
    around them — what a morphological opening of each label's mask removes: ``bool (H, W)``.

    Args:
        labels: a label map.
        radius: the disk's radius in px (0: nothing is thin).
        ids: the labels to examine (default: every label present, background included).
    """
    thin = np.zeros(labels.shape, dtype=bool)
    if radius <= 0:
        return thin
    element = disk(radius)
    for label in np.unique(labels) if ids is None else ids:
        mask = labels == label
        rows, cols = np.nonzero(np.any(mask, axis=1))[0], np.nonzero(np.any(mask, axis=0))[0]
        if len(rows) == 0:
            continue
        # The opening of a region is found inside its bounding box grown by the radius: only that box is processed.
        top, bottom = max(rows[0] - radius, 0), min(rows[-1] + radius + 1, labels.shape[0])
        left, right = max(cols[0] - radius, 0), min(cols[-1] + radius + 1, labels.shape[1])
        window = mask[top:bottom, left:right]
        opened = cv2.morphologyEx(window.view(np.uint8), cv2.MORPH_OPEN, element, borderType=cv2.BORDER_REPLICATE)
        thin[top:bottom, left:right] |= window & (opened == 0)
    return thin
