"""Hydra structured configs of ``lucid-dream`` and their conversion to the library's dataclasses.

The schema (:class:`DreamAppConfig`) is registered in Hydra's ConfigStore as ``lucid_dream_schema``; the YAML in
``conf/`` (``dream.yaml`` and the ``dream/``, ``data/``, ``cluster/`` groups) fills it. Every field can be
overridden on the command line, e.g. ``dream.illumination.p=0.3 cluster.workers=2``.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, TypeVar

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf

from dreaming.config import DreamConfig
from dreaming.errors import InputError
from dreaming.formats import FormatConfig
from dreaming.pipeline import ClusterConfig, VideoSource, davis_sources, image_source
from dreaming.writer import DatasetSpec

T = TypeVar("T")


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


def _output_dir(out: str, verify: str | None) -> str:
    return verify or out


def register_configs() -> None:
    """Register the schema in Hydra's ConfigStore and the ``lucid_output`` resolver used by ``conf/dream.yaml``."""
    ConfigStore.instance().store(name="lucid_dream_schema", node=DreamAppConfig)
    if not OmegaConf.has_resolver("lucid_output"):
        OmegaConf.register_new_resolver("lucid_output", _output_dir)


def _convert(hint: Any, value: Any, where: str) -> Any:
    if is_dataclass(hint):
        return from_container(hint, value, where)
    if typing.get_origin(hint) is tuple:
        args = typing.get_args(hint)
        if not (len(args) == 2 and args[1] is Ellipsis) and len(value) != len(args):
            raise InputError(where, f"{len(value)} values {list(value)}", f"{len(args)} values")
        return tuple(value)
    return value


def from_container(cls: type[T], values: dict[str, Any], where: str = "") -> T:
    """Build dataclass ``cls`` from plain nested dicts/lists (``OmegaConf.to_container``), lists → typed tuples."""
    hints = typing.get_type_hints(cls)
    prefix = f"{where}." if where else ""
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise InputError(f"{prefix}{unknown[0]}", "unknown setting", f"one of {sorted(known)}")
    return cls(**{k: _convert(hints[k], v, f"{prefix}{k}") for k, v in values.items()})


def dataset_spec(cfg: DictConfig) -> DatasetSpec:
    """The settings that define the dataset's bytes."""
    return DatasetSpec(
        dream=from_container(DreamConfig, OmegaConf.to_container(cfg.dream, resolve=True), "dream"),
        pairs=cfg.pairs,
        seed=cfg.seed,
        formats=from_container(FormatConfig, OmegaConf.to_container(cfg.formats, resolve=True), "formats"),
    )


def cluster_config(cfg: DictConfig) -> ClusterConfig:
    return from_container(ClusterConfig, OmegaConf.to_container(cfg.cluster, resolve=True), "cluster")


def video_sources(data: DictConfig) -> list[VideoSource]:
    """The videos a ``data`` group selects: one image + mask (``image``, ``mask``, ``name``) or a DAVIS root."""
    if "image" in data:
        return [image_source(Path(data.image).resolve(), Path(data.mask).resolve(), data.get("name"))]
    if "root" not in data:
        raise InputError("data", "neither data.root nor data.image is set", "data=davis or data=image")
    sequences, frames = data.get("sequences"), data.get("frames", [0])
    sequences = [sequences] if isinstance(sequences, str) else sequences
    frames = [frames] if isinstance(frames, int) else frames
    return davis_sources(
        Path(data.root).resolve(),
        None if sequences is None else list(sequences),
        list(frames),
        data.get("resolution", "480p"),
    )
