"""Post-processing: hand-checked values of the pure functions, and the tuning finding what is planted."""

from __future__ import annotations

import numpy as np
import pytest

from segmenters.postprocess import ObjectProbabilities, PostProcessConfig, postprocess
from segmenters.postprocess.functional import fill_holes, guided_filter, recalibrate, remove_small_components
from segmenters.postprocess.refine import clean_labels
from segmenters.postprocess.tuning import ValidationFrame, frames_jf, postprocessed, tune_on_frames

FULL = np.s_[0:40, 0:40]


def test_recalibrate_moves_the_decision_to_the_threshold_and_keeps_the_order() -> None:
    p = np.array([0.1, 0.55, 0.65, 0.7, 0.75, 0.99], dtype=np.float32)
    q = recalibrate(p, 0.7)
    assert q[3] == pytest.approx(0.5, abs=1e-6)
    assert ((q > 0.5) == (p > 0.7)).all() and (np.diff(q) > 0).all()
    assert np.allclose(recalibrate(p, 0.5), p, atol=1e-6)
    with pytest.raises(ValueError, match="threshold"):
        recalibrate(p, 1.0)


def test_guided_filter_keeps_an_edge_the_guide_has_and_smooths_where_it_has_none() -> None:
    guide = np.zeros((40, 40), dtype=np.uint8)
    guide[:, 20:] = 255
    p = np.zeros((40, 40), dtype=np.float32)
    p[:, 20:] = 1.0
    p[10, 5] = 1.0  # isolated noise on a flat part of the guide
    out = guided_filter(guide, p, 4, 1e-3)
    assert out[:, 19].max() < 0.05 and out[:, 20].min() > 0.95  # the edge stays within one pixel
    assert out[10, 5] < 0.2  # the speck is smoothed away (a box of 81 px)
    assert guided_filter(guide, p, 0, 1e-3) is p


def test_guided_filter_on_a_flat_guide_is_a_double_box_mean() -> None:
    p = np.zeros((21, 21), dtype=np.float32)
    p[10, 10] = 1.0
    out = guided_filter(np.full((21, 21), 128, np.uint8), p, 1, 0.01)
    # a = 0 where the guide is flat, so the output is the 3x3 mean of the 3x3 mean: 1/81 spread over 5x5
    assert out[10, 10] == pytest.approx(9 / 81, abs=1e-6)
    assert out[8, 8] == pytest.approx(1 / 81, abs=1e-6)
    assert out[7, 7] == 0


def test_remove_small_components_drops_pieces_below_the_fraction_of_the_largest() -> None:
    mask = np.zeros((30, 30), dtype=bool)
    mask[2:12, 2:12] = True  # 100 px
    mask[20:22, 20:22] = True  # 4 px
    mask[20:25, 2:7] = True  # 25 px
    kept = remove_small_components(mask, 0.1)
    assert kept[2:12, 2:12].all() and kept[20:25, 2:7].all() and not kept[20:22, 20:22].any()
    assert remove_small_components(mask, 0.0) is mask


def test_fill_holes_fills_small_inner_holes_only() -> None:
    mask = np.zeros((30, 30), dtype=bool)
    mask[5:25, 5:25] = True  # 400 px minus the holes
    mask[10, 10] = False  # 1-px hole
    mask[15:22, 15:22] = False  # 49-px hole
    mask[0:5, 0:3] = True  # touches the border: the background beside it is not a hole
    filled = fill_holes(mask, 0.05)
    assert filled[10, 10] and not filled[15:22, 15:22].any() and not filled[0:5, 3:5].any()
    assert fill_holes(mask, 0.2)[15:22, 15:22].all()


def test_clean_labels_never_fills_over_another_object() -> None:
    labels = np.zeros((20, 20), dtype=np.int32)
    labels[2:18, 2:18] = 1
    labels[8:11, 8:11] = 2  # another object inside object 1: not a hole to fill
    labels[5, 5] = 0
    out = clean_labels(labels, [1, 2], PostProcessConfig(fill_holes=0.05))
    assert out[5, 5] == 1 and (out[8:11, 8:11] == 2).all()


def _frame(p_appearance: np.ndarray, p_motion: np.ndarray, truth: np.ndarray) -> ValidationFrame:
    image = np.full((*truth.shape, 3), 100, dtype=np.uint8)
    return ValidationFrame(image, truth.astype(np.int32), (ObjectProbabilities(3, FULL, p_appearance, p_motion),))


def test_postprocess_fuses_with_the_weight_and_thresholds() -> None:
    appearance = np.zeros((40, 40), dtype=np.float32)
    motion = np.ones((40, 40), dtype=np.float32)
    objects = [ObjectProbabilities(3, FULL, appearance, motion)]
    shape = (40, 40)
    assert (postprocess(np.zeros((40, 40, 3), np.uint8), objects, PostProcessConfig(0.3), shape) == 3).all()
    assert (postprocess(np.zeros((40, 40, 3), np.uint8), objects, PostProcessConfig(0.6), shape) == 0).all()
    high = PostProcessConfig(0.3, threshold=0.8)  # p = 0.7 is below the threshold
    assert (postprocess(np.zeros((40, 40, 3), np.uint8), objects, high, shape) == 0).all()


def test_tuning_on_frames_finds_the_planted_threshold_and_weight() -> None:
    rng = np.random.default_rng(0)
    frames = []
    for _ in range(3):
        p = rng.uniform(0, 1, (40, 40)).astype(np.float32)
        truth = np.where(p > 0.7, 3, 0)
        frames.append(_frame(rng.uniform(0, 1, (40, 40)).astype(np.float32), p, truth))  # appearance is noise
    start = PostProcessConfig()
    grid = {"appearance_weight": (0.0, 0.5, 1.0), "threshold": (0.5, 0.7)}
    result = tune_on_frames(frames, start, grid, postprocessed)
    assert result.best.appearance_weight == 0.0 and result.best.threshold == 0.7
    assert result.score == pytest.approx(1.0) and result.start_score < 0.8
    assert result.score == pytest.approx(frames_jf(frames, result.best, postprocessed))
    # a grid that cannot help keeps the starting values
    assert tune_on_frames(frames, start, {"fill_holes": (0.0,)}, postprocessed).best == start
    # too few frames to tune on: the starting values are kept, untried
    few = tune_on_frames(frames, start, grid, postprocessed, min_frames=4)
    assert few.best == start and few.score == few.start_score == pytest.approx(frames_jf(frames, start, postprocessed))
    with pytest.raises(ValueError, match="unknown"):
        tune_on_frames(frames, start, {"colour": (1,)}, postprocessed)
