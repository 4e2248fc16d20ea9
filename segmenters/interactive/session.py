"""An interactive segmentation session over one video: marks on any frame, propagation to every frame, learning from
the corrections, confidence, and a folder that saves and reopens it.

Every frame the user marks becomes an *annotated frame* (an anchor): its labels are what the marks made of it
(:func:`~segmenters.interactive.seeded.segment_from_marks`) and are kept as given. :meth:`InteractiveSession.propagate`
tracks every other frame from the nearest anchors on both sides and merges the two directions
(:mod:`segmenters.interactive.propagation`): along DIS optical flow, each step snapped to its frame's edges
(:mod:`segmenters.interactive.snapping`), until the video's networks are trained, then both ways — the flow where it
stayed reliable, the networks (LucidTracker's frame-by-frame tracking) where it broke.
Learning (:mod:`segmenters.interactive.learning`) dreams pairs from every anchor and trains the networks once from
scratch, then fine-tunes them after each later interaction.

A session is synchronous by default: ``propagate()`` learns (when due) and returns the best labels, the same bytes
for the same seed. With ``background=true`` it returns at once with the labels of the current model and learns in a
thread; the labels are replaced when it is done (:meth:`InteractiveSession.wait`, :attr:`InteractiveSession.status`).
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dreaming.synthesis.config import preset
from foundation.errors import InputError
from foundation.io import VOID, atomic_directory, atomic_path, object_ids, read_labels, write_labels
from foundation.settings import from_container
from foundation.timing import timed
from segmenters.baselines.flow_warp import propagate_labels
from segmenters.interactive.frames import LruCache, VideoFrames, open_video
from segmenters.interactive.learning import (
    LearningConfig,
    LearningCosts,
    frame_pairs,
    labels_digest,
    network_state,
    networks_from_state,
    steps_within,
    train_networks,
)
from segmenters.interactive.marks import Click, Scribble, seed_map
from segmenters.interactive.propagation import (
    agreement,
    carry_reliability,
    compress_labels,
    compress_reliability,
    consistent_flow,
    decompress_labels,
    decompress_reliability,
    forward_weight,
    fuse_learned,
    merge_directions,
    nearest_anchors,
    object_reliability,
)
from segmenters.interactive.seeded import SeededConfig, segment_from_marks
from segmenters.interactive.snapping import SnapConfig, snap_labels
from segmenters.lucid.model import LucidModel
from segmenters.lucid.samples import TrainingPair
from segmenters.lucid.tracker import LucidConfig, LucidTracker, build_model
from segmenters.optical_flow import check_dis_size, dis_estimator, dis_flow, own_motion
from segmenters.training import load_checkpoint

log = logging.getLogger(__name__)

SESSION_FILE = "session.json"
NETWORKS_FILE = "networks.pt"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class SessionSettings:
    """A session's own settings (``session.*`` of ``conf/interactive.yaml``)."""

    seeded: SeededConfig = field(default_factory=SeededConfig)
    """Marks → labels of the marked frame."""
    learning: LearningConfig = field(default_factory=LearningConfig)
    dis_preset: str = "medium"
    """DIS preset of the flow propagation."""
    threshold: float = 0.5
    """Flow propagation: a pixel joins an object when its warped soft mask exceeds this."""
    snap: SnapConfig = field(default_factory=SnapConfig)
    """Flow propagation: after each step, the labels are re-decided near their boundaries from the frame's colours
    and edges (:mod:`segmenters.interactive.snapping`)."""
    consistency: bool = False
    """Flow propagation: pixels whose flow the reverse flow does not confirm become background. Off: on the 10
    development sequences (flow only, 8 robot interactions) J&F 0.564 with it, 0.567 without — it stops the smearing
    beside moving objects (motocross-bumps +0.18) but erodes fast ones (dog-agility −0.03, mallard-fly −0.14)."""
    softness: float = 5.0
    """Merging the two directions: a label map is unsure of its edges within this many pixels."""
    reliability_decay: float = 0.1
    """Flow propagation: each pixel's reliability is multiplied by this at every step where the reverse flow does not
    confirm the flow it came along, and the two directions are merged weighted by it (1: off). A smear drawn across an
    occlusion then loses to the other direction's labels. On the 10 development sequences (flow only, 8 robot
    interactions) final J&F 0.664 / 0.678 / 0.690 / 0.703 at 1 / 0.5 / 0.25 / 0.1."""
    flow_reliable: float = 0.5
    """Once the networks are trained, a pixel keeps the flow propagation's label where the flow carried it with at least
    this reliability (``reliability_decay``) and takes the networks' label where the flow broke: the networks re-find
    what the flow lost, the flow keeps what the networks learned poorly. Above 1: the networks' labels everywhere;
    0: the flow's. On the 10 development sequences, the same 8 robot interactions learning at the last: final J&F
    0.718 against 0.703 with flow only; on the nine where the networks alone ran, 0.721 against 0.701 (flow) and
    0.699 (networks)."""
    horizon: float = 30.0
    """Confidence of a frame tracked from one side only: ``exp(−distance / horizon)``."""
    cache_mb: float = 512.0
    """Memory for decoded frames and optical flows, each (MB)."""
    background: bool = False
    """Learn in a background thread: ``propagate()`` returns at once."""

    def __post_init__(self) -> None:
        dis_estimator(self.dis_preset, "session.dis_preset")
        if not 0.0 <= self.reliability_decay <= 1.0:
            raise InputError("session.reliability_decay", f"{self.reliability_decay}", "a factor in [0, 1]")
        for name in ("threshold", "softness", "flow_reliable", "horizon", "cache_mb"):
            if not getattr(self, name) >= 0.0:
                raise InputError(f"session.{name}", f"{getattr(self, name)}", "a value ≥ 0")
        if not self.threshold < 1.0:
            raise InputError("session.threshold", f"{self.threshold}", "a value in [0, 1)")


@dataclass(frozen=True)
class InteractiveConfig(SessionSettings):
    """Everything a session reads: its own settings and the video's networks'."""

    tracker: LucidConfig = field(default_factory=LucidConfig)
    """The video's networks, dreams, crops and tracking (LucidTracker's settings, ``tracker.*``; its checkpoints,
    tuning, boundary refiner and proposals are not used here)."""


@dataclass(frozen=True)
class Interaction:
    """One interaction: the frame marked, what with, and the seconds it took."""

    frame: int
    kind: str
    """``scribbles``, ``clicks`` or ``mask``."""
    seconds: float


@dataclass(frozen=True)
class _Undo:
    """What an interaction replaced on its frame, to put back."""

    frame: int
    anchor: bytes | None
    result: bytes | None
    confidence: np.ndarray | None
    marks: list[Scribble | Click] | None


@dataclass
class _Chain:
    """Labels tracked from one anchor in one direction, frame by frame (compressed), and what made them."""

    digest: str
    model: int
    frames: dict[int, bytes] = field(default_factory=dict)
    reliability: dict[int, bytes] = field(default_factory=dict)
    """Per frame, the flow propagation's reliability map (:func:`carry_reliability`, compressed); none otherwise."""
    version: int = 0


class LabelSequence(Sequence[np.ndarray]):
    """The session's labels of every frame, decompressed on access: ``int32 (H, W)`` per frame."""

    def __init__(self, results: dict[int, bytes], length: int, shape: tuple[int, int]) -> None:
        self._results, self._length, self._shape = dict(results), length, shape

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: int) -> np.ndarray:  # type: ignore[override]
        if not 0 <= index < self._length:
            raise IndexError(index)
        data = self._results.get(index)
        return np.zeros(self._shape, np.int32) if data is None else decompress_labels(data, self._shape)

    def __iter__(self) -> Iterator[np.ndarray]:
        return (self[i] for i in range(self._length))


def _upgraded_config(config: dict[str, Any]) -> dict[str, Any]:
    """A saved session's settings as :class:`InteractiveConfig` reads them today: before 2026-12-04 ``tracker.dream``
    was a preset's name (``fast`` or ``paper``), now the dream settings themselves."""
    tracker = config.get("tracker")
    if isinstance(tracker, dict) and isinstance(tracker.get("dream"), str):
        config = {**config, "tracker": {**tracker, "dream": asdict(preset(tracker["dream"]))}}
    return config


def _mark_to_json(mark: Scribble | Click) -> dict[str, Any]:
    if isinstance(mark, Scribble):
        return {"kind": "scribble", "object_id": mark.object_id, "path": mark.path.tolist(), "width": mark.width}
    return {"kind": "click", "object_id": mark.object_id, "x": mark.x, "y": mark.y, "positive": mark.positive}


def _mark_from_json(item: dict[str, Any]) -> Scribble | Click:
    if item["kind"] == "scribble":
        return Scribble(int(item["object_id"]), np.asarray(item["path"], dtype=np.float64), int(item.get("width", 0)))
    return Click(float(item["x"]), float(item["y"]), int(item["object_id"]), bool(item["positive"]))


class InteractiveSession:
    """Interactive segmentation of ``video``; ``ids`` are its objects at the start (more can be added).

    Frames are indexed ``0 … len(video) − 1``; labels are ``int32 (H, W)`` maps of 0 (background) and object ids.
    Every method that takes input checks all of it before changing anything: a bad call leaves the session as it
    was.
    """

    def __init__(
        self,
        video: VideoFrames,
        cfg: InteractiveConfig | None = None,
        ids: Sequence[int] = (),
        source: dict[str, Any] | None = None,
    ) -> None:
        self.video, self.cfg = video, cfg or InteractiveConfig()
        self.source = dict(source or {})
        """How to reopen the video (``open_video`` arguments), saved with the session."""
        self._lock = threading.RLock()
        self.ids: list[int] = []
        for object_id in ids:
            self.add_object(object_id)
        self.marks: dict[int, list[Scribble | Click]] = {}
        self.history: list[Interaction] = []
        self._anchors: dict[int, bytes] = {}
        self._results: dict[int, bytes] = {}
        self._confidence: dict[int, np.ndarray] = {}
        self._chains: dict[tuple[int, int, bool], _Chain] = {}
        """Per (anchor, direction, whether the networks track it), the labels tracked from that anchor."""
        self._merged: dict[int, tuple[Any, ...]] = {}
        self._flows: LruCache[np.ndarray] = LruCache(int(self.cfg.cache_mb * 2**20))
        self._pairs: dict[int, tuple[str, list[TrainingPair]]] = {}
        self._networks: dict[str, Any] | None = None
        self._model: LucidModel | None = None
        self._model_version = 0
        self._trainings = 0
        self._learned: frozenset[tuple[int, str]] = frozenset()
        self._chain_counter = 0
        self._worker: threading.Thread | None = None
        self._worker_error: BaseException | None = None
        self._undo: list[_Undo] = []
        self.revision = 0
        """Increases whenever the labels of some frame may have changed (a page reloads what it shows)."""
        self.status: dict[str, Any] = {"state": "idle", "model": 0, "progress": None}
        """What the session is doing: ``state`` (idle, dreaming, training, propagating), ``progress`` (the share of
        that stage done, ``None`` when idle) and ``model`` (how many trainings its networks have had)."""
        self.timings: dict[str, float] = {}
        """Seconds spent so far in each stage: ``dream``, ``train``, ``track`` (propagation)."""
        self._measured: dict[str, tuple[float, int]] = {}
        """Seconds and units of learning work done so far (``pair`` dreamed, ``step`` trained, ``frame`` tracked by
        the networks per object): the costs a budget plans with."""
        self._tracker = LucidTracker(**asdict(self.cfg.tracker))
        if self.cfg.tracker.appearance.matching.mode != "none":
            # The matching inputs compare with one annotated frame; a session has several and no checkpoint for them.
            raise InputError(
                "tracker.appearance.matching.mode",
                f"{self.cfg.tracker.appearance.matching.mode} (matching maps are for lucid-track only so far)",
                "none in an interactive or unsupervised session",
            )

    @classmethod
    def open(
        cls,
        path: str,
        cfg: InteractiveConfig | None = None,
        sequence: str | None = None,
        resolution: str = "480p",
        ids: Sequence[int] = (),
    ) -> InteractiveSession:
        """A new session over the video at ``path`` (:func:`~segmenters.interactive.frames.open_video`)."""
        cfg = cfg or InteractiveConfig()
        video = open_video(path, sequence, resolution, cfg.cache_mb)
        source = {"path": str(Path(path).resolve()), "sequence": sequence, "resolution": resolution}
        return cls(video, cfg, ids, source)

    # --- objects and frames -------------------------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, int]:
        return self.video.shape

    @property
    def annotated(self) -> list[int]:
        """The annotated frames (marked or given a mask), in order."""
        return sorted(self._anchors)

    def add_object(self, object_id: int | None = None) -> int:
        """Add an object (the next free id when ``object_id`` is ``None``) and return its id."""
        if object_id is None:
            object_id = next(i for i in range(1, VOID) if i not in self.ids)
        object_id = int(object_id)
        if not 0 < object_id < VOID:
            raise InputError("object id", f"{object_id}", f"an id in 1..{VOID - 1}")
        if object_id in self.ids:
            raise InputError("object id", f"{object_id} is already an object of this session", "a new id")
        with self._lock:
            self.ids = sorted([*self.ids, object_id])
        return object_id

    def remove_object(self, object_id: int) -> None:
        """Remove an object: its pixels become background in every frame, its marks are dropped."""
        self._check_ids([object_id])
        with self._lock:
            self.ids = [i for i in self.ids if i != object_id]
            for frame, data in list(self._anchors.items()):
                labels = decompress_labels(data, self.shape)
                labels[labels == object_id] = 0
                self._anchors[frame] = compress_labels(labels)
            for frame, marks in self.marks.items():
                self.marks[frame] = [m for m in marks if m.object_id != object_id]
            self._undo.clear()  # what the interactions replaced still holds the removed object
            self._invalidate()

    def _check_frame(self, frame: int) -> int:
        if not isinstance(frame, int | np.integer) or not 0 <= int(frame) < len(self.video):
            raise InputError(f"{self.video.name} frame", f"index {frame} is out of range", f"0..{len(self.video) - 1}")
        return int(frame)

    def _check_ids(self, ids: Sequence[int], background: bool = False) -> None:
        allowed = {0, *self.ids} if background else set(self.ids)
        unknown = sorted({int(i) for i in ids} - allowed)
        if unknown:
            expected = f"{'0 (background) or ' if background else ''}one of the session's objects {self.ids}"
            raise InputError("object id", f"{unknown} not an object of this session (add_object first)", expected)

    # --- interactions -------------------------------------------------------------------------------------------

    def add_scribbles(self, frame: int, scribbles: Sequence[Scribble]) -> np.ndarray:
        """Mark ``frame`` with scribbles (object ids, 0 for background); returns its new labels ``int32 (H, W)``."""
        return self._interact(frame, list(scribbles), "scribbles")

    def add_clicks(self, frame: int, clicks: Sequence[Click]) -> np.ndarray:
        """Mark ``frame`` with positive/negative clicks; returns its new labels ``int32 (H, W)``."""
        return self._interact(frame, list(clicks), "clicks")

    def set_mask(self, frame: int, labels: np.ndarray, seconds: float = 0.0) -> None:
        """Give ``frame`` its labels ``int (H, W)`` (an imported mask): kept as given; void becomes background and
        ids the session does not know yet are added as objects."""
        frame = self._check_frame(frame)
        labels = np.asarray(labels)
        if labels.shape != self.shape or not np.issubdtype(labels.dtype, np.integer):
            raise InputError(
                f"mask of frame {frame}", f"{labels.dtype} array of shape {labels.shape}", f"int labels {self.shape}"
            )
        if labels.min(initial=0) < 0 or labels.max(initial=0) > VOID:
            raise InputError(f"mask of frame {frame}", f"ids {labels.min()}..{labels.max()}", f"ids in 0..{VOID}")
        labels = np.where(labels == VOID, 0, labels).astype(np.int32)
        with self._lock:
            for object_id in object_ids(labels):
                if object_id not in self.ids:
                    self.add_object(object_id)
            self._annotate(frame, labels, Interaction(frame, "mask", seconds))

    def _interact(self, frame: int, marks: list[Scribble | Click], kind: str) -> np.ndarray:
        frame = self._check_frame(frame)
        if not marks:
            raise InputError(kind, "no mark given", "at least one scribble or click")
        self._check_ids([m.object_id for m in marks], background=True)
        with self._lock:
            image = self.video[frame]
            every = [*self.marks.get(frame, []), *marks]
            seeds = seed_map(
                self.shape,
                [m for m in every if isinstance(m, Scribble)],
                [m for m in every if isinstance(m, Click)],
            )
            current = self.labels(frame) if self._results or self._anchors else None
            prior = self._prior(frame, image, current) if self._model is not None and current is not None else None
            motion = None
            if self.cfg.seeded.motion_weight > 0.0 and len(self.video) > 1:
                motion = self._flow(frame, frame + 1 if frame + 1 < len(self.video) else frame - 1)
            still = None
            if current is None and self.cfg.seeded.still > 0.0 and len(self.video) > 1:
                near = [other for other in (frame - 1, frame + 1) if 0 <= other < len(self.video)]
                still = own_motion([self._flow(frame, other) for other in near])
            labels = segment_from_marks(
                image, seeds, self.ids, self.cfg.seeded, current, prior, motion=motion, own_motion=still
            )
            self._annotate(frame, labels, Interaction(frame, kind, 0.0), every)
        return labels

    def _annotate(
        self, frame: int, labels: np.ndarray, interaction: Interaction, marks: list[Scribble | Click] | None = None
    ) -> None:
        previous = self.marks.get(frame)
        self._undo.append(
            _Undo(frame, self._anchors.get(frame), self._results.get(frame), self._confidence.get(frame), previous)
        )
        if marks is not None:
            self.marks[frame] = marks
        data = compress_labels(labels)
        self.revision += 1
        self._anchors[frame] = data
        self._results[frame] = data
        self._confidence[frame] = np.ones(len(self.ids))
        self.history.append(interaction)

    def _prior(self, frame: int, image: np.ndarray, current: np.ndarray) -> np.ndarray:
        """The network's probabilities ``float32 (K + 1, H, W)`` of background and each object at ``frame``, each
        object guided by its current mask there."""
        assert self._model is not None
        guidance = [current == object_id for object_id in self.ids]
        flow = np.zeros((*self.shape, 2), np.float32)  # the appearance network does not read it
        prior = np.zeros((len(self.ids) + 1, *self.shape), np.float32)
        index = {object_id: k + 1 for k, object_id in enumerate(self.ids)}
        for probs in self._model.object_probabilities(image, flow, guidance, self.ids):
            prior[index[probs.id]][probs.region] = probs.appearance
        prior[0] = 1.0 - prior[1:].max(axis=0, initial=0.0)
        return prior

    def undo(self) -> int:
        """Take back the last interaction (marks or mask) since the session was made or loaded: its frame's marks,
        annotation and labels become what they were before it. Returns the frame.

        Raises:
            InputError: nothing to undo.
        """
        with self._lock:
            if not self._undo:
                raise InputError(self.video.name, "nothing to undo", "an interaction since the session was opened")
            last = self._undo.pop()
            stores: list[tuple[dict[int, Any], Any]] = [
                (self._anchors, last.anchor),
                (self._results, last.result),
                (self._confidence, last.confidence),
                (self.marks, last.marks),
            ]
            for store, value in stores:
                if value is None:
                    store.pop(last.frame, None)
                else:
                    store[last.frame] = value
            self._merged.pop(last.frame, None)
            if self.history:
                self.history.pop()
            self.revision += 1
            return last.frame

    @property
    def can_undo(self) -> bool:
        """Whether :meth:`undo` has an interaction to take back."""
        return bool(self._undo)

    def record_seconds(self, seconds: float) -> None:
        """Set the duration of the last interaction (the caller's clock, e.g. the robot's)."""
        if self.history:
            last = self.history[-1]
            self.history[-1] = Interaction(last.frame, last.kind, float(seconds))

    # --- propagation --------------------------------------------------------------------------------------------

    def labels(self, frame: int) -> np.ndarray:
        """The current labels ``int32 (H, W)`` of ``frame`` (zeros where nothing was propagated yet)."""
        frame = self._check_frame(frame)
        data = self._results.get(frame)  # no lock: one dict read is atomic, and a page reads while tracking runs
        return np.zeros(self.shape, np.int32) if data is None else decompress_labels(data, self.shape)

    def all_labels(self) -> LabelSequence:
        """The current labels of every frame."""
        return LabelSequence(self._results, len(self.video), self.shape)

    def confidence(self) -> np.ndarray:
        """``float64 (T, K)``: how sure the session is of each object (``ids`` order) in each frame, in ``[0, 1]``.

        1 on annotated frames; between two annotated frames the IoU of the object's masks tracked from either side
        (they disagree where tracking drifted); beyond the first or last annotated frame ``exp(−d / horizon)`` at
        ``d`` frames from it; 0 where nothing was propagated yet. Along the flow, times the mean reliability of the
        object's pixels (how much of their way the reverse flow confirmed, :func:`object_reliability`): with the
        snapping, both directions settle on the same edges even where both drifted, and their IoU alone says less
        (Spearman ρ with the per-frame J on the development sequences 0.386 without the factor, 0.407 with it).
        """
        ids = self.ids
        values = np.zeros((len(self.video), len(ids)))
        for frame, conf in list(self._confidence.items()):  # a snapshot: a page reads while tracking runs
            if len(conf) == len(ids):
                values[frame] = conf
        return values

    def learning_due(self) -> bool:
        """Whether the next :meth:`propagate` trains: learning is on, enough interactions happened, the annotated
        frames changed since the last training and, under ``learning.budget``, enough steps fit in what is left."""
        return self._planned_steps() > 0

    def _planned_steps(self) -> int:
        """The steps of the next training (0: none due): the configured ones, or under ``learning.budget`` those that
        fit in the seconds left (:func:`~segmenters.interactive.learning.steps_within`, at the costs measured so
        far)."""
        learning = self.cfg.learning
        if not learning.enabled or not self._anchors or len(self.history) < max(learning.start, 1):
            return 0
        keys = self._anchor_keys()
        if keys == self._learned:
            return 0
        steps = learning.steps if self._networks is None else learning.finetune_steps
        if learning.budget <= 0.0:
            return steps
        anchors = self.annotated
        share = self._share(len(anchors))
        pairs = 0
        for frame, digest in keys:
            cached = self._pairs.get(frame)
            pairs += share if cached is None or cached[0] != digest or len(cached[1]) < share else 0
        tracked = len(self.ids) * sum(len(self._extent(a, d, anchors)) for a in anchors for d in (1, -1))
        left = learning.budget * len(self.ids) - sum(i.seconds for i in self.history)
        costs = self.costs()
        planned = steps_within(left, steps, pairs, tracked, costs, math.ceil(learning.min_share * steps))
        name = self.video.name
        if planned == 0:
            log.info("%s: learning waits: %d steps do not fit in the %.0f s left (%s)", name, steps, left, costs)
        elif planned < steps:
            log.info("%s: %d of %d training steps fit in the %.0f s left (%s)", name, planned, steps, left, costs)
        return planned

    def costs(self) -> LearningCosts:
        """Seconds per unit of learning: as measured in this session, the configured estimates until then."""
        estimates = self.cfg.learning.costs
        return LearningCosts(
            **{
                name: seconds / units if units else getattr(estimates, name)
                for name in ("pair", "step", "frame")
                for seconds, units in [self._measured.get(name, (0.0, 0))]
            }
        )

    def _measure(self, name: str, seconds: float, units: int) -> None:
        spent, done = self._measured.get(name, (0.0, 0))
        self._measured[name] = (spent + seconds, done + units)

    def _share(self, anchors: int) -> int:
        """Training pairs of each annotated frame (``max_pairs`` bounds their total)."""
        learning = self.cfg.learning
        return max(1, min(learning.pairs_per_frame, learning.max_pairs // max(anchors, 1)))

    def propagate(self) -> LabelSequence:
        """Labels of every frame from the annotated frames: learn first when due (in the background with
        ``background``), then track each frame from its nearest annotated frames and merge."""
        if not self._anchors:
            raise InputError(self.video.name, "nothing is annotated yet", "marks or a mask on at least one frame")
        self._raise_worker_error()
        steps = self._planned_steps()
        if steps:
            if self.cfg.background:
                self._propagate_all()
                self._start_worker(steps)
                return self.all_labels()
            self._learn(steps)
        self._propagate_all()
        return self.all_labels()

    def wait(self) -> LabelSequence:
        """Wait for background learning (if any) and return the labels of every frame."""
        worker = self._worker
        if worker is not None:
            worker.join()
        self._raise_worker_error()
        return self.all_labels()

    def _raise_worker_error(self) -> None:
        error, self._worker_error = self._worker_error, None
        if error is not None:
            raise error

    def _start_worker(self, steps: int) -> None:
        if self._worker is not None and self._worker.is_alive():
            return  # the running one will be followed by another propagate() call

        def work() -> None:
            try:
                self._learn(steps)
                self._propagate_all()
            except BaseException as error:  # reported by the next propagate() or wait()
                self._worker_error = error
                log.exception("background learning failed")
            finally:
                self.status = {**self.status, "state": "idle", "progress": None}

        self._worker = threading.Thread(target=work, name="lucid-learning", daemon=True)
        self._worker.start()

    def _anchor_keys(self) -> frozenset[tuple[int, str]]:
        return frozenset((frame, labels_digest(decompress_labels(d, self.shape))) for frame, d in self._anchors.items())

    def _learn(self, steps: int) -> None:
        """Dream from the annotated frames (each frame's pairs made once) and train for ``steps``: from scratch the
        first time, then from the current weights."""
        cfg, learning = self.cfg.tracker, self.cfg.learning
        with self._lock:  # the frame cache is not thread-safe: read what is needed while holding the lock
            anchors = {frame: decompress_labels(d, self.shape) for frame, d in self._anchors.items()}
            images = {frame: self.video[frame] for frame in anchors}
            keys = self._anchor_keys()
        share = self._share(len(anchors))
        pairs: list[TrainingPair] = []
        self.status = {**self.status, "state": "dreaming", "progress": 0.0}
        with timed(self.timings, "dream"):
            self._dream(anchors, images, share, pairs)
        self.status = {**self.status, "state": "training", "progress": 0.0}

        def on_step(step: int, steps: int) -> None:
            self.status = {**self.status, "progress": step / steps}

        started = time.perf_counter()
        with timed(self.timings, "train"):
            networks = train_networks(
                self._networks, pairs, cfg, learning, self._trainings, cfg.progress, on_step, steps
            )
        self._measure("step", time.perf_counter() - started, steps)
        with self._lock:
            self._networks = networks
            self._model = build_model(cfg, networks)
            self._trainings += 1
            self._model_version += 1
            self._learned = keys
            self.status = {"state": "propagating", "model": self._trainings, "progress": 0.0}

    def _dream(
        self, anchors: dict[int, np.ndarray], images: dict[int, np.ndarray], share: int, pairs: list[TrainingPair]
    ) -> None:
        """Append ``share`` training pairs of each annotated frame to ``pairs`` (each frame's made once)."""
        cfg, learning = self.cfg.tracker, self.cfg.learning
        for done, frame in enumerate(sorted(anchors)):
            self.status = {**self.status, "progress": done / len(anchors)}
            digest = labels_digest(anchors[frame])
            cached = self._pairs.get(frame)
            if cached is None or cached[0] != digest or len(cached[1]) < share:
                started = time.perf_counter()
                made = frame_pairs(images[frame], anchors[frame], frame, cfg, learning, self.video.name)
                self._measure("pair", time.perf_counter() - started, len(made))
                cached = (digest, made)
            self._pairs[frame] = (digest, cached[1][:share])  # a frame's pairs are a prefix: memory stays bounded
            pairs.extend(self._pairs[frame][1])
        for frame in set(self._pairs) - set(anchors):
            del self._pairs[frame]

    def _flow(self, frame: int, other: int) -> np.ndarray:
        """DIS flow ``float32 (H, W, 2)`` from ``frame`` to ``other`` (cached)."""

        def compute() -> np.ndarray:
            return dis_flow(self.video[frame], self.video[other], self.cfg.dis_preset)

        return self._flows.get((frame, other), compute)

    def _extent(self, anchor: int, direction: int, anchors: list[int]) -> list[int]:
        """The frames tracked from ``anchor`` in ``direction`` (+1 forward, −1 backward): up to the next anchor."""
        i = anchors.index(anchor)
        if direction > 0:
            stop = anchors[i + 1] if i + 1 < len(anchors) else len(self.video)
            return list(range(anchor + 1, stop))
        stop = anchors[i - 1] if i > 0 else -1
        return list(range(anchor - 1, stop, -1))

    def _track(
        self,
        start: np.ndarray,
        reliability: np.ndarray,
        start_frame: int,
        frames: list[int],
        direction: int,
        model: LucidModel | None,
    ) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        """Labels of ``frames`` (consecutive, in ``direction``) tracked from ``start`` at ``start_frame`` by ``model``,
        or along the optical flow without one, each with its reliability map when the flow propagates them
        (``reliability``: at ``start_frame``; ``None`` with the weighting off or a model)."""
        if model is None:
            labels = start
            weighted = self.cfg.reliability_decay < 1.0
            for frame in frames:
                flow = self._flow(frame, frame - direction)
                labels = propagate_labels(labels, flow, self.cfg.threshold)
                labels = snap_labels(self.video[frame], labels, self.cfg.snap)
                if not (self.cfg.consistency or weighted):
                    yield labels, None
                    continue
                consistent = consistent_flow(flow, self._flow(frame - direction, frame))
                if self.cfg.consistency:
                    labels[~consistent] = 0
                if weighted:
                    reliability = carry_reliability(reliability, flow, consistent, self.cfg.reliability_decay)
                yield labels, (reliability if weighted else None)
            return
        if not object_ids(start):
            for _ in frames:
                yield np.zeros(self.shape, np.int32), None
            return
        images = (self.video[frame] for frame in frames)
        for labels in self._tracker.follow(model, self.video[start_frame], images, start):
            yield labels, None

    def _chain(
        self, anchor: int, direction: int, learned: bool, anchors: list[int], tracked: list[int], total: int
    ) -> _Chain:
        """The labels tracked from ``anchor`` in ``direction`` by the networks (``learned``) or the flow, reusing what
        was tracked before from the same anchor labels with the same networks. ``tracked[0]`` counts the frames
        tracked, out of ``total``, for the progress."""
        digest = labels_digest(decompress_labels(self._anchors[anchor], self.shape))
        extent = self._extent(anchor, direction, anchors)
        model = self._model if learned else None
        version = self._model_version if learned else 0
        chain = self._chains.get((anchor, direction, learned))
        if chain is None or chain.digest != digest or chain.model != version:
            chain = _Chain(digest, version)
            self._chains[(anchor, direction, learned)] = chain
        kept = {frame: chain.frames[frame] for frame in extent if frame in chain.frames}
        done = 0
        while done < len(extent) and extent[done] in kept:
            done += 1
        if done < len(extent) or len(kept) != len(chain.frames):
            self._chain_counter += 1
            chain.version = self._chain_counter
        todo = extent[done:]
        chain.frames = {frame: kept[frame] for frame in extent[:done]}
        chain.reliability = {frame: chain.reliability[frame] for frame in extent[:done] if frame in chain.reliability}
        if todo:
            start_frame = extent[done - 1] if done else anchor
            start = decompress_labels(chain.frames[start_frame] if done else self._anchors[anchor], self.shape)
            stored = chain.reliability.get(start_frame) if done else None
            reliability = np.ones(self.shape, np.float32)
            if stored is not None:
                reliability = decompress_reliability(stored, self.shape)
            tracks = self._track(start, reliability, start_frame, todo, direction, model)
            started = time.perf_counter()
            for frame, (labels, carried) in zip(todo, tracks, strict=True):
                chain.frames[frame] = compress_labels(labels)
                if carried is not None:
                    chain.reliability[frame] = compress_reliability(carried)
                tracked[0] += 1
                self.status = {**self.status, "progress": min(tracked[0] / max(total, 1), 1.0)}
            if learned and object_ids(start):
                self._measure("frame", time.perf_counter() - started, len(todo) * len(self.ids))
        return chain

    def _propagate_all(self) -> None:
        """Track every frame from its nearest anchors and merge (only frames whose inputs changed are merged)."""
        with self._lock, timed(self.timings, "track"):
            self.status = {**self.status, "state": "propagating", "progress": 0.0}
            check_dis_size(self.shape, dis_estimator(self.cfg.dis_preset), self.video.name)
            anchors = self.annotated
            kinds = (False, True) if self._model is not None else (False,)
            total = len(kinds) * sum(len(self._extent(a, d, anchors)) for a in anchors for d in (1, -1))
            tracked = [0]
            chains = {
                (a, d, k): self._chain(a, d, k, anchors, tracked, total)
                for k in kinds
                for a in anchors
                for d in (1, -1)
            }
            for key in set(self._chains) - set(chains):
                del self._chains[key]
            for frame in range(len(self.video)):
                if frame in self._anchors:
                    self._results[frame] = self._anchors[frame]
                    self._confidence[frame] = np.ones(len(self.ids))
                    self._merged.pop(frame, None)
                    continue
                before, after = nearest_anchors(frame, anchors)
                pairs = [
                    (
                        chains[(before, 1, k)] if before is not None else None,
                        chains[(after, -1, k)] if after is not None else None,
                    )
                    for k in kinds
                ]
                versions = tuple(c and c.version for pair in pairs for c in pair)
                inputs = (before, after, versions, tuple(self.ids))
                if self._merged.get(frame) == inputs and frame in self._results:
                    continue
                flow, learned = self._merge(frame, before, after, *pairs[0], reliable=len(pairs) > 1), None
                if len(pairs) > 1:
                    learned = self._merge(frame, before, after, *pairs[1])
                self._results[frame], self._confidence[frame] = self._fuse(flow, learned)
                self._merged[frame] = inputs
            self.revision += 1
            self.status = {**self.status, "state": "idle", "progress": None}

    def _merge(
        self,
        frame: int,
        before: int | None,
        after: int | None,
        forward: _Chain | None,
        backward: _Chain | None,
        reliable: bool = False,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """``(labels int32 (H, W), confidence (K,), reliability float32 (H, W) or None)`` of ``frame`` from the chains
        of its anchors on either side; with ``reliable`` (the fusion reads it), the reliability is the better of the
        two directions' (``None`` if not carried or not asked for)."""
        weight = forward_weight(frame, before, after)
        if forward is None or backward is None:
            chain, anchor = (forward, before) if forward is not None else (backward, after)
            assert chain is not None and anchor is not None
            conf = math.exp(-abs(frame - anchor) / max(self.cfg.horizon, 1e-9))
            carried = chain.reliability.get(frame)
            reliability = None if carried is None else decompress_reliability(carried, self.shape)
            labels = decompress_labels(chain.frames[frame], self.shape)
            confidence = conf * object_reliability(labels, reliability, self.ids)
            return labels, confidence, reliability if reliable else None
        f = decompress_labels(forward.frames[frame], self.shape)
        b = decompress_labels(backward.frames[frame], self.shape)
        both = None
        if frame in forward.reliability and frame in backward.reliability:
            both = (
                decompress_reliability(forward.reliability[frame], self.shape),
                decompress_reliability(backward.reliability[frame], self.shape),
            )
        merged = merge_directions(f, b, weight, self.cfg.softness, both)
        best = None if both is None else np.maximum(*both)
        confidence = agreement(f, b, self.ids) * object_reliability(merged, best, self.ids)
        return merged, confidence, best if reliable else None

    def _fuse(
        self,
        flow: tuple[np.ndarray, np.ndarray, np.ndarray | None],
        learned: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None,
    ) -> tuple[bytes, np.ndarray]:
        """A frame's labels (compressed) and confidence from the flow's :meth:`_merge` and the networks' (``None``
        before any training): the networks' labels where the flow's reliability is below ``flow_reliable``
        (everywhere when the flow carries none), the flow's elsewhere; the confidence is the networks' once trained."""
        if learned is None:
            return compress_labels(flow[0]), flow[1]
        return compress_labels(fuse_learned(flow[0], learned[0], flow[2], self.cfg.flow_reliable)), learned[1]

    def _invalidate(self) -> None:
        self.revision += 1
        self._chains.clear()
        self._merged.clear()
        self._results = dict(self._anchors)
        self._confidence = {frame: np.ones(len(self.ids)) for frame in self._anchors}

    # --- saving -------------------------------------------------------------------------------------------------

    def save(self, folder: str | Path) -> Path:
        """Write the session to ``folder`` (replaced atomically: an interrupted save leaves the previous one)."""
        folder = Path(folder)
        with self._lock:  # a snapshot (compressed labels are immutable bytes), written after the lock is let go
            stems = self.video.stems
            anchors, results = dict(self._anchors), dict(self._results)
            networks = None if self._networks is None else network_state(self._networks)
            state = {
                "format": FORMAT_VERSION,
                "video": {"name": self.video.name, "frames": len(self.video), "shape": list(self.shape)},
                "source": self.source,
                "ids": self.ids,
                "annotated": self.annotated,
                "marks": {str(frame): [_mark_to_json(m) for m in marks] for frame, marks in self.marks.items()},
                "history": [asdict(item) for item in self.history],
                "confidence": {str(frame): conf.tolist() for frame, conf in self._confidence.items()},
                "trainings": self._trainings,
                "learned": sorted([frame, digest] for frame, digest in self._learned),
                "measured": {name: list(value) for name, value in self._measured.items()},
                "config": asdict(self.cfg),
            }
        with atomic_directory(folder) as tmp:
            for name, store in (("annotated", anchors), ("labels", results)):
                for frame in sorted(store):
                    write_labels(tmp / name / f"{stems[frame]}.png", decompress_labels(store[frame], self.shape))
            if networks is not None:
                torch.save({"networks": networks}, tmp / NETWORKS_FILE)
            with atomic_path(tmp / SESSION_FILE) as path:
                path.write_text(json.dumps(state, indent=1))
        return folder

    @classmethod
    def load(cls, folder: str | Path, video: VideoFrames | None = None) -> InteractiveSession:
        """Reopen a session :meth:`save` wrote; its video is reopened from the saved source unless given."""
        folder = Path(folder)
        path = folder / SESSION_FILE
        if not path.is_file():
            raise InputError(folder, f"no {SESSION_FILE}", "a folder written by InteractiveSession.save")
        try:
            state = json.loads(path.read_text())
            cfg = from_container(InteractiveConfig, _upgraded_config(state["config"]), "config")
            source = state["source"]
        except (ValueError, KeyError, TypeError) as error:
            raise InputError(path, f"unreadable session ({error!r})", "a session.json written by Lucid") from None
        if video is None:
            if not source.get("path"):
                raise InputError(path, "the session does not say where its video is", "load(folder, video)")
            video = open_video(source["path"], source.get("sequence"), source.get("resolution", "480p"), cfg.cache_mb)
        if len(video) != state["video"]["frames"] or list(video.shape) != state["video"]["shape"]:
            raise InputError(
                folder,
                f"saved for a video of {state['video']['frames']} frames of {state['video']['shape']}",
                f"the same video (this one: {len(video)} frames of {list(video.shape)})",
            )
        session = cls(video, cfg, state["ids"], source)
        stems = video.stems
        for frame in state["annotated"]:
            session._anchors[frame] = compress_labels(read_labels(folder / "annotated" / f"{stems[frame]}.png"))
        for frame, stem in enumerate(stems):
            labels_path = folder / "labels" / f"{stem}.png"
            if labels_path.is_file():
                session._results[frame] = compress_labels(read_labels(labels_path))
        session.marks = {int(f): [_mark_from_json(m) for m in marks] for f, marks in state["marks"].items()}
        session.history = [Interaction(**item) for item in state["history"]]
        session._confidence = {int(f): np.asarray(c, dtype=np.float64) for f, c in state["confidence"].items()}
        session._trainings = int(state["trainings"])
        session._learned = frozenset((int(f), str(d)) for f, d in state["learned"])
        session._measured = {str(n): (float(s), int(u)) for n, (s, u) in state.get("measured", {}).items()}
        if (folder / NETWORKS_FILE).is_file():
            saved = load_checkpoint(folder / NETWORKS_FILE)
            session._networks = networks_from_state(saved["networks"], cfg.tracker)
            session._model = build_model(cfg.tracker, session._networks)
            session._model_version = 1
        session.status = {"state": "idle", "model": session._trainings}
        return session
