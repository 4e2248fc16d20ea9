from __future__ import annotations

import numpy as np

from dreaming.synthesis.geometry import (
    Affine,
    Chain,
    compose_affine,
    deformation,
    flip_matrix,
    invert_affine,
    largest_rotated_crop_matrix,
    sample_map,
    sample_warp,
    similarity_matrix,
    transform_points,
)


def test_similarity_rotates_about_center_and_composes():
    m = similarity_matrix((10.0, 10.0), 90.0)
    # y points down: a positive angle turns +x towards -y (counter-clockwise on screen).
    assert np.allclose(transform_points(m, [[11.0, 10.0]]), [[10.0, 9.0]])
    a, b = similarity_matrix((0, 0), 10, (1.1, 0.9), (3, 4)), flip_matrix(100)
    points = np.random.default_rng(0).uniform(0, 100, (10, 2))
    assert np.allclose(transform_points(compose_affine(a, b), points), transform_points(b, transform_points(a, points)))
    assert np.allclose(transform_points(invert_affine(a), transform_points(a, points)), points)


def test_largest_rotated_crop_stays_inside_the_image():
    width, height = 854, 480
    for angle in (-30.0, -7.0, 12.5, 30.0):
        m = largest_rotated_crop_matrix(width, height, angle)
        corners = np.array([[-0.5, -0.5], [width - 0.5, -0.5], [width - 0.5, height - 0.5], [-0.5, height - 0.5]])
        source = transform_points(invert_affine(m), corners)
        # Every output corner comes from inside the input, and one of them touches its border (maximal crop).
        assert (source[:, 0] >= -0.5 - 1e-6).all() and (source[:, 0] <= width - 0.5 + 1e-6).all()
        assert (source[:, 1] >= -0.5 - 1e-6).all() and (source[:, 1] <= height - 0.5 + 1e-6).all()
        slack = np.minimum.reduce(
            [source[:, 0] + 0.5, width - 0.5 - source[:, 0], source[:, 1] + 0.5, height - 0.5 - source[:, 1]]
        )
        assert slack.min() < 1e-6


def test_chain_merges_affines_and_inverts():
    rng = np.random.default_rng(0)
    a = Affine(similarity_matrix((5, 5), 20, (1.2, 0.8)))
    b = Affine(flip_matrix(50))
    d = deformation(np.array([[10, 10], [40, 12], [45, 40], [12, 44], [25, 5]], float), rng.uniform(-2, 2, (5, 2)))
    chain = Chain((a, b, d, Chain((a,))))
    assert len(chain.warps) == 3
    points = rng.uniform(0, 50, (300, 2))
    assert np.abs(chain.inverse(chain.forward(points)) - points).max() < 0.01
    assert Chain((a, b)).affine_matrix is not None and chain.affine_matrix is None


def test_coarse_sampling_of_a_deformation_is_subpixel():
    rng = np.random.default_rng(4)
    outline = np.array([[100, 40], [180, 90], [150, 200], [60, 190], [40, 100]], float)
    shifts = rng.uniform(-1, 1, outline.shape) * 0.05 * 160
    warp = Chain((deformation(outline, shifts), Affine(similarity_matrix((110, 120), 5, (1.1, 1.1), (10, -5)))))
    box = (20, 30, 230, 240)
    for inverse in (False, True):
        exact = sample_map(warp.inverse if inverse else warp.forward, box, step=1)
        coarse = sample_warp(warp, box, step=4, inverse=inverse)
        assert coarse.shape == exact.shape == (210, 210, 2)
        assert np.abs(coarse - exact).max() < 0.1


def test_affine_sampling_is_exact():
    m = similarity_matrix((400, 200), 3, (1.03, 0.97), (12.5, -7.25))
    exact = sample_map(Affine(m).forward, (0, 0, 854, 480), step=1)
    assert np.abs(sample_warp(Affine(m), (0, 0, 854, 480), step=8) - exact).max() < 1e-3
