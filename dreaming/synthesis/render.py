"""Rendering a dream from its parameters: layers → frames, labels, previous-frame masks and exact flows.

Each object is a layer with warps to frame a and to frame b (:mod:`~dreaming.synthesis.layer_geometry`). Frames are
rendered by sampling each layer backwards through its warp; the flow of a pixel is the warp from a to b of the layer
it shows, so it is exact by construction, and occlusion follows from the layer order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from dreaming.synthesis.compositing import alpha_blend, feather, poisson_blend
from dreaming.synthesis.config import DreamConfig
from dreaming.synthesis.geometry import (
    Warp,
    affine_map,
    affine_matrix_of,
    compose_affine,
    invert_affine,
    sample_warp,
)
from dreaming.synthesis.layer_geometry import deformation_from, outline_samples
from dreaming.synthesis.photometric import apply_illumination
from dreaming.synthesis.scene import ObjectCutout, Scene
from foundation.morphology import disk

GRID_STEP = 4
"""Deformations are evaluated every GRID_STEP px and interpolated bilinearly (error well below 0.1 px)."""
PREV_GRID_STEP = 8
"""The simulated previous mask is a coarse guess by design: its deformation is sampled more sparsely."""
INTERPOLATIONS = {"linear": cv2.INTER_LINEAR, "cubic": cv2.INTER_CUBIC, "lanczos": cv2.INTER_LANCZOS4}
"""OpenCV flags of :data:`dreaming.synthesis.config.INTERPOLATIONS`."""

Box = tuple[int, int, int, int]


# --- layers and frames -----------------------------------------------------------------------------------------


def outline_box(cutout: ObjectCutout, warp: Warp, size: tuple[int, int], pad: int) -> Box | None:
    """A box of the frame that holds the whole object once carried by ``warp``; ``None`` if it lands outside."""
    samples = outline_samples(cutout)
    mapped = warp.forward(samples)
    ok = np.isfinite(mapped).all(axis=1)
    if not ok.any():
        return None
    # Between two samples the outline runs at most as far as their mapped gap (neighbours along the same outline;
    # jumps between separate parts of the object do not count): grow the box by the largest such gap.
    source_gap = np.linalg.norm(np.diff(samples, axis=0), axis=1)
    mapped_gap = np.linalg.norm(np.diff(mapped, axis=0), axis=1)
    step = math.sqrt(2.0) * max(len(cutout.contour) / len(samples), 1.0)
    neighbours = (source_gap <= 2 * step) & np.isfinite(mapped_gap)
    reach = math.ceil(mapped_gap[neighbours].max()) if neighbours.any() else 0
    return points_box(mapped[ok], size, pad + reach)


@dataclass(frozen=True)
class RenderedLayer:
    """An object layer rendered into a frame, inside ``box = (x0, y0, x1, y1)`` of that frame.

    ``rgb`` is ``uint8 (h, w, 3)``; ``alpha`` is ``float32 (h, w)`` in [0, 1] (coverage, before feathering).
    """

    id: int
    box: Box
    rgb: np.ndarray
    alpha: np.ndarray


def points_box(points: np.ndarray, size: tuple[int, int], pad: int) -> Box | None:
    """Integer box around ``points (N, 2)`` grown by ``pad`` px and clipped to the frame; ``None`` if empty."""
    if len(points) == 0:
        return None
    width, height = size
    x0 = max(math.floor(points[:, 0].min()) - pad, 0)
    y0 = max(math.floor(points[:, 1].min()) - pad, 0)
    x1 = min(math.ceil(points[:, 0].max()) + pad + 1, width)
    y1 = min(math.ceil(points[:, 1].max()) + pad + 1, height)
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def render_layer(
    cutout: ObjectCutout, warp: Warp, size: tuple[int, int], pad: int, interpolation: int
) -> RenderedLayer | None:
    """Sample the object through ``warp`` (source → frame) into a frame of ``size = (W, H)``; ``None`` when the
    object lands entirely outside."""
    box = outline_box(cutout, warp, size, pad)
    if box is None:
        return None
    source = sample_warp(warp, box, GRID_STEP, inverse=True)
    map_x = source[..., 0] - cutout.origin[0]
    map_y = source[..., 1] - cutout.origin[1]
    # Outside the crop the layer is transparent; the crop's 2-px margin keeps object pixels from mixing with it.
    rgba = cv2.remap(cutout.rgba, map_x, map_y, interpolation, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    alpha = rgba[..., 3].astype(np.float32) * np.float32(1 / 255)
    return RenderedLayer(id=cutout.id, box=box, rgb=np.ascontiguousarray(rgba[..., :3]), alpha=alpha)


def region(box: Box) -> tuple[slice, slice]:
    x0, y0, x1, y1 = box
    return slice(y0, y1), slice(x0, x1)


@dataclass(frozen=True)
class ComposedFrame:
    """A composed frame before the frame-level illumination: ``image uint8 (H, W, 3)``, ``labels int32 (H, W)``
    and ``layer_index int16 (H, W)`` (0 background, ``i + 1`` for ``layers[i]``)."""

    image: np.ndarray
    labels: np.ndarray
    layer_index: np.ndarray


def compose(background: np.ndarray, layers: list[RenderedLayer | None], cfg: DreamConfig) -> ComposedFrame:
    """Blend ``layers`` (draw order, ``None`` for layers outside the frame) onto ``background``."""
    image = background.copy()
    labels = np.zeros(background.shape[:2], dtype=np.int32)
    index = np.zeros(background.shape[:2], dtype=np.int16)
    for i, layer in enumerate(layers):
        if layer is None:
            continue
        where = region(layer.box)
        solid = layer.alpha >= 0.5
        if cfg.blend.method == "poisson":
            image[where] = poisson_blend(image[where], layer.rgb, solid)
        else:
            image[where] = alpha_blend(image[where], layer.rgb, feather(layer.alpha, cfg.blend.feather_sigma))
        labels[where][solid] = layer.id
        index[where][solid] = i + 1
    return ComposedFrame(image=image, labels=labels, layer_index=index)


def simulate_previous_labels(
    labels: np.ndarray,
    layers: list[RenderedLayer | None],
    deforms: list[dict[str, Any] | None],
    dilation_radius: int,
) -> np.ndarray:
    """Step 8: each object's visible mask deformed by its TPS and dilated by a disk.

    Where simulated masks overlap, a pixel goes to the object that is really there if its mask reaches it (so the
    boundary between touching objects stays near the true one, as in a real previous frame), else to the object
    drawn last.

    Returns ``int32 (H, W)``.
    """
    height, width = labels.shape
    prev = np.zeros_like(labels)
    kernel = disk(dilation_radius) if dilation_radius > 0 else None
    for layer, deform in zip(layers, deforms, strict=True):
        if layer is None:
            continue
        x0, y0, x1, y1 = layer.box
        visible = labels[y0:y1, x0:x1] == layer.id
        if not visible.any():
            continue
        reach = dilation_radius + 2
        if deform is not None:
            reach += math.ceil(np.abs(np.array(deform["shifts"])).max())
        box = (max(x0 - reach, 0), max(y0 - reach, 0), min(x1 + reach, width), min(y1 + reach, height))
        source = sample_warp(deformation_from(deform), box, PREV_GRID_STEP, inverse=True)
        source[..., 0] -= x0
        source[..., 1] -= y0
        warped = cv2.remap(
            visible.astype(np.uint8) * 255,
            source,
            None,
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0,
        )
        warped = (warped >= 128).astype(np.uint8)
        if kernel is not None:
            warped = cv2.dilate(warped, kernel)
        where = region(box)
        claimed = prev[where]
        truth = labels[where]
        # Take a pixel unless the object already holding it is really there.
        take = warped.astype(bool) & ~((claimed != 0) & (truth == claimed))
        claimed[take] = layer.id
    return prev


def layer_flow(
    src_index: np.ndarray,
    dst_index: np.ndarray,
    boxes: list[Box | None],
    warps: list[Warp],
    inverse: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact flow from one frame to the other, layer by layer.

    Args:
        src_index, dst_index: ``int16 (H, W)`` layer index of each pixel in the source and destination frames.
        boxes: per layer (index 0 = background) the box that holds its pixels in the source frame.
        warps: per layer the warp from frame a to frame b; its ``forward`` gives the flow a → b, its ``inverse``
            (with ``inverse=True``) the flow b → a.

    Returns:
        ``flow float32 (H, W, 2)`` and ``valid bool (H, W)``: the pixel lands inside the destination frame on the
        same layer (not occluded).
    """
    height, width = src_index.shape
    flow = np.zeros((height, width, 2), dtype=np.float32)
    valid = np.zeros((height, width), dtype=bool)
    for k, (box, warp) in enumerate(zip(boxes, warps, strict=True)):
        if box is None:
            continue
        where = region(box)
        mine = src_index[where] == k
        if not mine.any():
            continue
        motion, landed = _layer_motion(warp, box, dst_index, inverse, mine)
        if k == 0:  # the background spans the frame: write it everywhere, objects overwrite their pixels
            flow[where] = motion
        else:
            mine &= ~np.isnan(motion[..., 0])  # a TPS that folds has no inverse there
            np.copyto(flow[where], motion, where=mine[..., None])
        valid[where] |= mine & (landed == k)
    return flow, valid


def _layer_motion(
    warp: Warp, box: Box, dst_index: np.ndarray, inverse: bool, needed: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel of ``box``: its displacement through the warp ``float32 (h, w, 2)`` (NaN where it cannot be
    inverted) and the destination layer index it lands on ``int16 (h, w)`` (-1 outside the frame; nearest pixel).
    Only the ``needed`` pixels are guaranteed."""
    x0, y0, x1, y1 = box
    size = (x1 - x0, y1 - y0)
    matrix = affine_matrix_of(warp)
    if matrix is not None:
        if inverse:
            matrix = invert_affine(matrix)
        # landed(x, y) = dst_index[matrix @ (x + x0, y + y0)]: one warpAffine instead of a map and a remap.
        shifted = compose_affine(np.array([[1.0, 0.0, x0], [0.0, 1.0, y0]]), matrix)
        landed = cv2.warpAffine(
            dst_index,
            shifted,
            size,
            flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=-1,
        )
        return affine_map(matrix - np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), box), landed
    target = sample_warp(warp, box, GRID_STEP, inverse=inverse, needed=needed)
    lost = np.isnan(target[..., 0])
    target[lost] = -1.0
    landed = cv2.remap(dst_index, target, None, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=-1)
    target[..., 0] -= np.arange(x0, x1, dtype=np.float32)[None, :]
    target[..., 1] -= np.arange(y0, y1, dtype=np.float32)[:, None]
    target[lost] = np.nan
    return target, landed


# --- the whole dream -------------------------------------------------------------------------------------------


def warp_background(background: np.ndarray, matrix: np.ndarray, interpolation: int) -> np.ndarray:
    """The background ``uint8 (H, W, 3)`` through the affine ``matrix (2, 3)`` (source → frame), same size,
    symmetric padding so that no empty border appears."""
    size = (background.shape[1], background.shape[0])
    return cv2.warpAffine(background, matrix, size, flags=interpolation, borderMode=cv2.BORDER_REFLECT)


@dataclass(frozen=True)
class RenderedFrame:
    """A finished frame with what the flow needs: the layers drawn and the layer index map."""

    image: np.ndarray
    labels: np.ndarray
    prev_labels: np.ndarray
    layer_index: np.ndarray
    layers: list[RenderedLayer | None]


def render_frame(
    scene: Scene,
    params: dict[str, Any],
    lit_background: np.ndarray,
    warps: list[Warp],
    background_matrix: np.ndarray,
    illumination: dict[str, Any] | None,
    prev_key: str,
    cfg: DreamConfig,
) -> RenderedFrame:
    """Render one frame: ``lit_background`` (the scene's background after its illumination change) through
    ``background_matrix``, each drawn object through ``warps``."""
    size = scene.size
    interpolation = INTERPOLATIONS[cfg.interpolation]
    background = warp_background(lit_background, background_matrix, interpolation)
    pad = 2 + (math.ceil(3 * cfg.blend.feather_sigma) if cfg.blend.method == "alpha" else 0)
    objects = params["objects"]
    layers = [
        render_layer(scene.cutout(obj["id"]), warp, size, pad, interpolation)
        for obj, warp in zip(objects, warps, strict=True)
    ]
    composed = compose(background, layers, cfg)
    prev = simulate_previous_labels(
        composed.labels, layers, [obj[prev_key] for obj in objects], cfg.prev_mask.dilation_radius
    )
    return RenderedFrame(
        image=apply_illumination(composed.image, illumination),
        labels=composed.labels,
        prev_labels=prev,
        layer_index=composed.layer_index,
        layers=layers,
    )
