"""Training samples of the one-shot baseline: standard augmentations of the annotated frame, nothing dreamed.

Each sample is the frame (already at the working resolution) flipped, scaled, rotated and colour-jittered by
albumentations, then cut to a ``crop_size`` square that, with probability ``object_crop_p``, is placed on an object
pixel (otherwise anywhere). Pixels that come from outside the frame (the affine border, padding of small frames)
are void: weight 0.
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from foundation.errors import InputError
from foundation.io import VOID, object_ids
from segmenters.networks import image_features

# albumentations asks PyPI for a newer version on import unless told not to: no network calls from a tracker.
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
import albumentations as A


@dataclass(frozen=True)
class AugmentConfig:
    """The augmentations of the annotated frame."""

    crop_size: int = 128
    """Side (px) of the training crops; a multiple of the network's stride."""
    flip_p: float = 0.5
    """Probability of a horizontal flip."""
    scale: tuple[float, float] = (0.75, 1.25)
    """Range of the zoom factor (about the frame centre)."""
    rotate: float = 20.0
    """Rotations are drawn in ``[-rotate, rotate]`` degrees."""
    color_p: float = 0.8
    """Probability of a colour jitter."""
    brightness: float = 0.3
    """Brightness, contrast and saturation factors are drawn in ``[1 - x, 1 + x]``."""
    contrast: float = 0.3
    saturation: float = 0.3
    hue: float = 0.03
    """Hue shift range, as a fraction of the hue circle."""
    object_crop_p: float = 0.5
    """Probability that a crop is centred near an object pixel (otherwise it is placed uniformly)."""


def class_map(labels: np.ndarray, ids: Sequence[int]) -> np.ndarray:
    """``int (H, W)`` object ids → ``uint8 (H, W)`` class indices: 0 background, ``k`` for ``ids[k - 1]``,
    :data:`~foundation.io.VOID` kept; any other id becomes background."""
    if len(ids) >= VOID:
        raise InputError("labels", f"{len(ids)} objects", f"at most {VOID - 1}")
    classes = np.zeros(labels.shape, np.uint8)
    for k, object_id in enumerate(ids, start=1):
        classes[labels == object_id] = k
    classes[labels == VOID] = VOID
    return classes


def augmentation(cfg: AugmentConfig) -> A.Compose:
    """The albumentations pipeline: ``image`` uint8 RGB and ``mask`` uint8 class indices (``VOID`` ignored) →
    ``crop_size`` square crops; pixels from outside the frame are ``0`` in the image and ``VOID`` in the mask."""
    size = cfg.crop_size
    outside = {"border_mode": cv2.BORDER_CONSTANT, "fill": 0, "fill_mask": VOID}
    return A.Compose(
        [
            A.HorizontalFlip(p=cfg.flip_p),
            A.Affine(scale=cfg.scale, rotate=(-cfg.rotate, cfg.rotate), p=1.0, **outside),
            A.ColorJitter(
                brightness=cfg.brightness, contrast=cfg.contrast, saturation=cfg.saturation, hue=cfg.hue, p=cfg.color_p
            ),
            A.PadIfNeeded(min_height=size, min_width=size, **outside),
            A.OneOf(
                [
                    A.CropNonEmptyMaskIfExists(height=size, width=size, ignore_values=[VOID], p=cfg.object_crop_p),
                    A.RandomCrop(height=size, width=size, p=1.0 - cfg.object_crop_p),
                ],
                p=1.0,
            ),
        ]
    )


class OneShotSamples(Dataset):
    """Augmented crops of one annotated frame. Item ``i`` is drawn from ``SeedSequence([seed, i])`` alone:
    reproducible in any order and with any number of DataLoader workers.

    Args:
        image: ``uint8 (H, W, 3)`` RGB frame at the working resolution.
        labels: ``int (H, W)`` object ids (0 background, :data:`~foundation.io.VOID` ignored).
        cfg: the augmentations.
        seed: the samples' seed.
        length: number of items.

    Each item: ``appearance float32 (3, S, S)`` (:func:`~segmenters.networks.image_features`), ``target int64
    (S, S)`` class indices (0 background, ``k`` the ``k``-th object id in sorted order), ``weight float32 (S, S)``
    (0 on void and outside-the-frame pixels, else 1).
    """

    def __init__(self, image: np.ndarray, labels: np.ndarray, cfg: AugmentConfig, seed: int, length: int) -> None:
        if image.shape[:2] != labels.shape:
            raise InputError("labels", f"shape {labels.shape} for an image of {image.shape[:2]}", "the same size")
        self.ids = object_ids(labels)
        if not self.ids:
            raise InputError("labels", "no object", "at least one object id")
        if not 0.0 <= cfg.object_crop_p <= 1.0:
            raise InputError("augment.object_crop_p", f"{cfg.object_crop_p}", "a probability in [0, 1]")
        self.image, self.classes = np.ascontiguousarray(image), class_map(labels, self.ids)
        self.transform = augmentation(cfg)
        self.seed, self.length = seed, length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if not 0 <= index < self.length:
            raise IndexError(f"sample {index} of {self.length}")
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, index]))
        # One shared stream for all transforms: seeding each alike (Compose(seed=...)) would correlate their draws.
        self.transform.set_random_state(rng, random.Random(int(rng.integers(2**63))))
        out = self.transform(image=self.image, mask=self.classes)
        classes = out["mask"]
        void = classes == VOID
        return {
            "appearance": torch.from_numpy(image_features(out["image"])),
            "target": torch.from_numpy(np.where(void, 0, classes).astype(np.int64)),
            "weight": torch.from_numpy((~void).astype(np.float32)),
        }
