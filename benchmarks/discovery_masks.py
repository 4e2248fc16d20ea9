"""The discovery's per-frame masks before tracking, against the ground truth: for each setting of
``tracker.discovery`` given, the J of the union of a frame's candidates (every ``--every``-th frame, at the analysis
size) per DAVIS sequence — how the motion masks and their snapping to the colours compare, apart from linking and
ranking. The motion is computed once per sequence and shared by the settings (they may change only what comes after
it: ``refine*``, ``min_area``, ``min_motion``, ``border_sigma``).

    python benchmarks/discovery_masks.py [--root ../shared/data/davis2016] [--every 3]
        [--settings "refine_rim=0,refine_core=4" "refine_rim=3,refine_core=12" "refine=false"]

Each setting is a comma-separated list of ``DiscoveryConfig`` fields; the empty string is the defaults.
"""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

import cv2
import numpy as np
from omegaconf import OmegaConf
from tqdm import tqdm

from foundation.davis import select_sequences
from foundation.io import VOID, read_labels
from foundation.settings import from_container
from segmenters.evaluation.metrics import jaccard
from segmenters.evaluation.report import format_table
from segmenters.interactive.frames import sequence_frames
from segmenters.unsupervised.discovery import DiscoveryConfig, analysis_size, frame_candidates, frame_motion

SHARED_DAVIS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "davis2016"
MOTION_FIELDS = {"max_side", "dis_preset", "stride", "homography_step", "ransac_threshold"}
"""Settings that change the motion itself: one motion per sequence is shared, so these may not differ."""


def parse_setting(text: str) -> DiscoveryConfig:
    """``"refine_rim=3,refine_core=12"`` → a :class:`DiscoveryConfig` with those fields set."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    values = OmegaConf.to_container(OmegaConf.from_dotlist(items))  # values parsed as YAML, as Hydra does
    names = {f.name for f in fields(DiscoveryConfig)}
    for name in values:
        if name not in names:
            raise SystemExit(f"--settings: {name!r} is not a DiscoveryConfig field (one of {', '.join(sorted(names))})")
        if name in MOTION_FIELDS:
            raise SystemExit(f"--settings: {name} changes the shared motion; run the benchmark once per value")
    return from_container(DiscoveryConfig, values, "discovery")  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=SHARED_DAVIS)
    parser.add_argument("--sequences", nargs="*", default=None, help="default: every sequence of the root")
    parser.add_argument("--every", type=int, default=3, help="score every this many frames (default: %(default)s)")
    parser.add_argument("--settings", nargs="*", default=["refine=false", "refine_rim=0,refine_core=4", ""])
    args = parser.parse_args()
    settings = [parse_setting(text) for text in args.settings]
    names = [text or "defaults" for text in args.settings]
    cv2.setNumThreads(1)

    rows, means = [], []
    for sequence in tqdm(select_sequences(args.root, args.sequences), desc="sequences", unit="sequence"):
        video = sequence_frames(sequence)
        size = analysis_size(video.shape, settings[0].max_side)
        scores: list[list[float]] = [[] for _ in settings]
        for seen in frame_motion(video, settings[0], size):
            if seen.t % args.every:
                continue
            labels = read_labels(sequence.annotation(seen.t))
            foreground = ((labels > 0) & (labels != VOID)).astype(np.uint8)
            truth = cv2.resize(foreground, size[::-1], interpolation=cv2.INTER_NEAREST) > 0
            for k, cfg in enumerate(settings):
                union = np.zeros(size, bool)
                for candidate in frame_candidates(seen.image, seen.motion, cfg):
                    union |= candidate.mask
                scores[k].append(float(jaccard(union, truth)))
        per_setting = [float(np.mean(s)) for s in scores]
        means.append(per_setting)
        rows.append([sequence.name, *(f"{j:.3f}" for j in per_setting)])
    rows.append(["mean", *(f"{j:.3f}" for j in np.mean(means, axis=0))])
    print(f"J of the union of each frame's candidates (one frame in {args.every}, at the analysis size):")
    print(format_table([["sequence", *names], *rows]))


if __name__ == "__main__":
    main()
