"""Optical flow maths: the camera's motion in a flow field, and each pixel's motion apart from it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from segmenters.optical_flow import camera_flow, own_motion, pixel_grid, residual_motion


def homography_flow(homography: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The flow of every pixel under ``homography`` (``(x, y) → H (x, y, 1)``)."""
    grid = pixel_grid(shape)
    points = np.concatenate([grid, np.ones((*shape, 1), np.float32)], axis=-1) @ homography.T
    return (points[..., :2] / points[..., 2:] - grid).astype(np.float32)


ZOOM_AND_PAN = np.array([[1.02, 0.01, 3.0], [-0.01, 1.02, -2.0], [1e-5, 0.0, 1.0]])


def test_camera_flow_recovers_a_homography() -> None:
    flow = homography_flow(ZOOM_AND_PAN, (90, 160))
    np.testing.assert_allclose(camera_flow(flow), flow, atol=0.05)


def test_an_object_moving_apart_from_the_camera_is_the_residual() -> None:
    flow = homography_flow(ZOOM_AND_PAN, (90, 160))
    flow[30:60, 40:80] += (5.0, -2.0)  # an object moving on its own, a sixth of the frame
    residual = residual_motion(flow)
    assert residual[35:55, 45:75].min() == pytest.approx(math.hypot(5, 2), abs=0.1)
    outside = np.ones(residual.shape, bool)
    outside[30:60, 40:80] = False
    assert residual[outside].max() < 0.1  # RANSAC fitted the background, not the object


def test_camera_flow_without_a_fit_is_still() -> None:
    flow = np.ones((3, 3, 2), np.float32)  # too small for the 8-px sampling: no 4 samples
    assert not camera_flow(flow).any()


def test_own_motion_is_the_smaller_residual_per_frame_over_the_neighbours() -> None:
    to_previous = homography_flow(ZOOM_AND_PAN, (90, 160))
    to_previous[30:60, 40:80] += (6.0, 0.0)  # the object, two frames back
    to_next = homography_flow(ZOOM_AND_PAN, (90, 160))
    to_next[30:60, 40:80] += (0.0, 4.0)  # the object, one frame on
    to_next[0:20, 0:20] += (5.0, 0.0)  # disoccluded on one side only
    motion = own_motion([to_previous, to_next], [2, 1])
    assert motion[35:55, 45:75] == pytest.approx(3.0, abs=0.1)  # min(6 / 2, 4 / 1)
    assert motion[2:18, 2:18].max() < 0.1  # still in the other direction
    np.testing.assert_array_equal(own_motion([to_next]), residual_motion(to_next))
