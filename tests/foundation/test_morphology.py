"""Label-map morphology: what is thin is what an opening by the disk removes, region by region."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from foundation.morphology import disk, thin_parts


def _opened_everywhere(labels: np.ndarray, radius: int, ids: list[int]) -> np.ndarray:
    """The same question answered on the whole frame, one label at a time."""
    thin = np.zeros(labels.shape, dtype=bool)
    for label in ids:
        mask = (labels == label).astype(np.uint8)
        opened = cv2.morphologyEx(mask, cv2.MORPH_OPEN, disk(radius), borderType=cv2.BORDER_REPLICATE)
        thin |= (mask > 0) & (opened == 0)
    return thin


def test_a_line_is_thin_and_the_square_it_leaves_is_not() -> None:
    labels = np.zeros((60, 80), dtype=np.int32)
    labels[10:40, 10:40] = 1
    labels[20:23, 40:75] = 1  # a 3-px line leaving the square
    labels[45:58, 50:52] = 2  # a 2-px bar: another object, thin all over
    thin = thin_parts(labels, 2, [1, 2])
    assert thin[20:23, 43:75].all()  # all but where a disk in the square reaches out
    assert not thin[12:38, 12:38].any()  # the square's inside survives; only its corner pixels may go
    assert thin[45:58, 50:52].all()
    assert not thin[labels == 0].any()  # background was not asked about


def test_radius_zero_finds_nothing_and_unasked_ids_are_left() -> None:
    labels = np.zeros((20, 20), dtype=np.int32)
    labels[5, 2:18] = 3
    assert not thin_parts(labels, 0).any()
    assert not thin_parts(labels, 3, [1]).any()
    assert thin_parts(labels, 1)[5, 2:18].all()


@pytest.mark.parametrize("radius", [1, 2, 4])
def test_equals_the_opening_of_every_label_over_the_whole_frame(radius: int) -> None:
    rng = np.random.default_rng(radius)
    # Blocky random labels touching the frame's border: windows of every region, clipped at the edges.
    labels = cv2.resize(rng.integers(0, 4, (9, 12)).astype(np.uint8), (96, 72), interpolation=cv2.INTER_NEAREST)
    labels = labels.astype(np.int32)
    labels[30:33, :] = 3  # a thin band across the frame
    ids = [int(i) for i in np.unique(labels)]
    np.testing.assert_array_equal(thin_parts(labels, radius), _opened_everywhere(labels, radius, ids))
