"""``lucid-report FOLDER``: tabulate the runs under a folder, e.g. a ``lucid-track -m`` or ``lucid-dream -m`` sweep.

* tracking runs (folders with ``global_results.csv``): the settings that differ × J&F, J, F and the seconds per
  sequence of each stage, printed as Markdown and written as ``report.md``, ``report.csv`` and a bar chart
  ``report.png`` into FOLDER (or ``--out``);
* dreamed datasets (folders of videos with ``manifest.json``): the settings that differ × dataset statistics.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path

from dreaming.dataset.report import collect_runs, table
from foundation.errors import InputError, cli_entry
from foundation.io import atomic_path, writable_folder
from foundation.tables import to_csv, to_markdown
from segmenters.evaluation.report import GLOBAL_CSV
from segmenters.evaluation.sweep import (
    collect_tracking_runs,
    group_by_seed,
    per_sequence_seed_table,
    seed_table,
    tracking_table,
    write_bar_chart,
)

log = logging.getLogger(__name__)


def _write(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    log.info("wrote %s", path)


def _check_csv_path(csv_path: Path) -> None:
    if csv_path.is_dir():
        raise InputError("--csv", f"{csv_path} is a folder", "the path of a CSV file to write")
    writable_folder(csv_path.parent, "--csv")


def report(folder: Path, out: Path | None = None, csv_path: Path | None = None) -> str:
    """The Markdown table of the runs under ``folder``; tracking reports are also written to ``out`` (default:
    ``folder``), and any table to ``csv_path`` when given. Where the files go is checked before any work."""
    if csv_path is not None:
        _check_csv_path(csv_path)
    if any(folder.rglob(GLOBAL_CSV)):
        out = writable_folder(out or folder, "--out" if out else "FOLDER")
        runs = collect_tracking_runs(folder)
        header, rows = tracking_table(runs)
        out.mkdir(parents=True, exist_ok=True)
        markdown = to_markdown(header, rows)
        groups = group_by_seed(runs)
        if any(len(group.runs) > 1 for group in groups):
            markdown += "\nOver seeds (mean ± sample std):\n\n" + to_markdown(*seed_table(groups))
            for group in groups:
                if len(group.runs) > 1 and all(run.per_sequence for run in group.runs):
                    label = " ".join(f"{k}={v}" for k, v in sorted(group.settings.items())) or "all runs"
                    markdown += f"\nPer sequence, {label}:\n\n" + to_markdown(*per_sequence_seed_table(group))
        _write(out / "report.md", markdown)
        _write(csv_path or out / "report.csv", to_csv(header, rows))
        keys = header[1 : header.index("J&F")]
        log.info("wrote %s", write_bar_chart(out / "report.png", runs, keys))
        return markdown
    header, rows = table(collect_runs(folder))
    if csv_path is not None:
        _write(csv_path, to_csv(header, rows))
    return to_markdown(header, rows)


@cli_entry("lucid-report")
def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``lucid-report``."""
    parser = argparse.ArgumentParser(
        prog="lucid-report",
        description="Tabulate the runs under FOLDER (a lucid-track or lucid-dream output or --multirun folder): the "
        "settings that differ between runs beside J&F, J, F and seconds per sequence (tracking; also written as "
        "report.md, report.csv and the bar chart report.png; runs differing only by tracker.seed are also "
        "summarised as mean ± std over the seeds, overall and per sequence) or dataset statistics (dreaming).",
    )
    parser.add_argument("folder", type=Path)
    parser.add_argument(
        "--csv", type=Path, help="write the table to this CSV file (tracking default: FOLDER/report.csv)"
    )
    parser.add_argument("--out", type=Path, help="folder for report.md/.csv/.png of tracking runs (default: FOLDER)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    print(report(args.folder, args.out, args.csv), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
