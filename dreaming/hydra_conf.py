"""Hydra structured configs of ``lucid-dream`` and their conversion to the library's dataclasses.

The schema (:class:`DreamAppConfig`) is registered in Hydra's ConfigStore as ``lucid_dream_schema``; the YAML in
``conf/`` (``dream.yaml`` and the ``dream/``, ``data/``, ``cluster/`` groups) fills it. Every field can be
overridden on the command line, e.g. ``dream.illumination.p=0.3 cluster.workers=2``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf

from dreaming.dataset.formats import FormatConfig
from dreaming.dataset.pipeline import VideoSource, davis_sources, image_source
from dreaming.dataset.writer import DatasetSpec
from dreaming.synthesis.config import DreamConfig
from foundation.cluster import ClusterConfig
from foundation.errors import InputError
from foundation.settings import from_container


@dataclass
class DreamAppConfig:
    """Everything ``lucid-dream`` reads. ``data`` is a group: a DAVIS-layout folder or a single image and mask."""

    dream: DreamConfig = field(default_factory=DreamConfig)
    data: Any = MISSING
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    formats: FormatConfig = field(default_factory=FormatConfig)
    out: str = "dreams"
    """Output root: ``<out>/<video>/``; a multirun writes each run to ``<out>/<overrides>/<video>/``."""
    pairs: int = 2500
    """Pairs per annotated frame."""
    seed: int = 0
    chunk_size: int = 50
    retries: int = 3
    overwrite: bool = False
    """Replace an output folder that holds a dataset of other settings instead of stopping with an error."""
    verify: str | None = None
    """Instead of dreaming, check the dataset(s) under this folder against their manifests."""
    progress: bool = True


def register_configs() -> None:
    """Register the schema in Hydra's ConfigStore (importing :mod:`foundation.settings` registered the resolvers)."""
    ConfigStore.instance().store(name="lucid_dream_schema", node=DreamAppConfig)


def dataset_spec(cfg: DictConfig) -> DatasetSpec:
    """The settings that define the dataset's bytes."""
    return DatasetSpec(
        dream=from_container(DreamConfig, OmegaConf.to_container(cfg.dream, resolve=True), "dream"),
        pairs=cfg.pairs,
        seed=cfg.seed,
        formats=from_container(FormatConfig, OmegaConf.to_container(cfg.formats, resolve=True), "formats"),
    )


def video_sources(data: DictConfig) -> list[VideoSource]:
    """The videos a ``data`` group selects: one image + mask (``image``, ``mask``, ``name``) or a DAVIS root."""
    if "image" in data:
        return [image_source(Path(data.image).resolve(), Path(data.mask).resolve(), data.get("name"))]
    if "root" not in data:
        raise InputError("data", "neither data.root nor data.image is set", "data=davis or data=image")
    frames = data.get("frames", [0])
    return davis_sources(
        Path(data.root).resolve(),
        data.get("sequences"),
        [frames] if isinstance(frames, int) else list(frames),
        data.get("resolution", "480p"),
    )
