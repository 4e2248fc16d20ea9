"""The networks' inputs: flow features, the appearance and motion channels, the guidance warp."""

from __future__ import annotations

import numpy as np
import pytest

from segmenters.lucid.crops import Window, crop, mask_window
from segmenters.lucid.inputs import MatchingContext, flow_features, matching_inputs, network_inputs, warp_guidance
from segmenters.networks import image_features


def test_flow_features_ignore_the_camera_motion() -> None:
    flow = np.full((32, 32, 2), 7.0, np.float32)  # the whole window moves alike: no object motion
    assert np.allclose(flow_features(flow, direction=True), 0)
    flow[10:20, 10:20] += (3.0, 4.0)  # an object moving 5 px relative to the background
    features = flow_features(flow, direction=True)
    assert features.shape == (3, 32, 32)
    assert features[0, 15, 15] > 0 and features[0, 0, 0] == 0
    assert features[1, 15, 15] / features[2, 15, 15] == pytest.approx(3 / 4)


def test_network_inputs_have_the_documented_channels() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    guidance = np.zeros((40, 50), bool)
    guidance[10:20, 15:30] = True
    window = mask_window(guidance)
    appearance, motion = network_inputs(image, np.zeros((40, 50, 2), np.float32), guidance, window, 16, False)
    assert appearance.shape == (4, 16, 16) and motion.shape == (2, 16, 16)
    assert set(np.unique(appearance[3])) == {0.0, 1.0} and np.array_equal(appearance[3], motion[1])


def test_warp_guidance_moves_the_mask_along_the_flow() -> None:
    mask = np.zeros((20, 30), bool)
    mask[5:10, 5:10] = True
    flow = np.zeros((20, 30, 2), np.float32)
    flow[..., 0] = -3.0  # current pixel x is seen at x - 3 in the previous frame: the object moved right by 3
    moved = warp_guidance(mask, flow)
    assert np.array_equal(moved, np.roll(mask, 3, axis=1))


def test_matching_inputs_crop_the_annotated_frame_around_the_object_and_the_previous_frame_in_the_window() -> None:
    rng = np.random.default_rng(1)
    reference, previous = (rng.integers(0, 256, (60, 80, 3), dtype=np.uint8) for _ in range(2))
    reference_labels = np.zeros((60, 80), np.int32)
    reference_labels[5:15, 50:70] = 2  # object 2 annotated top right
    previous_labels = np.zeros((60, 80), np.int32)
    previous_labels[30:50, 10:30] = 2  # and bottom left in the previous frame
    window = Window(cx=20.0, cy=40.0, side=32.0)  # the current window, around the previous position
    context = MatchingContext(reference, reference_labels, previous, previous_labels)
    inputs = matching_inputs(context, 2, window, 16, margin=0.25, min_side=8.0)
    assert inputs.shape == (8, 16, 16) and inputs.dtype == np.float32
    annotated = mask_window(reference_labels == 2, 0.25, 8.0)
    assert np.array_equal(inputs[:3], image_features(crop(reference, annotated, 16)))
    assert inputs[3].mean() == pytest.approx((20 * 10) / annotated.side**2, abs=0.1)  # the object, centred
    assert inputs[3, 8, 8] == 1.0
    assert np.array_equal(inputs[4:7], image_features(crop(previous, window, 16)))
    assert np.array_equal(inputs[7], crop((previous_labels == 2).astype(np.uint8), window, 16, 0).astype(np.float32))
    # An object the annotated frame does not show: its crop is the current window's, with an empty mask.
    missing = matching_inputs(context, 3, window, 16, margin=0.25, min_side=8.0)
    assert np.array_equal(missing[:3], image_features(crop(reference, window, 16))) and not missing[3].any()
