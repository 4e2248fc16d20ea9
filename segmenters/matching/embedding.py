"""A per-video pixel embedding learnt on the dreams, and the matching maps it gives at tracking time.

The network (a U-Net with ``dim`` output channels) embeds a frame resized so that its longer side is ``side`` px.
It is trained on dreamed pairs with a nearest-neighbour classification loss: each pixel of one frame of the pair
should lie closer to the nearest pixel of its own object (or of the background) in the other frame than to any
other object's (FEELVOS's global matching used as a classifier; the dreams give the two frames' labels exactly).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import Dataset

from foundation.errors import InputError
from foundation.io import VOID
from segmenters.lucid.samples import TrainingPair
from segmenters.matching.functional import global_matching, local_matching, pixel_bank, squared_distances
from segmenters.networks import UNet, UNetConfig, build_unet, image_features
from segmenters.training import predict


@dataclass(frozen=True)
class EmbeddingConfig(UNetConfig):
    """The embedding network, the resolution it sees and its training."""

    enabled: bool = True
    widths: tuple[int, ...] = (16, 32, 64)
    norm: str = "group"
    dim: int = 16
    """Embedding channels."""
    side: int = 192
    """Longer side (px) frames are resized to before embedding; a multiple of the network's stride."""
    stride: int = 4
    """Loss on every ``stride``-th pixel of the embedded frames (both axes)."""
    bank: int = 1024
    """Most reference pixels kept per object (and for the background) for global matching."""
    bank_total: int = 16384
    """Most reference pixels over all objects: with many objects each keeps fewer (the cost of matching a frame
    grows with the total)."""
    steps: int = 300
    batch_size: int = 4
    lr: float = 0.002


def working_size(shape: tuple[int, int], side: int, stride: int = 4) -> tuple[int, int]:
    """``(h, w)`` of a frame of ``shape = (H, W)`` resized to a longer side of ``side``, both multiples of
    ``stride``."""
    height, width = shape
    scale = side / max(height, width)
    return (max(stride, round(height * scale / stride) * stride), max(stride, round(width * scale / stride) * stride))


def resize_labels(labels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``(H, W)`` ids → ``(h, w)`` by nearest neighbour."""
    return cv2.resize(labels.astype(np.uint8), (size[1], size[0]), interpolation=cv2.INTER_NEAREST)


def frame_input(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``uint8 (H, W, 3)`` → ``float32 (3, h, w)`` network input at the working size."""
    return image_features(cv2.resize(image, (size[1], size[0]), interpolation=cv2.INTER_AREA))


class PairEmbedding(nn.Module):
    """Embeds the two frames of a pair stacked on the channels: ``(B, 6, h, w)`` → ``(B, 2 * dim, h, w)``."""

    def __init__(self, net: UNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, pair: torch.Tensor) -> torch.Tensor:
        both = torch.cat([pair[:, :3], pair[:, 3:]])
        a, b = self.net(both).chunk(2)
        return torch.cat([a, b], dim=1)


def nearest_neighbour_loss(
    output: torch.Tensor, target: torch.Tensor, weight: torch.Tensor, stride: int = 4
) -> torch.Tensor:
    """Cross-entropy of classifying each pixel of one frame by its nearest pixel per class in the other, both ways.

    Args:
        output: ``(B, 2 * C, h, w)`` embeddings of frames a and b (:class:`PairEmbedding`).
        target: ``(B, 2, h, w)`` ids of a and b (float).
        weight: ``(B, 2, h, w)``: 0 on void pixels.
        stride: pixels on a grid of this step take part.

    Classes are weighted equally (a small object counts as much as the background).
    """
    channels = output.shape[1] // 2
    emb = output[:, :, ::stride, ::stride]
    labels = target[:, :, ::stride, ::stride].long()
    valid = weight[:, :, ::stride, ::stride] > 0
    losses = []
    for item in range(output.shape[0]):
        frames = [emb[item, :channels].flatten(1).T, emb[item, channels:].flatten(1).T]
        ids = [labels[item, k].flatten() for k in (0, 1)]
        keep = [valid[item, k].flatten() for k in (0, 1)]
        for query, reference in ((0, 1), (1, 0)):
            q, q_ids = frames[query][keep[query]], ids[query][keep[query]]
            r, r_ids = frames[reference][keep[reference]], ids[reference][keep[reference]]
            classes = torch.unique(r_ids)
            if classes.numel() < 2:
                continue
            distances = squared_distances(q, r)
            nearest = torch.stack([distances[:, r_ids == c].amin(1) for c in classes], dim=1)  # (Q, classes)
            known = (q_ids[:, None] == classes[None]).any(1)
            if not known.any():
                continue
            target_class = (q_ids[known, None] == classes[None]).float().argmax(1)
            counts = torch.bincount(target_class, minlength=classes.numel()).float()
            per_pixel = F.cross_entropy(-nearest[known], target_class, reduction="none")
            losses.append((per_pixel / counts[target_class]).sum() / (counts > 0).sum())
    if not losses:
        return output.sum() * 0.0
    return torch.stack(losses).mean()


class EmbeddingSamples(Dataset):
    """Item ``i``: one dreamed pair at the working size, drawn from ``SeedSequence([seed, i, 5])`` — ``matching
    float32 (6, h, w)``, ``target float32 (2, h, w)`` ids, ``weight float32 (2, h, w)``; flipped half of the time."""

    def __init__(self, pairs: Sequence[TrainingPair], cfg: EmbeddingConfig, seed: int, length: int) -> None:
        if len(pairs) == 0:
            raise InputError("pairs", "no dreamed pair to train on", "at least one pair")
        self.pairs, self.cfg, self.seed, self.length = pairs, cfg, seed, length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, index, 5]))
        pair = self.pairs[int(rng.integers(len(self.pairs)))]
        size = working_size(pair.images.shape[1:3], self.cfg.side)
        inputs = np.concatenate([frame_input(image, size) for image in pair.images])
        labels = np.stack([resize_labels(label, size) for label in pair.labels])
        weight = (labels != VOID).astype(np.float32)
        target = np.where(labels == VOID, 0, labels).astype(np.float32)
        if rng.random() < 0.5:
            inputs, target, weight = (np.ascontiguousarray(a[..., ::-1]) for a in (inputs, target, weight))
        return {
            "matching": torch.from_numpy(inputs),
            "target": torch.from_numpy(target),
            "weight": torch.from_numpy(weight),
        }


def build_embedding(cfg: EmbeddingConfig) -> PairEmbedding:
    """A randomly initialised embedding network (seeded by torch's global generator)."""
    return PairEmbedding(build_unet(cfg, 3, cfg.dim))


@dataclass
class ReferenceMatcher:
    """Global matching against an annotated frame: per object and for the background, a bank of embeddings.

    Attributes:
        net: the embedding network (in evaluation mode).
        cfg: its settings.
        banks: ``{id: (N, C)}``, id 0 for the background.
        device, precision: where and how it runs.
    """

    net: UNet
    cfg: EmbeddingConfig
    banks: dict[int, torch.Tensor]
    device: torch.device
    precision: torch.dtype | None = None

    @classmethod
    def from_frame(
        cls,
        net: UNet,
        cfg: EmbeddingConfig,
        image: np.ndarray,
        labels: np.ndarray,
        device: torch.device,
        precision: torch.dtype | None = None,
    ) -> ReferenceMatcher:
        """Banks of the objects of ``labels`` (``(H, W)`` ids) and the background in ``image``."""
        matcher = cls(net.to(device).eval(), cfg, {}, device, precision)
        embedding = matcher.embed(image)
        small = torch.from_numpy(resize_labels(labels, embedding.shape[1:]).astype(np.int64)).to(device)
        present = [i for i in torch.unique(small).tolist() if i != VOID]
        limit = max(1, min(cfg.bank, cfg.bank_total // len(present)))
        for object_id in present:
            matcher.banks[int(object_id)] = pixel_bank(embedding, small == object_id, limit)
        matcher.banks.setdefault(0, embedding.new_zeros((0, cfg.dim)))
        return matcher

    def embed(self, image: np.ndarray) -> torch.Tensor:
        """``uint8 (H, W, 3)`` → ``float32 (C, h, w)`` at the working size."""
        size = working_size(image.shape[:2], self.cfg.side)
        inputs = torch.from_numpy(frame_input(image, size))[None]
        return predict(self.net, inputs, self.device, self.precision)[0]

    def distances(self, embedding: torch.Tensor, ids: Sequence[int]) -> torch.Tensor:
        """``(1 + len(ids), h, w)`` global matching distances: background first, then each object of ``ids``."""
        return torch.stack(
            [global_matching(embedding, self.banks.get(i, embedding.new_zeros((0, self.cfg.dim)))) for i in (0, *ids)]
        )

    def local_distances(
        self,
        embedding: torch.Tensor,
        previous: torch.Tensor,
        previous_labels: np.ndarray,
        ids: Sequence[int],
        radius: int = 7,
    ) -> torch.Tensor:
        """``(len(ids), h, w)`` local matching distances (:func:`~segmenters.matching.functional.local_matching`)
        to each object's pixels in the previous frame (``previous``: its embedding; ``previous_labels``: its ids at
        the working size), computed in the object's box grown by the window (1 elsewhere). Window: ``2 * radius +
        1`` embedding pixels on a side (FEELVOS: 15 at stride 4; an embedding pixel is ~4 frame pixels at 480p)."""
        height, width = embedding.shape[1:]
        out = embedding.new_ones((len(ids), height, width))
        for k, object_id in enumerate(ids):
            ys, xs = np.nonzero(previous_labels == object_id)
            if xs.size == 0:
                continue
            y0, y1 = max(int(ys.min()) - radius, 0), min(int(ys.max()) + radius + 1, height)
            x0, x1 = max(int(xs.min()) - radius, 0), min(int(xs.max()) + radius + 1, width)
            mask = torch.from_numpy(previous_labels[y0:y1, x0:x1] == object_id).to(embedding.device)
            out[k, y0:y1, x0:x1] = local_matching(embedding[:, y0:y1, x0:x1], previous[:, y0:y1, x0:x1], mask, radius)
        return out
