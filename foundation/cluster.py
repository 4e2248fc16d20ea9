"""The Dask cluster: where the work runs (:class:`ClusterConfig`), a client on it, and how its workers are set up.

The only module that imports ``distributed``: import it where a cluster is used, not at the top of a library module.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import cv2
import dask
from distributed import Client, LocalCluster, WorkerPlugin
from omegaconf import DictConfig, OmegaConf

from foundation.errors import InputError
from foundation.settings import from_container


@dataclass
class ClusterConfig:
    """Where the work runs: a new ``LocalCluster`` or an existing scheduler."""

    kind: str = "local"
    """``local`` (start a LocalCluster of processes) or ``address`` (connect to a running scheduler)."""
    address: str | None = None
    """Scheduler address for ``kind=address``, e.g. ``tcp://host:8786``."""
    workers: int | None = None
    """LocalCluster worker processes (one thread each); ``None``: one per core."""
    dashboard_address: str | None = None
    """LocalCluster dashboard, e.g. ``:8787`` (needs bokeh); ``None``: any free port (no clash between runs)."""


def cluster_config(cfg: DictConfig) -> ClusterConfig:
    """The ``cluster`` group of an app's config (``conf/cluster/``)."""
    return from_container(ClusterConfig, OmegaConf.to_container(cfg.cluster, resolve=True), "cluster")


def task_key(kind: str, name: str) -> tuple[str, str]:
    """The Dask key of the task ``kind`` does for ``name`` (e.g. a sequence), e.g. ``("robot", "dance-jump")``.

    Every task of one kind shares a key prefix, so the scheduler sees one task group and holds its tasks in its own
    queue, handing them out as worker threads free up. Keys like ``"robot-dance-jump"`` are one group each (Dask
    keeps alphabetic words in the group name): the tasks are assigned to workers the moment they are submitted, and
    work stealing does not move a task whose duration is unknown — on the 2-core machine eight sequences of
    ``lucid-interactive`` queued behind one worker while the other stood idle.
    """
    return (kind, name)


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)


def keep_freed_memory() -> None:
    """Let glibc reuse freed large blocks instead of returning them to the system at once.

    Dask's nannies set ``MALLOC_TRIM_THRESHOLD_``, which freezes glibc's mmap threshold at 128 KiB: every large
    temporary array is then mmapped and page-faulted afresh, and a pair costs about 2.4 times as much (measured at
    854x480). Setting the thresholds at run time fixes it on any cluster. No-op without glibc.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(_M_MMAP_THRESHOLD, 32 * 2**20)  # glibc's maximum
    libc.mallopt(_M_TRIM_THRESHOLD, 256 * 2**20)


class WorkerSetup(WorkerPlugin):
    """Prepare each worker: one thread for OpenCV and torch (parallelism comes from the worker processes), and
    :func:`keep_freed_memory`."""

    name = "lucid-worker-setup"

    def setup(self, worker: Any) -> None:
        cv2.setNumThreads(1)
        # torch reads this when first imported; if a task already imported it, set it directly.
        os.environ["OMP_NUM_THREADS"] = "1"
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(1)
        keep_freed_memory()


@contextlib.contextmanager
def _workers_ignore_ctrl_c() -> Iterator[None]:
    """Start worker processes inside: they ignore Ctrl-C (an ignored signal stays ignored in child processes).

    A terminal sends Ctrl-C's SIGINT to the whole process group: only this process should stop (it cancels the work
    and shuts the cluster down), not each worker with its own tracebacks.
    """
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _quiet_when_interrupted() -> Iterator[None]:
    try:
        yield
    except KeyboardInterrupt:
        # Workers stopped in the middle of their tasks: Dask's warnings about it are expected, not news.
        logging.getLogger("distributed").setLevel(logging.CRITICAL)
        raise


@contextlib.contextmanager
def open_client(cfg: ClusterConfig) -> Iterator[Client]:
    """A Dask client on the cluster ``cfg`` describes, closed (and a LocalCluster shut down) on exit. The worker
    processes of a LocalCluster ignore Ctrl-C; on Ctrl-C the shutdown is quiet."""
    if cfg.kind == "address":
        if not cfg.address:
            raise InputError(
                "cluster.address", "no scheduler address", "cluster.address=tcp://host:8786 or DASK_SCHEDULER_ADDRESS"
            )
        try:
            client = Client(cfg.address, timeout="30s")
        except OSError as error:
            raise InputError(
                "cluster.address", f"cannot reach {cfg.address} ({error})", "a running scheduler"
            ) from None
        with client, _quiet_when_interrupted():
            yield client
    elif cfg.kind == "local":
        workers = cfg.workers or os.cpu_count() or 1
        if workers < 1:
            raise InputError("cluster.workers", f"{workers}", "at least 1 worker")
        # Non-daemonic worker processes, for the cluster's whole life (a nanny reads it at each worker's start):
        # a task that trains starts DataLoader processes (profile=gpu: 12), which a daemonic process may not have.
        with dask.config.set({"distributed.worker.daemon": False}):
            with _workers_ignore_ctrl_c():
                cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=cfg.dashboard_address or ":0",
                )
            with cluster, Client(cluster) as client, _quiet_when_interrupted():
                yield client
    else:
        raise InputError("cluster.kind", f"unknown cluster kind {cfg.kind!r}", "local or address")
