"""LucidTracker: for each video, dream from its annotated frame, train the two networks, then track frame by frame.

Tracking frame ``t``: DIS flow from ``t`` to ``t − 1``; each object's guidance is its mask in the prediction of
``t − 1``, carried along that flow (``warp_guidance``) and optionally dilated; the appearance and motion networks
look at a window around the guidance; their probabilities are averaged (``appearance_weight``) and the objects
merged by soft aggregation. An object whose guidance becomes empty (it left the frame, or was lost) stays empty.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from dreaming.config import InpaintConfig, preset
from dreaming.dream import Scene
from dreaming.errors import InputError
from dreaming.flow import warp_backward
from dreaming.hydra_conf import from_container
from dreaming.io import VOID, atomic_path, object_ids
from segmenters.lucid.inputs import dilate, motion_channels
from segmenters.lucid.model import LucidModel
from segmenters.networks import UNet
from segmenters.optical_flow import dis_flow
from segmenters.training import (
    CropConfig,
    CropSamples,
    DatasetPairs,
    JitterConfig,
    TrainConfig,
    dream_training_pairs,
    load_checkpoint,
    resolve_device,
    train,
)

log = logging.getLogger(__name__)

STAGES = ("dream", "train", "track")


@dataclass(frozen=True)
class AppearanceConfig:
    widths: tuple[int, ...] = (16, 32, 64, 128)
    """U-Net channels per level, finest first."""


@dataclass(frozen=True)
class MotionConfig:
    enabled: bool = True
    widths: tuple[int, ...] = (8, 16, 32, 64)
    direction: bool = False
    """Give the flow's (camera-compensated) components besides its magnitude."""


@dataclass(frozen=True)
class TrackConfig:
    appearance_weight: float = 0.7
    """Fusion weight of the appearance probability (the motion network gets the rest)."""
    warp_guidance: bool = True
    """Carry the previous prediction along the flow before using it as guidance."""
    guidance_dilation: int = 0
    """Dilate the guidance by this radius (px)."""
    dis_preset: str = "medium"
    batch_size: int = 16
    """Object crops per forward pass."""


@dataclass(frozen=True)
class LucidConfig:
    """Everything the tracker reads (``conf/tracker/lucid.yaml``)."""

    dream: str = "fast"
    """Dream preset (``fast`` or ``paper``) for dreams made on the fly."""
    inpaint: str | None = None
    """Override of the preset's inpainting method (``patchmatch`` or ``telea``)."""
    pairs: int = 200
    """Pairs dreamed on the fly (when ``dataset`` is null)."""
    dataset: str | None = None
    """A ``lucid-dream`` output root holding ``<root>/<video>/``; null: dream on the fly."""
    flow: str = "exact"
    """Training flow: ``exact`` (the dreamed flow) or ``estimated`` (DIS on the dreamed pair, as when tracking)."""
    seed: int = 0
    device: str = "auto"
    """``auto`` (CUDA with mixed precision when available, else CPU), ``cpu`` or ``cuda[:n]``."""
    threads: int = 2
    """torch CPU threads (0: leave torch's setting)."""
    crop: CropConfig = field(default_factory=CropConfig)
    jitter: JitterConfig = field(default_factory=JitterConfig)
    appearance: AppearanceConfig = field(default_factory=AppearanceConfig)
    motion: MotionConfig = field(default_factory=MotionConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    track: TrackConfig = field(default_factory=TrackConfig)
    checkpoints: str | None = None
    """Folder of per-video checkpoints ``<folder>/<video>.pt`` (resumed, and reused when finished); null: none."""
    report: str | None = None
    """Folder where ``stage_times.csv`` (seconds per stage and video) is written; null: logged only."""
    progress: bool = True


def build_networks(cfg: LucidConfig) -> dict[str, UNet]:
    """Randomly initialised networks, seeded by ``cfg.seed``."""
    torch.manual_seed(cfg.seed)
    networks = {"appearance": UNet(4, 1, cfg.appearance.widths)}
    if cfg.motion.enabled:
        networks["motion"] = UNet(motion_channels(cfg.motion.direction), 1, cfg.motion.widths)
    stride = max(net.stride for net in networks.values())
    if cfg.crop.size % stride:
        raise InputError("crop.size", f"{cfg.crop.size}", f"a multiple of {stride} (the networks' stride)")
    return networks


def checkpoint_settings(cfg: LucidConfig) -> str:
    """What a checkpoint must match to be resumed: everything that shapes the training."""
    keep = replace(cfg, threads=0, device="", checkpoints=None, report=None, progress=False, track=TrackConfig())
    keep = replace(keep, train=replace(keep.train, checkpoint_every=0, workers=0))
    return json.dumps(asdict(keep), sort_keys=True)


@contextmanager
def _timed(times: dict[str, float], stage: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        times[stage] = times.get(stage, 0.0) + time.perf_counter() - started


class LucidTracker:
    """The Lucid tracker (Khoreva et al., IJCV 2019); keyword arguments are the fields of :class:`LucidConfig`.

    ``stage_times[video]`` holds the seconds spent dreaming, training and tracking each video.
    """

    def __init__(self, **settings: Any) -> None:
        settings = {
            k: OmegaConf.to_container(v, resolve=True) if isinstance(v, DictConfig) else v for k, v in settings.items()
        }
        self.cfg = from_container(LucidConfig, settings, "tracker")
        self.stage_times: dict[str, dict[str, float]] = {}

    def _checkpoint_path(self, video: str) -> Path | None:
        return None if self.cfg.checkpoints is None else Path(self.cfg.checkpoints) / f"{video}.pt"

    def _finished_checkpoint(self, path: Path | None) -> dict[str, Any] | None:
        """The checkpoint's state when it holds a finished training of these settings; raise if of other settings."""
        if path is None or not path.is_file():
            return None
        state = load_checkpoint(path)
        settings_path = path.with_suffix(".json")
        if not settings_path.is_file() or settings_path.read_text() != checkpoint_settings(self.cfg):
            raise InputError(path, "checkpoint of other settings", "remove it, or a new tracker.checkpoints folder")
        return state if int(state["step"]) >= self.cfg.train.steps else None

    def _training_pairs(self, image: np.ndarray, labels: np.ndarray, video: str) -> Any:
        cfg = self.cfg
        if cfg.dataset is not None:
            return DatasetPairs(cfg.dataset, video, cfg.flow, cfg.track.dis_preset, cache=cfg.pairs)
        dream_cfg = preset(cfg.dream)
        if cfg.inpaint is not None:
            dream_cfg = replace(dream_cfg, inpaint=InpaintConfig(method=cfg.inpaint))
        scene = Scene.from_frame(image, labels, dream_cfg.inpaint)
        return dream_training_pairs(
            scene, dream_cfg, cfg.pairs, cfg.seed, video, cfg.flow, cfg.track.dis_preset, cfg.progress
        )

    def fit(self, image: np.ndarray, labels: np.ndarray, video: str = "video") -> LucidModel:
        """Dream from one annotated frame (or read its dataset) and train the networks: the model of ``video``."""
        cfg, times = self.cfg, self.stage_times.setdefault(video, {})
        if cfg.threads > 0:
            torch.set_num_threads(cfg.threads)
        device = resolve_device(cfg.device)
        networks = build_networks(cfg)
        checkpoint = self._checkpoint_path(video)
        finished = self._finished_checkpoint(checkpoint)
        if finished is not None:
            log.info("%s: trained networks read from %s", video, checkpoint)
            for name, net in networks.items():
                net.load_state_dict(finished["networks"][name])
            times.setdefault("dream", 0.0)
            times.setdefault("train", 0.0)
        else:
            with _timed(times, "dream"):
                pairs = self._training_pairs(image, labels, video)
            with _timed(times, "train"):
                if checkpoint is not None:
                    checkpoint.parent.mkdir(parents=True, exist_ok=True)
                    with atomic_path(checkpoint.with_suffix(".json")) as tmp:
                        tmp.write_text(checkpoint_settings(cfg))
                length = cfg.train.steps * cfg.train.batch_size
                samples = CropSamples(pairs, cfg.crop, cfg.jitter, cfg.motion.direction, cfg.seed, length)
                train(networks, samples, cfg.train, device, checkpoint, cfg.progress)
        return LucidModel(
            networks["appearance"],
            networks.get("motion"),
            cfg.crop,
            cfg.motion.direction,
            cfg.track.appearance_weight,
            device,
            cfg.track.batch_size,
        )

    def follow(
        self, model: LucidModel, first: np.ndarray, frames: Iterable[np.ndarray], first_labels: np.ndarray
    ) -> Iterator[np.ndarray]:
        """Labels of each frame after ``first`` (whose labels are ``first_labels``), frame by frame."""
        tcfg = self.cfg.track
        ids = object_ids(first_labels)
        labels, previous = first_labels, first
        for index, frame in enumerate(frames, start=1):
            if frame.shape != first.shape:
                raise InputError(f"frame {index}", f"shape {frame.shape}", f"the first frame's shape {first.shape}")
            flow = dis_flow(frame, previous, tcfg.dis_preset)
            guide_labels = labels
            if tcfg.warp_guidance:
                guide_labels = warp_backward(labels.astype(np.uint8), flow, "nearest")
            guidance = [dilate(guide_labels == object_id, tcfg.guidance_dilation) for object_id in ids]
            labels = model.segment(frame, flow, guidance, ids)
            previous = frame
            yield labels

    def track(
        self, frames: Iterable[np.ndarray], first_labels: np.ndarray, name: str | None = None
    ) -> Iterator[np.ndarray]:
        """Dream, train and track (see :class:`~segmenters.tracking.Tracker`); ``name`` names the video's dataset
        folder, checkpoint and timing row."""
        video = name or "video"
        iterator = iter(frames)
        first = next(iterator, None)
        if first is None:
            raise InputError(video, "no frame", "the annotated first frame and the frames to track")
        if first.shape[:2] != first_labels.shape:
            raise InputError(
                video, f"mask {first_labels.shape[::-1]} for a frame of {first.shape[1::-1]}", "the same size"
            )
        labels = first_labels.astype(np.int32)
        labels[labels == VOID] = 0
        if not object_ids(labels):
            raise InputError(video, "the first-frame labels contain no object", "at least one object id")
        model = self.fit(first, labels, video)
        times = self.stage_times[video]
        yield labels.copy()
        started = time.perf_counter()
        try:
            yield from self.follow(model, first, iterator, labels)
        finally:
            times["track"] = time.perf_counter() - started
            log.info("%s: %s", video, ", ".join(f"{s} {times.get(s, 0.0):.1f} s" for s in STAGES))
            if self.cfg.report is not None:
                write_stage_times(Path(self.cfg.report) / "stage_times.csv", self.stage_times)


def write_stage_times(path: str | os.PathLike[str], stage_times: dict[str, dict[str, float]]) -> None:
    """``video,dream_s,train_s,track_s,total_s`` per video, written atomically."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["video", *(f"{s}_s" for s in STAGES), "total_s"])
    for video, times in stage_times.items():
        values = [times.get(s, 0.0) for s in STAGES]
        writer.writerow([video, *(f"{v:.1f}" for v in values), f"{sum(values):.1f}"])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_text(buffer.getvalue())
