"""``lucid-track tracker=unsupervised`` end to end on the embedded clip: discovered, dreamed from, tracked, scored by
the DAVIS unsupervised protocol."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from dreaming.synthesis.samples import make_clip, write_davis
from segmenters import cli_track
from segmenters.demo import CLIP


@pytest.fixture(scope="module")
def clip_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_davis(make_clip(**CLIP), tmp_path_factory.mktemp("clip") / "davis")


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def run(root: Path, out: Path, app_config: Any, *overrides: str) -> None:
    common = [f"data.root={root}", f"out={out}", "tracker=unsupervised", "profile=demo", "overlays.video=false"]
    cli_track.run(app_config("track", [*common, *overrides]))


@pytest.mark.parametrize("dream", [False, True])
def test_unsupervised_tracking_finds_the_moving_object(
    clip_root: Path, tmp_path: Path, app_config: Any, dream: bool
) -> None:
    out = tmp_path / ("dreaming" if dream else "candidates")
    run(clip_root, out, app_config, f"tracker.dream={str(dream).lower()}")
    (name,) = [p.name for p in (clip_root / "JPEGImages" / "480p").iterdir()]
    assert len(list((out / name).glob("*.png"))) == CLIP["num_frames"]
    for written in ("global_results.csv", "matching.csv", "binary_global_results.csv", "overlays"):
        assert (out / written).exists(), written
    stages = rows(out / "stage_times.csv")[0]
    assert {k for k in stages if k.endswith("_s")} == (
        {"discover_s", "dream_s", "train_s", "track_s", "total_s"} if dream else {"discover_s", "total_s"}
    )
    matched = {row["Object"]: row for row in rows(out / "matching.csv")}
    # Object 2 is the one moving apart from the camera (see test_discovery). Measured on the development machine:
    # J 0.949 as a candidate; after dreaming (demo networks: 64-px crops, 200 steps) 0.939, 0.911, 0.939 for
    # tracker.lucid.seed 0, 1, 2 — the floor of 0.75 is what the worst seed keeps with room for another CPU's float
    # order.
    assert matched["2"]["Candidate"] != ""
    assert float(matched["2"]["J-Mean"]) > (0.75 if dream else 0.85)
