"""Snapping a flow propagation to each frame: frame 0's true labels carried along DIS optical flow through each DAVIS
sequence, plain and snapped at every step (:mod:`segmenters.interactive.snapping`), in the same run: mean J, F and
J&F over the later frames, and seconds per frame of the flow step and of the snapping (one process, one core).

    OPENBLAS_NUM_THREADS=1 python benchmarks/snap_flow.py [--root ../shared/data/davis2016] [--sequences bear boat]
        [--radius 0.007 0.012]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from foundation.davis import select_sequences
from foundation.io import object_ids, read_frame, read_labels
from segmenters.baselines.flow_warp import propagate_labels
from segmenters.evaluation.interactive import frame_scores
from segmenters.evaluation.report import format_table
from segmenters.interactive.snapping import SnapConfig, snap_labels
from segmenters.optical_flow import dis_flow

SHARED_DAVIS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "davis2016"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=SHARED_DAVIS)
    parser.add_argument("--sequences", nargs="*", default=None, help="default: every sequence of the root")
    parser.add_argument("--radius", type=float, nargs="*", default=[SnapConfig().radius], help="snapped settings")
    args = parser.parse_args()

    radii = [0.0, *args.radius]
    scores = {radius: [] for radius in radii}  # per sequence: (J, F)
    seconds = {radius: [] for radius in radii}  # per frame: the flow step, or the snapping
    for sequence in select_sequences(args.root, args.sequences):
        frames = [read_frame(path) for path in sequence.frames]
        truth = [read_labels(sequence.annotation(t)) for t in range(len(frames))]
        ids = object_ids(truth[0])
        flows = []
        for t in range(1, len(frames)):
            started = time.perf_counter()
            flows.append(dis_flow(frames[t], frames[t - 1]))
            seconds[0.0].append(time.perf_counter() - started)
        for radius in radii:
            cfg = SnapConfig(radius=radius)
            labels, j, f = truth[0].astype(np.int32), [], []
            for t in range(1, len(frames)):
                labels = propagate_labels(labels, flows[t - 1])
                if radius > 0:
                    started = time.perf_counter()
                    labels = snap_labels(frames[t], labels, cfg)
                    seconds[radius].append(time.perf_counter() - started)
                frame_j, frame_f = frame_scores(labels, truth[t], ids)
                j.append(frame_j.mean())
                f.append(frame_f.mean())
            scores[radius].append((float(np.mean(j)), float(np.mean(f))))
            print(f"{sequence.name:18s} radius {radius:<6g} J&F {np.mean(j) / 2 + np.mean(f) / 2:.3f}", flush=True)
    rows = []
    for radius in radii:
        j, f = np.mean(scores[radius], axis=0)
        what = "plain (the flow step's seconds)" if radius == 0 else f"snapped, radius {radius:g}"
        rows.append([what, f"{j:.3f}", f"{f:.3f}", f"{(j + f) / 2:.3f}", f"{np.mean(seconds[radius]):.3f}"])
    print()
    print(format_table([["propagation of frame 0", "J", "F", "J&F", "s per frame"], *rows]))


if __name__ == "__main__":
    main()
