"""The benchmark scripts compose their configuration in a fresh interpreter (they run on their own, not after the CLIs
have registered the schemas, so only a new process shows whether they register them themselves)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dreaming.synthesis.samples import make_clip, write_davis

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
