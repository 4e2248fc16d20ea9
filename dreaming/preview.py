"""``lucid-preview``: dream a few frame pairs from one annotated frame and save them as a contact sheet.

Example::

    lucid-preview frame.jpg mask.png preview.png --pairs 6 --seed 0 --preset fast

Pair ``i`` of ``--seed S`` is sample ``i`` of ``lucid-dream data=image seed=S`` on the same image and mask (the seed
rule of :mod:`dreaming.synthesis.seeds`).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from dreaming import checks
from dreaming.synthesis.config import PRESETS, DreamConfig, preset
from dreaming.synthesis.dream import DreamPair, Scene, dream_pair
from dreaming.synthesis.seeds import sample_rng
from dreaming.synthesis.viz import contact_sheet, save_png
from foundation.errors import InputError, cli_entry
from foundation.io import read_annotated_frame
from foundation.timing import timed

log = logging.getLogger("dreaming.preview")


def dream_pairs(scene: Scene, cfg: DreamConfig, num_pairs: int, seed: int, video: str) -> list[DreamPair]:
    """Dream ``num_pairs`` pairs of the annotated frame of the one-frame video ``video``: pair ``i`` is sample ``i``
    of its frame 0 (:func:`~dreaming.synthesis.seeds.sample_rng`), as ``lucid-dream data=image`` dreams it.

    Pair ``i`` is therefore the same whatever ``num_pairs`` is, and any pair can be re-dreamed alone.
    """
    return [
        dream_pair(scene, sample_rng(seed, video, 0, index), cfg)
        for index in tqdm(range(num_pairs), desc="dreaming pairs", unit="pair", leave=False)
    ]


def sheet_title(cfg_name: str, cfg: DreamConfig, seed: int, source: str) -> str:
    """The header line of a contact sheet: where the dreams come from and how they were made."""
    return f"{source}: preset {cfg_name} (inpaint {cfg.inpaint.method}, blend {cfg.blend.method}), seed {seed}"


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lucid-preview",
        description=(
            "Dream training frame pairs from ONE annotated frame (Lucid Data Dreaming) and save a contact sheet: "
            "one row per pair with frame a and frame b (masks tinted, simulated previous-frame masks outlined in "
            "white) and the exact optical flows a->b and b->a (Middlebury colours; black where a pixel is "
            "occluded or leaves the frame)."
        ),
        epilog="example: lucid-preview frame.jpg mask.png preview.png --pairs 6 --preset paper --ids 1 2",
    )
    parser.add_argument("image", type=Path, help="the annotated frame (JPEG or PNG)")
    parser.add_argument(
        "mask",
        type=Path,
        help="its mask: a palette PNG of object ids (DAVIS-2017 style), a binary 0/255 PNG, or an RGB PNG whose "
        "colours are DAVIS palette colours (one object each)",
    )
    parser.add_argument("out", type=Path, metavar="OUT.png", help="where to write the contact sheet (PNG)")
    parser.add_argument("--pairs", type=_positive, default=6, help="number of pairs to dream (default: %(default)s)")
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="random seed; the same seed gives the same sheet, and pair i is sample i of lucid-dream data=image "
        "seed=SEED (default: %(default)s)",
    )
    parser.add_argument(
        "--name",
        help="the video's name, which seeds its samples as lucid-dream's data.name does (default: the image's stem)",
    )
    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default="fast",
        help="dream settings: 'paper' blends with Poisson cloning as in the paper, 'fast' with a feathered alpha "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--ids", type=int, nargs="+", metavar="ID", help="dream only these object ids (default: every object)"
    )
    parser.add_argument(
        "--cell-width",
        type=_positive,
        default=320,
        help="width of each picture in the sheet, px (default: %(default)s)",
    )
    return parser


@cli_entry("lucid-preview")
def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.out.suffix.lower() != ".png":
        raise InputError(args.out, "the contact sheet is written as PNG", "an output name ending in .png")
    checks.output_file(args.out, "the contact sheet")
    checks.at_least(args.seed, 0, "--seed", integer=True)
    cfg = preset(args.preset)
    image, labels = read_annotated_frame(args.image, args.mask, args.ids)
    times: dict[str, float] = {}
    with timed(times, "scene"):
        scene = Scene.from_frame(image, labels, cfg.inpaint)
    log.info("prepared the scene (%s inpainting) in %.1f s", cfg.inpaint.method, times["scene"])
    with timed(times, "dream"):
        pairs = dream_pairs(scene, cfg, args.pairs, args.seed, args.name or args.image.stem)
    log.info("dreamed %d pairs in %.1f s", len(pairs), times["dream"])
    title = sheet_title(args.preset, cfg, args.seed, args.image.name)
    save_png(args.out, contact_sheet(pairs, cell_width=args.cell_width, title=title))
    log.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
