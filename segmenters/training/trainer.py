"""Training the appearance and motion networks of one video together, with checkpoints that resume exactly.

Both networks see the same crops (the appearance input for one, the motion input for the other) and their losses
are summed: binary cross-entropy plus a soft Jaccard loss, void pixels ignored. Adam with a polynomial decay of the
learning rate; the rate is a function of the step alone and batch ``k`` always holds the items
``k * batch_size ...`` of the dataset (e.g. :class:`~segmenters.lucid.samples.CropSamples`), so a resumed run
reproduces the uninterrupted one on CPU.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from foundation.errors import InputError
from foundation.io import atomic_path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings."""

    steps: int = 1500
    batch_size: int = 8
    lr: float = 1e-3
    weight_decay: float = 1e-5
    power: float = 0.9
    """Polynomial decay: ``lr * (1 - step / steps) ** power``."""
    checkpoint_every: int = 500
    """Steps between checkpoints (and one at the end); 0: only at the end."""
    workers: int = 0
    """DataLoader worker processes (0: crops are made in the training process)."""


def resolve_device(name: str) -> torch.device:
    """``auto`` → CUDA when available, else CPU; otherwise the named device."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise InputError("device", f"{name} requested but CUDA is not available", "device=auto or device=cpu")
    return torch.device(name)


PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def autocast_dtype(device: torch.device, precision: str = "auto") -> torch.dtype | None:
    """The reduced precision the networks run in under autocast, or ``None`` for float32.

    ``auto``: float16 on CUDA; bfloat16 on a CPU with native bf16 instructions (AVX512-BF16 or AMX), where it
    halves the cost of a training step; float32 on other CPUs, where bf16 is emulated and slow.
    """
    if precision not in PRECISIONS:
        raise InputError("precision", f"unknown precision {precision!r}", f"one of {PRECISIONS}")
    if precision == "auto":
        if device.type == "cuda":
            return torch.float16
        native = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
        return torch.bfloat16 if device.type == "cpu" and native else None
    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def segmentation_loss(logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Weighted binary cross-entropy plus ``1 −`` soft Jaccard index, averaged over the batch (``(B, 1, H, W)``)."""
    bce = nn.functional.binary_cross_entropy_with_logits(logits, target, weight=weight, reduction="sum")
    bce = bce / weight.sum().clamp_min(1.0)
    p = torch.sigmoid(logits) * weight
    intersection = (p * target).sum(dim=(1, 2, 3))
    union = (p + target * weight).sum(dim=(1, 2, 3)) - intersection
    jaccard = (intersection + 1.0) / (union + 1.0)
    return bce + (1.0 - jaccard).mean()


def channels_last(batch: torch.Tensor, device: torch.device) -> torch.Tensor:
    """``(B, C, H, W)`` on ``device`` in channels-last memory order."""
    return batch.to(device, non_blocking=True).contiguous(memory_format=torch.channels_last)


def predict(
    net: nn.Module, inputs: torch.Tensor, device: torch.device, precision: torch.dtype | None = None
) -> torch.Tensor:
    """``net(inputs)`` for inference: no autograd, channels-last on ``device``, under autocast ``precision``
    (``None``: float32); the output in float32, on ``device``."""
    with (
        torch.inference_mode(),
        torch.autocast(device_type=device.type, dtype=precision, enabled=precision is not None),
    ):
        return net(channels_last(inputs, device)).float()


def predict_probability(
    net: nn.Module,
    inputs: np.ndarray,
    device: torch.device,
    precision: torch.dtype | None = None,
    flip: bool = False,
) -> np.ndarray:
    """``float32 (N, h, w)``: the sigmoid of ``net``'s first output channel for ``inputs`` ``float32 (N, C, h, w)``
    (:func:`predict`). ``flip``: averaged with the prediction for the inputs mirrored left-right, mirrored back (one
    forward pass of 2N) — a test-time augmentation after which the prediction mirrors exactly with the input."""
    batch = torch.from_numpy(inputs)
    if flip:
        batch = torch.cat([batch, batch.flip(-1)])
    probability = torch.sigmoid(predict(net, batch, device, precision))[:, 0]
    if flip:
        direct, mirrored = probability.chunk(2)
        probability = (direct + mirrored.flip(-1)) / 2
    return probability.cpu().numpy()


def learning_rate(cfg: TrainConfig, step: int) -> float:
    return cfg.lr * (1.0 - step / cfg.steps) ** cfg.power


def save_checkpoint(path: str | os.PathLike[str], networks: dict[str, nn.Module], optimizer: Any, step: int) -> None:
    """Write the networks' and the optimiser's state after ``step`` steps, atomically."""
    state = {
        "step": step,
        "networks": {name: net.state_dict() for name, net in networks.items()},
        "optimizer": optimizer.state_dict(),
    }
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True`` (tensors and plain containers only: no code runs)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a truncated or foreign file: torch raises several kinds
        raise InputError(path, f"unreadable checkpoint ({error})", "a checkpoint written by Lucid") from None


def loader_workers(requested: int) -> int:
    """The DataLoader processes training can start here: ``requested``, or 0 (batches made in this process) where
    this is a daemonic process, which may not have children — e.g. a worker of a Dask cluster started with
    ``distributed.worker.daemon: true``, Dask's default (Lucid's own LocalCluster turns it off). Samples are made
    from their index alone, so the batches are the same either way."""
    if requested > 0 and multiprocessing.current_process().daemon:
        log.warning(
            "training makes its batches in this process, not in %d DataLoader processes: this is a daemonic process "
            "(a Dask worker? start the workers with distributed.worker.daemon=false)",
            requested,
        )
        return 0
    return requested


def train(
    networks: dict[str, nn.Module],
    samples: torch.utils.data.Dataset,
    cfg: TrainConfig,
    device: torch.device,
    checkpoint: str | os.PathLike[str] | None = None,
    progress: bool = True,
    precision: torch.dtype | None = None,
    loss: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor] = segmentation_loss,
    on_step: Callable[[int, int], None] | None = None,
) -> list[float]:
    """Train ``networks`` (each mapping the input ``batch[name]`` of ``samples`` to logits) on the sum of their
    ``loss(logits, batch["target"], batch["weight"])`` (by default :func:`segmentation_loss`).

    When ``checkpoint`` exists, training resumes from it (and returns at once if it is finished); checkpoints are
    written there every ``cfg.checkpoint_every`` steps and at the end. ``precision`` is the autocast dtype
    (:func:`autocast_dtype`; ``None``: float32); the networks run channels-last, which oneDNN and cuDNN favour.
    ``on_step(step, steps)`` is called after each step (e.g. a progress bar of a page).

    Returns:
        The total loss of each step run.
    """
    if cfg.steps < 1 or cfg.batch_size < 1:
        raise InputError("train", f"steps={cfg.steps}, batch_size={cfg.batch_size}", "positive values")
    params = [p for net in networks.values() for p in net.parameters()]
    optimizer = torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    for net in networks.values():
        net.to(device, memory_format=torch.channels_last)
    start = 0
    if checkpoint is not None and Path(checkpoint).is_file():
        state = load_checkpoint(checkpoint)
        if set(state["networks"]) != set(networks):
            raise InputError(checkpoint, f"holds networks {sorted(state['networks'])}", f"{sorted(networks)}")
        for name, net in networks.items():
            net.load_state_dict(state["networks"][name])
        optimizer.load_state_dict(state["optimizer"])
        start = int(state["step"])
        log.info("resumed from %s at step %d of %d", checkpoint, start, cfg.steps)
    amp = device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=amp and precision == torch.float16)
    indices = range(start * cfg.batch_size, cfg.steps * cfg.batch_size)
    loader = DataLoader(
        torch.utils.data.Subset(samples, indices),
        batch_size=cfg.batch_size,
        shuffle=False,
        num_workers=loader_workers(cfg.workers),
        pin_memory=amp,
        persistent_workers=False,
    )
    losses: list[float] = []
    for net in networks.values():
        net.train()
    bar = tqdm(loader, total=cfg.steps - start, initial=0, desc="train", unit="step", leave=False, disable=not progress)
    step = start
    for batch in bar:
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(cfg, step)
        target = batch["target"].to(device, non_blocking=True)
        weight = batch["weight"].to(device, non_blocking=True)
        with torch.autocast(device_type=device.type, dtype=precision, enabled=precision is not None):
            total = sum(
                loss(net(channels_last(batch[name], device)).float(), target, weight) for name, net in networks.items()
            )
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(total).backward()
        scaler.step(optimizer)
        scaler.update()
        step += 1
        losses.append(float(total.detach()))
        bar.set_postfix(loss=f"{losses[-1]:.3f}")
        if on_step is not None:
            on_step(step, cfg.steps)
        if checkpoint is not None and (
            step == cfg.steps or (cfg.checkpoint_every > 0 and step % cfg.checkpoint_every == 0)
        ):
            save_checkpoint(checkpoint, networks, optimizer, step)
    for net in networks.values():
        net.eval()
    return losses
