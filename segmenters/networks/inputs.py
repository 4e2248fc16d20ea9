"""What every network here sees of an image: RGB normalised to about zero mean and unit variance."""

from __future__ import annotations

import numpy as np

MEAN, STD = 0.45, 0.25


def image_features(image_crop: np.ndarray) -> np.ndarray:
    """``uint8 (S, S, 3)`` RGB → ``float32 (3, S, S)``, about zero-mean, unit-variance."""
    return ((image_crop.astype(np.float32) / 255 - MEAN) / STD).transpose(2, 0, 1)
