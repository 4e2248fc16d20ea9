"""Scoring a folder of ``<sequence>/<frame>.png`` results against DAVIS ground truth, sequence by sequence.

Semi-supervised protocol: the objects of a sequence are the ids present in its first annotation (void 255 counts
as background), the first and the last frame are not scored, an object missing from a result frame is an empty mask,
and a result id that is not one of the objects is an error. The official toolkit scores ids ``1..max`` instead: the
same objects when the ids are consecutive, as in DAVIS; with gaps it would score every absent id as a perfectly
segmented object.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import dask
import numpy as np
from PIL import Image
from tqdm.dask import TqdmCallback

from foundation.davis import Sequence
from foundation.errors import InputError
from foundation.io import VOID, object_ids, read_labels
from segmenters.evaluation.metrics import BOUNDARY_TOLERANCE, Statistics, boundary_f, jaccard, statistics

GLOBAL_COLUMNS = ("J&F-Mean", "J-Mean", "J-Recall", "J-Decay", "F-Mean", "F-Recall", "F-Decay")
PER_SEQUENCE_COLUMNS = ("Sequence", "J-Mean", "F-Mean")
_MAX_LISTED = 20


@dataclass(frozen=True)
class SequenceScores:
    """Per-frame scores of every object of one sequence."""

    name: str
    frames: tuple[str, ...]
    """Stems of the scored frames (all but the first and the last)."""
    j: np.ndarray
    """``float64 (objects, frames)`` region similarity."""
    f: np.ndarray
    """``float64 (objects, frames)`` boundary F-measure."""
    ids: tuple[int, ...]
    """The objects' ids, in the order of the rows of ``j`` and ``f``."""

    @property
    def num_objects(self) -> int:
        return self.j.shape[0]

    def object_names(self) -> list[str]:
        """``<sequence>_<id>`` for each object, as the DAVIS tables name them."""
        return [f"{self.name}_{k}" for k in self.ids]


@dataclass(frozen=True)
class ObjectScores:
    name: str
    j: Statistics
    f: Statistics


@dataclass(frozen=True)
class Evaluation:
    """Scores of all evaluated sequences, in evaluation order."""

    sequences: tuple[SequenceScores, ...]

    def objects(self) -> list[ObjectScores]:
        return [
            ObjectScores(name, statistics(j), statistics(f))
            for seq in self.sequences
            for name, j, f in zip(seq.object_names(), seq.j, seq.f, strict=True)
        ]

    def summary(self) -> dict[str, float]:
        """The global figures (keys :data:`GLOBAL_COLUMNS`): means over all objects of all sequences."""
        objects = self.objects()
        if not objects:
            raise ValueError("nothing was evaluated")

        def mean(values: Iterable[float]) -> float:
            return float(np.mean(list(values)))

        j_mean, f_mean = mean(o.j.mean for o in objects), mean(o.f.mean for o in objects)
        return {
            "J&F-Mean": (j_mean + f_mean) / 2,
            "J-Mean": j_mean,
            "J-Recall": mean(o.j.recall for o in objects),
            "J-Decay": mean(o.j.decay for o in objects),
            "F-Mean": f_mean,
            "F-Recall": mean(o.f.recall for o in objects),
            "F-Decay": mean(o.f.decay for o in objects),
        }


def has_ground_truth(sequence: Sequence) -> bool:
    """Whether every frame of ``sequence`` is annotated (only then can it be scored)."""
    return all(frame.stem in sequence.annotations for frame in sequence.frames)


def scored_frames(sequence: Sequence) -> tuple[str, ...]:
    """Stems of the frames a result is scored on: every annotated frame but the first and the last."""
    if not has_ground_truth(sequence):
        raise InputError(
            sequence.frames[0].parent,
            f"only {len(sequence.annotations)} of {len(sequence.frames)} frames have a ground-truth mask",
            "an annotation for every frame to evaluate against",
        )
    stems = tuple(sorted(sequence.annotations))
    if len(stems) < 3:
        raise InputError(sequence.frames[0].parent, f"{len(stems)} frames", "at least 3 frames to score")
    return stems[1:-1]


def missing_results(sequences: Iterable[Sequence], results: str | os.PathLike[str]) -> list[Path]:
    """Result files needed to score ``sequences`` that do not exist under ``results``."""
    results = Path(results)
    return [
        results / seq.name / f"{stem}.png"
        for seq in sequences
        for stem in scored_frames(seq)
        if not (results / seq.name / f"{stem}.png").is_file()
    ]


def describe_missing(missing: list[Path]) -> str:
    """``seq/00003.png, seq/00007.png; other/ (no such folder)``: missing files listed by sequence, up to a limit."""
    by_folder: dict[Path, list[str]] = {}
    for path in missing:
        by_folder.setdefault(path.parent, []).append(path.name)
    parts = []
    for folder, names in by_folder.items():
        if not folder.is_dir():
            parts.append(f"{folder.name}/ (no such folder)")
            continue
        listed = ", ".join(f"{folder.name}/{name}" for name in names[:_MAX_LISTED])
        parts.append(listed + (f" and {len(names) - _MAX_LISTED} more" if len(names) > _MAX_LISTED else ""))
    return "; ".join(parts)


def read_result(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a result PNG as ``int32 (H, W)`` object ids.

    As :func:`~foundation.io.read_labels`, except that an 8-bit grayscale PNG is an id map (what ``cv2.imwrite`` of
    labels gives) unless it holds only 0 and 255, the DAVIS-2016 binary convention (object 1).
    """
    labels = read_labels(path)
    with Image.open(path) as image:
        if image.mode != "L":
            return labels
        values = np.asarray(image)
    return labels if ((values == 0) | (values == 255)).all() else values.astype(np.int32)


def ground_truth(path: Path) -> np.ndarray:
    """The ground-truth labels at ``path``: ``int32 (H, W)``, void made background."""
    labels = read_labels(path)
    labels[labels == VOID] = 0
    return labels


def score_frame(
    prediction: np.ndarray, truth: np.ndarray, ids: Iterable[int], tolerance: float = BOUNDARY_TOLERANCE
) -> tuple[np.ndarray, np.ndarray]:
    """J and F of objects ``ids`` in one frame of ``int (H, W)`` label maps: two ``float64 (objects,)``."""
    stack = np.asarray(list(ids))[:, None, None]
    predicted, actual = prediction[None] == stack, truth[None] == stack
    return jaccard(predicted, actual), boundary_f(predicted, actual, tolerance)


def _unknown_ids(prediction: np.ndarray, ids: tuple[int, ...]) -> list[int]:
    """The ids in ``prediction`` that are neither background nor one of ``ids`` (sorted, ascending)."""
    if prediction.min() >= 0 and prediction.max() <= ids[-1] and len(ids) == ids[-1]:
        return []  # ids are 1..n: the usual case, without sorting the pixels
    present = np.unique(prediction)
    return present[~np.isin(present, [0, *ids])].tolist()


def evaluate_sequence(
    sequence: Sequence, results: str | os.PathLike[str], tolerance: float = BOUNDARY_TOLERANCE
) -> SequenceScores:
    """Score the result frames ``<results>/<sequence>/<stem>.png`` of one sequence."""
    stems = scored_frames(sequence)
    first = sequence.annotations[min(sequence.annotations)]
    ids = object_ids(ground_truth(first))
    if not ids:
        raise InputError(first, "no object", "a first frame with objects")
    j = np.empty((len(ids), len(stems)))
    f = np.empty((len(ids), len(stems)))
    for index, stem in enumerate(stems):
        truth = ground_truth(sequence.annotations[stem])
        path = Path(results) / sequence.name / f"{stem}.png"
        prediction = read_result(path)
        if prediction.shape != truth.shape:
            raise InputError(
                path,
                f"result is {prediction.shape[1]}x{prediction.shape[0]}",
                f"the ground-truth size {truth.shape[1]}x{truth.shape[0]}",
            )
        unknown = _unknown_ids(prediction, ids)
        if unknown:
            raise InputError(path, f"unknown object id(s) {unknown}", f"ids {[0, *ids]} of {sequence.name}")
        j[:, index], f[:, index] = score_frame(prediction, truth, ids, tolerance)
    return SequenceScores(sequence.name, stems, j, f, ids)


def evaluate(
    sequences: Iterable[Sequence],
    results: str | os.PathLike[str],
    workers: int = 2,
    tolerance: float = BOUNDARY_TOLERANCE,
    progress: bool = True,
) -> Evaluation:
    """Score ``results`` on ``sequences``, ``workers`` sequences at a time (threads: decoding and the array maths
    release the GIL). All missing result files are reported at once, before any scoring."""
    scores = score_each(
        evaluate_sequence,
        sequences,
        results,
        workers,
        tolerance,
        progress,
        missing_results,
        "every frame but the first and last",
    )
    return Evaluation(tuple(scores))


T = TypeVar("T")


def score_each(
    score: Callable[[Sequence, str | os.PathLike[str], float], T],
    sequences: Iterable[Sequence],
    results: str | os.PathLike[str],
    workers: int,
    tolerance: float,
    progress: bool,
    missing: Callable[[list[Sequence], str | os.PathLike[str]], list[Path]],
    frames: str,
) -> tuple[T, ...]:
    """``score(sequence, results, tolerance)`` of each sequence, ``workers`` at a time (threads), once ``missing``
    (the result files it looks for that do not exist) is empty; else one error naming them all, ``frames`` saying
    which frames a result must have."""
    sequences = list(sequences)
    absent = missing(sequences, results)
    if absent:
        raise InputError(
            results,
            f"{len(absent)} result frame(s) missing: {describe_missing(absent)}",
            f"<sequence>/<frame>.png for {frames} (or select sequences with data.sequences=[...])",
        )
    tasks = [dask.delayed(score)(seq, results, tolerance) for seq in sequences]
    scheduler = "threads" if workers > 1 else "synchronous"
    with TqdmCallback(desc="evaluate", disable=not progress):
        return tuple(dask.compute(*tasks, scheduler=scheduler, num_workers=workers))
