"""An embedded sample video with exact masks, so that Lucid runs with no dataset at hand.

The clip is composed from real photographs shipped inside scikit-image (no download): a brick wall over grass as
the background, and the cat's face (``chelsea``), the espresso cup (``coffee``), the astronaut's head
(``astronaut``) and a coin (``coins``) as objects with organic outlines. Each object moves on its own smooth path
(translation, small rotation and scale change) under a slow camera pan/zoom/roll; objects occlude each other in a
fixed depth order, and one crosses the scene and partly leaves the frame near the end. Every frame comes with its
exact label map (ids ``1..N`` in the order above).

Two optional hard cases for trackers, off by default (the default clip does not change with them): a *distractor*, a
slightly re-coloured and re-scaled copy of the cat that enters after the first frame, behind every object, and
settles near the cat as unlabelled background; and an *occlusion*, an opaque panel cut from the ``rocket`` photo that
drops in front of the cat, hides it completely for a span of frames while following it, and lifts off again.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from skimage import data

from foundation.errors import InputError
from foundation.io import atomic_path, write_labels


@dataclass(frozen=True)
class Clip:
    """A short video with a label map per frame.

    Attributes:
        frames: ``uint8 (H, W, 3)`` RGB frames.
        labels: ``int32 (H, W)`` label maps, one per frame: 0 background, object ids ``1..N``.
        name: the sequence name used when the clip is written in DAVIS layout.
    """

    frames: list[np.ndarray]
    labels: list[np.ndarray]
    name: str = "lucid-sample"


@dataclass(frozen=True)
class _Sprite:
    """An object cut out of a photo: premultiplied colour and a soft alpha, centred on the array centre."""

    premultiplied: np.ndarray  # float32 (h, w, 3), colour * alpha, in 0..255
    alpha: np.ndarray  # float32 (h, w), 0..1


def _tint(gray: np.ndarray, rgb: tuple[float, float, float]) -> np.ndarray:
    """A grayscale photo coloured by multiplying it with ``rgb`` (factors of 255): ``uint8 (H, W, 3)``."""
    return np.clip(gray[..., None].astype(np.float32) * np.asarray(rgb, dtype=np.float32), 0, 255).astype(np.uint8)


def _blob_alpha(shape: tuple[int, int], axes: tuple[float, float], rng: np.random.Generator) -> np.ndarray:
    """Soft alpha ``float32 (h, w)`` of an ellipse with a smoothly wobbling radius, centred in the array.

    The radius at angle θ is ``1 + Σ_k a_k cos(kθ + φ_k)`` (k = 2..4) in ellipse-normalised units, which gives
    organic, star-free outlines; the edge is anti-aliased over about one pixel.
    """
    h, w = shape
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    ex, ey = (x - (w - 1) / 2) / axes[0], (y - (h - 1) / 2) / axes[1]
    rho, theta = np.hypot(ex, ey), np.arctan2(ey, ex)
    radius = np.ones_like(theta)
    for k in (2, 3, 4):
        radius += rng.uniform(-0.12, 0.12) / (k - 1) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    return np.clip((radius - rho) * min(axes) + 0.5, 0.0, 1.0).astype(np.float32)


def _ellipse_cut(
    photo: np.ndarray, centre: tuple[int, int], axes: tuple[int, int], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Cut an organic blob around an ellipse ``(centre (x, y), axes (ax, ay))`` of ``photo``: ``(rgb, alpha)``."""
    cx, cy = centre
    margin = 1.2  # room for the wobble
    half_w, half_h = round(axes[0] * margin), round(axes[1] * margin)
    padded = cv2.copyMakeBorder(photo, half_h, half_h, half_w, half_w, cv2.BORDER_REFLECT_101)
    crop = padded[cy : cy + 2 * half_h + 1, cx : cx + 2 * half_w + 1]
    return crop, _blob_alpha(crop.shape[:2], (float(axes[0]), float(axes[1])), rng)


def _cat(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return _ellipse_cut(data.chelsea(), (245, 160), (165, 130), rng)


def _cup(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return _ellipse_cut(data.coffee(), (278, 228), (200, 152), rng)


def _astronaut(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return _ellipse_cut(data.astronaut(), (227, 100), (74, 92), rng)


def _coin(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The large coin on the right of ``coins``, segmented by Otsu thresholding (its own outline, not a blob)."""
    crop = data.coins()[150:225, 309:384]
    _, foreground = cv2.threshold(crop, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    _, components, stats, _ = cv2.connectedComponentsWithStats(foreground)
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    contours, _ = cv2.findContours((components == largest).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    mask = cv2.drawContours(np.zeros_like(crop, dtype=np.float32), contours, -1, 1.0, cv2.FILLED)  # holes filled
    alpha = cv2.GaussianBlur(mask, (0, 0), 0.8)
    return _tint(crop, (1.15, 0.92, 0.55)), alpha


_OBJECTS: tuple[tuple[Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]], float], ...] = (
    (_cat, 0.52),
    (_cup, 0.50),
    (_astronaut, 0.46),
    (_coin, 0.30),
)
"""Object sources in id order, each with its size (longest side) as a fraction of the frame height."""

MAX_OBJECTS = len(_OBJECTS)


def _sprite(
    cut: Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]], size: float, rng: np.random.Generator
) -> _Sprite:
    rgb, alpha = cut(rng)
    scale = size / max(rgb.shape[:2])
    dsize = (max(2, round(rgb.shape[1] * scale)), max(2, round(rgb.shape[0] * scale)))
    rgb = cv2.resize(rgb, dsize, interpolation=cv2.INTER_AREA).astype(np.float32)
    alpha = cv2.resize(alpha, dsize, interpolation=cv2.INTER_AREA)
    return _Sprite(premultiplied=rgb * alpha[..., None], alpha=alpha)


def _background(width: int, height: int) -> np.ndarray:
    """A brick wall over a lawn, ``uint8 (height, width, 3)`` RGB, the textures kept at their native scale."""
    wall = _tint(np.rot90(data.brick()), (1.25, 0.72, 0.55))  # courses horizontal
    lawn = _tint(data.grass(), (0.55, 1.0, 0.45))
    horizon = round(0.45 * height)
    reps_x = -(-width // 512)
    wall = np.tile(wall, (-(-horizon // 512), reps_x, 1))[:horizon, :width]
    lawn = np.tile(lawn, (-(-(height - horizon) // 512), reps_x, 1))[: height - horizon, :width]
    canvas = np.concatenate([wall, lawn], axis=0)
    # Soften the seam between the two photos over a few rows.
    band = slice(max(horizon - 3, 0), horizon + 3)
    canvas[band] = cv2.GaussianBlur(canvas[band], (1, 5), 0)
    return canvas


def _rigid(angle: float, scale: float, centre: tuple[float, float], shift: tuple[float, float]) -> np.ndarray:
    """3x3 matrix: rotate by ``angle`` (radians) and scale about ``centre``, then translate by ``shift``."""
    c, s = scale * np.cos(angle), scale * np.sin(angle)
    cx, cy = centre
    return np.array(
        [
            [c, -s, cx - c * cx + s * cy + shift[0]],
            [s, c, cy - s * cx - c * cy + shift[1]],
            [0.0, 0.0, 1.0],
        ]
    )


def _wave(rng: np.random.Generator, amplitude: float) -> Callable[[float], float]:
    """A smooth random curve on t ∈ [0, 1] with ``f(0) = 0``.

    A drift of at least half ``amplitude`` (so that the motion never cancels out) plus one slow oscillation.
    """
    drift = rng.choice((-1.0, 1.0)) * rng.uniform(amplitude / 2, amplitude)
    swing, frequency, phase = rng.uniform(0, amplitude / 2), rng.uniform(0.3, 1.0), rng.uniform(0, 2 * np.pi)
    return lambda t: drift * t + swing * (np.sin(2 * np.pi * frequency * t + phase) - np.sin(phase))


def _paint(frame: np.ndarray, sprite: _Sprite, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Composite ``sprite`` warped by ``matrix`` (2x3, sprite to frame) over ``frame`` ``float32 (H, W, 3)``.

    Returns the new frame and the warped alpha ``float32 (H, W)``.
    """
    height, width = frame.shape[:2]
    alpha = cv2.warpAffine(sprite.alpha, matrix, (width, height), flags=cv2.INTER_LINEAR)
    colour = cv2.warpAffine(sprite.premultiplied, matrix, (width, height), flags=cv2.INTER_LINEAR)
    return colour + (1.0 - alpha[..., None]) * frame, alpha


def _corners(sprite: _Sprite) -> np.ndarray:
    """``float (4, 2)`` corners of the box around ``sprite``'s visible pixels, one pixel wider for interpolation."""
    ys, xs = np.nonzero(sprite.alpha > 0)
    x0, x1, y0, y1 = xs.min() - 1.0, xs.max() + 1.0, ys.min() - 1.0, ys.max() + 1.0
    return np.array([(x0, y0), (x1, y0), (x0, y1), (x1, y1)])


def _box(corners: np.ndarray, matrix: np.ndarray) -> tuple[float, float, float, float]:
    """Box ``(x0, y0, x1, y1)`` around ``corners`` ``(4, 2)`` mapped by ``matrix`` (2x3)."""
    mapped = corners @ matrix[:, :2].T + matrix[:, 2]
    (x0, y0), (x1, y1) = mapped.min(axis=0), mapped.max(axis=0)
    return float(x0), float(y0), float(x1), float(y1)


def _look_alike(sprite: _Sprite, hue_shift: float, gain: float, scale: float) -> _Sprite:
    """``sprite`` with its hue turned by ``hue_shift`` degrees, brightness times ``gain`` and size times ``scale``."""
    weight = sprite.alpha[..., None]
    rgb = np.divide(sprite.premultiplied, weight, out=np.zeros_like(sprite.premultiplied), where=weight > 0)
    hsv = cv2.cvtColor(np.clip(rgb / 255.0, 0.0, 1.0), cv2.COLOR_RGB2HSV)  # float: hue in degrees
    hsv[..., 0] = (hsv[..., 0] + hue_shift) % 360.0
    hsv[..., 2] = np.clip(hsv[..., 2] * gain, 0.0, 1.0)
    premultiplied = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB) * 255.0 * weight
    h, w = sprite.alpha.shape
    dsize = (max(2, round(w * scale)), max(2, round(h * scale)))
    return _Sprite(
        premultiplied=cv2.resize(premultiplied, dsize, interpolation=cv2.INTER_AREA),
        alpha=cv2.resize(sprite.alpha, dsize, interpolation=cv2.INTER_AREA),
    )


def _panel(width: int, height: int, radius: float, rng: np.random.Generator) -> _Sprite:
    """An opaque ``width x height`` rounded rectangle textured with a random crop of the ``rocket`` photo."""
    photo = data.rocket()
    crop_h = rng.uniform(0.6, 1.0) * min(photo.shape[0], photo.shape[1] * height / width)
    crop_w = crop_h * width / height
    y0 = round(rng.uniform(0, photo.shape[0] - crop_h))
    x0 = round(rng.uniform(0, photo.shape[1] - crop_w))
    crop = photo[y0 : y0 + round(crop_h), x0 : x0 + round(crop_w)]
    rgb = cv2.resize(crop, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32)
    # Signed distance to the rounded rectangle whose edge runs through the outermost pixel centres.
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    qx = np.abs(x - (width - 1) / 2) - ((width - 1) / 2 - radius)
    qy = np.abs(y - (height - 1) / 2) - ((height - 1) / 2 - radius)
    outside = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0)) + np.minimum(np.maximum(qx, qy), 0) - radius
    alpha = np.clip(0.5 - outside, 0.0, 1.0).astype(np.float32)
    return _Sprite(premultiplied=rgb * alpha[..., None], alpha=alpha)


def _spot(
    sprite: _Sprite,
    views: list[tuple[np.ndarray, np.ndarray, np.ndarray, float]],
    origin_x: float,
    size: tuple[int, int],
    near: float,
    clearance: float,
) -> np.ndarray:
    """Where (world ``(x, y)``) to park ``sprite`` behind the labelled objects, near object 1.

    The sprite comes in horizontally from world ``x = origin_x`` at the height of its spot. ``views`` holds, for each
    frame after it sets off, the camera (3x3, world to frame), the sprite's own linear part (2x2), the label map
    ``int32 (H, W)`` and how far along its way in it is (0..1, 1 parked). The spot keeps the sprite inside every frame
    it is parked in and within ``near`` pixels of object 1 in at least one of them, never lets it come within
    ``clearance`` of object 1 and, among such spots, is the least hidden by objects once parked (the best
    compromise where no spot meets all of this).
    """
    width, height = size
    support = (sprite.alpha > 0).astype(np.uint8)

    def grown(pad: int) -> np.ndarray:
        """The sprite's support grown by ``pad`` pixels all round, as a correlation kernel."""
        return cv2.dilate(
            cv2.copyMakeBorder(support, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0),
            cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pad + 1, 2 * pad + 1)),
        ).astype(np.float32)

    kernel = sprite.alpha / sprite.alpha.sum()
    reach, room = grown(max(1, round(near))), grown(max(1, round(clearance)))
    pad = max(reach.shape) // 2 + 1  # beyond this, a centre off the frame reaches nothing in it

    def sample(mask: np.ndarray, weights: np.ndarray, centres: np.ndarray) -> np.ndarray:
        """``Σ weights · mask`` under the kernel ``weights`` centred on each of ``centres`` ``(N, 2)``."""
        padded = cv2.copyMakeBorder(mask.astype(np.float32), pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
        # Correlating a mask with a kernel gives, at each centre, how much of the kernel the mask covers there.
        response = cv2.filter2D(padded, -1, weights, borderType=cv2.BORDER_CONSTANT)
        ix, iy = np.rint(centres + pad).astype(int).T
        valid = (ix >= 0) & (ix < padded.shape[1]) & (iy >= 0) & (iy < padded.shape[0])
        out = np.zeros(len(centres), dtype=np.float32)
        out[valid] = response[iy[valid], ix[valid]]
        return out

    offsets = _corners(sprite) - np.array([(support.shape[1] - 1) / 2, (support.shape[0] - 1) / 2])
    step = max(1, min(width, height) // 64)
    ys, xs = np.mgrid[0:height:step, 0:width:step]
    spots = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float64)
    hidden, parked, inside = np.zeros(len(spots)), 0, np.ones(len(spots), dtype=bool)
    close, crowding = np.zeros(len(spots), dtype=bool), np.zeros(len(spots), dtype=bool)
    for cam, own, labels, progress in views:
        positions = np.stack([origin_x + (spots[:, 0] - origin_x) * progress, spots[:, 1]], axis=1)
        centres = positions @ cam[:2, :2].T + cam[:2, 2]
        crowding |= sample(labels == 1, room, centres) > 0.5
        if progress < 1.0:
            continue
        parked += 1
        reached = offsets @ (cam[:2, :2] @ own).T
        inside &= np.all(centres + reached.min(axis=0) >= 0, axis=1)
        inside &= np.all(centres + reached.max(axis=0) <= (width - 1, height - 1), axis=1)
        hidden += sample(labels > 0, kernel, centres)
        close |= sample(labels == 1, reach, centres) > 0.5
    cost = hidden / max(parked, 1) + (~close) + crowding + 10.0 * ~inside
    return spots[int(np.argmin(cost))]


def make_clip(
    num_frames: int = 24,
    size: tuple[int, int] = (480, 270),
    num_objects: int = 3,
    seed: int = 0,
    *,
    distractor: bool = False,
    occlusion: tuple[int, int] | None = None,
) -> Clip:
    """Compose the embedded sample clip.

    Args:
        num_frames: number of frames (≥ 2).
        size: ``(W, H)`` of the frames (each ≥ 64).
        num_objects: 1..:data:`MAX_OBJECTS` objects, taken in the order cat, cup, astronaut, coin (ids 1..N).
        seed: drives the outlines, sizes, paths, depth order and camera path; same seed, same pixels.
        distractor: add a look-alike of object 1 (hue turned 12-20°, brightness ±10 %, 78-90 % of its size) as
            background (label 0) behind every object. Absent from frame 0, it enters from the side away from
            object 1's start in the first half of the clip and is parked, fully inside the frame, from at most 60 %
            of the clip on, where objects hide it least among the spots that bring it within half its size of
            object 1 but never within 8 % of its size (the best compromise where the layout has no such spot).
        occlusion: ``(start, stop)``: an opaque panel (label 0) in front of everything hides object 1 completely,
            with a margin, in frames ``start..stop-1``; it drops in from above over the two frames before ``start``
            (never in frame 0) and lifts off over frames ``stop`` and ``stop + 1``. Needs
            ``1 ≤ start < stop ≤ num_frames``.

    The variants draw from their own generators, so the same seed gives the same objects, camera and pixels
    wherever the variants leave the frame alone.
    """
    if num_frames < 2:
        raise InputError("num_frames", f"{num_frames} frames requested", "at least 2")
    width, height = size
    if width < 64 or height < 64:
        raise InputError("size", f"{width}x{height} requested", "frames of at least 64x64 pixels")
    if not 1 <= num_objects <= MAX_OBJECTS:
        raise InputError("num_objects", f"{num_objects} objects requested", f"1 to {MAX_OBJECTS}")
    if occlusion is not None:
        _check_occlusion(occlusion, num_frames)
    rng = np.random.default_rng(seed)

    # World coordinates are those of frame 0; the background extends beyond it so the camera never sees its edge.
    margin = round(0.2 * max(width, height))
    background = _background(width + 2 * margin, height + 2 * margin)
    canvas_to_world = _rigid(0.0, 1.0, (0.0, 0.0), (-margin, -margin))
    centre = ((width - 1) / 2, (height - 1) / 2)
    cam_x, cam_y = _wave(rng, 0.05 * width), _wave(rng, 0.04 * height)
    cam_angle, cam_zoom = _wave(rng, np.deg2rad(2.0)), _wave(rng, 0.06)

    def camera(t: float) -> np.ndarray:
        return _rigid(cam_angle(t), 1.0 + cam_zoom(t), centre, (cam_x(t), cam_y(t)))

    sprites = [_sprite(cut, fraction * height * rng.uniform(0.9, 1.1), rng) for cut, fraction in _OBJECTS[:num_objects]]

    # One traveller crosses the scene left to right and ends half outside the right edge of the last frame; the
    # others wander around spots spread along the same band, so the traveller passes over or behind them.
    traveller = int(rng.integers(num_objects))
    others = [i for i in range(num_objects) if i != traveller]
    spots = np.linspace(0.3, 0.8, len(others)) * width
    start, end = np.empty((num_objects, 2)), np.empty((num_objects, 2))
    for spot, i in zip(spots, others, strict=True):
        start[i] = (spot + rng.uniform(-0.04, 0.04) * width, rng.uniform(0.45, 0.65) * height)
        end[i] = start[i] + rng.uniform(-0.06, 0.06, size=2) * (width, height)
    start[traveller] = (0.1 * width, rng.uniform(0.4, 0.55) * height)
    exit_point = np.linalg.inv(camera(1.0)) @ (width, rng.uniform(0.45, 0.6) * height, 1.0)
    end[traveller] = exit_point[:2]
    angles = [_wave(rng, np.deg2rad(15.0)) for _ in range(num_objects)]
    zooms = [_wave(rng, 0.12) for _ in range(num_objects)]
    depth = rng.permutation(num_objects)  # back to front

    def placement(i: int, t: float) -> np.ndarray:
        """2x3 matrix from sprite ``i`` to the frame at time ``t``."""
        h, w = sprites[i].alpha.shape
        pivot = np.array([(w - 1) / 2, (h - 1) / 2])
        position = start[i] + (end[i] - start[i]) * t
        sprite_to_world = _rigid(angles[i](t), 1.0 + zooms[i](t), tuple(pivot), tuple(position - pivot))
        return (camera(t) @ sprite_to_world)[:2]

    times = [index / (num_frames - 1) for index in range(num_frames)]
    look_alike = _distractor(sprites, placement, depth, camera, start[0], times, size, seed) if distractor else None
    cover = _occluder(sprites[0], placement, occlusion, times, size, seed) if occlusion is not None else {}

    frames, labels = [], []
    for index, t in enumerate(times):
        cam = camera(t)
        frame = cv2.warpAffine(
            background,
            (cam @ canvas_to_world)[:2],
            (width, height),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT,
        ).astype(np.float32)
        if look_alike is not None:
            frame, _ = _paint(frame, look_alike[0], look_alike[1](t))
        label = np.zeros((height, width), dtype=np.int32)
        for i in depth:
            frame, alpha = _paint(frame, sprites[i], placement(i, t))
            label[alpha >= 0.5] = i + 1
        if index in cover:
            frame, alpha = _paint(frame, *cover[index])
            label[alpha >= 0.5] = 0
        frames.append(np.clip(np.rint(frame), 0, 255).astype(np.uint8))
        labels.append(label)
    return Clip(frames=frames, labels=labels)


def _check_occlusion(occlusion: tuple[int, int], num_frames: int) -> None:
    """Raise :class:`InputError` unless ``occlusion`` is ``(start, stop)`` with ``1 ≤ start < stop ≤ num_frames``."""
    expected = f"(start, stop) frame indices with 1 <= start < stop <= {num_frames}"
    try:
        start, stop = occlusion
    except (TypeError, ValueError):
        raise InputError("occlusion", f"{occlusion!r} is not a pair of frame indices", expected) from None
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (start, stop)):
        raise InputError("occlusion", f"{occlusion!r} is not a pair of frame indices", expected)
    if start < 1:
        raise InputError("occlusion", f"start {start} would hide object 1 in frame 0, the annotated frame", expected)
    if stop <= start:
        raise InputError("occlusion", f"stop {stop} is not after start {start}", expected)
    if stop > num_frames:
        raise InputError("occlusion", f"stop {stop} is past the end of a {num_frames}-frame clip", expected)


def _distractor(
    sprites: list[_Sprite],
    placement: Callable[[int, float], np.ndarray],
    depth: np.ndarray,
    camera: Callable[[float], np.ndarray],
    first_start: np.ndarray,
    times: list[float],
    size: tuple[int, int],
    seed: int,
) -> tuple[_Sprite, Callable[[float], np.ndarray]]:
    """The look-alike of object 1 and its placement (time to 2x3 matrix, sprite to frame); see :func:`make_clip`."""
    width, height = size
    rng = np.random.default_rng([seed, 1])
    hue_shift = rng.choice((-1.0, 1.0)) * rng.uniform(12.0, 20.0)
    sprite = _look_alike(sprites[0], hue_shift, rng.uniform(0.9, 1.1), rng.uniform(0.78, 0.9))
    angle, zoom = _wave(rng, np.deg2rad(6.0)), _wave(rng, 0.05)
    enter, park = rng.uniform(0.05, 0.2), rng.uniform(0.45, 0.6)
    h, w = sprite.alpha.shape
    pivot = np.array([(w - 1) / 2, (h - 1) / 2])

    def own(t: float) -> np.ndarray:
        return _rigid(angle(t), 1.0 + zoom(t), tuple(pivot), (0.0, 0.0))[:2, :2]

    # Frame 0 is the world: start just past the edge away from object 1, far enough for any rotation and zoom.
    reach = 1.1 * np.abs(_corners(sprite) - pivot).max() * np.sqrt(2) + 2.0
    origin_x = width - 1 + reach if first_start[0] < width / 2 else -reach

    def progress(t: float) -> float:
        """How far along its way in the sprite is at time ``t``: 0 before it sets off, 1 once parked."""
        done = float(np.clip((t - enter) / (park - enter), 0.0, 1.0))
        return 1.0 - (1.0 - done) ** 2  # eases into its spot

    views = []
    for t in times:
        if progress(t) > 0:
            labels = np.zeros((height, width), dtype=np.int32)
            for i in depth:
                alpha = cv2.warpAffine(sprites[i].alpha, placement(i, t), (width, height), flags=cv2.INTER_LINEAR)
                labels[alpha >= 0.5] = i + 1
            views.append((camera(t), own(t), labels, progress(t)))
    goal = _spot(sprite, views, origin_x, size, near=0.5 * max(h, w), clearance=0.08 * max(h, w))
    origin = np.array([origin_x, goal[1]])

    def matrix(t: float) -> np.ndarray:
        position = origin + (goal - origin) * progress(t)
        sprite_to_world = _rigid(angle(t), 1.0 + zoom(t), tuple(pivot), tuple(position - pivot))
        return (camera(t) @ sprite_to_world)[:2]

    return sprite, matrix


def _occluder(
    sprite: _Sprite,
    placement: Callable[[int, float], np.ndarray],
    occlusion: tuple[int, int],
    times: list[float],
    size: tuple[int, int],
    seed: int,
) -> dict[int, tuple[_Sprite, np.ndarray]]:
    """The panel hiding object 1 (``sprite``) and its 2x3 placement, by frame index; see :func:`make_clip`."""
    start, stop = occlusion
    height = size[1]
    corners = _corners(sprite)
    boxes = {index: _box(corners, placement(0, times[index])) for index in range(len(times))}
    margin = max(3.0, 0.05 * height)
    panel_w = 2 * round(margin) + max(round(boxes[i][2] - boxes[i][0]) + 1 for i in range(start, stop))
    panel_h = 2 * round(margin) + max(round(boxes[i][3] - boxes[i][1]) + 1 for i in range(start, stop))
    panel = _panel(panel_w, panel_h, margin, np.random.default_rng([seed, 2]))
    ramp = 2  # frames to drop in and to lift off
    placed = {}
    for index in range(max(1, start - ramp), min(stop + ramp, len(times))):
        if index < start:
            lift = (start - index) / (start - max(1, start - ramp) + 1)
        elif index >= stop:
            lift = (index - stop + 1) / (ramp + 1)
        else:
            lift = 0.0
        x0, y0, x1, y1 = boxes[index]
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        # At lift 1 the panel's bottom edge would sit just above the frame.
        dy = -lift * (cy + panel_h / 2 + 1)
        matrix = np.array([[1.0, 0.0, cx - (panel_w - 1) / 2], [0.0, 1.0, cy + dy - (panel_h - 1) / 2]])
        placed[index] = (panel, matrix)
    return placed


def write_davis(clip: Clip, root: str | os.PathLike[str]) -> Path:
    """Write ``clip`` in DAVIS layout under ``root`` and return ``root``.

    Frames go to ``JPEGImages/480p/<name>/%05d.jpg`` (JPEG quality 95) and masks to
    ``Annotations/480p/<name>/%05d.png`` (DAVIS palette), every file written atomically.
    """
    root = Path(root)
    frame_dir = root / "JPEGImages" / "480p" / clip.name
    mask_dir = root / "Annotations" / "480p" / clip.name
    for index, (frame, label) in enumerate(zip(clip.frames, clip.labels, strict=True)):
        with atomic_path(frame_dir / f"{index:05d}.jpg") as tmp:
            bgr = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
            if not cv2.imwrite(str(tmp), bgr, [cv2.IMWRITE_JPEG_QUALITY, 95]):
                raise OSError(f"{frame_dir / f'{index:05d}.jpg'}: OpenCV could not write the JPEG")
        write_labels(mask_dir / f"{index:05d}.png", label)
    return root
