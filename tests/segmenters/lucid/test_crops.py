"""Windows around an object: crop, paste and their geometry."""

from __future__ import annotations

import numpy as np
import pytest

from segmenters.lucid.crops import Window, crop, crop_flow, mask_window, paste, paste_region


def test_window_maps_its_box_onto_the_crop() -> None:
    window = Window(cx=49.5, cy=29.5, side=60.0)
    matrix = window.matrix(30)
    # The window's edges (x = cx ± side / 2 in pixel-centre coordinates) land on the crop's edges -0.5, 29.5.
    assert np.allclose(matrix @ np.array([19.5, -0.5, 1.0]), [-0.5, -0.5])
    assert np.allclose(matrix @ np.array([79.5, 59.5, 1.0]), [29.5, 29.5])
    centre = matrix @ np.array([49.5, 29.5, 1.0])
    assert np.allclose(centre, [14.5, 14.5])
    assert window.scale(30) == 0.5


def test_mask_window_encloses_the_mask_with_a_margin() -> None:
    mask = np.zeros((100, 120), bool)
    mask[20:40, 30:70] = True
    window = mask_window(mask, margin=0.25, min_side=10)
    assert window == Window(cx=49.5, cy=29.5, side=60.0)
    assert mask_window(np.zeros((5, 5), bool)) is None
    tiny = np.zeros((50, 50), bool)
    tiny[10, 10] = True
    assert mask_window(tiny, margin=0.25, min_side=24).side == 24


def test_crop_then_paste_restores_the_mask() -> None:
    mask = np.zeros((100, 120), np.float32)
    mask[20:40, 30:70] = 1
    window = mask_window(mask, 0.25)
    restored = paste(crop(mask, window, 120), window, mask.shape)
    assert np.array_equal(restored > 0.5, mask > 0.5)
    region, values = paste_region(crop(mask, window, 120), window, mask.shape)
    assert np.allclose(values, restored[region], atol=1e-4)
    assert restored[region].sum() == pytest.approx(restored.sum(), abs=1e-2)  # nothing outside the region


def test_paste_region_outside_the_frame_is_empty() -> None:
    region, values = paste_region(np.ones((8, 8), np.float32), Window(-50.0, -50.0, 20.0), (30, 40))
    assert values.size == 0 and np.zeros((30, 40))[region].size == 0


def test_crop_flow_is_in_crop_pixels() -> None:
    flow = np.zeros((50, 60, 2), np.float32)
    flow[..., 0], flow[..., 1] = 4.0, -2.0
    cropped = crop_flow(flow, Window(30.0, 25.0, 20.0), 40)  # twice the resolution
    assert np.allclose(cropped[5:-5, 5:-5], [8.0, -4.0])
