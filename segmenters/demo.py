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

from hydra import compose, initialize_config_module

from dreaming.synthesis.samples import make_clip, write_davis
from foundation.errors import InputError
from segmenters import cli_track

CLIP = {"num_frames": 24, "size": (240, 136), "num_objects": 3, "seed": 0}


def run(out: Path) -> None:
    root = write_davis(make_clip(**CLIP), out / "davis")
    for tracker in ("flow", "lucid"):
        overrides = [f"data.root={root}", f"out={out / tracker}", f"tracker={tracker}", "profile=demo"]
        if tracker == "flow":
            overrides.append("overlays.video=false")
        with initialize_config_module(config_module="conf", version_base="1.3"):
            cli_track.run(compose("track", overrides=overrides))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m segmenters.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("outputs/demo/tracking"), help="default: %(default)s")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        run(args.out.resolve())
    except InputError as error:
        print(f"demo: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
