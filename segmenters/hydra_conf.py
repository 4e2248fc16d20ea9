"""Hydra structured configs of ``lucid-track`` and ``lucid-eval``.

The schemas (:class:`TrackAppConfig`, :class:`EvalAppConfig`) are registered in Hydra's ConfigStore as
``lucid_track_schema`` and ``lucid_eval_schema``, and each tracker's settings as ``schema/tracker/<name>``
(:func:`tracker_configs`; ``conf/tracker/<name>.yaml`` starts from it); the YAML in ``conf/`` (``track.yaml``,
``eval.yaml``, ``tracker/*.yaml``) fills them.
Every default lives in a dataclass: the apps' here, the pictures' in :class:`~segmenters.visualize.OverlayOptions`,
each tracker's in its config class. Overrides are type-checked when the config is composed
(``tracker.threshold=abc`` is an error naming the setting).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

from foundation.cluster import ClusterConfig
from foundation.settings import schema
from segmenters.visualize import OverlayOptions

OverlaySchema = schema(OverlayOptions)


@dataclass
class TrackAppConfig:
    """Everything ``lucid-track`` reads. ``data``, ``tracker`` and ``profile`` are groups (``conf/<group>/``)."""

    data: Any = MISSING
    tracker: Any = MISSING
    profile: Any = MISSING
    """Sizes of the learning trackers, which their YAML interpolates (``${profile.steps}`` …)."""
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    out: str = MISSING
    """Results folder: ``<out>/<sequence>/<frame>.png``, the CSVs, ``overlays/``, ``plots/``; a multirun
    (``lucid-track -m``) writes each job to ``<out>/<overrides>/``."""
    parallel: bool = False
    """Track the sequences in parallel as Dask tasks (one per sequence) on ``cluster``."""
    evaluate: bool = True
    """Score the sequences whose every frame is annotated."""
    plots: bool = False
    """Per-sequence J/F-over-time PNGs in ``<out>/plots/``."""
    workers: int = 2
    """Sequences scored in parallel (threads)."""
    overlays: OverlaySchema = field(default_factory=OverlaySchema)  # type: ignore[valid-type]
    """Pictures in ``<out>/overlays/``."""


@dataclass
class EvalAppConfig:
    """Everything ``lucid-eval`` reads. ``data`` is a group (``conf/data/davis.yaml``)."""

    data: Any = MISSING
    results: str = MISSING
    """Folder of ``<sequence>/<frame>.png`` label PNGs."""
    task: str = "semi-supervised"
    """The DAVIS protocol: ``semi-supervised`` (the objects' ids, every frame but the first and the last) or
    ``unsupervised`` (up to 20 candidates of any ids matched to the objects, every frame; also writes
    ``matching.csv`` and the DAVIS-2016 figures of all candidates as one mask, ``binary_*.csv``)."""
    out: str | None = None
    """Where the CSVs, ``plots/`` and ``overlays/`` go; null: the results folder, as the official toolkit."""
    plots: bool = False
    """Per-sequence J/F-over-time PNGs in ``<out>/plots/``."""
    workers: int = 2
    """Sequences scored in parallel (threads)."""
    overlays: OverlaySchema = field(  # type: ignore[valid-type]
        default_factory=lambda: OverlaySchema(video=False, strip=False)
    )
    """Pictures in ``<out>/overlays/``: none unless asked for (``overlays.video=true``, ``overlays.strip=true``)."""


@dataclass
class InteractiveAppConfig:
    """Everything ``lucid-interactive`` reads. ``data``, ``tracker`` and ``profile`` are groups (``conf/<group>/``);
    ``session`` holds :class:`~segmenters.interactive.session.SessionSettings`."""

    data: Any = MISSING
    tracker: Any = MISSING
    profile: Any = MISSING
    session: Any = MISSING
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    out: str = MISSING
    """Results: ``<out>/<sequence>/<frame>.png`` (the labels after the last interaction), ``interactions.csv``,
    ``summary.csv``, ``curve.png``, ``scribbles/<sequence>.json``, ``overlays/``."""
    interactions: int = 8
    """Robot interactions per sequence."""
    parallel: bool = False
    """Run the sequences in parallel as Dask tasks (one per sequence) on ``cluster``."""
    overlays: OverlaySchema = field(  # type: ignore[valid-type]
        default_factory=lambda: OverlaySchema(video=False, gif=False, strip=True)
    )
    """Pictures of the final labels in ``<out>/overlays/``."""


@dataclass
class StudioAppConfig:
    """Everything ``lucid-studio`` reads. ``tracker`` and ``profile`` are groups (``conf/<group>/``); ``session``
    holds :class:`~segmenters.interactive.session.SessionSettings`."""

    tracker: Any = MISSING
    profile: Any = MISSING
    session: Any = MISSING
    path: str = MISSING
    """The video: a DAVIS-layout root, a folder of frames or a video file (``lucid-studio PATH``)."""
    sequence: str | None = None
    """The sequence of a DAVIS root of several."""
    resolution: str = "480p"
    """A DAVIS root's resolution folder."""
    project: str | None = None
    """The project folder (session, names and colours, exports); ``None``: ``studio/<video name>`` in the current
    folder. Opening the same folder again continues the session."""
    host: str = "127.0.0.1"
    """Address to listen on; anything but a loopback address lets other machines in (a warning says so)."""
    port: int = 8765
    """Port to listen on (0: any free port)."""
    open: bool = False
    """Open the page in the default browser (``--open``)."""
    max_request_mb: float = 32.0
    """Largest request body accepted (an imported mask PNG)."""
    display_cache_mb: float = 128.0
    """Decoded frames kept for the page (the session keeps its own, ``session.cache_mb``)."""


def tracker_configs() -> dict[str, type]:
    """``conf/tracker/<name>.yaml`` → the dataclass of its tracker's settings (importing torch for some)."""
    from segmenters.baselines.flow_warp import FlowConfig
    from segmenters.lucid.tracker import LucidConfig
    from segmenters.oneshot.tracker import OneShotConfig
    from segmenters.unsupervised.tracker import UnsupervisedConfig

    return {"flow": FlowConfig, "lucid": LucidConfig, "oneshot": OneShotConfig, "unsupervised": UnsupervisedConfig}


def register_configs(trackers: bool = True) -> None:
    """Register both apps' schemas and, with ``trackers``, the trackers' in Hydra's ConfigStore (importing
    :mod:`foundation.settings` registered the resolvers)."""
    store = ConfigStore.instance()
    store.store(name="lucid_track_schema", node=TrackAppConfig)
    store.store(name="lucid_eval_schema", node=EvalAppConfig)
    store.store(name="lucid_interactive_schema", node=InteractiveAppConfig)
    store.store(name="lucid_studio_schema", node=StudioAppConfig)
    if trackers:
        from segmenters.interactive.session import SessionSettings

        for name, config in tracker_configs().items():
            store.store(group="schema/tracker", name=name, node=schema(config, instantiable=True))
        store.store(group="schema", name="session", node=schema(SessionSettings))
