"""The one-shot baseline: reproducible, aligned augmentations; it learns the embedded clip (beats copying the first
mask); same seed, same result; clean errors; ``lucid-track tracker=oneshot`` at the profile's sizes."""

from __future__ import annotations

import csv
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import torch
from hydra.utils import instantiate
from torch.utils.data import DataLoader

from foundation.davis import load_sequence
from foundation.errors import InputError
from foundation.io import VOID, read_labels
from segmenters import cli_track
from segmenters.baselines import CopyTracker
from segmenters.networks.inputs import MEAN, STD
from segmenters.oneshot import AugmentConfig, OneShotSamples, OneShotTracker
from segmenters.tracking import track_sequence

TINY: dict[str, Any] = {
    "augment": {"crop_size": 32},
    "appearance": {"widths": [4, 8]},
    "train": {"steps": 3, "batch_size": 2},
    "device": "cpu",
    "threads": 1,
    "progress": False,
}

# Enough to learn the embedded clip's objects in about ten seconds on one core.
LEARNING: dict[str, Any] = {
    "augment": {"crop_size": 64},
    "appearance": {"widths": [8, 16, 32, 32]},
    "train": {"steps": 150, "batch_size": 8, "lr": 0.003},
    "device": "cpu",
    "threads": 1,
    "progress": False,
}

NO_CHANGE = AugmentConfig(flip_p=0.0, scale=(1.0, 1.0), rotate=0.0, color_p=0.0)

BLUE, RED = (0, 0, 255), (255, 0, 0)


def rgb(appearance: torch.Tensor) -> np.ndarray:
    """Undo :func:`~segmenters.networks.image_features`: ``(3, S, S)`` → ``float (S, S, 3)`` in 0..255."""
    return (appearance.numpy().transpose(1, 2, 0) * STD + MEAN) * 255


def two_colour_objects() -> tuple[np.ndarray, np.ndarray]:
    """A 96x128 greenish textured frame; object 9 (pure red, an off-centre L) and object 5 (pure blue, a bar)."""
    rng = np.random.default_rng(3)
    image = np.stack(
        [rng.integers(0, 80, (96, 128)), rng.integers(100, 256, (96, 128)), rng.integers(0, 80, (96, 128))], axis=-1
    ).astype(np.uint8)
    labels = np.zeros((96, 128), np.int32)
    labels[10:60, 15:35] = 9
    labels[45:60, 35:70] = 9
    labels[70:85, 60:120] = 5
    image[labels == 9], image[labels == 5] = RED, BLUE
    return image, labels


# Augmented samples


def test_item_is_a_function_of_seed_and_index_only() -> None:
    image, labels = two_colour_objects()
    a = OneShotSamples(image, labels, AugmentConfig(crop_size=32), seed=4, length=12)
    b = OneShotSamples(image, labels, AugmentConfig(crop_size=32), seed=4, length=12)
    forward = [a[i] for i in range(12)]
    np.random.random(3), random.random()  # noqa: NPY002  (moving the global streams must change nothing)
    backward = [b[i] for i in reversed(range(12))][::-1]
    for x, y in zip(forward, backward, strict=True):
        assert x.keys() == {"appearance", "target", "weight"}
        assert all(torch.equal(x[k], y[k]) for k in x)
    assert not torch.equal(forward[0]["appearance"], forward[1]["appearance"])
    other_seed = OneShotSamples(image, labels, AugmentConfig(crop_size=32), seed=5, length=12)
    assert not torch.equal(forward[0]["appearance"], other_seed[0]["appearance"])
    # DataLoader workers each hold a copy of the dataset: the batches are the same as in-process.
    in_process = list(DataLoader(a, batch_size=4, num_workers=0))
    in_workers = list(DataLoader(b, batch_size=4, num_workers=2))
    assert all(torch.equal(x[k], y[k]) for x, y in zip(in_process, in_workers, strict=True) for k in x)


def test_item_types_and_class_indices_in_sorted_id_order() -> None:
    image, labels = two_colour_objects()
    item = OneShotSamples(image, labels, AugmentConfig(crop_size=32), seed=0, length=1)[0]
    assert item["appearance"].dtype == torch.float32 and item["appearance"].shape == (3, 32, 32)
    assert item["target"].dtype == torch.int64 and item["target"].shape == (32, 32)
    assert item["weight"].dtype == torch.float32 and item["weight"].shape == (32, 32)
    # Without changes and with the whole (96x96) frame as the crop, ids 5 and 9 are classes 1 and 2 pixel for pixel.
    square_image, square_labels = image[:, :96], labels[:, :96]
    exact = OneShotSamples(square_image, square_labels, replace(NO_CHANGE, crop_size=96), seed=0, length=1)
    assert exact.ids == (5, 9)
    assert np.array_equal(exact[0]["target"].numpy(), np.select([square_labels == 5, square_labels == 9], [1, 2], 0))
    assert np.allclose(rgb(exact[0]["appearance"]), square_image, atol=1e-3)


def test_pixels_keep_their_labels_through_flips_zooms_and_rotations() -> None:
    """Each class's pixels have its object's colour after augmentation, away from the (interpolated) boundary."""
    image, labels = two_colour_objects()
    cfg = AugmentConfig(crop_size=48, flip_p=0.5, scale=(0.7, 1.4), rotate=45.0, color_p=0.0, object_crop_p=1.0)
    samples = OneShotSamples(image, labels, cfg, seed=0, length=30)
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))

    def interior(mask: np.ndarray) -> np.ndarray:
        """Pixels 2 px from the mask's edge, the crop's edge counting as one (the mask may end just outside)."""
        return cv2.erode(mask.astype(np.uint8), disk, borderType=cv2.BORDER_CONSTANT, borderValue=0) > 0

    seen = set()
    for item in samples:
        colours, target, weight = rgb(item["appearance"]), item["target"].numpy(), item["weight"].numpy()
        for k, colour in ((1, BLUE), (2, RED)):
            inside = interior(target == k)
            assert np.allclose(colours[inside], colour, atol=2), k
            seen |= {k} if inside.any() else set()
        background = interior((target == 0) & (weight == 1))
        assert (colours[background][:, 1] >= 99).all()  # the green texture, not an object's colour
        assert (target > 0).any()  # object_crop_p=1: every crop shows an object
    assert seen == {1, 2}


def test_outside_the_frame_and_void_pixels_weigh_nothing() -> None:
    """Zoomed out by 2 about the centre, a 64x64 frame fills the central 32x32 block of a 64x64 crop."""
    image, labels = two_colour_objects()
    image, labels = image[:64, :64], labels[:64, :64].copy()
    labels[:, :32][labels[:, :32] == 0] = VOID
    cfg = replace(NO_CHANGE, crop_size=64, scale=(0.5, 0.5))
    item = OneShotSamples(image, labels, cfg, seed=0, length=1)[0]
    weight, target = item["weight"].numpy(), item["target"].numpy()
    assert not weight[:15].any() and not weight[49:].any() and not weight[:, :15].any() and not weight[:, 49:].any()
    assert weight[17:47, 33:47].all()  # the frame's right half, not void
    assert not weight[17:47, 17:31][target[17:47, 17:31] == 0].any()  # its left half's background: void
    assert np.allclose(rgb(item["appearance"])[:15], 0, atol=1e-3)  # outside the frame: black
    # A frame smaller than the crop is padded with void.
    small = OneShotSamples(image[:20, :40], labels[:20, :40], replace(NO_CHANGE, crop_size=32), 0, 1)[0]
    assert small["weight"].shape == (32, 32) and 0 < small["weight"].sum() <= 20 * 32


def test_about_half_the_crops_are_placed_on_an_object() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (200, 200, 3), dtype=np.uint8)
    labels = np.zeros((200, 200), np.int32)
    labels[95:105, 95:105] = 1  # 10x10 object: a 32-px crop placed anywhere rarely shows it
    fixed = replace(NO_CHANGE, crop_size=32)

    def share(p: float) -> float:
        samples = OneShotSamples(image, labels, replace(fixed, object_crop_p=p), seed=0, length=100)
        return float(np.mean([bool((item["target"] > 0).any()) for item in samples]))

    assert share(1.0) == 1.0 and share(0.0) < 0.15 and 0.35 < share(0.5) < 0.7


# Tracking


def test_trained_tracker_beats_copying_the_first_mask_on_the_embedded_clip(embedded: Any, j_and_f: Any) -> None:
    tracker = OneShotTracker(**LEARNING)
    oneshot = list(tracker.track(embedded.frames, embedded.labels[0], name="clip"))
    copy = list(CopyTracker().track(embedded.frames, embedded.labels[0]))
    oneshot_score, copy_score = j_and_f(oneshot, embedded.labels), j_and_f(copy, embedded.labels)
    assert oneshot_score > copy_score + 0.2, (oneshot_score, copy_score)
    assert np.array_equal(oneshot[0], embedded.labels[0])
    for labels in oneshot:
        assert labels.dtype == np.int32 and labels.shape == embedded.labels[0].shape
        assert set(np.unique(labels).tolist()) <= {0, 1, 2, 3}
    times = tracker.stage_times["clip"]
    assert times.keys() == {"dream", "train", "track"} and times["dream"] == 0.0 and times["train"] > 0


def test_untrained_network_is_no_better_than_copying(embedded: Any, j_and_f: Any) -> None:
    """The check above can fail: a barely trained network does not beat the reference."""
    oneshot = list(OneShotTracker(**{**LEARNING, "train": {"steps": 2}}).track(embedded.frames, embedded.labels[0]))
    copy = list(CopyTracker().track(embedded.frames, embedded.labels[0]))
    assert j_and_f(oneshot, embedded.labels) < j_and_f(copy, embedded.labels)


def test_same_seed_same_weights_and_labels_any_ids(embedded: Any) -> None:
    frames = embedded.frames[:4]
    first = np.select([embedded.labels[0] == 1, embedded.labels[0] == 3], [7, 200], 0).astype(np.int32)
    first[:3] = VOID
    a, b = OneShotTracker(**TINY), OneShotTracker(**TINY)
    out_a, out_b = list(a.track(frames, first)), list(b.track(frames, first))
    assert all(np.array_equal(x, y) for x, y in zip(out_a, out_b, strict=True))
    assert np.array_equal(out_a[0], np.where(first == VOID, 0, first))  # void given back as background
    assert all(set(np.unique(o).tolist()) <= {0, 7, 200} for o in out_a)
    net_a = a.fit(frames[0], first).net.state_dict()
    net_b = b.fit(frames[0], first).net.state_dict()
    net_c = OneShotTracker(**{**TINY, "seed": 1}).fit(frames[0], first).net.state_dict()
    assert all(torch.equal(net_a[k], net_b[k]) for k in net_a)
    assert not all(torch.equal(net_a[k], net_c[k]) for k in net_a)


@pytest.mark.parametrize(
    ("frames", "labels", "match"),
    [
        ([], np.ones((40, 40), np.int32), "no frame"),
        ([np.zeros((40, 40, 3), np.uint8)], np.ones((30, 40), np.int32), r"mask \(40, 30\) for a frame of \(40, 40\)"),
        ([np.zeros((40, 40, 3), np.uint8)], np.full((40, 40), VOID, np.int32), "contain no object"),
        ([np.zeros((40, 40, 3), np.uint8), np.zeros((40, 41, 3), np.uint8)], np.ones((40, 40), np.int32), "frame 1"),
    ],
)
def test_bad_input(frames: list[np.ndarray], labels: np.ndarray, match: str) -> None:
    with pytest.raises(InputError, match=match):
        list(OneShotTracker(**TINY).track(frames, labels))


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        ({"augment": {"crop_size": 31}}, "augment.crop_size.*multiple of 2"),
        ({"crop_fraction": 1.5}, "crop_fraction"),
        ({"augment": {"object_crop_p": 2.0}}, "object_crop_p"),
        ({"steps": 10}, "tracker.steps.*unknown setting"),
    ],
)
def test_bad_settings(settings: dict[str, Any], match: str) -> None:
    frame, labels = np.zeros((40, 40, 3), np.uint8), np.ones((40, 40), np.int32)
    with pytest.raises(InputError, match=match):
        list(OneShotTracker(**{**TINY, **settings}).track([frame], labels))


# lucid-track tracker=oneshot


TINY_OVERRIDES = [
    "tracker.augment.crop_size=32",
    "tracker.appearance.widths=[4,8]",
    "tracker.train.steps=3",
    "tracker.train.batch_size=2",
    "tracker.train.workers=0",
    "tracker.device=cpu",
    "tracker.threads=1",
    "tracker.progress=false",
]


@pytest.mark.parametrize("profile", ["cpu", "gpu"])
def test_profile_gives_the_lucid_network_and_budget(
    profile: str, davis_root: Path, tmp_path: Path, track_config: Any
) -> None:
    base = [f"data.root={davis_root}", f"out={tmp_path}", f"profile={profile}"]
    oneshot, lucid = track_config([*base, "tracker=oneshot"]).tracker, track_config([*base, "tracker=lucid"]).tracker
    assert oneshot._target_ == "segmenters.oneshot.OneShotTracker"
    assert oneshot.appearance.widths == lucid.appearance.widths and oneshot.augment.crop_size == lucid.crop.size
    for key in ("steps", "batch_size", "lr", "workers"):
        assert oneshot.train[key] == lucid.train[key], key
    assert (oneshot.device, oneshot.threads) == (lucid.device, lucid.threads)
    tracker = instantiate(track_config([*base, "tracker=oneshot", *TINY_OVERRIDES]).tracker)
    result = track_sequence(tracker, load_sequence(davis_root, "beta"), tmp_path / profile, progress=False)
    assert len(list(result.glob("*.png"))) == 7


def test_lucid_track_end_to_end(
    davis_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], track_config: Any
) -> None:
    out = tmp_path / "oneshot"
    no_pictures = ["overlays.video=false", "overlays.strip=false", "overlays.side_by_side=false", "workers=1"]
    cli_track.run(
        track_config([f"data.root={davis_root}", f"out={out}", "tracker=oneshot", *TINY_OVERRIDES, *no_pictures])
    )
    assert "J&F-Mean" in capsys.readouterr().out
    for name in ("alpha", "beta"):
        assert len(list((out / name).glob("*.png"))) == 7
        assert set(np.unique(read_labels(out / name / "00006.png")).tolist()) <= {0, 1, 2}
    rows = list(csv.DictReader((out / "stage_times.csv").open()))
    assert [r["sequence"] for r in rows] == ["alpha", "beta"]
    assert all(float(r["dream_s"]) == 0 and float(r["train_s"]) >= 0 and float(r["track_s"]) >= 0 for r in rows)
