"""The cluster: tasks of one kind wait in the scheduler's queue, not behind one busy worker; its worker processes may
start processes of their own."""

from __future__ import annotations

import multiprocessing
import time

import pytest
from distributed import Client, Event, LocalCluster

from foundation.cluster import ClusterConfig, open_client, task_key

NAMES = ["bear", "boat", "car-turn", "dance-jump", "dog-agility", "drift-turn", "hockey", "kite-walk"]


@pytest.fixture(scope="module")
def client() -> Client:
    # Threads, not processes: the scheduler's queueing is the same, and the test starts in a second.
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0")
    with cluster, Client(cluster) as client:
        yield client


def _assigned_and_queued(client: Client, keys: list) -> tuple[int, int]:
    """How many of the submitted (blocked) tasks the scheduler has assigned to workers, and how many it queues."""
    release = Event("release")
    futures = [client.submit(_blocked, key=key, pure=False) for key in keys]
    try:
        deadline = time.monotonic() + 30
        while sum(states := client.run_on_scheduler(_states, keys=keys)) < len(keys) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        release.set()
        client.gather(futures)
        release.clear()
    return states


def _blocked() -> None:
    Event("release").wait(30)


def _states(dask_scheduler: object, keys: list) -> tuple[int, int]:
    """How many of ``keys`` are assigned to a worker, and how many wait in the scheduler's queue."""
    states = [dask_scheduler.tasks[key].state for key in keys if key in dask_scheduler.tasks]  # type: ignore[attr-defined]
    return states.count("processing"), states.count("queued")


def test_tasks_of_one_kind_wait_in_the_schedulers_queue(client: Client) -> None:
    assigned, queued = _assigned_and_queued(client, [task_key("robot", name) for name in NAMES])
    # Dask gives each worker thread its task and (worker-saturation 1.1) one more; the rest wait to be handed out.
    assert assigned <= 2 * 2 and queued == len(NAMES) - assigned


def test_a_key_per_name_would_assign_everything_at_once(client: Client) -> None:
    """Why :func:`task_key` exists: the scheduler commits such tasks to workers when they are submitted."""
    assigned, queued = _assigned_and_queued(client, [f"robot-{name}" for name in NAMES])
    assert (assigned, queued) == (len(NAMES), 0)


def _is_daemonic() -> bool:
    return multiprocessing.current_process().daemon


def test_local_cluster_workers_may_start_processes() -> None:
    """Training on a worker starts DataLoader processes (profile=gpu): Dask's default daemonic workers refuse."""
    with open_client(ClusterConfig(workers=1)) as client:
        assert client.submit(_is_daemonic, pure=False).result() is False
