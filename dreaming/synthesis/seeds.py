"""The one seed rule of every dream: sample ``i`` of annotated frame ``f`` of video ``v`` is dreamed from
``SeedSequence([seed, video_key(v), f, i])``.

``lucid-dream`` (each sample, on any worker, whatever the chunk size) and ``lucid-preview`` (pair ``i`` of an image is
sample ``i`` of frame 0 of the video named after the image's stem, as ``lucid-dream data=image`` names it) both
follow it, so a preview shows exactly the pairs a dataset of the same seed holds.
"""

from __future__ import annotations

import hashlib

import numpy as np


def video_key(name: str) -> int:
    """A stable 64-bit integer for a video name (Python's ``hash`` is salted per process)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


def sample_rng(seed: int, video: str, frame: int, index: int) -> np.random.Generator:
    """The generator of sample ``index`` of annotated frame ``frame`` of ``video``."""
    return np.random.default_rng(np.random.SeedSequence([seed, video_key(video), frame, index]))
