"""Milliseconds per dreamed pair, per stage, for the ``fast`` and ``paper`` presets, beside a floor.

The floor, measured in the same run on the same frame: read the JPEG, two ``cv2.remap`` of it, one full-frame alpha
composite, JPEG-encode two frames — the least any pair generator must do. Disk writes are excluded.

    python benchmarks/dream_speed.py [--image F --mask M] [--pairs 40]

Runs on one core (OpenCV single-threaded). Without ``--image``/``--mask`` it uses ../shared/samples/lions when
present, else the embedded sample's first frame (resized to 854x480).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from pathlib import Path

import cv2
import numpy as np

from dreaming.synthesis.config import preset
from dreaming.synthesis.dream import Scene, dream_pair
from foundation.io import read_annotated_frame
from foundation.timing import best_of

SHARED_LIONS = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "lions"

# Stage name -> the functions (module, name) whose cumulative time makes it up.
STAGES: dict[str, list[tuple[str, str]]] = {
    "sample parameters": [("sampling.py", "sample_params")],
    "illumination (HSV), background + frames": [("photometric.py", "apply_illumination")],
    "background warp": [("render.py", "warp_background")],
    "object layers (TPS + remap)": [("render.py", "render_layer")],
    "blend": [("render.py", "compose")],
    "previous-frame masks": [("render.py", "simulate_previous_labels")],
    "exact flows + validity": [("render.py", "layer_flow")],
}


def floor_ms(image_path: Path | None, image: np.ndarray, repeat: int = 30) -> float:
    """Read, two remaps, one composite, two JPEG encodes (ms per pair)."""
    height, width = image.shape[:2]
    map_x, map_y = np.meshgrid(np.arange(width, dtype=np.float32) + 0.3, np.arange(height, dtype=np.float32) + 0.7)
    alpha = np.zeros((height, width, 1), np.float32)
    alpha[height // 4 : 3 * height // 4, width // 4 : 3 * width // 4] = 1.0
    encoded = cv2.imencode(".jpg", image)[1]

    def once() -> None:
        frame = cv2.imread(str(image_path)) if image_path else cv2.imdecode(encoded, cv2.IMREAD_COLOR)
        a = cv2.remap(frame, map_x, map_y, cv2.INTER_LINEAR)
        b = cv2.remap(frame, map_y * 0 + map_x, map_y, cv2.INTER_LINEAR)
        composite = (a * (1 - alpha) + b * alpha).astype(np.uint8)
        cv2.imencode(".jpg", composite, [cv2.IMWRITE_JPEG_QUALITY, 95])
        cv2.imencode(".jpg", b, [cv2.IMWRITE_JPEG_QUALITY, 95])

    return 1000 * best_of(once, repeat)


def stage_times(stats: pstats.Stats, pairs: int) -> dict[str, float]:
    cumulative: dict[tuple[str, str], float] = {}
    for (filename, _, name), (_, _, _, ct, _) in stats.stats.items():  # type: ignore[attr-defined]
        cumulative[(Path(filename).name, name)] = cumulative.get((Path(filename).name, name), 0.0) + ct
    out = {}
    for stage, keys in STAGES.items():
        out[stage] = 1000 * sum(cumulative.get(k, 0.0) for k in keys) / pairs
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image", type=Path)
    parser.add_argument("--mask", type=Path)
    parser.add_argument("--pairs", type=int, default=40)
    args = parser.parse_args()
    cv2.setNumThreads(1)

    if args.image and args.mask:
        image_path, (image, labels) = args.image, read_annotated_frame(args.image, args.mask)
    elif SHARED_LIONS.exists():
        image_path = SHARED_LIONS / "00000.jpg"
        image, labels = read_annotated_frame(image_path, SHARED_LIONS / "00000.png")
    else:
        from dreaming.synthesis.samples import make_clip

        clip = make_clip()
        image_path = None
        image = cv2.resize(clip.frames[0], (854, 480), interpolation=cv2.INTER_LINEAR)
        labels = cv2.resize(clip.labels[0], (854, 480), interpolation=cv2.INTER_NEAREST)
    height, width = labels.shape
    floor = floor_ms(image_path, image)
    print(f"frame {width}x{height}, {len(np.unique(labels)) - 1} objects, {args.pairs} pairs per preset, 1 core")
    print(f"floor (read + 2 remaps + composite + 2 JPEG encodes): {floor:.1f} ms/pair\n")

    rows = {}
    totals = {}
    inpaint = {}
    for name in ("fast", "paper"):
        cfg = preset(name)
        start = time.perf_counter()
        scene = Scene.from_frame(image, labels, cfg.inpaint)
        inpaint[name] = time.perf_counter() - start
        dream_pair(scene, np.random.default_rng(0), cfg)  # warm-up
        profiler = cProfile.Profile()
        seeds = np.random.SeedSequence(1).spawn(args.pairs)
        start = time.perf_counter()
        profiler.enable()
        for seed in seeds:
            dream_pair(scene, np.random.default_rng(seed), cfg)
        profiler.disable()
        profiled = 1000 * (time.perf_counter() - start) / args.pairs
        start = time.perf_counter()
        for seed in seeds:
            dream_pair(scene, np.random.default_rng(seed), cfg)
        totals[name] = 1000 * (time.perf_counter() - start) / args.pairs
        stages = stage_times(pstats.Stats(profiler), args.pairs)
        # Profiling inflates times; scale the stages to the unprofiled total.
        rows[name] = {k: v * totals[name] / profiled for k, v in stages.items()}

    print("| stage (ms/pair) | fast | paper |\n|---|---:|---:|")
    for stage in STAGES:
        print(f"| {stage} | {rows['fast'][stage]:.1f} | {rows['paper'][stage]:.1f} |")
    print(f"| **total per pair** | **{totals['fast']:.1f}** | **{totals['paper']:.1f}** |")
    print(f"| × floor ({floor:.1f} ms) | {totals['fast'] / floor:.1f}× | {totals['paper'] / floor:.1f}× |")
    print(f"| background inpainting, once per frame (s) | {inpaint['fast']:.2f} | {inpaint['paper']:.2f} |")


if __name__ == "__main__":
    main()
