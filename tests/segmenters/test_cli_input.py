"""What ``lucid-track``, ``lucid-eval`` and ``lucid-report`` do with bad input, failures and Ctrl-C: a correct
result, or one line naming the file or setting and exit status 2 — before any work, leaving nothing partial."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from omegaconf import OmegaConf
from PIL import Image

import conf
from foundation.io import write_labels
from foundation.settings import from_container
from segmenters import cli_eval, cli_report, cli_track
from segmenters.lucid.samples import JitterConfig
from segmenters.lucid.tracker import LucidConfig
from segmenters.tracking import read_stage_times, track_sequences
from segmenters.visualize import OverlayOptions

NO_PICTURES = ("overlays.video=false", "overlays.strip=false")
RESUME = "interrupted; rerun the same command to resume: finished sequences and checkpoints are reused"


def write_still_sequence(root: Path, name: str, labels: np.ndarray, frames: int = 5) -> None:
    """A sequence of ``frames`` identical random frames, each annotated with ``labels``."""
    image = np.random.default_rng(0).integers(0, 256, (*labels.shape, 3), dtype=np.uint8)
    (root / "JPEGImages" / "480p" / name).mkdir(parents=True)
    for t in range(frames):
        Image.fromarray(image).save(root / "JPEGImages" / "480p" / name / f"{t:05d}.png")
        write_labels(root / "Annotations" / "480p" / name / f"{t:05d}.png", labels)


def tracker_module(folder: Path, monkeypatch: pytest.MonkeyPatch, source: str) -> None:
    """Make ``source`` importable as module ``test_trackers`` (for ``tracker._target_=test_trackers.<Class>``)."""
    folder.mkdir(exist_ok=True)
    (folder / "test_trackers.py").write_text(source)
    monkeypatch.syspath_prepend(str(folder))


TRACKERS = '''
import os
import time
from pathlib import Path


class DropLastObject:
    """Every object of the first frame but the one of the largest id."""

    def track(self, frames, first_labels, name=None):
        for _ in frames:
            yield first_labels * (first_labels != first_labels.max())


class FailsOnBeta:
    def track(self, frames, first_labels, name=None):
        for _ in frames:
            if name == "beta":
                raise RuntimeError("boom")
            yield first_labels


class WaitsOnBeta:
    """Copies the first labels; on beta, waits while the file named by $LUCID_TEST_HOLD exists."""

    def track(self, frames, first_labels, name=None):
        hold = Path(os.environ["LUCID_TEST_HOLD"])
        for _ in frames:
            deadline = time.monotonic() + 60
            while name == "beta" and hold.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            yield first_labels
'''


# -- forgotten mandatory settings, wrong types -------------------------------------------------------------------

ONE_LINE_ERRORS = [
    (cli_track.main, ["data.root={root}"], "lucid-track: error: out: mandatory setting not given"),
    (cli_eval.main, ["data.root={root}"], "lucid-eval: error: results: mandatory setting not given"),
    (cli_track.main, ["out={tmp}/out"], "lucid-track: error: data.root: mandatory setting not given"),
    (cli_eval.main, ["results={tmp}"], "lucid-eval: error: data.root: mandatory setting not given"),
    (
        cli_track.main,
        ["data.root={root}", "out={tmp}/out", "tracker=flow", "tracker.threshold=abc"],
        "lucid-track: error: tracker.threshold: Value 'abc' of type 'str' could not be converted to Float\n",
    ),
    (
        cli_track.main,
        ["data.root={root}", "out={tmp}/out", "tracker=lucid", "tracker.train.steps=many"],
        "lucid-track: error: tracker.train.steps: Value 'many' of type 'str' could not be converted to Integer\n",
    ),
    (
        cli_eval.main,
        ["data.root={root}", "results={tmp}", "workers=two"],
        "lucid-eval: error: workers: Value 'two' of type 'str' could not be converted to Integer\n",
    ),
    (
        cli_track.main,
        ["data.root={root}", "out={tmp}/out", "tracker=nope"],
        "lucid-track: error: In 'track': Could not find 'tracker/nope' "
        "(expected one of copy, flow, lucid, oneshot, unsupervised)\n",
    ),
    (
        cli_track.main,
        ["data.root={root}", "out={tmp}/out", "tracker=flow", "tracker.preset=slowest"],
        "lucid-track: error: tracker.preset: unknown DIS preset 'slowest'",
    ),
    (
        cli_track.main,
        ["data.root={root}", "out={tmp}/out", "tracker=lucid", "tracker.dream.illumination.p=7"],
        "lucid-track: error: tracker.dream.illumination.p: 7.0 (expected a probability in [0, 1])\n",
    ),
]


@pytest.mark.parametrize(("main", "argv", "message"), ONE_LINE_ERRORS)
def test_missing_or_mistyped_settings_are_one_line_errors(
    main: Callable[[], int], argv: list[str], message: str, davis_root: Path, tmp_path: Path, run_cli: Any
) -> None:
    run = run_cli(main, *(arg.format(root=davis_root, tmp=tmp_path) for arg in argv))
    assert run.status == 2
    assert run.err.startswith(message) and run.err.count("\n") == 1, run.err
    assert not (tmp_path / "out").exists()


def test_a_forgotten_out_is_one_line_from_the_installed_command(davis_root: Path, tmp_path: Path) -> None:
    """It was 100 lines starting "An error occurred during Hydra's exception formatting", and exit status 1."""
    command = [Path(sys.executable).parent / "lucid-track", f"data.root={davis_root}"]
    (tmp_path / "cwd").mkdir()
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path / "cwd")
    assert (completed.returncode, completed.stdout) == (2, "")
    assert completed.stderr == (
        "lucid-track: error: out: mandatory setting not given "
        "(expected a folder for the results, e.g. out=outputs/flow)\n"
    )
    assert list((tmp_path / "cwd").iterdir()) == []


# -- objects: exactly those of the annotation ----------------------------------------------------------------------


def test_only_the_annotated_objects_are_scored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, app_config: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ground-truth ids 1 and 200; a prediction without object 200 scores 0.5 (it was 0.995: 198 phantom objects
    scored 1.0), in lucid-track, lucid-eval and lucid-report alike."""
    labels = np.zeros((48, 64), dtype=np.int32)
    labels[8:24, 8:24], labels[28:44, 36:56] = 1, 200
    root = tmp_path / "davis"
    write_still_sequence(root, "gap", labels)
    tracker_module(tmp_path / "modules", monkeypatch, TRACKERS)
    out = tmp_path / "track"
    overrides = [f"data.root={root}", f"out={out}", "tracker._target_=test_trackers.DropLastObject", "plots=true"]
    cli_track.run(app_config("track", [*overrides, *NO_PICTURES]))
    assert (out / "global_results.csv").read_text().splitlines()[1].startswith("0.500,0.500,0.500,")
    assert (out / "per-sequence_results.csv").read_text().splitlines()[1:] == [
        "gap_1,1.000,1.000",
        "gap_200,0.000,0.000",
    ]
    evaluation = cli_eval.run(app_config("eval", [f"data.root={root}", f"results={out}", f"out={tmp_path / 'eval'}"]))
    assert evaluation.summary()["J&F-Mean"] == 0.5
    assert [o.name for o in evaluation.objects()] == ["gap_1", "gap_200"]
    capsys.readouterr()
    assert "| track | 0.5 | 0.5 | 0.5 |" in cli_report.report(out)


# -- output paths: checked before the work -------------------------------------------------------------------------


@pytest.fixture
def results(davis_root: Path, tmp_path: Path, app_config: Any) -> Path:
    """The copy tracker's results on the synthetic root, without scores or pictures."""
    folder = tmp_path / "results"
    cli_track.run(app_config("track", [f"data.root={davis_root}", f"out={folder}", "evaluate=false", *NO_PICTURES]))
    return folder


def not_writable(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Make ``folder`` read-only for the checks (a chmod would not do: the tests may run as root)."""
    access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != folder and access(path, mode))


def test_lucid_eval_refuses_an_unusable_destination_before_scoring(
    davis_root: Path, results: Path, tmp_path: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "file"
    file.write_text("")
    run = run_cli(cli_eval.main, f"data.root={davis_root}", f"results={results}", f"out={file}")
    assert (run.status, run.out) == (2, "")  # no tables printed
    assert run.err == f"lucid-eval: error: out: {file} is a file (expected a folder to write into)\n"
    not_writable(monkeypatch, results)
    run = run_cli(cli_eval.main, f"data.root={davis_root}", f"results={results}", "plots=true")
    assert (run.status, run.out) == (2, "")
    assert (
        run.err
        == f"lucid-eval: error: results: {results} is not writable (expected a folder this user can write into)\n"
    )
    assert not list(results.glob("*results.csv")) and not (results / "plots").exists()


def test_lucid_track_refuses_an_unusable_destination_before_tracking(
    davis_root: Path, tmp_path: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "file"
    file.write_text("")
    run = run_cli(cli_track.main, f"data.root={davis_root}", f"out={file}")
    assert run.status == 2
    assert run.err == f"lucid-track: error: out: {file} is a file (expected a folder to write into)\n"
    run = run_cli(cli_track.main, f"data.root={davis_root}", f"out={file / 'below'}")
    assert run.err == f"lucid-track: error: out: {file} is a file (expected a folder to write into)\n"
    not_writable(monkeypatch, tmp_path)
    run = run_cli(cli_track.main, "-m", f"data.root={davis_root}", f"out={tmp_path / 'out'}", "tracker=copy,flow")
    assert run.status == 2
    assert (
        run.err == f"lucid-track: error: out: {tmp_path} is not writable (expected a folder this user can write into)\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["davis", "file"]


def test_lucid_report_refuses_an_unusable_destination_before_writing(
    results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (results / "global_results.csv").write_text(
        "J&F-Mean,J-Mean,J-Recall,J-Decay,F-Mean,F-Recall,F-Decay\n" + "0.5," * 6 + "0.5\n"
    )
    folder, file = tmp_path / "folder", tmp_path / "file"
    folder.mkdir()
    file.write_text("")
    for argv, message in (
        (["--csv", folder], f"--csv: {folder} is a folder (expected the path of a CSV file to write)"),
        (["--csv", file / "report.csv"], f"--csv: {file} is a file (expected a folder to write into)"),
        (["--out", file], f"--out: {file} is a file (expected a folder to write into)"),
    ):
        assert cli_report.main([str(results), *map(str, argv)]) == 2
        assert capsys.readouterr().err == f"lucid-report: error: {message}\n"
    assert not list(results.glob("report*")) and list(folder.iterdir()) == []


# -- a failed sequence, Ctrl-C, resuming ---------------------------------------------------------------------------


@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "dask"])
def test_a_bad_sequence_does_not_stop_the_others(
    davis_root: Path, tmp_path: Path, run_cli: Any, parallel: bool
) -> None:
    """Frames smaller than DIS takes (a raw cv2.error, or a crash, before): the other sequences are tracked,
    scored and pictured; the failed one is named at the end, exit status 2."""
    labels = np.zeros((8, 10), dtype=np.int32)
    labels[2:6, 2:6] = 1
    write_still_sequence(davis_root, "tiny", labels, frames=3)
    out = tmp_path / "out"
    cluster = ["parallel=true", "cluster.workers=2"] if parallel else []
    run = run_cli(cli_track.main, f"data.root={davis_root}", f"out={out}", "tracker=flow", *NO_PICTURES, *cluster)
    assert run.status == 2
    assert run.err.splitlines()[-1] == (
        "lucid-track: error: 1 of 3 sequence(s) failed (the others are done) — tiny: frames of 10x8 pixels "
        "(expected at least 16x16 for DIS optical flow)"
    )
    assert "tiny failed: tiny: frames of 10x8 pixels" in run.out  # logged when it happens, in one line
    if not parallel:  # (Dask may log tracebacks of its own when it shuts down on a loaded machine)
        assert "Traceback" not in run.err + run.out
    assert sorted(p.name for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")) == ["alpha", "beta"]
    objects = [row.split(",")[0] for row in (out / "per-sequence_results.csv").read_text().splitlines()[1:]]
    assert objects == ["alpha_1", "alpha_2", "beta_1", "beta_2"]
    assert list(read_stage_times(out / "stage_times.csv")) == ["alpha", "beta"]


def test_a_failing_tracker_names_the_sequence_and_exits_1(
    davis_root: Path, tmp_path: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracker_module(tmp_path / "modules", monkeypatch, TRACKERS)
    out = tmp_path / "out"
    run = run_cli(
        cli_track.main,
        f"data.root={davis_root}",
        f"out={out}",
        "tracker._target_=test_trackers.FailsOnBeta",
        *NO_PICTURES,
    )
    assert run.status == 1
    assert (
        run.err.splitlines()[-1] == "lucid-track: error: 1 of 2 sequence(s) failed (the others are done) — beta: boom"
    )
    assert "RuntimeError: boom" in run.out  # the log keeps the traceback of what looks like a bug
    assert (out / "alpha").is_dir() and not (out / "beta").exists() and (out / "global_results.csv").is_file()


def test_ctrl_c_says_how_to_resume(
    davis_root: Path, tmp_path: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_track, "track_sequences", interrupted)
    run = run_cli(cli_track.main, f"data.root={davis_root}", f"out={tmp_path / 'out'}")
    assert (run.status, run.err) == (130, f"lucid-track: {RESUME}\n")


@pytest.mark.slow
def test_ctrl_c_in_a_terminal_then_the_same_command_resumes(davis_root: Path, tmp_path: Path) -> None:
    """SIGINT to the whole process group, as a terminal sends it, while the second sequence is tracked."""
    modules, out, hold = tmp_path / "modules", tmp_path / "out", tmp_path / "hold"
    modules.mkdir()
    (modules / "test_trackers.py").write_text(TRACKERS)
    hold.write_text("")
    env = {**os.environ, "PYTHONPATH": str(modules), "LUCID_TEST_HOLD": str(hold)}
    command = [
        str(Path(sys.executable).parent / "lucid-track"),
        f"data.root={davis_root}",
        f"out={out}",
        "tracker._target_=test_trackers.WaitsOnBeta",
        *NO_PICTURES,
    ]
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # no threads here
    )
    deadline = time.monotonic() + 60
    while not (out / "alpha").is_dir() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    os.killpg(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr.splitlines()[-1] == f"lucid-track: {RESUME}" and "Traceback" not in stderr + stdout
    hold.unlink()
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert "kept the results of alpha" in rerun.stdout
    assert list(read_stage_times(out / "stage_times.csv")) == ["alpha", "beta"]


def test_rerunning_keeps_the_sequences_of_the_same_settings(
    davis_root: Path, tmp_path: Path, app_config: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    common = [f"data.root={davis_root}", f"out={out}", "tracker=flow", *NO_PICTURES]
    cli_track.run(app_config("track", [*common, "data.sequences=[alpha]"]))
    tracked: list[list[str]] = []

    def spy(tracker: Any, sequences: list[Any], *args: Any, **kwargs: Any) -> Any:
        tracked.append([seq.name for seq in sequences])
        return track_sequences(tracker, sequences, *args, **kwargs)

    monkeypatch.setattr(cli_track, "track_sequences", spy)
    cli_track.run(app_config("track", common))
    assert tracked == [["beta"]]
    assert list(read_stage_times(out / "stage_times.csv")) == ["alpha", "beta"]
    cli_track.run(app_config("track", [*common, "tracker.threshold=0.6"]))  # other settings: everything again
    assert tracked[-1] == ["alpha", "beta"]


# -- no stray folders; one config style ----------------------------------------------------------------------------


def test_no_stray_folders_in_the_current_folder(
    davis_root: Path, tmp_path: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cwd, out = tmp_path / "cwd", tmp_path / "out"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    assert run_cli(cli_track.main, f"data.root={davis_root}", f"out={out}", *NO_PICTURES).status == 0
    assert run_cli(cli_eval.main, f"data.root={davis_root}", f"results={out}").status == 0
    assert list(cwd.iterdir()) == []  # no outputs/<date>/<time>/
    assert sorted(p.name for p in out.iterdir()) == [
        ".hydra",
        "alpha",
        "beta",
        "config.yaml",
        "global_results.csv",
        "lucid-track.log",
        "per-sequence_results.csv",
        "stage_times.csv",
    ]


def _leaves(node: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(node, dict):
        return {k: v for key, value in node.items() for k, v in _leaves(value, f"{prefix}{key}.").items()}
    return {prefix[:-1]: node}


def test_every_default_lives_in_its_dataclass(app_config: Any, davis_root: Path, tmp_path: Path) -> None:
    folder = Path(conf.__file__).parent
    for name in ("track", "eval"):
        assert set(OmegaConf.to_container(OmegaConf.load(folder / f"{name}.yaml"))) == {"defaults", "hydra"}
    for name in ("lucid", "oneshot", "flow"):
        yaml = OmegaConf.to_container(OmegaConf.load(folder / "tracker" / f"{name}.yaml"))
        leaves = _leaves({k: v for k, v in yaml.items() if k != "defaults"})
        assert all(str(v).startswith("${profile.") for k, v in leaves.items() if k not in ("_target_", "checkpoints"))
    common = [f"data.root={davis_root}", f"out={tmp_path}"]
    assert cli_eval.overlay_options(app_config("track", common)) == OverlayOptions()
    assert cli_eval.overlay_options(app_config("eval", common[:1] + [f"results={tmp_path}"])) == OverlayOptions(
        video=False, strip=False
    )
    lucid = app_config("track", [*common, "tracker=lucid", "profile=demo"]).tracker
    defaults = LucidConfig()
    jitter = from_container(JitterConfig, OmegaConf.to_container(lucid.jitter), "jitter")
    assert jitter == defaults.jitter  # from the dataclass, not restated
    assert tuple(lucid.tuning.grid.threshold) == tuple(defaults.tuning.grid["threshold"])
