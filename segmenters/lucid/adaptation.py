"""Online adaptation: the video's networks also learn from frames they have tracked themselves.

Dreams show the objects only as the annotated frame does; a car that turns, a rider who comes close, show sides and
sizes no dream of that frame holds. After a first pass over the video, a few tracked frames — at equal steps
through the video, where every object is still there — are taken as annotated with their predicted labels; pairs
are dreamed from each (and from the annotated frame again, so it is not forgotten), the networks continue training
from their weights on them, and the video is tracked again from the first frame learnt from (the frames before
it keep the first pass's labels). Only the annotated frame's labels are ever given: the rest is the tracker's own
(OnAVOS, Voigtlaender & Leibe 2017, adapts online to its own confident pixels; here to whole dreamed frames).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from foundation.errors import InputError


@dataclass(frozen=True)
class AdaptationConfig:
    """What the second pass learns from the first (``tracker.adaptation.*``; on in ``profile=cpu``: +0.022 to
    +0.026 J&F on each of three seeds of the four hardest development sequences, README)."""

    enabled: bool = False
    frames: int = 2
    """Tracked frames learned from: cut into ``frames + 1`` equal stretches, the last frame of each but the last
    where every object is present (:func:`adaptation_frames`)."""
    pairs_per_frame: int = 30
    """Pairs dreamed from each of those frames."""
    reference_pairs: int = 30
    """Pairs of the annotated frame learned from again (its first pairs, dreamed again)."""
    steps: int = 150
    """Training steps, from the networks' weights (the optimiser starts afresh)."""
    lr: float = 0.001

    def __post_init__(self) -> None:
        for name in ("frames", "pairs_per_frame", "steps"):
            if getattr(self, name) < 1:
                raise InputError(f"tracker.adaptation.{name}", f"{getattr(self, name)}", "at least 1")
        if self.reference_pairs < 0:
            raise InputError("tracker.adaptation.reference_pairs", f"{self.reference_pairs}", "at least 0")
        if not self.lr > 0:
            raise InputError("tracker.adaptation.lr", f"{self.lr}", "a positive learning rate")


def objects_present(labels: np.ndarray, ids: Sequence[int]) -> bool:
    """Whether every object of ``ids`` has a pixel in ``labels`` (``int (H, W)``)."""
    return set(ids) <= set(np.unique(labels).tolist())


def adaptation_frames(present: Sequence[bool], count: int) -> list[int]:
    """The frames to learn from, as indices into ``present`` (one flag per tracked frame: whether every object is
    there). The frames are cut into ``count + 1`` equal stretches; of each but the last, the last frame whose flag
    is set (none when no flag is). The last stretch is left out: that is where a first pass's errors have piled up
    most (on drift-turn, learning from the last frame, whose mask held a third of the car, shrank every later mask).
    Increasing, no repeats.

    >>> adaptation_frames([True] * 9, 2)
    [2, 5]
    >>> adaptation_frames([True, True, False, False, False, False], 2)
    [1]
    """
    total = len(present)
    chosen: list[int] = []
    for stretch in range(count):
        start, end = stretch * total // (count + 1), (stretch + 1) * total // (count + 1)
        found = [i for i in range(start, end) if present[i]]
        if found:
            chosen.append(found[-1])
    return chosen
