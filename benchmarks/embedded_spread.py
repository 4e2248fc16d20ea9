"""Spread of LucidTracker's J&F on the embedded clip over seeds and precisions, beside flow propagation measured in
the same run: the noise a test of learning on that clip has to clear.

    python benchmarks/embedded_spread.py [--seeds 0 1 2 3 4] [--precisions fp32 bf16] [--workers 2]
        [key=value ...]

Trailing ``key=value`` arguments override the tracker's settings (``train.lr=0.001``, ``train.steps=600``); the
defaults are ``make demo``'s (``profile=demo``) on the CPU, as in the learning test of
``tests/segmenters/lucid/test_tracker.py``. Each run is its own
process on one torch thread, ``--workers`` at a time.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import torch
from omegaconf import OmegaConf

from dreaming.synthesis.samples import make_clip
from foundation.settings import parse_with_overrides
from segmenters.baselines import FlowTracker
from segmenters.demo import CLIP, lucid_settings
from segmenters.evaluation.metrics import boundary_f, jaccard
from segmenters.lucid.tracker import LucidTracker


def clip_j_and_f(predictions: list[np.ndarray], truth: list[np.ndarray]) -> float:
    ids = [int(i) for i in np.unique(truth[0]) if i != 0]
    scores = [
        (float(jaccard(p == i, t == i)) + float(boundary_f(p == i, t == i))) / 2
        for p, t in zip(predictions[1:], truth[1:], strict=True)
        for i in ids
    ]
    return float(np.mean(scores))


def run(settings: dict[str, Any]) -> tuple[float, float]:
    torch.set_num_threads(1)
    clip = make_clip(**CLIP)
    start = time.perf_counter()
    labels = list(LucidTracker(**settings).track(clip.frames, clip.labels[0], name="clip"))
    return clip_j_and_f(labels, clip.labels), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2, 3, 4])
    parser.add_argument("--precisions", nargs="*", default=["fp32", "bf16"])
    parser.add_argument("--workers", type=int, default=2)
    args, overrides = parse_with_overrides(parser)
    learning = lucid_settings(overrides=["tracker.device=cpu", "tracker.progress=false"])
    base = OmegaConf.merge(OmegaConf.create(learning), OmegaConf.from_dotlist(overrides))
    base = OmegaConf.to_container(base)
    clip = make_clip(**CLIP)
    flow = clip_j_and_f(list(FlowTracker().track(clip.frames, clip.labels[0])), clip.labels)
    jobs = list(itertools.product(args.precisions, args.seeds))
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(run, [{**base, "seed": s, "precision": p} for p, s in jobs]))
    print(f"settings: {json.dumps(overrides)}")
    print(f"flow propagation J&F {flow:.3f}")
    print("| precision | " + " | ".join(f"seed {s}" for s in args.seeds) + " | mean ± std | worst − flow |")
    print("|---|" + "---:|" * (len(args.seeds) + 2))
    for precision in args.precisions:
        scores = [score for (p, _), (score, _) in zip(jobs, results, strict=True) if p == precision]
        std = statistics.stdev(scores) if len(scores) > 1 else 0.0
        cells = " | ".join(f"{s:.3f}" for s in scores)
        print(f"| {precision} | {cells} | {np.mean(scores):.3f} ± {std:.3f} | {min(scores) - flow:+.3f} |")
    print(f"seconds per run: {np.mean([t for _, t in results]):.0f}")


if __name__ == "__main__":
    main()
