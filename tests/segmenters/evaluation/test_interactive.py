"""The DAVIS interactive protocol: robot scribbles, frame choice, frame scores, scribble JSON and the curve."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from foundation.errors import InputError
from foundation.io import VOID
from segmenters.evaluation.interactive import (
    SECONDS_PER_OBJECT,
    Session,
    auc,
    curve,
    frame_scores,
    largest_area_frame,
    mean_curve,
    objects_area,
    read_scribbles,
    robot_scribbles,
    score_at,
    scribbles_from_json,
    scribbles_to_json,
    skeleton_paths,
    time_budget,
    worst_frame,
    write_scribbles,
)
from segmenters.interactive.marks import Scribble

SHAPE = (120, 160)


def rounded_pixels(scribble: Scribble) -> np.ndarray:
    """``(x, y)`` integer pixels of a scribble on a :data:`SHAPE` frame."""
    return np.round(scribble.pixels(*SHAPE)).astype(np.int64)


def inside(scribble: Scribble, region: np.ndarray) -> bool:
    xy = rounded_pixels(scribble)
    return bool(region[xy[:, 1], xy[:, 0]].all())


def blob(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    mask = np.zeros(SHAPE, dtype=bool)
    mask[y0:y1, x0:x1] = True
    return mask


# --- Robot ---------------------------------------------------------------------------------------------------------


def test_missed_object_gets_a_scribble_inside_its_error_region() -> None:
    truth = np.zeros(SHAPE, dtype=np.int32)
    truth[blob(20, 80, 30, 110)] = 1
    prediction = np.zeros(SHAPE, dtype=np.int32)
    scribbles = robot_scribbles(prediction, truth, [1])
    assert [s.object_id for s in scribbles] == [1]
    assert len(scribbles[0].path) >= 4
    assert inside(scribbles[0], truth == 1)


def test_false_positive_gets_a_background_scribble_inside_it() -> None:
    truth = np.zeros(SHAPE, dtype=np.int32)
    truth[blob(20, 60, 20, 60)] = 1
    prediction = truth.copy()
    prediction[blob(70, 110, 90, 150)] = 1
    scribbles = robot_scribbles(prediction, truth, [1])
    assert [s.object_id for s in scribbles] == [0]
    assert inside(scribbles[0], blob(70, 110, 90, 150))


def test_a_pixel_predicted_as_another_object_is_an_error_of_both_ids() -> None:
    truth = np.zeros(SHAPE, dtype=np.int32)
    truth[blob(20, 80, 20, 70)] = 1
    truth[blob(20, 80, 90, 140)] = 2
    prediction = truth.copy()
    prediction[truth == 1] = 2
    scribbles = robot_scribbles(prediction, truth, [1, 2])
    assert [s.object_id for s in scribbles] == [1]
    assert inside(scribbles[0], truth == 1)


def test_no_error_no_scribble() -> None:
    truth = np.zeros(SHAPE, dtype=np.int32)
    truth[blob(20, 80, 30, 110)] = 1
    assert robot_scribbles(truth.copy(), truth, [1]) == []


def test_void_truth_is_never_an_error() -> None:
    truth = np.zeros(SHAPE, dtype=np.int32)
    truth[blob(20, 60, 20, 60)] = 1
    truth[blob(70, 110, 70, 150)] = VOID
    prediction = np.where(truth == 1, 1, 0)
    prediction[blob(70, 110, 70, 150)] = 1
    assert robot_scribbles(prediction, truth, [1]) == []


def test_thin_error_region_still_gets_a_scribble_by_shrinking_the_radius() -> None:
    # 3 px wide, 120 px long: area 360, r = 0.2·√360/2 ≈ 1.9 → disk(2) wipes it out, disk(1) keeps the middle row.
    truth = np.zeros(SHAPE, dtype=np.int32)
    truth[blob(40, 43, 20, 140)] = 1
    scribbles = robot_scribbles(np.zeros(SHAPE, dtype=np.int32), truth, [1])
    assert len(scribbles) == 1
    assert inside(scribbles[0], truth == 1)
    assert len(scribbles[0].path) > 100


def test_one_pixel_wide_error_is_used_unopened() -> None:
    truth = np.zeros(SHAPE, dtype=np.int32)
    truth[50, 10:100] = 1
    scribbles = robot_scribbles(np.zeros(SHAPE, dtype=np.int32), truth, [1])
    assert len(scribbles) == 1
    assert len(scribbles[0].path) == 90


def test_two_error_blobs_give_two_scribbles() -> None:
    truth = np.zeros(SHAPE, dtype=np.int32)
    truth[blob(10, 50, 10, 70)] = 1
    truth[blob(70, 110, 90, 150)] = 1
    scribbles = robot_scribbles(np.zeros(SHAPE, dtype=np.int32), truth, [1])
    assert len(scribbles) == 2
    assert inside(scribbles[0], blob(10, 50, 10, 70))
    assert inside(scribbles[1], blob(70, 110, 90, 150))


def test_robot_is_deterministic() -> None:
    rng = np.random.default_rng(0)
    truth = np.zeros(SHAPE, dtype=np.int32)
    truth[blob(10, 100, 20, 140)] = 1
    truth[rng.random(SHAPE) < 0.05] = 0
    prediction = np.zeros(SHAPE, dtype=np.int32)
    prediction[blob(30, 110, 40, 150)] = 1
    first, second = robot_scribbles(prediction, truth, [1]), robot_scribbles(prediction, truth, [1])
    assert len(first) == len(second) > 0
    for a, b in zip(first, second, strict=True):
        assert a.object_id == b.object_id
        np.testing.assert_array_equal(a.path, b.path)


def test_robot_rejects_bad_input() -> None:
    truth = np.zeros(SHAPE, dtype=np.int32)
    with pytest.raises(InputError, match="robot scribbles"):
        robot_scribbles(np.zeros((10, 10), dtype=np.int32), truth, [1])
    with pytest.raises(InputError, match="object id 255"):
        robot_scribbles(truth, truth, [VOID])


# --- Longest path ----------------------------------------------------------------------------------------------------


def test_longest_path_of_an_l() -> None:
    skeleton = np.zeros((20, 20), dtype=bool)
    skeleton[5, 2:12] = True  # 10 px
    skeleton[5:13, 2] = True  # 8 px, sharing the corner
    [path] = skeleton_paths(skeleton)
    assert len(path) == 17
    assert {tuple(path[0]), tuple(path[-1])} == {(11, 5), (2, 12)}
    assert np.abs(np.diff(path, axis=0)).max() == 1


def test_longest_path_of_a_plus_takes_the_two_longest_arms() -> None:
    skeleton = np.zeros((25, 25), dtype=bool)
    skeleton[10, 0:21] = True  # arms of 10 px left and right of the centre (10, 10)
    skeleton[3:18, 10] = True  # arms of 7 px up and down
    [path] = skeleton_paths(skeleton)
    assert len(path) == 21
    assert {tuple(path[0]), tuple(path[-1])} == {(0, 10), (20, 10)}
    assert len({tuple(p) for p in path}) == len(path)


def test_cycles_are_broken_and_small_pieces_dropped() -> None:
    skeleton = np.zeros((30, 30), dtype=bool)
    skeleton[2:12, 2] = skeleton[2:12, 11] = skeleton[2, 2:12] = skeleton[11, 2:12] = True  # a ring of 36 px
    skeleton[20, 5:8] = True  # 3 px: dropped
    skeleton[25, 5:9] = True  # 4 px: kept
    ring, bar = skeleton_paths(skeleton)
    assert len({tuple(p) for p in ring}) == len(ring) >= 18
    assert np.abs(np.diff(ring, axis=0)).max() == 1
    np.testing.assert_array_equal(np.sort(bar[:, 0]), [5, 6, 7, 8])
    assert skeleton_paths(np.zeros((5, 5), dtype=bool)) == []


# --- Which frame -----------------------------------------------------------------------------------------------------


def test_worst_frame_skips_marked_frames_and_breaks_ties_low() -> None:
    scores = [0.9, 0.3, 0.5, 0.3, 0.8]
    assert worst_frame(scores, set()) == 1
    assert worst_frame(scores, {1}) == 3
    assert worst_frame(scores, {1, 3}) == 2
    assert worst_frame(scores, {0, 1, 2, 3, 4}) == 1
    with pytest.raises(InputError, match="frame scores"):
        worst_frame([], set())


def test_largest_area_frame_breaks_ties_low() -> None:
    assert largest_area_frame([10, 40, 40, 5]) == 1
    assert largest_area_frame([0, 0]) == 0
    truth = np.zeros(SHAPE, dtype=np.int32)
    truth[blob(0, 10, 0, 10)] = 1
    truth[blob(20, 25, 0, 10)] = 2
    truth[blob(50, 60, 0, 10)] = VOID
    assert objects_area(truth, [1, 2]) == 150
    assert objects_area(truth, [2]) == 50


# --- Frame scores ----------------------------------------------------------------------------------------------------


def test_frame_scores_per_object_with_void_excluded() -> None:
    truth = np.zeros(SHAPE, dtype=np.int32)
    truth[blob(20, 60, 20, 60)] = 1
    truth[blob(70, 110, 70, 150)] = VOID
    prediction = np.where(truth == 1, 1, 0)
    prediction[blob(70, 110, 70, 150)] = 1  # on void only: not counted
    prediction[blob(70, 80, 10, 30)] = 2  # object 2 is absent from the truth
    j, f = frame_scores(prediction, truth, [1, 2, 3])
    assert j.dtype == f.dtype == np.float64
    np.testing.assert_allclose(j, [1.0, 0.0, 1.0])
    np.testing.assert_allclose(f, [1.0, 0.0, 1.0])


# --- Scribble JSON ---------------------------------------------------------------------------------------------------


def test_json_round_trip(tmp_path: Path) -> None:
    marks = {
        0: [Scribble(1, np.array([[0.1, 0.2], [0.3, 0.4]])), Scribble(0, np.array([[1.0, 0.0]]))],
        3: [Scribble(2, np.array([[0.5, 0.5], [0.25, 0.75], [0.0, 1.0]]))],
    }
    path = tmp_path / "bear.json"
    write_scribbles(path, "bear", 5, marks)
    document = json.loads(path.read_text())
    assert document["sequence"] == "bear" and len(document["scribbles"]) == 5
    assert document["scribbles"][3] == [{"path": [[0.5, 0.5], [0.25, 0.75], [0.0, 1.0]], "object_id": 2}]
    sequence, frames, read = read_scribbles(path)
    assert (sequence, frames) == ("bear", 5)
    assert sorted(read) == [0, 3]
    for frame, expected in marks.items():
        assert [s.object_id for s in read[frame]] == [s.object_id for s in expected]
        for got, want in zip(read[frame], expected, strict=True):
            np.testing.assert_array_equal(got.path, want.path)
    assert scribbles_from_json(scribbles_to_json("bear", 5, marks))[2].keys() == read.keys()


def test_frame_outside_the_sequence_is_rejected() -> None:
    with pytest.raises(InputError, match="frame 5"):
        scribbles_to_json("bear", 5, {5: [Scribble(1, np.array([[0.5, 0.5]]))]})


GOOD_SCRIBBLE = {"path": [[0.1, 0.2]], "object_id": 1}
MALFORMED = [
    ("not json", b"{not json", "not JSON"),
    ("not utf-8", b"\xff\xfe\x00", "not JSON"),
    ("a list", json.dumps([1]).encode(), "JSON list"),
    ("no scribbles", json.dumps({"sequence": "bear"}).encode(), 'no "scribbles"'),
    ("no sequence", json.dumps({"scribbles": []}).encode(), 'no "sequence"'),
    ("sequence not str", json.dumps({"scribbles": [], "sequence": 3}).encode(), '"sequence" is a int'),
    ("frames not lists", json.dumps({"scribbles": [GOOD_SCRIBBLE], "sequence": "b"}).encode(), "not a list of lists"),
    ("scribble not dict", json.dumps({"scribbles": [[3]], "sequence": "b"}).encode(), "scribble 0 is a int"),
    ("no path", json.dumps({"scribbles": [[{"object_id": 1}]], "sequence": "b"}).encode(), 'no "path"'),
    ("no object id", json.dumps({"scribbles": [[{"path": [[0, 0]]}]], "sequence": "b"}).encode(), 'no "object_id"'),
    (
        "float object id",
        json.dumps({"scribbles": [[{"path": [[0, 0]], "object_id": 1.5}]], "sequence": "b"}).encode(),
        "object id 1.5",
    ),
    (
        "string object id",
        json.dumps({"scribbles": [[{"path": [[0, 0]], "object_id": "1"}]], "sequence": "b"}).encode(),
        "object id '1'",
    ),
    (
        "void object id",
        json.dumps({"scribbles": [[{"path": [[0, 0]], "object_id": 255}]], "sequence": "b"}).encode(),
        "object id 255",
    ),
    (
        "empty path",
        json.dumps({"scribbles": [[{"path": [], "object_id": 1}]], "sequence": "b"}).encode(),
        "has path",
    ),
    (
        "bad point",
        json.dumps({"scribbles": [[], [{"path": [[0.1, "a"]], "object_id": 1}]], "sequence": "b"}).encode(),
        "frame 1, scribble 0 has path point",
    ),
    (
        "point outside",
        json.dumps({"scribbles": [[{"path": [[0.1, 1.2]], "object_id": 1}]], "sequence": "b"}).encode(),
        "outside the frame",
    ),
]


@pytest.mark.parametrize(("case", "data", "message"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_json_names_the_file(tmp_path: Path, case: str, data: bytes, message: str) -> None:
    path = tmp_path / "broken-scribbles.json"
    path.write_bytes(data)
    with pytest.raises(InputError) as caught:
        read_scribbles(path)
    assert "broken-scribbles.json" in str(caught.value)
    assert message in str(caught.value)


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="absent.json"):
        read_scribbles(tmp_path / "absent.json")


# --- The curve -------------------------------------------------------------------------------------------------------


def test_hand_computed_curve() -> None:
    times = np.cumsum([10.0, 20.0, 35.0])
    scores = [0.5, 0.7, 0.8]
    budget = time_budget(1)
    assert budget == SECONDS_PER_OBJECT == 240.0
    t, s = curve(times, scores, budget)
    np.testing.assert_allclose(t, [0, 10, 30, 65, 240])
    np.testing.assert_allclose(s, [0, 0.5, 0.7, 0.8, 0.8])
    # (2.5 + 12 + 26.25 + 140) / 240
    assert auc(times, scores, budget) == pytest.approx(0.753125, abs=1e-6)
    # 0.7 + 0.1 · 30 / 35
    assert score_at(times, scores, budget) == pytest.approx(0.785714, abs=1e-6)
    assert score_at(times, scores, budget, at=10.0) == pytest.approx(0.5)
    assert score_at(times, scores, budget, at=500.0) == pytest.approx(0.8)


def test_curve_is_cut_at_the_budget() -> None:
    times, scores = [100.0, 200.0, 300.0], [0.5, 0.6, 0.9]
    t, s = curve(times, scores, 240.0)
    np.testing.assert_allclose(t, [0, 100, 200, 240])
    np.testing.assert_allclose(s, [0, 0.5, 0.6, 0.72])  # 0.6 + 0.3 · 40 / 100
    # (25 + 55 + 26.4) / 240
    assert auc(times, scores, 240.0) == pytest.approx(106.4 / 240, abs=1e-9)
    t, s = curve([100.0, 240.0, 300.0], [0.5, 0.6, 0.9], 240.0)
    np.testing.assert_allclose(t, [0, 100, 240])
    np.testing.assert_allclose(s, [0, 0.5, 0.6])


def test_interactions_at_the_same_time_take_the_last_score() -> None:
    assert score_at([10.0, 10.0, 20.0], [0.2, 0.4, 0.6], 240.0, at=10.0) == pytest.approx(0.4)
    assert score_at([10.0, 10.0, 20.0], [0.2, 0.4, 0.6], 240.0, at=15.0) == pytest.approx(0.5)


def test_curve_rejects_bad_input() -> None:
    with pytest.raises(InputError, match="one score per time"):
        curve([1.0, 2.0], [0.5], 240.0)
    with pytest.raises(InputError, match="interaction times"):
        curve([2.0, 1.0], [0.5, 0.6], 240.0)
    with pytest.raises(InputError, match="budget"):
        curve([1.0], [0.5], 0.0)


def test_mean_curve_over_two_sessions() -> None:
    one = Session(np.array([10.0, 30.0]), np.array([[0.4], [0.6]]))
    two = Session(np.array([20.0, 50.0, 90.0]), np.array([[0.1, 0.4], [0.7, 0.8], [0.9, 0.9]]))
    times, scores, budget = mean_curve([one, two])
    np.testing.assert_allclose(times, [15.0, 40.0])
    np.testing.assert_allclose(scores, [0.3, 0.7])  # (0.4 + 0.1 + 0.4) / 3, (0.6 + 0.7 + 0.8) / 3
    assert budget == 360.0
    # (15 · 0.15 + 25 · 0.5 + 320 · 0.7) / 360
    assert auc(times, scores, budget) == pytest.approx(238.75 / 360, abs=1e-9)
    assert score_at(times, scores, budget, at=30.0) == pytest.approx(0.54)
    assert score_at(times, scores, budget) == pytest.approx(0.7)


def test_session_summaries() -> None:
    session = Session(np.array([10.0, 30.0, 65.0]), np.array([[0.4, 0.6], [0.6, 0.8], [0.8, 0.8]]))
    assert session.objects == 2 and session.max_time == 480.0
    assert session.auc() == pytest.approx(auc([10, 30, 65], [0.5, 0.7, 0.8], 480.0))
    assert session.score_at() == pytest.approx(0.785714, abs=1e-6)
    with pytest.raises(InputError, match="interactive session"):
        Session(np.array([1.0]), np.array([0.5]))


def test_robot_scribbles_are_the_same_bytes_every_call() -> None:
    # medial_axis breaks ties at random unless seeded: a blob with many equidistant ridges shows it.
    truth = np.zeros((120, 160), np.int32)
    truth[20:100, 30:130] = 1
    truth[40:80, 60:100] = 0
    first = robot_scribbles(np.zeros_like(truth), truth, [1])
    for _ in range(3):
        again = robot_scribbles(np.zeros_like(truth), truth, [1])
        assert [s.path.tobytes() for s in again] == [s.path.tobytes() for s in first]
