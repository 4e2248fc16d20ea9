"""The tracker interface, and running a tracker over DAVIS sequences into a results folder.

A tracker takes the frames of a video and the labels of its first frame and yields one label map per frame. Results
are written as ``<out>/<sequence>/<frame stem>.png`` DAVIS palette PNGs; a sequence's folder appears only once all of
its frames are written, so a partially written results folder never looks complete.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
from hydra.utils import instantiate
from omegaconf import OmegaConf
from tqdm import tqdm

from foundation.davis import Sequence
from foundation.errors import InputError
from foundation.io import VOID, atomic_directory, atomic_path, object_ids, read_frame, read_labels, write_labels
from foundation.timing import timed

if TYPE_CHECKING:
    from distributed import Client


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


def track_sequence(tracker: Tracker, sequence: Sequence, out: str | os.PathLike[str], progress: bool = True) -> Path:
    """Track ``sequence`` from its first annotation and write ``<out>/<sequence>/<frame stem>.png``.

    Returns:
        The sequence's result folder.
    """
    labels = first_labels(sequence)
    allowed = {0, *object_ids(labels)}
    target = Path(out) / sequence.name
    with atomic_directory(target) as tmp:
        outputs = tracker.track(_frames(sequence, labels.shape), labels, name=sequence.name)
        count = 0
        for frame_path, result in tqdm(
            zip(sequence.frames, outputs, strict=False),
            total=len(sequence.frames),
            desc=sequence.name,
            disable=not progress,
            leave=False,
        ):
            if result.shape != labels.shape or not np.issubdtype(result.dtype, np.integer):
                raise RuntimeError(
                    f"{type(tracker).__name__} returned {result.dtype} {result.shape} for {frame_path}, "
                    f"expected int {labels.shape}"
                )
            extra = set(np.unique(result).tolist()) - allowed
            if extra:
                raise RuntimeError(f"{type(tracker).__name__} invented object ids {sorted(extra)} for {frame_path}")
            write_labels(tmp / f"{frame_path.stem}.png", result)
            count += 1
        if count != len(sequence.frames):
            raise RuntimeError(f"{type(tracker).__name__} returned {count} of {len(sequence.frames)} frames")
    return target


StageTimes = dict[str, dict[str, float]]
"""Seconds per stage (``dream``, ``train``, ``tune``, ``track`` …) per sequence name."""

STAGES = ("dream", "train", "tune", "track")
"""The stages a learning tracker reports in ``stage_times``, in pipeline order."""


def describe_stage_times(times: dict[str, float]) -> str:
    """``dream 1.0 s, train 2.0 s, …`` for the stages in ``times``, in :data:`STAGES` order."""
    return ", ".join(f"{stage} {times[stage]:.1f} s" for stage in STAGES if stage in times)


def _stage_times(tracker: Tracker, name: str, wall: dict[str, float]) -> dict[str, float]:
    """The tracker's own stage times for ``name`` when it keeps them (``tracker.stage_times``), else ``wall`` (the
    whole run timed as ``track``)."""
    own = getattr(tracker, "stage_times", {}).get(name)
    return dict(own) if own else wall


def track_sequences(
    tracker: Tracker, sequences: Iterable[Sequence], out: str | os.PathLike[str], progress: bool = True
) -> StageTimes:
    """Track each sequence in turn, in this process (see :func:`track_sequence`); the seconds of each stage."""
    times = {}
    for seq in tqdm(list(sequences), desc=f"track ({type(tracker).__name__})", disable=not progress):
        wall: dict[str, float] = {}
        with timed(wall, "track"):
            track_sequence(tracker, seq, out, progress)
        times[seq.name] = _stage_times(tracker, seq.name, wall)
    return times


def _track_in_worker(tracker_cfg: dict[str, Any], sequence: Sequence, out: str) -> dict[str, float]:
    wall: dict[str, float] = {}
    with timed(wall, "track"):
        tracker = instantiate(OmegaConf.create(tracker_cfg))
        track_sequence(tracker, sequence, out, progress=False)
    return _stage_times(tracker, sequence.name, wall)


def track_sequences_on_cluster(
    tracker_cfg: dict[str, Any],
    sequences: Iterable[Sequence],
    out: str | os.PathLike[str],
    client: Client,
    progress: bool = True,
) -> StageTimes:
    """Track the sequences in parallel, one Dask task each (a fresh tracker from ``tracker_cfg``, the resolved
    ``tracker`` config with its ``_target_``, per task); the seconds of each stage.

    Workers run one torch/OpenCV thread each: parallelism comes from the tasks. They must see ``out`` and the frames
    at the same paths.
    """
    from distributed import as_completed  # a tracker's import needs no cluster

    from foundation.cluster import WorkerSetup

    settings = dict(tracker_cfg)
    # One torch thread per task: OpenMP settings are per thread, so the worker plugin's set_num_threads(1) does not
    # reach the executor thread a task runs in, and two 2-thread tasks on 2 cores run several times slower.
    for key, value in (("threads", 1), ("progress", False)):
        if key in settings:
            settings[key] = value
    client.register_plugin(WorkerSetup())
    sequences = list(sequences)
    futures = {
        client.submit(_track_in_worker, settings, seq, str(out), pure=False, key=f"track-{seq.name}"): seq.name
        for seq in sequences
    }
    times = {}
    bar = tqdm(total=len(futures), desc="track (Dask)", unit="sequence", disable=not progress)
    with bar:
        for future in as_completed(futures):
            times[futures[future]] = future.result()
            bar.update()
    return {seq.name: times[seq.name] for seq in sequences}


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
