"""The networks' inputs for one object in one window, identical at training and tracking time.

* appearance: ``float32 (4, S, S)``: RGB normalised to about [-2, 2], then the guidance mask (0/1);
* motion: ``float32 (C, S, S)``: the flow magnitude (and with ``direction``, its two components), then the guidance;
* with matching maps (:mod:`segmenters.matching.segmenter`), the appearance input goes on with ``float32 (8, S, S)``:
  the annotated frame's crop around the object's annotated mask (RGB, mask), then the previous frame's crop in the
  current window (RGB, the object's mask there).

Flow features are made independent of the crop's scale and of the camera: the flow (in crop pixels) minus its
median over the window (the dominant, mostly background, motion), divided by a robust scale of the result, so that
the moving object stands out whatever the speeds involved.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from dreaming.synthesis.flow import warp_backward
from segmenters.lucid.crops import Window, crop, crop_flow, mask_window
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


def _rgb_and_mask(image: np.ndarray, mask: np.ndarray, window: Window, size: int) -> np.ndarray:
    """``float32 (4, S, S)``: the crop's normalised RGB and 0/1 mask."""
    mask_crop = crop(mask.astype(np.uint8), window, size, cv2.INTER_NEAREST).astype(np.float32)[None]
    return np.concatenate([image_features(crop(image, window, size)), mask_crop])


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
    appearance = _rgb_and_mask(image, guidance != 0, window, size)
    motion = np.concatenate([flow_features(crop_flow(flow, window, size), direction), appearance[3:]])
    return appearance, motion


@dataclass(frozen=True)
class MatchingContext:
    """What the matching maps of a frame compare it with.

    Attributes:
        reference: ``uint8 (H, W, 3)`` the annotated frame.
        reference_labels: ``(H, W)`` its object ids.
        previous: ``uint8 (H, W, 3)`` the previous frame.
        previous_labels: ``(H, W)`` its object ids (the tracker's output there).
    """

    reference: np.ndarray
    reference_labels: np.ndarray
    previous: np.ndarray
    previous_labels: np.ndarray


def matching_inputs(
    context: MatchingContext, object_id: int, window: Window, size: int, margin: float, min_side: float
) -> np.ndarray:
    """``float32 (8, S, S)``: the annotated frame cropped around object ``object_id``'s annotated mask (with
    ``margin`` and ``min_side`` as the current window; the current window when the object is not annotated there),
    RGB and mask; then the previous frame in the current ``window``, RGB and the object's mask there."""
    annotated = context.reference_labels == object_id
    reference_window = mask_window(annotated, margin, min_side) or window
    return np.concatenate(
        [
            _rgb_and_mask(context.reference, annotated, reference_window, size),
            _rgb_and_mask(context.previous, context.previous_labels == object_id, window, size),
        ]
    )


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
