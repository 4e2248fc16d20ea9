"""What a user (or the robot) marks on a frame: scribbles, clicks, and the seed map they rasterise to.

Coordinates follow the DAVIS interactive scribble format: a scribble's path is a sequence of ``(x, y)`` points in
``[0, 1]``, where ``x = 0`` is the centre of the first column and ``x = 1`` that of the last (pixel
``x_px = x · (W − 1)``), and likewise ``y`` for rows. Clicks are in pixels. Object id 0 marks background.

A seed map is ``int32 (H, W)``: :data:`UNMARKED` (−1) where nothing is marked, else the id the pixel must take.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from foundation.errors import InputError
from foundation.io import VOID

UNMARKED = -1
"""Seed-map value of pixels no mark constrains."""
MAX_WIDTH = 400
"""Widest stroke (pixels)."""


@dataclass(frozen=True)
class Scribble:
    """A stroke that says "these pixels are ``object_id``" (0: background).

    Attributes:
        object_id: the id the stroke's pixels take, 0 for background.
        path: ``float64 (N, 2)``, N ≥ 1, ``(x, y)`` in ``[0, 1]`` (see the module's convention).
        width: the stroke's width in pixels; 0 for :func:`seed_map`'s ``thickness`` (a robot's or a DAVIS
            scribble's).
    """

    object_id: int
    path: np.ndarray
    width: int = 0

    def __post_init__(self) -> None:
        path = np.asarray(self.path, dtype=np.float64)
        if path.ndim != 2 or path.shape[1] != 2 or len(path) == 0:
            raise InputError("scribble", f"path of shape {path.shape}", "(N, 2) points (x, y), N ≥ 1")
        if not np.isfinite(path).all() or path.min() < 0.0 or path.max() > 1.0:
            raise InputError(
                "scribble", f"path spans {path.min():.3f}..{path.max():.3f}", "coordinates in [0, 1] inside the frame"
            )
        if not 0 <= int(self.object_id) < VOID:
            raise InputError("scribble", f"object id {self.object_id}", f"0 (background) or an id in 1..{VOID - 1}")
        if not 0 <= int(self.width) <= MAX_WIDTH:
            raise InputError("scribble", f"width {self.width}", f"0 (the default) .. {MAX_WIDTH} pixels")
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "object_id", int(self.object_id))
        object.__setattr__(self, "width", int(self.width))

    def pixels(self, height: int, width: int) -> np.ndarray:
        """The path in pixel coordinates of a ``(height, width)`` frame: ``float64 (N, 2)`` ``(x, y)``."""
        return self.path * np.array([width - 1, height - 1], dtype=np.float64)

    @classmethod
    def from_pixels(
        cls, object_id: int, points: np.ndarray, height: int, width: int, stroke_width: int = 0
    ) -> Scribble:
        """A scribble from ``(x, y)`` pixel coordinates ``(N, 2)`` of a ``(height, width)`` frame."""
        points = np.asarray(points, dtype=np.float64)
        if points.ndim != 2 or points.shape[-1] != 2:
            raise InputError("scribble", f"points of shape {points.shape}", "(N, 2) pixel coordinates (x, y)")
        scale = np.array([max(width - 1, 1), max(height - 1, 1)], dtype=np.float64)
        return cls(object_id, np.clip(points / scale, 0.0, 1.0), stroke_width)


@dataclass(frozen=True)
class Click:
    """A click at pixel ``(x, y)``: positive says "this is ``object_id``", negative "this is not" (background)."""

    x: float
    y: float
    object_id: int
    positive: bool = True

    @property
    def label(self) -> int:
        """The id the clicked pixels take."""
        return self.object_id if self.positive else 0


def check_clicks_inside(clicks: Iterable[Click], height: int, width: int) -> None:
    """Raise :class:`InputError` for a click outside a ``(height, width)`` frame (a scribble's path is checked when
    it is made: its coordinates are relative)."""
    for click in clicks:
        if not (0 <= click.x <= width - 1 and 0 <= click.y <= height - 1):
            raise InputError(
                "click", f"({click.x}, {click.y}) is outside the frame", f"x in 0..{width - 1}, y in 0..{height - 1}"
            )


def seed_map(
    shape: tuple[int, int],
    scribbles: Sequence[Scribble] = (),
    clicks: Sequence[Click] = (),
    thickness: int = 3,
    click_radius: int = 5,
) -> np.ndarray:
    """Rasterise marks on a ``(H, W)`` frame: ``int32 (H, W)`` seed map, :data:`UNMARKED` elsewhere.

    Scribbles are drawn as polylines ``thickness`` px wide, clicks as disks of ``click_radius``; later marks
    overwrite earlier ones where they cross.
    """
    height, width = shape
    check_clicks_inside(clicks, height, width)
    seeds = np.full(shape, UNMARKED, dtype=np.int32)
    for scribble in scribbles:
        draw_stroke(seeds, scribble.pixels(height, width), scribble.width or thickness, scribble.object_id)
    for click in clicks:
        centre = (round(click.x), round(click.y))
        cv2.circle(seeds, centre, max(int(click_radius), 0), int(click.label), -1)
    return seeds


def draw_stroke(canvas: np.ndarray, points: np.ndarray, width: int, value: int) -> None:
    """Draw a polyline through ``points`` (``(N, 2)`` pixels ``(x, y)``) ``width`` px wide onto ``canvas`` (in place);
    a single point is a dot of that width."""
    pixels = np.round(np.asarray(points, dtype=np.float64)).astype(np.int32).reshape(-1, 1, 2)
    width = max(int(width), 1)
    cv2.polylines(canvas, [pixels], False, int(value), width)
    if len(pixels) == 1:
        cv2.circle(canvas, tuple(int(v) for v in pixels[0, 0]), width // 2, int(value), -1)


def stroke_mask(shape: tuple[int, int], points: np.ndarray, width: int) -> np.ndarray:
    """``bool (H, W)``: the pixels under a stroke through ``points`` (``(N, 2)`` pixels ``(x, y)``), ``width`` px
    wide."""
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[-1] != 2 or len(points) == 0 or not np.isfinite(points).all():
        raise InputError("stroke", f"points of shape {points.shape}", "(N, 2) finite pixel coordinates (x, y), N ≥ 1")
    canvas = np.zeros(shape, np.uint8)
    draw_stroke(canvas, points, width, 1)
    return canvas.astype(bool)
