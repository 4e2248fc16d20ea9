"""Geometric transforms of 2-D points and images.

Points are ``float64 (N, 2)`` arrays of ``(x, y)`` pixel coordinates: ``x`` to the right, ``y`` down, the centre of
the top-left pixel at ``(0, 0)``.
"""

from dreaming.synthesis.geometry.affine import (
    compose_affine,
    flip_matrix,
    invert_affine,
    largest_rotated_crop_matrix,
    similarity_matrix,
    transform_points,
)
from dreaming.synthesis.geometry.tps import tps_coefficients, tps_transform
from dreaming.synthesis.geometry.warps import (
    Affine,
    Chain,
    Inverse,
    ThinPlateSpline,
    Warp,
    affine_map,
    affine_matrix_of,
    deformation,
    sample_map,
    sample_warp,
)

__all__ = [
    "Affine",
    "Chain",
    "Inverse",
    "ThinPlateSpline",
    "Warp",
    "affine_map",
    "affine_matrix_of",
    "compose_affine",
    "deformation",
    "flip_matrix",
    "invert_affine",
    "largest_rotated_crop_matrix",
    "sample_map",
    "sample_warp",
    "similarity_matrix",
    "tps_coefficients",
    "tps_transform",
    "transform_points",
]
