"""J, F and their statistics against the official DAVIS toolkit's figures and against the definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from skimage.morphology import disk as skimage_disk

from segmenters.evaluation.metrics import (
    boundary_f,
    boundary_map,
    disk,
    jaccard,
    statistics,
    tolerance_radius,
)


def rectangle(dy: int = 0, dx: int = 0, shape: tuple[int, int] = (100, 120)) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[20 + dy : 60 + dy, 30 + dx : 90 + dx] = True
    return mask


EMPTY = np.zeros((100, 120), dtype=bool)

# Computed with davis2017-evaluation on a 100x120 canvas, ground truth = rows 20:60, cols 30:90.
OFFICIAL_VECTORS = [
    ("shifted down 5 px", rectangle(5, 0), rectangle(), 0.777778, 0.400000),
    ("shifted by (20, 20)", rectangle(20, 20), rectangle(), 0.200000, 0.050000),
    ("empty prediction", EMPTY, rectangle(), 0.0, 0.0),
    ("identical", rectangle(), rectangle(), 1.0, 1.0),
    ("both empty", EMPTY, EMPTY, 1.0, 1.0),
    ("ground truth empty", rectangle(), EMPTY, 0.0, 0.0),
]


@pytest.mark.parametrize(
    ("case", "prediction", "truth", "j", "f"), OFFICIAL_VECTORS, ids=[v[0] for v in OFFICIAL_VECTORS]
)
def test_official_vectors(case: str, prediction: np.ndarray, truth: np.ndarray, j: float, f: float) -> None:
    assert jaccard(prediction, truth) == pytest.approx(j, abs=5e-7)
    assert boundary_f(prediction, truth) == pytest.approx(f, abs=5e-7)


def test_vectorised_over_leading_axes_matches_one_by_one() -> None:
    predictions = np.stack([v[1] for v in OFFICIAL_VECTORS]).reshape(2, 3, 100, 120)
    truths = np.stack([v[2] for v in OFFICIAL_VECTORS]).reshape(2, 3, 100, 120)
    j, f = jaccard(predictions, truths), boundary_f(predictions, truths)
    assert j.shape == f.shape == (2, 3)
    expected = np.array([[v[3] for v in OFFICIAL_VECTORS], [v[4] for v in OFFICIAL_VECTORS]]).reshape(2, 2, 3)
    np.testing.assert_allclose(j, expected[0], atol=5e-7)
    np.testing.assert_allclose(f, expected[1], atol=5e-7)


def test_official_statistics() -> None:
    stats = statistics(np.array([0.9, 0.85, 0.8, 0.7, 0.6, 0.55, 0.4, 0.3, 0.2, 0.45]))
    assert stats.mean == pytest.approx(0.575)
    assert stats.recall == pytest.approx(0.6)
    assert stats.decay == pytest.approx(0.533333, abs=5e-7)


def test_decay_bins_share_frames_and_handle_short_sequences() -> None:
    # n = 5: ids = [0, 1, 2, 3, 4]; first bin values[0:2], last bin values[3:5].
    assert statistics(np.array([1.0, 0.0, 0.5, 0.25, 0.75])).decay == pytest.approx(0.5 - 0.5)
    assert statistics(np.array([1.0, 0.8, 0.5, 0.2, 0.0])).decay == pytest.approx(0.9 - 0.1)
    one = statistics(np.array([0.7]))
    assert (one.mean, one.recall, one.decay) == (pytest.approx(0.7), 1.0, 0.0)
    with pytest.raises(ValueError, match="non-empty"):
        statistics(np.array([]))


def test_recall_counts_strictly_above_half() -> None:
    assert statistics(np.array([0.5, 0.5000001, 0.2, 1.0])).recall == pytest.approx(0.5)


def reference_boundary(mask: np.ndarray) -> np.ndarray:
    """BSDS seg2bmap written out pixel by pixel: right, lower, lower-right neighbours; last row and column only look
    along the edge; bottom-right pixel 0."""
    h, w = mask.shape
    out = np.zeros((h, w), dtype=bool)
    for y in range(h):
        for x in range(w):
            if y == h - 1 and x == w - 1:
                continue
            if y == h - 1:
                out[y, x] = mask[y, x] != mask[y, x + 1]
            elif x == w - 1:
                out[y, x] = mask[y, x] != mask[y + 1, x]
            else:
                out[y, x] = (
                    mask[y, x] != mask[y, x + 1] or mask[y, x] != mask[y + 1, x] or mask[y, x] != mask[y + 1, x + 1]
                )
    return out


def random_blobs(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    noise = rng.random((shape[0] // 4 + 1, shape[1] // 4 + 1))
    return np.kron(noise, np.ones((4, 4)))[: shape[0], : shape[1]] > 0.6


def test_boundary_map_matches_seg2bmap_including_edges() -> None:
    rng = np.random.default_rng(1)
    masks = np.stack([random_blobs(rng, (13, 17)) for _ in range(6)] + [np.ones((13, 17), dtype=bool)])
    got = boundary_map(masks)
    for mask, boundary in zip(masks, got, strict=True):
        np.testing.assert_array_equal(boundary, reference_boundary(mask))
    # A full mask has no boundary at all (the image border is not an edge).
    assert not got[-1].any()


def reference_f(prediction: np.ndarray, truth: np.ndarray) -> float:
    """Boundary F by brute force: a boundary pixel matches when one of the other boundary lies within r (Euclidean)."""
    radius = math.ceil(0.008 * math.hypot(*truth.shape))
    pb, gb = np.argwhere(reference_boundary(prediction)), np.argwhere(reference_boundary(truth))
    if len(pb) == 0 or len(gb) == 0:
        return 1.0 if len(pb) == len(gb) else 0.0
    distances = np.sqrt(((pb[:, None, :] - gb[None, :, :]) ** 2).sum(-1))
    precision = np.mean(distances.min(axis=1) <= radius)
    recall = np.mean(distances.min(axis=0) <= radius)
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def test_boundary_f_matches_brute_force_definition() -> None:
    rng = np.random.default_rng(2)
    shape = (90, 130)  # radius ceil(0.008 * 158.1) = 2
    for _ in range(5):
        prediction, truth = random_blobs(rng, shape), random_blobs(rng, shape)
        assert boundary_f(prediction, truth) == pytest.approx(reference_f(prediction, truth), abs=1e-12)


def test_jaccard_counts_pixels() -> None:
    truth = np.zeros((4, 5), dtype=bool)
    truth[0, :3] = True
    prediction = np.zeros_like(truth)
    prediction[0, 1:] = True
    assert jaccard(prediction, truth) == pytest.approx(2 / 5)


def test_tolerance_radius_is_eight_pixels_at_480p() -> None:
    assert tolerance_radius(480, 854) == 8
    assert tolerance_radius(100, 120) == 2
    assert tolerance_radius(1080, 1920) == 18
    assert tolerance_radius(480, 854, tolerance=3) == 3


@pytest.mark.parametrize("radius", [0, 1, 2, 8, 18])
def test_disk_is_skimage_disk(radius: int) -> None:
    np.testing.assert_array_equal(disk(radius), skimage_disk(radius).astype(np.uint8))


def test_shape_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="differ in shape"):
        boundary_f(np.zeros((4, 4), bool), np.zeros((4, 5), bool))
