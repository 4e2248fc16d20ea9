"""Thin-plate splines in closed form (Bookstein 1989).

``f(p) = a0 + a1 x + a2 y + sum_i w_i U(|p - c_i|)`` with ``U(r) = r^2 log r^2``, fitted so that ``f(c_i) = t_i``
for control points ``c_i`` and targets ``t_i``, with minimal bending energy.
"""

from __future__ import annotations

import numpy as np


def _kernel(points: np.ndarray, controls: np.ndarray) -> np.ndarray:
    """``U(|p - c|)`` for every point and control point: ``(N, K)``."""
    dx = points[:, 0, None] - controls[None, :, 0]
    dy = points[:, 1, None] - controls[None, :, 1]
    r2 = dx * dx + dy * dy
    # U(0) = 0: 0 * log(tiny) is 0, so clamping avoids log(0) without a second pass.
    return r2 * np.log(np.maximum(r2, 1e-300))


def tps_coefficients(controls: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Solve the TPS that maps ``controls`` onto ``targets``.

    Args:
        controls: ``(K, 2)`` control points ``(x, y)``.
        targets: ``(K, 2)`` where each control point must land.

    Returns:
        ``float64 (K + 3, 2)``: the K radial weights, then the affine part ``(a0, a1, a2)``, per output coordinate.
    """
    controls = np.asarray(controls, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.float64)
    k = len(controls)
    system = np.zeros((k + 3, k + 3))
    system[:k, :k] = _kernel(controls, controls)
    system[:k, k] = 1.0
    system[:k, k + 1 :] = controls
    system[k:, :k] = system[:k, k:].T
    rhs = np.zeros((k + 3, 2))
    rhs[:k] = targets
    # lstsq rather than solve: control points on a straight edge make the affine block singular; the minimum-norm
    # solution still interpolates them exactly.
    return np.linalg.lstsq(system, rhs, rcond=None)[0]


def tps_transform(points: np.ndarray, controls: np.ndarray, coefficients: np.ndarray) -> np.ndarray:
    """Evaluate a fitted TPS at ``points (N, 2)``; returns ``float64 (N, 2)``."""
    points = np.asarray(points, dtype=np.float64)
    k = len(controls)
    affine = coefficients[k:]
    return _kernel(points, controls) @ coefficients[:k] + affine[0] + points @ affine[1:]


def tps_jacobian(points: np.ndarray, controls: np.ndarray, coefficients: np.ndarray) -> np.ndarray:
    """Jacobian of a fitted TPS at ``points (N, 2)``: ``float64 (N, 2, 2)``, ``J[n, i, j] = d f_i / d x_j``."""
    return tps_transform_with_jacobian(points, controls, coefficients)[1]


def tps_transform_with_jacobian(
    points: np.ndarray, controls: np.ndarray, coefficients: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`tps_transform` and :func:`tps_jacobian` in one pass (they share the distances and logarithms).

    Returns:
        ``float64 (N, 2)`` values and ``float64 (N, 2, 2)`` Jacobians.
    """
    points = np.asarray(points, dtype=np.float64)
    k = len(controls)
    weights, affine = coefficients[:k], coefficients[k:]
    dx = points[:, 0, None] - controls[None, :, 0]
    dy = points[:, 1, None] - controls[None, :, 1]
    r2 = dx * dx + dy * dy
    log = np.log(np.maximum(r2, 1e-300))
    values = (r2 * log) @ weights + affine[0] + points @ affine[1:]
    # dU/dp = 2 (p - c) (log r^2 + 1), which tends to 0 at r = 0.
    slope = np.where(r2 > 0, 2.0 * (log + 1.0), 0.0)
    jac = np.empty((len(points), 2, 2))
    jac[:, :, 0] = (slope * dx) @ weights + affine[1]
    jac[:, :, 1] = (slope * dy) @ weights + affine[2]
    return values, jac
