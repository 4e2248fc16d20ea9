"""``lucid-interactive`` end to end on the synthetic DAVIS root: the robot's tables, curve, scribbles and labels, and
one clear line for bad input."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from foundation.io import read_labels
from segmenters.cli_interactive import main
from segmenters.evaluation.interactive import frame_scores, read_scribbles

FLOW_ONLY = ("profile=demo", "interactions=2", "session.learning.enabled=false")
HEADER = "sequence,interaction,frame,seconds,cumulated_s,J,F,J&F,marked_J_before,marked_J"


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def error_line(err: str) -> str:
    """The one line the command printed about the error (and nothing like a traceback)."""
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if "error" in line.lower()]
    assert len(lines) == 1, err
    assert lines[0].startswith("lucid-interactive: error: ")
    return lines[0]


def test_a_robot_session_writes_tables_curve_scribbles_and_labels(
    davis_root: Path, tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    out = tmp_path / "out"
    result = run_cli(main, f"data.root={davis_root}", f"out={out}", *FLOW_ONLY)
    assert result.status == 0, result.err

    interactions = (out / "interactions.csv").read_text().splitlines()
    assert interactions[0] == HEADER
    table = rows(out / "interactions.csv")
    assert [(r["sequence"], r["interaction"]) for r in table] == [
        ("alpha", "1"),
        ("alpha", "2"),
        ("beta", "1"),
        ("beta", "2"),
    ]
    for row in table:
        assert 0 <= int(row["frame"]) < 7
        assert 0.0 <= float(row["J"]) <= 1.0 and 0.0 <= float(row["F"]) <= 1.0
        assert float(row["J&F"]) == pytest.approx((float(row["J"]) + float(row["F"])) / 2, abs=1e-4)
    for first, second in (table[0:2], table[2:4]):
        assert float(second["cumulated_s"]) >= float(first["cumulated_s"])
        assert first["frame"] != second["frame"]  # the robot marks a frame not marked yet

    summary = {r["sequence"]: r for r in rows(out / "summary.csv")}
    assert set(summary) == {"alpha", "beta", "mean"}
    for row in summary.values():
        assert 0.0 <= float(row["AUC"]) <= 1.0
        assert 0.0 <= float(row["J&F@60s"]) <= 1.0
    assert summary["alpha"]["objects"] == "2" and summary["mean"]["interactions"] == "2"

    assert (out / "curve.png").read_bytes().startswith(b"\x89PNG")
    name, frames, scribbles = read_scribbles(out / "scribbles" / "alpha.json")
    assert (name, frames) == ("alpha", 7)
    assert set(scribbles) == {int(r["frame"]) for r in table if r["sequence"] == "alpha"}
    assert all(scribbles.values())
    for sequence in ("alpha", "beta"):
        assert sorted(p.name for p in (out / sequence).glob("*.png")) == [f"{t:05d}.png" for t in range(7)]
        first, last = [r for r in table if r["sequence"] == sequence]
        # The marked frame's J: none before the first interaction; after the last, that of the labels written.
        assert first["marked_J_before"] == "" and 0.0 <= float(last["marked_J_before"]) <= 1.0
        stem = f"{int(last['frame']):05d}.png"
        truth = read_labels(davis_root / "Annotations" / "480p" / sequence / stem)
        j, _ = frame_scores(read_labels(out / sequence / stem), truth, [1, 2])
        assert float(last["marked_J"]) == pytest.approx(float(np.mean(j)), abs=1e-4)
        # The final J&F of the marked frames and of the others, from the labels written.
        truths = [read_labels(davis_root / "Annotations" / "480p" / sequence / f"{t:05d}.png") for t in range(7)]
        final = [frame_scores(read_labels(out / sequence / f"{t:05d}.png"), truths[t], [1, 2]) for t in range(7)]
        final_jf = [float((j.mean() + f.mean()) / 2) for j, f in final]
        marked = {int(r["frame"]) for r in (first, last)}
        expected = [np.mean([s for t, s in enumerate(final_jf) if (t in marked) == m]) for m in (True, False)]
        got = [float(summary[sequence][f"final_J&F_{name}"]) for name in ("marked", "other")]
        assert got == pytest.approx(expected, abs=1e-4)
    assert (out / "overlays").is_dir()

    assert "Spearman" in result.out and "J of the marked frames" in result.out and "of the others" in result.out
    assert "alpha" in result.out and "mean" in result.out


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ("interactions=0", "interactions: 0 (expected at least 1)"),
        ("data.sequences=[gamma]", "'gamma' not found"),
        ("session.seeded.method=foo", "session.seeded.method: 'foo' (expected one of random_walker, grabcut)"),
        ("session.learning.samples=foo", "session.learning.samples: 'foo'"),
    ],
    ids=["interactions", "sequence", "seeded-method", "learning-samples"],
)
def test_bad_input_exits_2_with_one_line_naming_it(
    davis_root: Path, tmp_path: Path, run_cli: Callable[..., Any], setting: str, named: str
) -> None:
    out = tmp_path / "out"
    result = run_cli(main, f"data.root={davis_root}", f"out={out}", *FLOW_ONLY, setting)
    assert result.status == 2
    assert named in error_line(result.err)
    assert not (out / "interactions.csv").exists()


@pytest.mark.slow
def test_learning_from_corrections_runs_and_changes_the_labels(
    davis_root: Path, tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    common = (f"data.root={davis_root}", "profile=demo", "interactions=2", "data.sequences=[alpha]")
    learning = (
        "session.learning.start=1",
        "session.learning.steps=20",
        "session.learning.finetune_steps=5",
        "session.learning.pairs_per_frame=4",
    )
    result = run_cli(main, *common, f"out={tmp_path / 'learn'}", *learning)
    assert result.status == 0, result.err
    assert [r["sequence"] for r in rows(tmp_path / "learn" / "interactions.csv")] == ["alpha", "alpha"]
    assert len(list((tmp_path / "learn" / "alpha").glob("*.png"))) == 7
    # The trained networks, not the flow, propagated: the labels are not those of a flow-only session.
    flow = run_cli(main, *common, f"out={tmp_path / 'flow'}", "session.learning.enabled=false")
    assert flow.status == 0, flow.err
    learned = {p.name: p.read_bytes() for p in (tmp_path / "learn" / "alpha").glob("*.png")}
    assert learned != {p.name: p.read_bytes() for p in (tmp_path / "flow" / "alpha").glob("*.png")}
