"""Pixel matching functions: the FEELVOS distance map, nearest distances, banks, global and local matching."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from segmenters.matching.functional import (
    dense_global_matching,
    even_subset,
    feelvos_distance,
    global_matching,
    local_matching,
    nearest_distance,
    pixel_bank,
    squared_distances,
    windowed_local_matching,
)


def brute_squared(query: np.ndarray, bank: np.ndarray) -> np.ndarray:
    """``(Q, N)`` squared L2 distances, one pair at a time in float64."""
    return ((query[:, None, :].astype(np.float64) - bank[None, :, :]) ** 2).sum(-1)


def mapped(squared: np.ndarray) -> np.ndarray:
    """The FEELVOS map ``1 − 2 / (1 + exp(d))`` in float64."""
    return 1.0 - 2.0 / (1.0 + np.exp(np.minimum(squared, 60.0)))


def test_feelvos_distance_is_0_at_0_known_at_1_towards_1_far_and_increasing() -> None:
    values = feelvos_distance(torch.tensor([0.0, 1.0, 5.0, 100.0, 1e6]))
    assert values[0] == 0.0
    assert values[1].item() == pytest.approx(1.0 - 2.0 / (1.0 + math.e), rel=1e-6)
    assert values[2].item() == pytest.approx(1.0 - 2.0 / (1.0 + math.exp(5.0)), rel=1e-6)
    assert values[3].item() == pytest.approx(1.0, abs=1e-12) and values[4].item() == pytest.approx(1.0, abs=1e-12)
    assert not torch.isnan(values).any()  # exp is clamped: no overflow to inf / inf
    dense = feelvos_distance(torch.linspace(0.0, 20.0, 201))
    assert (dense.diff() >= 0).all() and ((dense >= 0) & (dense <= 1)).all()
    assert (feelvos_distance(torch.linspace(0.0, 10.0, 101)).diff() > 0).all()  # strictly while exp is resolved


def test_squared_distances_equal_a_brute_force_computation() -> None:
    rng = np.random.default_rng(0)
    query, bank = rng.normal(size=(7, 5)).astype(np.float32), rng.normal(size=(11, 5)).astype(np.float32)
    got = squared_distances(torch.from_numpy(query), torch.from_numpy(bank)).numpy()
    assert got.shape == (7, 11)
    assert np.allclose(got, brute_squared(query, bank), atol=1e-5)
    same = squared_distances(torch.from_numpy(bank), torch.from_numpy(bank))
    assert (same >= 0).all() and torch.diagonal(same).abs().max() < 1e-5  # clamped at 0, ~0 to itself


def test_nearest_distance_in_chunks_equals_unchunked_and_is_inf_for_an_empty_bank() -> None:
    rng = np.random.default_rng(1)
    query = torch.from_numpy(rng.normal(size=(23, 4)))  # float64: chunking changes nothing but the grouping
    bank = torch.from_numpy(rng.normal(size=(9, 4)))
    whole = nearest_distance(query, bank)
    assert whole.shape == (23,)
    assert np.allclose(whole.numpy(), brute_squared(query.numpy(), bank.numpy()).min(1))
    for chunk in (1, 5, 23, 100):
        assert torch.allclose(nearest_distance(query, bank, chunk=chunk), whole, atol=1e-12)
    empty = nearest_distance(query.float(), torch.zeros(0, 4))
    assert empty.shape == (23,) and empty.dtype == torch.float32 and torch.isinf(empty).all()


def test_even_subset_keeps_first_and_last_rows_evenly_and_deterministically() -> None:
    points = torch.arange(100.0)[:, None].repeat(1, 3)
    assert even_subset(points, 100) is points and even_subset(points, 500) is points  # few enough: unchanged
    for limit in (2, 7, 33, 99):
        subset = even_subset(points, limit)
        rows = subset[:, 0]
        assert subset.shape == (limit, 3)
        assert rows[0] == 0 and rows[-1] == 99
        assert (rows.diff() > 0).all()  # distinct rows in their order
        gaps = rows.diff()
        assert gaps.max() - gaps.min() <= 1  # evenly spaced up to rounding
        assert torch.equal(even_subset(points, limit), subset)


def test_pixel_bank_holds_the_embeddings_of_the_masked_pixels() -> None:
    embedding = torch.arange(2 * 3 * 4, dtype=torch.float32).reshape(2, 3, 4)
    mask = torch.zeros(3, 4, dtype=torch.bool)
    mask[1, 2] = mask[2, 0] = True
    bank = pixel_bank(embedding, mask, limit=10)
    assert torch.equal(bank, torch.stack([embedding[:, 1, 2], embedding[:, 2, 0]]))
    assert pixel_bank(embedding, torch.ones(3, 4, dtype=torch.bool), limit=5).shape == (5, 2)


def test_global_matching_is_0_on_the_bank_and_the_mapped_nearest_distance_elsewhere() -> None:
    generator = torch.Generator().manual_seed(0)
    embedding = torch.randn(3, 6, 5, generator=generator)
    mask = torch.zeros(6, 5, dtype=torch.bool)
    mask[1:3, 1:4] = True
    bank = pixel_bank(embedding, mask, limit=100)
    matching = global_matching(embedding, bank)
    assert matching.shape == (6, 5)
    assert matching[mask].abs().max() < 1e-5  # every bank pixel matches itself
    flat = embedding.flatten(1).T.numpy()
    expected = mapped(brute_squared(flat, bank.numpy()).min(1)).reshape(6, 5)
    assert np.allclose(matching.numpy(), expected, atol=1e-5)
    assert torch.allclose(global_matching(embedding, torch.zeros(0, 3)), torch.ones(6, 5))  # empty bank: 1


def brute_local(embedding: np.ndarray, previous: np.ndarray, mask: np.ndarray, radius: int, dilation: int):
    """Each pixel's mapped squared distance to the nearest masked pixel of ``previous`` at offsets
    ``dilation * (-radius..radius)`` on both axes; 1 when there is none."""
    height, width = mask.shape
    out = np.ones((height, width))
    offsets = [dilation * k for k in range(-radius, radius + 1)]
    for y in range(height):
        for x in range(width):
            best = np.inf
            for oy in offsets:
                for ox in offsets:
                    yy, xx = y + oy, x + ox
                    if 0 <= yy < height and 0 <= xx < width and mask[yy, xx]:
                        best = min(best, float(((embedding[:, y, x] - previous[:, yy, xx]) ** 2).sum()))
            out[y, x] = mapped(np.array(best))
    return out


@pytest.mark.parametrize(("radius", "dilation"), [(1, 1), (2, 1), (1, 2), (2, 3)])
def test_local_matching_equals_a_brute_force_window_search(radius: int, dilation: int) -> None:
    rng = np.random.default_rng(radius * 10 + dilation)
    embedding = rng.normal(size=(3, 9, 11)).astype(np.float32)
    previous = rng.normal(size=(3, 9, 11)).astype(np.float32)
    mask = rng.random((9, 11)) < 0.15
    got = local_matching(
        torch.from_numpy(embedding), torch.from_numpy(previous), torch.from_numpy(mask), radius, dilation
    )
    assert got.shape == (9, 11)
    assert np.allclose(got.numpy(), brute_local(embedding, previous, mask, radius, dilation), atol=1e-5)


def test_local_matching_finds_a_masked_pixel_in_the_window_and_gives_1_without_one() -> None:
    embedding = torch.zeros(2, 12, 12)
    previous = torch.zeros(2, 12, 12)
    previous[:, 5, 8] = torch.tensor([1.0, 0.5])  # squared distance 1.25 from every (zero) pixel of the frame
    mask = torch.zeros(12, 12, dtype=torch.bool)
    mask[5, 8] = True
    got = local_matching(embedding, previous, mask, radius=2, dilation=1)
    near = 1.0 - 2.0 / (1.0 + math.exp(1.25))
    assert got[5, 8].item() == pytest.approx(near, rel=1e-6)  # the pixel itself
    assert got[3, 6].item() == pytest.approx(near, rel=1e-6)  # offset (2, 2): the window's corner
    assert got[7, 10].item() == pytest.approx(near, rel=1e-6)
    assert got[5, 5].item() == pytest.approx(1.0)  # 3 columns away: outside a radius-2 window
    assert got[2, 8].item() == pytest.approx(1.0)
    assert int((got < 0.99).sum()) == 25  # exactly the 5x5 window around the masked pixel


def test_local_matching_with_dilation_looks_only_at_the_dilated_grid() -> None:
    embedding = torch.zeros(2, 13, 13)
    previous = torch.zeros(2, 13, 13)
    mask = torch.zeros(13, 13, dtype=torch.bool)
    mask[6, 7] = True  # odd offset (0, 1) from the pixel (6, 6): not on a dilation-2 grid
    previous[:, 6, 7] = torch.tensor([0.0, 0.1])
    assert local_matching(embedding, previous, mask, radius=2, dilation=1)[6, 6].item() < 0.01  # seen undilated
    assert local_matching(embedding, previous, mask, radius=2, dilation=2)[6, 6].item() == pytest.approx(1.0)
    # A farther masked pixel at an even offset (4, 0) is on the grid, within radius * dilation: it is the match.
    mask[10, 6] = True
    previous[:, 10, 6] = torch.tensor([2.0, 0.0])
    dilated = local_matching(embedding, previous, mask, radius=2, dilation=2)
    assert dilated[6, 6].item() == pytest.approx(1.0 - 2.0 / (1.0 + math.exp(4.0)), rel=1e-6)
    assert dilated[6, 7].item() < 0.01  # but (6, 7) still sees its own position (offset 0)


def test_dense_global_matching_equals_global_matching_against_each_masks_pixels() -> None:
    rng = np.random.default_rng(5)
    query = torch.from_numpy(rng.normal(size=(3, 4, 5, 6)).astype(np.float32))
    reference = torch.from_numpy(rng.normal(size=(3, 4, 7, 3)).astype(np.float32))
    masks = torch.from_numpy(rng.random((3, 2, 7, 3)) < 0.3)
    masks[1, 0] = False  # an empty mask: 1 everywhere
    got = dense_global_matching(query, reference, masks)
    assert got.shape == (3, 2, 5, 6)
    for b in range(3):
        for m in range(2):
            bank = reference[b].flatten(1).T[masks[b, m].flatten()]
            assert torch.allclose(got[b, m], global_matching(query[b], bank), atol=1e-5)
    assert torch.equal(got[1, 0], torch.ones(5, 6))


@pytest.mark.parametrize("radius", [1, 2])
def test_windowed_local_matching_equals_local_matching_per_map_and_mask(radius: int) -> None:
    rng = np.random.default_rng(radius)
    query = torch.from_numpy(rng.normal(size=(2, 3, 9, 11)).astype(np.float32))
    previous = torch.from_numpy(rng.normal(size=(2, 3, 9, 11)).astype(np.float32))
    masks = torch.from_numpy(rng.random((2, 2, 9, 11)) < 0.2)
    got = windowed_local_matching(query, previous, masks, radius)
    assert got.shape == (2, 2, 9, 11)
    for b in range(2):
        for m in range(2):
            expected = local_matching(query[b], previous[b], masks[b, m], radius)
            assert torch.allclose(got[b, m], expected, atol=1e-5)


def test_the_matching_of_small_maps_passes_gradients_to_the_nearest_pixels() -> None:
    query = torch.zeros(1, 2, 1, 1, requires_grad=True)
    reference = torch.tensor([[[[1.0, 3.0]], [[0.0, 0.0]]]], requires_grad=True)  # pixels (1, 0) and (3, 0)
    inside = torch.tensor([[[[True, True]]]])
    dense_global_matching(query, reference, inside).sum().backward()
    assert reference.grad is not None and query.grad is not None
    assert reference.grad[0, 0, 0, 0] != 0 and reference.grad[0, 0, 0, 1] == 0  # only the nearest one moves
    assert query.grad[0, 0, 0, 0] < 0  # moving the query towards the nearest pixel (x = 1) lowers the distance
