"""Marks → mask on one frame, without a model: the robot scribbles frame 0 of each DAVIS sequence, round after
round, and the frame is segmented from all its marks so far (the previous result as the current labels, as a session
does when a frame is corrected again); J after each round, per method, ``thin`` and ``still`` setting, and seconds
per call.

    python benchmarks/seeded_marks.py [--root ../shared/data/davis2016] [--rounds 5] [--frame 0] [--thin 0 12]
        [--still 0 0.2]

``--frame largest`` takes each sequence's frame where its objects are largest (the robot's first interaction);
``--still`` values above 0 give the first round the frame's motion apart from the camera (the smaller of its two
neighbours' residual DIS flow), as a session does with ``session.seeded.still``.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from foundation.davis import select_sequences
from foundation.io import read_frame, read_labels
from segmenters.evaluation.interactive import frame_scores, largest_area_frame, objects_area, robot_scribbles
from segmenters.evaluation.report import format_table
from segmenters.interactive.marks import seed_map
from segmenters.interactive.seeded import METHODS, SeededConfig, segment_from_marks
from segmenters.optical_flow import dis_flow, own_motion

SHARED_DAVIS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "davis2016"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=SHARED_DAVIS)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--frame", default="0", help="a frame index, or 'largest'")
    parser.add_argument("--thin", type=int, nargs="*", default=[0, SeededConfig().thin])
    parser.add_argument("--still", type=float, nargs="*", default=[SeededConfig().still])
    args = parser.parse_args()

    frames = []
    for sequence in select_sequences(args.root):
        truths = [read_labels(sequence.annotations[p.stem]) for p in sequence.frames]
        ids = sorted({int(i) for truth in truths for i in np.unique(truth) if 0 < i < 255})
        t = largest_area_frame([objects_area(x, ids) for x in truths]) if args.frame == "largest" else int(args.frame)
        image = read_frame(sequence.frames[t])
        motion = None
        if any(still > 0 for still in args.still):
            near = [read_frame(sequence.frames[o]) for o in (t - 1, t + 1) if 0 <= o < len(sequence.frames)]
            motion = own_motion([dis_flow(image, other) for other in near])
        frames.append((image, truths[t], ids, motion))
    rows = []
    for method in METHODS:
        for thin in args.thin:
            for still in args.still:
                cfg = replace(SeededConfig(method=method), thin=thin, still=still)
                scores, seconds = np.zeros((len(frames), args.rounds)), []
                for s, (image, truth, ids, motion) in enumerate(frames):
                    labels, scribbles = np.zeros(truth.shape, np.int32), []
                    for r in range(args.rounds):
                        scribbles += robot_scribbles(labels, truth, ids)
                        seeds = seed_map(truth.shape, scribbles)
                        started = time.perf_counter()
                        current = labels if r else None
                        labels = segment_from_marks(image, seeds, ids, cfg, current=current, own_motion=motion)
                        seconds.append(time.perf_counter() - started)
                        scores[s, r] = frame_scores(labels, truth, ids)[0].mean()
                means = scores.mean(axis=0)
                rows.append([method, str(thin), f"{still:g}", *(f"{m:.3f}" for m in means), f"{np.mean(seconds):.2f}"])
    rounds = [f"J after {r + 1}" for r in range(args.rounds)]
    print(format_table([["method", "thin px", "still px", *rounds, "s per call"], *rows]))


if __name__ == "__main__":
    main()
