"""Warps: invertible point transforms that compose, and their dense sampling for ``cv2.remap``.

Every warp maps points ``float64 (N, 2)`` of ``(x, y)`` with :meth:`forward` and back with :meth:`inverse`. Affine
warps are exact both ways; a thin-plate spline is exact forward and inverted by a fixed-point iteration, so a
deformation that must be exact for rendering (backward sampling) is stored as the :class:`Inverse` of the TPS fitted
from target to source.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import cv2
import numpy as np

from dreaming.synthesis.geometry.affine import compose_affine, invert_affine, transform_points
from dreaming.synthesis.geometry.tps import tps_coefficients, tps_transform, tps_transform_with_jacobian


class Warp(Protocol):
    """A bijective transform of the plane."""

    def forward(self, points: np.ndarray) -> np.ndarray: ...

    def inverse(self, points: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class Affine:
    """An affine warp; ``matrix`` is ``(2, 3)``."""

    matrix: np.ndarray

    def forward(self, points: np.ndarray) -> np.ndarray:
        return transform_points(self.matrix, points)

    def inverse(self, points: np.ndarray) -> np.ndarray:
        return transform_points(invert_affine(self.matrix), points)


@dataclass(frozen=True)
class ThinPlateSpline:
    """The TPS taking ``controls (K, 2)`` exactly onto ``targets (K, 2)``.

    :meth:`inverse` solves ``f(x) = y`` by Newton's method from the inverse of the spline's affine part; it
    converges in a few steps for the mild deformations used here. Points whose residual stays above ``tolerance``
    px (where the spline folds over) come back as NaN rather than wrong.
    """

    controls: np.ndarray
    targets: np.ndarray
    iterations: int = 20
    tolerance: float = 1e-3
    coefficients: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "coefficients", tps_coefficients(self.controls, self.targets))

    def forward(self, points: np.ndarray) -> np.ndarray:
        return tps_transform(points, self.controls, self.coefficients)

    def inverse(self, points: np.ndarray) -> np.ndarray:
        target = np.asarray(points, dtype=np.float64)
        k = len(self.controls)
        linear = self.coefficients[k + 1 :].T  # (2, 2): rows are output coordinates
        x = (target - self.coefficients[k]) @ np.linalg.inv(linear).T
        for _ in range(self.iterations):
            value, jac = tps_transform_with_jacobian(x, self.controls, self.coefficients)
            residual = target - value
            if np.abs(residual).max(initial=0.0) < self.tolerance:
                return x
            det = jac[:, 0, 0] * jac[:, 1, 1] - jac[:, 0, 1] * jac[:, 1, 0]
            with np.errstate(divide="ignore", invalid="ignore"):
                dx = (jac[:, 1, 1] * residual[:, 0] - jac[:, 0, 1] * residual[:, 1]) / det
                dy = (jac[:, 0, 0] * residual[:, 1] - jac[:, 1, 0] * residual[:, 0]) / det
            x = x + np.stack([dx, dy], axis=1)
        residual = np.abs(target - self.forward(x)).max(axis=1)
        x[~(residual < self.tolerance)] = np.nan
        return x


@dataclass(frozen=True)
class Inverse:
    """The inverse of a warp (its forward and inverse swapped)."""

    warp: Warp

    def forward(self, points: np.ndarray) -> np.ndarray:
        return self.warp.inverse(points)

    def inverse(self, points: np.ndarray) -> np.ndarray:
        return self.warp.forward(points)


@dataclass(frozen=True)
class Chain:
    """Warps applied in order: ``warps[0]`` first. Consecutive affine warps are merged into one."""

    warps: tuple[Warp, ...]

    def __post_init__(self) -> None:
        merged: list[Warp] = []
        for warp in _flatten(self.warps):
            if merged and isinstance(warp, Affine) and isinstance(merged[-1], Affine):
                merged[-1] = Affine(compose_affine(merged[-1].matrix, warp.matrix))
            else:
                merged.append(warp)
        object.__setattr__(self, "warps", tuple(merged))

    def forward(self, points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, dtype=np.float64)
        for warp in self.warps:
            points = warp.forward(points)
        return points

    def inverse(self, points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, dtype=np.float64)
        for warp in reversed(self.warps):
            points = warp.inverse(points)
        return points

    @property
    def affine_matrix(self) -> np.ndarray | None:
        """The chain's ``(2, 3)`` matrix when it is affine as a whole (identity when empty), else ``None``."""
        if not self.warps:
            return np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        if len(self.warps) == 1 and isinstance(self.warps[0], Affine):
            return self.warps[0].matrix
        return None


def _flatten(warps: tuple[Warp, ...]) -> list[Warp]:
    out: list[Warp] = []
    for warp in warps:
        out.extend(_flatten(warp.warps) if isinstance(warp, Chain) else [warp])
    return out


def deformation(points: np.ndarray, shifts: np.ndarray) -> Warp:
    """The smooth deformation moving ``points (K, 2)`` by ``shifts (K, 2)``.

    Stored as the inverse of the TPS fitted from the moved points back to the originals, so that backward
    sampling (rendering) is exact and the forward direction is iterated.
    """
    points = np.asarray(points, dtype=np.float64)
    return Inverse(ThinPlateSpline(points + np.asarray(shifts, dtype=np.float64), points))


def sample_map(
    mapping: Callable[[np.ndarray], np.ndarray],
    box: tuple[int, int, int, int],
    step: int = 1,
    needed: np.ndarray | None = None,
) -> np.ndarray:
    """Evaluate a point mapping on every pixel of ``box = (x0, y0, x1, y1)`` (x1, y1 exclusive).

    With ``step > 1`` the mapping is evaluated on a grid every ``step`` px (one node beyond the box on each side)
    and bilinearly interpolated in between with float weights (``cv2.resize``; ``cv2.remap`` would quantise them to
    1/32 px) — sub-0.1-px for the smooth TPS deformations used here.

    Args:
        needed: optional ``bool (y1 - y0, x1 - x0)``: only these pixels must be right; grid nodes that none of them
            depends on are skipped (their pixels get arbitrary values).

    Returns:
        ``float32 (y1 - y0, x1 - x0, 2)``: the mapped ``(x, y)`` of each pixel.
    """
    x0, y0, x1, y1 = box
    width, height = x1 - x0, y1 - y0
    if step <= 1:
        grid = np.stack(np.meshgrid(np.arange(x0, x1), np.arange(y0, y1)), axis=-1).reshape(-1, 2)
        return mapping(grid.astype(np.float64)).reshape(height, width, 2).astype(np.float32)
    # cv2.resize puts output pixel i at input coordinate (i + 0.5) / step - 0.5, so nodes at k * step + (step - 1) / 2
    # (k from -1, counted from a multiple of step) land exactly on pixel i. Anchoring the grid to multiples of step
    # makes every pixel's value independent of the box it is sampled in.
    ax, ay = x0 - x0 % step, y0 - y0 % step
    columns, rows = -(-(x1 - ax) // step) + 2, -(-(y1 - ay) // step) + 2
    offset = (step - 1) / 2.0 - step
    xs = ax + offset + step * np.arange(columns, dtype=np.float64)
    ys = ay + offset + step * np.arange(rows, dtype=np.float64)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    left, top = step + x0 - ax, step + y0 - ay
    coarse = np.zeros((rows * columns, 2), dtype=np.float32)
    use = (
        np.ones(rows * columns, dtype=bool) if needed is None else _needed_nodes(needed, left, top, rows, columns, step)
    )
    coarse[use] = mapping(grid[use])
    dense = cv2.resize(coarse.reshape(rows, columns, 2), (columns * step, rows * step), interpolation=cv2.INTER_LINEAR)
    return dense[top : top + height, left : left + width]


def _needed_nodes(needed: np.ndarray, left: int, top: int, rows: int, columns: int, step: int) -> np.ndarray:
    """Grid nodes within one cell of a needed pixel (each pixel interpolates its four surrounding nodes)."""
    canvas = np.zeros((rows * step, columns * step), dtype=np.uint8)
    canvas[top : top + needed.shape[0], left : left + needed.shape[1]] = needed
    cells = canvas.reshape(rows, step, columns, step).max(axis=(1, 3))
    return cv2.dilate(cells, np.ones((3, 3), np.uint8)).astype(bool).ravel()


@functools.lru_cache(maxsize=8)
def _pixel_grid(width: int, height: int) -> np.ndarray:
    grid = np.empty((height, width, 2), dtype=np.float32)
    grid[..., 0] = np.arange(width, dtype=np.float32)[None, :]
    grid[..., 1] = np.arange(height, dtype=np.float32)[:, None]
    grid.flags.writeable = False
    return grid


def affine_map(matrix: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """:func:`sample_map` of an affine ``(2, 3)`` matrix, computed directly: ``float32 (h, w, 2)``."""
    x0, y0, x1, y1 = box
    # Pixel coordinates of the box, relative to its corner, through the matrix moved to that corner.
    local = np.asarray(matrix, dtype=np.float64).copy()
    local[:, 2] += local[:, :2] @ np.array([x0, y0], dtype=np.float64)
    return cv2.transform(_pixel_grid(x1 - x0, y1 - y0), local)


def sample_warp(
    warp: Warp,
    box: tuple[int, int, int, int],
    step: int = 1,
    inverse: bool = False,
    needed: np.ndarray | None = None,
) -> np.ndarray:
    """``warp.forward`` (or ``warp.inverse``) on every pixel of ``box``: ``float32 (h, w, 2)``.

    Affine warps are evaluated exactly; others via :func:`sample_map` with ``step`` (and ``needed``).
    """
    matrix = affine_matrix_of(warp)
    if matrix is not None:
        return affine_map(invert_affine(matrix) if inverse else matrix, box)
    return sample_map(warp.inverse if inverse else warp.forward, box, step, needed)


def affine_matrix_of(warp: Warp) -> np.ndarray | None:
    """The ``(2, 3)`` matrix of a warp that is affine as a whole, else ``None``."""
    if isinstance(warp, Affine):
        return warp.matrix
    if isinstance(warp, Chain):
        return warp.affine_matrix
    return None
