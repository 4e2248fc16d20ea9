"""Command-line tools of the dreaming pipeline.

* ``lucid-dream`` (Hydra app, ``conf/dream.yaml``): dream per-video training sets on Dask workers, or
  ``verify=<folder>`` to check them.
* ``lucid-verify <folder>``: check every file of the dataset(s) under a folder against their manifests.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from dreaming.dataset.manifest import find_videos, verify_video
from dreaming.dataset.pipeline import finish, plan_dataset, run_plan
from dreaming.hydra_conf import check_settings, register_configs, video_sources
from foundation.cluster import cluster_config, open_client
from foundation.errors import EXIT_FAILED, InputError, cli_entry
from foundation.settings import hydra_errors

log = logging.getLogger(__name__)

INTERRUPTED = "interrupted; rerun the same command to resume"
"""What ``lucid-dream`` says on Ctrl-C: every finished chunk is on disk, and a rerun dreams only the others."""


def verify_folder(folder: str | Path) -> int:
    """Verify every video under ``folder``, log the problems, and return the number of bad files."""
    videos = find_videos(folder)
    if not videos:
        raise InputError(folder, "no manifest.json found", "a lucid-dream output folder")
    bad = 0
    for video in videos:
        problems = verify_video(video)
        for problem in problems:
            log.error("%s", problem)
        bad += len(problems)
        log.info("%s: %s", video, f"{len(problems)} problem(s)" if problems else "ok")
    log.info("verified %d video(s): %s", len(videos), f"{bad} bad file(s)" if bad else "all files match")
    return bad


@hydra.main(version_base="1.3", config_path="pkg://conf", config_name="dream")
@cli_entry("lucid-dream", exits=True, interrupted=INTERRUPTED)
def _dream_app(cfg: DictConfig) -> int:
    if cfg.verify:
        return EXIT_FAILED if verify_folder(cfg.verify) else 0
    spec = check_settings(cfg)  # done already when Hydra resolved its run dir, unless hydra.run.dir was set
    sources = video_sources(cfg.data)
    out = Path(HydraConfig.get().runtime.output_dir)
    plan = plan_dataset(sources, spec, out, chunk_size=cfg.chunk_size, overwrite=cfg.overwrite)
    if plan.pairs[0] == 0:
        manifests = finish(plan)
    else:
        # Dask's own INFO lines (workers starting, plugins) would bury the progress bar.
        logging.getLogger("distributed").setLevel(logging.WARNING)
        cluster = cluster_config(cfg)
        with open_client(cluster) as client:  # its worker processes ignore Ctrl-C
            log.info("dreaming %d video(s) into %s on %s", len(sources), out, client)
            try:
                manifests = run_plan(plan, client, retries=cfg.retries, progress=cfg.progress)
            except KeyboardInterrupt:
                # Stopped by the user: Dask's complaints about tasks cut short and connections closed under them
                # (warnings on the workers, CRITICAL lines with tracebacks from the scheduler) are noise.
                logging.disable(logging.CRITICAL)
                if cluster.kind == "local":  # our own workers, not a shared cluster's
                    with contextlib.suppress(Exception):
                        client.run(logging.disable, logging.CRITICAL)
                raise
    for manifest in manifests:
        counts = manifest.counts
        log.info("%s: %d pairs, %.1f MB", manifest.video, counts["pairs"], counts["bytes"] / 1e6)
    return 0


@cli_entry("lucid-dream", interrupted=INTERRUPTED)
def dream_main() -> int:
    """Entry point of ``lucid-dream``."""
    register_configs()
    with hydra_errors():
        _dream_app()
    return 0


def _setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")


@cli_entry("lucid-verify")
def verify_main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``lucid-verify``: exit status 1 when any file is missing or corrupt."""
    parser = argparse.ArgumentParser(
        prog="lucid-verify",
        description="Check every file of the dreamed dataset(s) under FOLDER against their manifests; "
        "name the missing or corrupt files.",
    )
    parser.add_argument("folder", type=Path, help="a video folder, an output folder, or a multirun folder")
    args = parser.parse_args(argv)
    _setup_logging()
    return EXIT_FAILED if verify_folder(args.folder) else 0


if __name__ == "__main__":
    sys.exit(dream_main())
