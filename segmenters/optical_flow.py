"""Dense optical flow between real (or dreamed) frames: OpenCV's DIS (Kroeger et al., ECCV 2016); the camera's
motion in a flow field and each pixel's motion apart from it."""

from __future__ import annotations

from collections.abc import Sequence

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


def pixel_grid(shape: tuple[int, int]) -> np.ndarray:
    """``float32 (H, W, 2)`` of every pixel's ``(x, y)``."""
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    return np.stack([xs, ys], axis=-1)


def camera_flow(flow: np.ndarray, step: int = 8, threshold: float = 1.0) -> np.ndarray:
    """The flow ``float32 (H, W, 2)`` of the dominant motion in ``flow``: a homography fitted by RANSAC
    (``threshold`` px) to ``flow`` sampled every ``step`` px. On a panning or zooming camera the background is the
    dominant motion; without a fit (too few samples or no consensus) the camera is taken as still."""
    height, width = flow.shape[:2]
    ys, xs = np.mgrid[step // 2 : height : step, step // 2 : width : step]
    source = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32)
    target = source + flow[ys.ravel(), xs.ravel()]
    homography = None
    if len(source) >= 4:
        # OpenCV's RANSAC draws from its own generator: seeded, so the same flow gives the same fit.
        cv2.setRNGSeed(0)
        homography, _ = cv2.findHomography(source, target, cv2.RANSAC, threshold, maxIters=2000, confidence=0.995)
    if homography is None:
        return np.zeros_like(flow)
    grid = pixel_grid((height, width))
    moved = cv2.perspectiveTransform(grid.reshape(-1, 1, 2), homography).reshape(height, width, 2)
    return (moved - grid).astype(np.float32)


def residual_motion(flow: np.ndarray, step: int = 8, threshold: float = 1.0) -> np.ndarray:
    """``float32 (H, W)``: how far each pixel moves apart from the camera (:func:`camera_flow`), in pixels."""
    return np.linalg.norm(flow - camera_flow(flow, step, threshold), axis=-1)


def own_motion(
    flows: Sequence[np.ndarray], distances: Sequence[int] | None = None, step: int = 8, threshold: float = 1.0
) -> np.ndarray:
    """``float32 (H, W)``: how far each pixel of a frame moves apart from the camera per frame — the smallest over
    ``flows`` (``float32 (H, W, 2)``, the frame to each of its neighbours, at least one) of :func:`residual_motion`
    divided by that neighbour's distance in frames (``distances``, 1 each by default). A pixel disoccluded on one
    side moves in that direction's flow only; the smaller of the two is its own motion."""
    distances = [1] * len(flows) if distances is None else distances
    parts = [residual_motion(flow, step, threshold) / distance for flow, distance in zip(flows, distances, strict=True)]
    return np.minimum.reduce(parts)
