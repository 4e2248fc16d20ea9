"""Merging the two directions of propagation, and the anchors a frame is tracked from."""

from __future__ import annotations

import numpy as np
import pytest

from foundation.errors import InputError
from segmenters.interactive.propagation import (
    agreement,
    carry_reliability,
    compress_labels,
    compress_reliability,
    consistent_flow,
    decompress_labels,
    decompress_reliability,
    edge_certainty,
    forward_weight,
    fuse_learned,
    merge_directions,
    nearest_anchors,
    object_reliability,
)


def test_nearest_anchors_on_both_sides() -> None:
    assert nearest_anchors(5, [2, 9]) == (2, 9)
    assert nearest_anchors(1, [2, 9]) == (None, 2)
    assert nearest_anchors(12, [2, 9]) == (9, None)
    assert nearest_anchors(9, [2, 9]) == (9, 9)


def test_forward_weight_is_the_temporal_closeness() -> None:
    assert forward_weight(3, 2, 6) == pytest.approx(0.75)
    assert forward_weight(5, 2, 6) == pytest.approx(0.25)
    assert forward_weight(7, 6, None) == 1.0
    assert forward_weight(1, None, 2) == 0.0
    with pytest.raises(InputError, match="no annotated frame"):
        forward_weight(1, None, None)


def test_merge_takes_the_nearer_direction_where_both_are_sure() -> None:
    forward = np.zeros((40, 40), np.int32)
    backward = np.zeros((40, 40), np.int32)
    forward[5:35, 5:20] = 1  # forward puts the object on the left, backward on the right
    backward[5:35, 20:35] = 1
    near_forward = merge_directions(forward, backward, 0.8, softness=0)
    np.testing.assert_array_equal(near_forward, forward)
    near_backward = merge_directions(forward, backward, 0.2, softness=0)
    np.testing.assert_array_equal(near_backward, backward)


def test_merge_gives_uncertain_edges_to_the_sure_direction() -> None:
    forward = np.zeros((40, 40), np.int32)
    backward = np.zeros((40, 40), np.int32)
    forward[10:30, 10:30] = 1
    backward[10:30, 10:32] = 1  # two columns wider
    merged = merge_directions(forward, backward, 0.55, softness=5)
    # Where they differ, each pixel goes to the direction with the larger weight × (1 + its certainty there).
    score_forward = 0.55 * (1 + edge_certainty(forward, 5))
    score_backward = 0.45 * (1 + edge_certainty(backward, 5))
    expected = np.where((forward != backward) & (score_backward > score_forward), backward, forward)
    np.testing.assert_array_equal(merged, expected)
    assert (merged[10:30, 10:30] == 1).all()


def test_edge_certainty_rises_with_the_distance_to_an_edge() -> None:
    labels = np.zeros((9, 20), np.int32)
    labels[:, 10:] = 1
    certainty = edge_certainty(labels, 4.0)
    row = certainty[4]
    assert row[9] == 0.0 and row[10] == 0.0  # both pixels of the edge
    assert row[0] == 1.0 and row[19] == 1.0
    assert (np.diff(row[:10]) <= 0).all()


def test_agreement_is_the_iou_per_object() -> None:
    a = np.zeros((10, 10), np.int32)
    b = np.zeros((10, 10), np.int32)
    a[0:4, 0:5] = 1  # 20 px
    b[0:4, 0:4] = 1  # 16 px, all inside a's
    np.testing.assert_allclose(agreement(a, b, [1, 2]), [16 / 20, 1.0])


def test_object_reliability_is_the_mean_over_its_pixels() -> None:
    labels = np.zeros((4, 6), np.int32)
    labels[:2, :2] = 1  # 4 px: reliabilities 1, 1, 0.5, 0.1
    labels[3, 5] = 3
    reliability = np.ones((4, 6), np.float32)
    reliability[1, 0], reliability[1, 1] = 0.5, 0.1
    reliability[3, 5] = 0.2
    np.testing.assert_allclose(object_reliability(labels, reliability, [1, 2, 3]), [2.6 / 4, 1.0, 0.2], rtol=1e-6)
    np.testing.assert_array_equal(object_reliability(labels, None, [1, 3]), [1.0, 1.0])


def test_compressed_labels_round_trip() -> None:
    labels = np.random.default_rng(0).integers(0, 5, (48, 64)).astype(np.int32)
    data = compress_labels(labels)
    restored = decompress_labels(data, labels.shape)
    assert restored.dtype == np.int32
    np.testing.assert_array_equal(restored, labels)


def test_consistent_flow_passes_a_round_trip_and_fails_a_broken_one() -> None:
    flow = np.zeros((20, 30, 2), np.float32)
    flow[..., 0] = 2.0  # everything moves 2 px right
    back = -flow
    ok = consistent_flow(flow, back)
    assert ok[:, :27].all()  # the round trip returns home
    assert not ok[:, 29].any()  # pointing outside frame b: nothing confirms it
    broken = back.copy()
    broken[5:10, 12:20] = 0.0  # frame b's pixels there say they did not move: occluded or wrong
    ok = consistent_flow(flow, broken)
    assert not ok[5:10, 10:18].any() and ok[12:, :27].all()


def test_merge_gives_the_pixels_a_direction_carried_across_broken_flow_to_the_other() -> None:
    forward = np.zeros((40, 40), np.int32)
    backward = np.zeros((40, 40), np.int32)
    forward[5:35, 5:30] = 1  # forward, the nearer, smeared the object over columns 20-29
    backward[5:35, 5:20] = 1
    reliable = np.ones((40, 40), np.float32)
    smeared = reliable.copy()
    smeared[:, 20:30] = 0.25**2  # two steps of its way there were not confirmed by the reverse flow
    merged = merge_directions(forward, backward, 0.6, softness=0, reliability=(smeared, reliable))
    np.testing.assert_array_equal(merged, backward)  # 0.6 × 0.0625 < 0.4 × 1 where they differ
    # Equal reliabilities change nothing: the nearer direction wins.
    np.testing.assert_array_equal(merge_directions(forward, backward, 0.6, 0, (reliable, reliable)), forward)
    np.testing.assert_array_equal(merge_directions(forward, backward, 0.6, 0), forward)


def test_reliability_decays_where_the_reverse_flow_disagrees() -> None:
    flow = np.zeros((20, 30, 2), np.float32)
    flow[..., 0] = -2.0  # the new frame's pixel x came from x − 2 in the previous frame
    back = -flow
    back[5:10, 10:20] = 0.0  # the previous frame's pixels there say they did not move: occluded or wrong
    previous = np.ones((20, 30), np.float32)
    previous[15:, :] = 0.5
    consistent = consistent_flow(flow, back)
    carried = carry_reliability(previous, flow, consistent, decay=0.25)
    assert carried.dtype == np.float32 and carried.shape == (20, 30)
    # Confirmed: carried along unchanged; rejected (new pixels 12-21 came from 10-19): times the decay.
    np.testing.assert_array_equal(carried[:5, 2:], 1.0)
    np.testing.assert_allclose(carried[16:, 2:], 0.5, atol=1 / 255)
    assert carried[5:10, 12:22].max() <= 0.25 + 1 / 255 and carried[5:10, 23:].min() == 1.0
    # Flow from outside the previous frame: nothing carries reliability there.
    assert (carried[:, 0] == 0.0).all()
    # In steps of 1/255, so that a stored map resumes a propagation exactly.
    np.testing.assert_array_equal(np.round(carried * 255) / 255, carried)
    np.testing.assert_array_equal(decompress_reliability(compress_reliability(carried), carried.shape), carried)
    # Without decay, reliability only follows the flow.
    assert carry_reliability(previous, flow, consistent, decay=1.0)[5:10, 12:22].min() == 1.0


def test_the_learned_labels_take_over_where_the_flow_broke() -> None:
    flow = np.zeros((4, 6), np.int32)
    flow[:, :3] = 1  # the flow keeps the object on the left
    learned = np.zeros((4, 6), np.int32)
    learned[:, 2:5] = 2  # the networks see another object, shifted right
    reliability = np.ones((4, 6), np.float32)
    reliability[:, 4:] = 0.1  # the flow broke on the two right columns
    reliability[0, 2] = 0.5  # exactly the threshold: the flow keeps it
    fused = fuse_learned(flow, learned, reliability, threshold=0.5)
    expected = np.array([[1, 1, 1, 0, 2, 0]] * 4, np.int32)
    np.testing.assert_array_equal(fused, expected)
    assert fused.dtype == np.int32
    np.testing.assert_array_equal(fuse_learned(flow, learned, reliability, threshold=0.0), flow)
    np.testing.assert_array_equal(fuse_learned(flow, learned, reliability, threshold=1.5), learned)
    np.testing.assert_array_equal(fuse_learned(flow, learned, None, threshold=0.5), learned)  # nothing carried
    with pytest.raises(InputError, match="the same shape"):
        fuse_learned(flow, learned[:, :5], reliability, 0.5)
