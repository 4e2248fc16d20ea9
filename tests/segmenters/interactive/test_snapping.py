"""Snapping propagated labels to their frame's edges and colours."""

from __future__ import annotations

import numpy as np
import pytest

from foundation.errors import InputError
from segmenters.interactive.propagation import boundary_distance
from segmenters.interactive.snapping import SnapConfig, snap_labels


def _scene(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A textured frame ``uint8 (96, 128, 3)``: a reddish disk (id 1) and a bluish square (id 2) on a green
    background, each with noise; and its true labels."""
    yy, xx = np.mgrid[:96, :128]
    truth = np.zeros((96, 128), np.int32)
    truth[(yy - 40) ** 2 + (xx - 40) ** 2 < 20**2] = 1
    truth[55:85, 80:115] = 2
    colours = np.array([[60, 140, 60], [200, 60, 50], [50, 70, 190]], np.float64)
    image = colours[truth] + rng.normal(0.0, 12.0, (96, 128, 3))
    return np.clip(image, 0, 255).astype(np.uint8), truth


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.count_nonzero(a & b) / np.count_nonzero(a | b))


def test_labels_slid_off_their_objects_snap_back() -> None:
    image, truth = _scene(np.random.default_rng(0))  # radius 0.05: 6.4 px on this 128-px-wide frame
    slid = np.roll(truth, (3, -3), axis=(0, 1))  # what a flow a few pixels off leaves
    snapped = snap_labels(image, slid, SnapConfig(radius=0.05))
    for object_id in (1, 2):
        before = _iou(slid == object_id, truth == object_id)
        after = _iou(snapped == object_id, truth == object_id)
        assert before < 0.82
        assert after > 0.97, (object_id, before, after)


def test_only_the_band_changes_and_absent_objects_stay_absent() -> None:
    image, truth = _scene(np.random.default_rng(1))
    slid = np.roll(truth, (4, 4), axis=(0, 1))
    slid[slid == 2] = 0  # object 2 is lost in this frame
    cfg = SnapConfig(radius=0.04, smooth=0)
    snapped = snap_labels(image, slid, cfg)
    distance = boundary_distance(slid)
    assert distance is not None
    far = distance >= cfg.radius * 128
    assert np.array_equal(snapped[far], slid[far])
    assert set(np.unique(snapped)) == {0, 1}
    assert not np.array_equal(snapped, slid)
    assert np.array_equal(snap_labels(image, slid, cfg), snapped)  # deterministic


def test_nothing_to_snap() -> None:
    image, truth = _scene(np.random.default_rng(2))
    assert np.array_equal(snap_labels(image, truth, SnapConfig(radius=0)), truth)  # off
    empty = np.zeros_like(truth)
    assert np.array_equal(snap_labels(image, empty, SnapConfig(radius=0.05)), empty)  # a single id: no boundary


@pytest.mark.parametrize(
    ("settings", "name"),
    [
        ({"radius": -1.0}, "session.snap.radius"),
        ({"ring": 1.0}, "session.snap.ring"),
        ({"beta": 0.0}, "session.snap.beta"),
        ({"prior_weight": 0.0}, "session.snap.prior_weight"),
        ({"smooth": 4}, "session.snap.smooth"),
    ],
)
def test_bad_settings_are_named(settings: dict, name: str) -> None:
    with pytest.raises(InputError, match=name.replace(".", r"\.")):
        SnapConfig(**settings)


def test_a_frame_of_another_size_or_ids_beyond_255_are_refused() -> None:
    image, truth = _scene(np.random.default_rng(3))
    with pytest.raises(InputError, match="matching the labels"):
        snap_labels(image[:50], truth, SnapConfig(radius=0.05))
    with pytest.raises(InputError, match=r"ids in \[0, 255\]"):
        snap_labels(image, truth * 200, SnapConfig(radius=0.05))
