"""The per-video embedding: its working size, nearest-neighbour loss, training samples, training and the reference
banks it matches frames against."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.utils.data import default_collate

from dreaming.synthesis.samples import Clip
from foundation.errors import InputError
from segmenters.matching.embedding import (
    EmbeddingConfig,
    EmbeddingSamples,
    ReferenceMatcher,
    build_embedding,
    nearest_neighbour_loss,
    resize_labels,
    working_size,
)
from segmenters.training import TrainConfig, train

TINY = EmbeddingConfig(widths=(4, 8), dim=4, side=64)


@pytest.mark.parametrize(
    ("shape", "side", "stride"),
    [((80, 128), 64, 4), ((136, 240), 192, 4), ((480, 854), 192, 8), ((300, 100), 96, 4), ((50, 50), 64, 4)],
)
def test_working_size_is_a_multiple_of_the_stride_keeping_the_aspect(shape, side, stride) -> None:
    height, width = working_size(shape, side, stride)
    assert height % stride == 0 and width % stride == 0
    assert abs(max(height, width) - side) <= stride / 2  # the longer side is ~side
    assert abs(height / width - shape[0] / shape[1]) <= stride / min(height, width)  # up to the rounding
    assert (height >= width) == (shape[0] >= shape[1])


def test_working_size_never_collapses_a_thin_frame() -> None:
    assert working_size((4, 1000), 64, 4) == (4, 64)


def class_embeddings(labels: torch.Tensor, vectors: torch.Tensor) -> torch.Tensor:
    """``(B, 2, h, w)`` ids → ``(B, 2 * C, h, w)``: each pixel embedded as its class's row of ``vectors (K, C)``."""
    a, b = vectors[labels[:, 0].long()], vectors[labels[:, 1].long()]  # (B, h, w, C)
    return torch.cat([a.permute(0, 3, 1, 2), b.permute(0, 3, 1, 2)], dim=1)


def two_frames(height: int = 16, width: int = 16) -> torch.Tensor:
    """``(1, 2, h, w)`` ids: background, a large object 1 and a small object 2 that moved between a and b."""
    labels = torch.zeros(1, 2, height, width)
    labels[0, 0, 0:8, 0:12] = 1
    labels[0, 1, 4:12, 4:16] = 1
    labels[0, 0, 12:16, 12:16] = 2
    labels[0, 1, 12:16, 0:4] = 2
    return labels


def test_loss_is_near_0_for_one_hot_embeddings_and_large_for_random_ones() -> None:
    target = two_frames()
    weight = torch.ones_like(target)
    one_hot = class_embeddings(target, 10.0 * torch.eye(3))
    assert nearest_neighbour_loss(one_hot, target, weight) < 0.05
    generator = torch.Generator().manual_seed(0)
    random = torch.randn(1, 6, 16, 16, generator=generator)
    assert nearest_neighbour_loss(random, target, weight) > 0.3


@pytest.mark.parametrize(("classes", "squared"), [(2, 1.0), (3, 1.0), (3, 4.0)])
def test_loss_of_constant_class_embeddings_is_the_hand_computed_cross_entropy(classes: int, squared: float) -> None:
    """Each class embedded as one vector, all pairwise squared distances ``d``: every pixel's logits are 0 for its
    class and ``−d`` for the others, so the loss is ``log(1 + (K − 1) e^{−d})`` whatever the classes' areas
    (classes count equally)."""
    target = two_frames()
    if classes == 2:
        target = target.clamp_max(1)
    vectors = math.sqrt(squared / 2) * torch.eye(classes)
    loss = nearest_neighbour_loss(class_embeddings(target, vectors), target, torch.ones_like(target))
    assert loss.item() == pytest.approx(math.log(1 + (classes - 1) * math.exp(-squared)), rel=1e-5)


def test_loss_ignores_void_pixels() -> None:
    generator = torch.Generator().manual_seed(1)
    target = two_frames()
    output = torch.randn(1, 8, 16, 16, generator=generator)
    weight = torch.ones_like(target)
    weight[0, 0, 0:8, 0:8] = 0  # void in frame a (on the loss grid: rows and columns 0 and 4)
    weight[0, 1, 8:16, 8:16] = 0  # and in frame b
    changed = output.clone()
    changed[0, :4, 0:8, 0:8] = torch.randn(4, 8, 8, generator=generator) * 5
    changed[0, 4:, 8:16, 8:16] = torch.randn(4, 8, 8, generator=generator) * 5
    relabelled = target.clone()
    relabelled[0, 0, 0:8, 0:8] = 2
    base = nearest_neighbour_loss(output, target, weight)
    assert nearest_neighbour_loss(changed, relabelled, weight).item() == pytest.approx(base.item(), rel=1e-6)
    # The same change counts where the pixels are not void.
    assert nearest_neighbour_loss(changed, target, torch.ones_like(target)) != pytest.approx(
        nearest_neighbour_loss(output, target, torch.ones_like(target)).item(), rel=1e-3
    )


def test_loss_only_reads_pixels_on_the_stride_grid_and_is_symmetric_in_the_frames() -> None:
    generator = torch.Generator().manual_seed(2)
    target, weight = two_frames(), torch.ones(1, 2, 16, 16)
    output = torch.randn(1, 8, 16, 16, generator=generator)
    off_grid = output.clone()
    off_grid[:, :, 1::4, :] = 100.0  # rows 1, 5, 9, 13: never sampled at stride 4
    base = nearest_neighbour_loss(output, target, weight)
    assert nearest_neighbour_loss(off_grid, target, weight).item() == pytest.approx(base.item(), rel=1e-6)
    swapped = torch.cat([output[:, 4:], output[:, :4]], dim=1)
    assert nearest_neighbour_loss(swapped, target.flip(1), weight).item() == pytest.approx(base.item(), rel=1e-5)


def test_loss_is_0_with_a_gradient_when_a_frame_shows_one_class_only() -> None:
    output = torch.randn(2, 8, 16, 16, requires_grad=True)
    target = torch.zeros(2, 2, 16, 16)
    loss = nearest_neighbour_loss(output, target, torch.ones_like(target))
    assert loss.item() == 0.0
    loss.backward()
    assert output.grad is not None and (output.grad == 0).all()


def test_loss_gradient_flows_to_the_embeddings() -> None:
    generator = torch.Generator().manual_seed(3)
    output = torch.randn(2, 8, 16, 16, generator=generator).requires_grad_(True)
    target = torch.cat([two_frames(), two_frames().flip(-1)])
    loss = nearest_neighbour_loss(output, target, torch.ones_like(target))
    loss.backward()
    assert torch.isfinite(output.grad).all() and output.grad.abs().sum() > 0
    assert (output.grad[:, :, 1::4] == 0).all()  # pixels off the stride grid take no part


def test_samples_have_the_documented_shapes_and_are_reproducible(pairs: list) -> None:
    samples = EmbeddingSamples(pairs, TINY, seed=3, length=10)
    again = EmbeddingSamples(pairs, TINY, seed=3, length=10)
    size = working_size(pairs[0].images.shape[1:3], TINY.side)
    assert size == (40, 64)  # 128x80 pairs
    ids = {float(i) for pair in pairs for i in np.unique(pair.labels)}
    for index in (0, 4, 9):
        item, same = samples[index], again[index]
        assert set(item) == {"matching", "target", "weight"}  # the input is named like the network
        assert all(torch.equal(item[k], same[k]) for k in item)
        assert item["matching"].shape == (6, *size) and item["matching"].dtype == torch.float32
        assert item["target"].shape == (2, *size) and item["target"].dtype == torch.float32
        assert item["weight"].shape == (2, *size) and item["weight"].dtype == torch.float32
        assert set(torch.unique(item["target"]).tolist()) <= ids
        assert set(torch.unique(item["weight"]).tolist()) <= {0.0, 1.0}
    other = EmbeddingSamples(pairs, TINY, seed=4, length=10)
    assert any(not torch.equal(other[i]["matching"], samples[i]["matching"]) for i in range(3))
    with pytest.raises(InputError, match="no dreamed pair"):
        EmbeddingSamples([], TINY, seed=0, length=1)


def held_out_loss(net: torch.nn.Module, samples: EmbeddingSamples) -> float:
    batch = default_collate([samples[i] for i in range(len(samples))])
    net.eval()
    with torch.no_grad():
        return float(nearest_neighbour_loss(net(batch["matching"]), batch["target"], batch["weight"]))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_training_lowers_the_loss_on_held_out_pairs(pairs: list, seed: int) -> None:
    """The per-step training loss is too noisy over a few steps (pairs show 2 or 3 classes: log 2 vs log 3), so the
    loss is measured on a fixed batch of 8 other samples before and after 60 steps."""
    torch.manual_seed(seed)
    net = build_embedding(TINY)
    held_out = EmbeddingSamples(pairs, TINY, seed=100, length=8)
    before = held_out_loss(net, held_out)
    samples = EmbeddingSamples(pairs, TINY, seed=seed, length=60 * 2)
    steps = TrainConfig(steps=60, batch_size=2, lr=TINY.lr)
    losses = train({"matching": net}, samples, steps, torch.device("cpu"), None, False, None, nearest_neighbour_loss)
    assert len(losses) == 60 and np.isfinite(losses).all()
    assert held_out_loss(net, held_out) < 0.9 * before


def test_reference_banks_hold_each_object_and_the_background_within_the_limits(embedded: Clip) -> None:
    image, labels = embedded.frames[0], embedded.labels[0]
    ids = [1, 2, 3]
    for cfg, limit in (
        (EmbeddingConfig(widths=(4, 8), dim=4, side=64, bank=128, bank_total=400), 100),  # bank_total / 4 classes
        (EmbeddingConfig(widths=(4, 8), dim=4, side=64, bank=80, bank_total=16384), 80),  # bank
    ):
        torch.manual_seed(0)
        matcher = ReferenceMatcher.from_frame(build_embedding(cfg).net, cfg, image, labels, torch.device("cpu"))
        embedding = matcher.embed(image)
        assert embedding.shape == (cfg.dim, 36, 64)  # 240x136 at side 64
        small = torch.from_numpy(resize_labels(labels, embedding.shape[1:]).astype(np.int64))
        assert sorted(matcher.banks) == [0, *ids]
        for object_id, bank in matcher.banks.items():
            pixels = int((small == object_id).sum())
            assert bank.shape == (min(limit, pixels), cfg.dim)
            assert bank.shape[0] <= cfg.bank
            # Every bank row is the embedding of one of the object's pixels.
            own = embedding.flatten(1).T[small.flatten() == object_id]
            assert all(bool((own == row).all(1).any()) for row in bank)
        assert sum(bank.shape[0] for bank in matcher.banks.values()) <= cfg.bank_total
        distances = matcher.distances(embedding, ids)
        assert distances.shape == (1 + len(ids), 36, 64)
        assert float(distances.min()) >= 0.0 and float(distances.max()) <= 1.0
        for k, object_id in enumerate((0, *ids)):
            assert float(distances[k][small == object_id].min()) < 1e-5  # bank pixels match themselves
        assert torch.equal(matcher.distances(embedding, [7])[1], torch.ones(36, 64))  # no bank: 1 everywhere
