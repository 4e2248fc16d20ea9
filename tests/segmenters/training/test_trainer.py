"""Training samples, the loss, checkpoints and exact resumption."""

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
from segmenters.networks import UNet
from segmenters.training import (
    TrainConfig,
    autocast_dtype,
    load_checkpoint,
    resolve_device,
    segmentation_loss,
    train,
)

CROP = CropConfig(size=32, min_side=16)


@pytest.fixture(scope="module")
def pairs() -> list:
    clip = make_clip(num_frames=2, size=(128, 80), num_objects=2)
    cfg = fast()
    scene = Scene.from_frame(clip.frames[0], clip.labels[0], InpaintConfig(method="telea"))
    return dream_training_pairs(scene, cfg, 4, seed=0, video="clip", progress=False)


def networks(seed: int = 0) -> dict[str, UNet]:
    torch.manual_seed(seed)
    return {"appearance": UNet(4, 1, (4, 8)), "motion": UNet(2, 1, (4, 8))}


def test_loss_is_small_for_right_and_large_for_wrong_logits() -> None:
    target = torch.zeros(2, 1, 8, 8)
    target[:, :, 2:6, 2:6] = 1
    weight = torch.ones_like(target)
    right = segmentation_loss((target * 2 - 1) * 20, target, weight)
    wrong = segmentation_loss((1 - target * 2) * 20, target, weight)
    assert right < 0.01 < 1.0 < wrong
    # Void pixels (weight 0) do not count, whatever is predicted there.
    weight[:, :, 2:6, 2:6] = 0
    assert segmentation_loss((1 - target * 2) * 20, target, weight) < segmentation_loss(
        (1 - target * 2) * 20, target, torch.ones_like(target)
    )


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


def test_training_lowers_the_loss(pairs: list) -> None:
    samples = CropSamples(pairs, CROP, JitterConfig(), direction=False, seed=0, length=100 * 4)
    losses = train(networks(), samples, TrainConfig(steps=100, batch_size=4, lr=3e-3), torch.device("cpu"), None, False)
    assert len(losses) == 100
    assert np.mean(losses[-20:]) < 0.8 * np.mean(losses[:10])


class Crash(CropSamples):
    """Fails when asked for item ``at`` (a crash in the middle of training)."""

    at = 0

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if index == self.at:
            raise RuntimeError("simulated crash")
        return super().__getitem__(index)


def test_resumed_training_equals_uninterrupted_training(pairs: list, tmp_path: Path) -> None:
    cfg = TrainConfig(steps=6, batch_size=2, checkpoint_every=3)
    samples = CropSamples(pairs, CROP, JitterConfig(), direction=False, seed=0, length=12)
    straight = networks()
    assert len(train(straight, samples, cfg, torch.device("cpu"), None, False)) == 6

    path = tmp_path / "video.pt"
    crashing = Crash(pairs, CROP, JitterConfig(), direction=False, seed=0, length=12)
    crashing.at = 4 * cfg.batch_size + 1  # during step 5, after the checkpoint of step 3
    with pytest.raises(RuntimeError, match="simulated crash"):
        train(networks(), crashing, cfg, torch.device("cpu"), path, False)
    assert load_checkpoint(path)["step"] == 3

    resumed = networks(seed=99)  # other initial weights: everything must come from the checkpoint
    assert len(train(resumed, samples, cfg, torch.device("cpu"), path, False)) == 3
    for name in straight:
        for a, b in zip(straight[name].state_dict().values(), resumed[name].state_dict().values(), strict=True):
            assert torch.equal(a, b)
    assert load_checkpoint(path)["step"] == 6
    assert train(networks(), samples, cfg, torch.device("cpu"), path, False) == []  # finished: nothing to do


def test_mixed_precision_training_on_cuda_lowers_the_loss(pairs: list, cuda: torch.device) -> None:
    samples = CropSamples(pairs, CROP, JitterConfig(), direction=False, seed=0, length=100 * 4)
    nets = networks()
    cfg = TrainConfig(steps=100, batch_size=4, lr=3e-3)
    losses = train(nets, samples, cfg, cuda, None, False, autocast_dtype(cuda, "auto"))
    assert autocast_dtype(cuda, "auto") == torch.float16
    assert len(losses) == 100 and np.isfinite(losses).all()
    assert np.mean(losses[-20:]) < 0.8 * np.mean(losses[:10])
    assert all(p.device.type == "cuda" for net in nets.values() for p in net.parameters())


def test_checkpoint_written_on_cuda_resumes_there_and_loads_on_cpu(
    pairs: list, cuda: torch.device, tmp_path: Path
) -> None:
    cfg = TrainConfig(steps=6, batch_size=2, checkpoint_every=3)
    samples = CropSamples(pairs, CROP, JitterConfig(), direction=False, seed=0, length=12)
    path = tmp_path / "video.pt"
    crashing = Crash(pairs, CROP, JitterConfig(), direction=False, seed=0, length=12)
    crashing.at = 4 * cfg.batch_size + 1
    with pytest.raises(RuntimeError, match="simulated crash"):
        train(networks(), crashing, cfg, cuda, path, False, torch.float16)
    assert load_checkpoint(path)["step"] == 3
    resumed = networks(seed=99)
    assert len(train(resumed, samples, cfg, cuda, path, False, torch.float16)) == 3
    state = load_checkpoint(path)
    assert state["step"] == 6
    # Read back on the CPU, the weights are the GPU's and give the GPU's float32 outputs.
    on_cpu = networks(seed=5)
    for name, net in on_cpu.items():
        net.load_state_dict(state["networks"][name])
        net.eval()
        assert all(t.device.type == "cpu" for t in state["networks"][name].values())
    x = samples[0]["appearance"][None]
    with torch.no_grad():
        expected = resumed["appearance"](x.to(cuda)).cpu()  # float32 (cuDNN may use TF32: loose tolerance)
        assert torch.allclose(on_cpu["appearance"](x), expected, rtol=1e-2, atol=1e-2)


def test_corrupt_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.pt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="unreadable checkpoint"):
        load_checkpoint(path)


def test_device_auto_falls_back_to_cpu_without_cuda() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="CUDA is not available"):
            resolve_device("cuda")


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
        train={"steps": 2, "batch_size": 2},
        device="cpu",
        threads=1,
        progress=False,
    )
    outputs = list(tracker.track(clip.frames, clip.labels[0], name=clip.name))
    assert len(outputs) == 2 and tracker.stage_times[clip.name]["dream"] < 1.0  # read, not dreamed
