"""Drift: a tracker that follows its own previous mask must not spread onto a look-alike, and must find an object
again after it was hidden. Both clips share frame 0 with the embedded clip, so one model learnt from it (``make
demo``'s settings) serves them all; each test also shows the failure without the part that prevents it (the
proposals; the whole-frame search)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dreaming.synthesis.samples import Clip, make_clip
from segmenters.demo import CLIP, lucid_settings
from segmenters.lucid.model import LucidModel
from segmenters.lucid.tracker import LucidTracker

OCCLUDED = (8, 14)
"""Frames in which the cat (object 1) is fully hidden."""


def _tracker(proposals: bool = True, *overrides: str) -> LucidTracker:
    """LucidTracker at ``make demo``'s settings on the CPU, with or without the proposals."""
    fixed = ["tracker.device=cpu", "tracker.progress=false", f"tracker.proposals.enabled={str(proposals).lower()}"]
    return LucidTracker(**lucid_settings(overrides=[*fixed, *overrides]))


@pytest.fixture(scope="module")
def learnt(embedded: Clip) -> LucidModel:
    """The model learnt from the embedded clip's frame 0."""
    torch.set_num_threads(1)
    return _tracker().fit(embedded.frames[0], embedded.labels[0], "clip")


def _follow(model: LucidModel, clip: Clip, proposals: bool = True, *overrides: str) -> list[np.ndarray]:
    tracker = _tracker(proposals, *overrides)
    return [clip.labels[0], *tracker.follow(model, clip.frames[0], clip.frames[1:], clip.labels[0])]


def _distractor_taken(labels: list[np.ndarray], clip: Clip, plain: Clip) -> float:
    """Mean share of the distractor's pixels labelled as some object, over the frames it shows in: its pixels are
    those that differ from the plain clip where the plain clip is background."""
    shares = []
    for frame, predicted in enumerate(labels):
        changed = np.abs(clip.frames[frame].astype(int) - plain.frames[frame].astype(int)).sum(-1) > 40
        region = changed & (plain.labels[frame] == 0)
        if region.sum() >= 50:
            shares.append(float((predicted[region] > 0).mean()))
    assert len(shares) >= 10, "the distractor should show in most frames"
    return float(np.mean(shares))


@pytest.mark.slow
def test_a_look_alike_entering_the_background_is_not_taken(learnt: LucidModel, embedded: Clip) -> None:
    clip = make_clip(**CLIP, distractor=True)
    labels = _follow(learnt, clip)
    # benchmarks/drift_clips.py, seeds 0-2 on the development machine: 0.011, 0.055, 0.002 of the distractor taken
    # with the proposals; 0.47, 0.65, 0.40 without.
    assert _distractor_taken(labels, clip, embedded) < 0.15
    assert _distractor_taken(_follow(learnt, clip, proposals=False), clip, embedded) > 0.3


def _hidden_and_found(labels: list[np.ndarray], clip: Clip) -> tuple[float, float]:
    """(largest area of object 1 while hidden, over its area in frame 0; its mean J from two frames after)."""
    start, stop = OCCLUDED
    area = float((clip.labels[0] == 1).sum())
    hidden = max(float((labels[f] == 1).sum()) / area for f in range(start, stop))
    scores = []
    for f in range(stop + 2, len(labels)):
        predicted, truth = labels[f] == 1, clip.labels[f] == 1
        scores.append((predicted & truth).sum() / max((predicted | truth).sum(), 1))
    return hidden, float(np.mean(scores))


@pytest.mark.slow
def test_an_object_hidden_for_several_frames_is_found_again(learnt: LucidModel) -> None:
    clip = make_clip(**CLIP, occlusion=OCCLUDED)
    hidden, found = _hidden_and_found(_follow(learnt, clip), clip)
    # benchmarks/drift_clips.py, seeds 0-2: nothing labelled on the occluder, J 0.91, 0.86, 0.85 after it. The
    # object is dropped while hidden and found again by the whole-frame search: without that search it stays lost.
    assert hidden < 0.1
    assert found > 0.7
    assert _hidden_and_found(_follow(learnt, clip, True, "tracker.proposals.redetect=false"), clip)[1] < 0.3
