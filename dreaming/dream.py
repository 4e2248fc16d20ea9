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
