"""Tabulating tracking runs, e.g. the jobs of a ``lucid-track -m`` sweep: one row per run, the settings that differ
between runs beside J&F, J, F and the seconds per sequence of each stage, plus a bar chart of J&F. Runs that differ
only by their seed (``tracker.seed``) form a group, summarised as mean ± standard deviation over the seeds, overall
and per sequence: the noise any comparison of settings has to exceed.

A run is a folder holding ``global_results.csv`` (written by ``lucid-track`` / ``lucid-eval``); its settings are
the Hydra overrides in ``<run>/.hydra/overrides.yaml`` and its times come from ``<run>/stage_times.csv``.
"""

from __future__ import annotations

import csv
import os
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from omegaconf import OmegaConf

from foundation.errors import InputError
from foundation.io import atomic_path
from segmenters.evaluation.report import GLOBAL_CSV, PER_SEQUENCE_CSV
from segmenters.tracking import STAGES

SCORE_COLUMNS = {"J&F": "J&F-Mean", "J": "J-Mean", "F": "F-Mean"}
"""Report column → ``global_results.csv`` column."""


@dataclass(frozen=True)
class TrackingRun:
    """One run: its folder (relative to the report's root), settings, scores and mean seconds per sequence."""

    name: str
    settings: dict[str, str]
    scores: dict[str, float]
    seconds: dict[str, float]
    sequences: int
    per_sequence: dict[str, float]
    """J&F of each sequence (from ``per-sequence_results.csv``; empty without it)."""


SEED_KEYS = ("tracker.seed", "seed")
"""Settings that only choose a seed: runs differing by these alone are repetitions, not different settings."""


def _overrides(run: Path) -> dict[str, str]:
    path = run / ".hydra" / "overrides.yaml"
    if not path.is_file():
        return {}
    settings = {}
    for override in OmegaConf.load(path) or []:
        key, _, value = str(override).partition("=")
        settings[key.lstrip("+~")] = value
    return settings


def read_run(root: Path, run: Path) -> TrackingRun:
    """The :class:`TrackingRun` of folder ``run`` under ``root``."""
    with (run / GLOBAL_CSV).open(newline="") as file:
        rows = list(csv.DictReader(file))
    if len(rows) != 1 or not set(SCORE_COLUMNS.values()) <= set(rows[0]):
        raise InputError(run / GLOBAL_CSV, "not a lucid-eval global results table", f"columns {SCORE_COLUMNS}")
    scores = {name: float(rows[0][column]) for name, column in SCORE_COLUMNS.items()}
    seconds, sequences = {}, 0
    times = run / "stage_times.csv"
    if times.is_file():
        with times.open(newline="") as file:
            per_sequence = list(csv.DictReader(file))
        sequences = len(per_sequence)
        for stage in (*STAGES, "total"):
            values = [float(row[f"{stage}_s"]) for row in per_sequence if row.get(f"{stage}_s")]
            if values:
                seconds[stage] = sum(values) / len(values)
    per_sequence = {}
    if (run / PER_SEQUENCE_CSV).is_file():
        with (run / PER_SEQUENCE_CSV).open(newline="") as file:
            for row in csv.DictReader(file):
                per_sequence[row["Sequence"]] = (float(row["J-Mean"]) + float(row["F-Mean"])) / 2
    name = str(run.relative_to(root)) if run != root else run.name
    return TrackingRun(name, _overrides(run), scores, seconds, sequences, per_sequence)


def collect_tracking_runs(root: str | os.PathLike[str]) -> list[TrackingRun]:
    """Every run under ``root`` (``root`` itself for a single run), sorted by folder."""
    root = Path(root)
    runs = sorted({path.parent for path in root.rglob(GLOBAL_CSV)})
    if not runs:
        raise InputError(root, f"no {GLOBAL_CSV} found", "a lucid-track output or multirun folder")
    return [read_run(root, run) for run in runs]


def tracking_table(runs: list[TrackingRun]) -> tuple[list[str], list[list[Any]]]:
    """Header and rows: run, the settings that differ, J&F, J, F, seconds per sequence (each stage and total)."""
    keys = sorted({k for run in runs for k in run.settings})
    keys = [k for k in keys if len({run.settings.get(k, "") for run in runs}) > 1]
    stages = [s for s in (*STAGES, "total") if any(s in run.seconds for run in runs)]
    header = ["run", *keys, *SCORE_COLUMNS, *(f"{s} s/seq" for s in stages)]
    rows = [
        [
            run.name,
            *(run.settings.get(k, "") for k in keys),
            *(run.scores[c] for c in SCORE_COLUMNS),
            *(run.seconds.get(s, float("nan")) for s in stages),
        ]
        for run in runs
    ]
    return header, rows


@dataclass(frozen=True)
class SeedGroup:
    """Runs whose settings are the same but for :data:`SEED_KEYS`."""

    settings: dict[str, str]
    """The shared settings (seed keys left out)."""
    runs: tuple[TrackingRun, ...]

    @property
    def seeds(self) -> list[str]:
        return [next((run.settings[k] for k in SEED_KEYS if k in run.settings), "default") for run in self.runs]


def group_by_seed(runs: Sequence[TrackingRun]) -> list[SeedGroup]:
    """The runs grouped by their settings other than the seed, in the order of each group's first run."""
    groups: dict[tuple[tuple[str, str], ...], list[TrackingRun]] = {}
    for run in runs:
        key = tuple(sorted((k, v) for k, v in run.settings.items() if k not in SEED_KEYS))
        groups.setdefault(key, []).append(run)
    return [SeedGroup(dict(key), tuple(members)) for key, members in groups.items()]


def mean_std(values: Sequence[float]) -> str:
    """``"mean ± std"`` (sample standard deviation, 0 for a single value) to 3 decimals."""
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.3f} ± {std:.3f}"


def seed_table(groups: Sequence[SeedGroup]) -> tuple[list[str], list[list[Any]]]:
    """Header and rows: the settings that differ between groups, the seeds, then J&F, J and F as mean ± std."""
    keys = sorted({k for group in groups for k in group.settings})
    keys = [k for k in keys if len({group.settings.get(k, "") for group in groups}) > 1]
    header = [*keys, "seeds", *SCORE_COLUMNS]
    rows = [
        [
            *(group.settings.get(k, "") for k in keys),
            " ".join(group.seeds),
            *(mean_std([run.scores[c] for run in group.runs]) for c in SCORE_COLUMNS),
        ]
        for group in groups
    ]
    return header, rows


def per_sequence_seed_table(group: SeedGroup) -> tuple[list[str], list[list[Any]]]:
    """Header and rows: per sequence, its J&F under each seed and their mean ± std; last, the same for the mean over
    the sequences (its ± is the seed-to-seed spread of that mean)."""
    sequences = sorted({name for run in group.runs for name in run.per_sequence})
    header = ["sequence", *(f"seed {seed}" for seed in group.seeds), "J&F mean ± std"]
    rows = []
    for name in sequences:
        values = [run.per_sequence.get(name, float("nan")) for run in group.runs]
        rows.append([name, *values, mean_std(values)])
    means = [statistics.fmean(run.per_sequence[name] for name in sequences) for run in group.runs]
    rows.append(["mean", *means, mean_std(means)])
    return header, rows


def run_label(run: TrackingRun, keys: list[str]) -> str:
    """The differing settings of ``run`` as ``key=value`` lines (the folder name when none differ)."""
    parts = [f"{k}={run.settings[k]}" for k in keys if k in run.settings]
    return "\n".join(parts) or run.name


def write_bar_chart(path: str | os.PathLike[str], runs: list[TrackingRun], keys: list[str]) -> Path:
    """Horizontal bars of J&F per run (J and F as ticks), best on top; written atomically as PNG."""
    ordered = sorted(runs, key=lambda run: run.scores["J&F"])
    height = 1.0 + 0.55 * len(ordered) * max(1, max(run_label(r, keys).count("\n") + 1 for r in ordered) * 0.6)
    figure = Figure(figsize=(8, height), layout="constrained")
    axes = figure.add_subplot()
    positions = range(len(ordered))
    values = [run.scores["J&F"] for run in ordered]
    axes.barh(positions, values, color="#4c72b0", label="J&F")
    axes.scatter([run.scores["J"] for run in ordered], positions, marker="|", s=200, color="#dd8452", label="J")
    axes.scatter([run.scores["F"] for run in ordered], positions, marker="|", s=200, color="#55a868", label="F")
    for y, value in zip(positions, values, strict=True):
        axes.text(value + 0.005, y, f"{value:.3f}", va="center", fontsize=8)
    axes.set_yticks(list(positions), [run_label(run, keys) for run in ordered], fontsize=8)
    axes.set_xlim(0, 1.08)
    axes.set_xlabel("DAVIS score (mean over sequences)")
    axes.legend(loc="lower right", fontsize=8)
    path = Path(path)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=110)
    return path
