"""The DAVIS interactive protocol on DAVIS sequences: Lucid's interactive session (learning from every correction by
re-dreaming) beside its two ablations, measured in the same run — (a) interaction + flow propagation without any
learning, (b) learning without re-dreaming (the networks trained on standard augmentations of the marked frames).

    python benchmarks/interactive_davis.py [--root ../shared/data/davis2016] [--sequences bear boat]
        [--profile cpu] [--workers 2] [--interactions 8] [--out outputs/interactive_davis] [--only lucid flow]
        [session.seeded.reach=0.5 ...]

Per configuration and sequence: J&F after each interaction, AUC, J&F@60s, seconds of the first and of the later
interactions; the mean curve's figures; the J of each marked frame after its marks (the first interaction's, and the
later ones' mean: what marks → mask makes of a frame, apart from the propagation); the final J&F of the marked frames
and of the others; Spearman's ρ between the session's per-frame confidence and the true J.
Trailing arguments are Hydra overrides of ``conf/interactive.yaml``, applied to every configuration (anywhere on
the line, after ``--only`` or ``--sequences`` too). Sequences run ``--workers`` at a time (Dask),
each on one torch thread, so the seconds are those of one core.

Every configuration runs under the protocol's budget (``session.learning.budget=240``): a session trains only when
the whole training fits, which on 2 CPU cores it never does, so there ``lucid`` and ``augment`` give ``flow``'s
figures. What learning adds is measured without the budget, e.g. learning after the last interaction so that all
share the same annotated frames: ``session.learning.budget=0 session.learning.start=8``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from hydra import compose, initialize_config_module

from foundation.settings import parse_with_overrides
from segmenters import cli_interactive
from segmenters.evaluation.report import format_table

SHARED_DAVIS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "davis2016"

CONFIGURATIONS = {
    "lucid": [],
    "flow": ["session.learning.enabled=false"],
    "augment": ["session.learning.samples=augment"],
}
"""The full session and the two ablations: (a) no learning, (b) learning without re-dreaming."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=SHARED_DAVIS)
    parser.add_argument("--sequences", nargs="*", default=None, help="default: every sequence of the root")
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--workers", type=int, default=2, help="sequences run at once (Dask worker processes)")
    parser.add_argument("--interactions", type=int, default=8)
    parser.add_argument("--out", type=Path, default=Path("outputs/interactive_davis"))
    parser.add_argument("--only", nargs="*", default=list(CONFIGURATIONS), help=f"among {list(CONFIGURATIONS)}")
    args, overrides = parse_with_overrides(parser)
    unknown = sorted(set(args.only) - set(CONFIGURATIONS))
    if unknown:
        parser.error(f"--only: unknown configuration(s) {unknown} (expected names among {list(CONFIGURATIONS)})")

    sequences = "null" if args.sequences is None else "[" + ",".join(args.sequences) + "]"
    rows, walls = [], {}
    for name in args.only:
        out = (args.out / name).resolve()
        with initialize_config_module(config_module="conf", version_base="1.3"):
            cfg = compose(
                "interactive",
                overrides=[
                    f"data.root={args.root.resolve()}",
                    f"data.sequences={sequences}",
                    f"out={out}",
                    f"profile={args.profile}",
                    f"interactions={args.interactions}",
                    "parallel=true",
                    f"cluster.workers={args.workers}",
                    *CONFIGURATIONS[name],
                    *overrides,
                ],
            )
        started = time.perf_counter()
        figures = cli_interactive.run(cfg)
        walls[name] = time.perf_counter() - started
        rows.append(
            [
                name,
                f"{figures['AUC']:.3f}",
                f"{figures['J&F@60s']:.3f}",
                f"{figures['final']:.3f}",
                f"{figures['marked_J_first']:.3f} / {figures['marked_J_later']:.3f}",
                f"{figures['final_marked']:.3f} / {figures['final_other']:.3f}",
                f"{figures['spearman']:.3f}",
                f"{walls[name]:.0f}",
            ]
        )
    print()
    print(
        format_table(
            [
                [
                    "configuration",
                    "AUC",
                    "J&F@60s",
                    f"J&F after {args.interactions}",
                    "marked frame's J: 1st / later",
                    "final J&F: marked / other frames",
                    "Spearman ρ",
                    "wall s",
                ],
                *rows,
            ]
        )
    )


if __name__ == "__main__":
    main()
