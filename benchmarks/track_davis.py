"""LucidTracker on DAVIS sequences (dream → train → track per sequence, Dask-parallel), beside the ``copy`` and
``flow`` reference trackers measured in the same run: per-sequence J&F, J, F and the seconds of each stage.

    python benchmarks/track_davis.py [--root ../shared/data/davis2016] [--sequences bear kite-walk]
        [--profile cpu] [--workers 2] [--out outputs/track_davis] [--overlays bear] [tracker.flow=estimated ...]

Trailing arguments are Hydra overrides of ``conf/track.yaml`` (``tracker.*`` for the Lucid tracker). With
``--workers N`` sequences run N at a time, each in its own process on one torch thread.
"""

from __future__ import annotations

import argparse
import csv
import io
import time
from pathlib import Path
from typing import Any

import cv2
from distributed import Client, LocalCluster
from hydra import compose, initialize_config_module
from hydra.utils import instantiate
from omegaconf import OmegaConf

from dreaming.davis import load_sequence
from dreaming.io import atomic_path
from segmenters.baselines import CopyTracker, FlowTracker
from segmenters.evaluation import evaluate, load_sequences
from segmenters.evaluation.report import format_table
from segmenters.tracking import track_sequence
from segmenters.visualize import OverlayOptions, write_sequence_overlays

SHARED_DAVIS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "davis2016"


def lucid_sequence(tracker_cfg: dict[str, Any], root: str, name: str, out: str) -> dict[str, float]:
    """Dream, train and track one sequence in a worker; its stage times and wall seconds."""
    cv2.setNumThreads(1)  # parallelism comes from the worker processes
    started = time.perf_counter()
    tracker = instantiate(OmegaConf.create(tracker_cfg))
    track_sequence(tracker, load_sequence(root, name), out, progress=False)
    return {**tracker.stage_times[name], "wall": time.perf_counter() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=SHARED_DAVIS)
    parser.add_argument("--sequences", nargs="*", default=None, help="default: every sequence of the root")
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--workers", type=int, default=2, help="sequences tracked at once (processes)")
    parser.add_argument("--out", type=Path, default=Path("outputs/track_davis"))
    parser.add_argument("--overlays", nargs="*", default=[], help="sequences to write overlay videos of")
    args, overrides = parser.parse_known_args()

    sequences = load_sequences(args.root, args.sequences)
    out = args.out.resolve()
    threads = ["tracker.threads=1"] if args.workers > 1 else []
    with initialize_config_module(config_module="conf", version_base="1.3"):
        cfg = compose(
            "track",
            overrides=[f"data.root={args.root}", f"out={out}", "tracker=lucid", f"profile={args.profile}", *threads]
            + [f"tracker.{o}" if not o.startswith(("tracker.", "profile.")) else o for o in overrides],
        )
    tracker_cfg = OmegaConf.to_container(cfg.tracker, resolve=True)
    tracker_cfg.update(report=None, progress=False)
    (out / "config").mkdir(parents=True, exist_ok=True)
    (out / "config" / "tracker.yaml").write_text(OmegaConf.to_yaml(tracker_cfg))

    lucid_out = out / "lucid"
    started = time.perf_counter()
    with (
        LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        futures = {
            seq.name: client.submit(lucid_sequence, tracker_cfg, str(args.root), seq.name, str(lucid_out), pure=False)
            for seq in sequences
        }
        times = {name: future.result() for name, future in futures.items()}
    lucid_wall = time.perf_counter() - started

    reference_times = {}
    for name, tracker in (("copy", CopyTracker()), ("flow", FlowTracker())):
        started = time.perf_counter()
        for seq in sequences:
            track_sequence(tracker, seq, out / name, progress=False)
        reference_times[name] = time.perf_counter() - started

    scores = {
        name: {s.name: s for s in evaluate(sequences, out / name, workers=2, progress=False).sequences}
        for name in ("lucid", "copy", "flow")
    }

    def jf(name: str, seq: str) -> tuple[float, float, float]:
        s = scores[name][seq]
        return (s.j.mean() + s.f.mean()) / 2, s.j.mean(), s.f.mean()

    header = ["sequence", "J&F", "J", "F", "dream s", "train s", "track s", "total s", "copy J&F", "flow J&F"]
    rows = []
    for seq in sequences:
        t = times[seq.name]
        total = t["dream"] + t["train"] + t["track"]
        rows.append(
            [seq.name, *(f"{v:.3f}" for v in jf("lucid", seq.name))]
            + [f"{t[s]:.0f}" for s in ("dream", "train", "track")]
            + [f"{total:.0f}", f"{jf('copy', seq.name)[0]:.3f}", f"{jf('flow', seq.name)[0]:.3f}"]
        )
    mean = [sum(float(r[i]) for r in rows) / len(rows) for i in range(1, len(header))]
    rows.append(
        ["mean", *(f"{m:.3f}" for m in mean[:3]), *(f"{m:.0f}" for m in mean[3:7]), *(f"{m:.3f}" for m in mean[7:])]
    )
    print(format_table([header, *rows]))
    print(
        f"lucid wall {lucid_wall:.0f} s for {len(sequences)} sequences on {args.workers} worker(s) "
        f"({lucid_wall / len(sequences):.0f} s per sequence); copy {reference_times['copy']:.0f} s, "
        f"flow {reference_times['flow']:.0f} s"
    )
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    with atomic_path(out / "benchmark.csv") as tmp:
        tmp.write_text(buffer.getvalue())
    options = OverlayOptions(video=True, gif=False, strip=True, side_by_side=True)
    for seq in sequences:
        if seq.name in args.overlays:
            for path in write_sequence_overlays(seq, lucid_out, out / "overlays", options):
                print(f"wrote {path}")


if __name__ == "__main__":
    main()
