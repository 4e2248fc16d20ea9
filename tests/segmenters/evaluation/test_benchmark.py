"""Scoring result folders: protocol details, the CSV files, and the errors a user can meet."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from foundation.davis import select_sequences
from foundation.errors import InputError
from foundation.io import VOID, read_labels, write_labels
from segmenters.evaluation import evaluate, format_report, read_result, scored_frames, write_csvs
from segmenters.evaluation.metrics import boundary_f, jaccard


def write_results(folder: Path, name: str, labels_of: Callable[[int], np.ndarray], frames: int = 7) -> Path:
    for t in range(frames):
        write_labels(folder / name / f"{t:05d}.png", labels_of(t))
    return folder


def test_perfect_results_score_one(synthetic: SimpleNamespace, davis_root: Path, tmp_path: Path) -> None:
    results = tmp_path / "results"
    for name in ("alpha", "beta"):
        write_results(results, name, synthetic.labels)
    evaluation = evaluate(select_sequences(davis_root), results, workers=1, progress=False)
    assert [s.name for s in evaluation.sequences] == ["alpha", "beta"]
    assert evaluation.sequences[0].frames == ("00001", "00002", "00003", "00004", "00005")
    assert all(value == 1.0 for value in evaluation.summary().values() if value != 0.0)
    assert evaluation.summary()["J-Decay"] == 0.0


def test_scores_follow_the_definitions_frame_by_frame(
    synthetic: SimpleNamespace, davis_root: Path, tmp_path: Path
) -> None:
    results = write_results(tmp_path / "results", "alpha", lambda t: synthetic.labels(0))  # the first mask, copied
    (sequence,) = select_sequences(davis_root, ["alpha"])
    scores = evaluate([sequence], results, progress=False).sequences[0]
    assert scores.j.shape == scores.f.shape == (2, synthetic.frames - 2)
    for index, stem in enumerate(scores.frames):
        truth = read_labels(sequence.annotations[stem])
        for k in (1, 2):
            prediction, actual = synthetic.labels(0) == k, truth == k
            assert scores.j[k - 1, index] == pytest.approx(float(jaccard(prediction, actual)))
            assert scores.f[k - 1, index] == pytest.approx(float(boundary_f(prediction, actual)))
    # Object 1 moves 2 px a frame within a 20 px wide square: at frame t the overlap is (20 - 2t) / (20 + 2t).
    np.testing.assert_allclose(scores.j[0], [(20 - 2 * t) / (20 + 2 * t) for t in range(1, synthetic.frames - 1)])


def test_global_figures_are_means_over_objects(synthetic: SimpleNamespace, davis_root: Path, tmp_path: Path) -> None:
    results = write_results(tmp_path / "results", "alpha", lambda t: synthetic.labels(0))
    write_results(results, "beta", synthetic.labels)
    evaluation = evaluate(select_sequences(davis_root), results, progress=False)
    objects = evaluation.objects()
    assert [o.name for o in objects] == ["alpha_1", "alpha_2", "beta_1", "beta_2"]
    summary = evaluation.summary()
    assert summary["J-Mean"] == pytest.approx(np.mean([o.j.mean for o in objects]))
    assert summary["F-Decay"] == pytest.approx(np.mean([o.f.decay for o in objects]))
    assert summary["J&F-Mean"] == pytest.approx((summary["J-Mean"] + summary["F-Mean"]) / 2)


def test_missing_object_counts_as_empty_and_void_truth_as_background(
    synthetic: SimpleNamespace, davis_root: Path, tmp_path: Path
) -> None:
    # Ground truth gets a void band; the result has only object 1.
    (sequence,) = select_sequences(davis_root, ["alpha"])
    for t in range(synthetic.frames):
        truth = synthetic.labels(t)
        truth[0:2] = VOID
        write_labels(sequence.annotations[f"{t:05d}"], truth)
    results = write_results(tmp_path / "results", "alpha", lambda t: np.where(synthetic.labels(t) == 1, 1, 0))
    scores = evaluate([sequence], results, progress=False).sequences[0]
    np.testing.assert_array_equal(scores.j, [[1.0] * 5, [0.0] * 5])
    np.testing.assert_array_equal(scores.f, [[1.0] * 5, [0.0] * 5])


def test_parallel_and_serial_agree(synthetic: SimpleNamespace, davis_root: Path, tmp_path: Path) -> None:
    results = write_results(tmp_path / "results", "alpha", lambda t: synthetic.labels(max(t - 1, 0)))
    write_results(results, "beta", lambda t: synthetic.labels(0))
    sequences = select_sequences(davis_root)
    serial = evaluate(sequences, results, workers=1, progress=False)
    parallel = evaluate(sequences, results, workers=2, progress=False)
    assert serial.summary() == parallel.summary()


def test_csvs_are_written_as_the_official_toolkit_writes_them(
    synthetic: SimpleNamespace, davis_root: Path, tmp_path: Path
) -> None:
    results = write_results(tmp_path / "results", "alpha", lambda t: synthetic.labels(0))
    write_results(results, "beta", synthetic.labels)
    evaluation = evaluate(select_sequences(davis_root), results, progress=False)
    global_csv, per_sequence_csv = write_csvs(evaluation, tmp_path / "out")
    summary = evaluation.summary()
    assert global_csv.read_text() == (
        "J&F-Mean,J-Mean,J-Recall,J-Decay,F-Mean,F-Recall,F-Decay\n"
        + ",".join(f"{summary[k]:.3f}" for k in summary)
        + "\n"
    )
    lines = per_sequence_csv.read_text().splitlines()
    assert lines[0] == "Sequence,J-Mean,F-Mean"
    assert lines[3] == "beta_1,1.000,1.000"
    assert len(lines) == 5
    report = format_report(evaluation)
    assert "J&F-Mean" in report and "alpha_2" in report


def test_missing_result_frames_are_all_listed(synthetic: SimpleNamespace, davis_root: Path, tmp_path: Path) -> None:
    results = write_results(tmp_path / "results", "alpha", synthetic.labels)
    (results / "alpha" / "00003.png").unlink()
    (results / "alpha" / "00000.png").unlink()  # the first frame is not scored, so it may be absent
    with pytest.raises(InputError) as error:
        evaluate(select_sequences(davis_root), results, progress=False)
    message = str(error.value)
    assert "6 result frame(s) missing: alpha/00003.png; beta/ (no such folder)" in message
    assert "alpha/00000.png" not in message


def test_wrong_size_is_an_error(synthetic: SimpleNamespace, davis_root: Path, tmp_path: Path) -> None:
    results = write_results(tmp_path / "results", "alpha", synthetic.labels)
    write_labels(results / "alpha" / "00002.png", np.zeros((30, 40), dtype=np.int32))
    with pytest.raises(InputError, match=r"00002\.png: result is 40x30 \(expected the ground-truth size 80x60\)"):
        evaluate(select_sequences(davis_root, "alpha"), results, progress=False)


def test_unknown_object_id_is_an_error(synthetic: SimpleNamespace, davis_root: Path, tmp_path: Path) -> None:
    results = write_results(tmp_path / "results", "alpha", synthetic.labels)
    labels = synthetic.labels(4)
    labels[0, 0] = 3
    write_labels(results / "alpha" / "00004.png", labels)
    with pytest.raises(InputError, match=r"00004\.png: unknown object id\(s\) \[3\]"):
        evaluate(select_sequences(davis_root, "alpha"), results, progress=False)


def test_unreadable_result_is_an_error(synthetic: SimpleNamespace, davis_root: Path, tmp_path: Path) -> None:
    results = write_results(tmp_path / "results", "alpha", synthetic.labels)
    (results / "alpha" / "00001.png").write_bytes(b"not a png")
    with pytest.raises(InputError, match=r"00001\.png: unreadable"):
        evaluate(select_sequences(davis_root, "alpha"), results, progress=False)


def test_sequence_selection_errors(davis_root: Path) -> None:
    with pytest.raises(InputError, match=r"unknown sequence\(s\) \['gamma'\]"):
        select_sequences(davis_root, ["alpha", "gamma"])
    with pytest.raises(InputError, match="folder not found"):
        select_sequences(davis_root / "nowhere")


def test_partly_annotated_sequence_cannot_be_scored(davis_root: Path) -> None:
    for path in sorted((davis_root / "Annotations" / "480p" / "beta").glob("*.png"))[1:]:
        path.unlink()
    (sequence,) = select_sequences(davis_root, "beta")
    with pytest.raises(InputError, match="only 1 of 7 frames have a ground-truth mask"):
        scored_frames(sequence)


def test_grayscale_results_are_id_maps_unless_binary(tmp_path: Path) -> None:
    ids = np.zeros((4, 6), dtype=np.uint8)
    ids[1, 1:3], ids[2, 4] = 1, 2
    cv2.imwrite(str(tmp_path / "ids.png"), ids)
    np.testing.assert_array_equal(read_result(tmp_path / "ids.png"), ids)
    cv2.imwrite(str(tmp_path / "binary.png"), ids.astype(bool) * np.uint8(255))
    np.testing.assert_array_equal(read_result(tmp_path / "binary.png"), ids.astype(bool))
    write_labels(tmp_path / "palette.png", ids.astype(np.int32))
    np.testing.assert_array_equal(read_result(tmp_path / "palette.png"), ids)


def test_objects_are_the_ids_of_the_first_annotation(davis_root: Path, tmp_path: Path) -> None:
    """Ids 1 and 200 are two objects (not 200): leaving 200 out scores 0.5, and the tables name the real ids."""
    (sequence,) = select_sequences(davis_root, ["alpha"])
    truths = {stem: read_labels(path) for stem, path in sequence.annotations.items()}
    for stem, labels in truths.items():
        write_labels(sequence.annotations[stem], np.where(labels == 2, 200, labels))
    results = write_results(tmp_path / "results", "alpha", lambda t: np.where(truths[f"{t:05d}"] == 1, 1, 0))
    evaluation = evaluate([sequence], results, progress=False)
    assert evaluation.sequences[0].ids == (1, 200)
    assert [o.name for o in evaluation.objects()] == ["alpha_1", "alpha_200"]
    assert evaluation.summary()["J&F-Mean"] == 0.5
    labels = truths["00002"].copy()
    labels[0, 0] = 2  # neither background nor an object of alpha
    write_labels(results / "alpha" / "00002.png", labels)
    with pytest.raises(InputError, match=r"00002\.png: unknown object id\(s\) \[2\] \(expected ids \[0, 1, 200\]"):
        evaluate([sequence], results, progress=False)
