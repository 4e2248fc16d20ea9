"""A robot session: the DAVIS interactive protocol (:mod:`segmenters.evaluation.interactive`) run against an
:class:`~segmenters.interactive.session.InteractiveSession`.

Interaction 1 scribbles every object on the frame where their ground truth is largest; each later one scribbles the
error regions of the worst frame not marked yet. The clock counts the session's work from receiving the scribbles to
returning every frame's labels (learning included: the session runs synchronously); scoring is not counted.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from segmenters.evaluation.interactive import (
    Session,
    frame_scores,
    largest_area_frame,
    objects_area,
    robot_scribbles,
    worst_frame,
)
from segmenters.interactive.marks import Scribble
from segmenters.interactive.session import InteractiveSession


@dataclass(frozen=True)
class RobotStep:
    """One interaction of a robot session.

    Attributes:
        interaction: 1, 2, …
        frame: the frame scribbled.
        seconds: the session's compute for this interaction (marks → every frame's labels).
        j: ``float64 (T, K)`` J of every frame and object after it.
        f: ``float64 (T, K)`` F likewise.
        scribbles: the robot's scribbles.
        confidence: ``float64 (T, K)`` the session's confidence after it.
    """

    interaction: int
    frame: int
    seconds: float
    j: np.ndarray
    f: np.ndarray
    scribbles: list[Scribble] = field(repr=False)
    confidence: np.ndarray = field(repr=False)

    @property
    def jf(self) -> float:
        """J&F of the sequence: mean over frames and objects of (J + F) / 2."""
        return float((self.j.mean() + self.f.mean()) / 2)


def score_frames(
    labels: Sequence[np.ndarray], truths: Sequence[np.ndarray], ids: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """J and F ``float64 (T, K)`` of every frame's labels against the ground truth."""
    scores = [frame_scores(p, t, ids) for p, t in zip(labels, truths, strict=True)]
    return np.array([j for j, _ in scores]), np.array([f for _, f in scores])


def run_robot(
    session: InteractiveSession,
    truths: Sequence[np.ndarray],
    interactions: int = 8,
    progress: bool = False,
) -> list[RobotStep]:
    """Run up to ``interactions`` robot interactions on ``session`` (objects = the session's ids) against
    ``truths`` (``int (H, W)`` per frame, :data:`~foundation.io.VOID` ignored). Stops early when no frame has an
    error left to scribble."""
    ids = list(session.ids)
    steps: list[RobotStep] = []
    marked: list[int] = []
    j = f = None
    for index in tqdm(range(1, interactions + 1), desc=session.video.name, unit="interaction", disable=not progress):
        if j is None:
            frame = largest_area_frame([objects_area(t, ids) for t in truths])
            scribbles = robot_scribbles(np.zeros_like(truths[frame]), truths[frame], ids)
        else:
            frame, scribbles = _next_correction(session, truths, ids, (j + f).mean(axis=1) / 2, marked)
            if frame is None:
                break
        started = time.perf_counter()
        session.add_scribbles(frame, scribbles)
        labels = session.propagate()
        seconds = time.perf_counter() - started
        session.record_seconds(seconds)
        marked.append(frame)
        j, f = score_frames(labels, truths, ids)
        steps.append(RobotStep(index, frame, seconds, j, f, scribbles, session.confidence()))
    return steps


def _next_correction(
    session: InteractiveSession,
    truths: Sequence[np.ndarray],
    ids: Sequence[int],
    scores: np.ndarray,
    marked: list[int],
) -> tuple[int | None, list[Scribble]]:
    """The worst frame not marked yet (any frame once every one is: :func:`worst_frame`) and the robot's scribbles on
    it; a frame without an error left to scribble gives way to the next worst. ``(None, [])`` when none has one."""
    skipped: list[int] = []
    while len(skipped) < len(scores):
        frame = worst_frame(scores, [*marked, *skipped] if len(set(marked) | set(skipped)) < len(scores) else skipped)
        scribbles = robot_scribbles(session.labels(frame), truths[frame], ids)
        if scribbles:
            return frame, scribbles
        skipped.append(frame)
    return None, []


def robot_session(steps: Sequence[RobotStep]) -> Session:
    """The protocol's view of a robot session: cumulated times and per-object J&F after each interaction."""
    times = np.cumsum([s.seconds for s in steps])
    scores = np.array([(s.j.mean(axis=0) + s.f.mean(axis=0)) / 2 for s in steps])
    return Session(times=times, scores=scores)
