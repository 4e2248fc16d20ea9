"""Tabulating dreamed datasets: one row per run, the settings that differ between runs beside dataset statistics.

A run is a folder of video folders (each with a ``manifest.json``), e.g. one job of a ``lucid-dream --multirun``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dreaming.dataset.manifest import Manifest, find_videos
from foundation.errors import InputError

STAT_COLUMNS = {
    "foreground": "foreground",
    "objects": "objects/frame",
    "flow": "flow px",
    "valid": "flow valid",
}
"""Manifest statistics (means over pairs) → column names."""


@dataclass(frozen=True)
class RunSummary:
    """One run: its folder, its settings (flattened, dotted keys) and its totals."""

    name: str
    settings: dict[str, Any]
    videos: int
    complete: int
    pairs: int
    bytes: int
    stats: dict[str, float]


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts → ``{"a.b.c": value}``; lists stay values."""
    if not isinstance(tree, dict):
        return {prefix: tree}
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        flat.update(flatten(value, f"{prefix}{key}."))
    return {k.rstrip("."): v for k, v in flat.items()}


def summarize_run(name: str, manifests: list[Manifest]) -> RunSummary:
    """Totals of a run's videos; statistics are means over all pairs of the run."""
    pairs = sum(m.counts.get("pairs", 0) for m in manifests)
    stats = {}
    for key in STAT_COLUMNS:
        weighted = [(m.stats[key], m.counts["pairs"]) for m in manifests if key in m.stats]
        if weighted and pairs:
            stats[key] = sum(v * n for v, n in weighted) / sum(n for _, n in weighted)
    settings = {k: v for k, v in flatten(manifests[0].identity).items() if not k.startswith(("video", "sources"))}
    return RunSummary(
        name=name,
        settings=settings,
        videos=len(manifests),
        complete=sum(m.complete for m in manifests),
        pairs=pairs,
        bytes=sum(m.counts.get("bytes", 0) for m in manifests),
        stats=stats,
    )


def collect_runs(root: str | os.PathLike[str]) -> list[RunSummary]:
    """Runs under ``root``: each folder whose sub-folders are videos (``root`` itself for a single run)."""
    root = Path(root)
    by_run: dict[Path, list[Manifest]] = {}
    for video in find_videos(root):
        by_run.setdefault(video.parent, []).append(Manifest.load(video))
    if not by_run:
        raise InputError(root, "no dreamed video found", "a lucid-dream output or multirun folder")
    return [
        summarize_run(str(run.relative_to(root)) if run != root else run.name, manifests)
        for run, manifests in sorted(by_run.items())
    ]


def differing_settings(runs: list[RunSummary]) -> list[str]:
    """Dotted setting keys whose values are not the same in every run, sorted."""
    keys = sorted({k for run in runs for k in run.settings})
    return [k for k in keys if len({repr(run.settings.get(k)) for run in runs}) > 1]


def table(runs: list[RunSummary]) -> tuple[list[str], list[list[Any]]]:
    """Header and rows: run, differing settings, videos, pairs, MB, MB per 1,000 pairs, statistics."""
    keys = differing_settings(runs)
    header = ["run", *keys, "videos", "pairs", "MB", "MB/1000 pairs", *STAT_COLUMNS.values()]
    rows = []
    for run in runs:
        videos = f"{run.videos}" if run.complete == run.videos else f"{run.complete}/{run.videos} complete"
        megabytes = run.bytes / 1e6
        per_1000 = 1000 * megabytes / run.pairs if run.pairs else float("nan")
        stats = [run.stats.get(k, float("nan")) for k in STAT_COLUMNS]
        rows.append([run.name, *(run.settings.get(k) for k in keys), videos, run.pairs, megabytes, per_1000, *stats])
    return header, rows
