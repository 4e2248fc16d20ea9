"""Proposal scoring: nearest-match labels, the score of each piece of a mask, dropping unsupported pieces and
re-detecting lost objects."""

from __future__ import annotations

import numpy as np
import pytest

from segmenters.lucid.proposals import (
    PROPOSAL_GRID,
    ProposalConfig,
    ProposalFrame,
    keep_supported,
    kept_pieces,
    nearest_labels,
    piece_scores,
    redetect,
)
from segmenters.postprocess.tuning import frames_jf, tune_on_frames


def test_nearest_labels_name_the_closest_of_background_and_objects() -> None:
    distances = np.array(
        [
            [[0.1, 0.9], [0.5, 0.8]],  # background
            [[0.3, 0.2], [0.4, 0.9]],  # object 3
            [[0.6, 0.7], [0.6, 0.1]],  # object 7
        ]
    )
    labels = nearest_labels(distances, [3, 7])
    assert labels.dtype == np.int32
    assert np.array_equal(labels, [[0, 3], [3, 7]])
    assert np.array_equal(nearest_labels(distances[:1], []), np.zeros((2, 2), np.int32))


def as_distances(matched: np.ndarray, ids: list[int]) -> np.ndarray:
    """Matching distances ``(1 + K, H, W)`` that say exactly ``matched``: 0 to the matched id, 1 to the others."""
    return np.stack([(matched != i).astype(np.float32) for i in (0, *ids)])


def two_pieces() -> np.ndarray:
    """``bool (10, 20)``: a 4x4 piece at the left (16 px) and a 2x5 piece at the right (10 px)."""
    mask = np.zeros((10, 20), bool)
    mask[1:5, 1:5] = True
    mask[6:8, 12:17] = True
    return mask


def test_piece_scores_weigh_the_matched_and_supported_fractions_of_each_piece() -> None:
    mask = two_pieces()
    matched = np.zeros_like(mask)
    matched[1:5, 1:3] = True  # half of the left piece
    matched[0, :] = True  # outside the mask: does not count
    warped = np.zeros_like(mask)
    warped[1:2, 1:5] = True  # a quarter of the left piece
    warped[6:8, 12:16] = True  # 8 of the 10 px of the right piece
    cfg = ProposalConfig(match_weight=1.0, flow_weight=0.5)
    pieces, scores = piece_scores(mask, matched, warped, cfg)
    assert pieces.dtype == np.int32 and scores.dtype == np.float64
    assert set(np.unique(pieces[mask]).tolist()) == {1, 2} and (pieces[~mask] == 0).all()
    left, right = pieces[2, 2], pieces[7, 14]
    assert left != right
    assert scores.shape == (3,) and scores[0] == 0.0
    assert scores[left] == pytest.approx(1.0 * 0.5 + 0.5 * 0.25)
    assert scores[right] == pytest.approx(1.0 * 0.0 + 0.5 * 0.8)
    weighted = piece_scores(mask, matched, warped, ProposalConfig(match_weight=0.2, flow_weight=1.0))[1]
    assert weighted[left] == pytest.approx(0.2 * 0.5 + 0.25) and weighted[right] == pytest.approx(0.8)


def test_pieces_touching_at_a_corner_are_one_piece() -> None:
    mask = np.zeros((6, 6), bool)
    mask[1:3, 1:3] = True
    mask[3:5, 3:5] = True  # 8-connected to the first square
    pieces, scores = piece_scores(mask, mask, np.zeros_like(mask), ProposalConfig())
    assert set(np.unique(pieces).tolist()) == {0, 1}
    assert scores.shape == (2,) and scores[1] == pytest.approx(1.0)


def test_keep_supported_drops_a_piece_that_neither_matches_nor_continues_the_object() -> None:
    labels = np.zeros((10, 20), np.int32)
    labels[two_pieces()] = 1
    labels[8:10, 0:3] = 2  # another object, matched to nothing and not in the previous labels
    matched = np.zeros_like(labels)
    matched[1:5, 1:5] = 1  # the embedding matches the left piece to object 1
    warped = np.zeros_like(labels)
    cfg = ProposalConfig(keep=0.6)
    kept = keep_supported(labels, as_distances(matched, [1]), warped, [1], cfg)
    assert kept.dtype == labels.dtype
    assert (kept[1:5, 1:5] == 1).all()  # matched: score 1
    assert (kept[6:8, 12:17] == 0).all()  # score 0: dropped
    assert (kept[8:10, 0:3] == 2).all()  # object 2 is not among the ids scored: untouched
    assert np.array_equal(kept[labels != 1], labels[labels != 1])  # only object 1's pixels can change
    # A piece that continues the object's previous mask is kept without being matched (0.5 * 1 + 0 ≥ 0.5), and
    # then the new piece goes, however well it matches: an object that is still tracked does not jump.
    warped[6:8, 12:17] = 1
    kept = keep_supported(labels, as_distances(matched, [1]), warped, [1], ProposalConfig(keep=0.5))
    assert (kept[6:8, 12:17] == 1).all() and (kept[1:5, 1:5] == 0).all()
    assert np.array_equal(kept[labels != 1], labels[labels != 1])
    # Objects absent from the frame are skipped, and the input is not modified.
    before = labels.copy()
    assert np.array_equal(keep_supported(labels, as_distances(matched, [5]), warped, [5], cfg), labels)
    assert np.array_equal(labels, before)


def test_keep_supported_scores_each_object_against_its_own_id() -> None:
    labels = np.zeros((8, 8), np.int32)
    labels[0:4, 0:4] = 1
    labels[4:8, 4:8] = 2
    matched = np.zeros_like(labels)
    matched[0:4, 0:4] = 2  # object 1's piece looks like object 2: not support for object 1
    matched[4:8, 4:8] = 2
    kept = keep_supported(
        labels, as_distances(matched, [1, 2]), np.zeros_like(labels), [1, 2], ProposalConfig(keep=0.6)
    )
    assert (kept[0:4, 0:4] == 0).all() and (kept[4:8, 4:8] == 2).all()


def test_redetect_returns_the_largest_region_matched_to_the_object() -> None:
    matched = np.zeros((12, 12), np.int32)
    matched[0:2, 0:2] = 4  # 4 px
    matched[5:9, 5:10] = 4  # 20 px
    matched[10:12, 0:12] = 1  # another object
    found = redetect(matched, 4, min_area=10)
    assert found is not None and found.dtype == bool
    assert found.sum() == 20 and found[5:9, 5:10].all()
    assert redetect(matched, 4, min_area=20) is not None  # at least min_area
    assert redetect(matched, 4, min_area=21) is None  # too small
    assert redetect(matched, 9, min_area=0) is None  # absent


def test_pixels_matched_to_another_object_leave_the_mask() -> None:
    """The inverse term: object 1 spread onto what the embedding matches to object 2 loses it; background matches
    do not remove anything by themselves."""
    labels = np.zeros((6, 12), np.int32)
    labels[1:5, 1:11] = 1
    matched = np.zeros_like(labels)
    matched[1:5, 1:6] = 1
    matched[1:5, 8:11] = 2  # looks like object 2
    warped = labels.copy()
    kept = keep_supported(labels, as_distances(matched, [1, 2]), warped, [1, 2], ProposalConfig(keep=0.5))
    assert (kept[1:5, 8:11] == 0).all()
    assert (kept[1:5, 1:8] == 1).all()
    assert np.array_equal(
        keep_supported(
            labels, as_distances(matched, [1, 2]), warped, [1, 2], ProposalConfig(keep=0.5, exclusive=False)
        ),
        labels,
    )


def test_growth_onto_what_does_not_look_like_the_object_is_cut() -> None:
    """Pixels beyond the warped previous mask (and its margin) stay only where they match the object."""
    labels = np.zeros((6, 30), np.int32)
    labels[1:5, 1:29] = 1  # grew to the right
    warped = np.zeros_like(labels)
    warped[1:5, 1:10] = 1
    matched = np.zeros_like(labels)
    matched[1:5, 1:20] = 1  # looks like the object up to column 19
    cfg = ProposalConfig(keep=0.5, growth_margin=3)
    kept = keep_supported(labels, as_distances(matched, [1]), warped, [1], cfg)
    assert (kept[1:5, 1:20] == 1).all() and (kept[1:5, 20:29] == 0).all()
    off = ProposalConfig(keep=0.5, growth_margin=-1)
    assert (keep_supported(labels, as_distances(matched, [1]), warped, [1], off)[1:5, 20:29] == 1).all()


def _frame(labels: np.ndarray, warped: np.ndarray, object_distance: np.ndarray, truth: np.ndarray) -> ProposalFrame:
    """A one-object frame whose background distance is 0.8 everywhere (nothing is matched to the background)."""
    distances = np.stack([np.full(labels.shape, 0.8, np.float32), object_distance.astype(np.float32)])
    return ProposalFrame(labels, warped, distances, truth, (1,))


def proposal_jf(frames: list[ProposalFrame], cfg: ProposalConfig) -> float:
    return frames_jf(frames, cfg, kept_pieces)


def test_tuning_on_frames_finds_a_scoring_that_keeps_the_true_pieces_and_drops_the_false_ones() -> None:
    # A: the object's predicted mask continues its previous mask and matches it at distance 0.3 (similarity 0.7).
    truth_a = np.zeros((30, 30), np.int32)
    truth_a[5:15, 5:15] = 1
    frame_a = _frame(truth_a.copy(), truth_a.copy(), np.where(truth_a == 1, 0.3, 1.0), truth_a)
    # B: the object has left (its previous mask was at the top left); the prediction is a piece elsewhere, matched
    # at 0.55 (similarity 0.45) and outside the previous mask: it should go.
    warped_b, labels_b = np.zeros((30, 30), np.int32), np.zeros((30, 30), np.int32)
    warped_b[0:4, 0:4] = 1
    labels_b[20:28, 20:28] = 1
    frame_b = _frame(labels_b, warped_b, np.where(labels_b == 1, 0.55, 1.0), np.zeros((30, 30), np.int32))
    frames = [frame_a, frame_b]
    start = ProposalConfig(enabled=True, keep=0.8, flow_weight=0.0)  # drops A's true piece, keeps nothing of B
    assert proposal_jf([frame_a], start) == 0.0 and proposal_jf([frame_b], start) == 1.0
    result = tune_on_frames(frames, start, PROPOSAL_GRID, kept_pieces)
    assert result.start_score == pytest.approx(0.5) and result.score == pytest.approx(1.0)
    assert result.score == pytest.approx(proposal_jf(frames, result.best))
    assert proposal_jf([frame_a], result.best) == 1.0 and proposal_jf([frame_b], result.best) == 1.0
    assert result.best.enabled and result.best.match_weight == start.match_weight  # only the grid's fields move
    # Too few frames: the starting scoring is kept, untried; a field that is not the scoring's is refused.
    few = tune_on_frames(frames, start, PROPOSAL_GRID, kept_pieces, min_frames=3)
    assert few.best == start and few.score == few.start_score == pytest.approx(0.5)
    with pytest.raises(ValueError, match="unknown ProposalConfig fields"):
        tune_on_frames(frames, start, {"threshold": (0.5,)}, kept_pieces)
