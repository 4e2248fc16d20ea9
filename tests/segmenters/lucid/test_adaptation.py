from __future__ import annotations

import numpy as np

from segmenters.lucid.adaptation import adaptation_frames, objects_present


def test_the_frames_cut_the_video_into_equal_stretches_and_skip_the_last() -> None:
    assert adaptation_frames([True] * 9, 2) == [2, 5]
    assert adaptation_frames([True] * 12, 3) == [2, 5, 8]
    # Stretch 0..2 ends with an object missing: its last frame with all of them; stretch 3..5 has none.
    assert adaptation_frames([True, True, False, False, False, False, True, True, True], 2) == [1]
    assert adaptation_frames([True, True], 4) == [0]  # more stretches than frames: each frame once at most
    assert adaptation_frames([], 2) == []


def test_objects_present_needs_every_object() -> None:
    labels = np.zeros((4, 4), np.int32)
    labels[0, 0], labels[1, 1] = 1, 3
    assert objects_present(labels, [1, 3]) and not objects_present(labels, [1, 2, 3])
