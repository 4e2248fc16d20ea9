"""Tracking-run tables: runs that differ only by their seed are summarised as mean ± std, overall and per sequence."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest

from segmenters import cli_report
from segmenters.evaluation.sweep import collect_tracking_runs, group_by_seed, per_sequence_seed_table, seed_table


def write_run(folder: Path, overrides: list[str], per_sequence: dict[str, tuple[float, float]]) -> None:
    """A run folder as ``lucid-track`` leaves it: its overrides and its two result tables (J, F per sequence)."""
    (folder / ".hydra").mkdir(parents=True)
    (folder / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
    j = statistics.fmean(v[0] for v in per_sequence.values())
    f = statistics.fmean(v[1] for v in per_sequence.values())
    (folder / "global_results.csv").write_text(
        f"J&F-Mean,J-Mean,J-Recall,J-Decay,F-Mean,F-Recall,F-Decay\n{(j + f) / 2},{j},1,0,{f},1,0\n"
    )
    rows = "".join(f"{name},{jv},{fv}\n" for name, (jv, fv) in per_sequence.items())
    (folder / "per-sequence_results.csv").write_text("Sequence,J-Mean,F-Mean\n" + rows)


@pytest.fixture
def sweep(tmp_path: Path) -> Path:
    """Three seeds of ``tracker.steps=100`` (bear J&F 0.8, 0.9, 1.0; boat 0.5 each) and one run of ``steps=50``."""
    for seed, bear in ((0, 0.8), (1, 0.9), (2, 1.0)):
        write_run(
            tmp_path / f"s{seed}",
            ["tracker.steps=100", f"tracker.seed={seed}"],
            {"bear": (bear, bear), "boat": (0.4, 0.6)},
        )
    write_run(tmp_path / "short", ["tracker.steps=50", "tracker.seed=0"], {"bear": (0.3, 0.3), "boat": (0.2, 0.2)})
    return tmp_path


def test_runs_differing_only_by_seed_form_one_group(sweep: Path) -> None:
    groups = group_by_seed(collect_tracking_runs(sweep))
    assert [(g.settings, g.seeds) for g in groups] == [
        ({"tracker.steps": "100"}, ["0", "1", "2"]),
        ({"tracker.steps": "50"}, ["0"]),
    ]


def test_seed_table_is_the_mean_and_sample_std_over_seeds(sweep: Path) -> None:
    header, rows = seed_table(group_by_seed(collect_tracking_runs(sweep)))
    assert header == ["tracker.steps", "seeds", "J&F", "J", "F"]
    # J&F per seed: (0.8 + 0.5) / 2, (0.9 + 0.5) / 2, (1.0 + 0.5) / 2 = 0.65, 0.70, 0.75: std 0.05
    assert rows[0] == ["100", "0 1 2", "0.700 ± 0.050", "0.650 ± 0.050", "0.750 ± 0.050"]
    assert rows[1] == ["50", "0", "0.250 ± 0.000", "0.250 ± 0.000", "0.250 ± 0.000"]


def test_per_sequence_table_gives_each_sequence_and_the_means_spread(sweep: Path) -> None:
    group = group_by_seed(collect_tracking_runs(sweep))[0]
    header, rows = per_sequence_seed_table(group)
    assert header == ["sequence", "seed 0", "seed 1", "seed 2", "J&F mean ± std"]
    assert rows[0][0] == "bear" and rows[0][1:4] == pytest.approx([0.8, 0.9, 1.0]) and rows[0][4] == "0.900 ± 0.100"
    assert rows[1][0] == "boat" and rows[1][4] == "0.500 ± 0.000"
    assert rows[2][0] == "mean" and rows[2][4] == "0.700 ± 0.050"


def test_lucid_report_prints_the_seed_summary(sweep: Path) -> None:
    markdown = cli_report.report(sweep)
    assert "| 100 | 0 1 2 | 0.700 ± 0.050 |" in markdown
    assert "| bear | 0.8 | 0.9 | 1 | 0.900 ± 0.100 |" in markdown
    assert (sweep / "report.md").read_text() == markdown
