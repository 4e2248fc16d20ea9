"""Pictures for people: mask overlays, optical-flow colours, image grids and dream contact sheets.

Every function takes and returns ``uint8 (H, W, 3)`` **RGB** images and never modifies its inputs; label maps are
``int (H, W)`` with 0 background and :data:`~foundation.io.VOID` ignored. Flows are ``float (H, W, 2)`` holding
``(dx, dy)`` per pixel. The only BGR conversion happens in :func:`save_png`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from foundation.io import VOID, atomic_path, davis_palette, object_ids

if TYPE_CHECKING:
    from dreaming.synthesis.dream import DreamedFrame, DreamPair

_FONT = cv2.FONT_HERSHEY_SIMPLEX


Colours = Mapping[int, tuple[int, int, int]]
"""RGB colour per object id."""


def label_colors(ids: Sequence[int], colours: Colours | None = None) -> np.ndarray:
    """Colours of object ids: ``uint8 (len(ids), 3)`` RGB, from ``colours`` where it has the id, else the DAVIS
    palette's."""
    palette = davis_palette()[np.asarray(ids, dtype=np.int64).reshape(-1) % 256]
    if colours:
        for row, object_id in enumerate(ids):
            if int(object_id) in colours:
                palette[row] = colours[int(object_id)]
    return palette


def _check_image(image: np.ndarray) -> None:
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected a uint8 (H, W, 3) RGB image, got {image.dtype} {image.shape}")


def _check_labels(image: np.ndarray, labels: np.ndarray) -> None:
    _check_image(image)
    if labels.shape != image.shape[:2]:
        raise ValueError(f"labels of shape {labels.shape} do not match an image of shape {image.shape}")


def draw_outlines(
    image: np.ndarray,
    labels: np.ndarray,
    thickness: int = 1,
    color: tuple[int, int, int] | None = None,
    colours: Colours | None = None,
) -> np.ndarray:
    """Draw the outline (outer boundary and holes) of every object in ``labels`` onto a copy of ``image``.

    Args:
        thickness: line width in pixels, centred on the boundary pixels.
        color: one RGB colour for all objects; by default each object gets its colour (:func:`label_colors`).
        colours: colours of some object ids, the palette's for the others.
    """
    _check_labels(image, labels)
    out = image.copy()
    for object_id in object_ids(labels):
        mask = (labels == object_id).astype(np.uint8)
        contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
        rgb = color if color is not None else tuple(int(c) for c in label_colors([object_id], colours)[0])
        cv2.drawContours(out, contours, -1, rgb, thickness, lineType=cv2.LINE_8)
    return out


def overlay_labels(
    image: np.ndarray,
    labels: np.ndarray,
    alpha: float = 0.5,
    contour_thickness: int = 2,
    colours: Colours | None = None,
) -> np.ndarray:
    """Tint each object with its colour (opacity ``alpha``) and outline it; background is left untouched.

    Colours come from ``colours`` where it has the id, else the DAVIS palette. ``contour_thickness=0`` draws no
    outline. :data:`~foundation.io.VOID` pixels are neither tinted nor outlined.
    """
    _check_labels(image, labels)
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    ids = object_ids(labels)
    lookup = np.zeros((int(labels.max(initial=0)) + 1, 3), dtype=np.float32)
    lookup[list(ids)] = label_colors(ids, colours)
    objects = (labels > 0) & (labels != VOID)
    tinted = image.astype(np.float32)
    tinted[objects] = (1.0 - alpha) * tinted[objects] + alpha * lookup[labels[objects]]
    out = np.rint(tinted).astype(np.uint8)
    if contour_thickness > 0:
        out = draw_outlines(out, labels, thickness=contour_thickness, colours=colours)
    return out


def middlebury_color_wheel() -> np.ndarray:
    """The 55-colour Middlebury flow colour wheel (Baker et al., ICCV 2007): ``uint8 (55, 3)`` RGB.

    Segments red→yellow (15), yellow→green (6), green→cyan (4), cyan→blue (11), blue→magenta (13), magenta→red (6).
    """
    red, green, blue = 0, 1, 2
    # (length, channel held at 255, channel that ramps, ramps up from 0 (True) or down from 255 (False))
    segments = (
        (15, red, green, True),
        (6, green, red, False),
        (4, green, blue, True),
        (11, blue, green, False),
        (13, blue, red, True),
        (6, red, blue, False),
    )
    blocks = []
    for length, full, ramp, rising in segments:
        steps = np.floor(255 * np.arange(length) / length)
        block = np.zeros((length, 3))
        block[:, full] = 255
        block[:, ramp] = steps if rising else 255 - steps
        blocks.append(block)
    return np.concatenate(blocks).astype(np.uint8)


def flow_to_color(
    flow: np.ndarray,
    max_magnitude: float | None = None,
    valid: np.ndarray | None = None,
) -> np.ndarray:
    """Colour-code a flow field with the Middlebury wheel (hue = direction, saturation = magnitude).

    Zero motion is white; ``+x`` (rightwards) is red, ``+y`` (downwards) orange-yellow, ``-x`` cyan, ``-y`` blue-violet.

    Args:
        flow: ``float (H, W, 2)``, ``(dx, dy)`` per pixel.
        max_magnitude: magnitude shown fully saturated; larger ones are darkened. Default: the largest magnitude
            among valid pixels.
        valid: ``bool (H, W)``; invalid (and non-finite) pixels are black.

    Returns:
        ``uint8 (H, W, 3)`` RGB.
    """
    if flow.ndim != 3 or flow.shape[2] != 2:
        raise ValueError(f"expected a (H, W, 2) flow, got shape {flow.shape}")
    flow = flow.astype(np.float64)
    finite = np.isfinite(flow).all(axis=2)
    keep = finite if valid is None else finite & valid.astype(bool)
    u = np.where(keep, flow[..., 0], 0.0)
    v = np.where(keep, flow[..., 1], 0.0)
    magnitude = np.hypot(u, v)
    if max_magnitude is None:
        max_magnitude = float(magnitude.max(initial=0.0))
    scale = 1.0 / max(max_magnitude, np.finfo(np.float32).eps)
    u, v, radius = u * scale, v * scale, magnitude * scale

    wheel = middlebury_color_wheel().astype(np.float64) / 255
    ncols = len(wheel)
    position = (np.arctan2(-v, -u) / np.pi + 1) / 2 * (ncols - 1)
    k0 = np.floor(position).astype(np.int64)
    k1 = (k0 + 1) % ncols
    frac = (position - k0)[..., None]
    color = (1 - frac) * wheel[k0] + frac * wheel[k1]
    inside = (radius <= 1)[..., None]
    color = np.where(inside, 1 - radius[..., None] * (1 - color), color * 0.75)
    out = np.floor(255 * color).astype(np.uint8)
    out[~keep] = 0
    return out


def _fit(image: np.ndarray, width: int, height: int, background: int) -> np.ndarray:
    """Resize keeping the aspect ratio to fit ``width x height``, centred on a ``background`` canvas."""
    h, w = image.shape[:2]
    scale = min(width / w, height / h)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    if (new_w, new_h) != (w, h):
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        image = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
    canvas = np.full((height, width, 3), background, dtype=np.uint8)
    top, left = (height - new_h) // 2, (width - new_w) // 2
    canvas[top : top + new_h, left : left + new_w] = image
    return canvas


def tile(
    rows: Sequence[Sequence[np.ndarray]],
    pad: int = 4,
    background: int = 255,
    cell_size: tuple[int, int] | None = None,
) -> np.ndarray:
    """Arrange RGB images in a grid with ``pad`` pixels of ``background`` around and between cells.

    Every image is resized (aspect kept, centred) into a common cell of ``cell_size = (W, H)``, by default the
    size of the first image. Short rows are padded with empty cells.

    Returns:
        ``uint8 (R * H + (R + 1) * pad, C * W + (C + 1) * pad, 3)`` for ``R`` rows and ``C`` = longest row.
    """
    rows = [list(row) for row in rows]
    if not rows or not any(rows):
        raise ValueError("tile needs at least one image")
    for image in (image for row in rows for image in row):
        _check_image(image)
    if cell_size is None:
        first = next(image for row in rows for image in row)
        cell_size = (first.shape[1], first.shape[0])
    cell_w, cell_h = cell_size
    num_cols = max(len(row) for row in rows)
    height = len(rows) * cell_h + (len(rows) + 1) * pad
    width = num_cols * cell_w + (num_cols + 1) * pad
    grid = np.full((height, width, 3), background, dtype=np.uint8)
    for r, row in enumerate(rows):
        for c, image in enumerate(row):
            top, left = pad + r * (cell_h + pad), pad + c * (cell_w + pad)
            grid[top : top + cell_h, left : left + cell_w] = _fit(image, cell_w, cell_h, background)
    return grid


def add_caption(
    image: np.ndarray,
    text: str,
    font_scale: float = 0.5,
    background: int = 255,
    color: tuple[int, int, int] = (0, 0, 0),
) -> np.ndarray:
    """Return ``image`` with a banner above it holding ``text`` (ASCII; one banner line per ``\\n``-separated line)."""
    _check_image(image)
    lines = text.split("\n")
    thickness = 1
    (_, text_h), baseline = cv2.getTextSize("Ag", _FONT, font_scale, thickness)
    line_h = text_h + baseline + 4
    banner = np.full((line_h * len(lines) + 4, image.shape[1], 3), background, dtype=np.uint8)
    for i, line in enumerate(lines):
        origin = (4, 2 + i * line_h + text_h + 2)
        cv2.putText(banner, line, origin, _FONT, font_scale, color, thickness, lineType=cv2.LINE_AA)
    return np.concatenate([banner, image], axis=0)


def save_png(path: str | os.PathLike[str], image_rgb: np.ndarray) -> None:
    """Write an RGB image as PNG, atomically (an existing file is replaced only once the new one is complete)."""
    _check_image(image_rgb)
    with atomic_path(path) as tmp:
        if not cv2.imwrite(str(tmp), cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR)):
            raise OSError(f"{path}: OpenCV could not write the PNG")


def _frame_panel(frame: DreamedFrame) -> np.ndarray:
    """The frame with its masks tinted and the simulated previous-frame masks outlined in white."""
    panel = overlay_labels(frame.image, frame.labels, alpha=0.4, contour_thickness=2)
    return draw_outlines(panel, frame.prev_labels, thickness=1, color=(255, 255, 255))


def _describe(params: dict[str, Any]) -> str:
    """A short caption from a dream's sampled parameters (motion type, which objects moved, the view change)."""
    parts = []
    if params.get("motion"):
        parts.append(f"motion: {params['motion']}")
    subset = params.get("subset") or {}
    for key in ("manipulated", "kept", "erased"):
        if subset.get(key):
            parts.append(f"{key} {subset[key]}")
    view = params.get("view") or {}
    if view.get("angle"):
        parts.append(f"rotated {view['angle']:+.0f} deg")
    if view.get("flip"):
        parts.append("flipped")
    return ", ".join(parts)


def contact_sheet(pairs: Sequence[DreamPair], cell_width: int = 320, title: str | None = None) -> np.ndarray:
    """One row per dreamed pair, under a caption: frame a and frame b (masks tinted, simulated previous-frame masks
    outlined in white), then the flows a→b and b→a colour-coded on a common scale (no valid flow: black).

    ``title`` (e.g. the preset and seed) heads the sheet, above the column legend.
    """
    if not pairs:
        raise ValueError("contact_sheet needs at least one pair")
    height, width = pairs[0].a.image.shape[:2]
    cell = (cell_width, max(1, round(cell_width * height / width)))
    rows = []
    for index, pair in enumerate(pairs):
        scale = max(
            float(np.hypot(*flow[valid].T).max(initial=0.0))
            for flow, valid in ((pair.flow_ab, pair.valid_ab), (pair.flow_ba, pair.valid_ba))
        )
        panels = [
            _frame_panel(pair.a),
            _frame_panel(pair.b),
            flow_to_color(pair.flow_ab, scale, pair.valid_ab),
            flow_to_color(pair.flow_ba, scale, pair.valid_ba),
        ]
        caption = f"pair {index}: {_describe(pair.params)}; max |flow| {scale:.1f} px"
        rows.append(add_caption(tile([panels], cell_size=cell), caption))
    legend = "frame a, frame b (white: previous-frame mask) | flow a->b | flow b->a (black: occluded or leaving)"
    header = add_caption(
        np.full((0, rows[0].shape[1], 3), 255, dtype=np.uint8), legend if title is None else f"{title}\n{legend}"
    )
    return np.concatenate([header, *rows], axis=0)
