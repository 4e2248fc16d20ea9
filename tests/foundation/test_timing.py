"""The one timer: seconds per stage, and the best of repeated runs."""

from __future__ import annotations

import itertools

import pytest

from foundation.timing import best_of, timed


def test_best_of_is_the_shortest_run(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([0.0, 3.0, 10.0, 11.5, 20.0, 22.0])  # runs of 3, 1.5 and 2 seconds
    monkeypatch.setattr("foundation.timing.time.perf_counter", lambda: next(clock))
    calls = itertools.count()
    assert best_of(lambda: next(calls), repeat=3) == 1.5
    assert next(calls) == 3


def test_timed_adds_up_per_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([0.0, 1.0, 5.0, 7.0])
    monkeypatch.setattr("foundation.timing.time.perf_counter", lambda: next(clock))
    times: dict[str, float] = {"dream": 0.5}
    with timed(times, "dream"):
        pass
    with timed(times, "train"):
        pass
    assert times == {"dream": 1.5, "train": 2.0}
