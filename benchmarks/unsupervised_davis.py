"""Unsupervised VOS (``tracker=unsupervised``, no annotation) on DAVIS sequences: the candidates of the discovery
alone beside the whole method after dreaming, measured in the same run — per sequence, the DAVIS-2016 J (every
candidate as one mask against the binary ground truth), J, F and J&F of the candidates matched to the objects
(DAVIS 2017) and the seconds of each stage (discover, dream, train, track).

    python benchmarks/unsupervised_davis.py [--root ../shared/data/davis2016] [--sequences bear boat]
        [--profile cpu] [--workers 2] [--out outputs/unsupervised_davis] [--only candidates dreaming]
        [--overlays bear dance-jump] [tracker.discovery.stride=3 ...]
    python benchmarks/unsupervised_davis.py --embedded   # the embedded clip, profile=demo: a check in ~2 minutes

Each configuration is one ``lucid-track tracker=unsupervised profile=<profile> parallel=true`` run into
``<out>/<configuration>`` (``candidates``: ``tracker.dream=false``; ``dreaming``: the defaults), scored by the DAVIS
unsupervised protocol. Rerunning resumes: the sequences a run of the same settings finished are kept, so a complete
configuration is only scored again. Trailing arguments are Hydra overrides of ``conf/track.yaml``, applied to every
configuration. Sequences run ``--workers`` at a time (Dask), each on one torch thread, so the seconds are those of
one core. Writes ``<out>/unsupervised.md`` and ``unsupervised.csv`` (the table) and frame strips of the
``--overlays`` sequences under ``<out>/overlays/<configuration>/``.
"""

from __future__ import annotations

import argparse
import csv
import logging
import time
from pathlib import Path

from hydra import compose, initialize_config_module

from dreaming.synthesis.samples import make_clip, write_davis
from foundation.davis import Sequence, select_sequences
from foundation.io import atomic_path
from foundation.settings import parse_with_overrides
from foundation.tables import to_csv, to_markdown
from segmenters import cli_track
from segmenters.demo import CLIP
from segmenters.evaluation.report import GLOBAL_CSV, format_table
from segmenters.evaluation.unsupervised import BINARY_GLOBAL_CSV, BINARY_PER_SEQUENCE_CSV, MATCHING_CSV
from segmenters.tracking import STAGES, has_results, read_stage_times
from segmenters.visualize import OverlayOptions, write_sequence_overlays

SHARED_DAVIS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "davis2016"

CONFIGURATIONS = {
    "candidates": ["tracker.dream=false"],
    "dreaming": [],
}
"""The discovery's candidates alone, and the whole method: dream from them, train the video's networks, track."""
SHORT = {"candidates": "C", "dreaming": "D"}
"""Column prefixes of the configurations in the table."""
DEFAULT_OVERLAYS = ("bear", "dance-jump")
"""Sequences pictured unless ``--overlays`` says otherwise (when selected; else the first two selected)."""


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def read_scores(folder: Path) -> dict[str, dict[str, float]]:
    """Per sequence scored in ``folder`` (a ``lucid-track tracker=unsupervised`` run): ``J16`` (every candidate as
    one mask), and ``J``, ``F``, ``J&F`` of the candidates matched to the objects (means over the objects)."""
    matched: dict[str, list[tuple[float, float]]] = {}
    for row in _csv_rows(folder / MATCHING_CSV):
        matched.setdefault(row["Sequence"], []).append((float(row["J-Mean"]), float(row["F-Mean"])))
    binary = {
        row["Sequence"].removesuffix("_1"): float(row["J-Mean"]) for row in _csv_rows(folder / BINARY_PER_SEQUENCE_CSV)
    }
    scores = {}
    for name, pairs in matched.items():
        j = sum(p[0] for p in pairs) / len(pairs)
        f = sum(p[1] for p in pairs) / len(pairs)
        scores[name] = {"J16": binary[name], "J": j, "F": f, "J&F": (j + f) / 2}
    return scores


def read_global(folder: Path) -> dict[str, float]:
    """The global figures of ``folder``: ``J16`` (DAVIS 2016) and the matched ``J``, ``F``, ``J&F`` (means over all
    objects, DAVIS 2017)."""
    matched = _csv_rows(folder / GLOBAL_CSV)[0]
    binary = _csv_rows(folder / BINARY_GLOBAL_CSV)[0]
    return {
        "J16": float(binary["J-Mean"]),
        "J": float(matched["J-Mean"]),
        "F": float(matched["F-Mean"]),
        "J&F": float(matched["J&F-Mean"]),
    }


def run_configuration(
    name: str, root: Path, sequences: list[Sequence], out: Path, profile: str, workers: int, overrides: list[str]
) -> None:
    """``lucid-track tracker=unsupervised`` of configuration ``name`` into ``out`` (resuming what it finished);
    the overlays are left to :func:`write_strips`."""
    names = "[" + ",".join(seq.name for seq in sequences) + "]"
    with initialize_config_module(config_module="conf", version_base="1.3"):
        cfg = compose(
            "track",
            overrides=[
                f"data.root={root}",
                f"data.sequences={names}",
                f"out={out}",
                "tracker=unsupervised",
                f"profile={profile}",
                "parallel=true",
                f"cluster.workers={workers}",
                "overlays.video=false",
                "overlays.strip=false",
                *CONFIGURATIONS[name],
                *overrides,
            ],
        )
    try:
        cli_track.run(cfg)
    except cli_track.TrackingFailed as failed:  # the other sequences are done and scored
        print(f"{name}: {failed}")


def write_strips(sequences: list[Sequence], configurations: list[str], out: Path) -> list[Path]:
    """Frame strips (predictions over the ground truth) of ``sequences`` for every configuration that finished
    them: ``<out>/overlays/<configuration>/<sequence>_strip.png``."""
    options = OverlayOptions(video=False, gif=False, strip=True, side_by_side=True)
    return [
        path
        for seq in sequences
        for name in configurations
        if has_results(seq, out / name)
        for path in write_sequence_overlays(seq, out / name, out / "overlays" / name, options)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=SHARED_DAVIS)
    parser.add_argument("--sequences", nargs="*", default=None, help="default: every sequence of the root")
    parser.add_argument("--profile", default=None, help="default: cpu (demo with --embedded)")
    parser.add_argument("--workers", type=int, default=2, help="sequences run at once (Dask worker processes)")
    parser.add_argument("--out", type=Path, default=None, help="default: outputs/unsupervised_davis (_embedded)")
    parser.add_argument("--only", nargs="*", default=list(CONFIGURATIONS), choices=list(CONFIGURATIONS))
    parser.add_argument(
        "--overlays", nargs="*", default=None, help=f"sequences to picture (default: {' '.join(DEFAULT_OVERLAYS)})"
    )
    parser.add_argument("--embedded", action="store_true", help="the embedded sample clip as the root, profile=demo")
    args, overrides = parse_with_overrides(parser)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    out = (
        args.out or Path("outputs/unsupervised_embedded" if args.embedded else "outputs/unsupervised_davis")
    ).resolve()
    profile = args.profile or ("demo" if args.embedded else "cpu")
    root = write_davis(make_clip(**CLIP), out / "davis") if args.embedded else args.root.resolve()
    sequences = select_sequences(root, args.sequences)
    selected = [seq.name for seq in sequences]
    wanted = [n for part in (args.overlays or []) for n in part.split(",") if n]
    if args.overlays is None:
        wanted = [n for n in DEFAULT_OVERLAYS if n in selected] or selected[:2]
    pictured = [seq for seq in sequences if seq.name in wanted]
    workers = max(1, min(args.workers, len(sequences)))
    only = list(dict.fromkeys(args.only))

    walls = {}
    for name in only:
        started = time.perf_counter()
        run_configuration(name, root, sequences, out / name, profile, workers, overrides)
        walls[name] = time.perf_counter() - started

    scores = {name: read_scores(out / name) for name in only}
    figures = {name: read_global(out / name) for name in only}
    times = {name: read_stage_times(out / name / "stage_times.csv") for name in only}
    stages = {name: [s for s in STAGES if any(s in t for t in times[name].values())] + ["total"] for name in only}
    for name in only:  # one stage: its seconds are the total
        if len(stages[name]) == 2:
            stages[name] = stages[name][:1]
    metrics = ["J16", "J", "F", "J&F"]
    both = set(only) == set(CONFIGURATIONS)
    header = ["sequence"]
    for name in only:
        header += [f"{SHORT[name]} {m}" for m in metrics] + [f"{SHORT[name]} {s} s" for s in stages[name]]
    if both:
        header += ["ΔJ16", "ΔJ&F"]

    def total(name: str, seq: str) -> float:
        return sum(times[name].get(seq, {}).values())

    def seconds(name: str, seq: str) -> list[float]:
        return [total(name, seq) if s == "total" else times[name].get(seq, {}).get(s, 0.0) for s in stages[name]]

    scored = [seq for seq in selected if all(seq in scores[name] for name in only)]
    if not scored:
        print("no sequence was scored by every configuration")
        return
    rows = []
    for seq in scored:
        row = [seq]
        for name in only:
            row += [f"{scores[name][seq][m]:.3f}" for m in metrics] + [f"{v:.0f}" for v in seconds(name, seq)]
        if both:
            c, d = scores["candidates"][seq], scores["dreaming"][seq]
            row += [f"{d['J16'] - c['J16']:+.3f}", f"{d['J&F'] - c['J&F']:+.3f}"]
        rows.append(row)
    mean_row = ["mean"]
    for name in only:
        mean_seconds = [sum(seconds(name, seq)[i] for seq in scored) / len(scored) for i in range(len(stages[name]))]
        mean_row += [f"{figures[name][m]:.3f}" for m in metrics] + [f"{v:.0f}" for v in mean_seconds]
    if both:
        c, d = figures["candidates"], figures["dreaming"]
        mean_row += [f"{d['J16'] - c['J16']:+.3f}", f"{d['J&F'] - c['J&F']:+.3f}"]
    rows.append(mean_row)

    legend = (
        "C: the candidates of the discovery alone (tracker.dream=false); D: after dreaming. J16: DAVIS-2016 "
        "unsupervised J, every candidate as one mask against all objects; J, F, J&F: the candidates matched to the "
        "objects (DAVIS 2017); seconds per stage on one core. mean: the global figures (J, F, J&F over all objects), "
        "seconds over the sequences; wall: this run's seconds (little for sequences kept from an earlier run)."
    )
    summary = [
        f"{name}: J16 {figures[name]['J16']:.3f}, J {figures[name]['J']:.3f}, J&F {figures[name]['J&F']:.3f}, "
        f"wall {walls[name]:.0f} s"
        for name in only
    ]
    if both:
        c, d = figures["candidates"], figures["dreaming"]
        extra = sum(total("dreaming", seq) - total("candidates", seq) for seq in scored)
        summary.append(
            f"dreaming adds J16 {d['J16'] - c['J16']:+.3f}, J {d['J'] - c['J']:+.3f}, J&F {d['J&F'] - c['J&F']:+.3f} "
            f"for {extra / len(scored):.0f} s more per sequence"
        )
    summary_line = f"{len(scored)} sequence(s), profile {profile}, {workers} worker(s) — " + "; ".join(summary)
    print()
    print(format_table([header, *rows]))
    print(summary_line)

    strips = write_strips(pictured, only, out)
    for path in strips:
        print(f"wrote {path}")
    pictures = [f"![{p.parent.name}: {p.stem.removesuffix('_strip')}]({p.relative_to(out).as_posix()})" for p in strips]
    report = "\n\n".join(
        [
            f"# Unsupervised VOS on {root}",
            f"`lucid-track tracker=unsupervised profile={profile} parallel=true {' '.join(overrides)}`".replace(
                " `", "`"
            ),
            to_markdown(header, rows).rstrip(),
            legend,
            summary_line,
            *pictures,
        ]
    )
    with atomic_path(out / "unsupervised.md") as tmp:
        tmp.write_text(report + "\n")
    with atomic_path(out / "unsupervised.csv") as tmp:
        tmp.write_text(to_csv(header, rows))
    print(f"wrote {out / 'unsupervised.md'}")


if __name__ == "__main__":
    main()
