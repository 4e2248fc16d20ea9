"""Training samples from dreamed pairs: one object of one frame of a pair, cropped around its simulated previous mask.

A dreamed pair ``a → b`` gives two samples per object: frame a with its previous mask and the flow ``a → b``, and
frame b with its previous mask and the flow ``b → a`` (the direction used when tracking: current → previous frame).
Pairs come from memory (dreamed on the fly, :func:`dream_training_pairs`) or from a ``lucid-dream`` dataset
(:class:`DatasetPairs`); either way the flow is the exact dreamed one or, with ``flow="estimated"``, DIS flow
computed on the dreamed images as at tracking time.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset
from tqdm import tqdm

from dreaming.dataset.reader import DreamDataset
from dreaming.synthesis.config import DreamConfig
from dreaming.synthesis.dream import DreamPair, Scene, dream_pair
from dreaming.synthesis.seeds import sample_rng
from foundation.errors import InputError
from foundation.io import VOID
from segmenters.lucid.crops import Window, crop, mask_window
from segmenters.lucid.inputs import MatchingContext, erode, matching_inputs, network_inputs
from segmenters.optical_flow import dis_flow

FLOW_MODES = ("exact", "estimated")


@dataclass(frozen=True)
class TrainingPair:
    """The arrays of one dreamed pair that training reads, index 0 for frame a and 1 for frame b.

    Attributes:
        images: ``uint8 (2, H, W, 3)`` RGB.
        labels: ``uint8 (2, H, W)`` object ids, :data:`~dreaming.io.VOID` ignored.
        prev: ``uint8 (2, H, W)`` simulated previous-frame masks.
        flows: ``float16 (2, H, W, 2)``: ``flows[0]`` from a to b, ``flows[1]`` from b to a.
    """

    images: np.ndarray
    labels: np.ndarray
    prev: np.ndarray
    flows: np.ndarray


def _labels_uint8(labels: np.ndarray, what: str) -> np.ndarray:
    if labels.max(initial=0) > VOID:
        raise InputError(what, f"object id {labels.max()}", f"ids up to {VOID - 1}")
    return labels.astype(np.uint8)


def training_pair(
    images: np.ndarray, labels: np.ndarray, prev: np.ndarray, flows: np.ndarray, flow: str, dis_preset: str
) -> TrainingPair:
    """Pack a pair's arrays (``images (2, H, W, 3)``, ``labels``/``prev`` ``(2, H, W)``, exact ``flows
    (2, H, W, 2)``), replacing the flows by DIS estimates when ``flow == "estimated"``."""
    if flow not in FLOW_MODES:
        raise InputError("flow", f"unknown training flow {flow!r}", f"one of {FLOW_MODES}")
    if flow == "estimated":
        flows = np.stack([dis_flow(images[0], images[1], dis_preset), dis_flow(images[1], images[0], dis_preset)])
    return TrainingPair(
        images=np.ascontiguousarray(images),
        labels=_labels_uint8(labels, "labels"),
        prev=_labels_uint8(prev, "prev"),
        flows=flows.astype(np.float16),
    )


def from_dream(pair: DreamPair, flow: str = "exact", dis_preset: str = "medium") -> TrainingPair:
    """A :class:`TrainingPair` of a dreamed pair."""
    return training_pair(
        np.stack([pair.a.image, pair.b.image]),
        np.stack([pair.a.labels, pair.b.labels]),
        np.stack([pair.a.prev_labels, pair.b.prev_labels]),
        np.stack([pair.flow_ab, pair.flow_ba]),
        flow,
        dis_preset,
    )


def dream_training_pairs(
    scene: Scene,
    cfg: DreamConfig,
    count: int,
    seed: int,
    video: str,
    flow: str = "exact",
    dis_preset: str = "medium",
    progress: bool = True,
    frame: int = 0,
) -> list[TrainingPair]:
    """Dream ``count`` pairs in memory from ``scene``, the annotated frame ``frame`` of ``video``; pair ``i`` is the
    one ``lucid-dream`` writes as sample ``i`` of that frame with the same seed."""
    return [
        from_dream(dream_pair(scene, sample_rng(seed, video, frame, index), cfg), flow, dis_preset)
        for index in tqdm(range(count), desc=f"dream {video}", unit="pair", leave=False, disable=not progress)
    ]


def split_pairs(count: int, holdout: float, seed: int) -> tuple[list[int], list[int]]:
    """Seeded split of pair indices ``0 … count − 1`` into ``(training, held out)``, ``round(holdout * count)``
    held out (at least one when ``holdout > 0``, never all)."""
    if not 0.0 <= holdout < 1.0:
        raise InputError("holdout", f"{holdout}", "a fraction in [0, 1)")
    held = min(max(round(holdout * count), 1 if holdout > 0 else 0), count - 1)
    order = np.random.default_rng(np.random.SeedSequence([seed, count, 7])).permutation(count)
    return sorted(order[held:].tolist()), sorted(order[:held].tolist())


class PairSubset(Sequence[TrainingPair]):
    """The pairs of ``pairs`` at ``indices``, in that order (read on demand)."""

    def __init__(self, pairs: Sequence[TrainingPair], indices: Sequence[int]) -> None:
        self.pairs, self.indices = pairs, list(indices)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> TrainingPair:  # type: ignore[override]
        return self.pairs[self.indices[index]]


class DatasetPairs(Sequence[TrainingPair]):
    """The pairs of a ``lucid-dream`` dataset (``<root>/<video>/``), read on demand; the last ``cache`` pairs read
    stay in memory."""

    def __init__(
        self, root: str | os.PathLike[str], video: str, flow: str = "exact", dis_preset: str = "medium", cache: int = 0
    ) -> None:
        self.dataset = DreamDataset(root, video)
        self.flow, self.dis_preset = flow, dis_preset
        self._read = functools.lru_cache(maxsize=cache)(self._load) if cache > 0 else self._load

    def __len__(self) -> int:
        return len(self.dataset)

    def _load(self, index: int) -> TrainingPair:
        images, labels, flows, _ = self.dataset.read(index)
        return training_pair(images, labels[:2], labels[2:], flows, self.flow, self.dis_preset)

    def __getitem__(self, index: int) -> TrainingPair:  # type: ignore[override]
        if not 0 <= index < len(self):
            raise IndexError(f"pair {index} of {len(self)}")
        return self._read(index)


@dataclass(frozen=True)
class CropConfig:
    """The window around an object's guidance mask (shared by training and tracking)."""

    size: int = 160
    """Crop side (px) the window is resampled to; a multiple of the networks' stride."""
    margin: float = 0.4
    """Context added on each side, as a fraction of the guidance box's longer side."""
    min_side: float = 32.0
    """Smallest window side (frame px), for tiny objects."""


@dataclass(frozen=True)
class JitterConfig:
    """Random changes of the training window, so the networks tolerate an imperfect guidance box."""

    shift: float = 0.1
    """Maximum shift of the centre, as a fraction of the window side."""
    scale: tuple[float, float] = (0.8, 1.25)
    """Range of the window side's scale factor."""
    flip_p: float = 0.5
    """Probability of a horizontal flip."""
    cut_p: float = 0.3
    """Probability of cutting the guidance along a random line (keeping at least a third of it), so that the
    networks learn to recover an object whose previous mask was partly lost (occlusion, a bad frame)."""
    erode_p: float = 0.5
    """Probability of eroding the guidance by 1 to ``erode_radius`` px. The dreamed previous masks are dilated, so
    without it the networks may learn to shrink the guidance, an error that compounds frame after frame."""
    erode_radius: int = 5


def cut_mask(mask: np.ndarray, rng: np.random.Generator, keep: float = 1 / 3) -> np.ndarray:
    """``mask`` (``bool (H, W)``) minus the side of a random line through one of its pixels; the largest such part
    with at least ``keep`` of the mask is returned, or ``mask`` itself after a few failed draws."""
    ys, xs = np.nonzero(mask)
    for _ in range(5):
        i = int(rng.integers(xs.size))
        angle = rng.uniform(0, 2 * np.pi)
        side = (xs - xs[i]) * np.cos(angle) + (ys - ys[i]) * np.sin(angle) >= 0
        if side.sum() >= keep * xs.size:
            cut = np.zeros_like(mask)
            cut[ys[side], xs[side]] = True
            return cut
    return mask


class CropSamples(Dataset):
    """Item ``i`` is one random object crop drawn from ``SeedSequence([seed, i])``: reproducible in any order, with
    any number of DataLoader workers, and on resume.

    Each item: ``appearance float32 (4, S, S)``, ``motion float32 (C, S, S)``, ``target float32 (1, S, S)`` (1 on
    the object), ``weight float32 (1, S, S)`` (0 on void pixels). With a ``reference`` (the annotated frame and its
    labels, ``uint8 (H, W, 3)`` and ``(H, W)``), the appearance input has the 8 channels of
    :func:`~segmenters.lucid.inputs.matching_inputs` more: the reference cropped around the object, and the pair's
    other frame — the previous frame — in the same window with the object's simulated previous mask there (deformed
    and dilated like the guidance: when tracking, the previous frame's mask is a prediction).
    """

    def __init__(
        self,
        pairs: Sequence[TrainingPair],
        crop_cfg: CropConfig,
        jitter: JitterConfig,
        direction: bool,
        seed: int,
        length: int,
        reference: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        if len(pairs) == 0:
            raise InputError("pairs", "no dreamed pair to train on", "at least one pair")
        self.pairs, self.crop_cfg, self.jitter, self.direction = pairs, crop_cfg, jitter, direction
        self.seed, self.length, self.reference = seed, length, reference

    def __len__(self) -> int:
        return self.length

    def _draw(self, rng: np.random.Generator) -> tuple[TrainingPair, int, int]:
        """A pair, a frame of it and an object whose previous mask is drawn there."""
        for _ in range(100):
            pair = self.pairs[int(rng.integers(len(self.pairs)))]
            frame = int(rng.integers(2))
            ids = [i for i in np.unique(pair.prev[frame]).tolist() if i not in (0, VOID)]
            if ids:
                return pair, frame, int(rng.choice(ids))
        raise InputError("pairs", "no dreamed frame shows an object's previous mask", "dreams with objects in view")

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, index]))
        pair, frame, object_id = self._draw(rng)
        guidance = pair.prev[frame] == object_id
        if rng.random() < self.jitter.cut_p:
            guidance = cut_mask(guidance, rng)
        if rng.random() < self.jitter.erode_p:
            eroded = erode(guidance, int(rng.integers(1, self.jitter.erode_radius + 1)))
            guidance = eroded if eroded.any() else guidance
        base = mask_window(guidance, self.crop_cfg.margin, self.crop_cfg.min_side)
        assert base is not None  # the object was drawn among those with a previous mask
        side = base.side * float(rng.uniform(*self.jitter.scale))
        shift = rng.uniform(-self.jitter.shift, self.jitter.shift, size=2) * side
        window = Window(cx=base.cx + shift[0], cy=base.cy + shift[1], side=side)
        size = self.crop_cfg.size
        image, flow = pair.images[frame], pair.flows[frame].astype(np.float32)
        appearance, motion = network_inputs(image, flow, guidance, window, size, self.direction)
        if self.reference is not None:
            other = 1 - frame
            # The other frame's simulated previous mask, not its true one: when tracking, the previous frame's mask is
            # a prediction, with its errors.
            context = MatchingContext(*self.reference, pair.images[other], pair.prev[other])
            matching = matching_inputs(context, object_id, window, size, self.crop_cfg.margin, self.crop_cfg.min_side)
            appearance = np.concatenate([appearance, matching])
        labels = crop(pair.labels[frame], window, size, cv2.INTER_NEAREST)
        target = (labels == object_id).astype(np.float32)[None]
        weight = (labels != VOID).astype(np.float32)[None]
        if rng.random() < self.jitter.flip_p:
            appearance, motion, target, weight = (np.flip(a, axis=-1) for a in (appearance, motion, target, weight))
            if self.direction:
                motion = motion.copy()
                motion[1] = -motion[1]  # dx changes sign under a horizontal flip
        return {
            "appearance": torch.from_numpy(np.ascontiguousarray(appearance)),
            "motion": torch.from_numpy(np.ascontiguousarray(motion)),
            "target": torch.from_numpy(np.ascontiguousarray(target)),
            "weight": torch.from_numpy(np.ascontiguousarray(weight)),
        }
