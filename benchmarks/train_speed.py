"""Cost of one LucidTracker training step (both networks, forward + backward + Adam) at a profile's sizes, in each
precision, on the device ``auto`` picks (CUDA when present): float32 is the baseline measured in the same run.

    python benchmarks/train_speed.py [--profile cpu|gpu|gpu_quick] [--precisions fp32 auto] [--steps 20]
        [--json out.json] [profile.crop_size=256 ...]

Batches are random tensors of the profile's batch size and crop size, already in memory, so the figure is the
networks' cost alone (crops are made by DataLoader workers in parallel with it). Trailing arguments are Hydra
overrides of ``conf/track.yaml``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from foundation.settings import parse_with_overrides
from segmenters.demo import lucid_settings
from segmenters.lucid.inputs import motion_channels
from segmenters.lucid.tracker import LucidTracker, appearance_channels, build_networks
from segmenters.training import TrainConfig, autocast_dtype, resolve_device, train


class RandomCrops(torch.utils.data.Dataset):
    """``length`` items shaped like :class:`~segmenters.lucid.samples.CropSamples`' (one fixed random batch, cycled)."""

    def __init__(self, size: int, appearance: int, motion: int, batch: int, length: int) -> None:
        generator = torch.Generator().manual_seed(0)
        self.items = [
            {
                "appearance": torch.rand(appearance, size, size, generator=generator),
                "motion": torch.rand(motion, size, size, generator=generator),
                "target": (torch.rand(1, size, size, generator=generator) > 0.5).float(),
                "weight": torch.ones(1, size, size),
            }
            for _ in range(batch)
        ]
        self.length = length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return self.items[index % len(self.items)]


def seconds_per_step(tracker: LucidTracker, device: torch.device, precision: str, steps: int, warmup: int) -> float:
    cfg = tracker.cfg
    networks = build_networks(cfg)
    channels = motion_channels(cfg.motion.direction)

    def run(n: int) -> float:
        data = RandomCrops(
            cfg.crop.size, appearance_channels(cfg), channels, cfg.train.batch_size, n * cfg.train.batch_size
        )
        train_cfg = TrainConfig(steps=n, batch_size=cfg.train.batch_size, lr=cfg.train.lr)
        if device.type == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        train(networks, data, train_cfg, device, None, False, autocast_dtype(device, precision))
        if device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - started

    run(warmup)  # cuDNN's algorithm search, allocator growth, oneDNN's primitive cache
    return run(steps) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="auto", help="conf/profile/<name>.yaml (auto: gpu with CUDA, else cpu)")
    parser.add_argument("--precisions", nargs="+", default=["fp32", "auto"], help="fp32 (baseline), auto, bf16, fp16")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per precision")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args, overrides = parse_with_overrides(parser)

    # lucid_settings registers the configs' schemas, as lucid-track does.
    tracker = LucidTracker(**{**lucid_settings(args.profile, overrides), "progress": False})
    tcfg = tracker.cfg
    device = resolve_device(tcfg.device)
    if tcfg.threads > 0:
        torch.set_num_threads(tcfg.threads)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(
        f"profile {args.profile}: batch {tcfg.train.batch_size}, crops {tcfg.crop.size} px, appearance "
        f"{list(tcfg.appearance.widths)}, motion {list(tcfg.motion.widths) if tcfg.motion.enabled else 'off'}; "
        f"{name}; torch {torch.__version__}"
    )
    print(f"| precision | ms/step | crops/s | × fp32 | {tcfg.train.steps} steps (min) |")
    print("|---|---:|---:|---:|---:|")
    figures = {"device": name, "profile": args.profile, "steps": tcfg.train.steps, "ms_per_step": {}}
    baseline = None
    for precision in args.precisions:
        dtype = autocast_dtype(device, precision)
        label = f"{precision} ({str(dtype).removeprefix('torch.') if dtype else 'float32'})"
        step = seconds_per_step(tracker, device, precision, args.steps, args.warmup)
        baseline = baseline or step
        figures["ms_per_step"][precision] = step * 1e3
        print(
            f"| {label} | {step * 1e3:.1f} | {tcfg.train.batch_size / step:.0f} | {baseline / step:.2f} | "
            f"{step * tcfg.train.steps / 60:.1f} |"
        )
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
