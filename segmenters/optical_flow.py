"""Dense optical flow between real (or dreamed) frames: OpenCV's DIS (Kroeger et al., ECCV 2016)."""

from __future__ import annotations

import cv2
import numpy as np

from foundation.errors import InputError

DIS_PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}


def dis_estimator(preset: str = "medium") -> cv2.DISOpticalFlow:
    """An OpenCV DIS estimator with a named preset (``ultrafast``, ``fast``, ``medium``)."""
    if preset not in DIS_PRESETS:
        raise InputError("dis_preset", f"unknown DIS preset {preset!r}", f"one of {sorted(DIS_PRESETS)}")
    return cv2.DISOpticalFlow.create(DIS_PRESETS[preset])


def dis_flow(image: np.ndarray, other: np.ndarray, preset: str = "medium") -> np.ndarray:
    """Flow ``float32 (H, W, 2)`` from ``image`` to ``other`` (``uint8 (H, W, 3)`` RGB): pixel ``(x, y)`` of
    ``image`` is seen at ``(x + dx, y + dy)`` in ``other``."""
    gray = [cv2.cvtColor(x, cv2.COLOR_RGB2GRAY) for x in (image, other)]
    return dis_estimator(preset).calc(gray[0], gray[1], None)
