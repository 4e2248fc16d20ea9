"""Marks → mask on one frame, without a model: the robot scribbles frame 0 of each DAVIS sequence, round after
round, and the frame is segmented from all its marks so far (the previous result as the current labels, as a session
does when a frame is corrected again); J after each round, per method and ``thin`` setting, and seconds per call.

    python benchmarks/seeded_marks.py [--root ../shared/data/davis2016] [--rounds 5] [--frame 0] [--thin 0 12]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from foundation.davis import select_sequences
from foundation.io import read_frame, read_labels
from segmenters.evaluation.interactive import frame_scores, robot_scribbles
from segmenters.evaluation.report import format_table
from segmenters.interactive.marks import seed_map
from segmenters.interactive.seeded import METHODS, SeededConfig, segment_from_marks

SHARED_DAVIS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "davis2016"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=SHARED_DAVIS)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--frame", type=int, default=0)
    parser.add_argument("--thin", type=int, nargs="*", default=[0, SeededConfig().thin])
    args = parser.parse_args()

    frames = []
    for sequence in select_sequences(args.root):
        path = sequence.frames[args.frame]
        truth = read_labels(sequence.annotations[path.stem])
        frames.append((read_frame(path), truth, sorted(int(i) for i in np.unique(truth) if 0 < i < 255)))
    rows = []
    for method in METHODS:
        for thin in args.thin:
            cfg = replace(SeededConfig(method=method), thin=thin)
            scores, seconds = np.zeros((len(frames), args.rounds)), []
            for s, (image, truth, ids) in enumerate(frames):
                labels, scribbles = np.zeros(truth.shape, np.int32), []
                for r in range(args.rounds):
                    scribbles += robot_scribbles(labels, truth, ids)
                    seeds = seed_map(truth.shape, scribbles)
                    started = time.perf_counter()
                    labels = segment_from_marks(image, seeds, ids, cfg, current=labels if r else None)
                    seconds.append(time.perf_counter() - started)
                    scores[s, r] = frame_scores(labels, truth, ids)[0].mean()
            means = scores.mean(axis=0)
            rows.append([method, str(thin), *(f"{m:.3f}" for m in means), f"{np.mean(seconds):.2f}"])
    rounds = [f"J after {r + 1}" for r in range(args.rounds)]
    print(format_table([["method", "thin px", *rounds, "s per call"], *rows]))


if __name__ == "__main__":
    main()
