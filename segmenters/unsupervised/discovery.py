"""Discovering the objects of a video from motion, with no annotation: per-frame candidates linked into tracks.

In one pass over the frames (at most three in memory, at the analysis size): DIS flow to both neighbours; the
camera's motion (a homography fitted by RANSAC) taken out, leaving each pixel's own motion — the smaller of the two
directions, so that a disoccluded halo beside a moving object does not count; that residual averaged with the
neighbours' brought along the flow; pixels above Otsu's threshold (and ``min_motion`` px) snapped to the colours by
GrabCut; split into connected regions (the candidates). Each candidate continues the track whose last mask, carried
along the flow, it overlaps most (IoU ≥ ``link_iou``; failing that, covering most of that mask, as an object that
grows does, unless it is far larger than the track has ever been), else starts one. Tracks are ranked by salience ×
persistence (the sum over their frames of how much more they move than their surroundings, weighted down where they
spread along the frame's border); short and weak ones are dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np
from tqdm import tqdm

from foundation.errors import InputError
from segmenters.interactive.frames import VideoFrames
from segmenters.optical_flow import check_dis_size, dis_estimator, dis_flow, own_motion
from segmenters.unsupervised.functional import (
    border_weight,
    covered,
    instances,
    iou,
    motion_contrast,
    motion_mask,
    refine_by_colour,
    temporal_motion,
    warp_to,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DiscoveryConfig:
    """How objects are found from motion (``tracker.discovery.*``)."""

    max_side: int = 480
    """Analysis size: frames are scaled down to this longest side (px) for flow and candidates."""
    dis_preset: str = "medium"
    stride: int = 1
    """Motion is measured between frames this far apart (then per frame). 3 lets slow objects stand out of the
    noise but loses fast ones: candidates' J 0.36 against 0.45 with 1 on the 10 development sequences."""
    homography_step: int = 8
    """The camera's homography is fitted to the flow sampled every this many pixels."""
    ransac_threshold: float = 1.0
    """RANSAC inlier distance (px at the analysis size)."""
    min_motion: float = 0.7
    """Pixels moving less than this apart from the camera (px per frame) are never foreground."""
    min_area: float = 0.005
    """Candidates smaller than this fraction of the frame are dropped."""
    refine: bool = True
    """Snap the motion masks to the colours (GrabCut)."""
    refine_iterations: int = 3
    refine_rim: int = 3
    """The outer rim of a motion mask GrabCut starts as probable background (px). Per-frame J of the candidates
    before linking on the 10 development sequences (``benchmarks/discovery_masks.py``, one frame in 3): 0.438 with
    no GrabCut, 0.465 with the whole mask probable foreground and its 4-px core sure, 0.519 with a 3-px rim and a
    12-px core."""
    refine_core: int = 12
    """The mask eroded by this many px is sure foreground for GrabCut."""
    link_iou: float = 0.3
    """A candidate continues a track when it overlaps the track's last mask, carried along the flow, this much."""
    link_cover: float = 0.8
    """Then a candidate still unmatched continues a track still unmatched when it covers this fraction of the
    track's carried mask: an object that grew or took in one of its parts (hockey's player, split in two tracks at
    IoU 0.28 where the new mask held 95 % of the old). 1: only a candidate holding all of the track's mask."""
    link_growth: float = 4.0
    """… and when it is at most this many times the largest mask the track has had: a region ten times larger is
    the object merged with the background (hockey's player grew 3.3 times; kite-walk's walker, shrunk to a fragment
    for a few frames, came back at 0.4 of its earlier size)."""
    max_gap: int = 5
    """A track missed for more frames than this ends (its mask is carried along the flow meanwhile)."""
    min_length: float = 0.2
    """Tracks spanning fewer than this fraction of the frames (and fewer than 3) are dropped."""
    border_sigma: float = 1.0
    """Salience falls as a candidate spreads along the frame's border: its motion contrast is weighted by
    ``exp(−c² / 2σ²)`` of its boundary connectivity ``c`` (water, smoke and a background moving behind a followed
    object touch the border; objects seldom do). 0: no weighting."""
    relative_score: float = 0.5
    """Tracks scoring less than this fraction of the best track are dropped. At 0.3 the river behind mallard-fly's
    duck was kept (0.40 of the duck; 0.36 with ``border_sigma=0.7``, 0.28 with 0.5), and the union of the candidates
    lost half its J there (0.61 → 0.31)."""
    max_objects: int = 20
    """At most this many tracks are kept (the DAVIS unsupervised benchmark's limit)."""

    def __post_init__(self) -> None:
        dis_estimator(self.dis_preset, "tracker.discovery.dis_preset")
        for name in ("max_side", "stride", "homography_step", "refine_iterations", "max_objects"):
            if getattr(self, name) < 1:
                raise InputError(f"tracker.discovery.{name}", f"{getattr(self, name)}", "at least 1")
        for name in ("min_area", "link_iou", "link_cover", "min_length", "relative_score"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise InputError(f"tracker.discovery.{name}", f"{getattr(self, name)}", "a fraction in [0, 1]")
        for name in ("refine_rim", "refine_core"):
            if getattr(self, name) < 0:
                raise InputError(f"tracker.discovery.{name}", f"{getattr(self, name)}", "px, at least 0")
        if self.link_growth < 1:
            raise InputError("tracker.discovery.link_growth", f"{self.link_growth}", "a ratio of areas, at least 1")
        if self.max_gap < 0 or self.min_motion < 0 or self.ransac_threshold <= 0 or self.border_sigma < 0:
            raise InputError(
                "tracker.discovery", "a negative gap, motion or border sigma, or a non-positive RANSAC threshold", ""
            )


@dataclass
class Track:
    """One object found in several frames: its masks (``bool (h, w)`` at the analysis size, bit-packed) and, per
    frame, its salience (how much it moves against its surroundings, weighted down where it spreads along the
    frame's border), how well colour and motion agree on it, and how well it continues the previous frame."""

    masks: dict[int, bytes] = field(default_factory=dict)
    salience: dict[int, float] = field(default_factory=dict)
    agreement: dict[int, float] = field(default_factory=dict)
    link: dict[int, float] = field(default_factory=dict)

    @property
    def frames(self) -> list[int]:
        return sorted(self.masks)

    @property
    def score(self) -> float:
        """Salience × persistence: the sum over its frames of its (positive) salience."""
        return float(sum(max(c, 0.0) for c in self.salience.values()))

    def mask(self, frame: int, shape: tuple[int, int]) -> np.ndarray:
        """``bool (h, w)`` mask at ``frame`` (all false where the track is absent)."""
        data = self.masks.get(frame)
        if data is None:
            return np.zeros(shape, bool)
        return np.unpackbits(np.frombuffer(data, np.uint8), count=shape[0] * shape[1]).reshape(shape).astype(bool)

    def reliability(self, frame: int) -> float:
        """How much to trust the mask at ``frame`` as an annotation: consistent with both neighbours along the flow,
        agreed on by colour and motion, salient."""
        links = [self.link[f] for f in (frame, frame + 1) if f in self.link and f - 1 in self.masks]
        stability = float(np.mean(links)) if links else 0.0
        return stability * self.agreement.get(frame, 0.0) * max(self.salience.get(frame, 0.0), 0.0)


@dataclass(frozen=True)
class Discovery:
    """The kept tracks of a video, best first (object ``k + 1`` is ``tracks[k]``), at the analysis size."""

    frames: int
    shape: tuple[int, int]
    """``(h, w)`` of the analysis size."""
    tracks: tuple[Track, ...]

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(range(1, len(self.tracks) + 1))

    def labels(self, frame: int, size: tuple[int, int]) -> np.ndarray:
        """``int32 (H, W)`` labels of ``frame`` at ``size``: object ``k + 1`` where track ``k`` is; a better-ranked
        track wins where two overlap."""
        labels = np.zeros(size, np.int32)
        for object_id in reversed(self.ids):
            mask = self.tracks[object_id - 1].mask(frame, self.shape)
            if mask.any():
                scaled = cv2.resize(mask.astype(np.float32), size[::-1], interpolation=cv2.INTER_LINEAR) > 0.5
                labels[scaled] = object_id
        return labels

    def anchors(self, per_object: int, limit: int) -> list[int]:
        """The frames to annotate with these labels: each track's ``per_object`` most reliable frames, at least
        ``frames / (2 · per_object)`` apart, at most ``limit`` over all (the most reliable first), in order."""
        spacing = max(1, self.frames // (2 * per_object))
        chosen: dict[int, float] = {}
        for track in self.tracks:
            picked: list[int] = []
            for frame in sorted(track.frames, key=lambda f: (-track.reliability(f), f)):
                if len(picked) == per_object:
                    break
                if all(abs(frame - other) >= spacing for other in picked):
                    picked.append(frame)
            for frame in picked:
                chosen[frame] = max(chosen.get(frame, 0.0), track.reliability(frame))
        best = sorted(chosen, key=lambda f: (-chosen[f], f))[:limit]
        return sorted(best)


def analysis_size(shape: tuple[int, int], max_side: int) -> tuple[int, int]:
    """``(h, w)`` of frames of ``shape`` scaled down to ``max_side`` (never up)."""
    scale = min(1.0, max_side / max(shape))
    return max(1, round(shape[0] * scale)), max(1, round(shape[1] * scale))


@dataclass
class Candidate:
    """One region of one frame that moves apart from the camera."""

    mask: np.ndarray
    """``bool (h, w)`` at the analysis size."""
    salience: float
    """Motion contrast to its surroundings, weighted down where it spreads along the frame's border."""
    agreement: float
    """IoU of the colour-refined region with the motion mask near it."""


def frame_candidates(image: np.ndarray, motion: np.ndarray, cfg: DiscoveryConfig) -> list[Candidate]:
    """The candidates of one frame (``image uint8 (h, w, 3)`` RGB, ``motion float32 (h, w)`` from
    :class:`FrameMotion`): the motion mask snapped to the colours and split into regions, largest first."""
    rough = motion_mask(motion, cfg.min_motion, cfg.min_area)
    refined = (
        refine_by_colour(image, rough, cfg.refine_iterations, rim=cfg.refine_rim, core=cfg.refine_core)
        if cfg.refine
        else rough
    )
    found = []
    for mask in instances(refined, cfg.min_area):
        near = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=10) > 0
        salience = motion_contrast(motion, mask) * border_weight(mask, cfg.border_sigma)
        found.append(Candidate(mask, salience, iou(mask, rough & near)))
    return found


@dataclass(frozen=True)
class FrameMotion:
    """What discovery sees of frame ``t``, at the analysis size ``(h, w)``."""

    t: int
    image: np.ndarray
    """``uint8 (h, w, 3)`` RGB."""
    motion: np.ndarray
    """``float32 (h, w)``: residual motion (px per frame, the smaller of the two directions, each over ``stride``
    frames) averaged with the neighbours' (:func:`temporal_motion`)."""
    to_previous: np.ndarray | None
    """``float32 (h, w, 2)`` flow ``t → t − 1`` that links tracks (``None`` for the first frame)."""


def frame_motion(video: VideoFrames, cfg: DiscoveryConfig, size: tuple[int, int]) -> Iterator[FrameMotion]:
    """:class:`FrameMotion` of every frame in order; frames and flows are kept only while a later frame needs
    them."""
    frames, stride = len(video), cfg.stride
    images: dict[int, np.ndarray] = {}
    flows: dict[tuple[int, int], np.ndarray] = {}
    motion: dict[int, np.ndarray] = {}

    def image(t: int) -> np.ndarray:
        if t not in images:
            images[t] = cv2.resize(video[t], size[::-1], interpolation=cv2.INTER_AREA)
        return images[t]

    def flow(a: int, b: int) -> np.ndarray:
        if (a, b) not in flows:
            flows[(a, b)] = dis_flow(image(a), image(b), cfg.dis_preset)
        return flows[(a, b)]

    def frame_motion(t: int) -> np.ndarray:
        others = sorted({min(max(t + step, 0), frames - 1) for step in (stride, -stride)} - {t})
        if not others:
            return np.zeros(size, np.float32)
        flows = [flow(t, other) for other in others]
        return own_motion(flows, [abs(other - t) for other in others], cfg.homography_step, cfg.ransac_threshold)

    for t in range(frames):
        motion[t] = frame_motion(t)
        for s in [t - 1] * (t >= 1) + [t] * (t == frames - 1):
            to_previous = flow(s, s - 1) if s > 0 else None
            to_next = flow(s, s + 1) if s + 1 < frames else None
            smoothed = temporal_motion(motion[s], motion.get(s - 1), to_previous, motion.get(s + 1), to_next)
            yield FrameMotion(s, image(s), smoothed, to_previous)
        for t_old in [f for f in images if f < t - stride]:
            del images[t_old]
        for key in [key for key in flows if min(key) < t - stride]:
            del flows[key]
        motion.pop(t - 2, None)


def discover(video: VideoFrames, cfg: DiscoveryConfig | None = None, progress: bool = False) -> Discovery:
    """Find the moving objects of ``video`` and track them (see the module's docstring)."""
    cfg = cfg or DiscoveryConfig()
    size = analysis_size(video.shape, cfg.max_side)
    check_dis_size(size, dis_estimator(cfg.dis_preset), f"{video.name} at the analysis size")
    frames = len(video)
    tracks: list[Track] = []
    carried: dict[int, tuple[np.ndarray, int]] = {}  # open track → (its last mask carried to the frame, frames missed)
    largest: dict[int, int] = {}  # track → its largest mask's area (px)
    for seen in tqdm(
        frame_motion(video, cfg, size), total=frames, desc=f"discover {video.name}", disable=not progress, leave=False
    ):
        t = seen.t
        if seen.to_previous is not None:
            carried = {
                k: (warp_to(m.astype(np.float32), seen.to_previous) > 0.5, gap) for k, (m, gap) in carried.items()
            }
        found = frame_candidates(seen.image, seen.motion, cfg)
        assigned = link_candidates(found, carried, largest, cfg)
        for i, candidate in enumerate(found):
            if i in assigned:
                k, overlap = assigned[i]
            else:
                k, overlap = len(tracks), 0.0
                tracks.append(Track())
            track = tracks[k]
            track.masks[t] = np.packbits(candidate.mask).tobytes()
            track.salience[t], track.agreement[t], track.link[t] = candidate.salience, candidate.agreement, overlap
            carried[k] = (candidate.mask, 0)
            largest[k] = max(largest.get(k, 0), int(np.count_nonzero(candidate.mask)))
        matched = {k for k in carried if t in tracks[k].masks}
        missed = {k: gap + (k not in matched) for k, (_, gap) in carried.items()}
        carried = {k: (m, missed[k]) for k, (m, _) in carried.items() if missed[k] <= cfg.max_gap}
    return Discovery(frames, size, _kept(tracks, frames, cfg))


def link_candidates(
    found: list[Candidate],
    carried: dict[int, tuple[np.ndarray, int]],
    largest: dict[int, int],
    cfg: DiscoveryConfig,
) -> dict[int, tuple[int, float]]:
    """Candidate index → (the open track it continues, their IoU): greedily by IoU (≥ ``link_iou``), then the rest
    by how much of a track's carried mask a candidate covers (≥ ``link_cover``, the candidate at most
    ``link_growth`` times the track's ``largest`` area in px), each candidate and track once. ``carried``: open
    track → (its last mask carried to this frame, frames missed)."""

    def cover_unless_grown(candidate: np.ndarray, k: int) -> float:
        larger = np.count_nonzero(candidate) > cfg.link_growth * largest[k]
        return 0.0 if larger else covered(candidate, carried[k][0])

    assigned: dict[int, tuple[int, float]] = {}
    for measure, least in ((lambda c, k: iou(c, carried[k][0]), cfg.link_iou), (cover_unless_grown, cfg.link_cover)):
        overlaps = sorted(((measure(c.mask, k), i, k) for i, c in enumerate(found) for k in carried), reverse=True)
        for overlap, i, k in overlaps:
            if overlap < least or overlap == 0:
                break
            if i not in assigned and k not in {a for a, _ in assigned.values()}:
                assigned[i] = (k, iou(found[i].mask, carried[k][0]))
    return assigned


def _kept(tracks: list[Track], frames: int, cfg: DiscoveryConfig) -> tuple[Track, ...]:
    long_enough = [t for t in tracks if len(t.masks) >= min(max(3, cfg.min_length * frames), frames)]
    ranked = sorted(long_enough, key=lambda t: (-t.score, t.frames[0]))
    if not ranked or ranked[0].score <= 0:
        return ()
    best = ranked[0].score
    return tuple(t for t in ranked if t.score >= cfg.relative_score * best)[: cfg.max_objects]
