"""Drawing a dream's parameters with an explicit ``numpy.random.Generator``.

The result is a JSON-serialisable dict; :mod:`dreaming.synthesis.render` turns it into pixels deterministically, so a
dream can be stored, replayed and explained. Parameters drawn on an object's outline as it lands in a frame use the
warps of :mod:`dreaming.synthesis.layer_geometry`. Ranges come from :class:`~dreaming.synthesis.config.DreamConfig`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dreaming.synthesis.config import DeformConfig, DreamConfig, IlluminationConfig
from dreaming.synthesis.layer_geometry import camera_matrix, layer_warps, mapped_contour, view_matrix
from dreaming.synthesis.scene import ObjectCutout, Scene

PARAMS_VERSION = 1
MIN_CONTROL_POINTS = 3


def spread_points(points: np.ndarray, count: int, start: int) -> np.ndarray:
    """Indices of ``count`` points of ``points (M, 2)`` spread as far apart as possible (farthest-point sampling
    from ``points[start]``), so that neighbouring control points cannot pull the outline into folds."""
    chosen = [start]
    distance = np.linalg.norm(points - points[start], axis=1)
    for _ in range(count - 1):
        chosen.append(int(np.argmax(distance)))
        distance = np.minimum(distance, np.linalg.norm(points - points[chosen[-1]], axis=1))
    return np.array(chosen)


def sample_deformation(points: np.ndarray, rng: np.random.Generator, cfg: DeformConfig) -> dict[str, Any] | None:
    """Control points picked on an outline ``points (M, 2)`` (a random one, then the farthest from those chosen),
    each shifted by up to ``cfg.shift`` of the outline's box width/height. ``None`` when the outline is too small
    to deform."""
    count = min(cfg.points, len(points))
    if count < MIN_CONTROL_POINTS:
        return None
    controls = points[spread_points(points, count, int(rng.integers(len(points))))]
    extent = points.max(axis=0) - points.min(axis=0) + 1.0
    shifts = rng.uniform(-1.0, 1.0, size=controls.shape) * cfg.shift * extent
    return {"points": controls.tolist(), "shifts": shifts.tolist()}


def in_frame(points: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The points ``(M, 2)`` inside a frame of ``size = (W, H)``: what of an outline a mask can show."""
    width, height = size
    inside = (points[:, 0] >= 0) & (points[:, 0] <= width - 1) & (points[:, 1] >= 0) & (points[:, 1] <= height - 1)
    return points[inside]


def sample_placement(cutout: ObjectCutout, size: tuple[int, int], rng: np.random.Generator, cfg: DreamConfig):
    """Deformation, scale and new box centre of a manipulated object, uniformly where its scaled box fits."""
    deform = sample_deformation(cutout.contour, rng, cfg.deform)
    scale = float(rng.uniform(*cfg.placement.scale))
    center = []
    for extent, frame in zip(cutout.size, size, strict=True):
        half = scale * extent / 2.0
        low, high = half - 0.5, frame - 0.5 - half  # pixel (x, y) covers [x - 0.5, x + 0.5]
        center.append(float(rng.uniform(min(low, high), max(low, high))))
    return {"mode": "moved", "deform": deform, "scale": scale, "center": center}


def sample_camera(size: tuple[int, int], rng: np.random.Generator, cfg: DreamConfig) -> dict[str, Any]:
    cam = cfg.camera
    return {
        "angle": float(rng.uniform(-cam.rotation, cam.rotation)),
        "scale": [float(rng.uniform(*cam.scale)), float(rng.uniform(*cam.scale))],
        "shift": [float(rng.uniform(-cam.shift, cam.shift) * extent) for extent in size],
    }


def sample_object_motion(contour_a: np.ndarray, rng: np.random.Generator, cfg: DreamConfig) -> dict[str, Any]:
    """The object's own motion a → b, on its outline in frame a: a TPS deformation and/or a shift."""
    motion = cfg.object_motion
    kind = str(motion.kinds[int(rng.integers(len(motion.kinds)))])
    deform = sample_deformation(contour_a, rng, motion.deform) if kind in ("deform", "both") else None
    shift = None
    if kind in ("shift", "both") and len(contour_a):
        extent = contour_a.max(axis=0) - contour_a.min(axis=0) + 1.0
        shift = (rng.uniform(-1.0, 1.0, size=2) * motion.shift * extent).tolist()
    return {"kind": kind, "deform": deform, "shift": shift}


def sample_illumination(rng: np.random.Generator, cfg: IlluminationConfig) -> dict[str, list[float]] | None:
    """Draw an illumination change with probability ``cfg.p``: ``{"saturation": [a, b, c], "value": [a, b, c]}``,
    or ``None`` for no change."""
    if rng.random() >= cfg.p:
        return None
    return {
        channel: [float(rng.uniform(*cfg.a)), float(rng.uniform(*cfg.b)), float(rng.uniform(*cfg.c))]
        for channel in ("saturation", "value")
    }


def sample_params(scene: Scene, rng: np.random.Generator, cfg: DreamConfig, pair: bool = True) -> dict[str, Any]:
    """Draw every random choice of one dream (a pair, or frame a alone with ``pair=False``)."""
    size = scene.size
    view_cfg = cfg.view
    view = {
        "flip": bool(rng.random() < view_cfg.flip_p),
        "angle": float(rng.uniform(-view_cfg.rotation, view_cfg.rotation))
        if rng.random() < view_cfg.rotation_p
        else 0.0,
    }

    # Step 2: manipulate a random k-subset; keep or erase the others.
    ids = list(scene.ids)
    k = int(rng.integers(1, len(ids) + 1)) if cfg.subset.manipulate else 0
    manipulated = sorted(int(i) for i in rng.choice(ids, size=k, replace=False))
    kept, erased = [], []
    for object_id in ids:
        if object_id not in manipulated:
            (erased if rng.random() < cfg.subset.erase_p else kept).append(object_id)

    # Steps 3-4: deform, scale and place the manipulated objects; they are drawn over the kept ones, in random order.
    objects = [{"id": i, "mode": "kept", "deform": None, "scale": 1.0, "center": None} for i in kept]
    for object_id in (int(i) for i in rng.permutation(manipulated)):
        objects.append({"id": object_id, **sample_placement(scene.cutout(object_id), size, rng, cfg)})

    motion_type = str(cfg.motion_types[int(rng.integers(len(cfg.motion_types)))]) if pair else None
    camera = sample_camera(size, rng, cfg) if pair and "camera" in motion_type else None
    params: dict[str, Any] = {
        "version": PARAMS_VERSION,
        "size": list(size),
        "view": view,
        "subset": {"k": k, "manipulated": manipulated, "kept": kept, "erased": erased},
        "motion": motion_type,
        "camera": camera,
        "objects": objects,
    }

    # Steps 8-9: object motion and previous-mask deformations live on each object's outline in its frame.
    vmatrix, cmatrix = view_matrix(view, size), camera_matrix(camera, size)
    for obj in objects:
        cutout = scene.cutout(obj["id"])
        contour_a = mapped_contour(cutout, layer_warps(cutout, obj, vmatrix, cmatrix).to_a)
        obj["motion"] = sample_object_motion(contour_a, rng, cfg) if pair and "objects" in motion_type else None
        obj["prev_a"] = sample_deformation(in_frame(contour_a, size), rng, cfg.prev_mask.deform)
        if pair:
            contour_b = mapped_contour(cutout, layer_warps(cutout, obj, vmatrix, cmatrix).to_b)
            obj["prev_b"] = sample_deformation(in_frame(contour_b, size), rng, cfg.prev_mask.deform)

    # Step 6: illumination of the background layer and of each composed frame.
    params["illumination"] = {
        "background": sample_illumination(rng, cfg.illumination),
        "a": sample_illumination(rng, cfg.illumination),
        "b": sample_illumination(rng, cfg.illumination) if pair else None,
    }
    return params
