"""Public API of the dreaming library: dream a single training frame or a frame pair from one annotated frame.

Typical use::

    scene = Scene.from_frame(image, labels, cfg.inpaint)   # inpaints the background once
    rng = np.random.default_rng(seed)
    pair = dream_pair(scene, rng, cfg)                     # DreamPair with exact flows
    again = render_pair(scene, pair.params, cfg)           # replay: identical bytes

Conventions: images ``uint8 (H, W, 3)`` RGB; labels ``int32 (H, W)`` (0 background, object ids as stored);
flows ``float32 (H, W, 2)`` with ``flow_ab[y, x] = (dx, dy)`` meaning pixel ``(x, y)`` of frame a is seen at
``(x + dx, y + dy)`` in frame b; validity masks ``bool (H, W)``, False where the pixel is occluded in, or leaves,
the other frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from dreaming.synthesis.config import DreamConfig, check_config
from dreaming.synthesis.geometry import Affine, compose_affine
from dreaming.synthesis.layer_geometry import frame_warps
from dreaming.synthesis.photometric import apply_illumination
from dreaming.synthesis.render import layer_flow, region, render_frame
from dreaming.synthesis.sampling import sample_params
from dreaming.synthesis.scene import Scene

__all__ = [
    "DreamPair",
    "DreamSingle",
    "DreamedFrame",
    "Scene",
    "dream_pair",
    "dream_single",
    "render_pair",
    "render_single",
    "sample_params",
]


@dataclass(frozen=True)
class DreamedFrame:
    """One dreamed frame.

    Attributes:
        image: ``uint8 (H, W, 3)`` RGB.
        labels: ``int32 (H, W)``: 0 background, object ids as in the source mask.
        prev_labels: ``int32 (H, W)``: the simulated previous-frame mask (each object's mask deformed and dilated;
            where dilated objects overlap, the one drawn later wins).
    """

    image: np.ndarray
    labels: np.ndarray
    prev_labels: np.ndarray


@dataclass(frozen=True)
class DreamSingle:
    """A single dreamed training frame and the parameters that produced it (JSON-serialisable)."""

    frame: DreamedFrame
    params: dict[str, Any]


@dataclass(frozen=True)
class DreamPair:
    """Two dreamed frames a → b with exact optical flow in both directions.

    Attributes:
        a, b: the two frames.
        flow_ab: ``float32 (H, W, 2)``, ``(dx, dy)`` from frame a to frame b (see module docstring).
        flow_ba: ``float32 (H, W, 2)``, from frame b to frame a.
        valid_ab: ``bool (H, W)``: pixel of a is visible in b (inside the frame and not occluded).
        valid_ba: ``bool (H, W)``: pixel of b is visible in a.
        params: the sampled parameters, JSON-serialisable; :func:`render_pair` replays them.
    """

    a: DreamedFrame
    b: DreamedFrame
    flow_ab: np.ndarray
    flow_ba: np.ndarray
    valid_ab: np.ndarray
    valid_ba: np.ndarray
    params: dict[str, Any]


def _visible_areas(objects: list[dict[str, Any]], frames: list[Any]) -> dict[str, list[int]]:
    """Pixels of each drawn object visible in each frame (0: hidden, out of the frame, or fully occluded)."""
    return {
        str(obj["id"]): [
            0 if layer is None else int(np.count_nonzero(frame.labels[region(layer.box)] == obj["id"]))
            for frame in frames
            for layer in [frame.layers[i]]
        ]
        for i, obj in enumerate(objects)
    }


def render_single(scene: Scene, params: dict[str, Any], cfg: DreamConfig) -> DreamSingle:
    """Render frame a of ``params`` (from :func:`~dreaming.synthesis.sampling.sample_params`)."""
    check_config(cfg)
    return _render_single(scene, params, cfg)


def _render_single(scene: Scene, params: dict[str, Any], cfg: DreamConfig) -> DreamSingle:
    view, _, warps = frame_warps(scene, params)
    ill = params["illumination"]
    background = apply_illumination(scene.background, ill["background"])
    a = render_frame(scene, params, background, [w.to_a for w in warps], view, ill["a"], "prev_a", cfg)
    out = {**params, "visible": _visible_areas(params["objects"], [a])}
    return DreamSingle(frame=DreamedFrame(a.image, a.labels, a.prev_labels), params=out)


def render_pair(scene: Scene, params: dict[str, Any], cfg: DreamConfig) -> DreamPair:
    """Render the pair described by ``params``; the same params always give the same bytes."""
    check_config(cfg)
    return _render_pair(scene, params, cfg)


def _render_pair(scene: Scene, params: dict[str, Any], cfg: DreamConfig) -> DreamPair:
    view, camera, warps = frame_warps(scene, params)
    ill = params["illumination"]
    background = apply_illumination(scene.background, ill["background"])  # one layer, lit once for both frames
    a = render_frame(scene, params, background, [w.to_a for w in warps], view, ill["a"], "prev_a", cfg)
    b_matrix = compose_affine(view, camera)
    b = render_frame(scene, params, background, [w.to_b for w in warps], b_matrix, ill["b"], "prev_b", cfg)
    width, height = scene.size
    full = (0, 0, width, height)
    background = Affine(camera)
    flow_ab, valid_ab = layer_flow(
        a.layer_index,
        b.layer_index,
        [full] + [layer and layer.box for layer in a.layers],
        [background] + [w.a_to_b for w in warps],
    )
    flow_ba, valid_ba = layer_flow(
        b.layer_index,
        a.layer_index,
        [full] + [layer and layer.box for layer in b.layers],
        [background] + [w.a_to_b for w in warps],
        inverse=True,
    )
    out = {**params, "visible": _visible_areas(params["objects"], [a, b])}
    return DreamPair(
        a=DreamedFrame(a.image, a.labels, a.prev_labels),
        b=DreamedFrame(b.image, b.labels, b.prev_labels),
        flow_ab=flow_ab,
        flow_ba=flow_ba,
        valid_ab=valid_ab,
        valid_ba=valid_ba,
        params=out,
    )


def dream_single(scene: Scene, rng: np.random.Generator, cfg: DreamConfig) -> DreamSingle:
    """Dream one training frame from ``scene`` (steps 1-8 of the dream)."""
    check_config(cfg)
    return _render_single(scene, sample_params(scene, rng, cfg, pair=False), cfg)


def dream_pair(scene: Scene, rng: np.random.Generator, cfg: DreamConfig) -> DreamPair:
    """Dream a frame pair a → b with exact flows from ``scene`` (all steps of the dream)."""
    check_config(cfg)
    return _render_pair(scene, sample_params(scene, rng, cfg, pair=True), cfg)
