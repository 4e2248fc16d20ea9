from __future__ import annotations

import numpy as np

from dreaming.synthesis.geometry import ThinPlateSpline, deformation, tps_coefficients, tps_transform
from dreaming.synthesis.geometry.tps import tps_jacobian


def _controls(rng):
    return rng.uniform(0, 200, (5, 2))


def test_tps_maps_controls_onto_targets():
    rng = np.random.default_rng(0)
    for _ in range(20):
        controls = _controls(rng)
        targets = controls + rng.uniform(-10, 10, controls.shape)
        coefficients = tps_coefficients(controls, targets)
        assert np.abs(tps_transform(controls, controls, coefficients) - targets).max() < 0.01


def test_tps_with_zero_shifts_is_identity():
    rng = np.random.default_rng(1)
    controls = _controls(rng)
    points = rng.uniform(-50, 250, (500, 2))
    tps = ThinPlateSpline(controls, controls)
    assert np.abs(tps.forward(points) - points).max() < 1e-9
    assert np.abs(tps.inverse(points) - points).max() < 1e-9


def test_tps_collinear_controls_still_interpolate():
    controls = np.array([[0, 0], [10, 0], [20, 0], [30, 0], [40, 0]], float)
    targets = controls + [[0, 1], [0, -1], [0, 2], [0, 0], [0, 1]]
    out = tps_transform(controls, controls, tps_coefficients(controls, targets))
    assert np.abs(out - targets).max() < 0.01


def test_tps_jacobian_matches_finite_differences():
    rng = np.random.default_rng(2)
    controls = _controls(rng)
    coefficients = tps_coefficients(controls, controls + rng.uniform(-8, 8, controls.shape))
    points = rng.uniform(0, 200, (100, 2))
    eps = 1e-5
    numeric = np.stack(
        [
            (
                tps_transform(points + [eps, 0], controls, coefficients)
                - tps_transform(points - [eps, 0], controls, coefficients)
            )
            / (2 * eps),
            (
                tps_transform(points + [0, eps], controls, coefficients)
                - tps_transform(points - [0, eps], controls, coefficients)
            )
            / (2 * eps),
        ],
        axis=-1,
    )
    assert np.abs(numeric - tps_jacobian(points, controls, coefficients)).max() < 1e-5


def test_deformation_moves_points_by_shifts_and_inverts():
    rng = np.random.default_rng(3)
    points = np.array([[50, 20], [90, 60], [70, 120], [30, 110], [10, 60]], float)
    shifts = rng.uniform(-5, 5, points.shape)
    warp = deformation(points, shifts)
    assert np.abs(warp.forward(points) - (points + shifts)).max() < 0.01
    assert np.abs(warp.inverse(points + shifts) - points).max() < 0.01
    grid = rng.uniform(0, 130, (2000, 2))
    assert np.abs(warp.inverse(warp.forward(grid)) - grid).max() < 0.01
