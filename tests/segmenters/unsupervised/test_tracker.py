"""``lucid-track tracker=unsupervised`` end to end on the embedded clip: discovered, dreamed from, tracked, scored by
the DAVIS unsupervised protocol."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

import segmenters.unsupervised.tracker as tracker_module
from dreaming.synthesis.samples import make_clip, write_davis
from foundation.errors import InputError
from segmenters import cli_track
from segmenters.demo import CLIP
from segmenters.unsupervised import Discovery, Track, UnsupervisedConfig, UnsupervisedTracker


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
    # J 0.919 as a candidate (this JPEG copy; 0.949 on the clip in memory); after dreaming (demo networks: 64-px
    # crops, 200 steps) 0.943, 0.928, 0.941 for tracker.lucid.seed 0, 1, 2 (0.939, 0.911, 0.939 before
    # tracker.bound) — the floor of 0.75 is what the worst seed keeps with room for another CPU's float order.
    assert matched["2"]["Candidate"] != ""
    assert float(matched["2"]["J-Mean"]) > (0.75 if dream else 0.85)


def test_a_negative_bound_names_itself() -> None:
    with pytest.raises(InputError, match="tracker.bound_px"):
        UnsupervisedConfig(bound_px=-1.0)


class SpreadingSession:
    """Stands in for the interactive session: its networks "track" every object as the whole frame's left half."""

    def __init__(self, video: Any, cfg: Any, ids: tuple[int, ...]) -> None:
        self.video, self.timings = video, {"train_s": 1.0}

    def set_mask(self, frame: int, labels: np.ndarray) -> None:
        pass

    def propagate(self) -> list[np.ndarray]:
        labels = np.zeros(self.video.shape, np.int32)
        labels[:, : self.video.shape[1] // 2] = 1
        return [labels] * len(self.video)


@pytest.mark.parametrize("bound", [True, False])
def test_the_tracked_object_is_kept_near_its_candidate_where_it_has_one(
    monkeypatch: pytest.MonkeyPatch, bound: bool
) -> None:
    # Analysis size 20 × 30, frames 40 × 60: the candidate (frame 0 only) is a 4 × 4 box at the analysis size.
    candidate = np.zeros((20, 30), bool)
    candidate[8:12, 4:8] = True
    track = Track(masks={0: np.packbits(candidate).tobytes()}, salience={0: 1.0}, agreement={0: 1.0}, link={0: 1.0})
    found = Discovery(2, (20, 30), (track,))
    monkeypatch.setattr(tracker_module, "discover", lambda video, cfg, progress: found)
    monkeypatch.setattr(tracker_module, "InteractiveSession", SpreadingSession)
    video = type("Video", (), {"name": "clip", "shape": (40, 60), "__len__": lambda self: 2})()
    tracker = UnsupervisedTracker(bound=bound, bound_px=1.0, progress=False)
    first, second = tracker.discover(video)
    tracked = np.zeros((40, 60), np.int32)
    tracked[:, :30] = 1
    if bound:  # the candidate scaled to 8 × 8 (rows 16-23, columns 8-15) and 2 px around (1 at the analysis size)
        near = cv2.dilate(
            found.labels(0, (40, 60)).astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
        )
        np.testing.assert_array_equal(first, np.where(near > 0, tracked, 0))
        # OpenCV's 5 × 5 ellipse: 3 rows of 5 and the tips above and below → rows 15-24 × columns 6-17, and rows
        # 14 and 25 over the box's 8 columns
        assert first.sum() == 10 * 12 + 2 * 8
    else:
        np.testing.assert_array_equal(first, tracked)
    np.testing.assert_array_equal(second, tracked)  # no candidate at frame 1: the networks' mask stands
