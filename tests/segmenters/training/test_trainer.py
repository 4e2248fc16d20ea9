"""The generic trainer: the loss, learning, checkpoints and exact resumption, devices and precisions."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import numpy as np
import pytest
import torch

from foundation.errors import InputError
from segmenters.lucid.samples import CropConfig, CropSamples, JitterConfig
from segmenters.networks import UNet
from segmenters.training import (
    TrainConfig,
    autocast_dtype,
    load_checkpoint,
    loader_workers,
    predict_probability,
    resolve_device,
    segmentation_loss,
    train,
)

CROP = CropConfig(size=32, min_side=16)


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


def _loader_workers_in_child(queue: multiprocessing.Queue) -> None:
    queue.put(loader_workers(4))


def test_a_daemonic_process_makes_its_batches_itself() -> None:
    """A daemonic process (a worker of a Dask cluster by default) may not start DataLoader processes."""
    assert loader_workers(4) == 4
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_loader_workers_in_child, args=(queue,), daemon=True)
    child.start()
    child.join(60)
    assert queue.get(timeout=5) == 0


def test_flip_averaged_prediction_mirrors_exactly_with_its_input() -> None:
    torch.manual_seed(0)
    net, cpu = UNet(4, 1, (4, 8)).eval(), torch.device("cpu")
    x = np.random.default_rng(0).random((3, 4, 32, 32), dtype=np.float32)
    mirrored = np.ascontiguousarray(x[..., ::-1])
    p = predict_probability(net, x, cpu, flip=True)
    assert p.shape == (3, 32, 32) and p.dtype == np.float32
    np.testing.assert_allclose(predict_probability(net, mirrored, cpu, flip=True), p[..., ::-1], atol=1e-6)
    plain, plain_of_mirrored = predict_probability(net, x, cpu), predict_probability(net, mirrored, cpu)
    assert not np.allclose(plain_of_mirrored, plain[..., ::-1], atol=1e-3)  # the network alone is not symmetric
    np.testing.assert_allclose(p, (plain + plain_of_mirrored[..., ::-1]) / 2, atol=1e-6)
