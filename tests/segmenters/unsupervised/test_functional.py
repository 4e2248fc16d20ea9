"""The array maths of object discovery: motion masks, colour refinement."""

from __future__ import annotations

import math

import numpy as np
import pytest

from segmenters.unsupervised.functional import (
    border_weight,
    boundary_connectivity,
    bounded_by,
    covered,
    instances,
    iou,
    motion_contrast,
    motion_mask,
    refine_by_colour,
    remove_small,
    temporal_motion,
    warp_to,
)


def test_warp_to_samples_where_the_flow_points() -> None:
    values = np.tile(np.arange(50, dtype=np.float32), (20, 1))
    flow = np.zeros((20, 50, 2), np.float32)
    flow[..., 0] = 3.0  # each pixel is seen 3 px to the right in the other frame
    np.testing.assert_allclose(warp_to(values, flow)[:, :40], values[:, 3:43])


def test_temporal_motion_is_the_mean_in_log() -> None:
    still = np.zeros((10, 12, 2), np.float32)
    motion, previous, following = (np.full((10, 12), v, np.float32) for v in (1.0, 3.0, 0.0))
    expected = math.expm1((math.log1p(1.0) + math.log1p(3.0) + math.log1p(0.0)) / 3)
    np.testing.assert_allclose(temporal_motion(motion, previous, still, following, still), expected, rtol=1e-6)
    np.testing.assert_allclose(temporal_motion(motion, None, None, following, still), math.expm1(math.log1p(1) / 2))


def test_motion_mask_finds_the_moving_square() -> None:
    rng = np.random.default_rng(0)
    motion = rng.uniform(0.0, 0.2, (80, 120)).astype(np.float32)
    motion[20:50, 30:70] = rng.uniform(2.5, 3.5, (30, 40))
    mask = motion_mask(motion)
    truth = np.zeros(motion.shape, bool)
    truth[20:50, 30:70] = True
    assert iou(mask, truth) == 1.0


def test_motion_mask_is_empty_below_min_motion_and_without_small_regions() -> None:
    motion = np.zeros((80, 120), np.float32)
    motion[20:50, 30:70] = 0.5  # moves, but less than min_motion
    assert not motion_mask(motion, min_motion=0.7).any()
    motion[20:50, 30:70] = 3.0
    motion[0:6, 0:6] = 3.0  # 36 px: under 0.5 % of the frame
    mask = motion_mask(motion, min_area=0.005)
    assert mask[20:50, 30:70].all() and not mask[0:6, 0:6].any()


def test_refine_by_colour_snaps_a_rough_mask_to_the_object() -> None:
    rng = np.random.default_rng(0)
    image = np.empty((90, 120, 3), np.uint8)
    image[:] = (40, 150, 40)
    image[25:65, 35:85] = (200, 40, 40)
    image = np.clip(image + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8)
    truth = np.zeros((90, 120), bool)
    truth[25:65, 35:85] = True
    rough = np.zeros_like(truth)
    rough[22:68, 32:88] = True  # 3 px too wide all round, as a motion mask smeared by the flow
    refined = refine_by_colour(image, rough)
    assert iou(refined, truth) > 0.95 > iou(rough, truth)


def test_refine_by_colour_leaves_empty_and_full_masks() -> None:
    image = np.zeros((30, 30, 3), np.uint8)
    for mask in (np.zeros((30, 30), bool), np.ones((30, 30), bool)):
        assert (refine_by_colour(image, mask) == mask).all()


def test_refine_by_colour_snaps_a_mask_much_wider_than_its_object() -> None:
    rng = np.random.default_rng(1)
    image = np.clip(rng.normal(110, 25, (120, 160, 3)), 0, 255).astype(np.uint8)  # a textured background
    image[40:80, 50:110] = (200, 60, 40)
    image = np.clip(image + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8)
    truth = np.zeros((120, 160), bool)
    truth[40:80, 50:110] = True
    rough = np.zeros_like(truth)
    rough[32:88, 42:118] = True  # 8 px too wide all round
    assert iou(refine_by_colour(image, rough), truth) > 0.95 > 0.6 > iou(rough, truth)


def test_refine_by_colour_keeps_a_mask_thinner_than_its_rim() -> None:
    image = np.random.default_rng(2).integers(0, 255, (40, 40, 3)).astype(np.uint8)
    mask = np.zeros((40, 40), bool)
    mask[10:30, 18:22] = True  # 4 px wide: nothing survives eroding 3 px from each side
    assert (refine_by_colour(image, mask, rim=3) == mask).all()


def test_boundary_connectivity_counts_border_pixels_over_the_root_of_the_area() -> None:
    mask = np.zeros((50, 100), bool)
    mask[20:30, 40:60] = True
    assert boundary_connectivity(mask) == 0.0  # inside the frame
    mask[:] = False
    mask[10:20, :] = True  # a band across: 10 px on each side column, area 1000
    assert boundary_connectivity(mask) == pytest.approx(20 / math.sqrt(1000))
    mask[:] = False
    mask[:10, :10] = True  # a corner square: 10 on the top row, 9 more on the left column
    assert boundary_connectivity(mask) == pytest.approx(19 / 10)
    assert border_weight(mask, 1.0) == pytest.approx(math.exp(-(1.9**2) / 2))
    assert border_weight(mask, 0.0) == 1.0
    assert boundary_connectivity(np.zeros((5, 5), bool)) == 0.0


def test_instances_are_the_regions_largest_first() -> None:
    mask = np.zeros((60, 100), bool)
    mask[5:15, 5:15] = True  # 100 px
    mask[20:50, 40:90] = True  # 1500 px
    mask[55:57, 0:2] = True  # 4 px: under min_area
    found = instances(mask, min_area=0.005)
    assert [int(m.sum()) for m in found] == [1500, 100]
    assert not remove_small(mask, 0.005)[55:57, 0:2].any()


def test_motion_contrast_is_the_log_ratio_to_the_surroundings() -> None:
    motion = np.zeros((60, 60), np.float32)
    motion[20:40, 20:40] = 1.0
    mask = motion > 0
    assert motion_contrast(motion, mask, floor=0.1) == pytest.approx(math.log(1.1 / 0.1))
    assert motion_contrast(motion, np.zeros_like(mask)) == 0.0


def test_iou() -> None:
    a = np.zeros((4, 4), bool)
    b = np.zeros((4, 4), bool)
    a[:2] = True  # 8 px
    b[1:3] = True  # 8 px, 4 shared
    assert iou(a, b) == pytest.approx(4 / 12)
    assert iou(np.zeros((2, 2), bool), np.zeros((2, 2), bool)) == 0.0


def test_covered_is_the_fraction_of_the_second_mask_inside_the_first() -> None:
    a = np.zeros((4, 4), bool)
    b = np.zeros((4, 4), bool)
    a[:3] = True  # 12 px
    b[2:] = True  # 8 px, 4 inside a
    assert covered(a, b) == pytest.approx(4 / 8)
    assert covered(b, a) == pytest.approx(4 / 12)
    assert covered(a, np.zeros((4, 4), bool)) == 0.0


def test_bounded_by_keeps_each_object_within_the_radius_of_its_bound() -> None:
    labels = np.zeros((7, 9), np.int32)
    labels[1:6, 0:5] = 1  # a 5 × 5 object that spread beyond its bound
    labels[0, 7:9] = 2  # an object the bounds do not hold
    bounds = np.zeros_like(labels)
    bounds[3, 2] = 1
    bounds[6, 8] = 3  # an id the labels do not hold changes nothing
    out = bounded_by(labels, bounds, 1)
    expected = np.zeros_like(labels)
    expected[2:5, 2] = expected[3, 1:4] = 1  # the disc of radius 1 around (3, 2): a plus
    expected[0, 7:9] = 2
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(bounded_by(labels, bounds, 0)[labels == 1], np.where(bounds == 1, 1, 0)[labels == 1])
    assert labels[1, 0] == 1  # the input is not changed
