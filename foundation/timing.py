"""The one timer: wall-clock seconds of a block, added to a dict of seconds per stage."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def timed(times: dict[str, float], stage: str) -> Iterator[None]:
    """Add the seconds the block takes to ``times[stage]`` (also when it raises)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        times[stage] = times.get(stage, 0.0) + time.perf_counter() - started


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """The shortest of ``repeat`` wall-clock timings of ``fn()``, in seconds."""
    runs: dict[str, float] = {}
    for run in range(repeat):
        with timed(runs, str(run)):
            fn()
    return min(runs.values())
