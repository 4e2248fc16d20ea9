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


def dis_estimator(preset: str = "medium", setting: str = "dis_preset") -> cv2.DISOpticalFlow:
    """An OpenCV DIS estimator with a named preset (``ultrafast``, ``fast``, ``medium``); an unknown one is an
    :class:`InputError` naming ``setting``."""
    if preset not in DIS_PRESETS:
        raise InputError(setting, f"unknown DIS preset {preset!r}", f"one of {sorted(DIS_PRESETS)}")
    return cv2.DISOpticalFlow.create(DIS_PRESETS[preset])


def min_dis_side(estimator: cv2.DISOpticalFlow) -> int:
    """The smallest width and height ``estimator`` takes: one patch at its finest scale (16 px for ``medium``, 32
    for ``fast`` and ``ultrafast``). OpenCV 5.0 raises below 12 px and crashes the process on some wide frames
    less high than this."""
    return estimator.getPatchSize() << estimator.getFinestScale()


def check_dis_size(shape: tuple[int, ...], estimator: cv2.DISOpticalFlow, what: str) -> None:
    """Raise :class:`InputError` naming ``what`` when images of ``shape`` ``(H, W, …)`` are too small for
    ``estimator`` (:func:`min_dis_side`)."""
    side = min_dis_side(estimator)
    if min(shape[:2]) < side:
        raise InputError(
            what, f"frames of {shape[1]}x{shape[0]} pixels", f"at least {side}x{side} for DIS optical flow"
        )


def dis_flow(image: np.ndarray, other: np.ndarray, preset: str = "medium") -> np.ndarray:
    """Flow ``float32 (H, W, 2)`` from ``image`` to ``other`` (``uint8 (H, W, 3)`` RGB): pixel ``(x, y)`` of
    ``image`` is seen at ``(x + dx, y + dy)`` in ``other``."""
    estimator = dis_estimator(preset)
    check_dis_size(image.shape, estimator, "image")
    gray = [cv2.cvtColor(x, cv2.COLOR_RGB2GRAY) for x in (image, other)]
    return estimator.calc(gray[0], gray[1], None)
