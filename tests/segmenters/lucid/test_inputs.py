"""The networks' inputs: flow features, the appearance and motion channels, the guidance warp."""

from __future__ import annotations

import numpy as np
import pytest

from segmenters.lucid.crops import mask_window
from segmenters.lucid.inputs import flow_features, network_inputs, warp_guidance


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
