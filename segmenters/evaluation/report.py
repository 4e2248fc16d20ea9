"""The DAVIS result tables: CSV files as the official toolkit writes them, and a plain-text table for terminals."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path

from foundation.io import atomic_path
from segmenters.evaluation.benchmark import GLOBAL_COLUMNS, PER_SEQUENCE_COLUMNS, Evaluation

GLOBAL_CSV = "global_results.csv"
PER_SEQUENCE_CSV = "per-sequence_results.csv"


def global_rows(evaluation: Evaluation) -> list[list[str]]:
    """Header and the one row of global figures, 3 decimals."""
    summary = evaluation.summary()
    return [list(GLOBAL_COLUMNS), [f"{summary[column]:.3f}" for column in GLOBAL_COLUMNS]]


def per_sequence_rows(evaluation: Evaluation) -> list[list[str]]:
    """Header and one row per object (``<sequence>_<k>``, J-Mean, F-Mean), 3 decimals."""
    rows = [[o.name, f"{o.j.mean:.3f}", f"{o.f.mean:.3f}"] for o in evaluation.objects()]
    return [list(PER_SEQUENCE_COLUMNS), *rows]


def csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def write_csvs(evaluation: Evaluation, folder: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write ``global_results.csv`` and ``per-sequence_results.csv`` into ``folder`` (atomically, each)."""
    paths = (Path(folder) / GLOBAL_CSV, Path(folder) / PER_SEQUENCE_CSV)
    for path, rows in zip(paths, (global_rows(evaluation), per_sequence_rows(evaluation)), strict=True):
        with atomic_path(path) as tmp:
            tmp.write_text(csv_text(rows), encoding="utf-8")
    return paths


def format_table(rows: Sequence[Sequence[str]]) -> str:
    """Right-aligned columns, the first row as header, separated by a rule."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])


def format_report(evaluation: Evaluation, title: str = "") -> str:
    """The global figures and the per-sequence table, ready to print."""
    heading = f"Global results{f' for {title}' if title else ''}"
    return "\n\n".join(
        [
            f"{heading}\n{format_table(global_rows(evaluation))}",
            f"Per-sequence results\n{format_table(per_sequence_rows(evaluation))}",
        ]
    )
