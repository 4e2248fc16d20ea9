"""Affine transforms as ``float64 (2, 3)`` matrices ``A`` mapping ``(x, y)`` to ``A @ (x, y, 1)``."""

from __future__ import annotations

import math

import numpy as np


def transform_points(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a ``(2, 3)`` affine matrix to ``points (N, 2)``."""
    return np.asarray(points, dtype=np.float64) @ matrix[:, :2].T + matrix[:, 2]


def compose_affine(*matrices: np.ndarray) -> np.ndarray:
    """The matrix that applies ``matrices[0]`` first, then ``matrices[1]``, ...: ``(2, 3)``."""
    out = np.eye(3)
    for matrix in matrices:
        out = np.vstack([matrix, (0.0, 0.0, 1.0)]) @ out
    return out[:2]


def invert_affine(matrix: np.ndarray) -> np.ndarray:
    """Inverse of an invertible ``(2, 3)`` affine matrix."""
    return np.linalg.inv(np.vstack([matrix, (0.0, 0.0, 1.0)]))[:2]


def similarity_matrix(
    center: tuple[float, float],
    angle_deg: float = 0.0,
    scale: tuple[float, float] = (1.0, 1.0),
    shift: tuple[float, float] = (0.0, 0.0),
) -> np.ndarray:
    """Scale (per axis), then rotate (counter-clockwise on screen for positive angles), both about ``center``,
    then shift: ``(2, 3)``."""
    cx, cy = center
    theta = math.radians(angle_deg)
    cos, sin = math.cos(theta), math.sin(theta)
    # y points down, so a counter-clockwise rotation on screen is clockwise in (x, y).
    rotation = np.array([[cos, sin], [-sin, cos]]) @ np.diag(scale)
    offset = np.array([cx, cy]) - rotation @ np.array([cx, cy]) + np.asarray(shift, dtype=np.float64)
    return np.hstack([rotation, offset[:, None]])


def flip_matrix(width: int) -> np.ndarray:
    """Horizontal flip of an image ``width`` pixels wide: ``x -> width - 1 - x``."""
    return np.array([[-1.0, 0.0, width - 1.0], [0.0, 1.0, 0.0]])


def largest_rotated_crop_matrix(width: int, height: int, angle_deg: float) -> np.ndarray:
    """Rotate the image about its centre, crop the largest axis-aligned rectangle of the image's aspect ratio that
    holds only image pixels, and scale it back to ``width x height``: the ``(2, 3)`` matrix from input to output."""
    theta = abs(math.radians(angle_deg))
    cos, sin = math.cos(theta), math.sin(theta)
    # A centred w x h rectangle (aspect of the image) fits inside the rotated image when its corners, rotated back,
    # stay inside: w cos + h sin <= W and w sin + h cos <= H. Scaling back to W x H magnifies by W / w.
    ratio = width / height
    h_fit = min(width / (ratio * cos + sin), height / (ratio * sin + cos))
    zoom = height / h_fit
    center = ((width - 1) / 2.0, (height - 1) / 2.0)
    return similarity_matrix(center, angle_deg, (zoom, zoom))
