"""Training samples from dreamed pairs: flows, reproducible crops, the guidance jitter, dataset pairs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from dreaming.synthesis.config import InpaintConfig, fast
from dreaming.synthesis.dream import Scene
from dreaming.synthesis.samples import make_clip
from foundation.errors import InputError
from segmenters.lucid.samples import CropConfig, CropSamples, JitterConfig, dream_training_pairs

CROP = CropConfig(size=32, min_side=16)


def test_estimated_training_flow_is_dis_on_the_dreamed_pair(pairs: list) -> None:
    clip = make_clip(num_frames=2, size=(128, 80), num_objects=2)
    scene = Scene.from_frame(clip.frames[0], clip.labels[0], InpaintConfig(method="telea"))
    estimated = dream_training_pairs(scene, fast(), 1, seed=0, video="clip", flow="estimated", progress=False)[0]
    exact = pairs[0]
    assert np.array_equal(estimated.images, exact.images) and np.array_equal(estimated.labels, exact.labels)
    assert estimated.flows.shape == exact.flows.shape and not np.array_equal(estimated.flows, exact.flows)
    with pytest.raises(InputError, match="unknown training flow"):
        dream_training_pairs(scene, fast(), 1, seed=0, video="clip", flow="magic", progress=False)


def test_samples_are_reproducible_and_well_formed(pairs: list) -> None:
    samples = CropSamples(pairs, CROP, JitterConfig(), direction=True, seed=3, length=20)
    again = CropSamples(pairs, CROP, JitterConfig(), direction=True, seed=3, length=20)
    for index in (0, 7, 19):
        item, same = samples[index], again[index]
        assert all(torch.equal(item[k], same[k]) for k in item)
        assert item["appearance"].shape == (4, 32, 32) and item["motion"].shape == (4, 32, 32)
        assert set(torch.unique(item["target"]).tolist()) <= {0.0, 1.0}
        assert item["target"].sum() > 0  # the window is drawn around the object's previous mask
    other = CropSamples(pairs, CROP, JitterConfig(), direction=True, seed=4, length=20)
    assert not torch.equal(other[0]["appearance"], samples[0]["appearance"])


def test_eroded_guidance_is_no_longer_a_mask_to_shrink(pairs: list) -> None:
    """The dreamed previous masks are dilated: without erosion the guidance covers more than the object, and a
    network can learn to shrink it. With erosion it is about the size of the object, sometimes smaller."""

    def guidance_over_target(jitter: JitterConfig) -> np.ndarray:
        samples = CropSamples(pairs, CROP, jitter, direction=False, seed=0, length=60)
        items = [samples[i] for i in range(60)]
        return np.array([float(it["appearance"][3].sum() / it["target"].sum().clamp_min(1)) for it in items])

    dilated = guidance_over_target(JitterConfig(cut_p=0.0, erode_p=0.0))
    eroded = guidance_over_target(JitterConfig(cut_p=0.0, erode_p=1.0))
    assert np.median(dilated) > 1.1 and np.median(eroded) < np.median(dilated) - 0.1
    assert (eroded > 0).all()  # never eroded away


def test_dataset_pairs_match_the_pairs_dreamed_on_the_fly(tmp_path: Path) -> None:
    """``lucid-dream`` output and on-the-fly dreams are the same samples (up to JPEG and 1/64 px flow coding)."""
    from dataclasses import replace

    from distributed import Client

    from dreaming.dataset.pipeline import davis_sources, dream_dataset
    from dreaming.dataset.writer import DatasetSpec
    from dreaming.synthesis.samples import write_davis
    from foundation.davis import load_sequence
    from foundation.io import read_annotated_frame
    from segmenters.lucid.samples import DatasetPairs

    clip = make_clip(num_frames=2, size=(96, 64), num_objects=2)
    davis = write_davis(clip, tmp_path / "davis")
    cfg = replace(fast(), inpaint=InpaintConfig(method="telea"))
    with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=":0") as client:
        dream_dataset(davis_sources(davis), DatasetSpec(dream=cfg, pairs=3, seed=5), tmp_path / "dreams", client)
    stored = DatasetPairs(tmp_path / "dreams", clip.name, cache=3)
    sequence = load_sequence(davis, clip.name)
    scene = Scene.from_frame(*read_annotated_frame(sequence.frames[0], sequence.annotation(0)), cfg.inpaint)
    dreamed = dream_training_pairs(scene, cfg, 3, seed=5, video=clip.name, progress=False)
    assert len(stored) == 3
    for a, b in zip(stored, dreamed, strict=True):
        assert np.array_equal(a.labels, b.labels) and np.array_equal(a.prev, b.prev)
        assert np.abs(a.flows.astype(np.float32) - b.flows.astype(np.float32)).max() < 0.05
        assert np.abs(a.images.astype(int) - b.images.astype(int)).mean() < 3  # JPEG
    with pytest.raises(InputError):
        DatasetPairs(tmp_path / "dreams", "no-such-video")
    # The tracker trains on the stored dataset when given its root.
    from segmenters.lucid.tracker import LucidTracker

    tracker = LucidTracker(
        dataset=str(tmp_path / "dreams"),
        crop={"size": 16, "min_side": 8},
        appearance={"widths": [4, 8]},
        motion={"widths": [4, 8]},
        boundary={"enabled": False},  # its default 500 steps would take minutes
        train={"steps": 2, "batch_size": 2},
        device="cpu",
        threads=1,
        progress=False,
    )
    outputs = list(tracker.track(clip.frames, clip.labels[0], name=clip.name))
    assert len(outputs) == 2 and tracker.stage_times[clip.name]["dream"] < 1.0  # read, not dreamed
