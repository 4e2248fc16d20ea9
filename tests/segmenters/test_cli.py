"""``lucid-track`` and ``lucid-eval`` end to end on the synthetic root, through their Hydra configs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_module
from omegaconf import DictConfig

from segmenters import cli_eval, cli_track


def config(name: str, overrides: list[str]) -> DictConfig:
    with initialize_config_module(config_module="conf", version_base="1.3"):
        return compose(name, overrides=overrides)


def test_track_then_eval(davis_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "flow"
    cli_track.run(config("track", [f"data.root={davis_root}", f"out={out}", "tracker=flow", "plots=true"]))
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
        config("eval", [f"data.root={davis_root}", f"results={out}", f"out={again}", "data.sequences=[beta]"])
    )
    assert [s.name for s in evaluation.sequences] == ["beta"]
    rows = (again / "per-sequence_results.csv").read_text().splitlines()
    assert rows[1:] == [r for r in (out / "per-sequence_results.csv").read_text().splitlines() if r.startswith("beta")]
    assert not (again / "plots").exists()


def test_tracker_is_chosen_by_config(davis_root: Path, tmp_path: Path) -> None:
    cfg = config("track", [f"data.root={davis_root}", f"out={tmp_path}", "tracker=flow", "tracker.preset=fast"])
    assert cfg.tracker._target_ == "segmenters.baselines.FlowTracker"
    assert cfg.tracker.preset == "fast"
    assert config("track", [f"data.root={davis_root}", f"out={tmp_path}"]).tracker._target_.endswith("CopyTracker")


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
