"""``lucid-eval task=unsupervised`` end to end on the synthetic root, and a ``task`` it does not know."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from foundation.io import write_labels
from segmenters import cli_eval


def write_candidates(results: Path, synthetic: SimpleNamespace) -> Path:
    """alpha: both objects, ids swapped (a perfect match); beta: object 1 alone, as id 9 (object 2 unmatched)."""
    for t in range(synthetic.frames):
        labels = synthetic.labels(t)
        write_labels(results / "alpha" / f"{t:05d}.png", np.select([labels == 1, labels == 2], [2, 1], 0))
        write_labels(results / "beta" / f"{t:05d}.png", np.where(labels == 1, 9, 0))
    return results


def test_unsupervised_writes_the_tables_the_matching_and_the_binary_figures(
    synthetic: SimpleNamespace, davis_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], app_config: Any
) -> None:
    results, out = write_candidates(tmp_path / "results", synthetic), tmp_path / "out"
    evaluation = cli_eval.run(
        app_config("eval", [f"data.root={davis_root}", f"results={results}", f"out={out}", "task=unsupervised"])
    )
    assert [s.frames[0] for s in evaluation.sequences] == ["00000", "00000"]
    printed = capsys.readouterr().out
    assert f"Global results for {results} (unsupervised, candidates matched to objects)" in printed
    assert "DAVIS-2016 unsupervised" in printed and "beta_2" in printed

    assert (out / "global_results.csv").read_text().splitlines()[1].split(",")[1] == "0.750"  # J-Mean
    assert (out / "per-sequence_results.csv").read_text().splitlines() == [
        "Sequence,J-Mean,F-Mean",
        "alpha_1,1.000,1.000",
        "alpha_2,1.000,1.000",
        "beta_1,1.000,1.000",
        "beta_2,0.000,0.000",
    ]
    assert (out / "matching.csv").read_text().splitlines() == [
        "Sequence,Object,Candidate,J-Mean,F-Mean",
        "alpha,1,2,1.000,1.000",
        "alpha,2,1,1.000,1.000",
        "beta,1,9,1.000,1.000",
        "beta,2,,0.000,0.000",
    ]
    # beta as one mask: object 1 (20x20) of objects 1 and 2 (20x20 and 15x20, apart), J = 400 / 700.
    binary = (out / "binary_per-sequence_results.csv").read_text().splitlines()
    assert [row.split(",")[:2] for row in binary] == [["Sequence", "J-Mean"], ["alpha_1", "1.000"], ["beta_1", "0.571"]]
    binary_global = (out / "binary_global_results.csv").read_text().splitlines()
    assert binary_global[1].split(",")[1] == f"{(1 + 4 / 7) / 2:.3f}"
    assert not (out / "plots").exists()


def test_unsupervised_plots_the_matched_scores(
    synthetic: SimpleNamespace, davis_root: Path, tmp_path: Path, app_config: Any
) -> None:
    results = write_candidates(tmp_path / "results", synthetic)
    overrides = [f"data.root={davis_root}", f"results={results}", "task=unsupervised", "plots=true"]
    cli_eval.run(app_config("eval", [*overrides, "data.sequences=[beta]"]))
    assert (results / "plots" / "beta.png").read_bytes()[:4] == b"\x89PNG"
    assert (results / "matching.csv").read_text().splitlines()[1:] == ["beta,1,9,1.000,1.000", "beta,2,,0.000,0.000"]


def test_an_unknown_task_is_a_one_line_error_before_any_work(davis_root: Path, tmp_path: Path, run_cli: Any) -> None:
    out = tmp_path / "out"
    run = run_cli(cli_eval.main, f"data.root={davis_root}", f"results={tmp_path}", f"out={out}", "task=bogus")
    assert run.status == 2
    assert run.err == "lucid-eval: error: task: unknown task 'bogus' (expected one of semi-supervised, unsupervised)\n"
    assert not out.exists()


def test_missing_frames_of_the_unsupervised_task_name_the_first_frame(
    synthetic: SimpleNamespace, davis_root: Path, tmp_path: Path, run_cli: Any
) -> None:
    results = write_candidates(tmp_path / "results", synthetic)
    (results / "beta" / "00000.png").unlink()
    run = run_cli(cli_eval.main, f"data.root={davis_root}", f"results={results}", "task=unsupervised")
    assert run.status == 2
    assert run.err.startswith(f"lucid-eval: error: {results}: 1 result frame(s) missing: beta/00000.png")
    assert not (results / "matching.csv").exists()
