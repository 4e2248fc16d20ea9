"""Hydra structured configs of ``lucid-dream`` and their conversion to the library's dataclasses.

The schema (:class:`DreamAppConfig`) is registered in Hydra's ConfigStore as ``lucid_dream_schema``; the YAML in
``conf/`` (``dream.yaml`` and the ``dream/``, ``data/``, ``cluster/`` groups) fills it. Every field can be
overridden on the command line, e.g. ``dream.illumination.p=0.3 cluster.workers=2``. ``hydra.run.dir`` resolves
through :func:`output_folder` (resolver ``lucid_dream_folder``), so that every setting is checked before Hydra
creates the folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf

from dreaming import checks
from dreaming.dataset.formats import FormatConfig
from dreaming.dataset.pipeline import VideoSource, davis_sources, image_source
from dreaming.dataset.writer import DatasetSpec, check_spec
from dreaming.synthesis.config import DreamConfig
from foundation.cluster import ClusterConfig, cluster_config
from foundation.errors import InputError
from foundation.io import writable_folder
from foundation.settings import check_mandatory, from_container


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
    """Register the schema in Hydra's ConfigStore, and the resolver ``lucid_dream_folder`` (:func:`output_folder`)."""
    ConfigStore.instance().store(name="lucid_dream_schema", node=DreamAppConfig)
    if not OmegaConf.has_resolver("lucid_dream_folder"):
        OmegaConf.register_new_resolver("lucid_dream_folder", output_folder)


def check_settings(cfg: DictConfig) -> DatasetSpec:
    """Check every setting of a ``lucid-dream`` run before any work or file: the mandatory ones given, those of the
    dataset (:func:`~dreaming.dataset.writer.check_spec`), of the run (:func:`check_run_settings`) and of the data
    (:func:`data_settings`)."""
    check_mandatory(cfg)
    spec = dataset_spec(cfg)
    check_spec(spec)
    check_run_settings(cfg)
    data_settings(cfg.data)
    return spec


def output_folder(*, _root_: DictConfig) -> str:
    """The folder ``lucid-dream`` works in (``hydra.run.dir``, which Hydra creates before the app runs): ``verify``,
    an existing folder, when set; else ``out``, once every setting is checked and it can be written in."""
    if _root_.verify:
        folder = Path(_root_.verify)
        if not folder.is_dir():
            problem = "not a folder" if folder.exists() else "folder not found"
            raise InputError(folder, problem, "verify= naming a lucid-dream output folder")
        return str(folder)
    check_settings(_root_)
    return str(writable_folder(_root_.out, "out"))


def dataset_spec(cfg: DictConfig) -> DatasetSpec:
    """The settings that define the dataset's bytes."""
    return DatasetSpec(
        dream=from_container(DreamConfig, OmegaConf.to_container(cfg.dream, resolve=True), "dream"),
        pairs=cfg.pairs,
        seed=cfg.seed,
        formats=from_container(FormatConfig, OmegaConf.to_container(cfg.formats, resolve=True), "formats"),
    )


def check_run_settings(cfg: DictConfig) -> None:
    """The settings of a run that do not change the dataset's bytes: chunk size, retries, cluster."""
    checks.at_least(cfg.chunk_size, 1, "chunk_size", integer=True)
    checks.at_least(cfg.retries, 0, "retries", integer=True)
    cluster = cluster_config(cfg)
    checks.choice(cluster.kind, ("local", "address"), "cluster.kind", "cluster kind")
    if cluster.workers is not None:
        checks.at_least(cluster.workers, 1, "cluster.workers", integer=True)


@dataclass(frozen=True)
class DataSettings:
    """The ``data`` group, checked: one image and its mask (``image``, ``mask``, ``name``), or a DAVIS-layout
    ``root`` with the ``sequences`` (``None``: all), annotated ``frames`` and ``resolution`` to dream from."""

    image: Path | None = None
    mask: Path | None = None
    name: str | None = None
    root: Path | None = None
    sequences: str | list[str] | None = None
    frames: tuple[int, ...] = (0,)
    resolution: str = "480p"


def _path(data: DictConfig, key: str) -> Path:
    value = data[key]
    if not isinstance(value, str) or not value:
        raise InputError(f"data.{key}", f"{value!r}", "a path")
    return Path(value).resolve()


def _frames(frames: Any) -> tuple[int, ...]:
    frames = [frames] if isinstance(frames, int) and not isinstance(frames, bool) else frames
    if not (OmegaConf.is_list(frames) or isinstance(frames, list | tuple)):
        raise InputError("data.frames", f"{frames!r}", "a frame index or a list of them, e.g. data.frames=[0,40]")
    for frame in frames:
        checks.at_least(frame, 0, "data.frames", integer=True)
    return tuple(frames)


def data_settings(data: DictConfig) -> DataSettings:
    """Check the ``data`` group's settings (types, no file read)."""
    if "image" in data:
        name = data.get("name")
        return DataSettings(_path(data, "image"), _path(data, "mask"), None if name is None else str(name))
    if "root" not in data:
        raise InputError("data", "neither data.root nor data.image is set", "data=davis or data=image")
    sequences = data.get("sequences")
    if sequences is not None and not isinstance(sequences, str):
        sequences = [str(name) for name in sequences]
    frames = _frames(data.get("frames", [0]))
    return DataSettings(
        root=_path(data, "root"), sequences=sequences, frames=frames, resolution=str(data.get("resolution", "480p"))
    )


def video_sources(data: DictConfig) -> list[VideoSource]:
    """The videos a ``data`` group selects: one image + mask (``image``, ``mask``, ``name``) or a DAVIS root."""
    settings = data_settings(data)
    if settings.image is not None:
        return [image_source(settings.image, settings.mask, settings.name)]
    return davis_sources(settings.root, settings.sequences, list(settings.frames), settings.resolution)
