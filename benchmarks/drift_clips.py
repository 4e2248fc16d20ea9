"""Drift on the embedded clip's hard variants, over seeds: how much of a look-alike distractor the tracker takes, and
whether an object hidden for six frames is found again — with and without the proposals
(``segmenters/lucid/proposals.py``), one model per seed learnt at ``make demo``'s settings.

    python benchmarks/drift_clips.py [--seeds 0 1 2] [tracker.proposals.keep=0.5 ...]

Prints one row per seed and setting, and the mean ± std; ``tests/segmenters/lucid/test_drift.py`` asserts bounds
that the worst seed here keeps.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from dreaming.synthesis.samples import make_clip
from foundation.settings import parse_with_overrides
from foundation.tables import to_markdown
from segmenters.demo import CLIP, lucid_settings
from segmenters.lucid.tracker import LucidTracker
from segmenters.postprocess.tuning import labels_jf

OCCLUDED = (8, 14)


def mean_jf(labels: list[np.ndarray], truth: list[np.ndarray]) -> float:
    """J&F over frames 1.. and objects 1..3."""
    scores = [labels_jf(p, t, (1, 2, 3)) for p, t in zip(labels[1:], truth[1:], strict=True)]
    return float(np.mean(scores))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args, overrides = parse_with_overrides(parser)
    torch.set_num_threads(1)
    plain = make_clip(**CLIP)
    distractor = make_clip(**CLIP, distractor=True)
    occluded = make_clip(**CLIP, occlusion=OCCLUDED)
    area = float((plain.labels[0] == 1).sum())
    rows = []
    for seed in args.seeds:
        base = ["tracker.device=cpu", "tracker.progress=false", f"tracker.seed={seed}", *overrides]
        # The embedding is trained only when the proposals are on: learn the model with them on, track both ways.
        learn = [*base, "tracker.proposals.enabled=true"]
        model = LucidTracker(**lucid_settings(overrides=learn)).fit(plain.frames[0], plain.labels[0], "clip")
        for proposals in (True, False):
            tracker = LucidTracker(
                **lucid_settings(overrides=[*base, f"tracker.proposals.enabled={str(proposals).lower()}"])
            )

            on_plain, on_distractor, on_occluded = (
                [clip.labels[0], *tracker.follow(model, clip.frames[0], clip.frames[1:], clip.labels[0])]
                for clip in (plain, distractor, occluded)
            )
            taken = []
            for f, labels in enumerate(on_distractor):
                region = (np.abs(distractor.frames[f].astype(int) - plain.frames[f].astype(int)).sum(-1) > 40) & (
                    plain.labels[f] == 0
                )
                if region.sum() >= 50:
                    taken.append(float((labels[region] > 0).mean()))
            start, stop = OCCLUDED
            hidden = max(float((on_occluded[f] == 1).sum()) / area for f in range(start, stop))
            found = np.mean(
                [
                    ((on_occluded[f] == 1) & (occluded.labels[f] == 1)).sum()
                    / max(((on_occluded[f] == 1) | (occluded.labels[f] == 1)).sum(), 1)
                    for f in range(stop + 2, len(occluded.frames))
                ]
            )
            rows.append(
                {
                    "seed": seed,
                    "proposals": proposals,
                    "plain J&F": round(mean_jf(on_plain, plain.labels), 3),
                    "distractor J&F": round(mean_jf(on_distractor, distractor.labels), 3),
                    "distractor taken": round(float(np.mean(taken)), 3),
                    "occlusion J&F": round(mean_jf(on_occluded, occluded.labels), 3),
                    "hidden area": round(hidden, 3),
                    "found J": round(float(found), 3),
                }
            )
            print(rows[-1], flush=True)
    for proposals in (True, False):
        chosen = [r for r in rows if r["proposals"] == proposals]
        summary = {"seed": "mean ± std", "proposals": proposals}
        for key in list(chosen[0])[2:]:
            values = np.array([r[key] for r in chosen], dtype=float)
            summary[key] = f"{values.mean():.3f} ± {values.std():.3f}"
        rows.append(summary)
    print(to_markdown(list(rows[0]), [list(r.values()) for r in rows]))


if __name__ == "__main__":
    main()
