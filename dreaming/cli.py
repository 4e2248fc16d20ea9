"""Command-line tools of the dreaming pipeline.

* ``lucid-dream`` (Hydra app, ``conf/dream.yaml``): dream per-video training sets on Dask workers, or
  ``verify=<folder>`` to check them.
* ``lucid-verify <folder>``: check every file of the dataset(s) under a folder against their manifests.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from dreaming.errors import InputError
from dreaming.hydra_conf import cluster_config, dataset_spec, register_configs, video_sources
from dreaming.manifest import find_videos, verify_video
from dreaming.pipeline import finish, open_client, plan_dataset, run_plan

log = logging.getLogger(__name__)

EXIT_INPUT = 2
"""Exit status for bad input (a file, folder or setting), as the other Lucid tools."""
EXIT_FAILED = 1
"""Exit status for a failed write or a failed verification."""


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


def _dream(cfg: DictConfig) -> int:
    if cfg.verify:
        return EXIT_FAILED if verify_folder(cfg.verify) else 0
    spec = dataset_spec(cfg)
    sources = video_sources(cfg.data)
    out = Path(HydraConfig.get().runtime.output_dir)
    plan = plan_dataset(sources, spec, out, chunk_size=cfg.chunk_size, overwrite=cfg.overwrite)
    if plan.pairs[0] == 0:
        manifests = finish(plan)
    else:
        # Dask's own INFO lines (workers starting, plugins) would bury the progress bar.
        logging.getLogger("distributed").setLevel(logging.WARNING)
        with open_client(cluster_config(cfg)) as client:
            log.info("dreaming %d video(s) into %s on %s", len(sources), out, client)
            manifests = run_plan(plan, client, retries=cfg.retries, progress=cfg.progress)
    for manifest in manifests:
        counts = manifest.counts
        log.info("%s: %d pairs, %.1f MB", manifest.video, counts["pairs"], counts["bytes"] / 1e6)
    return 0


@hydra.main(version_base="1.3", config_path="pkg://conf", config_name="dream")
def _dream_app(cfg: DictConfig) -> None:
    try:
        status = _dream(cfg)
    except InputError as error:
        log.error("%s", error)
        raise SystemExit(EXIT_INPUT) from None
    except OSError as error:
        log.error("%s", error)
        raise SystemExit(EXIT_FAILED) from None
    if status:
        raise SystemExit(status)


def dream_main() -> None:
    """Entry point of ``lucid-dream``."""
    register_configs()
    _dream_app()


def _setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")


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
    try:
        return EXIT_FAILED if verify_folder(args.folder) else 0
    except InputError as error:
        log.error("%s", error)
        return EXIT_INPUT


if __name__ == "__main__":
    dream_main()
