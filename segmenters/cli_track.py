"""``lucid-track``: run a tracker over DAVIS sequences, write the results, evaluate them and picture them.

lucid-track tracker=flow data.root=../shared/data/davis2016 out=outputs/flow plots=true
lucid-track tracker=lucid data.root=../shared/data/davis2016 out=outputs/lucid parallel=true
"""

from __future__ import annotations

import logging
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate, to_absolute_path
from omegaconf import DictConfig, OmegaConf

import foundation.settings  # noqa: F401  (registers the resolvers conf/track.yaml uses)
from foundation.davis import select_sequences
from foundation.errors import InputError, cli_entry
from foundation.io import atomic_path
from segmenters.cli_eval import any_overlays, overlay_options, score_and_report, write_overlays
from segmenters.evaluation import has_ground_truth
from segmenters.tracking import Tracker, track_sequences, track_sequences_on_cluster, write_stage_times

log = logging.getLogger(__name__)


def output_folder(cfg: DictConfig) -> Path:
    """The job's results folder: ``out``, or ``out/<overrides>`` for a job of a multirun (``lucid-track -m``)."""
    if HydraConfig.initialized():
        return Path(HydraConfig.get().runtime.output_dir)
    return Path(to_absolute_path(cfg.out))


def run(cfg: DictConfig) -> None:
    tracker = instantiate(cfg.tracker)
    if not isinstance(tracker, Tracker):
        raise InputError("tracker", f"{type(tracker).__name__} has no track() method", "a Tracker")
    sequences = select_sequences(to_absolute_path(cfg.data.root), cfg.data.sequences, cfg.data.resolution)
    out = output_folder(cfg)
    out.mkdir(parents=True, exist_ok=True)
    # .hydra/config.yaml keeps the interpolations: this copy shows the values used (what profile=auto chose).
    with atomic_path(out / "config.yaml") as tmp:
        tmp.write_text(OmegaConf.to_yaml(cfg, resolve=True))
    log.info("profile %s, tracker %s", cfg.profile.name, cfg.tracker.get("_target_", "?").rsplit(".", 1)[-1])
    if cfg.parallel:
        from foundation.cluster import cluster_config, open_client  # distributed: only for a cluster run

        with open_client(cluster_config(cfg)) as client:
            settings = OmegaConf.to_container(cfg.tracker, resolve=True)
            times = track_sequences_on_cluster(settings, sequences, out, client)
    else:
        times = track_sequences(tracker, sequences, out)
    write_stage_times(out / "stage_times.csv", times)
    log.info("wrote results of %d sequence(s) to %s", len(sequences), out)
    annotated = [seq for seq in sequences if has_ground_truth(seq)]
    if cfg.evaluate:
        unscored = sorted({seq.name for seq in sequences} - {seq.name for seq in annotated})
        if unscored:
            log.warning("not evaluated (not every frame annotated): %s", ", ".join(unscored))
        if annotated:
            score_and_report(annotated, out, out, cfg.plots, cfg.workers)
    options = overlay_options(cfg)
    if any_overlays(options):
        write_overlays(sequences, out, out, options)


@hydra.main(version_base="1.3", config_path="pkg://conf", config_name="track")
@cli_entry("lucid-track", exits=True)
def main(cfg: DictConfig) -> None:
    run(cfg)


if __name__ == "__main__":
    main()
