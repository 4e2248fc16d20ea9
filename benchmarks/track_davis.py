"""LucidTracker on DAVIS sequences (dream → train → tune → track per sequence, Dask-parallel), beside the ``copy``
and ``flow`` reference trackers measured in the same run: per-sequence J&F, J, F and the seconds of each stage.

    python benchmarks/track_davis.py [--root ../shared/data/davis2016] [--sequences bear kite-walk]
        [--profile cpu] [--workers 2] [--out outputs/track_davis] [--overlays bear] [--untuned]
        [--print-config] [tracker.flow=estimated ...]

Trailing arguments are Hydra overrides of ``conf/track.yaml`` (``tracker.*`` for the Lucid tracker). Sequences run
``--workers`` at a time, each in its own process on one torch thread. ``--untuned`` also tracks with the
post-processing as configured (reusing the trained networks), to show what the tuning on held-out dreams gains.
"""

from __future__ import annotations

import argparse
import csv
import io
import time
from pathlib import Path

from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

from foundation.cluster import ClusterConfig, open_client
from foundation.davis import select_sequences
from foundation.io import atomic_path
from foundation.settings import parse_with_overrides
from segmenters.baselines import CopyTracker, FlowTracker
from segmenters.evaluation import evaluate
from segmenters.evaluation.report import format_table
from segmenters.hydra_conf import register_configs
from segmenters.tracking import STAGES, track_sequences, track_sequences_on_cluster, write_stage_times
from segmenters.visualize import OverlayOptions, write_sequence_overlays

SHARED_DAVIS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "davis2016"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=SHARED_DAVIS)
    parser.add_argument("--sequences", nargs="*", default=None, help="default: every sequence of the root")
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--workers", type=int, default=2, help="sequences tracked at once (processes)")
    parser.add_argument("--out", type=Path, default=Path("outputs/track_davis"))
    parser.add_argument("--overlays", nargs="*", default=[], help="sequences to write overlay videos of")
    parser.add_argument("--untuned", action="store_true", help="also track without the tuned post-processing")
    parser.add_argument("--print-config", action="store_true", help="print the tracker's composed settings and exit")
    args, overrides = parse_with_overrides(parser)

    sequences = select_sequences(args.root, args.sequences)
    out = args.out.resolve()
    register_configs()
    with initialize_config_module(config_module="conf", version_base="1.3"):
        cfg = compose(
            "track",
            overrides=[f"data.root={args.root}", f"out={out}", "tracker=lucid", f"profile={args.profile}"]
            + [f"tracker.{o}" if not o.startswith(("tracker.", "profile.")) else o for o in overrides],
        )
    tracker_cfg = OmegaConf.to_container(cfg.tracker, resolve=True)
    if args.print_config:
        print(OmegaConf.to_yaml(tracker_cfg), end="")
        return
    (out / "config").mkdir(parents=True, exist_ok=True)
    (out / "config" / "tracker.yaml").write_text(OmegaConf.to_yaml(tracker_cfg))

    runs = {"lucid": tracker_cfg}
    if args.untuned:
        runs["untuned"] = {**tracker_cfg, "tuning": {**tracker_cfg["tuning"], "enabled": False}}
    times, walls = {}, {}
    with open_client(ClusterConfig(workers=args.workers)) as client:
        for name, settings in runs.items():
            started = time.perf_counter()
            times[name] = track_sequences_on_cluster(settings, sequences, out / name, client, progress=False)
            walls[name] = time.perf_counter() - started
            write_stage_times(out / name / "stage_times.csv", times[name])
    for name, tracker in (("copy", CopyTracker()), ("flow", FlowTracker())):
        started = time.perf_counter()
        track_sequences(tracker, sequences, out / name, progress=False)
        walls[name] = time.perf_counter() - started

    scores = {
        name: {s.name: s for s in evaluate(sequences, out / name, workers=2, progress=False).sequences}
        for name in (*runs, "copy", "flow")
    }

    def jf(name: str, seq: str) -> tuple[float, float, float]:
        s = scores[name][seq]
        return (s.j.mean() + s.f.mean()) / 2, s.j.mean(), s.f.mean()

    references = [name for name in scores if name != "lucid"]
    header = ["sequence", "J&F", "J", "F", *(f"{s} s" for s in STAGES), "total s", *(f"{r} J&F" for r in references)]
    rows = []
    for seq in sequences:
        t = times["lucid"][seq.name]
        stage_seconds = [t.get(s, 0.0) for s in STAGES]
        rows.append(
            [seq.name, *(f"{v:.3f}" for v in jf("lucid", seq.name))]
            + [f"{v:.0f}" for v in (*stage_seconds, sum(stage_seconds))]
            + [f"{jf(r, seq.name)[0]:.3f}" for r in references]
        )
    mean = [sum(float(r[i]) for r in rows) / len(rows) for i in range(1, len(header))]
    timing = slice(3, 3 + len(STAGES) + 1)
    rows.append(["mean"] + [f"{m:.0f}" if timing.start <= i < timing.stop else f"{m:.3f}" for i, m in enumerate(mean)])
    print(format_table([header, *rows]))
    lucid_wall = walls["lucid"]
    print(
        f"lucid wall {lucid_wall:.0f} s for {len(sequences)} sequences on {args.workers} worker(s) "
        f"({lucid_wall / len(sequences):.0f} s per sequence); "
        + ", ".join(f"{name} {wall:.0f} s" for name, wall in walls.items() if name != "lucid")
    )
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    with atomic_path(out / "benchmark.csv") as tmp:
        tmp.write_text(buffer.getvalue())
    options = OverlayOptions(video=True, gif=False, strip=True, side_by_side=True)
    for seq in sequences:
        if seq.name in args.overlays:
            for path in write_sequence_overlays(seq, out / "lucid", out / "overlays", options):
                print(f"wrote {path}")


if __name__ == "__main__":
    main()
