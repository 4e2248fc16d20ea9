"""The tracker interface, and running a tracker over DAVIS sequences into a results folder.

A tracker takes the frames of a video and the labels of its first frame and yields one label map per frame. Results
are written as ``<out>/<sequence>/<frame stem>.png`` DAVIS palette PNGs; a sequence's folder appears only once all of
its frames are written, so a partially written results folder never looks complete.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
from tqdm import tqdm

from dreaming.davis import Sequence
from dreaming.errors import InputError
from dreaming.io import VOID, atomic_directory, object_ids, read_frame, read_labels, write_labels


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


def track_sequences(
    tracker: Tracker, sequences: Iterable[Sequence], out: str | os.PathLike[str], progress: bool = True
) -> list[Path]:
    """Track each sequence in turn (see :func:`track_sequence`)."""
    sequences = list(sequences)
    return [
        track_sequence(tracker, seq, out, progress)
        for seq in tqdm(sequences, desc=f"track ({type(tracker).__name__})", disable=not progress)
    ]
