"""The geometry of a dream, computed from its parameters: each object layer's warps and where its outline lands.

Each object is a layer with a warp from source-frame coordinates to frame a (``placement``, then the ``view``
augmentation) and to frame b (that, then the object's ``motion``, then the ``camera``). Both
:mod:`~dreaming.synthesis.sampling` (which draws later parameters on an object's outline as it lands in a frame) and
:mod:`~dreaming.synthesis.render` (which samples layers backwards through these warps) use them, so sampling →
parameters → rendering runs one way. Matrices are ``(2, 3)`` affine, points ``float64 (N, 2)`` ``(x, y)`` pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from dreaming.synthesis.geometry import (
    Affine,
    Chain,
    Warp,
    compose_affine,
    deformation,
    flip_matrix,
    largest_rotated_crop_matrix,
    similarity_matrix,
)
from dreaming.synthesis.scene import ObjectCutout, Scene

IDENTITY = Chain(())
MAX_CONTOUR_POINTS = 128
"""Outlines are followed through a warp at most this many points (evenly spread)."""


def deformation_from(params: dict[str, Any] | None) -> Warp:
    """The TPS deformation ``{"points": [[x, y], ...], "shifts": [[dx, dy], ...]}`` (identity for ``None``)."""
    if params is None:
        return IDENTITY
    return deformation(np.array(params["points"], dtype=np.float64), np.array(params["shifts"], dtype=np.float64))


def view_matrix(params: dict[str, Any], size: tuple[int, int]) -> np.ndarray:
    """Frame a's standard augmentation: horizontal flip, then rotation with the maximal-area crop. ``(2, 3)``."""
    width, height = size
    flip = flip_matrix(width) if params["flip"] else np.array([[1.0, 0, 0], [0, 1.0, 0]])
    angle = params["angle"]
    rotation = largest_rotated_crop_matrix(width, height, angle) if angle else np.array([[1.0, 0, 0], [0, 1.0, 0]])
    return compose_affine(flip, rotation)


def camera_matrix(params: dict[str, Any] | None, size: tuple[int, int]) -> np.ndarray:
    """The camera motion from frame a to b (identity for ``None``). ``(2, 3)``."""
    if params is None:
        return np.array([[1.0, 0, 0], [0, 1.0, 0]])
    width, height = size
    center = ((width - 1) / 2.0, (height - 1) / 2.0)
    return similarity_matrix(center, params["angle"], tuple(params["scale"]), tuple(params["shift"]))


def placement_warp(cutout: ObjectCutout, params: dict[str, Any]) -> Warp:
    """Source coordinates → the object's place before the view augmentation (identity for kept objects)."""
    if params["mode"] == "kept":
        return IDENTITY
    cx, cy = cutout.center
    scale = params["scale"]
    tx, ty = params["center"]
    move = similarity_matrix((cx, cy), 0.0, (scale, scale), (tx - cx, ty - cy))
    return Chain((deformation_from(params["deform"]), Affine(move)))


def motion_warp(params: dict[str, Any]) -> Warp:
    """The object's own motion from frame a to b, in frame-a coordinates (identity when it does not move)."""
    motion = params.get("motion")
    if motion is None:
        return IDENTITY
    shift = motion["shift"] or (0.0, 0.0)
    translation = Affine(np.array([[1.0, 0.0, shift[0]], [0.0, 1.0, shift[1]]]))
    return Chain((deformation_from(motion["deform"]), translation))


@dataclass(frozen=True)
class LayerWarps:
    """One object's warps: ``to_a`` (source → frame a), ``to_b`` (source → frame b), ``a_to_b`` (frame a → b)."""

    to_a: Warp
    to_b: Warp
    a_to_b: Warp


def layer_warps(cutout: ObjectCutout, obj: dict[str, Any], view: np.ndarray, camera: np.ndarray) -> LayerWarps:
    to_a = Chain((placement_warp(cutout, obj), Affine(view)))
    a_to_b = Chain((motion_warp(obj), Affine(camera)))
    return LayerWarps(to_a=to_a, to_b=Chain((to_a, a_to_b)), a_to_b=a_to_b)


def outline_samples(cutout: ObjectCutout) -> np.ndarray:
    """At most MAX_CONTOUR_POINTS points of the object's outline, evenly spread and in order: ``float64 (M, 2)``."""
    contour = cutout.contour
    if len(contour) <= MAX_CONTOUR_POINTS:
        return contour
    return contour[np.linspace(0, len(contour) - 1, MAX_CONTOUR_POINTS).astype(int)]


def mapped_contour(cutout: ObjectCutout, warp: Warp) -> np.ndarray:
    """The outline samples carried by ``warp``: ``float64 (M, 2)``; points that fail to map are dropped."""
    points = warp.forward(outline_samples(cutout))
    return points[np.isfinite(points).all(axis=1)]


def frame_warps(scene: Scene, params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, list[LayerWarps]]:
    """The view matrix, the camera matrix and every drawn object's warps of the dream ``params``."""
    view = view_matrix(params["view"], scene.size)
    camera = camera_matrix(params["camera"], scene.size)
    warps = [layer_warps(scene.cutout(obj["id"]), obj, view, camera) for obj in params["objects"]]
    return view, camera, warps
