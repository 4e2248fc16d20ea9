"""Choosing settings on held-out dreams: coordinate search maximising the DAVIS J&F (the post-processing here, the
proposals' scoring in :mod:`segmenters.lucid.proposals`).

The frames scored here are dreamed frames kept out of training, with their true labels; real frames past the
annotated one are never used.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, Generic, Protocol, TypeVar

import numpy as np
from tqdm import tqdm

from segmenters.evaluation.metrics import boundary_f, jaccard
from segmenters.postprocess.refine import ObjectProbabilities, PostProcessConfig, postprocess

DEFAULT_GRID: dict[str, tuple[Any, ...]] = {
    "appearance_weight": (0.0, 0.3, 0.5, 0.7, 0.85, 1.0),
    "threshold": (0.3, 0.4, 0.5, 0.6, 0.7),
    "refine_radius": (0, 2, 4, 8),
    "refine_eps": (0.001, 0.01, 0.05),
    "min_component": (0.0, 0.05, 0.2),
    "fill_holes": (0.0, 0.01, 0.05),
}
"""Values tried for each :class:`PostProcessConfig` field."""

Settings = TypeVar("Settings")
"""A frozen settings dataclass (hashable: each value is scored once)."""
Frame = TypeVar("Frame", bound="ScoredFrame")


class ScoredFrame(Protocol):
    """A held-out frame a tuning scores: its true ``labels int32 (H, W)`` and the ``ids`` of its objects."""

    labels: np.ndarray

    @property
    def ids(self) -> tuple[int, ...]: ...


@dataclass(frozen=True)
class ValidationFrame:
    """A held-out dreamed frame: ``image uint8 (H, W, 3)``, its true ``labels int32 (H, W)`` (void ignored as
    background) and the networks' probabilities for each object given its simulated previous mask; for tuning the
    proposals also that mask (``guidance int32 (H, W)``) and the frame's matching distances (``distances float32
    (1 + K, h, w)``: background, then the objects)."""

    image: np.ndarray
    labels: np.ndarray
    objects: tuple[ObjectProbabilities, ...]
    guidance: np.ndarray | None = None
    distances: np.ndarray | None = None

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(obj.id for obj in self.objects)


@dataclass(frozen=True)
class TuningResult(Generic[Settings]):
    """The chosen settings, their J&F and the starting ones' on the validation frames, and what it cost."""

    best: Settings
    score: float
    start_score: float
    evaluations: int
    seconds: float

    def to_json(self, key: str = "postprocess") -> dict[str, Any]:
        """The result, with the chosen settings' fields under ``key``."""
        return {
            key: {f.name: getattr(self.best, f.name) for f in fields(self.best)},  # type: ignore[arg-type]
            "validation_jf": self.score,
            "validation_jf_untuned": self.start_score,
            "evaluations": self.evaluations,
            "seconds": self.seconds,
        }


def labels_jf(labels: np.ndarray, truth: np.ndarray, ids: Sequence[int]) -> np.ndarray:
    """``float (K,)``: ``(J + F) / 2`` of each object ``ids[k]`` in ``labels`` against ``truth`` (``int (H, W)``)."""
    index = np.asarray(ids)[:, None, None]
    predicted, expected = labels[None] == index, truth[None] == index
    return (jaccard(predicted, expected) + boundary_f(predicted, expected)) / 2


def frames_jf(frames: Sequence[Frame], cfg: Settings, predict: Callable[[Frame, Settings], np.ndarray]) -> float:
    """Mean ``(J + F) / 2`` over every object of every frame, each frame's labels made by ``predict(frame, cfg)``
    (``int32 (H, W)``) and scored against its true ``labels`` for its ``ids``."""
    scores = [labels_jf(predict(frame, cfg), frame.labels, frame.ids) for frame in frames]
    return float(np.concatenate(scores).mean()) if scores else float("nan")


def tune_on_frames(
    frames: Sequence[Frame],
    start: Settings,
    grid: Mapping[str, Sequence[Any]],
    predict: Callable[[Frame, Settings], np.ndarray],
    sweeps: int = 2,
    progress: bool = False,
    min_frames: int = 1,
    desc: str = "tune",
) -> TuningResult[Settings]:
    """The settings that maximise :func:`frames_jf` on ``frames``, by :func:`coordinate_search` from ``start``.

    With fewer than ``min_frames`` frames ``start`` is kept untried: a choice made on a handful of frames fits their
    noise (on the embedded clip's 4 held-out frames it widened the seed spread, ``benchmarks/embedded_spread.py``).
    """
    enough = len(frames) >= min_frames
    return coordinate_search(lambda cfg: frames_jf(frames, cfg, predict), start, grid, sweeps, progress, desc, enough)


def postprocessed(frame: ValidationFrame, cfg: PostProcessConfig) -> np.ndarray:
    """``int32 (H, W)``: ``frame``'s labels post-processed with ``cfg``."""
    return postprocess(frame.image, frame.objects, cfg, frame.labels.shape)


def coordinate_search(
    objective: Callable[[Settings], float],
    start: Settings,
    grid: Mapping[str, Sequence[Any]],
    sweeps: int = 2,
    progress: bool = False,
    desc: str = "tune",
    search: bool = True,
) -> TuningResult[Settings]:
    """Maximise ``objective`` over the fields of the frozen dataclass ``start`` named in ``grid``: one field at a
    time over its values, the others fixed, for ``sweeps`` rounds (or until a round changes nothing). A value replaces
    the current one only if it scores strictly higher, so ties keep ``start``; ``search=False`` keeps ``start``
    untried. Each setting is scored once."""
    unknown = set(grid) - {f.name for f in fields(start)}  # type: ignore[arg-type]
    if unknown:
        raise ValueError(f"unknown {type(start).__name__} fields in the grid: {sorted(unknown)}")
    started = time.perf_counter()
    scores: dict[Settings, float] = {}

    def score(cfg: Settings) -> float:
        if cfg not in scores:
            scores[cfg] = objective(cfg)
        return scores[cfg]

    best = start
    if not search:
        return TuningResult(best, score(best), score(best), len(scores), time.perf_counter() - started)
    total = sweeps * sum(len(values) for values in grid.values())
    with tqdm(total=total, desc=desc, unit="setting", leave=False, disable=not progress) as bar:
        for _ in range(sweeps):
            before = best
            for name, values in grid.items():
                for value in values:
                    candidate = replace(best, **{name: type(getattr(start, name))(value)})
                    if score(candidate) > score(best):
                        best = candidate
                    bar.update()
            if best == before:
                break
    return TuningResult(best, score(best), score(start), len(scores), time.perf_counter() - started)
