"""``lucid-dream`` / ``lucid-verify`` / ``lucid-report``: Hydra configuration, exit codes, sweeps, installation."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hydra import compose, initialize_config_module
from omegaconf import DictConfig

from dreaming.hydra_conf import check_run_settings, check_settings, dataset_spec, register_configs, video_sources
from dreaming.synthesis.config import DreamConfig, fast, paper
from dreaming.synthesis.samples import make_clip, write_davis
from foundation.cluster import cluster_config, open_client
from foundation.errors import InputError

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]
QUICK = ["dream=fast", "dream.inpaint.method=telea", "pairs=2", "cluster.workers=1", "progress=false"]


@pytest.fixture(scope="module")
def hydra_conf() -> Iterator[None]:
    register_configs()
    with initialize_config_module(config_module="conf", version_base="1.3"):
        yield


def composed(*overrides: str) -> DictConfig:
    return compose("dream", overrides=["data.root=/nowhere", *overrides])


@pytest.fixture(scope="module")
def davis(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_davis(make_clip(num_frames=2, size=(96, 64)), tmp_path_factory.mktemp("davis"))


def run(*args: Any, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd)


def test_presets_match_the_library(hydra_conf: None) -> None:
    assert dataset_spec(composed()).dream == paper()
    assert dataset_spec(composed("dream=fast")).dream == fast()
    spec = dataset_spec(composed())
    assert (spec.pairs, spec.seed, spec.formats.jpeg_quality, spec.formats.flow) == (2500, 0, 95, "png")


def _changed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value / 2 + 0.125
    if isinstance(value, tuple):
        return tuple(reversed(value)) if len(set(value)) > 1 else (*value, *value)[: len(value)]
    return value + "x"


def _leaves(obj: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            yield from _leaves(value, f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}", value


def _override(key: str, value: Any) -> str:
    if isinstance(value, tuple):
        return f"{key}=[{','.join(str(v) for v in value)}]"
    return f"{key}={str(value).lower() if isinstance(value, bool) else value}"


def test_every_dream_parameter_is_overridable(hydra_conf: None) -> None:
    leaves = dict(_leaves(DreamConfig(), "dream."))
    assert len(leaves) > 25
    changed = {key: _changed(value) for key, value in leaves.items()}
    dream = dataset_spec(composed(*(_override(k, v) for k, v in changed.items()))).dream
    assert dict(_leaves(dream, "dream.")) == changed


def test_malformed_settings_are_named(hydra_conf: None) -> None:
    with pytest.raises(InputError, match=r"dream.placement.scale: 3 values .* \(expected 2 values\)"):
        dataset_spec(composed("dream.placement.scale=[0.5,0.6,0.7]"))
    with pytest.raises(Exception, match="dream.deform.points"):
        composed("dream.deform.points=many")


def test_cluster_address_from_the_command_line_or_environment(hydra_conf: None, monkeypatch) -> None:
    assert cluster_config(composed("cluster=address", "cluster.address=tcp://h:1")).address == "tcp://h:1"
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://env:8786")
    assert cluster_config(composed("cluster=address")).address == "tcp://env:8786"
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS")
    local = cluster_config(composed())
    assert (local.kind, local.workers) == ("local", None)
    with (
        pytest.raises(InputError, match="DASK_SCHEDULER_ADDRESS"),
        open_client(cluster_config(composed("cluster=address"))),
    ):
        pass


def test_data_groups_select_videos(hydra_conf: None, davis: Path) -> None:
    (video,) = video_sources(composed(f"data.root={davis}", "data.frames=[1,0]").data)
    assert video.name == "lucid-sample" and [f.index for f in video.frames] == [0, 1]
    image = compose("dream", overrides=["data=image", "data.image=x/f.jpg", "data.mask=x/f.png"])
    (single,) = video_sources(image.data)
    assert single.name == "f" and single.frames[0].image == Path("x/f.jpg").resolve()


def test_cli_errors_exit_codes_and_verify(davis: Path, tmp_path: Path) -> None:
    missing = run(BIN / "lucid-dream", f"data.root={davis}", "data.sequences=[nope]", *QUICK, f"out={tmp_path}/a")
    assert missing.returncode == 2 and "sequence 'nope' not found" in missing.stdout
    assert "Traceback" not in missing.stdout
    out = tmp_path / "b"
    assert run(BIN / "lucid-dream", f"data.root={davis}", *QUICK, f"out={out}").returncode == 0
    assert run(BIN / "lucid-dream", f"verify={out}").returncode == 0
    (out / "lucid-sample" / "images" / "00000_000001_a.jpg").unlink()
    broken = run(BIN / "lucid-dream", f"verify={out}")
    assert broken.returncode == 1 and "00000_000001_a.jpg: missing" in broken.stdout


def test_multirun_sweep_and_report(davis: Path, tmp_path: Path) -> None:
    sweep = run(
        BIN / "lucid-dream",
        "-m",
        f"data.root={davis}",
        *QUICK,
        f"out={tmp_path}",
        "dream.illumination.p=0,0.5",
    )
    assert sweep.returncode == 0, sweep.stdout
    runs = sorted(p.name for p in tmp_path.iterdir() if p.is_dir())
    assert len(runs) == 2 and all("dream.illumination.p=" in name for name in runs)
    report = run(BIN / "lucid-report", tmp_path, "--csv", tmp_path / "runs.csv")
    assert report.returncode == 0, report.stdout
    header, _, *rows = [line for line in report.stdout.splitlines() if line.startswith("|")]
    assert header.split(" | ")[1] == "dream.illumination.p" and "MB/1000 pairs" in header
    assert [row.split(" | ")[1] for row in rows] == ["0", "0.5"]
    assert (tmp_path / "runs.csv").read_text().splitlines()[0].startswith("run,dream.illumination.p,videos,pairs")


def test_non_editable_install_finds_the_configs(tmp_path: Path) -> None:
    # Built from a copy of the sources, so that setuptools' build/ folder does not land in the repository.
    source = tmp_path / "source"
    for package in ("foundation", "dreaming", "segmenters", "conf"):
        shutil.copytree(REPO / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    wheels = tmp_path / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    built = run(*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", wheels, source)
    assert built.returncode == 0, built.stdout
    site = tmp_path / "site"
    (wheel,) = wheels.glob("lucid_vos-*.whl")
    assert run(*pip, "install", "--no-deps", "--target", site, wheel).returncode == 0
    probe = (
        "import sys, conf, dreaming; assert conf.__file__.startswith(sys.argv[1]), conf.__file__; "
        "assert dreaming.__file__.startswith(sys.argv[1]), dreaming.__file__; "
        "sys.argv = ['lucid-dream', '--cfg', 'job', 'data.root=/x', 'dream=fast']; "
        "from dreaming.cli import dream_main; dream_main()"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    shown = subprocess.run(
        [sys.executable, "-c", probe, str(site)], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert shown.returncode == 0, shown.stderr
    assert "method: alpha" in shown.stdout and "root: /x" in shown.stdout


def test_run_settings_are_checked(hydra_conf: None) -> None:
    for override, message in (
        ("cluster.workers=0", r"cluster.workers: 0 \(expected an integer ≥ 1\)"),
        ("chunk_size=0", "chunk_size: 0"),
        ("retries=-1", "retries: -1"),
    ):
        with pytest.raises(InputError, match=message):
            check_run_settings(composed(override))
    check_run_settings(composed("cluster=address", "cluster.workers=null"))
    with pytest.raises(InputError, match="data.mask: mandatory setting not given"):
        check_settings(compose("dream", overrides=["data=image", "data.image=x.jpg"]))
    with pytest.raises(InputError, match="dream.camera.scale: \\[1.1, 0.9\\]"):
        check_settings(composed("dream.camera.scale=[1.1,0.9]"))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["data=image", "data.image={image}"], "data.mask: mandatory setting not given (expected data.mask="),
        ([], "data.root: mandatory setting not given (expected a DAVIS-layout folder"),
        (["data.root={davis}", "pairs=abc"], "pairs: Value 'abc' of type 'str' could not be converted to Integer"),
        (["data.root={davis}", "formats.flow=bmp"], "formats.flow: unknown flow format 'bmp'"),
        (["data.root={davis}", "dream.inpaint.method=bogus"], "dream.inpaint.method: unknown inpainting method"),
        (["data.root={davis}", "dream.illumination.p=7"], "dream.illumination.p: 7.0 (expected a probability in"),
        (["data.root={davis}", "formats.jpeg_quality=500"], "formats.jpeg_quality: 500 (expected an integer in"),
        (["data.root={davis}", "cluster.workers=0"], "cluster.workers: 0 (expected an integer ≥ 1)"),
        (["data.root={davis}", "data.frames=abc"], "data.frames: 'abc' (expected a frame index or a list"),
        (["data.root={davis}", "dream=nope"], "Could not find 'dream/nope'"),
        (["data.root={davis}", "out={file}"], "out: {file} is a file (expected a folder to write into)"),
        (["verify={file}"], "a-file: not a folder (expected verify= naming a lucid-dream output folder)"),
    ],
)
def test_bad_settings_are_one_line_exit_2_before_any_file(
    davis: Path, tmp_path: Path, overrides: list[str], message: str
) -> None:
    image = davis / "JPEGImages" / "480p" / "lucid-sample" / "00000.jpg"
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    out = tmp_path / "out"
    filled = [o.format(davis=davis, image=image, file=blocker) for o in overrides]
    result = run(BIN / "lucid-dream", *QUICK, f"out={out}", *filled)
    assert result.returncode == 2, result.stdout
    assert result.stdout.count("\n") == 1 and result.stdout.startswith("lucid-dream: error: ")
    assert message.format(file=blocker) in result.stdout
    assert not out.exists()


def test_rerun_repairs_a_damaged_dataset_and_verify_agrees(davis: Path, tmp_path: Path) -> None:
    command = [BIN / "lucid-dream", f"data.root={davis}", *QUICK, f"out={tmp_path}"]
    assert run(*command).returncode == 0
    damaged = tmp_path / "lucid-sample" / "flow" / "00000_000001_ba.png"
    damaged.write_bytes(damaged.read_bytes()[:10])
    assert "00000_000001_ba.png: corrupt" in run(BIN / "lucid-verify", tmp_path).stdout
    again = run(*command, "overwrite=true")
    assert again.returncode == 0 and "repairing 1 damaged file(s)" in again.stdout, again.stdout
    assert run(BIN / "lucid-verify", tmp_path).returncode == 0
