"""``lucid-track``: run a tracker over DAVIS sequences, write the results, evaluate them and picture them.

lucid-track tracker=flow data.root=../shared/data/davis2016 out=outputs/flow plots=true
lucid-track tracker=lucid data.root=../shared/data/davis2016 out=outputs/lucid parallel=true

Rerunning a command resumes it: the sequences already written by a run of the same tracker settings on the same
data are kept, and a learning tracker reuses its checkpoints. A sequence that fails does not stop the others; the
failed ones are named at the end (exit status 2 for bad input, 1 otherwise).
"""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import InstantiationException
from hydra.utils import instantiate, to_absolute_path
from omegaconf import DictConfig, OmegaConf

from foundation.davis import Sequence, select_sequences
from foundation.errors import EXIT_FAILED, InputError, cli_entry, describe
from foundation.io import atomic_path, writable_folder
from foundation.settings import check_mandatory, config_error, hydra_errors
from segmenters.cli_eval import (
    any_overlays,
    overlay_options,
    score_and_report,
    score_and_report_unsupervised,
    write_overlays,
)
from segmenters.evaluation import has_ground_truth
from segmenters.hydra_conf import register_configs
from segmenters.tracking import (
    Discoverer,
    Failures,
    StageTimes,
    Tracker,
    has_results,
    read_stage_times,
    track_sequences,
    track_sequences_on_cluster,
    write_stage_times,
)

log = logging.getLogger(__name__)

register_configs()

INTERRUPTED = "interrupted; rerun the same command to resume: finished sequences and checkpoints are reused"
"""What ``lucid-track`` says on Ctrl-C."""


class TrackingFailed(RuntimeError):
    """Some sequences failed for another reason than bad input (their errors were logged); the others are done."""


def output_folder(cfg: DictConfig) -> Path:
    """The job's results folder: ``out``, or ``out/<overrides>`` for a job of a multirun (``lucid-track -m``)."""
    if HydraConfig.initialized():
        return Path(HydraConfig.get().runtime.output_dir)
    return Path(to_absolute_path(cfg.out))


def _results_settings(cfg: DictConfig) -> dict[str, Any]:
    """What a sequence's results depend on: the tracker's settings and the data."""
    data = {key: cfg.data.get(key) for key in ("root", "resolution")}
    return {"tracker": OmegaConf.to_container(cfg.tracker, resolve=True), "data": data}


def _kept_times(cfg: DictConfig, out: Path, sequences: list[Sequence]) -> StageTimes:
    """The stage times of the sequences whose results in ``out`` a run of the same settings (``config.yaml``)
    finished: listed in ``stage_times.csv``, which only ever lists sequences of the settings in ``config.yaml``,
    with every frame written."""
    path = out / "config.yaml"
    if not path.is_file() or _results_settings(OmegaConf.load(path)) != _results_settings(cfg):
        return {}
    previous = read_stage_times(out / "stage_times.csv")
    return {seq.name: previous[seq.name] for seq in sequences if seq.name in previous and has_results(seq, out)}


def _tracker(cfg: DictConfig) -> Tracker | Discoverer:
    """The tracker ``cfg.tracker`` describes; what its class refuses is an :class:`InputError` naming the setting."""
    try:
        tracker = instantiate(cfg.tracker)
    except InstantiationException as error:
        raise config_error(error, "tracker") from None
    if not isinstance(tracker, Tracker | Discoverer):
        raise InputError("tracker", f"{type(tracker).__name__} has no track() or discover() method", "a tracker")
    return tracker


def _summary(failures: Failures, total: int) -> str:
    """``2 of 3 sequence(s) failed (the others are done) — a, b: <reason>``: the failed sequences by reason."""
    by_reason: dict[str, list[str]] = {}
    for name, error in failures.items():
        reason = describe(error)
        by_reason.setdefault(reason.removeprefix(f"{name}: "), []).append(name)
    reasons = "; ".join(f"{', '.join(names)}: {reason}" for reason, names in by_reason.items())
    done = " (the others are done)" if len(failures) < total else ""
    return f"{len(failures)} of {total} sequence(s) failed{done} — {reasons}"


def run(cfg: DictConfig) -> None:
    """Track, evaluate and picture the selected sequences; settings and the results folder are checked first.

    Raises:
        InputError: bad settings or input; or, after the other sequences are done, when some failed on bad input.
        TrackingFailed: after the other sequences are done, when some failed for another reason.
    """
    check_mandatory(cfg)
    out = writable_folder(output_folder(cfg), "out")
    options = overlay_options(cfg)
    tracker = _tracker(cfg)
    sequences = select_sequences(to_absolute_path(cfg.data.root), cfg.data.sequences, cfg.data.resolution)
    out.mkdir(parents=True, exist_ok=True)
    times = _kept_times(cfg, out, sequences)

    def save_times() -> None:
        ordered = {seq.name: times[seq.name] for seq in sequences if seq.name in times}
        write_stage_times(out / "stage_times.csv", ordered)

    save_times()  # before config.yaml: the two never disagree
    # .hydra/config.yaml keeps the interpolations: this copy shows the values used (what profile=auto chose).
    with atomic_path(out / "config.yaml") as tmp:
        tmp.write_text(OmegaConf.to_yaml(cfg, resolve=True))
    log.info("profile %s, tracker %s", cfg.profile.name, cfg.tracker.get("_target_", "?").rsplit(".", 1)[-1])
    if times:
        log.info("kept the results of %s in %s (same settings)", ", ".join(times), out)

    def done(name: str, seconds: dict[str, float]) -> None:
        times[name] = seconds
        save_times()  # at once: an interrupted run keeps its finished sequences for the next one

    todo = [seq for seq in sequences if seq.name not in times]
    failures: Failures = {}
    if cfg.parallel and todo:
        from foundation.cluster import cluster_config, open_client  # distributed: only for a cluster run

        with open_client(cluster_config(cfg)) as client:
            settings = OmegaConf.to_container(cfg.tracker, resolve=True)
            track_sequences_on_cluster(settings, todo, out, client, failures=failures, on_done=done)
    elif todo:
        track_sequences(tracker, todo, out, failures=failures, on_done=done)
    finished = [seq for seq in sequences if seq.name not in failures]
    log.info("wrote results of %d sequence(s) to %s", len(finished), out)
    annotated = [seq for seq in finished if has_ground_truth(seq)]
    if cfg.evaluate:
        unscored = sorted({seq.name for seq in finished} - {seq.name for seq in annotated})
        if unscored:
            log.warning("not evaluated (not every frame annotated): %s", ", ".join(unscored))
        if annotated:
            score = score_and_report_unsupervised if isinstance(tracker, Discoverer) else score_and_report
            score(annotated, out, out, cfg.plots, cfg.workers)
    if any_overlays(options):
        write_overlays(finished, out, out, options)
    if failures:
        summary = _summary(failures, len(sequences))
        if all(isinstance(error, InputError | OSError) for error in failures.values()):
            raise InputError(None, summary)
        raise TrackingFailed(summary)


HYDRA_FILES = {".hydra", "lucid-track.log"}
"""What Hydra writes into ``out`` before ``lucid-track`` runs."""


def _discard_if_empty(folder: Path) -> None:
    """Remove ``folder`` when it holds nothing but what Hydra wrote before the run (bad input stopped it)."""
    if folder.is_dir() and {path.name for path in folder.iterdir()} <= HYDRA_FILES:
        shutil.rmtree(folder)


@hydra.main(version_base="1.3", config_path="pkg://conf", config_name="track")
@cli_entry("lucid-track", exits=True, interrupted=INTERRUPTED)
def _track_app(cfg: DictConfig) -> int:
    try:
        run(cfg)
    except InputError:
        _discard_if_empty(output_folder(cfg))
        raise
    except TrackingFailed as failed:
        print(f"lucid-track: error: {failed}", file=sys.stderr)
        return EXIT_FAILED
    return 0


@cli_entry("lucid-track", interrupted=INTERRUPTED)
def main() -> int:
    """Entry point of ``lucid-track``."""
    with hydra_errors():
        _track_app()
    return 0


if __name__ == "__main__":
    sys.exit(main())
