"""Structuring elements shared by dreaming (dilations) and evaluation (boundary tolerance)."""

from __future__ import annotations

import numpy as np


def disk(radius: int) -> np.ndarray:
    """``uint8 (2r+1, 2r+1)`` disk of the pixels with ``x² + y² ≤ r²`` (as ``skimage.morphology.disk`` draws it,
    which the DAVIS boundary measure uses)."""
    y, x = np.ogrid[-radius : radius + 1, -radius : radius + 1]
    return (x * x + y * y <= radius * radius).astype(np.uint8)
