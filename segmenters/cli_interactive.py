"""``lucid-interactive``: the DAVIS interactive protocol on DAVIS sequences — a robot scribbles, an interactive session
segments, propagates and learns; J&F after each interaction, against time.

lucid-interactive data.root=../shared/data/davis2016 data.sequences=[bear] interactions=8 out=outputs/interactive

Writes ``<out>/interactions.csv`` (one row per sequence and interaction), ``<out>/summary.csv`` (AUC, J&F@60s and
final J&F per sequence, and of the mean curve), ``<out>/curve.png``, the robot's scribbles
(``<out>/scribbles/<sequence>.json``, DAVIS format), the labels after the last interaction
(``<out>/<sequence>/<frame>.png``) and their overlays.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hydra
import numpy as np
from hydra.utils import to_absolute_path
from matplotlib.figure import Figure
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from foundation.davis import Sequence as DavisSequence
from foundation.davis import select_sequences
from foundation.errors import InputError, cli_entry, describe
from foundation.io import atomic_directory, atomic_path, read_labels, write_bytes_atomic, write_labels
from foundation.settings import check_mandatory, from_container, hydra_errors
from segmenters.cli_eval import overlay_options, write_overlays
from segmenters.evaluation import has_ground_truth
from segmenters.evaluation.interactive import Session, auc, mean_curve, score_at, scribbles_to_json
from segmenters.hydra_conf import register_configs
from segmenters.interactive.frames import sequence_frames
from segmenters.interactive.robot import RobotStep, robot_session, run_robot
from segmenters.interactive.session import InteractiveConfig, InteractiveSession, SessionSettings
from segmenters.lucid.tracker import LucidConfig

log = logging.getLogger(__name__)

register_configs()


def session_config(session: dict[str, Any], tracker: dict[str, Any]) -> InteractiveConfig:
    """An :class:`InteractiveConfig` from the resolved ``session`` and ``tracker`` settings (``_target_`` dropped)."""
    settings = from_container(SessionSettings, session, "session")
    networks = from_container(LucidConfig, {k: v for k, v in tracker.items() if k != "_target_"}, "tracker")
    return InteractiveConfig(
        **{name: getattr(settings, name) for name in settings.__dataclass_fields__}, tracker=networks
    )


@dataclass(frozen=True)
class SequenceRun:
    """What one sequence's robot session gives back (from a Dask worker too): per interaction its frame, seconds,
    per-object J&F and the J of the marked frame before and after it (what the marks made of the frame, apart from the
    propagation; NaN before the first); the confidence and J of every non-annotated frame after each; the final J&F
    of the frames marked and of the others (the protocol never marks a frame twice, so what stays wrong on a marked
    frame stays to the end); or the error that stopped it."""

    name: str
    objects: int = 0
    frames: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    j: list[float] = field(default_factory=list)
    f: list[float] = field(default_factory=list)
    per_object: list[list[float]] = field(default_factory=list)
    confidence: list[float] = field(default_factory=list)
    frame_j: list[float] = field(default_factory=list)
    marked_before: list[float] = field(default_factory=list)
    marked_after: list[float] = field(default_factory=list)
    final_marked: float = float("nan")
    final_other: float = float("nan")
    error: Exception | None = None
    trace: str = ""

    def session(self) -> Session:
        return Session(times=np.cumsum(self.seconds), scores=np.asarray(self.per_object))


def run_sequence(sequence: DavisSequence, cfg: InteractiveConfig, interactions: int, out: Path) -> SequenceRun:
    """One robot session on ``sequence``: writes its scribbles and final labels into ``out``."""
    try:
        truths = [read_labels(sequence.annotations[p.stem]) for p in sequence.frames]
        ids = sorted({int(i) for t in truths for i in np.unique(t) if 0 < i < 255})
        if not ids:
            raise InputError(sequence.frames[0].parent, "no object in the ground truth", "annotated objects")
        video = sequence_frames(sequence, cfg.cache_mb)
        session = InteractiveSession(video, cfg, ids)
        steps = run_robot(session, truths, interactions, progress=False)
        _write_sequence(sequence, session, steps, out)
        return _summarise(sequence.name, ids, steps)
    except Exception as error:
        return SequenceRun(sequence.name, error=error, trace=traceback.format_exc())


def _summarise(name: str, ids: Sequence[int], steps: Sequence[RobotStep]) -> SequenceRun:
    robot = robot_session(steps)
    confidence, frame_j = [], []
    marked: set[int] = set()
    marked_before, marked_after = [], []
    for k, step in enumerate(steps):
        marked_before.append(float(steps[k - 1].j[step.frame].mean()) if k else float("nan"))
        marked_after.append(float(step.j[step.frame].mean()))
        marked.add(step.frame)
        free = [t for t in range(len(step.j)) if t not in marked]
        confidence += step.confidence[free].ravel().tolist()
        frame_j += step.j[free].ravel().tolist()
    final = (steps[-1].j + steps[-1].f).mean(axis=1) / 2
    is_marked = np.isin(np.arange(len(final)), sorted(marked))
    return SequenceRun(
        name,
        objects=len(ids),
        frames=[s.frame for s in steps],
        seconds=[s.seconds for s in steps],
        j=[float(s.j.mean()) for s in steps],
        f=[float(s.f.mean()) for s in steps],
        per_object=robot.scores.tolist(),
        confidence=confidence,
        frame_j=frame_j,
        marked_before=marked_before,
        marked_after=marked_after,
        final_marked=float(final[is_marked].mean()),
        final_other=float(final[~is_marked].mean()) if (~is_marked).any() else float("nan"),
    )


def _write_sequence(
    sequence: DavisSequence, session: InteractiveSession, steps: Sequence[RobotStep], out: Path
) -> None:
    scribbles = {s.frame: s.scribbles for s in steps}  # the last interaction on a frame, where one was marked twice
    data = scribbles_to_json(sequence.name, len(sequence.frames), scribbles)
    write_bytes_atomic(out / "scribbles" / f"{sequence.name}.json", json.dumps(data).encode())
    with atomic_directory(out / sequence.name) as tmp:
        for path, labels in zip(sequence.frames, session.all_labels(), strict=True):
            write_labels(tmp / f"{path.stem}.png", labels)


def _run_on_cluster(
    cfg: DictConfig, sequences: list[DavisSequence], settings: InteractiveConfig, out: Path
) -> list[SequenceRun]:
    from dataclasses import replace

    from distributed import as_completed

    from foundation.cluster import WorkerSetup, cluster_config, open_client, task_key

    # One torch thread per task: parallelism comes from the tasks (see segmenters.tracking).
    settings = replace(settings, tracker=replace(settings.tracker, threads=1, progress=False))
    runs = []
    with open_client(cluster_config(cfg)) as client:
        client.register_plugin(WorkerSetup())
        futures = [
            client.submit(
                run_sequence, seq, settings, cfg.interactions, out, pure=False, key=task_key("robot", seq.name)
            )
            for seq in sequences
        ]
        with tqdm(total=len(futures), desc="robot (Dask)", unit="sequence") as bar:
            for future in as_completed(futures):
                runs.append(future.result())
                bar.update()
    order = {seq.name: i for i, seq in enumerate(sequences)}
    return sorted(runs, key=lambda r: order[r.name])


def write_tables(runs: Sequence[SequenceRun], out: Path) -> dict[str, float]:
    """``interactions.csv`` and ``summary.csv`` (per sequence and the mean curve's); the mean curve's figures."""
    rows = io.StringIO()
    writer = csv.writer(rows, lineterminator="\n")
    writer.writerow(
        ["sequence", "interaction", "frame", "seconds", "cumulated_s", "J", "F", "J&F", "marked_J_before", "marked_J"]
    )
    for run in runs:
        cumulated = np.cumsum(run.seconds)
        for k, frame in enumerate(run.frames):
            jf = (run.j[k] + run.f[k]) / 2
            writer.writerow(
                [
                    run.name,
                    k + 1,
                    frame,
                    f"{run.seconds[k]:.2f}",
                    f"{cumulated[k]:.2f}",
                    f"{run.j[k]:.4f}",
                    f"{run.f[k]:.4f}",
                    f"{jf:.4f}",
                    "" if np.isnan(run.marked_before[k]) else f"{run.marked_before[k]:.4f}",
                    f"{run.marked_after[k]:.4f}",
                ]
            )
    write_bytes_atomic(out / "interactions.csv", rows.getvalue().encode())
    summary = io.StringIO()
    writer = csv.writer(summary, lineterminator="\n")
    header = ["sequence", "objects", "interactions", "AUC", "J&F@60s", "final_J&F", "first_s", "later_s"]
    writer.writerow([*header, "final_J&F_marked", "final_J&F_other"])
    for run in runs:
        session = run.session()
        later = np.mean(run.seconds[1:]) if len(run.seconds) > 1 else float("nan")
        writer.writerow(
            [
                run.name,
                run.objects,
                len(run.frames),
                f"{session.auc():.4f}",
                f"{session.score_at():.4f}",
                f"{session.scores[-1].mean():.4f}",
                f"{run.seconds[0]:.2f}",
                f"{later:.2f}",
                f"{run.final_marked:.4f}",
                f"{run.final_other:.4f}",
            ]
        )
    times, scores, max_time = mean_curve([run.session() for run in runs])
    figures = {
        "AUC": auc(times, scores, max_time),
        "J&F@60s": score_at(times, scores, max_time),
        "final": float(scores[-1]),
        "marked_J_first": float(np.mean([r.marked_after[0] for r in runs])),
        "marked_J_later": float(np.mean([j for r in runs for j in r.marked_after[1:]] or [float("nan")])),
        "final_marked": float(np.mean([r.final_marked for r in runs])),
        # NaN where every frame of every sequence was marked (videos of at most `interactions` frames).
        "final_other": float(np.mean([r.final_other for r in runs if not np.isnan(r.final_other)] or [np.nan])),
    }
    writer.writerow(
        [
            "mean",
            f"{np.mean([r.objects for r in runs]):.2f}",
            len(times),
            f"{figures['AUC']:.4f}",
            f"{figures['J&F@60s']:.4f}",
            f"{figures['final']:.4f}",
            f"{np.mean([r.seconds[0] for r in runs]):.2f}",
            f"{np.mean([s for r in runs for s in r.seconds[1:]] or [float('nan')]):.2f}",
            f"{figures['final_marked']:.4f}",
            f"{figures['final_other']:.4f}",
        ]
    )
    write_bytes_atomic(out / "summary.csv", summary.getvalue().encode())
    return figures


def plot_curves(runs: Sequence[SequenceRun], path: Path) -> None:
    """J&F against cumulated seconds: one thin line per sequence, the mean curve bold, the 60-s mark."""
    from segmenters.evaluation.interactive import curve

    figure = Figure(figsize=(8, 5), layout="constrained")
    axis = figure.subplots()
    for run in runs:
        session = run.session()
        t, s = curve(session.times, session.scores.mean(axis=1), session.max_time)
        axis.plot(t, s, linewidth=1, alpha=0.6, label=run.name)
    times, scores, max_time = mean_curve([run.session() for run in runs])
    t, s = curve(times, scores, max_time)
    axis.plot(t, s, color="black", linewidth=2.5, label=f"mean (AUC {auc(times, scores, max_time):.3f})")
    axis.axvline(60, color="grey", linestyle="--", linewidth=1)
    axis.set_xlabel("cumulated seconds")
    axis.set_ylabel("J&F")
    axis.set_ylim(0, 1.02)
    axis.grid(alpha=0.3)
    axis.legend(loc="lower right", fontsize="small")
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=100, metadata={"Software": None})


def spearman(confidence: Sequence[float], j: Sequence[float]) -> float:
    """Spearman's rank correlation of the session's confidence and the true J over non-annotated frames."""
    from scipy.stats import spearmanr

    if len(confidence) < 3:
        return float("nan")
    return float(spearmanr(confidence, j).statistic)


def run(cfg: DictConfig) -> dict[str, float]:
    """The robot on every selected sequence; settings and the output folder are checked first."""
    check_mandatory(cfg)
    out = Path(to_absolute_path(cfg.out))
    if cfg.interactions < 1:
        raise InputError("interactions", f"{cfg.interactions}", "at least 1")
    settings = session_config(
        OmegaConf.to_container(cfg.session, resolve=True), OmegaConf.to_container(cfg.tracker, resolve=True)
    )
    options = overlay_options(cfg)
    sequences = select_sequences(to_absolute_path(cfg.data.root), cfg.data.sequences, cfg.data.resolution)
    unannotated = [seq.name for seq in sequences if not has_ground_truth(seq)]
    if unannotated:
        raise InputError(
            "data.sequences", f"{unannotated} lack ground truth on some frames", "fully annotated sequences"
        )
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "config.yaml") as tmp:
        tmp.write_text(OmegaConf.to_yaml(cfg, resolve=True))
    log.info("profile %s, %d interactions per sequence", cfg.profile.name, cfg.interactions)
    if cfg.parallel:
        runs = _run_on_cluster(cfg, sequences, settings, out)
    else:
        runs = [
            run_sequence(seq, settings, cfg.interactions, out) for seq in tqdm(sequences, desc="robot", unit="sequence")
        ]
    failed = [r for r in runs if r.error is not None]
    for r in failed:
        log.error(
            "%s failed: %s\n%s", r.name, describe(r.error), r.trace if not isinstance(r.error, InputError) else ""
        )
    done = [r for r in runs if r.error is None]
    if not done:
        raise InputError(None, f"every sequence failed — {describe(failed[0].error)}")
    figures = write_tables(done, out)
    plot_curves(done, out / "curve.png")
    rho = spearman([c for r in done for c in r.confidence], [j for r in done for j in r.frame_j])
    figures["spearman"] = rho
    print(_report(done, figures))
    write_overlays([seq for seq in sequences if seq.name in {r.name for r in done}], out, out, options)
    if failed:
        raise InputError(None, f"{len(failed)} of {len(runs)} sequence(s) failed: {', '.join(r.name for r in failed)}")
    return figures


def _report(runs: Sequence[SequenceRun], figures: dict[str, float]) -> str:
    lines = [f"{'sequence':<16} {'AUC':>6} {'J&F@60s':>8} {'final':>6}  J&F after each interaction  (seconds)"]
    for run in runs:
        session = run.session()
        jf = " ".join(f"{(j + f) / 2:.3f}" for j, f in zip(run.j, run.f, strict=True))
        secs = " ".join(f"{s:.0f}" for s in run.seconds)
        final = session.scores[-1].mean()
        lines.append(f"{run.name:<16} {session.auc():6.3f} {session.score_at():8.3f} {final:6.3f}  {jf}  ({secs})")
    lines.append(f"{'mean':<16} {figures['AUC']:6.3f} {figures['J&F@60s']:8.3f} {figures['final']:6.3f}")
    lines.append(
        f"J of the marked frames after their marks: {figures['marked_J_first']:.3f} (first interaction), "
        f"{figures['marked_J_later']:.3f} (later)"
    )
    lines.append(
        f"final J&F of the marked frames: {figures['final_marked']:.3f}, of the others: {figures['final_other']:.3f}"
    )
    lines.append(f"confidence vs per-frame J: Spearman rho {figures['spearman']:.3f}")
    return "\n".join(lines)


@hydra.main(version_base="1.3", config_path="pkg://conf", config_name="interactive")
@cli_entry("lucid-interactive", exits=True)
def _interactive_app(cfg: DictConfig) -> None:
    run(cfg)


@cli_entry("lucid-interactive")
def main() -> int:
    """Entry point of ``lucid-interactive``."""
    with hydra_errors():
        _interactive_app()
    return 0


if __name__ == "__main__":
    sys.exit(main())
