"""The DAVIS interactive protocol: the robot's correcting scribbles, the frame it marks, and the J&F-versus-time curve.

Written from the published definition (Caelles et al., "The 2018 DAVIS Challenge on Video Object Segmentation"):

* After each interaction the robot marks the frame with the worst J&F that it has not marked yet (the first
  interaction goes to the frame where the objects cover the most ground truth), drawing on it one scribble per
  connected piece of every id's error region: the medial axis of the region, opened first so that slivers along
  boundaries give none, as a graph whose longest path becomes the stroke.
* A session is scored by the curve of J&F (mean over objects) against the cumulated time of the interactions,
  from ``(0, 0)`` to the time budget of :data:`SECONDS_PER_OBJECT` per object: its area over the budget (AUC) and
  its value at 60 s.

Label maps are ``int (H, W)`` with 0 background and :data:`~foundation.io.VOID` ignored; scribbles follow
:mod:`segmenters.interactive.marks`.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from scipy import sparse
from scipy.sparse import csgraph
from skimage.morphology import medial_axis

from foundation.errors import InputError
from foundation.io import VOID, write_bytes_atomic
from foundation.morphology import disk
from segmenters.evaluation.metrics import boundary_f, jaccard
from segmenters.interactive.marks import Scribble

SECONDS_PER_OBJECT = 240.0
"""Time budget of a session per object of its sequence."""
KERNEL_FRACTION = 0.2
"""Opening disk diameter as a fraction of the square root of the error area."""
MAX_RADIUS = 16.0
"""Largest opening radius, in pixels."""
MIN_NODES = 4
"""Skeleton pieces of fewer pixels give no scribble."""

# (dy, dx) of the 8-neighbours after a pixel in raster order: each adjacent pair once.
_FORWARD_NEIGHBOURS = ((0, 1), (1, -1), (1, 0), (1, 1))


def _check_ids(ids: Sequence[int], setting: str) -> tuple[int, ...]:
    ids = tuple(int(i) for i in ids)
    bad = [i for i in ids if not 0 < i < VOID]
    if bad:
        raise InputError(setting, f"object id {bad[0]}", f"ids in 1..{VOID - 1}")
    return ids


def _check_pair(prediction: np.ndarray, truth: np.ndarray, setting: str) -> None:
    if truth.ndim != 2 or prediction.shape != truth.shape:
        raise InputError(
            setting, f"prediction {prediction.shape} and ground truth {truth.shape}", "two (H, W) label maps"
        )


# --- Robot scribbles -------------------------------------------------------------------------------------------------


def skeleton_paths(skeleton: np.ndarray, min_nodes: int = MIN_NODES) -> list[np.ndarray]:
    """The longest path of each 8-connected piece of a ``bool (H, W)`` skeleton of at least ``min_nodes`` pixels.

    Each piece is a graph of its pixels with 8-neighbour edges; its cycles are broken by a breadth-first tree from its
    first pixel in raster order, and the path is that tree's diameter in edges (two breadth-first passes), so it runs
    between two ends of the tree. Deterministic.

    Returns:
        One ``int64 (N, 2)`` ``(x, y)`` pixel path per kept piece, consecutive points 8-adjacent, pieces ordered by
        their first pixel in raster order.
    """
    ys, xs = np.nonzero(skeleton)
    count = len(ys)
    if count < max(min_nodes, 1):
        return []
    index = np.full((skeleton.shape[0] + 1, skeleton.shape[1] + 2), -1, dtype=np.int64)
    index[ys, xs + 1] = np.arange(count)
    sources, targets = [], []
    for dy, dx in _FORWARD_NEIGHBOURS:
        neighbours = index[ys + dy, xs + 1 + dx]
        keep = neighbours >= 0
        sources.append(np.flatnonzero(keep))
        targets.append(neighbours[keep])
    source, target = np.concatenate(sources), np.concatenate(targets)
    graph = sparse.csr_matrix((np.ones(len(source)), (source, target)), shape=(count, count))
    graph = (graph + graph.T).tocsr()
    _, labels = csgraph.connected_components(graph, directed=False)
    nodes_of = np.split(np.argsort(labels, kind="stable"), np.cumsum(np.bincount(labels))[:-1])
    paths = []
    for nodes in sorted(nodes_of, key=lambda nodes: nodes[0]):
        if len(nodes) < min_nodes:
            continue
        piece = graph[nodes][:, nodes]
        # The breadth-first tree keeps distances from its root, so its last node in visiting order is farthest from
        # the root in the tree too: the first pass of the diameter comes for free.
        order, parents = csgraph.breadth_first_order(piece, 0, directed=False, return_predecessors=True)
        children = order[1:]
        tree = sparse.csr_matrix(
            (np.ones(len(children)), (children, parents[children])), shape=(len(nodes), len(nodes))
        )
        start = order[-1]
        order, parents = csgraph.breadth_first_order(tree, start, directed=False, return_predecessors=True)
        path = [order[-1]]
        while path[-1] != start:
            path.append(parents[path[-1]])
        chosen = nodes[np.asarray(path)]
        paths.append(np.stack([xs[chosen], ys[chosen]], axis=1).astype(np.int64))
    return paths


def _opened(region: np.ndarray, radius: float) -> np.ndarray:
    """``region`` opened by the largest disk of radius ``radius, 0.9·radius, 0.81·radius, …`` (each rounded half up)
    that leaves something; unopened once the radius is ≤ 1."""
    mask = region.astype(np.uint8)
    tried = None
    while radius > 1:
        size = int(radius + 0.5)
        if size != tried:
            tried = size
            opened = cv2.morphologyEx(mask, cv2.MORPH_OPEN, disk(size))
            if opened.any():
                return opened.astype(bool)
        radius *= 0.9
    return region


def error_paths(
    region: np.ndarray,
    kernel_fraction: float = KERNEL_FRACTION,
    max_radius: float = MAX_RADIUS,
    min_nodes: int = MIN_NODES,
) -> list[np.ndarray]:
    """Pixel paths ``int64 (N, 2)`` ``(x, y)`` the robot draws on a ``bool (H, W)`` error region.

    The region is opened by a disk of radius ``r = min(kernel_fraction · √area / 2, max_radius)`` (``area``: the
    region's pixel count), shrunk by 0.9 while nothing survives (:func:`_opened`), skeletonised by
    ``skimage.morphology.medial_axis`` (as the benchmark's robot: a square keeps its diagonals, where a thinning
    would shrink it to a point; its tie-breaking seeded, so the robot is deterministic) and each piece's longest path
    kept (:func:`skeleton_paths`). An empty region gives none.
    """
    area = int(np.count_nonzero(region))
    if area == 0:
        return []
    # Work on the region's box grown by the largest radius: the opening and the skeleton are the same as on the frame.
    margin = math.ceil(max_radius) + 1
    rows, cols = np.flatnonzero(region.any(axis=1)), np.flatnonzero(region.any(axis=0))
    y0, y1 = max(rows[0] - margin, 0), min(rows[-1] + margin + 1, region.shape[0])
    x0, x1 = max(cols[0] - margin, 0), min(cols[-1] + margin + 1, region.shape[1])
    radius = min(kernel_fraction * math.sqrt(area) / 2, max_radius)
    core = _opened(np.ascontiguousarray(region[y0:y1, x0:x1]), radius)
    offset = np.array([x0, y0], dtype=np.int64)
    return [path + offset for path in skeleton_paths(medial_axis(core, rng=0), min_nodes)]


def robot_scribbles(
    prediction: np.ndarray,
    truth: np.ndarray,
    ids: Sequence[int],
    kernel_fraction: float = KERNEL_FRACTION,
    max_radius: float = MAX_RADIUS,
    min_nodes: int = MIN_NODES,
) -> list[Scribble]:
    """The robot's corrections of a predicted ``int (H, W)`` label map against the ground truth ``int (H, W)``.

    For the background (0) and then each id of ``ids``, the error region is where the truth is that id and the
    prediction is not (a pixel predicted as any other id, or :data:`VOID`, is an error; void truth never is); each
    path of :func:`error_paths` on it becomes a :class:`Scribble` of that id. No error gives no scribble.
    """
    _check_pair(prediction, truth, "robot scribbles")
    height, width = truth.shape
    scribbles = []
    for object_id in dict.fromkeys((0, *_check_ids(ids, "robot scribbles"))):
        region = (truth == object_id) & (prediction != object_id)
        for path in error_paths(region, kernel_fraction, max_radius, min_nodes):
            scribbles.append(Scribble.from_pixels(object_id, path, height, width))
    return scribbles


# --- Which frame -----------------------------------------------------------------------------------------------------


def objects_area(truth: np.ndarray, ids: Sequence[int]) -> int:
    """Pixels of an ``int (H, W)`` ground truth that belong to one of ``ids``."""
    return int(np.count_nonzero(np.isin(truth, _check_ids(ids, "object area"))))


def largest_area_frame(areas: Sequence[int]) -> int:
    """The frame the first interaction marks: the one of largest ground-truth object area; ties: the lowest index."""
    if len(areas) == 0:
        raise InputError("object areas", "no frames", "the area of at least one frame")
    return int(np.argmax(np.asarray(areas)))


def worst_frame(scores: Sequence[float], marked: Collection[int] = ()) -> int:
    """The frame the next interaction marks: lowest score (J&F, mean over objects) among the frames not yet
    ``marked``, or among all frames once every one is; ties: the lowest index."""
    values = np.asarray(scores, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise InputError("frame scores", f"shape {values.shape}", "one score per frame, at least one frame")
    candidates = np.ones(values.size, dtype=bool)
    candidates[[frame for frame in marked if 0 <= frame < values.size]] = False
    if not candidates.any():
        candidates[:] = True
    return int(np.argmin(np.where(candidates, values, np.inf)))


# --- Frame scores ----------------------------------------------------------------------------------------------------


def frame_scores(prediction: np.ndarray, truth: np.ndarray, ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Per-object J and F ``float64 (K,)`` of a predicted ``int (H, W)`` label map against the ground truth.

    Pixels void in the truth are left out of both masks. The frame's J&F is ``(J + F).mean() / 2``.
    """
    _check_pair(prediction, truth, "frame scores")
    ids = np.asarray(_check_ids(ids, "frame scores"), dtype=np.int64).reshape(-1, 1, 1)
    if ids.size == 0:
        return np.zeros(0), np.zeros(0)
    predicted = (prediction[None] == ids) & (truth != VOID)[None]
    actual = truth[None] == ids
    return jaccard(predicted, actual).astype(np.float64), boundary_f(predicted, actual).astype(np.float64)


# --- Scribble JSON ---------------------------------------------------------------------------------------------------


def scribbles_to_json(sequence: str, num_frames: int, scribbles: Mapping[int, Sequence[Scribble]]) -> dict:
    """The DAVIS scribble document of a sequence's ``{frame: scribbles}``:
    ``{"scribbles": [[{"path": [[x, y], …], "object_id": id}, …] per frame 0..num_frames − 1], "sequence": name}``."""
    outside = [frame for frame in scribbles if not 0 <= frame < num_frames]
    if outside:
        raise InputError("scribbles", f"frame {outside[0]}", f"frames 0..{num_frames - 1} of {sequence}")
    frames = [[] for _ in range(num_frames)]
    for frame, marks in scribbles.items():
        frames[frame] = [{"path": mark.path.tolist(), "object_id": mark.object_id} for mark in marks]
    return {"scribbles": frames, "sequence": sequence}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _scribble_from_json(item: object, source: str, where: str) -> Scribble:
    if not isinstance(item, dict):
        raise InputError(source, f"{where} is a {type(item).__name__}", 'an object {"path": …, "object_id": …}')
    for key in ("path", "object_id"):
        if key not in item:
            raise InputError(source, f'{where} has no "{key}"', 'keys "path" and "object_id"')
    object_id, path = item["object_id"], item["path"]
    if not _is_int(object_id) or not 0 <= object_id < VOID:
        raise InputError(source, f"{where} has object id {object_id!r}", f"an integer in 0..{VOID - 1}")
    if not isinstance(path, list) or not path:
        raise InputError(source, f"{where} has path {str(path)[:40]}", "a non-empty list of [x, y] points")
    for point in path:
        if not (isinstance(point, list) and len(point) == 2 and all(_is_number(v) for v in point)):
            raise InputError(source, f"{where} has path point {str(point)[:40]}", "[x, y] numbers")
        if not all(0.0 <= v <= 1.0 for v in point):
            raise InputError(source, f"{where} has path point {point} outside the frame", "x and y in [0, 1]")
    return Scribble(object_id, np.asarray(path, dtype=np.float64))


def scribbles_from_json(data: object, source: str = "scribble JSON") -> tuple[str, int, dict[int, list[Scribble]]]:
    """``(sequence, num_frames, {frame: scribbles})`` of a DAVIS scribble document, frames without scribbles left
    out; other keys (e.g. a point's times) are ignored. Raises :class:`InputError` naming ``source``."""
    if not isinstance(data, dict):
        raise InputError(source, f"a JSON {type(data).__name__}", 'an object with "scribbles" and "sequence"')
    for key in ("scribbles", "sequence"):
        if key not in data:
            raise InputError(source, f'no "{key}" key', 'an object with "scribbles" and "sequence"')
    sequence, frames = data["sequence"], data["scribbles"]
    if not isinstance(sequence, str):
        raise InputError(source, f'"sequence" is a {type(sequence).__name__}', "the sequence's name")
    if not isinstance(frames, list) or not all(isinstance(frame, list) for frame in frames):
        raise InputError(source, '"scribbles" is not a list of lists', "one list of scribbles per frame")
    scribbles = {}
    for frame, items in enumerate(frames):
        marks = [_scribble_from_json(item, source, f"frame {frame}, scribble {i}") for i, item in enumerate(items)]
        if marks:
            scribbles[frame] = marks
    return sequence, len(frames), scribbles


def write_scribbles(
    path: str | os.PathLike[str], sequence: str, num_frames: int, scribbles: Mapping[int, Sequence[Scribble]]
) -> None:
    """Write a sequence's ``{frame: scribbles}`` as a DAVIS scribble JSON file, atomically."""
    document = scribbles_to_json(sequence, num_frames, scribbles)
    write_bytes_atomic(path, json.dumps(document).encode("utf-8"))


def read_scribbles(path: str | os.PathLike[str]) -> tuple[str, int, dict[int, list[Scribble]]]:
    """``(sequence, num_frames, {frame: scribbles})`` of a DAVIS scribble JSON file (:func:`scribbles_from_json`)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found", "a DAVIS scribble JSON file")
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(path, f"not JSON ({error})", "a DAVIS scribble JSON file") from None
    return scribbles_from_json(data, str(path))


# --- The curve -------------------------------------------------------------------------------------------------------


def time_budget(objects: float) -> float:
    """A session's time budget in seconds: :data:`SECONDS_PER_OBJECT` per object."""
    return float(objects) * SECONDS_PER_OBJECT


def curve(times: Sequence[float], scores: Sequence[float], max_time: float) -> tuple[np.ndarray, np.ndarray]:
    """The J&F-versus-time curve of a session: ``(t, s)`` ``float64 (M,)``, piecewise linear between its points.

    Args:
        times: cumulated seconds after each interaction, non-decreasing.
        scores: the J&F after each interaction.
        max_time: the session's time budget (:func:`time_budget`).

    Returns:
        ``(0, 0)``, then ``(times[i], scores[i])`` up to ``max_time``: the curve is cut there (the score linearly
        interpolated) when interactions run past it, and held at its last score up to it when they stop before.
    """
    t = np.asarray(times, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    if t.ndim != 1 or t.shape != s.shape:
        raise InputError("interaction curve", f"{t.shape} times and {s.shape} scores", "one score per time")
    if not (np.isfinite(t).all() and np.isfinite(s).all()) or (t.size and (t[0] < 0 or np.any(np.diff(t) < 0))):
        raise InputError("interaction times", "negative, decreasing or not finite", "non-decreasing seconds ≥ 0")
    if not max_time > 0:
        raise InputError("interaction time budget", f"{max_time} s", "a positive time")
    t, s = np.concatenate([[0.0], t]), np.concatenate([[0.0], s])
    beyond = int(np.searchsorted(t, max_time, side="right"))
    if beyond < t.size:
        before = beyond - 1
        at_budget = s[before] + (s[beyond] - s[before]) * (max_time - t[before]) / (t[beyond] - t[before])
        t, s = t[:beyond], s[:beyond]
        if t[-1] < max_time:
            t, s = np.append(t, max_time), np.append(s, at_budget)
    elif t[-1] < max_time:
        t, s = np.append(t, max_time), np.append(s, s[-1])
    return t, s


def auc(times: Sequence[float], scores: Sequence[float], max_time: float) -> float:
    """Area under :func:`curve` (trapezoids) divided by ``max_time``: 1 for a perfect result at once."""
    t, s = curve(times, scores, max_time)
    return float(np.sum(np.diff(t) * (s[1:] + s[:-1]) / 2) / max_time)


def score_at(times: Sequence[float], scores: Sequence[float], max_time: float, at: float = 60.0) -> float:
    """The value of :func:`curve` at ``at`` seconds (linear between points; after every interaction at that time when
    several share it; the last score beyond ``max_time``)."""
    if not at >= 0:
        raise InputError("score time", f"{at} s", "a time ≥ 0")
    t, s = curve(times, scores, max_time)
    after = int(np.searchsorted(t, at, side="right"))
    if after == t.size:
        return float(s[-1])
    before = after - 1
    if t[before] == at:
        return float(s[before])
    return float(s[before] + (s[after] - s[before]) * (at - t[before]) / (t[after] - t[before]))


@dataclass(frozen=True)
class Session:
    """One sequence's interactive run.

    Attributes:
        times: ``float64 (N,)`` cumulated seconds after each interaction, non-decreasing.
        scores: ``float64 (N, K)`` J&F of each of the K objects after each interaction.
    """

    times: np.ndarray
    scores: np.ndarray

    def __post_init__(self) -> None:
        times = np.asarray(self.times, dtype=np.float64)
        scores = np.asarray(self.scores, dtype=np.float64)
        if times.ndim != 1 or scores.ndim != 2 or scores.shape[0] != times.size or scores.shape[1] == 0:
            raise InputError(
                "interactive session", f"{times.shape} times and {scores.shape} scores", "(N,) times, (N, K ≥ 1) scores"
            )
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "scores", scores)

    @property
    def objects(self) -> int:
        return self.scores.shape[1]

    @property
    def max_time(self) -> float:
        return time_budget(self.objects)

    def auc(self) -> float:
        """AUC of the session's curve (J&F: the mean over its objects)."""
        return auc(self.times, self.scores.mean(axis=1), self.max_time)

    def score_at(self, at: float = 60.0) -> float:
        """J&F of the session's curve at ``at`` seconds."""
        return score_at(self.times, self.scores.mean(axis=1), self.max_time, at)


def mean_curve(sessions: Sequence[Session]) -> tuple[np.ndarray, np.ndarray, float]:
    """``(times, scores, max_time)`` of the mean of several sessions, for :func:`curve`, :func:`auc`,
    :func:`score_at`.

    Interaction k happens at the mean over sessions of their cumulated times and scores the mean over every
    (session, object) of the J&F after it, so each object weighs the same. Only the first ``min N`` interactions,
    which every session has, are kept. The budget is the mean object count × :data:`SECONDS_PER_OBJECT`.
    """
    if not sessions:
        raise InputError("interactive sessions", "none given", "at least one session")
    count = min(session.times.size for session in sessions)
    times = np.mean([session.times[:count] for session in sessions], axis=0)
    scores = np.concatenate([session.scores[:count] for session in sessions], axis=1).mean(axis=1)
    return times, scores, time_budget(np.mean([session.objects for session in sessions]))
