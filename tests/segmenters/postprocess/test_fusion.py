"""Fusing the two networks' probabilities and merging objects without overlaps."""

from __future__ import annotations

import numpy as np
import pytest

from segmenters.postprocess.fusion import fuse, merge_objects


def test_fuse_is_a_weighted_average() -> None:
    a, m = np.array([0.9, 0.1]), np.array([0.5, 0.5])
    assert np.allclose(fuse(a, m, 0.75), [0.8, 0.2])
    with pytest.raises(ValueError):
        fuse(a, m, 1.5)


def test_merge_one_object_thresholds_at_one_half() -> None:
    p = np.array([[0.2, 0.49, 0.51, 0.9]], np.float32)
    labels = merge_objects([(7, np.s_[0:1, 0:4], p)], (1, 4))
    assert labels.tolist() == [[0, 0, 7, 7]]


def test_merge_objects_never_overlap_and_follow_the_odds() -> None:
    full = np.s_[0:1, 0:3]
    p1 = np.array([[0.9, 0.45, 0.3]], np.float32)
    p2 = np.array([[0.6, 0.45, 0.35]], np.float32)
    labels = merge_objects([(1, full, p1), (2, full, p2)], (1, 3))
    # Pixel 0: object 1 has the highest odds. Pixel 1: background 0.55**2 = 0.3025 against two objects at 0.45,
    # a tie between objects goes to the first. Pixel 2: background 0.455 beats 0.35.
    assert labels.tolist() == [[1, 1, 0]]


def test_merge_objects_uses_each_objects_region_only() -> None:
    labels = merge_objects(
        [(3, np.s_[0:2, 0:2], np.ones((2, 2), np.float32)), (4, np.s_[1:3, 1:3], np.ones((2, 2), np.float32))],
        (3, 3),
    )
    assert labels.tolist() == [[3, 3, 0], [3, 3, 4], [0, 4, 4]]
