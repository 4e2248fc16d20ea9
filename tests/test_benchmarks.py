"""The benchmark scripts compose their configuration in a fresh interpreter (they run on their own, not after the CLIs
have registered the schemas, so only a new process shows whether they register them themselves)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dreaming.synthesis.samples import make_clip, write_davis
from segmenters.interactive.seeded import METHODS

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_track_davis_composes_the_tracker_with_overrides(tmp_path: Path) -> None:
    clip = make_clip(num_frames=2, size=(64, 64), num_objects=1, seed=0)
    root = write_davis(clip, tmp_path / "davis")
    result = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "track_davis.py"),
            "--root",
            str(root),
            "--out",
            str(tmp_path / "out"),
            "--print-config",
            "proposals.keep=0.25",
            "--sequences",
            clip.name,
            "tracker.seed=3",  # after the list option: still an override
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "keep: 0.25" in result.stdout and "seed: 3" in result.stdout
    assert not (tmp_path / "out").exists(), "printing the settings writes nothing"


def test_snap_flow_compares_the_plain_and_snapped_propagation(tmp_path: Path) -> None:
    clip = make_clip(num_frames=4, size=(96, 64), num_objects=2, seed=0)
    root = write_davis(clip, tmp_path / "davis")
    script = str(BENCHMARKS / "snap_flow.py")
    result = subprocess.run(
        [sys.executable, script, "--root", str(root), "--radius", "0.02"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "plain (the flow step's seconds)" in result.stdout and "snapped, radius 0.02" in result.stdout


def test_seeded_marks_scores_the_first_interaction_with_and_without_still_background(tmp_path: Path) -> None:
    clip = make_clip(num_frames=3, size=(96, 64), num_objects=2, seed=0)
    root = write_davis(clip, tmp_path / "davis")
    script = str(BENCHMARKS / "seeded_marks.py")
    arguments = ["--root", str(root), "--frame", "largest", "--rounds", "2", "--thin", "12", "--still", "0", "0.2"]
    result = subprocess.run([sys.executable, script, *arguments], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [line.split() for line in result.stdout.splitlines()[2:]]
    assert [row[:3] for row in rows] == [[method, "12", still] for method in METHODS for still in ("0", "0.2")]
    assert all(0.0 <= float(value) <= 1.0 for row in rows for value in row[3:5])
