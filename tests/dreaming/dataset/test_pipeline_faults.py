"""Faults during a run: a killed worker, a killed client, an external cluster, a failing disk.

Each run's result is compared byte for byte with an undisturbed run of the same settings.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from distributed import Client, LocalCluster

from dreaming.dataset.formats import decode_image, decode_labels, read_flow
from dreaming.dataset.manifest import CHUNKS, Manifest, verify_video
from dreaming.dataset.pipeline import davis_sources, dream_dataset, plan_dataset, run_plan
from dreaming.dataset.writer import DatasetSpec
from dreaming.synthesis.config import InpaintConfig, fast
from dreaming.synthesis.samples import make_clip, write_davis

PAIRS, CHUNK = 40, 2
SPEC = DatasetSpec(dream=replace(fast(), inpaint=InpaintConfig(method="telea")), pairs=PAIRS, seed=1)
CLI_SETTINGS = ["dream=fast", "dream.inpaint.method=telea", f"pairs={PAIRS}", "seed=1", f"chunk_size={CHUNK}"]
BIN = Path(sys.executable).parent


def dataset_files(out: Path) -> dict[str, bytes]:
    """Every file of the video folders under ``out`` but the scene cache (an intermediate, zip-timestamped)."""
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.parent != out and "cache" not in p.relative_to(out).parts
    }


def visible(folder: Path, pattern: str) -> list[Path]:
    """Files matching ``pattern`` but the hidden temporaries of unfinished writes (``pathlib`` globs match them)."""
    return [path for path in folder.glob(pattern) if not path.name.startswith(".")]


def assert_no_partial_files(video: Path) -> None:
    """Every visible data file decodes (a killed write may leave a hidden temporary file, removed on resume)."""
    for path in visible(video / "images", "*.jpg"):
        decode_image(path.read_bytes(), path)
    for folder in ("labels", "prev"):
        for path in visible(video / folder, "*.png"):
            decode_labels(path.read_bytes(), path)
    for path in visible(video / "flow", "*.png"):
        read_flow(path)
    for path in visible(video / CHUNKS, "*.json"):
        json.loads(path.read_text())


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.005)


def records(out: Path) -> int:
    return len(visible(out / "lucid-sample" / CHUNKS, "*.json"))


@pytest.fixture(scope="module")
def davis(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_davis(make_clip(num_frames=2, size=(160, 96)), tmp_path_factory.mktemp("davis"))


@pytest.fixture(scope="module")
def reference(davis: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("reference")
    with Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=":0") as client:
        dream_dataset(davis_sources(davis), SPEC, out, client, chunk_size=CHUNK, progress=False)
    return dataset_files(out)


def test_killed_worker_is_replaced_and_the_result_unchanged(davis: Path, reference, tmp_path: Path) -> None:
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        pids = client.run(os.getpid)
        plan = plan_dataset(davis_sources(davis), SPEC, tmp_path, chunk_size=CHUNK)
        outcome: list[BaseException | None] = []

        def run() -> None:
            try:
                run_plan(plan, client, progress=False)
                outcome.append(None)
            except BaseException as error:
                outcome.append(error)

        thread = threading.Thread(target=run)
        thread.start()
        wait_for(lambda: records(tmp_path) >= 1, 60, "a first chunk")
        busy = [address for address, keys in client.processing().items() if keys] or list(pids)
        os.kill(pids[busy[0]], signal.SIGKILL)
        done_at_kill = records(tmp_path)
        thread.join(120)
    assert outcome == [None]
    assert done_at_kill < PAIRS // CHUNK
    assert dataset_files(tmp_path) == reference
    assert verify_video(tmp_path / "lucid-sample") == []


def test_killed_client_resumes_to_the_same_bytes(davis: Path, reference, tmp_path: Path) -> None:
    command = [BIN / "lucid-dream", f"data.root={davis}", *CLI_SETTINGS, "cluster.workers=2", f"out={tmp_path}"]
    with open(tmp_path / "first.log", "wb") as log:
        first = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for(lambda: records(tmp_path) >= 2, 60, "two chunks")
        finally:
            os.killpg(first.pid, signal.SIGKILL)  # the client, its scheduler and its worker processes
            first.wait()
    video = tmp_path / "lucid-sample"
    assert not Manifest.load(video).complete
    assert records(tmp_path) < PAIRS // CHUNK
    assert_no_partial_files(video)
    second = subprocess.run([*command, "progress=false"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert second.returncode == 0, second.stdout
    assert "pairs already on disk" in second.stdout
    assert dataset_files(tmp_path) == reference


def _scheduler_address(scheduler_file: Path) -> str | None:
    """The address in a scheduler file, ``None`` until the scheduler has written it whole (it is not written
    atomically: a reader can find it empty)."""
    try:
        return str(json.loads(scheduler_file.read_text())["address"])
    except (OSError, ValueError, KeyError):
        return None


@pytest.fixture
def external_cluster(tmp_path: Path) -> Iterator[str]:
    """A scheduler and two single-threaded workers started with the ``dask`` command line."""
    scheduler_file = tmp_path / "scheduler.json"
    common = {"start_new_session": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen(
        [BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
        + ["--scheduler-file", scheduler_file],
        **common,
    )
    processes = [scheduler]
    try:
        wait_for(lambda: _scheduler_address(scheduler_file) is not None, 60, "the scheduler")
        address = _scheduler_address(scheduler_file)
        worker = [BIN / "dask", "worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard"]
        processes.append(subprocess.Popen(worker, **common))
        with Client(address) as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(30)


def test_external_cluster_gives_the_same_bytes(davis: Path, reference, tmp_path: Path, external_cluster: str) -> None:
    out = tmp_path / "out"
    command = [BIN / "lucid-dream", f"data.root={davis}", *CLI_SETTINGS, f"out={out}", "progress=false"]
    result = subprocess.run([*command, "cluster=address", f"cluster.address={external_cluster}"], capture_output=True)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    assert dataset_files(out) == reference


def test_failed_write_leaves_no_partial_file_and_resumes(
    davis: Path, reference, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A disk that fills up in the middle of writing the 6th flow file: half the bytes land, then ENOSPC.
    real_write = Path.write_bytes
    flows = iter(range(10**6))

    def failing_write(self: Path, data: bytes) -> int:
        if self.parent.name == "flow" and next(flows) == 5:
            real_write(self, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real_write(self, data)

    with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=":0") as client:
        monkeypatch.setattr(Path, "write_bytes", failing_write)
        with pytest.raises(OSError, match=r"cannot write .*/flow/\S+\.png \(No space left on device\)"):
            dream_dataset(davis_sources(davis), SPEC, tmp_path, client, chunk_size=CHUNK, retries=0, progress=False)
        monkeypatch.undo()
        video = tmp_path / "lucid-sample"
        assert not list(video.rglob(".*.tmp*"))
        assert_no_partial_files(video)
        assert not Manifest.load(video).complete
        dream_dataset(davis_sources(davis), SPEC, tmp_path, client, chunk_size=CHUNK, progress=False)
    assert dataset_files(tmp_path) == reference


def test_ctrl_c_is_one_line_and_the_rerun_resumes(davis: Path, tmp_path: Path) -> None:
    # Ctrl-C in a terminal sends SIGINT to the whole process group: lucid-dream and its worker processes. Ten times
    # the pairs of the other tests, so that the run cannot end before the signal.
    settings = [*CLI_SETTINGS, f"pairs={10 * PAIRS}", "cluster.workers=2", "progress=false"]
    command = [BIN / "lucid-dream", f"data.root={davis}", *settings, f"out={tmp_path}"]
    first = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # a background child would ignore it
    )
    try:
        wait_for(lambda: records(tmp_path) >= 1, 60, "a first chunk")
        os.killpg(first.pid, signal.SIGINT)
        output, _ = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    assert first.returncode == 130, output
    lines = [line for line in output.splitlines() if not line.startswith("[")]  # the INFO log lines
    assert lines == ["lucid-dream: interrupted; rerun the same command to resume"], output
    video = tmp_path / "lucid-sample"
    assert not Manifest.load(video).complete
    assert_no_partial_files(video)
    second = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert second.returncode == 0 and "pairs already on disk" in second.stdout, second.stdout
    assert verify_video(video) == []
