"""The annotated frame prepared for dreaming: background inpainted once, objects cut out as layers."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from dreaming.synthesis.config import InpaintConfig
from dreaming.synthesis.inpaint import inpaint_background
from foundation.errors import InputError
from foundation.io import VOID, object_ids

CROP_MARGIN = 2


@dataclass(frozen=True)
class ObjectCutout:
    """One object of the annotated frame, cut out with a small margin.

    Attributes:
        id: the object id in the source label map.
        origin: ``(x, y)`` of the crop's top-left pixel in the source frame.
        rgba: ``uint8 (h, w, 4)`` crop of the source frame, alpha 255 on the object and 0 elsewhere (one array, so
            that a layer is resampled in one pass).
        box: the object's tight box in source coordinates, ``(x0, y0, x1, y1)``, x1/y1 exclusive.
        contour: ``float64 (M, 2)`` boundary points ``(x, y)`` in source coordinates, in order along the outline.
    """

    id: int
    origin: tuple[int, int]
    rgba: np.ndarray
    box: tuple[int, int, int, int]
    contour: np.ndarray

    @property
    def size(self) -> tuple[int, int]:
        """Width and height of the tight box."""
        return self.box[2] - self.box[0], self.box[3] - self.box[1]

    @property
    def center(self) -> tuple[float, float]:
        """Centre of the tight box, in source pixel coordinates."""
        return (self.box[0] + self.box[2] - 1) / 2.0, (self.box[1] + self.box[3] - 1) / 2.0


def cut_out(image: np.ndarray, labels: np.ndarray, object_id: int) -> ObjectCutout:
    """Cut object ``object_id`` out of ``image`` (``uint8 (H, W, 3)``) given ``labels`` (``int32 (H, W)``)."""
    mask = (labels == object_id).astype(np.uint8)
    x, y, w, h = cv2.boundingRect(mask)
    height, width = labels.shape
    x0, y0 = max(x - CROP_MARGIN, 0), max(y - CROP_MARGIN, 0)
    x1, y1 = min(x + w + CROP_MARGIN, width), min(y + h + CROP_MARGIN, height)
    contours, _ = cv2.findContours(mask[y0:y1, x0:x1], cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    contour = np.concatenate([c.reshape(-1, 2) for c in contours]).astype(np.float64) + np.array([x0, y0])
    # Thin parts are traced twice; keep each boundary pixel once, in outline order.
    _, first = np.unique(contour, axis=0, return_index=True)
    contour = contour[np.sort(first)]
    return ObjectCutout(
        id=object_id,
        origin=(x0, y0),
        rgba=np.dstack([image[y0:y1, x0:x1], mask[y0:y1, x0:x1] * np.uint8(255)]),
        box=(x, y, x + w, y + h),
        contour=contour,
    )


@dataclass(frozen=True)
class Scene:
    """An annotated frame ready to be dreamed from.

    Attributes:
        image: ``uint8 (H, W, 3)`` RGB.
        labels: ``int32 (H, W)``; 0 background, :data:`~foundation.io.VOID` ignored.
        background: ``uint8 (H, W, 3)`` RGB, the frame with every object removed (inpainted).
        objects: one cut-out per object id, in increasing id order.
    """

    image: np.ndarray
    labels: np.ndarray
    background: np.ndarray
    objects: tuple[ObjectCutout, ...] = field(init=False)

    def __post_init__(self) -> None:
        if self.image.ndim != 3 or self.image.shape[2] != 3 or self.image.dtype != np.uint8:
            raise InputError(
                "image", f"array of shape {self.image.shape} and dtype {self.image.dtype}", "uint8 (H, W, 3)"
            )
        if self.labels.shape != self.image.shape[:2] or self.background.shape != self.image.shape:
            raise InputError(
                "scene",
                f"image {self.image.shape}, labels {self.labels.shape}, background {self.background.shape} disagree",
                "labels (H, W) and background (H, W, 3) of the image's size",
            )
        ids = object_ids(self.labels)
        if not ids:
            raise InputError("labels", "no object in the label map", f"at least one label other than 0 and {VOID}")
        object.__setattr__(self, "objects", tuple(cut_out(self.image, self.labels, i) for i in ids))

    @classmethod
    def from_frame(cls, image: np.ndarray, labels: np.ndarray, cfg: InpaintConfig | None = None) -> Scene:
        """Prepare a frame: inpaint its background (the expensive step, done once) and cut out its objects."""
        cfg = cfg or InpaintConfig()
        labels = np.asarray(labels, dtype=np.int32)
        if labels.shape != image.shape[:2]:
            raise InputError("labels", f"label map {labels.shape} does not match image {image.shape[:2]}", "same size")
        if not object_ids(labels):
            raise InputError("labels", "no object in the label map", f"at least one label other than 0 and {VOID}")
        return cls(image=image, labels=labels, background=inpaint_background(image, labels, cfg))

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` of the frame."""
        return self.image.shape[1], self.image.shape[0]

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(o.id for o in self.objects)

    def cutout(self, object_id: int) -> ObjectCutout:
        for cutout in self.objects:
            if cutout.id == object_id:
                return cutout
        raise InputError("params", f"object id {object_id} is not in the scene", f"one of {list(self.ids)}")
