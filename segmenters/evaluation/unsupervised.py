"""Scoring results of the DAVIS unsupervised task: a result frame holds candidate objects, ids of the method's choosing.

DAVIS-2017 protocol (Caelles et al., 2019): every frame is scored, the first and the last included; the objects are
the ids present in any ground-truth frame (void 255 counts as background); one bipartite matching over the whole
video pairs each object with at most one candidate, maximising the sum of their J&F, (J-Mean + F-Mean) / 2. When
there are fewer candidates than objects, the objects left over are scored against an empty mask; extra candidates
cost nothing. A sequence may hold at most :data:`MAX_CANDIDATES` candidate ids (any ids, not necessarily 1..n).

DAVIS-2016 definition (the figure FST and NLC report): every candidate together as one foreground mask against every
object together, every frame scored, one object (id 1) a sequence.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from foundation.davis import Sequence
from foundation.errors import InputError
from foundation.io import atomic_path
from foundation.morphology import disk
from segmenters.evaluation.benchmark import (
    Evaluation,
    SequenceScores,
    ground_truth,
    has_ground_truth,
    read_result,
    score_each,
)
from segmenters.evaluation.metrics import (
    BOUNDARY_TOLERANCE,
    boundary_f,
    boundary_map,
    jaccard,
    ratio_or_one,
    tolerance_radius,
)
from segmenters.evaluation.report import csv_text, global_rows, per_sequence_rows

MAX_CANDIDATES = 20
"""Most distinct candidate ids a sequence's results may hold, as the DAVIS-2017 unsupervised benchmark allows."""
MATCHING_CSV = "matching.csv"
MATCHING_COLUMNS = ("Sequence", "Object", "Candidate", "J-Mean", "F-Mean")
BINARY_GLOBAL_CSV = "binary_global_results.csv"
BINARY_PER_SEQUENCE_CSV = "binary_per-sequence_results.csv"
_SHOWN_IDS = 25


@dataclass(frozen=True)
class Pair:
    """A ground-truth object, the candidate matched to it, and their scores over the whole sequence."""

    object_id: int
    candidate_id: int | None
    """``None``: no candidate was left for the object, which is scored against an empty mask."""
    j_mean: float
    """J of the pair, mean over every frame."""
    f_mean: float
    """F of the pair, mean over every frame."""


@dataclass(frozen=True)
class Matching:
    """The candidate matched to each ground-truth object of one sequence."""

    sequence: str
    pairs: tuple[Pair, ...]
    """One per object, in ascending object id."""
    candidates: tuple[int, ...]
    """Every candidate id in the sequence's result frames, ascending (matched or not)."""


@dataclass(frozen=True)
class UnsupervisedEvaluation:
    """Scores of all evaluated sequences, in evaluation order, by both unsupervised definitions."""

    matched: Evaluation
    """DAVIS 2017: each object against its matched candidate."""
    binary: Evaluation
    """DAVIS 2016: all candidates together against all objects together."""
    matchings: tuple[Matching, ...]


def unsupervised_frames(sequence: Sequence) -> tuple[str, ...]:
    """Stems of the frames a result is scored on: every frame, the first and the last included."""
    if not has_ground_truth(sequence):
        raise InputError(
            sequence.frames[0].parent,
            f"only {len(sequence.annotations)} of {len(sequence.frames)} frames have a ground-truth mask",
            "an annotation for every frame to evaluate against",
        )
    return tuple(sorted(sequence.annotations))


def missing_unsupervised_results(sequences: Iterable[Sequence], results: str | os.PathLike[str]) -> list[Path]:
    """Result files needed to score ``sequences`` by an unsupervised protocol that do not exist under ``results``."""
    results = Path(results)
    return [
        results / seq.name / f"{stem}.png"
        for seq in sequences
        for stem in unsupervised_frames(seq)
        if not (results / seq.name / f"{stem}.png").is_file()
    ]


def _ids(frames: Iterable[np.ndarray]) -> tuple[int, ...]:
    """The non-zero values of ``int (H, W)`` label maps ``frames``, ascending."""
    present = np.zeros(1, dtype=bool)
    for frame in frames:
        seen = np.bincount(frame.ravel()) > 0
        if seen.size > present.size:
            present = np.pad(present, (0, seen.size - present.size))
        present[: seen.size] |= seen
    return tuple(int(i) for i in np.flatnonzero(present) if i != 0)


def _index_map(labels: np.ndarray, ids: tuple[int, ...]) -> np.ndarray:
    """``int32 (H, W)``: 1 + the position in ``ids`` of each pixel's label, 0 where the label is not in ``ids``."""
    lookup = np.zeros(max(int(labels.max()), *ids, 0) + 1, dtype=np.int32)
    lookup[list(ids)] = np.arange(1, len(ids) + 1)
    return np.take(lookup, labels)


def _boundaries(
    labels: np.ndarray, ids: tuple[int, ...], areas: np.ndarray, radius: int
) -> tuple[list[np.ndarray], np.ndarray]:
    """The boundary of each id's mask in ``int (H, W)`` labels: its pixels as flat indices (a list of ``int64 (N,)``)
    and ``bool (masks, H * W)`` the pixels within ``radius`` of one (the disk dilation :func:`boundary_f` uses).
    ``areas`` are the masks' pixel counts; past the last id, as for an id absent from ``labels``, they are 0: masks
    without a pixel.

    Each mask is cut to its box grown by one pixel, which leaves its boundary map unchanged (nothing outside the box
    is a boundary pixel, and the pixels beyond the cut are background either way), and each dilation to the
    boundary's box grown by ``radius``.
    """
    height, width = labels.shape
    kernel = disk(radius)
    points: list[np.ndarray] = []
    reach = np.zeros((len(areas), height, width), dtype=bool)
    for index, area in enumerate(areas):
        if area == 0:
            points.append(np.empty(0, dtype=np.int64))
            continue
        mask = labels == ids[index]
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        y0, y1 = max(rows[0] - 1, 0), min(rows[-1] + 2, height)
        x0, x1 = max(cols[0] - 1, 0), min(cols[-1] + 2, width)
        ys, xs = np.nonzero(boundary_map(mask[y0:y1, x0:x1]))
        ys, xs = ys + y0, xs + x0
        points.append(ys * width + xs)
        if ys.size == 0:  # a mask filling the whole image has no boundary
            continue
        y0, y1 = max(ys.min() - radius, 0), min(ys.max() + radius + 1, height)
        x0, x1 = max(xs.min() - radius, 0), min(xs.max() + radius + 1, width)
        boundary = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
        boundary[ys - y0, xs - x0] = 1
        reach[index, y0:y1, x0:x1] = cv2.dilate(boundary, kernel).view(bool)
    return points, reach.reshape(len(areas), -1)


def pair_scores(
    candidates: np.ndarray,
    truth: np.ndarray,
    candidate_ids: tuple[int, ...],
    object_ids: tuple[int, ...],
    tolerance: float = BOUNDARY_TOLERANCE,
) -> tuple[np.ndarray, np.ndarray]:
    """J and F of each object against each candidate, and in the last column against an empty mask, in one frame.

    The values of :func:`jaccard` and :func:`boundary_f` of each pair's masks, but each mask is found, and its
    boundary drawn and dilated, once instead of once a pair. An id absent from the frame is an empty mask.

    Args:
        candidates: ``int (H, W)`` candidate ids, 0 background.
        truth: ``int (H, W)`` object ids, 0 background (void already made background).

    Returns:
        Two ``float64 (objects, candidates + 1)``.
    """
    size = len(candidate_ids) + 2  # background, the candidates, the empty mask (never any pixel)
    codes = _index_map(truth, object_ids)
    codes *= size
    codes += _index_map(candidates, candidate_ids)
    joint = np.bincount(codes.ravel(), minlength=(len(object_ids) + 1) * size).reshape(-1, size)
    overlap = joint[1:, 1:]
    object_areas, candidate_areas = joint[1:].sum(axis=1), joint[:, 1:].sum(axis=0)
    j = ratio_or_one(overlap, object_areas[:, None] + candidate_areas[None] - overlap)

    radius = tolerance_radius(*truth.shape, tolerance)
    object_points, object_reach = _boundaries(truth, object_ids, object_areas, radius)
    candidate_points, candidate_reach = _boundaries(candidates, candidate_ids, candidate_areas, radius)
    # found[g, c]: boundary pixels of candidate c near the boundary of object g; recalled[g, c]: the converse.
    found = np.stack([np.count_nonzero(object_reach[:, p], axis=1) for p in candidate_points], axis=1)
    recalled = np.array([np.count_nonzero(candidate_reach[:, p], axis=1) for p in object_points], dtype=np.int64)
    precision = ratio_or_one(found, np.array([p.size for p in candidate_points])[None])
    recall = ratio_or_one(recalled.reshape(j.shape), np.array([p.size for p in object_points], dtype=np.int64)[:, None])
    total = precision + recall
    f = np.where(total == 0, 0.0, 2 * precision * recall / np.where(total == 0, 1.0, total))
    return j, f


def match_candidates(jf: np.ndarray, empty: np.ndarray | None = None) -> list[tuple[int, int]]:
    """The one-to-one matching of objects (rows of ``jf``) to candidates (columns) with the largest total J&F.

    Args:
        jf: ``float (objects, candidates)`` J&F of each pair over the whole sequence.
        empty: ``float (objects,)`` J&F of each object against an empty mask: when there are fewer candidates than
            objects, an object may take an empty mask rather than a candidate if that scores more in total. Without
            it, the objects left over are simply those the best matching of the candidates leaves out.

    Returns:
        ``(object row, candidate column)`` of each object given a candidate, by ascending row; the other rows are
        left without one.
    """
    objects, candidates = jf.shape
    if empty is not None and candidates < objects:
        # The reference pads the candidates with as many empty masks as objects would lack one.
        jf = np.hstack([jf, np.repeat(np.asarray(empty, dtype=np.float64)[:, None], objects - candidates, axis=1)])
    if jf.size == 0:
        return []
    rows, cols = linear_sum_assignment(jf, maximize=True)
    return [(int(row), int(col)) for row, col in zip(rows, cols, strict=True) if col < candidates]


def score_candidates(
    name: str,
    stems: tuple[str, ...],
    truth: list[np.ndarray],
    candidates: list[np.ndarray],
    tolerance: float = BOUNDARY_TOLERANCE,
) -> tuple[SequenceScores, Matching]:
    """The DAVIS-2017 unsupervised scores of one sequence: each object against the candidate matched to it.

    Args:
        stems: the frames' stems.
        truth: ``int (H, W)`` object ids of each frame, void already background.
        candidates: ``int (H, W)`` candidate ids of each frame.
    """
    object_ids, candidate_ids = _ids(truth), _ids(candidates)
    j = np.empty((len(object_ids), len(candidate_ids) + 1, len(stems)))
    f = np.empty_like(j)
    for index, (labels, actual) in enumerate(zip(candidates, truth, strict=True)):
        j[..., index], f[..., index] = pair_scores(labels, actual, candidate_ids, object_ids, tolerance)
    j_mean, f_mean = j.mean(axis=2), f.mean(axis=2)
    jf = (j_mean + f_mean) / 2
    columns = [len(candidate_ids)] * len(object_ids)  # the empty mask, unless matched
    for row, col in match_candidates(jf[:, :-1], empty=jf[:, -1]):
        columns[row] = col
    rows = np.arange(len(object_ids))
    scores = SequenceScores(name, stems, j[rows, columns], f[rows, columns], object_ids)
    pairs = tuple(
        Pair(
            object_id,
            candidate_ids[col] if col < len(candidate_ids) else None,
            float(j_mean[row, col]),
            float(f_mean[row, col]),
        )
        for row, (object_id, col) in enumerate(zip(object_ids, columns, strict=True))
    )
    return scores, Matching(name, pairs, candidate_ids)


def score_union(
    name: str,
    stems: tuple[str, ...],
    truth: list[np.ndarray],
    candidates: list[np.ndarray],
    tolerance: float = BOUNDARY_TOLERANCE,
) -> SequenceScores:
    """The DAVIS-2016 unsupervised scores of one sequence: every candidate as one mask against every object as one
    (arguments as :func:`score_candidates`); one object, id 1."""
    j = np.empty((1, len(stems)))
    f = np.empty_like(j)
    for index, (labels, actual) in enumerate(zip(candidates, truth, strict=True)):
        predicted, objects = labels > 0, actual > 0
        j[0, index], f[0, index] = jaccard(predicted, objects), boundary_f(predicted, objects, tolerance)
    return SequenceScores(name, stems, j, f, (1,))


def _read_frames(
    sequence: Sequence, results: str | os.PathLike[str]
) -> tuple[tuple[str, ...], list[np.ndarray], list[np.ndarray]]:
    """Every frame's stem, ground truth and result, as ``uint8 (H, W)`` ids (void made background); at most
    :data:`MAX_CANDIDATES` candidate ids over the sequence."""
    stems = unsupervised_frames(sequence)
    folder = Path(results) / sequence.name
    truth, candidates = [], []
    for stem in stems:
        actual = ground_truth(sequence.annotations[stem])
        path = folder / f"{stem}.png"
        labels = read_result(path)
        if labels.shape != actual.shape:
            raise InputError(
                path,
                f"result is {labels.shape[1]}x{labels.shape[0]}",
                f"the ground-truth size {actual.shape[1]}x{actual.shape[0]}",
            )
        # Label PNGs hold 8-bit ids: a quarter of the memory while the whole sequence is held.
        truth.append(actual.astype(np.uint8))
        candidates.append(labels.astype(np.uint8))
    if not _ids(truth):
        raise InputError(sequence.annotations[stems[0]].parent, "no object in any frame", "ground truth with objects")
    candidate_ids = _ids(candidates)
    if len(candidate_ids) > MAX_CANDIDATES:
        shown = ", ".join(map(str, candidate_ids[:_SHOWN_IDS])) + (", …" if len(candidate_ids) > _SHOWN_IDS else "")
        raise InputError(
            folder,
            f"{len(candidate_ids)} candidate ids in the result frames ({shown})",
            f"at most {MAX_CANDIDATES} candidates a sequence",
        )
    return stems, truth, candidates


def evaluate_unsupervised_sequence(
    sequence: Sequence, results: str | os.PathLike[str], tolerance: float = BOUNDARY_TOLERANCE
) -> tuple[SequenceScores, Matching]:
    """The DAVIS-2017 unsupervised scores of the result frames ``<results>/<sequence>/<stem>.png`` of one sequence."""
    return score_candidates(sequence.name, *_read_frames(sequence, results), tolerance)


def evaluate_binary_sequence(
    sequence: Sequence, results: str | os.PathLike[str], tolerance: float = BOUNDARY_TOLERANCE
) -> SequenceScores:
    """The DAVIS-2016 unsupervised scores of the result frames ``<results>/<sequence>/<stem>.png`` of one sequence."""
    return score_union(sequence.name, *_read_frames(sequence, results), tolerance)


def _evaluate_both(
    sequence: Sequence, results: str | os.PathLike[str], tolerance: float
) -> tuple[SequenceScores, Matching, SequenceScores]:
    frames = _read_frames(sequence, results)
    return (*score_candidates(sequence.name, *frames, tolerance), score_union(sequence.name, *frames, tolerance))


def evaluate_unsupervised(
    sequences: Iterable[Sequence],
    results: str | os.PathLike[str],
    workers: int = 2,
    tolerance: float = BOUNDARY_TOLERANCE,
    progress: bool = True,
) -> UnsupervisedEvaluation:
    """Score ``results`` on ``sequences`` by both unsupervised definitions, reading each frame once, ``workers``
    sequences at a time (threads). All missing result files are reported at once, before any scoring."""
    scored = score_each(
        _evaluate_both,
        sequences,
        results,
        workers,
        tolerance,
        progress,
        missing_unsupervised_results,
        "every frame, the first and the last included",
    )
    return UnsupervisedEvaluation(
        matched=Evaluation(tuple(s[0] for s in scored)),
        binary=Evaluation(tuple(s[2] for s in scored)),
        matchings=tuple(s[1] for s in scored),
    )


def matching_rows(matchings: Iterable[Matching]) -> list[list[str]]:
    """Header and one row per object (sequence, object id, candidate id or empty, J-Mean, F-Mean), 3 decimals."""
    rows = [
        [m.sequence, str(p.object_id), "" if p.candidate_id is None else str(p.candidate_id)]
        + [f"{p.j_mean:.3f}", f"{p.f_mean:.3f}"]
        for m in matchings
        for p in m.pairs
    ]
    return [list(MATCHING_COLUMNS), *rows]


def _write_csv(path: Path, rows: list[list[str]]) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(csv_text(rows), encoding="utf-8")
    return path


def write_matching_csv(matchings: Iterable[Matching], folder: str | os.PathLike[str]) -> Path:
    """Write ``matching.csv`` into ``folder`` (atomically)."""
    return _write_csv(Path(folder) / MATCHING_CSV, matching_rows(matchings))


def write_binary_csvs(evaluation: Evaluation, folder: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write the tables of :func:`~segmenters.evaluation.report.write_csvs` as ``binary_global_results.csv`` and
    ``binary_per-sequence_results.csv`` (names ``lucid-report`` does not take for a run's tables)."""
    folder = Path(folder)
    return (
        _write_csv(folder / BINARY_GLOBAL_CSV, global_rows(evaluation)),
        _write_csv(folder / BINARY_PER_SEQUENCE_CSV, per_sequence_rows(evaluation)),
    )
