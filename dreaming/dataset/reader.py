"""Reading a dreamed video back for training: a torch ``Dataset`` of frame pairs.

Each item is one pair ``a → b`` as a dict of tensors (``2`` indexes the frames a, b):

* ``image``: ``float32 (2, 3, H, W)``, RGB in [0, 1];
* ``labels``: ``int64 (2, H, W)``, object ids (0 background, 255 void);
* ``prev``: ``int64 (2, H, W)``, the simulated previous-frame masks;
* ``flow``: ``float32 (2, 2, H, W)``, ``flow[0]`` from a to b and ``flow[1]`` from b to a, channels ``(dx, dy)``
  in pixels of the returned size;
* ``valid``: ``bool (2, H, W)``: the pixel is seen in the other frame (and, after a crop, lands inside it);
* ``index``: the pair's position in the dataset.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from dreaming.dataset.formats import decode_image, decode_labels, read_flow
from dreaming.dataset.manifest import MANIFEST, Manifest
from dreaming.dataset.writer import pair_files
from foundation.errors import InputError


def resize_pair(
    images: np.ndarray, labels: np.ndarray, flows: np.ndarray, valid: np.ndarray, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Resize a pair's arrays to ``size = (H, W)``.

    Images ``(2, H, W, 3)`` are resampled bilinearly (area when shrinking); label maps ``(K, H, W)``, flows
    ``(2, H, W, 2)`` and validity ``(2, H, W)`` take the nearest pixel (no mixed ids, no motion averaged across
    an object boundary); flow components are scaled by the change of width (dx) and height (dy).
    """
    height, width = size
    old_h, old_w = images.shape[1:3]
    smooth = cv2.INTER_AREA if height * width < old_h * old_w else cv2.INTER_LINEAR

    def each(arrays: np.ndarray, interpolation: int) -> np.ndarray:
        return np.stack([cv2.resize(a, (width, height), interpolation=interpolation) for a in arrays])

    flows = each(flows, cv2.INTER_NEAREST) * np.array([width / old_w, height / old_h], np.float32)
    return (
        each(images, smooth),
        each(labels.astype(np.uint8), cv2.INTER_NEAREST).astype(labels.dtype),
        flows,
        each(valid.astype(np.uint8), cv2.INTER_NEAREST).astype(bool),
    )


def crop_pair(
    images: np.ndarray, labels: np.ndarray, flows: np.ndarray, valid: np.ndarray, box: tuple[int, int, int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Crop both frames of a pair to ``box = (x, y, w, h)``.

    One window for both frames keeps the flow vectors unchanged; a pixel whose flow leaves the window becomes
    invalid, since its match is no longer in the other (cropped) frame.
    """
    x, y, w, h = box
    window = np.s_[..., y : y + h, x : x + w]
    images, labels = images[:, y : y + h, x : x + w], labels[window]
    flows, valid = flows[:, y : y + h, x : x + w], valid[window]
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    tx, ty = gx + flows[..., 0], gy + flows[..., 1]
    inside = (tx >= 0) & (tx <= w - 1) & (ty >= 0) & (ty <= h - 1)
    return images, labels, flows, valid & inside


class DreamDataset(Dataset):
    """The pairs of one dreamed video (``<root>/<video>/``), optionally resized and randomly cropped.

    Args:
        root: the ``lucid-dream`` output folder.
        video: the video's name (its sub-folder).
        size: resize every frame to ``(H, W)`` first.
        crop: then take a random ``(H, W)`` window (the same for both frames of a pair).
        seed: crops are drawn from ``SeedSequence([seed, epoch, index])``: reproducible, and the same whatever the
            number of DataLoader workers. Call :meth:`set_epoch` to draw new crops each epoch.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        video: str,
        size: tuple[int, int] | None = None,
        crop: tuple[int, int] | None = None,
        seed: int = 0,
    ) -> None:
        self.folder = Path(root) / video
        manifest = Manifest.load(self.folder / MANIFEST)
        if not manifest.complete:
            raise InputError(self.folder, "the dataset is incomplete", "a finished lucid-dream run (rerun it)")
        flow_format = manifest.identity["formats"]["flow"]
        pairs, frames = manifest.identity["pairs"], [s["frame"] for s in manifest.identity["sources"]]
        self.files = [pair_files(frame, index, flow_format) for frame in frames for index in range(pairs)]
        self.size = None if size is None else (int(size[0]), int(size[1]))
        self.crop = None if crop is None else (int(crop[0]), int(crop[1]))
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Use the crops of ``epoch`` (as ``DistributedSampler.set_epoch``)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.files)

    def read(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Pair ``index`` at full size: images ``uint8 (2, H, W, 3)``, labels and previous masks
        ``int32 (4, H, W)`` (labels a, b, prev a, b), flows ``float32 (2, H, W, 2)``, validity ``bool (2, H, W)``.
        """
        files = {role: self.folder / name for role, name in self.files[index].items()}
        images = np.stack([decode_image(files[r].read_bytes(), files[r]) for r in ("image_a", "image_b")])
        roles = ("labels_a", "labels_b", "prev_a", "prev_b")
        labels = np.stack([decode_labels(files[r].read_bytes(), files[r]) for r in roles])
        flows, valid = zip(*(read_flow(files[r]) for r in ("flow_ab", "flow_ba")), strict=True)
        return images, labels, np.stack(flows), np.stack(valid)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if not 0 <= index < len(self):
            raise IndexError(f"pair {index} of a dataset of {len(self)}")
        images, labels, flows, valid = self.read(index)
        if self.size is not None:
            images, labels, flows, valid = resize_pair(images, labels, flows, valid, self.size)
        if self.crop is not None:
            height, width = images.shape[1:3]
            h, w = self.crop
            if h > height or w > width:
                raise InputError("crop", f"{h}x{w} window on {height}x{width} frames", "a window inside the frame")
            rng = np.random.default_rng(np.random.SeedSequence([self.seed, self.epoch, index]))
            x, y = int(rng.integers(width - w + 1)), int(rng.integers(height - h + 1))
            images, labels, flows, valid = crop_pair(images, labels, flows, valid, (x, y, w, h))
        return {
            "image": torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2))).float().div_(255),
            "labels": torch.from_numpy(labels[:2].astype(np.int64)),
            "prev": torch.from_numpy(labels[2:].astype(np.int64)),
            "flow": torch.from_numpy(np.ascontiguousarray(flows.transpose(0, 3, 1, 2))),
            "valid": torch.from_numpy(np.ascontiguousarray(valid)),
            "index": torch.tensor(index),
        }
