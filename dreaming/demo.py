"""``python -m dreaming.demo`` (``make demo``): dream from the embedded sample clip, no dataset needed.

Builds the sample clip (:mod:`dreaming.synthesis.samples`), prepares its first annotated frame, dreams a few frame
pairs with the ``fast`` preset and writes their contact sheet to ``outputs/demo/contact_sheet.png``. With ``--docs``
it also writes a small copy (under 300 KB) to ``docs/contact_sheet.png`` for the README.
"""

from __future__ import annotations

import argparse
import io
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from dreaming.preview import dream_pairs, sheet_title
from dreaming.synthesis.config import preset
from dreaming.synthesis.dream import Scene
from dreaming.synthesis.samples import make_clip
from dreaming.synthesis.viz import contact_sheet, save_png
from foundation.errors import InputError, cli_entry
from foundation.io import atomic_path
from foundation.timing import timed

log = logging.getLogger("dreaming.demo")

PRESET = "fast"
DOCS_MAX_BYTES = 300_000
DOCS_PAIRS = 4
"""The README copy shows the first pairs only, so that it stays legible at a small file size."""


@contextmanager
def _stage(name: str) -> Iterator[None]:
    times: dict[str, float] = {}
    with timed(times, name):
        yield
    log.info("%-34s %6.2f s", name, times[name])


def _png_bytes(image: np.ndarray) -> bytes:
    """A 256-colour palette PNG of an RGB image, Floyd-Steinberg dithered so that flow gradients do not band."""
    rgb = Image.fromarray(image)
    palette = rgb.quantize(colors=256, method=Image.Quantize.FASTOCTREE)
    buffer = io.BytesIO()
    rgb.quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def write_small_png(path: Path, image: np.ndarray, max_bytes: int) -> tuple[int, int, int]:
    """Write ``image`` as a palette PNG no larger than ``max_bytes``, shrinking it by steps of 15 % until it fits.

    Returns:
        ``(width, height, bytes)`` of what was written.
    """
    while True:
        data = _png_bytes(image)
        if len(data) <= max_bytes or min(image.shape[:2]) < 64:
            break
        size = (round(image.shape[1] * 0.85), round(image.shape[0] * 0.85))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    if len(data) > max_bytes:
        raise InputError(path, f"cannot fit the picture in {max_bytes} bytes", "a larger size limit")
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return image.shape[1], image.shape[0], len(data)


def run(out_dir: Path, docs: Path | None, num_pairs: int, seed: int) -> Path:
    """Dream from the sample clip and write the contact sheet(s); return the path of the full sheet."""
    cfg = preset(PRESET)
    with _stage("built the embedded sample clip"):
        clip = make_clip(seed=seed)
    with _stage(f"prepared the scene ({cfg.inpaint.method})"):
        scene = Scene.from_frame(clip.frames[0], clip.labels[0], cfg.inpaint)
    with _stage(f"dreamed {num_pairs} pairs ({PRESET} preset)"):
        pairs = dream_pairs(scene, cfg, num_pairs, seed, clip.name)
    title = sheet_title(PRESET, cfg, seed, f"embedded sample '{clip.name}', frame 0")
    sheet_path = out_dir / "contact_sheet.png"
    with _stage("wrote the contact sheet"):
        save_png(sheet_path, contact_sheet(pairs, title=title))
    if docs is not None:
        with _stage("wrote the README copy"):
            width, height, size = write_small_png(
                docs, contact_sheet(pairs[:DOCS_PAIRS], cell_width=240, title=title), DOCS_MAX_BYTES
            )
        log.info("README copy: %s (%dx%d, %d KB)", docs, width, height, size // 1000)
    return sheet_path


@cli_entry("demo")
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dreaming.demo",
        description="Dream frame pairs from the embedded sample clip (no dataset needed) and save a contact sheet.",
    )
    parser.add_argument(
        "--out-dir", type=Path, default=Path("outputs/demo"), help="output folder (default: %(default)s)"
    )
    parser.add_argument("--pairs", type=int, default=8, help="number of pairs to dream (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the clip and the dreams (default: %(default)s)")
    parser.add_argument(
        "--docs",
        action="store_true",
        help=f"also write a copy under {DOCS_MAX_BYTES // 1000} KB to docs/contact_sheet.png for the README",
    )
    args = parser.parse_args(argv)
    if args.pairs < 1:
        parser.error(f"--pairs must be at least 1, got {args.pairs}")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    sheet = run(args.out_dir, Path("docs/contact_sheet.png") if args.docs else None, args.pairs, args.seed)
    print(f"contact sheet: {sheet}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
