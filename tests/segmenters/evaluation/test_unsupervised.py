"""The DAVIS unsupervised protocols: candidates matched to the objects (2017), and all of them as one mask (2016)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from foundation.davis import Sequence, select_sequences
from foundation.errors import InputError
from foundation.io import VOID, write_labels
from segmenters.evaluation import (
    Pair,
    evaluate,
    evaluate_unsupervised,
    evaluate_unsupervised_sequence,
    format_report,
    match_candidates,
    pair_scores,
    write_binary_csvs,
    write_csvs,
    write_matching_csv,
)
from segmenters.evaluation.metrics import boundary_f, jaccard

SIZE = 20


def write_results(folder: Path, name: str, labels_of: Callable[[int], np.ndarray], frames: int) -> Path:
    for t in range(frames):
        write_labels(folder / name / f"{t:05d}.png", labels_of(t))
    return folder


def write_sequence(root: Path, name: str, truth: list[np.ndarray]) -> Sequence:
    """A DAVIS-layout sequence of black frames with ground truth ``truth``, one label map a frame."""
    for t, labels in enumerate(truth):
        frame = root / "JPEGImages" / "480p" / name / f"{t:05d}.png"
        frame.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(frame), np.zeros((*labels.shape, 3), dtype=np.uint8))
        write_labels(root / "Annotations" / "480p" / name / f"{t:05d}.png", labels)
    (sequence,) = select_sequences(root, [name])
    return sequence


def box(rows: slice, cols: slice, label: int = 1) -> np.ndarray:
    labels = np.zeros((SIZE, SIZE), dtype=np.int32)
    labels[rows, cols] = label
    return labels


def swapped(labels: np.ndarray) -> np.ndarray:
    return np.select([labels == 1, labels == 2], [2, 1], 0)


# -- matching --------------------------------------------------------------------------------------------------------


def test_matching_maximises_the_total_not_each_pair() -> None:
    # Greedy would take (0, 0) first, for 0.9 + 0.1 in all.
    assert match_candidates(np.array([[0.9, 0.8], [0.8, 0.1]])) == [(0, 1), (1, 0)]
    assert match_candidates(np.array([[0.2, 0.9, 0.1]])) == [(0, 1)]
    assert match_candidates(np.zeros((2, 0))) == []


def test_an_object_takes_an_empty_mask_only_when_candidates_run_short() -> None:
    # Object 0 is mostly absent: an empty mask scores it 0.9, so the one candidate goes to object 1 (1.4 in all).
    assert match_candidates(np.array([[0.6], [0.5]]), empty=np.array([0.9, 0.0])) == [(1, 0)]
    assert match_candidates(np.array([[0.6], [0.5]])) == [(0, 0)]
    assert match_candidates(np.array([[0.6], [0.5]]), empty=np.array([0.0, 0.0])) == [(0, 0)]
    # As many candidates as objects: each object gets one, even one scoring less than an empty mask would.
    assert match_candidates(np.array([[0.1]]), empty=np.array([0.9])) == [(0, 0)]
    assert match_candidates(np.zeros((2, 0)), empty=np.ones(2)) == []


def test_pair_scores_are_jaccard_and_boundary_f_of_each_pair() -> None:
    rng = np.random.default_rng(3)
    truth = cv2.resize(rng.integers(0, 4, (5, 6)).astype(np.uint8), (47, 31), interpolation=cv2.INTER_NEAREST)
    candidates = cv2.resize(rng.integers(0, 5, (4, 7)).astype(np.uint8), (47, 31), interpolation=cv2.INTER_NEAREST)
    candidates[candidates == 4] = 200
    everything = np.full_like(truth, 9)  # a mask without a boundary pixel
    for labels, ids in ((candidates, (1, 2, 3, 77, 200)), (everything, (9,))):
        object_ids = (1, 2, 3, 50)  # 50 is absent: an empty mask
        for tolerance in (0.008, 3):
            j, f = pair_scores(labels, truth, ids, object_ids, tolerance)
            assert j.shape == f.shape == (4, len(ids) + 1)
            for row, g in enumerate(object_ids):
                for col, c in enumerate([*ids, None]):
                    predicted = np.zeros(labels.shape, dtype=bool) if c is None else labels == c
                    actual = truth == g
                    assert j[row, col] == jaccard(predicted, actual)
                    assert f[row, col] == boundary_f(predicted, actual, tolerance)


# -- the DAVIS-2017 protocol -----------------------------------------------------------------------------------------


def test_swapped_ids_are_matched_perfectly(synthetic: SimpleNamespace, davis_root: Path, tmp_path: Path) -> None:
    results = write_results(tmp_path / "results", "alpha", lambda t: swapped(synthetic.labels(t)), synthetic.frames)
    (sequence,) = select_sequences(davis_root, ["alpha"])
    scores, matching = evaluate_unsupervised_sequence(sequence, results)
    assert scores.frames == tuple(f"{t:05d}" for t in range(synthetic.frames))  # first and last included
    assert scores.ids == (1, 2)
    np.testing.assert_array_equal(scores.j, np.ones((2, synthetic.frames)))
    np.testing.assert_array_equal(scores.f, np.ones((2, synthetic.frames)))
    assert matching.sequence == "alpha" and matching.candidates == (1, 2)
    assert matching.pairs == (Pair(1, 2, 1.0, 1.0), Pair(2, 1, 1.0, 1.0))
    # The semi-supervised protocol takes the ids as they are.
    assert evaluate([sequence], results, progress=False).summary()["J-Mean"] == 0.0


def test_an_extra_candidate_costs_nothing(synthetic: SimpleNamespace, davis_root: Path, tmp_path: Path) -> None:
    def first_mask_with_extra(t: int) -> np.ndarray:
        labels = synthetic.labels(0) * 3  # ids 3 and 6: the first mask, held still
        labels[52:58, 0:6] = 5  # away from both objects in every frame
        return labels

    sequences = select_sequences(davis_root, ["alpha"])
    plain = write_results(tmp_path / "plain", "alpha", lambda t: synthetic.labels(0) * 3, synthetic.frames)
    extra = write_results(tmp_path / "extra", "alpha", first_mask_with_extra, synthetic.frames)
    without = evaluate_unsupervised(sequences, plain, progress=False)
    with_extra = evaluate_unsupervised(sequences, extra, progress=False)
    assert with_extra.matched.summary() == without.matched.summary()
    assert without.matched.summary()["J-Mean"] < 1
    (matching,) = with_extra.matchings
    assert matching.candidates == (3, 5, 6)
    assert [(p.object_id, p.candidate_id) for p in matching.pairs] == [(1, 3), (2, 6)]


def test_an_object_without_a_candidate_scores_zero_where_present(tmp_path: Path) -> None:
    # Object 2 is in frames 0-2 of 5; the only candidate (id 4) is object 1, exactly.
    truth = [box(slice(2, 8), slice(2, 8)) + (box(slice(12, 18), slice(12, 18), 2) if t < 3 else 0) for t in range(5)]
    sequence = write_sequence(tmp_path / "davis", "seq", truth)
    results = write_results(tmp_path / "results", "seq", lambda t: np.where(truth[t] == 1, 4, 0), 5)
    evaluation = evaluate_unsupervised([sequence], results, progress=False)
    (scores,) = evaluation.matched.sequences
    np.testing.assert_array_equal(scores.j, [[1, 1, 1, 1, 1], [0, 0, 0, 1, 1]])
    np.testing.assert_array_equal(scores.f, [[1, 1, 1, 1, 1], [0, 0, 0, 1, 1]])
    assert evaluation.matchings[0].pairs == (Pair(1, 4, 1.0, 1.0), Pair(2, None, 0.4, 0.4))
    path = write_matching_csv(evaluation.matchings, tmp_path / "out")
    assert path.read_text() == ("Sequence,Object,Candidate,J-Mean,F-Mean\nseq,1,4,1.000,1.000\nseq,2,,0.400,0.400\n")


def test_a_mostly_absent_object_is_left_the_empty_mask(tmp_path: Path) -> None:
    """Object 1 is only in frame 0, object 2 in every frame; the one candidate is object 1 in frame 0, nothing in
    frames 1-2 and object 2 in frames 3-4. Against the candidate object 1 scores 3/5 and object 2 2/5; against an
    empty mask 4/5 and 0. Matching the candidate to object 2 totals 6/5, to object 1 only 3/5."""
    a, b = box(slice(1, 6), slice(1, 6)), box(slice(12, 18), slice(12, 18), 2)
    truth = [a + b, b, b, b, b]
    nothing, on_a, on_b = np.zeros_like(a), np.where(a > 0, 5, 0), np.where(b > 0, 5, 0)
    candidate = [on_a, nothing, nothing, on_b, on_b]
    sequence = write_sequence(tmp_path / "davis", "seq", truth)
    results = write_results(tmp_path / "results", "seq", lambda t: candidate[t], 5)
    scores, matching = evaluate_unsupervised_sequence(sequence, results)
    assert matching.pairs == (Pair(1, None, 0.8, 0.8), Pair(2, 5, 0.4, 0.4))
    np.testing.assert_array_equal(scores.j, [[0, 1, 1, 1, 1], [0, 0, 0, 1, 1]])


def test_a_half_right_candidate_scores_a_half(tmp_path: Path) -> None:
    # A 10x10 object and a candidate of its left half: J = 50 / 100 in every frame.
    truth = [box(slice(5, 15), slice(5, 15)) for _ in range(3)]
    sequence = write_sequence(tmp_path / "davis", "seq", truth)
    results = write_results(tmp_path / "results", "seq", lambda t: box(slice(5, 15), slice(5, 10), 8), 3)
    scores, matching = evaluate_unsupervised_sequence(sequence, results)
    np.testing.assert_array_equal(scores.j, [[0.5, 0.5, 0.5]])
    expected_f = boundary_f(box(slice(5, 15), slice(5, 10)) > 0, truth[0] > 0)
    np.testing.assert_array_equal(scores.f, [[expected_f] * 3])
    assert 0 < expected_f < 1
    assert matching.pairs == (Pair(1, 8, 0.5, float(expected_f)),)


def test_first_and_last_frames_are_scored(tmp_path: Path) -> None:
    # A perfect result but for the last frame, where it is empty: J and F are 1, 1, 1, 1, 0.
    truth = [box(slice(4 + t, 12 + t), slice(3, 11)) for t in range(5)]
    sequence = write_sequence(tmp_path / "davis", "seq", truth)
    results = write_results(tmp_path / "results", "seq", lambda t: truth[t] * 6 if t < 4 else truth[t] * 0, 5)
    summary = evaluate_unsupervised([sequence], results, progress=False).matched.summary()
    assert summary["J-Mean"] == summary["F-Mean"] == pytest.approx(0.8)
    assert summary["J-Decay"] == pytest.approx(0.5)  # the first quarter is frames 0-1, the last frames 3-4
    write_labels(results / "seq" / "00004.png", truth[4] * 6)
    write_labels(results / "seq" / "00000.png", np.zeros((SIZE, SIZE), dtype=np.int32))
    summary = evaluate_unsupervised([sequence], results, progress=False).matched.summary()
    assert summary["J-Mean"] == pytest.approx(0.8) and summary["J-Decay"] == pytest.approx(-0.5)


def test_void_is_background_and_objects_come_from_every_frame(tmp_path: Path) -> None:
    # Object 3 first appears in the last frame; a void border is background.
    truth = [box(slice(2, 8), slice(2, 8)) for _ in range(3)]
    truth[2] = truth[2] + box(slice(12, 16), slice(12, 16), 3)
    for labels in truth:
        labels[0, :] = VOID
    sequence = write_sequence(tmp_path / "davis", "seq", truth)
    results = write_results(tmp_path / "results", "seq", lambda t: np.where(truth[t] == VOID, 0, truth[t]), 3)
    scores, matching = evaluate_unsupervised_sequence(sequence, results)
    assert scores.ids == (1, 3) and matching.candidates == (1, 3)
    np.testing.assert_array_equal(scores.j, np.ones((2, 3)))


def test_more_than_20_candidates_is_an_error(tmp_path: Path) -> None:
    truth = [box(slice(0, 4), slice(0, 4)) for _ in range(3)]
    sequence = write_sequence(tmp_path / "davis", "seq", truth)

    def candidates(count: int) -> Callable[[int], np.ndarray]:
        # Each frame holds a third of the ids: only the sequence as a whole holds too many.
        def labels(t: int) -> np.ndarray:
            ids = [k + 1 for k in range(count) if k % 3 == t]
            labels = np.zeros(SIZE * SIZE, dtype=np.int32)
            labels[: len(ids)] = ids
            return labels.reshape(SIZE, SIZE)

        return labels

    results = write_results(tmp_path / "ok", "seq", candidates(20), 3)
    assert len(evaluate_unsupervised_sequence(sequence, results)[1].candidates) == 20
    results = write_results(tmp_path / "too_many", "seq", candidates(21), 3)
    with pytest.raises(InputError) as error:
        evaluate_unsupervised([sequence], results, progress=False)
    assert str(error.value) == (
        f"{results / 'seq'}: 21 candidate ids in the result frames (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, "
        "16, 17, 18, 19, 20, 21) (expected at most 20 candidates a sequence)"
    )


def test_missing_result_frames_are_all_listed_first_and_last_too(
    synthetic: SimpleNamespace, davis_root: Path, tmp_path: Path
) -> None:
    results = write_results(tmp_path / "results", "alpha", synthetic.labels, synthetic.frames)
    (results / "alpha" / "00000.png").unlink()
    (results / "alpha" / "00006.png").unlink()
    with pytest.raises(InputError) as error:
        evaluate_unsupervised(select_sequences(davis_root), results, progress=False)
    message = str(error.value)
    assert "9 result frame(s) missing: alpha/00000.png, alpha/00006.png; beta/ (no such folder)" in message
    assert "the first and the last included" in message


def test_wrong_size_is_an_error(synthetic: SimpleNamespace, davis_root: Path, tmp_path: Path) -> None:
    results = write_results(tmp_path / "results", "alpha", synthetic.labels, synthetic.frames)
    write_labels(results / "alpha" / "00006.png", np.zeros((30, 40), dtype=np.int32))
    with pytest.raises(InputError, match=r"00006\.png: result is 40x30 \(expected the ground-truth size 80x60\)"):
        evaluate_unsupervised(select_sequences(davis_root, "alpha"), results, progress=False)


# -- the DAVIS-2016 definition ---------------------------------------------------------------------------------------


def test_binary_scores_the_union_of_candidates_against_the_union_of_objects(tmp_path: Path) -> None:
    # A 10x10 object; candidate 1 is its left half, candidate 2 its right half and 5 columns beyond: the union is
    # 10x15, so J = 100 / 150.
    truth = [box(slice(5, 15), slice(2, 12), 4) for _ in range(3)]
    sequence = write_sequence(tmp_path / "davis", "seq", truth)
    candidates = box(slice(5, 15), slice(2, 7), 1) + box(slice(5, 15), slice(7, 17), 2)
    results = write_results(tmp_path / "results", "seq", lambda t: candidates, 3)
    both = evaluate_unsupervised([sequence], results, progress=False)
    (scores,) = both.binary.sequences
    assert scores.ids == (1,) and scores.frames == ("00000", "00001", "00002")
    np.testing.assert_allclose(scores.j, [[2 / 3] * 3])
    np.testing.assert_array_equal(scores.f, [[boundary_f(candidates > 0, truth[0] > 0)] * 3])
    # Matched, the object takes one candidate: its left half (J 1/2) rather than the other (J 50/150).
    assert both.matchings[0].pairs[0].candidate_id == 1
    np.testing.assert_array_equal(both.matched.sequences[0].j, [[0.5] * 3])


def test_tables_and_csvs_are_those_of_the_semi_supervised_task(
    synthetic: SimpleNamespace, davis_root: Path, tmp_path: Path
) -> None:
    results = write_results(tmp_path / "results", "alpha", lambda t: swapped(synthetic.labels(t)), synthetic.frames)
    write_results(results, "beta", lambda t: np.where(synthetic.labels(t) == 1, 9, 0), synthetic.frames)
    evaluation = evaluate_unsupervised(select_sequences(davis_root), results, workers=2, progress=False)
    serial = evaluate_unsupervised(select_sequences(davis_root), results, workers=1, progress=False)
    assert serial.matched.summary() == evaluation.matched.summary()
    assert "beta_2" in format_report(evaluation.matched)
    _, per_sequence = write_csvs(evaluation.matched, tmp_path / "out")
    assert per_sequence.read_text().splitlines()[1:] == [
        "alpha_1,1.000,1.000",
        "alpha_2,1.000,1.000",
        "beta_1,1.000,1.000",
        "beta_2,0.000,0.000",
    ]
    global_csv, per_sequence = write_binary_csvs(evaluation.binary, tmp_path / "out")
    assert (global_csv.name, per_sequence.name) == ("binary_global_results.csv", "binary_per-sequence_results.csv")
    # beta: object 1 (20x20) of objects 1 and 2 (20x20 and 15x20, apart): J = 400 / 700 in every frame.
    assert [row.split(",")[:2] for row in per_sequence.read_text().splitlines()] == [
        ["Sequence", "J-Mean"],
        ["alpha_1", "1.000"],
        ["beta_1", f"{4 / 7:.3f}"],
    ]
    assert float(jaccard(synthetic.labels(3) == 1, synthetic.labels(3) > 0)) == 4 / 7
