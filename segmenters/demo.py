"""``python -m segmenters.demo`` (part of ``make demo``): LucidTracker end to end on the embedded sample clip.

Writes the clip in DAVIS layout to ``<out>/davis``, then runs ``lucid-track tracker=lucid profile=demo`` on it:
dream from frame 0, train, track the 24 frames, evaluate against the clip's exact masks and print the J&F table,
beside the ``flow`` reference tracker's. Results, overlays and stage times go to ``<out>/lucid``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

from dreaming.synthesis.samples import make_clip, write_davis
from foundation.errors import cli_entry
from segmenters import cli_track

CLIP = {"num_frames": 24, "size": (240, 136), "num_objects": 3, "seed": 0}
"""The embedded clip of the demo (:func:`~dreaming.synthesis.samples.make_clip` arguments)."""


def lucid_settings(profile: str = "demo", overrides: Sequence[str] = ()) -> dict[str, Any]:
    """The keyword arguments of :class:`~segmenters.lucid.LucidTracker` that ``lucid-track tracker=lucid
    profile=<profile>`` composes, without checkpoints; ``overrides`` as on the command line (``tracker.seed=1``)."""
    fixed = ["tracker=lucid", f"profile={profile}", "out=.", "tracker.checkpoints=null", *overrides]
    with initialize_config_module(config_module="conf", version_base="1.3"):
        settings = OmegaConf.to_container(compose("track", overrides=fixed).tracker, resolve=True)
    assert isinstance(settings, dict)
    settings.pop("_target_")
    return settings


def run(out: Path) -> None:
    root = write_davis(make_clip(**CLIP), out / "davis")
    for tracker in ("flow", "lucid"):
        overrides = [f"data.root={root}", f"out={out / tracker}", f"tracker={tracker}", "profile=demo"]
        if tracker == "flow":
            overrides.append("overlays.video=false")
        with initialize_config_module(config_module="conf", version_base="1.3"):
            cli_track.run(compose("track", overrides=overrides))


@cli_entry("demo")
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m segmenters.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("outputs/demo/tracking"), help="default: %(default)s")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    run(args.out.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
