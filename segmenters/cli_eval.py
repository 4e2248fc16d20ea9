"""``lucid-eval``: score a results folder on DAVIS sequences, print the tables, write CSVs, plots and overlays.

lucid-eval data.root=../shared/data/davis2016 results=outputs/flow plots=true data.sequences=[bear,boat]
lucid-eval task=unsupervised data.root=../shared/data/davis2016 results=outputs/proposals
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import hydra
from hydra.utils import to_absolute_path
from omegaconf import DictConfig, OmegaConf

from foundation.davis import Sequence as DavisSequence
from foundation.davis import select_sequences
from foundation.errors import InputError, cli_entry
from foundation.io import writable_folder
from foundation.settings import check_mandatory, from_container, hydra_errors
from segmenters.evaluation import (
    Evaluation,
    evaluate,
    evaluate_unsupervised,
    format_report,
    write_binary_csvs,
    write_csvs,
    write_matching_csv,
)
from segmenters.evaluation.report import format_table, global_rows
from segmenters.hydra_conf import register_configs
from segmenters.visualize import OverlayOptions, plot_scores, write_sequence_overlays

log = logging.getLogger(__name__)

register_configs(trackers=False)

TASKS = ("semi-supervised", "unsupervised")
"""Values of ``task``: the DAVIS protocol the results are scored by."""


def overlay_options(cfg: DictConfig) -> OverlayOptions:
    return from_container(OverlayOptions, OmegaConf.to_container(cfg.overlays, resolve=True), "overlays")


def any_overlays(options: OverlayOptions) -> bool:
    return options.video or options.gif or options.strip


def check_task(task: str) -> str:
    """``task`` if it is one of :data:`TASKS`, else an :class:`InputError` listing them."""
    if task not in TASKS:
        raise InputError("task", f"unknown task {task!r}", f"one of {', '.join(TASKS)}")
    return task


def write_plots(evaluation: Evaluation, out: Path) -> None:
    for scores in evaluation.sequences:
        plot_scores(out / "plots" / f"{scores.name}.png", scores)
    log.info("wrote J/F plots to %s", out / "plots")


def score_and_report(
    sequences: Sequence[DavisSequence], results: Path, out: Path, plots: bool, workers: int
) -> Evaluation:
    """Evaluate, print the tables, write the CSVs into ``out`` and, with ``plots``, ``out/plots/<sequence>.png``."""
    evaluation = evaluate(sequences, results, workers=workers)
    print(format_report(evaluation, title=str(results)))
    for path in write_csvs(evaluation, out):
        log.info("wrote %s", path)
    if plots:
        write_plots(evaluation, out)
    return evaluation


def score_and_report_unsupervised(
    sequences: Sequence[DavisSequence], results: Path, out: Path, plots: bool, workers: int
) -> Evaluation:
    """As :func:`score_and_report` by the unsupervised protocol: the tables of the candidates matched to the objects
    (DAVIS 2017), then the global figures of all candidates as one mask (DAVIS 2016); beside the usual CSVs,
    ``matching.csv`` and ``binary_*.csv``. Returns the matched evaluation."""
    evaluation = evaluate_unsupervised(sequences, results, workers=workers)
    print(format_report(evaluation.matched, title=f"{results} (unsupervised, candidates matched to objects)"))
    print(
        "\nGlobal results, all candidates as one mask against all objects (DAVIS-2016 unsupervised)\n"
        + format_table(global_rows(evaluation.binary))
    )
    written = [
        *write_csvs(evaluation.matched, out),
        write_matching_csv(evaluation.matchings, out),
        *write_binary_csvs(evaluation.binary, out),
    ]
    for path in written:
        log.info("wrote %s", path)
    if plots:
        write_plots(evaluation.matched, out)
    return evaluation.matched


def write_overlays(sequences: Sequence[DavisSequence], results: Path, out: Path, options: OverlayOptions) -> None:
    for sequence in sequences:
        for path in write_sequence_overlays(sequence, results, out / "overlays", options):
            log.info("wrote %s", path)


def run(cfg: DictConfig) -> Evaluation:
    """Score ``cfg.results``; every setting and the destination folder are checked before any work. Returns the
    evaluation whose tables were written (by the unsupervised protocol, the matched one)."""
    check_mandatory(cfg)
    task = check_task(cfg.task)
    results = Path(to_absolute_path(cfg.results))
    if not results.is_dir():
        raise InputError(results, "results folder not found", "a folder of <sequence>/<frame>.png label PNGs")
    out = writable_folder(Path(to_absolute_path(cfg.out)), "out") if cfg.out else writable_folder(results, "results")
    options = overlay_options(cfg)
    sequences = select_sequences(to_absolute_path(cfg.data.root), cfg.data.sequences, cfg.data.resolution)
    score = score_and_report_unsupervised if task == "unsupervised" else score_and_report
    evaluation = score(sequences, results, out, cfg.plots, cfg.workers)
    if any_overlays(options):
        write_overlays(sequences, results, out, options)
    return evaluation


@hydra.main(version_base="1.3", config_path="pkg://conf", config_name="eval")
@cli_entry("lucid-eval", exits=True)
def _eval_app(cfg: DictConfig) -> None:
    run(cfg)


@cli_entry("lucid-eval")
def main() -> int:
    """Entry point of ``lucid-eval``."""
    with hydra_errors():
        _eval_app()
    return 0


if __name__ == "__main__":
    sys.exit(main())
