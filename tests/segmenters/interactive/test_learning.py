"""Learning a video from its annotated frames: large frames are dreamed at a bounded working size."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from dreaming.synthesis.samples import make_clip
from foundation.errors import InputError
from foundation.settings import from_container
from segmenters.demo import lucid_settings
from segmenters.interactive.learning import LearningConfig, LearningCosts, frame_pairs, steps_within, working_size
from segmenters.lucid.tracker import LucidConfig


def test_working_size_scales_the_longest_side_down_and_keeps_the_ids() -> None:
    image = np.random.default_rng(0).integers(0, 255, (1080, 1920, 3)).astype(np.uint8)
    labels = np.zeros((1080, 1920), np.int32)
    labels[100:500, 200:1000] = 7  # 320,000 px
    labels[700:740, 1500:1540] = 3  # 1,600 px
    small_image, small_labels = working_size(image, labels, 960)
    assert small_image.shape == (540, 960, 3) and small_labels.shape == (540, 960)
    assert small_labels.dtype == labels.dtype and set(np.unique(small_labels)) == {0, 3, 7}
    assert np.count_nonzero(small_labels == 7) == 320_000 // 4 and np.count_nonzero(small_labels == 3) == 1_600 // 4
    assert np.abs(small_image.astype(float).mean() - image.mean()) < 1  # area-averaged, not a crop
    for max_side in (0, 1920, 4000):  # 0: full size; never scaled up
        same_image, same_labels = working_size(image, labels, max_side)
        assert same_image is image and same_labels is labels


def test_a_large_annotated_frame_is_dreamed_at_the_working_size() -> None:
    clip = make_clip(num_frames=2, size=(320, 192), num_objects=2)
    labels = np.where(clip.labels[0] == 255, 0, clip.labels[0]).astype(np.int32)
    cfg = replace(from_container(LucidConfig, lucid_settings("demo"), "tracker"), progress=False)
    pairs = frame_pairs(clip.frames[0], labels, 0, cfg, LearningConfig(pairs_per_frame=2, max_side=160), "clip")
    assert len(pairs) == 2
    for pair in pairs:
        assert pair.images.shape == (2, 96, 160, 3) and pair.labels.shape == (2, 96, 160)
        assert pair.flows.shape == (2, 96, 160, 2)
        assert {1, 2} <= set(np.unique(pair.labels[0]))
    full = frame_pairs(clip.frames[0], labels, 0, cfg, LearningConfig(pairs_per_frame=1, max_side=0), "clip")
    assert full[0].images.shape == (2, 192, 320, 3)


def test_a_negative_working_size_is_refused() -> None:
    with pytest.raises(InputError, match="session.learning.max_side"):
        LearningConfig(max_side=-1)


def test_a_frame_the_objects_fill_is_augmented_not_dreamed(caplog: pytest.LogCaptureFixture) -> None:
    # A close-up: the dilated objects leave no background to inpaint, so no dream can be made from the frame.
    clip = make_clip(num_frames=2, size=(96, 64), num_objects=1)
    labels = np.ones((64, 96), np.int32)
    labels[:, 48:] = 2
    cfg = replace(from_container(LucidConfig, lucid_settings("demo"), "tracker"), progress=False)
    with caplog.at_level("WARNING"):
        pairs = frame_pairs(clip.frames[0], labels, 3, cfg, LearningConfig(pairs_per_frame=2), "close-up")
    assert len(pairs) == 2 and "close-up frame 3: the objects fill the frame" in caplog.text
    for pair in pairs:
        assert pair.images.shape == (2, 64, 96, 3)
        assert set(np.unique(pair.labels)) <= {0, 1, 2, 255} and (pair.labels == 1).any()
        assert not pair.flows.any()  # augmented: nothing moved between the two images


def test_steps_within_a_budget_are_hand_computed() -> None:
    costs = LearningCosts(pair=0.25, step=0.8, frame=0.1)
    # 100 s left: 40 pairs (10 s) and 100 tracked object-frames (10 s) leave 80 s, 100 steps of 0.8 s
    assert steps_within(100.0, 500, 40, 100, costs, 50) == 100
    assert steps_within(100.0, 60, 40, 100, costs, 50) == 60  # fewer asked than fit
    assert steps_within(100.0, 20, 40, 100, costs, 50) == 20  # fewer asked than the least worth training: all fit
    assert steps_within(30.0, 20, 40, 100, costs, 50) == 0  # … but not 12 of them
    assert steps_within(100.0, 500, 40, 100, costs, 101) == 0  # fewer fit than the least worth training
    assert steps_within(15.0, 500, 40, 100, costs, 1) == 0  # the dreaming and tracking alone overrun
    assert steps_within(-5.0, 500, 0, 0, costs, 1) == 0  # the budget is spent
    assert steps_within(1.0, 500, 0, 0, LearningCosts(step=0.0), 1) == 500  # free steps: all of them


def test_a_negative_budget_or_cost_is_refused() -> None:
    with pytest.raises(InputError, match="session.learning.budget"):
        LearningConfig(budget=-1.0)
    with pytest.raises(InputError, match="session.learning.min_share"):
        LearningConfig(min_share=0.0)
    with pytest.raises(InputError, match="session.learning.costs.step"):
        LearningCosts(step=-0.1)
