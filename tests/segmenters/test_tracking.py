"""The reference trackers and the runner that writes their results."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from dreaming.synthesis.flow import warp_backward
from foundation.davis import load_sequence
from foundation.errors import InputError
from foundation.io import atomic_directory, read_labels, write_labels
from foundation.timing import timed
from segmenters.baselines import CopyTracker, FlowTracker
from segmenters.baselines.flow_warp import propagate_labels
from segmenters.evaluation import jaccard
from segmenters.tracking import (
    Tracker,
    describe_stage_times,
    has_results,
    read_stage_times,
    track_sequence,
    track_sequences,
    write_stage_times,
)


def test_copy_repeats_the_first_labels(synthetic: SimpleNamespace) -> None:
    first = synthetic.labels(0)
    frames = [synthetic.frame(t) for t in range(4)]
    outputs = list(CopyTracker().track(frames, first))
    assert len(outputs) == 4
    for labels in outputs:
        np.testing.assert_array_equal(labels, first)


def test_warp_backward_samples_at_the_flow_target() -> None:
    image = np.arange(20, dtype=np.float32).reshape(4, 5)
    flow = np.zeros((4, 5, 2), dtype=np.float32)
    flow[..., 0] = 1.0  # every pixel is seen one pixel to the right in `image`
    warped = warp_backward(image, flow)
    np.testing.assert_array_equal(warped[:, :4], image[:, 1:])
    np.testing.assert_array_equal(warped[:, 4], 0)  # sampled outside the image
    flow[..., 0] = 0.5
    np.testing.assert_allclose(warp_backward(image, flow)[:, :4], image[:, :4] + 0.5)


def test_propagate_labels_moves_every_object_and_keeps_ids() -> None:
    labels = np.zeros((20, 30), dtype=np.int32)
    labels[2:8, 10:20] = 4
    labels[12:18, 0:6] = 7
    flow = np.zeros((20, 30, 2), dtype=np.float32)
    flow[..., 0] = 3.0  # backward flow +3: the content moved 3 px to the left
    moved = propagate_labels(labels, flow)
    expected = np.zeros_like(labels)
    expected[2:8, 7:17] = 4
    expected[12:18, 0:3] = 7  # the part that left the image is gone
    np.testing.assert_array_equal(moved, expected)


def test_propagate_labels_gives_contested_pixels_to_one_object() -> None:
    labels = np.zeros((10, 10), dtype=np.int32)
    labels[:, :5], labels[:, 5:] = 1, 2
    flow = np.zeros((10, 10, 2), dtype=np.float32)
    flow[..., 0] = np.linspace(-3, 3, 10, dtype=np.float32)  # a divergent field makes both objects compete
    moved = propagate_labels(labels, flow)
    assert set(np.unique(moved)) <= {0, 1, 2}
    assert (moved == 1).any() and (moved == 2).any()


def panning_scene(frames: int, speed: int = 2) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A camera pan: a textured scene with two objects slides right by ``speed`` px a frame (no wrap-around)."""
    rng = np.random.default_rng(3)
    height, width, margin = 60, 80, speed * frames
    texture = cv2.GaussianBlur(rng.integers(0, 256, (height, width + margin, 3), dtype=np.uint8), (5, 5), 0)
    scene = np.zeros((height, width + margin), dtype=np.int32)
    scene[10:30, margin + 10 : margin + 35] = 1
    scene[35:55, margin + 40 : margin + 70] = 2
    crops = [slice(margin - speed * t, margin - speed * t + width) for t in range(frames)]
    return [texture[:, c].copy() for c in crops], [scene[:, c].copy() for c in crops]


def test_flow_tracker_follows_a_camera_pan() -> None:
    frames, truths = panning_scene(7)
    outputs = list(FlowTracker().track(frames, truths[0]))
    assert len(outputs) == 7
    np.testing.assert_array_equal(outputs[0], truths[0])
    assert set(np.unique(outputs[-1])) == {0, 1, 2}
    for k in (1, 2):
        copied = jaccard(truths[0] == k, truths[-1] == k)
        tracked = jaccard(outputs[-1] == k, truths[-1] == k)
        assert tracked > 0.95 and copied < 0.6


def test_flow_tracker_is_deterministic(synthetic: SimpleNamespace) -> None:
    frames = [synthetic.frame(t) for t in range(4)]
    first = list(FlowTracker().track(frames, synthetic.labels(0)))
    second = list(FlowTracker().track(frames, synthetic.labels(0)))
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_unknown_preset_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown DIS preset"):
        FlowTracker(preset="slowest")


def test_reference_trackers_satisfy_the_protocol() -> None:
    assert isinstance(CopyTracker(), Tracker)
    assert isinstance(FlowTracker(), Tracker)


def test_track_sequence_writes_every_frame(synthetic: SimpleNamespace, davis_root: Path, tmp_path: Path) -> None:
    folder = track_sequence(CopyTracker(), load_sequence(davis_root, "alpha"), tmp_path / "out", progress=False)
    assert folder == tmp_path / "out" / "alpha"
    assert sorted(p.name for p in folder.iterdir()) == [f"{t:05d}.png" for t in range(synthetic.frames)]
    np.testing.assert_array_equal(read_labels(folder / "00006.png"), synthetic.labels(0))
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["alpha"]  # no temporary folders left


def test_first_frame_void_becomes_background(davis_root: Path, tmp_path: Path, synthetic: SimpleNamespace) -> None:
    first = synthetic.labels(0)
    first[0, :] = 255
    write_labels(davis_root / "Annotations" / "480p" / "alpha" / "00000.png", first)
    folder = track_sequence(CopyTracker(), load_sequence(davis_root, "alpha"), tmp_path / "out", progress=False)
    assert set(np.unique(read_labels(folder / "00003.png"))) == {0, 1, 2}


class _FailingTracker:
    def track(
        self, frames: Iterable[np.ndarray], first_labels: np.ndarray, name: str | None = None
    ) -> Iterator[np.ndarray]:
        for index, _ in enumerate(frames):
            if index == 3:
                raise RuntimeError("boom")
            yield first_labels


class _ShortTracker:
    def track(
        self, frames: Iterable[np.ndarray], first_labels: np.ndarray, name: str | None = None
    ) -> Iterator[np.ndarray]:
        yield first_labels


class _InventiveTracker:
    def track(
        self, frames: Iterable[np.ndarray], first_labels: np.ndarray, name: str | None = None
    ) -> Iterator[np.ndarray]:
        for _ in frames:
            yield first_labels + 1


@pytest.mark.parametrize(
    ("tracker", "message"),
    [(_FailingTracker(), "boom"), (_ShortTracker(), "returned 1 of 7 frames"), (_InventiveTracker(), "invented")],
)
def test_a_failed_run_leaves_earlier_results_untouched(
    davis_root: Path, tmp_path: Path, tracker: Tracker, message: str
) -> None:
    sequence = load_sequence(davis_root, "alpha")
    previous = track_sequence(CopyTracker(), sequence, tmp_path / "out", progress=False)
    before = {p.name: p.read_bytes() for p in previous.iterdir()}
    with pytest.raises(RuntimeError, match=message):
        track_sequence(tracker, sequence, tmp_path / "out", progress=False)
    assert {p.name: p.read_bytes() for p in previous.iterdir()} == before
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["alpha"]


def test_atomic_directory_replaces_old_contents(tmp_path: Path) -> None:
    target = tmp_path / "seq"
    target.mkdir()
    (target / "stale.png").write_bytes(b"old")
    with atomic_directory(target) as tmp:
        assert not (tmp / "stale.png").exists()
        (tmp / "00000.png").write_bytes(b"new")
        assert (target / "stale.png").exists()  # still the old folder until the block succeeds
    assert [p.name for p in target.iterdir()] == ["00000.png"]
    assert [p.name for p in tmp_path.iterdir()] == ["seq"]


def test_stage_timer_accumulates_and_counts_a_failing_block(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([10.0, 12.5, 20.0, 21.0])
    monkeypatch.setattr("foundation.timing.time.perf_counter", lambda: next(clock))
    times: dict[str, float] = {"track": 1.0}
    with timed(times, "train"):
        pass
    with pytest.raises(RuntimeError), timed(times, "train"):
        raise RuntimeError("stopped")
    assert times == {"track": 1.0, "train": 3.5}
    assert describe_stage_times(times) == "train 3.5 s, track 1.0 s"  # in pipeline order, not insertion order


def test_flow_tracker_refuses_frames_too_small_for_dis(synthetic: SimpleNamespace) -> None:
    """OpenCV raised a raw cv2.error below 12 px, and crashed the process on some wide frames less high than 16."""
    frames = [np.zeros((8, 10, 3), np.uint8)] * 3
    labels = np.zeros((8, 10), np.int32)
    labels[2:6, 2:6] = 1
    with pytest.raises(InputError, match=r"^tiny: frames of 10x8 pixels \(expected at least 16x16 for DIS"):
        list(FlowTracker().track(frames, labels, name="tiny"))
    with pytest.raises(InputError, match=r"at least 32x32"):
        list(FlowTracker(preset="fast").track([np.zeros((20, 200, 3), np.uint8)] * 2, np.ones((20, 200), np.int32)))
    assert len(list(FlowTracker().track([synthetic.frame(t) for t in range(2)], synthetic.labels(0)))) == 2


def test_track_sequences_goes_on_after_a_failed_sequence(davis_root: Path, tmp_path: Path) -> None:
    sequences = [load_sequence(davis_root, name) for name in ("alpha", "beta")]
    failures: dict[str, Exception] = {}
    done: list[str] = []
    times = track_sequences(
        _FailingTracker(),
        sequences[:1],
        tmp_path,
        progress=False,
        failures=failures,
        on_done=lambda n, t: done.append(n),
    )
    times |= track_sequences(
        CopyTracker(), sequences[1:], tmp_path, progress=False, failures=failures, on_done=lambda n, t: done.append(n)
    )
    assert list(times) == done == ["beta"] and list(failures) == ["alpha"]
    assert str(failures["alpha"]) == "boom"
    assert not has_results(sequences[0], tmp_path) and has_results(sequences[1], tmp_path)
    write_stage_times(tmp_path / "times.csv", times)
    assert read_stage_times(tmp_path / "times.csv") == {"beta": {"track": round(times["beta"]["track"], 1)}}
    with pytest.raises(RuntimeError, match="boom"):  # without failures, the first one is raised
        track_sequences(_FailingTracker(), sequences, tmp_path, progress=False)
