"""Overlay videos, GIFs, strips and J/F plots."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from PIL import Image

from foundation.davis import load_sequence
from foundation.errors import InputError
from foundation.io import write_labels
from segmenters.baselines import CopyTracker
from segmenters.evaluation import SequenceScores
from segmenters.tracking import track_sequence
from segmenters.visualize import (
    OverlayOptions,
    evenly_spaced,
    frame_strip,
    plot_scores,
    side_by_side,
    video_writer,
    write_gif,
    write_sequence_overlays,
)


def test_evenly_spaced_includes_both_ends() -> None:
    assert evenly_spaced(5, 81) == [0, 20, 40, 60, 80]
    assert evenly_spaced(5, 3) == [0, 1, 2]
    assert evenly_spaced(1, 10) == [0]
    assert evenly_spaced(3, 0) == []


def test_side_by_side_puts_truth_right_of_prediction() -> None:
    left, right = np.zeros((40, 60, 3), np.uint8), np.full((40, 60, 3), 200, np.uint8)
    panel = side_by_side(left, right, caption="seq 00001")
    assert panel.shape[1] == 3 * 4 + 2 * 60
    assert panel.shape[0] > 40 + 8  # captions on top
    assert (panel[-10, 10] == 0).all() and (panel[-10, -10] == 200).all()
    assert side_by_side(left).shape[1] == 60


def test_frame_strip_scales_cells_and_stacks_rows() -> None:
    images = [np.full((100, 200, 3), v, np.uint8) for v in (0, 50, 100)]
    strip = frame_strip([images, images], cell_width=80)
    assert strip.shape == (2 * 40 + 3 * 4, 3 * 80 + 4 * 4, 3)
    captioned = frame_strip([images], [["a", "b", "c"]], cell_width=80)
    assert captioned.shape[0] > 40 + 8


def test_video_has_every_frame_and_even_size(tmp_path: Path) -> None:
    path = tmp_path / "v.mp4"
    with video_writer(path, fps=10) as write:
        for value in range(0, 250, 50):
            write(np.full((33, 47, 3), value, np.uint8))
    capture = cv2.VideoCapture(str(path))
    assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == 5
    ok, frame = capture.read()
    assert ok and frame.shape == (34, 48, 3)
    capture.release()
    assert [p.name for p in tmp_path.iterdir()] == ["v.mp4"]


def test_failed_video_leaves_no_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="frame of 10x10 in a 20x20 video"), video_writer(tmp_path / "v.mp4", 10) as w:
        w(np.zeros((20, 20, 3), np.uint8))
        w(np.zeros((10, 10, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_gif_loops_over_all_frames(tmp_path: Path) -> None:
    frames = [np.full((20, 30, 3), (v, 0, 255 - v), np.uint8) for v in (0, 100, 200)]
    write_gif(tmp_path / "a.gif", frames, fps=5)
    with Image.open(tmp_path / "a.gif") as gif:
        assert gif.n_frames == 3 and gif.info["loop"] == 0 and gif.info["duration"] == 200


def test_sequence_overlays(synthetic: SimpleNamespace, davis_root: Path, tmp_path: Path) -> None:
    sequence = load_sequence(davis_root, "alpha")
    track_sequence(CopyTracker(), sequence, tmp_path / "results", progress=False)
    options = OverlayOptions(video=True, gif=True, strip=True, strip_frames=3, strip_cell_width=40, gif_width=100)
    written = write_sequence_overlays(sequence, tmp_path / "results", tmp_path / "overlays", options)
    assert [p.name for p in written] == ["alpha.mp4", "alpha.gif", "alpha_strip.png"]
    assert cv2.VideoCapture(str(written[0])).get(cv2.CAP_PROP_FRAME_COUNT) == synthetic.frames
    with Image.open(written[1]) as gif:
        assert gif.n_frames == synthetic.frames and gif.width == 100
    strip = cv2.imread(str(written[2]))
    assert strip.shape[1] == 3 * 40 + 4 * 4  # three frames, prediction row over ground-truth row
    again = write_sequence_overlays(sequence, tmp_path / "results", tmp_path / "again", options)
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(written, again, strict=True))


def test_overlay_of_a_wrongly_sized_result_is_an_input_error(davis_root: Path, tmp_path: Path) -> None:
    sequence = load_sequence(davis_root, "alpha")
    track_sequence(CopyTracker(), sequence, tmp_path / "results", progress=False)
    write_labels(tmp_path / "results" / "alpha" / "00002.png", np.zeros((5, 5), np.int32))
    with pytest.raises(InputError, match=r"00002\.png: result is 5x5"):
        write_sequence_overlays(sequence, tmp_path / "results", tmp_path / "overlays", OverlayOptions(video=False))


def test_plot_scores_writes_a_png(tmp_path: Path) -> None:
    frames = ("00001", "00002", "00003")
    scores = SequenceScores("seq", frames, np.array([[0.9, 0.8, 0.7]]), np.array([[1, 0.5, 0]]), ids=(3,))
    plot_scores(tmp_path / "plots" / "seq.png", scores)
    with Image.open(tmp_path / "plots" / "seq.png") as image:
        assert image.format == "PNG" and image.size == (800, 500)


def test_sequence_without_full_ground_truth_shows_the_prediction_alone(davis_root: Path, tmp_path: Path) -> None:
    for path in sorted((davis_root / "Annotations" / "480p" / "beta").glob("*.png"))[1:]:
        path.unlink()
    options = OverlayOptions(video=False, strip_frames=2, strip_cell_width=40)
    heights = {}
    for name in ("alpha", "beta"):
        sequence = load_sequence(davis_root, name)
        track_sequence(CopyTracker(), sequence, tmp_path / "results", progress=False)
        (strip_path,) = write_sequence_overlays(sequence, tmp_path / "results", tmp_path / "overlays", options)
        heights[name] = cv2.imread(str(strip_path)).shape[0]
    assert heights["beta"] < heights["alpha"]  # one row (prediction) instead of two (prediction, ground truth)
