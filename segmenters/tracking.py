"""The tracker interfaces, and running a tracker over DAVIS sequences into a results folder.

A tracker takes the frames of a video and the labels of its first frame and yields one label map per frame; a
discoverer (unsupervised) takes the frames alone and finds the objects itself. Results
are written as ``<out>/<sequence>/<frame stem>.png`` DAVIS palette PNGs; a sequence's folder appears only once all of
its frames are written, so a partially written results folder never looks complete.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
from hydra.utils import instantiate
from omegaconf import OmegaConf
from tqdm import tqdm

from foundation.davis import Sequence
from foundation.errors import InputError, describe
from foundation.io import VOID, atomic_directory, atomic_path, object_ids, read_frame, read_labels, write_labels
from foundation.timing import timed
from segmenters.interactive.frames import VideoFrames, sequence_frames

if TYPE_CHECKING:
    from distributed import Client

log = logging.getLogger(__name__)


@runtime_checkable
class Tracker(Protocol):
    """Semi-supervised video object segmentation from the labels of the first frame."""

    def track(
        self, frames: Iterable[np.ndarray], first_labels: np.ndarray, name: str | None = None
    ) -> Iterator[np.ndarray]:
        """Segment every frame.

        Args:
            frames: ``uint8 (H, W, 3)`` RGB frames in order, the annotated one first; consumed lazily.
            first_labels: ``int32 (H, W)`` object ids of the first frame, 0 background, no void.
            name: the video's name, for trackers that keep per-video state (datasets, checkpoints, timings).

        Yields:
            ``int32 (H, W)`` labels per frame using only the ids of ``first_labels``; frame 0 is ``first_labels``.
        """
        ...


@runtime_checkable
class Discoverer(Protocol):
    """Unsupervised video object segmentation: the objects are found with no annotation."""

    def discover(self, video: VideoFrames) -> Iterator[np.ndarray]:
        """Segment every frame of ``video``.

        Yields:
            ``int32 (H, W)`` labels per frame: 0 background, at most :data:`MAX_DISCOVERED` object ids, each the same
            object in every frame, no overlaps.
        """
        ...


MAX_DISCOVERED = 20
"""Most objects a discoverer may return (the DAVIS unsupervised benchmark's limit)."""


def annotated_first_frame(
    frames: Iterator[np.ndarray], first_labels: np.ndarray, video: str
) -> tuple[np.ndarray, np.ndarray]:
    """Take the annotated frame from ``frames`` and check its labels: ``(frame uint8 (H, W, 3), labels int32 (H, W))``
    with void made background. Raises :class:`InputError` without a frame, for labels of another size, or labels
    without any object."""
    first = next(frames, None)
    if first is None:
        raise InputError(video, "no frame", "the annotated first frame and the frames to track")
    if first.shape[:2] != first_labels.shape:
        raise InputError(video, f"mask {first_labels.shape[::-1]} for a frame of {first.shape[1::-1]}", "the same size")
    labels = first_labels.astype(np.int32)
    labels[labels == VOID] = 0
    if not object_ids(labels):
        raise InputError(video, "the first-frame labels contain no object", "at least one object id")
    return first, labels


def first_labels(sequence: Sequence) -> np.ndarray:
    """The first-frame annotation of ``sequence`` with void pixels made background: ``int32 (H, W)``."""
    path = sequence.annotation(0)
    labels = read_labels(path)
    labels[labels == VOID] = 0
    if not object_ids(labels):
        raise InputError(path, "the first-frame annotation contains no object", "at least one object id")
    return labels


def _frames(sequence: Sequence, size: tuple[int, int]) -> Iterator[np.ndarray]:
    for path in sequence.frames:
        frame = read_frame(path)
        if frame.shape[:2] != size:
            raise InputError(
                path,
                f"frame is {frame.shape[1]}x{frame.shape[0]}",
                f"the first-frame annotation size {size[1]}x{size[0]}",
            )
        yield frame


def has_results(sequence: Sequence, out: str | os.PathLike[str]) -> bool:
    """Whether ``<out>/<sequence>/`` holds a result for every frame (a finished :func:`track_sequence`)."""
    folder = Path(out) / sequence.name
    return all((folder / f"{frame.stem}.png").is_file() for frame in sequence.frames)


def track_sequence(
    tracker: Tracker | Discoverer, sequence: Sequence, out: str | os.PathLike[str], progress: bool = True
) -> Path:
    """Track ``sequence`` from its first annotation (a :class:`Discoverer`: with no annotation) and write
    ``<out>/<sequence>/<frame stem>.png``.

    Returns:
        The sequence's result folder.
    """
    if isinstance(tracker, Discoverer):
        video = sequence_frames(sequence)
        shape, outputs, allowed = video.shape, tracker.discover(video), None
    else:
        labels = first_labels(sequence)
        shape, allowed = labels.shape, {0, *object_ids(labels)}
        outputs = tracker.track(_frames(sequence, labels.shape), labels, name=sequence.name)
    target = Path(out) / sequence.name
    seen: set[int] = set()
    with atomic_directory(target) as tmp:
        count = 0
        for frame_path, result in tqdm(
            zip(sequence.frames, outputs, strict=False),
            total=len(sequence.frames),
            desc=sequence.name,
            disable=not progress,
            leave=False,
        ):
            if result.shape != shape or not np.issubdtype(result.dtype, np.integer):
                raise RuntimeError(
                    f"{type(tracker).__name__} returned {result.dtype} {result.shape} for {frame_path}, "
                    f"expected int {shape}"
                )
            ids = set(np.unique(result).tolist())
            if allowed is not None and ids - allowed:
                invented = sorted(ids - allowed)
                raise RuntimeError(f"{type(tracker).__name__} invented object ids {invented} for {frame_path}")
            seen |= ids - {0}
            if len(seen) > MAX_DISCOVERED:
                raise RuntimeError(f"{type(tracker).__name__} returned more than {MAX_DISCOVERED} objects")
            write_labels(tmp / f"{frame_path.stem}.png", result)
            count += 1
        if count != len(sequence.frames):
            raise RuntimeError(f"{type(tracker).__name__} returned {count} of {len(sequence.frames)} frames")
    return target


StageTimes = dict[str, dict[str, float]]
"""Seconds per stage (``dream``, ``train``, ``tune``, ``track`` …) per sequence name."""

Failures = dict[str, Exception]
"""The error that stopped each failed sequence, per sequence name."""

OnDone = Callable[[str, dict[str, float]], None]
"""Called with a sequence's name and stage times as soon as it is written."""

STAGES = ("discover", "dream", "train", "tune", "adapt", "track")
"""The stages a learning tracker reports in ``stage_times``, in pipeline order."""


def describe_stage_times(times: dict[str, float]) -> str:
    """``dream 1.0 s, train 2.0 s, …`` for the stages in ``times``, in :data:`STAGES` order."""
    return ", ".join(f"{stage} {times[stage]:.1f} s" for stage in STAGES if stage in times)


def _stage_times(tracker: Tracker, name: str, wall: dict[str, float]) -> dict[str, float]:
    """The tracker's own stage times for ``name`` when it keeps them (``tracker.stage_times``), else ``wall`` (the
    whole run timed as ``track``)."""
    own = getattr(tracker, "stage_times", {}).get(name)
    return dict(own) if own else wall


def _failed(name: str, error: Exception, failures: Failures | None, trace: str = "") -> None:
    """Record ``error`` in ``failures`` and log it: bad input in one line, anything else with its traceback
    (``trace`` when it happened in another process). Without ``failures``, raise it."""
    bad_input = isinstance(error, InputError | OSError)
    if trace and not bad_input:
        log.error("%s failed:\n%s", name, trace.rstrip())
    if failures is None:
        raise error
    failures[name] = error
    if bad_input:
        log.error("%s failed: %s", name, describe(error))
    elif not trace:
        log.error("%s failed", name, exc_info=error)


def track_sequences(
    tracker: Tracker | Discoverer,
    sequences: Iterable[Sequence],
    out: str | os.PathLike[str],
    progress: bool = True,
    failures: Failures | None = None,
    on_done: OnDone | None = None,
) -> StageTimes:
    """Track each sequence in turn, in this process (see :func:`track_sequence`); the seconds of each stage.

    With ``failures``, a sequence that fails is recorded there (and logged) and the others go on; without, its
    error is raised. ``on_done`` is called after each sequence written.
    """
    times = {}
    for seq in tqdm(list(sequences), desc=f"track ({type(tracker).__name__})", disable=not progress):
        wall: dict[str, float] = {}
        try:
            with timed(wall, "track"):
                track_sequence(tracker, seq, out, progress)
        except Exception as error:
            _failed(seq.name, error, failures)
            continue
        times[seq.name] = _stage_times(tracker, seq.name, wall)
        if on_done is not None:
            on_done(seq.name, times[seq.name])
    return times


@dataclass(frozen=True)
class _Outcome:
    """What a Dask task of :func:`track_sequences_on_cluster` returns: its stage times, or its error (as a value:
    Dask would log a raised one with its traceback, however expected) and that error's traceback."""

    times: dict[str, float] | None = None
    error: Exception | None = None
    trace: str = ""


def _track_in_worker(tracker_cfg: dict[str, Any], sequence: Sequence, out: str) -> _Outcome:
    wall: dict[str, float] = {}
    try:
        with timed(wall, "track"):
            tracker = instantiate(OmegaConf.create(tracker_cfg))
            track_sequence(tracker, sequence, out, progress=False)
    except Exception as error:
        return _Outcome(error=error, trace=traceback.format_exc())
    return _Outcome(times=_stage_times(tracker, sequence.name, wall))


def track_sequences_on_cluster(
    tracker_cfg: dict[str, Any],
    sequences: Iterable[Sequence],
    out: str | os.PathLike[str],
    client: Client,
    progress: bool = True,
    failures: Failures | None = None,
    on_done: OnDone | None = None,
) -> StageTimes:
    """Track the sequences in parallel, one Dask task each (a fresh tracker from ``tracker_cfg``, the resolved
    ``tracker`` config with its ``_target_``, per task); the seconds of each stage. ``failures`` and ``on_done``
    as in :func:`track_sequences`.

    Workers run one torch/OpenCV thread each: parallelism comes from the tasks. They must see ``out`` and the frames
    at the same paths.
    """
    from distributed import as_completed  # a tracker's import needs no cluster

    from foundation.cluster import WorkerSetup, task_key

    settings = dict(tracker_cfg)
    # One torch thread per task: OpenMP settings are per thread, so the worker plugin's set_num_threads(1) does not
    # reach the executor thread a task runs in, and two 2-thread tasks on 2 cores run several times slower.
    for key, value in (("threads", 1), ("progress", False)):
        if key in settings:
            settings[key] = value
    client.register_plugin(WorkerSetup())
    sequences = list(sequences)
    futures = {
        client.submit(_track_in_worker, settings, seq, str(out), pure=False, key=task_key("track", seq.name)): seq.name
        for seq in sequences
    }
    times = {}
    bar = tqdm(total=len(futures), desc="track (Dask)", unit="sequence", disable=not progress)
    with bar:
        for future in as_completed(futures):
            name, outcome = futures[future], future.result()
            bar.update()
            if outcome.error is not None:
                _failed(name, outcome.error, failures, outcome.trace)
                continue
            times[name] = outcome.times
            if on_done is not None:
                on_done(name, times[name])
    return {seq.name: times[seq.name] for seq in sequences if seq.name in times}


def read_stage_times(path: str | os.PathLike[str]) -> StageTimes:
    """The stage times :func:`write_stage_times` wrote to ``path`` (without the total); empty when it does not
    exist."""
    path = Path(path)
    if not path.is_file():
        return {}
    with path.open(newline="") as file:
        rows = list(csv.DictReader(file))
    return {
        row["sequence"]: {
            key[:-2]: float(value) for key, value in row.items() if key.endswith("_s") and key != "total_s"
        }
        for row in rows
    }


def write_stage_times(path: str | os.PathLike[str], stage_times: StageTimes) -> Path:
    """``sequence,<stage>_s…,total_s`` per sequence (stages in order of first appearance), written atomically."""
    stages = list(dict.fromkeys(stage for times in stage_times.values() for stage in times))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["sequence", *(f"{s}_s" for s in stages), "total_s"])
    for name, times in stage_times.items():
        values = [times.get(s, 0.0) for s in stages]
        writer.writerow([name, *(f"{v:.1f}" for v in values), f"{sum(values):.1f}"])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_text(buffer.getvalue())
    return path
