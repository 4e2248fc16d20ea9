"""Learning a video from its annotated frames: training pairs from each (dreamed, or for the ablation only
augmented), and the video's networks trained from scratch once, then fine-tuned from their current weights.

Pair ``i`` of annotated frame ``t`` is dreamed from ``sample_rng(seed, video, t, i)`` — the seed rule of
``lucid-dream`` — so a frame's dreams never change when other frames are annotated, and are made once.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import math
import os
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import cv2
import numpy as np
import torch

from dreaming.synthesis.dream import Scene
from dreaming.synthesis.inpaint import object_hole
from dreaming.synthesis.seeds import sample_rng
from foundation.errors import InputError
from foundation.io import VOID
from segmenters.lucid.samples import TrainingPair, dream_training_pairs, training_pair
from segmenters.lucid.tracker import LucidConfig, build_networks, dream_settings, train_on_pairs
from segmenters.networks import UNet

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
import albumentations as A

log = logging.getLogger(__name__)

SAMPLE_KINDS = ("dreams", "augment")


@dataclass(frozen=True)
class LearningCosts:
    """Seconds each unit of learning takes (:func:`steps_within`): estimates for one core of the reference machine
    (2-core AMD EPYC, ``profile=cpu``, one torch thread; measured on bear with 8 annotated frames: 0.24 s a pair,
    0.77 s a step, 0.10 s an object-frame), which a session replaces by its own measurements once it has dreamed,
    trained and tracked with its networks."""

    pair: float = 0.25
    """Dreaming one training pair (480p)."""
    step: float = 0.8
    """One training step."""
    frame: float = 0.1
    """The networks tracking one object through one frame."""

    def __post_init__(self) -> None:
        for name in ("pair", "step", "frame"):
            if not getattr(self, name) >= 0.0:
                raise InputError(f"session.learning.costs.{name}", f"{getattr(self, name)}", "seconds, at least 0")


@dataclass(frozen=True)
class LearningConfig:
    """When and how the session learns the video from its annotated frames."""

    enabled: bool = True
    start: int = 3
    """The interaction after which the networks are first trained (1: the first); later ones fine-tune."""
    samples: str = "dreams"
    """``dreams`` (Lucid Data Dreaming from every annotated frame) or ``augment`` (standard augmentations of the
    annotated frames only: flips, affine, colour; the ablation without re-dreaming)."""
    pairs_per_frame: int = 40
    """Training pairs made from each annotated frame."""
    max_pairs: int = 240
    """At most this many pairs are kept (the most recent annotated frames' first), bounding memory."""
    steps: int = 600
    """Steps of the first training, from scratch."""
    finetune_steps: int = 150
    """Steps of each later training, from the current weights, on the pairs of every annotated frame."""
    finetune_lr: float = 0.001
    max_side: int = 960
    """Annotated frames larger than this (longest side, px) are dreamed scaled down to it: a pair holds two images,
    labels, previous masks and flows (about 25 bytes per pixel), 50 MB at 1920×1080 and 12 MB at 960×540. The
    networks see crops resized around each object, so they learn the same at either size. 0: full size."""
    budget: float = 0.0
    """Seconds per object the whole session may take, learning included (the DAVIS interactive protocol gives 240):
    a training gets the steps that fit in what is left of ``objects × budget`` after the interactions so far (their
    recorded seconds), the dreaming and the networks' tracking of every frame (:func:`steps_within`), and waits while
    fewer than ``min_share`` of its steps fit. The learning then depends on the clock. 0: no limit."""
    min_share: float = 1.0
    """Under a ``budget``, the least share of its configured steps a training may be cut to; it waits while fewer
    fit. 1: whole trainings only — on the development set, cutting the first training to the 160 of 500 steps that fit
    on 2 cores lowered the final J&F from 0.703 (flow only) to 0.679, where the whole 500 raise it to 0.718."""
    costs: LearningCosts = field(default_factory=LearningCosts)
    """Under a ``budget``, the seconds of each unit of learning until the session has measured its own."""

    def __post_init__(self) -> None:
        if self.samples not in SAMPLE_KINDS:
            raise InputError("session.learning.samples", f"{self.samples!r}", f"one of {', '.join(SAMPLE_KINDS)}")
        for name in ("start", "pairs_per_frame", "max_pairs", "steps", "finetune_steps"):
            if getattr(self, name) < 1:
                raise InputError(f"session.learning.{name}", f"{getattr(self, name)}", "at least 1")
        if self.max_side < 0:
            raise InputError("session.learning.max_side", f"{self.max_side}", "px, at least 0 (0: full size)")
        if not 0.0 < self.min_share <= 1.0:
            raise InputError("session.learning.min_share", f"{self.min_share}", "a share in (0, 1]")
        if not self.budget >= 0.0:
            raise InputError("session.learning.budget", f"{self.budget}", "seconds per object ≥ 0 (0: no limit)")
        if not self.finetune_lr > 0:
            raise InputError("session.learning.finetune_lr", f"{self.finetune_lr}", "a positive learning rate")


def steps_within(left: float, steps: int, pairs: int, tracked: int, costs: LearningCosts, min_steps: int) -> int:
    """The training steps, at most ``steps``, that fit in ``left`` seconds besides dreaming ``pairs`` pairs and the
    networks tracking ``tracked`` object-frames at ``costs``; 0 when fewer than ``min_steps`` fit (fewer than
    ``steps`` when those are fewer)."""
    spare = left - pairs * costs.pair - tracked * costs.frame
    fit = steps if costs.step <= 0.0 else min(steps, math.floor(max(spare, 0.0) / costs.step))
    return fit if fit >= min(min_steps, steps) and fit > 0 else 0


def labels_digest(labels: np.ndarray) -> str:
    """A short digest of a label map (which dreams a frame's labels gave)."""
    return hashlib.sha1(np.ascontiguousarray(labels, dtype=np.uint8).tobytes()).hexdigest()[:12]


def working_size(image: np.ndarray, labels: np.ndarray, max_side: int) -> tuple[np.ndarray, np.ndarray]:
    """``image uint8 (H, W, 3)`` and ``labels (H, W)`` scaled down (area-averaged; labels by nearest neighbour)
    so that their longest side is at most ``max_side`` px; as they are when already small enough or ``max_side``
    is 0."""
    height, width = labels.shape
    if max_side <= 0 or max(height, width) <= max_side:
        return image, labels
    scale = max_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return (
        cv2.resize(image, size, interpolation=cv2.INTER_AREA),
        cv2.resize(labels, size, interpolation=cv2.INTER_NEAREST),
    )


def augmented_pair(image: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> TrainingPair:
    """Two standard augmentations of an annotated frame (flip, scale/rotation, colour jitter) as a training pair;
    each one's previous mask is its own labels moved by a small random affine transform (MaskTrack's guidance
    augmentation). The flows are zero: nothing moved between the two."""
    height, width = labels.shape
    outside = {"border_mode": cv2.BORDER_CONSTANT, "fill": 0, "fill_mask": VOID}
    transform = A.Compose(
        [
            A.HorizontalFlip(p=0.5),
            A.Affine(scale=(0.8, 1.2), rotate=(-15, 15), translate_percent=(-0.05, 0.05), p=1.0, **outside),
            A.ColorJitter(brightness=0.3, contrast=0.3, saturation=0.3, hue=0.03, p=0.8),
        ]
    )
    jitter = A.Affine(
        scale=(0.95, 1.05), rotate=(-5, 5), translate_percent=(-0.03, 0.03), p=1.0, border_mode=cv2.BORDER_CONSTANT
    )
    images, masks, prevs = [], [], []
    for _ in range(2):
        transform.set_random_state(rng, random.Random(int(rng.integers(2**63))))
        jitter.set_random_state(rng, random.Random(int(rng.integers(2**63))))
        out = transform(image=image, mask=labels.astype(np.uint8))
        moved = jitter(image=np.zeros((height, width, 1), np.uint8), mask=np.where(out["mask"] == VOID, 0, out["mask"]))
        images.append(out["image"])
        masks.append(out["mask"])
        prevs.append(moved["mask"])
    flows = np.zeros((2, height, width, 2), np.float32)
    return training_pair(np.stack(images), np.stack(masks), np.stack(prevs), flows, "exact", "medium")


def frame_pairs(
    image: np.ndarray, labels: np.ndarray, frame: int, cfg: LucidConfig, learning: LearningConfig, video: str
) -> list[TrainingPair]:
    """The ``learning.pairs_per_frame`` training pairs of annotated frame ``frame`` (``image uint8 (H, W, 3)``,
    ``labels int (H, W)``), at most ``learning.max_side`` px on their longest side: dreamed, or augmented
    (:func:`augmented_pair`) with ``samples=augment`` and where the objects (dilated) fill the whole frame."""
    count = learning.pairs_per_frame
    image, labels = working_size(image, labels, learning.max_side)
    if learning.samples == "dreams":
        dream_cfg = dream_settings(cfg)
        if not object_hole(labels, dream_cfg.inpaint.dilation_radius).all():
            scene = Scene.from_frame(image, labels, dream_cfg.inpaint)
            return dream_training_pairs(
                scene, dream_cfg, count, cfg.seed, video, cfg.flow, cfg.track.dis_preset, progress=False, frame=frame
            )
        # A close-up the objects fill leaves no background to inpaint: the frame still teaches, augmented.
        log.warning("%s frame %d: the objects fill the frame, nothing to dream from; augmenting it", video, frame)
    return [augmented_pair(image, labels, sample_rng(cfg.seed, video, frame, i)) for i in range(count)]


def train_networks(
    networks: Mapping[str, UNet] | None,
    pairs: list[TrainingPair],
    cfg: LucidConfig,
    learning: LearningConfig,
    round_index: int,
    progress: bool = False,
    on_step: Callable[[int, int], None] | None = None,
    steps: int | None = None,
) -> dict[str, UNet]:
    """Train the video's networks on ``pairs``: from scratch (``learning.steps`` at ``cfg.train.lr``) when
    ``networks`` is ``None``, else from copies of them (``learning.finetune_steps`` at ``learning.finetune_lr``):
    the networks given keep serving while the copies train. ``steps`` (the budget's) replaces the configured number.
    ``round_index`` seeds the crops of this round, so each round sees new ones; ``on_step(step, steps)`` follows the
    training."""
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    if networks is None:
        nets = build_networks(cfg)
        schedule = replace(cfg.train, steps=steps or learning.steps, checkpoint_every=0)
    else:
        nets = {name: copy.deepcopy(net) for name, net in networks.items()}
        schedule = replace(
            cfg.train, steps=steps or learning.finetune_steps, lr=learning.finetune_lr, checkpoint_every=0
        )
    train_on_pairs(nets, pairs, cfg, schedule, cfg.seed + 1000 * round_index, progress=progress, on_step=on_step)
    return nets


def network_state(networks: Mapping[str, UNet]) -> dict[str, Any]:
    """The networks' weights, as a checkpoint holds them."""
    return {name: net.state_dict() for name, net in networks.items()}


def networks_from_state(state: Mapping[str, Any], cfg: LucidConfig) -> dict[str, UNet]:
    """Networks of ``cfg``'s architecture holding the weights ``state``."""
    nets = build_networks(cfg)
    if set(state) != set(nets):
        raise InputError("networks", f"saved networks {sorted(state)}", f"{sorted(nets)} (the session's settings)")
    for name, net in nets.items():
        net.load_state_dict(state[name])
        net.eval()
    return nets
