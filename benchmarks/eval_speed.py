"""Seconds to evaluate the DAVIS development sequences, beside the floor of just reading their PNGs.

The floor, measured in the same run: decode every ground-truth and result PNG that the evaluation reads, in one
thread — no evaluation can be faster without decoding less. Results are the ``copy`` reference tracker's, written to
a temporary folder first (not timed), unless ``--results`` points at a folder.

    python benchmarks/eval_speed.py [--root ../shared/data/davis2016] [--results FOLDER] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from foundation.davis import select_sequences
from foundation.io import read_labels
from foundation.timing import best_of
from segmenters.baselines import CopyTracker
from segmenters.evaluation import evaluate, scored_frames
from segmenters.tracking import track_sequences

SHARED_DAVIS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "davis2016"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=SHARED_DAVIS)
    parser.add_argument("--results", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    sequences = select_sequences(args.root)
    with tempfile.TemporaryDirectory() as scratch:
        results = args.results
        if results is None:
            results = Path(scratch)
            track_sequences(CopyTracker(), sequences, results, progress=False)
        pngs = [
            path
            for seq in sequences
            for stem in scored_frames(seq)
            for path in (seq.annotations[stem], results / seq.name / f"{stem}.png")
        ]

        def read_all() -> None:
            for path in pngs:
                read_labels(path)

        rows = [("floor: decode all PNGs, 1 thread", best_of(read_all, args.repeat))]
        for workers in (1, 2):
            rows.append(
                (
                    f"lucid-eval, {workers} worker(s)",
                    best_of(lambda w=workers: evaluate(sequences, results, workers=w, progress=False), args.repeat),
                )
            )

    frames = len(pngs) // 2
    print(f"{len(sequences)} sequences, {frames} scored frames, best of {args.repeat}")
    print(f"{'':36s} {'seconds':>8s} {'ms/frame':>9s} {'x floor':>8s}")
    for name, seconds in rows:
        print(f"{name:36s} {seconds:8.2f} {1000 * seconds / frames:9.2f} {seconds / rows[0][1]:8.2f}")


if __name__ == "__main__":
    main()
