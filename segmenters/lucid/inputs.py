"""The networks' inputs for one object in one window, identical at training and tracking time.

* appearance: ``float32 (4, S, S)``: RGB normalised to about [-2, 2], then the guidance mask (0/1);
* motion: ``float32 (C, S, S)``: the flow magnitude (and with ``direction``, its two components), then the guidance.

Flow features are made independent of the crop's scale and of the camera: the flow (in crop pixels) minus its
median over the window (the dominant, mostly background, motion), divided by a robust scale of the result, so that
the moving object stands out whatever the speeds involved.
"""

from __future__ import annotations

import cv2
import numpy as np

from dreaming.synthesis.flow import warp_backward
from segmenters.lucid.crops import Window, crop, crop_flow
from segmenters.networks import image_features


def motion_channels(direction: bool) -> int:
    """Input channels of the motion network."""
    return 4 if direction else 2


def flow_features(flow_crop: np.ndarray, direction: bool) -> np.ndarray:
    """``float32 (S, S, 2)`` flow in crop pixels → ``float32 (1 or 3, S, S)`` camera-compensated, normalised."""
    relative = flow_crop - np.median(flow_crop.reshape(-1, 2), axis=0)
    magnitude = np.linalg.norm(relative, axis=-1)
    scale = max(float(np.percentile(magnitude, 95)), 1.0)
    channels = [magnitude / scale]
    if direction:
        channels += [relative[..., 0] / scale, relative[..., 1] / scale]
    return np.stack(channels).astype(np.float32)


def network_inputs(
    image: np.ndarray, flow: np.ndarray, guidance: np.ndarray, window: Window, size: int, direction: bool
) -> tuple[np.ndarray, np.ndarray]:
    """The appearance and motion inputs of one object.

    Args:
        image: ``uint8 (H, W, 3)`` RGB frame.
        flow: ``float32 (H, W, 2)`` flow from this frame to its neighbour (the previous frame when tracking).
        guidance: ``(H, W)`` mask of the object's previous position (non-zero on the object).
        window: where to look.
        size: crop side (px).
        direction: give the motion network the flow components besides the magnitude.

    Returns:
        ``(appearance float32 (4, S, S), motion float32 (2 or 4, S, S))``.
    """
    guide = crop((guidance != 0).astype(np.uint8), window, size, cv2.INTER_NEAREST).astype(np.float32)[None]
    appearance = np.concatenate([image_features(crop(image, window, size)), guide])
    motion = np.concatenate([flow_features(crop_flow(flow, window, size), direction), guide])
    return appearance, motion


def warp_guidance(labels: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Carry the previous frame's labels (``(H, W)`` ids below 256, or a ``bool`` mask) to the current frame along
    ``flow`` (``float32 (H, W, 2)``, current → previous): ``int32 (H, W)``, nearest neighbour so that ids stay ids,
    0 where the flow points outside the previous frame."""
    return warp_backward(labels.astype(np.uint8), flow, "nearest").astype(np.int32)


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """``bool (H, W)`` mask grown by a disk of ``radius`` px (unchanged for radius 0)."""
    if radius <= 0:
        return mask
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.dilate(mask.astype(np.uint8), disk) > 0


def erode(mask: np.ndarray, radius: int) -> np.ndarray:
    """``bool (H, W)`` mask shrunk by a disk of ``radius`` px (unchanged for radius 0)."""
    if radius <= 0:
        return mask
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.erode(mask.astype(np.uint8), disk) > 0
