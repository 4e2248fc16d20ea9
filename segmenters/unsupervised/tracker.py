"""``tracker=unsupervised``: find the objects of a video from motion, then dream from their most reliable frames,
train the video's networks and track them through the whole video — with no annotation.

Steps: :func:`~segmenters.unsupervised.discovery.discover` gives ranked tracks (the candidates); each kept track's
most reliable frames become annotated frames holding every track's mask there (machine-made: nothing but the video
is used); an interactive session (:class:`~segmenters.interactive.session.InteractiveSession`) dreams pairs from
those frames, trains the networks from scratch and tracks every frame from its nearest annotated frames, forwards
and backwards, merging the two without overlaps; where a track has a candidate, its tracked object is kept near it
(:func:`~segmenters.unsupervised.functional.bounded_by`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from foundation.errors import InputError
from foundation.settings import from_container
from segmenters.interactive.frames import VideoFrames
from segmenters.interactive.learning import LearningConfig
from segmenters.interactive.session import InteractiveConfig, InteractiveSession
from segmenters.lucid.tracker import LucidConfig
from segmenters.unsupervised.discovery import Discovery, DiscoveryConfig, discover
from segmenters.unsupervised.functional import bounded_by

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UnsupervisedConfig:
    """Everything ``tracker=unsupervised`` reads (``conf/tracker/unsupervised.yaml``)."""

    discovery: DiscoveryConfig = field(default_factory=DiscoveryConfig)
    dream: bool = True
    """Dream from the discovered objects and track them with the trained networks; false: the candidates alone
    (the tracks of the discovery, for the ablation)."""
    anchors_per_object: int = 3
    """Annotated frames taken from each kept track (its most reliable)."""
    max_anchors: int = 6
    """At most this many annotated frames over all tracks."""
    bound: bool = True
    """Where a track has a candidate, keep its tracked object within ``bound_px`` of it: the networks, trained on
    machine-made masks, spread onto the background beside the object (car-turn's first frames: 2–3 times the
    car's area), which the motion candidate, tight where it exists, cuts away; where it does not (the object stopped
    or was lost), the networks' mask stands. Candidates' J16 0.533, after dreaming 0.640, bounded 0.657 on the 10
    development sequences (seed 0; 0.660 and 0.656 for seeds 1 and 2)."""
    bound_px: float = 2.0
    """How far (px at the discovery's analysis size) the tracked object may reach beyond its candidate."""
    learning: LearningConfig = field(default_factory=lambda: LearningConfig(start=1, pairs_per_frame=40, steps=600))
    """Dreams per annotated frame and training steps (``start`` is ignored: the networks train once)."""
    lucid: LucidConfig = field(default_factory=LucidConfig)
    """The video's networks, dreams and tracking (LucidTracker's settings; its checkpoints are not used)."""
    dis_preset: str = "medium"
    """DIS preset of the session's flow."""
    cache_mb: float = 512.0
    """Memory for the session's decoded frames and flows, each (MB)."""
    threads: int = 0
    """Torch threads (0: the networks' own setting); a Dask task sets 1."""
    progress: bool = True

    def __post_init__(self) -> None:
        if not self.bound_px >= 0:
            raise InputError("tracker.bound_px", f"{self.bound_px}", "px, at least 0")


class UnsupervisedTracker:
    """Unsupervised video object segmentation; keyword arguments are the fields of :class:`UnsupervisedConfig`.

    ``stage_times[video]`` holds the seconds spent discovering, dreaming, training and tracking each video, and
    ``discoveries[video]`` what the discovery found (the candidates).
    """

    def __init__(self, **settings: Any) -> None:
        settings = {
            k: OmegaConf.to_container(v, resolve=True) if isinstance(v, DictConfig) else v for k, v in settings.items()
        }
        self.cfg = from_container(UnsupervisedConfig, settings, "tracker")
        self.stage_times: dict[str, dict[str, float]] = {}
        self.discoveries: dict[str, Discovery] = {}

    def session_config(self) -> InteractiveConfig:
        """The settings of the session that learns and tracks the discovered objects."""
        cfg = self.cfg
        lucid = replace(cfg.lucid, checkpoints=None, progress=cfg.progress and cfg.lucid.progress)
        if cfg.threads > 0:
            lucid = replace(lucid, threads=cfg.threads)
        learning = replace(cfg.learning, enabled=True, start=1)
        return InteractiveConfig(learning=learning, dis_preset=cfg.dis_preset, cache_mb=cfg.cache_mb, tracker=lucid)

    def discover(self, video: VideoFrames) -> Iterator[np.ndarray]:
        """Labels ``int32 (H, W)`` of every frame of ``video``, ids ``1 … K`` for the ``K`` objects found (best
        first); all background when nothing moves."""
        times: dict[str, float] = {}
        self.stage_times[video.name] = times
        start = time.perf_counter()
        found = discover(video, self.cfg.discovery, self.cfg.progress)
        times["discover"] = time.perf_counter() - start
        self.discoveries[video.name] = found
        if not found.tracks:
            log.info("%s: no moving object found, every frame is background", video.name)
            for _ in range(len(video)):
                yield np.zeros(video.shape, np.int32)
            return
        if not self.cfg.dream:
            for frame in range(len(video)):
                yield found.labels(frame, video.shape)
            return
        anchors = found.anchors(self.cfg.anchors_per_object, self.cfg.max_anchors)
        log.info("%s: %d object(s) found; dreaming from frames %s", video.name, len(found.tracks), anchors)
        session = InteractiveSession(video, self.session_config(), found.ids)
        for frame in anchors:
            session.set_mask(frame, found.labels(frame, video.shape))
        labels = session.propagate()
        times.update({stage: seconds for stage, seconds in session.timings.items() if seconds > 0})
        if not self.cfg.bound:
            yield from labels
            return
        radius = round(self.cfg.bound_px * video.shape[0] / found.shape[0])
        for frame, tracked in enumerate(labels):
            yield bounded_by(tracked, found.labels(frame, video.shape), radius)
