"""The boundary refiner: the band around an edge, patches covering it, simulated coarse masks, training patches and
the refinement of a probability map."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest
import torch
from torch import nn

from foundation.errors import InputError
from segmenters.lucid.boundary import (
    BoundaryConfig,
    BoundarySamples,
    boundary_band,
    cut_patch,
    ellipse_blob,
    patch_centres,
    refine_boundary,
    refiner_inputs,
    simulate_coarse,
)
from segmenters.lucid.crops import mask_window
from segmenters.lucid.samples import CropConfig, JitterConfig


def square(shape: tuple[int, int] = (40, 50), box: tuple[int, int, int, int] = (10, 30, 12, 38)) -> np.ndarray:
    """``bool shape`` with ``mask[y0:y1, x0:x1]`` set, ``box = (y0, y1, x0, x1)``."""
    mask = np.zeros(shape, bool)
    y0, y1, x0, x1 = box
    mask[y0:y1, x0:x1] = True
    return mask


def distance_to(zero: np.ndarray) -> np.ndarray:
    """Euclidean distance of each pixel to the nearest pixel where ``zero`` is set."""
    return cv2.distanceTransform((~zero).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


@pytest.mark.parametrize("radius", [1, 2, 3, 6])
def test_band_holds_the_pixels_within_radius_of_the_edge_on_both_sides(radius: int) -> None:
    """Exactly the pixels at Euclidean distance ≤ radius from the other side, except a few just outside the square's
    corners, where the digital disk of OpenCV's ellipse differs from the Euclidean one."""
    mask = square()
    band = boundary_band(mask, radius)
    expected = (mask & (distance_to(~mask) <= radius)) | (~mask & (distance_to(mask) <= radius))
    differ = np.argwhere(band ^ expected)
    assert not (band ^ expected)[mask].any()  # inside: exact
    rows_outside = (differ[:, 0] < 10) | (differ[:, 0] >= 30)
    cols_outside = (differ[:, 1] < 12) | (differ[:, 1] >= 38)
    assert (rows_outside & cols_outside).all()  # only diagonally off the corners
    assert len(differ) <= 8
    # Along the sides, away from the corners, the band is the `radius` rows/columns either side of the edge.
    assert band[20, 12 - radius : 12 + radius].all() and not band[20, 12 - radius - 1] and not band[20, 12 + radius]
    assert band[30 - radius : 30 + radius, 25].all() and not band[30 - radius - 1, 25] and not band[30 + radius, 25]


def test_band_is_empty_without_an_edge() -> None:
    assert not boundary_band(np.zeros((20, 20), bool), 3).any()
    # A mask filling the frame has no edge either (outside the frame counts as the mask when eroding).
    assert not boundary_band(np.ones((20, 20), bool), 3).any()


def covered_by_central_half(xs: np.ndarray, ys: np.ndarray, centres: np.ndarray, patch: int) -> np.ndarray:
    """For each pixel, whether its centre lies in the central half (``[P/4, 3P/4]`` on both axes) of a patch of
    :func:`cut_patch` (which starts at ``centre − P // 2``)."""
    x0 = centres[:, 0] - patch // 2
    y0 = centres[:, 1] - patch // 2
    inside_x = (xs[:, None] + 0.5 >= x0 + patch / 4) & (xs[:, None] + 0.5 <= x0 + 3 * patch / 4)
    inside_y = (ys[:, None] + 0.5 >= y0 + patch / 4) & (ys[:, None] + 0.5 <= y0 + 3 * patch / 4)
    return (inside_x & inside_y).any(1)


@pytest.mark.parametrize("patch", [16, 12, 10, 7, 64])
def test_every_band_pixel_lies_in_the_central_half_of_some_patch(patch: int) -> None:
    rng = np.random.default_rng(patch)
    band = rng.random((53, 71)) < 0.02  # scattered pixels, up to the frame's last row and column
    band[52, 70] = band[0, 0] = True
    centres = patch_centres(band, patch)
    assert centres.dtype == np.int64 and centres.shape[1] == 2
    ys, xs = np.nonzero(band)
    assert covered_by_central_half(xs, ys, centres, patch).all()
    # Centres lie on a grid of step patch // 2, each with a band pixel in its central half, none twice.
    step = patch // 2
    assert ((centres - step // 2) % step == 0).all()
    assert len(np.unique(centres, axis=0)) == len(centres)
    for cx, cy in centres:
        assert covered_by_central_half(xs, ys, np.array([[cx, cy]]), patch).any()


def test_band_of_a_square_needs_only_the_patches_along_its_edge() -> None:
    mask = square((128, 128), (40, 88, 40, 88))  # edges in the middle of cells of 16 px
    centres = patch_centres(boundary_band(mask, 3), 32)
    assert len(centres) == 12  # the ring of 4x4 cells along the edges, not the 2x2 inside
    assert len(patch_centres(np.zeros((64, 64), bool), 32)) == 0


def test_cut_patch_copies_the_inside_and_reads_zeros_outside() -> None:
    array = np.arange(1, 1 + 6 * 8, dtype=np.int16).reshape(6, 8)
    patch = cut_patch(array, (1, 1), 4)  # rows and columns -1..2
    assert patch.shape == (4, 4) and patch.dtype == np.int16
    assert (patch[0] == 0).all() and (patch[:, 0] == 0).all()
    assert np.array_equal(patch[1:, 1:], array[0:3, 0:3])
    colour = np.stack([array, -array, 2 * array], axis=-1).astype(np.float32)
    patch = cut_patch(colour, (7, 5), 6)  # rows 2..7 and columns 4..9 of a 6x8 frame
    assert patch.shape == (6, 6, 3) and patch.dtype == np.float32
    assert np.array_equal(patch[:4, :4], colour[2:6, 4:8])
    assert (patch[4:] == 0).all() and (patch[:, 4:] == 0).all()
    assert (cut_patch(array, (100, 100), 4) == 0).all()  # wholly outside
    inside = cut_patch(array, (4, 3), 4)
    inside[:] = 0
    assert array.min() == 1  # a copy


def test_refiner_inputs_stack_the_rgb_and_the_coarse_probability() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    coarse = rng.random((30, 40)).astype(np.float32)
    inputs = refiner_inputs(image, coarse, (20, 15), 8)
    assert inputs.shape == (4, 8, 8) and inputs.dtype == np.float32
    assert np.array_equal(inputs[3], coarse[11:19, 16:24])


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


@pytest.mark.parametrize("seed", range(8))
def test_simulated_coarse_mask_is_a_probability_close_to_the_mask(seed: int) -> None:
    mask = square((80, 100), (20, 60, 25, 75))
    window = mask_window(mask, 0.4, 32)
    region, values = simulate_coarse(mask, window, 64, 2.0, np.random.default_rng(seed))
    height, width = mask.shape
    assert 0 <= region[0].start < region[0].stop <= height and 0 <= region[1].start < region[1].stop <= width
    assert values.dtype == np.float32 and values.shape == mask[region].shape
    # In [0, 1] up to float32 rounding (bilinear resampling and the blur may give 1.0000001).
    assert values.min() >= -1e-6 and values.max() <= 1 + 1e-6
    coarse = np.zeros(mask.shape, np.float32)
    coarse[region] = values
    assert iou(coarse >= 0.5, mask) > 0.7
    again = simulate_coarse(mask, window, 64, 2.0, np.random.default_rng(seed))
    assert again[0] == region and np.array_equal(again[1], values)


def test_simulated_coarse_mask_grows_or_shrinks_by_up_to_grow_crop_pixels() -> None:
    mask = square((80, 100), (20, 60, 25, 75))
    window = mask_window(mask, 0.4, 32)
    crop_px = 1 / window.scale(64)  # frame px per crop px
    areas = {}
    for grow in (1, 3):
        areas[grow] = []
        for seed in range(12):
            region, values = simulate_coarse(mask, window, 64, 0.0, np.random.default_rng(seed), grow)
            coarse = np.zeros(mask.shape, np.float32)
            coarse[region] = values
            areas[grow].append(int((coarse >= 0.5).sum()))
    # Without displacement, the 40x50 square's side moves by at most `grow` crop px on each side (+ a pixel of
    # resampling).
    for grow, values in areas.items():
        reach = grow * crop_px + 1
        assert (40 - 2 * reach) * (50 - 2 * reach) <= min(values) <= max(values) <= (40 + 2 * reach) * (50 + 2 * reach)
    assert max(areas[3]) > (40 + 2 * (crop_px + 1)) * (50 + 2 * (crop_px + 1))  # 3 crop px reach further than 1
    # grow=1 (the default) draws as the refiner did before the setting existed.
    assert simulate_coarse(mask, window, 64, 2.0, np.random.default_rng(5))[1].tobytes() == (
        simulate_coarse(mask, window, 64, 2.0, np.random.default_rng(5), 1)[1].tobytes()
    )


def test_ellipse_blob_sets_the_ellipse_to_one_or_to_zero_and_leaves_the_rest() -> None:
    probability = np.full((60, 80), 0.5, np.float32)
    added = ellipse_blob(probability, (40, 30), (12, 5), 0.0, add=True)
    removed = ellipse_blob(probability, (40, 30), (12, 5), 0.0, add=False)
    assert added.dtype == removed.dtype == np.float32 and np.all(probability == 0.5)
    assert added[30, 40] == pytest.approx(1.0, abs=1e-3) and removed[30, 40] == pytest.approx(0.0, abs=1e-3)
    assert added[30, 32] > 0.99 and added[30, 60] == 0.5  # 8 px along the long axis inside, 20 px outside
    assert added[24, 40] < 0.75 and added[20, 40] == 0.5  # 5-px half-axis across: only the blurred edge at 6 px
    turned = ellipse_blob(probability, (40, 30), (12, 5), 90.0, add=True)
    assert turned[22, 40] > 0.99 and turned[30, 30] == 0.5


CFG = BoundaryConfig(widths=(4, 8), patch=16)
CROP = CropConfig(size=32, min_side=16)


def test_boundary_samples_have_the_documented_shapes_and_are_reproducible(pairs: list) -> None:
    samples = BoundarySamples(pairs, CFG, CROP, JitterConfig(), seed=3, length=10)
    again = BoundarySamples(pairs, CFG, CROP, JitterConfig(), seed=3, length=10)
    for index in (0, 5, 9):
        item, same = samples[index], again[index]
        assert set(item) == {"boundary", "target", "weight"}
        assert all(torch.equal(item[k], same[k]) for k in item)
        assert item["boundary"].shape == (4, 16, 16) and item["boundary"].dtype == torch.float32
        assert item["target"].shape == (1, 16, 16) and item["target"].dtype == torch.float32
        assert item["weight"].shape == (1, 16, 16) and item["weight"].dtype == torch.float32
        assert set(torch.unique(item["target"]).tolist()) <= {0.0, 1.0}
        assert 0 < float(item["target"].mean()) < 1  # the patch is on the object's edge
        coarse = item["boundary"][3]
        assert float(coarse.min()) >= -1e-6 and float(coarse.max()) <= 1 + 1e-6
    other = BoundarySamples(pairs, CFG, CROP, JitterConfig(), seed=4, length=10)
    assert any(not torch.equal(other[i]["boundary"], samples[i]["boundary"]) for i in range(3))
    with pytest.raises(InputError, match="no dreamed pair"):
        BoundarySamples([], CFG, CROP, JitterConfig(), seed=0, length=1)


def test_blobs_change_only_the_coarse_input_of_some_training_patches(pairs: list) -> None:
    plain = BoundarySamples(pairs, replace(CFG, blob_p=0.0), CROP, JitterConfig(), seed=3, length=20)
    blobs = BoundarySamples(pairs, replace(CFG, blob_p=1.0), CROP, JitterConfig(), seed=3, length=20)
    changed = 0
    for index in range(20):
        item, other = plain[index], blobs[index]
        if not torch.equal(item["target"], other["target"]):  # the blob's draws come before the flip's
            other = {k: v.flip(-1) for k, v in other.items()}
        assert torch.equal(item["target"], other["target"]) and torch.equal(item["boundary"][:3], other["boundary"][:3])
        changed += not torch.equal(item["boundary"][3], other["boundary"][3])
    assert changed >= 15  # a blob may fall on a region the coarse mask already has (added) or lacks (removed)


class Sharpen(nn.Module):
    """A stand-in refiner whose logits are ``gain * (coarse − 0.5)`` (the 4th input channel)."""

    def __init__(self, gain: float = 50.0) -> None:
        super().__init__()
        self.gain = gain

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gain * (x[:, 3:4] - 0.5)


class Constant(nn.Module):
    """A stand-in refiner answering the same logit everywhere."""

    def __init__(self, logit: float) -> None:
        super().__init__()
        self.logit = logit

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.full((x.shape[0], 1, *x.shape[2:]), self.logit)


def blurred_square() -> tuple[np.ndarray, tuple[slice, slice], np.ndarray]:
    """A 60x80 image, a region of it and a soft square probability over the region."""
    image = np.random.default_rng(0).integers(0, 256, (60, 80, 3), dtype=np.uint8)
    region = np.s_[4:56, 6:74]
    probability = cv2.GaussianBlur(square((52, 68), (14, 38, 16, 50)).astype(np.float32), (0, 0), 2.0)
    return image, region, probability


def expected_band(probability: np.ndarray, region: tuple[slice, slice], shape: tuple[int, int], radius: int):
    coarse = np.zeros(shape, np.float32)
    coarse[region] = probability
    return boundary_band(coarse >= 0.5, radius)[region]


def test_refinement_replaces_only_the_band_with_the_networks_answer_in_place() -> None:
    image, region, probability = blurred_square()
    cfg = BoundaryConfig(widths=(4, 8), patch=16, band=3)
    band = expected_band(probability, region, image.shape[:2], cfg.band)
    assert band.any() and not band.all()
    ones = refine_boundary(Constant(20.0), image, region, probability, cfg, torch.device("cpu"), batch_size=3)
    assert ones.shape == probability.shape and ones.dtype == np.float32
    assert np.array_equal(ones[~band], probability[~band])
    assert np.allclose(ones[band], 1.0, atol=1e-6)
    # A pixelwise refiner is blended back exactly where its patches were cut: sharpening the coarse probability
    # in place (a shifted patch would move the edge).
    sharp = refine_boundary(Sharpen(), image, region, probability, cfg, torch.device("cpu"))
    expected = 1 / (1 + np.exp(-50.0 * (probability - 0.5)))
    assert np.allclose(sharp[band], expected[band], atol=1e-4)
    assert np.array_equal(sharp[~band], probability[~band])


def test_refinement_leaves_a_probability_without_an_edge_unchanged() -> None:
    image, region, probability = blurred_square()
    faint = probability * 0.4  # all below 0.5: no edge
    cfg = BoundaryConfig(widths=(4, 8), patch=16, band=3)
    out = refine_boundary(Constant(20.0), image, region, faint, cfg, torch.device("cpu"))
    assert np.array_equal(out, faint)
