"""``lucid-track`` and ``lucid-eval`` end to end on the synthetic root, through their Hydra configs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from segmenters import cli_eval, cli_track


def test_track_then_eval(davis_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], app_config: Any) -> None:
    out = tmp_path / "flow"
    cli_track.run(app_config("track", [f"data.root={davis_root}", f"out={out}", "tracker=flow", "plots=true"]))
    printed = capsys.readouterr().out
    assert "J&F-Mean" in printed and "beta_2" in printed
    for name in ("alpha", "beta"):
        assert len(list((out / name).glob("*.png"))) == 7
        assert (out / "overlays" / f"{name}.mp4").is_file()
        assert (out / "overlays" / f"{name}_strip.png").is_file()
        assert (out / "plots" / f"{name}.png").is_file()
    assert not (out / "overlays" / "alpha.gif").exists()

    # Scoring the same folder again, on one sequence, into another folder.
    again = tmp_path / "again"
    evaluation = cli_eval.run(
        app_config("eval", [f"data.root={davis_root}", f"results={out}", f"out={again}", "data.sequences=[beta]"])
    )
    assert [s.name for s in evaluation.sequences] == ["beta"]
    rows = (again / "per-sequence_results.csv").read_text().splitlines()
    assert rows[1:] == [r for r in (out / "per-sequence_results.csv").read_text().splitlines() if r.startswith("beta")]
    assert not (again / "plots").exists()


def test_tracker_is_chosen_by_config(davis_root: Path, tmp_path: Path, app_config: Any) -> None:
    cfg = app_config("track", [f"data.root={davis_root}", f"out={tmp_path}", "tracker=flow", "tracker.preset=fast"])
    assert cfg.tracker._target_ == "segmenters.baselines.FlowTracker"
    assert cfg.tracker.preset == "fast"
    assert app_config("track", [f"data.root={davis_root}", f"out={tmp_path}"]).tracker._target_.endswith("CopyTracker")


def test_missing_frames_exit_with_a_clear_message(davis_root: Path, tmp_path: Path) -> None:
    results = tmp_path / "results"
    (results / "alpha").mkdir(parents=True)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "segmenters.cli_eval",
            f"data.root={davis_root}",
            f"results={results}",
            "data.sequences=[alpha]",
            f"hydra.run.dir={tmp_path / 'hydra'}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 2
    message = completed.stdout + completed.stderr
    assert "5 result frame(s) missing: alpha/00001.png, alpha/00002.png" in message
    assert "Traceback" not in message


def test_parallel_tracking_on_a_dask_cluster_writes_the_same_results(
    davis_root: Path, tmp_path: Path, app_config: Any
) -> None:
    common = [f"data.root={davis_root}", "tracker=flow", "overlays.video=false", "overlays.strip=false"]
    cli_track.run(app_config("track", [*common, f"out={tmp_path / 'serial'}"]))
    cli_track.run(app_config("track", [*common, f"out={tmp_path / 'dask'}", "parallel=true", "cluster.workers=2"]))
    for name in ("alpha", "beta"):
        serial = {p.name: p.read_bytes() for p in (tmp_path / "serial" / name).iterdir()}
        assert serial == {p.name: p.read_bytes() for p in (tmp_path / "dask" / name).iterdir()}
    rows = (tmp_path / "dask" / "stage_times.csv").read_text().splitlines()
    assert rows[0] == "sequence,track_s,total_s" and [r.split(",")[0] for r in rows[1:]] == ["alpha", "beta"]


def test_multirun_sweep_then_lucid_report(davis_root: Path, tmp_path: Path) -> None:
    """``lucid-track -m`` puts each setting in its own folder; ``lucid-report`` tabulates what differs."""
    bin_dir, out = Path(sys.executable).parent, tmp_path / "sweep"
    sweep = subprocess.run(
        [
            bin_dir / "lucid-track",
            "-m",
            f"data.root={davis_root}",
            f"out={out}",
            "tracker=copy,flow",
            "overlays.video=false",
            "overlays.strip=false",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert sweep.returncode == 0, sweep.stderr
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["tracker=copy", "tracker=flow"]
    report = subprocess.run([bin_dir / "lucid-report", out], capture_output=True, text=True, timeout=120)
    assert report.returncode == 0, report.stderr
    header, _, *rows = [line for line in report.stdout.splitlines() if line.startswith("|")]
    assert header.split(" | ")[:5] == ["| run", "tracker", "J&F", "J", "F"]
    scores = {}
    for row in rows:
        cells = row.split(" | ")
        global_csv = (out / cells[0].lstrip("| ") / "global_results.csv").read_text().splitlines()
        assert float(cells[2]) == pytest.approx(float(global_csv[1].split(",")[0]), abs=1e-3)
        scores[cells[1]] = float(cells[2])
    assert scores["flow"] > scores["copy"]
    assert (out / "report.csv").read_text().startswith("run,tracker,J&F,J,F,track s/seq")
    assert (out / "report.png").read_bytes()[:4] == b"\x89PNG"
