"""An embedded sample video with exact masks, so that Lucid runs with no dataset at hand.

The clip is composed from real photographs shipped inside scikit-image (no download): a brick wall over grass as
the background, and the cat's face (``chelsea``), the espresso cup (``coffee``), the astronaut's head
(``astronaut``) and a coin (``coins``) as objects with organic outlines. Each object moves on its own smooth path
(translation, small rotation and scale change) under a slow camera pan/zoom/roll; objects occlude each other in a
fixed depth order, and one crosses the scene and partly leaves the frame near the end. Every frame comes with its
exact label map (ids ``1..N`` in the order above).
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


def make_clip(
    num_frames: int = 24,
    size: tuple[int, int] = (480, 270),
    num_objects: int = 3,
    seed: int = 0,
) -> Clip:
    """Compose the embedded sample clip.

    Args:
        num_frames: number of frames (≥ 2).
        size: ``(W, H)`` of the frames (each ≥ 64).
        num_objects: 1..:data:`MAX_OBJECTS` objects, taken in the order cat, cup, astronaut, coin (ids 1..N).
        seed: drives the outlines, sizes, paths, depth order and camera path; same seed, same pixels.
    """
    if num_frames < 2:
        raise InputError("num_frames", f"{num_frames} frames requested", "at least 2")
    width, height = size
    if width < 64 or height < 64:
        raise InputError("size", f"{width}x{height} requested", "frames of at least 64x64 pixels")
    if not 1 <= num_objects <= MAX_OBJECTS:
        raise InputError("num_objects", f"{num_objects} objects requested", f"1 to {MAX_OBJECTS}")
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

    frames, labels = [], []
    for index in range(num_frames):
        t = index / (num_frames - 1)
        cam = camera(t)
        frame = cv2.warpAffine(
            background,
            (cam @ canvas_to_world)[:2],
            (width, height),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT,
        ).astype(np.float32)
        label = np.zeros((height, width), dtype=np.int32)
        for i in depth:
            sprite = sprites[i]
            h, w = sprite.alpha.shape
            pivot = np.array([(w - 1) / 2, (h - 1) / 2])
            position = start[i] + (end[i] - start[i]) * t
            sprite_to_world = _rigid(angles[i](t), 1.0 + zooms[i](t), tuple(pivot), tuple(position - pivot))
            matrix = (cam @ sprite_to_world)[:2]
            alpha = cv2.warpAffine(sprite.alpha, matrix, (width, height), flags=cv2.INTER_LINEAR)
            colour = cv2.warpAffine(sprite.premultiplied, matrix, (width, height), flags=cv2.INTER_LINEAR)
            frame = colour + (1.0 - alpha[..., None]) * frame
            label[alpha >= 0.5] = i + 1
        frames.append(np.clip(np.rint(frame), 0, 255).astype(np.uint8))
        labels.append(label)
    return Clip(frames=frames, labels=labels)


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
