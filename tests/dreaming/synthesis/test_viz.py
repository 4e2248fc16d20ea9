from __future__ import annotations

import numpy as np
import pytest

from dreaming.synthesis.dream import DreamedFrame, DreamPair
from dreaming.synthesis.viz import (
    add_caption,
    contact_sheet,
    draw_outlines,
    flow_to_color,
    label_colors,
    middlebury_color_wheel,
    overlay_labels,
    save_png,
    tile,
)
from foundation.io import VOID, davis_palette, read_frame


def _constant_flow(dx: float, dy: float, size: int = 4) -> np.ndarray:
    flow = np.zeros((size, size, 2), dtype=np.float32)
    flow[...] = (dx, dy)
    return flow


def test_label_colors_follow_the_davis_palette() -> None:
    colors = label_colors([1, 2, 3])
    assert colors.dtype == np.uint8
    np.testing.assert_array_equal(colors, [(128, 0, 0), (0, 128, 0), (128, 128, 0)])
    np.testing.assert_array_equal(label_colors([7, 200]), davis_palette()[[7, 200]])


def test_color_wheel_matches_the_middlebury_definition() -> None:
    wheel = middlebury_color_wheel()
    assert wheel.shape == (55, 3)
    # Segment starts: red, yellow, green, cyan, blue, magenta (RY=15, YG=6, GC=4, CB=11, BM=13, MR=6).
    np.testing.assert_array_equal(
        wheel[[0, 15, 21, 25, 36, 49]],
        [(255, 0, 0), (255, 255, 0), (0, 255, 0), (0, 255, 255), (0, 0, 255), (255, 0, 255)],
    )
    assert tuple(wheel[1]) == (255, 17, 0)  # floor(255 * 1 / 15)
    assert tuple(wheel[54]) == (255, 0, 43)  # 255 - floor(255 * 5 / 6)


@pytest.mark.parametrize(
    ("dx", "dy", "expected"),
    [
        (1.0, 0.0, (255, 0, 0)),  # angle index 0: pure red
        (-1.0, 0.0, (0, 209, 255)),  # index 27 = cyan→blue step 2: G = 255 - floor(255 * 2 / 11)
        # +y: index 13.5, between (255, 221, 0) and (255, 238, 0): G = floor(229.5)
        (0.0, 1.0, (255, 229, 0)),
        # -y: index 40.5, between (76, 0, 255) and (98, 0, 255): R = floor(0.5 * 78 + 0.5 * 98) = 88
        (0.0, -1.0, (88, 0, 255)),
    ],
)
def test_flow_direction_hues_follow_the_wheel(dx: float, dy: float, expected: tuple[int, int, int]) -> None:
    colors = flow_to_color(_constant_flow(dx, dy))
    assert colors.dtype == np.uint8 and colors.shape == (4, 4, 3)
    np.testing.assert_array_equal(colors[0, 0], expected)
    assert (colors == colors[0, 0]).all()


def test_flow_magnitude_sets_saturation_and_zero_flow_is_white() -> None:
    flow = np.zeros((1, 3, 2), dtype=np.float32)
    flow[0, 1] = (2.0, 0.0)
    flow[0, 2] = (4.0, 0.0)
    colors = flow_to_color(flow)  # normalised by the largest magnitude, 4
    np.testing.assert_array_equal(colors[0, 0], (255, 255, 255))
    np.testing.assert_array_equal(colors[0, 1], (255, 127, 127))  # halfway to red: floor(255 * (1 - 0.5))
    np.testing.assert_array_equal(colors[0, 2], (255, 0, 0))
    # A magnitude beyond max_magnitude is darkened to 75 %, not wrapped.
    np.testing.assert_array_equal(flow_to_color(flow, max_magnitude=2.0)[0, 2], (191, 0, 0))


def test_invalid_and_non_finite_flow_is_black_and_ignored_for_normalisation() -> None:
    flow = _constant_flow(1.0, 0.0)
    flow[0, 0] = (100.0, 0.0)
    flow[3, 3] = (np.nan, 0.0)
    valid = np.ones((4, 4), dtype=bool)
    valid[0, 0] = False
    colors = flow_to_color(flow, valid=valid)
    np.testing.assert_array_equal(colors[0, 0], (0, 0, 0))
    np.testing.assert_array_equal(colors[3, 3], (0, 0, 0))
    np.testing.assert_array_equal(colors[1, 1], (255, 0, 0))  # the huge invalid vector did not set the scale


def _square_scene() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(40, 50, 3), dtype=np.uint8)
    labels = np.zeros((40, 50), dtype=np.int32)
    labels[10:20, 10:20] = 1
    labels[25:35, 30:45] = 2
    labels[0:5, 45:50] = VOID
    return image, labels


def test_overlay_tints_objects_and_leaves_background_untouched() -> None:
    image, labels = _square_scene()
    before = image.copy()
    out = overlay_labels(image, labels, alpha=0.5, contour_thickness=2)
    np.testing.assert_array_equal(image, before)  # input not modified
    assert out.shape == image.shape and out.dtype == np.uint8

    near_object = np.zeros(labels.shape, dtype=bool)
    near_object[8:22, 8:22] = True
    near_object[23:37, 28:47] = True
    far_background = (labels == 0) & ~near_object
    np.testing.assert_array_equal(out[far_background], image[far_background])
    np.testing.assert_array_equal(out[labels == VOID], image[labels == VOID])

    # Inside object 1, away from its outline: the exact 50 % blend with its palette colour.
    inner = image[13:17, 13:17].astype(np.float64)
    expected = np.rint(0.5 * inner + 0.5 * np.array([128, 0, 0])).astype(np.uint8)
    np.testing.assert_array_equal(out[13:17, 13:17], expected)
    # The outline of object 2 is drawn in its colour.
    np.testing.assert_array_equal(out[25, 35], (0, 128, 0))


def test_overlay_without_contour_changes_only_object_pixels() -> None:
    image, labels = _square_scene()
    out = overlay_labels(image, labels, alpha=1.0, contour_thickness=0)
    np.testing.assert_array_equal(out[labels == 0], image[labels == 0])
    np.testing.assert_array_equal(out[labels == 1], np.broadcast_to((128, 0, 0), (100, 3)))


def test_draw_outlines_marks_only_the_boundary() -> None:
    image = np.zeros((20, 20, 3), dtype=np.uint8)
    labels = np.zeros((20, 20), dtype=np.int32)
    labels[5:15, 5:15] = 3
    out = draw_outlines(image, labels, thickness=1, color=(255, 255, 255))
    drawn = out.any(axis=2)
    ring = np.zeros((20, 20), dtype=bool)
    ring[5:15, 5:15] = True
    ring[6:14, 6:14] = False
    np.testing.assert_array_equal(drawn, ring)
    np.testing.assert_array_equal(draw_outlines(image, labels)[5, 5], label_colors([3])[0])


def test_tile_shape_arithmetic_and_placement() -> None:
    red = np.zeros((10, 20, 3), dtype=np.uint8)
    red[..., 0] = 255
    big_blue = np.zeros((20, 40, 3), dtype=np.uint8)
    big_blue[..., 2] = 255
    grid = tile([[red, big_blue, red], [red]], pad=3, background=255)
    assert grid.shape == (2 * 10 + 3 * 3, 3 * 20 + 4 * 3, 3)
    np.testing.assert_array_equal(grid[3:13, 3:23], red)
    np.testing.assert_array_equal(grid[3:13, 26:46], np.broadcast_to((0, 0, 255), (10, 20, 3)))  # resized to the cell
    assert (grid[16:26, 26:46] == 255).all()  # short row padded with background
    assert (grid[:3] == 255).all() and (grid[:, :3] == 255).all()


def test_tile_keeps_aspect_ratio_inside_a_given_cell() -> None:
    square = np.zeros((10, 10, 3), dtype=np.uint8)
    grid = tile([[square]], pad=0, background=255, cell_size=(30, 10))
    assert grid.shape == (10, 30, 3)
    assert (grid[:, 10:20] == 0).all() and (grid[:, :10] == 255).all() and (grid[:, 20:] == 255).all()


def test_add_caption_adds_a_banner_with_text() -> None:
    image = np.zeros((30, 200, 3), dtype=np.uint8)
    one = add_caption(image, "hello")
    two = add_caption(image, "hello\nworld")
    assert one.shape[1] == 200 and one.shape[0] > 30 and two.shape[0] > one.shape[0]
    np.testing.assert_array_equal(one[-30:], image)
    banner = one[:-30]
    assert (banner < 128).any() and (banner == 255).mean() > 0.5  # dark text on white


def test_save_png_round_trips_rgb_and_replaces_atomically(tmp_path) -> None:
    image, _ = _square_scene()
    path = tmp_path / "out" / "picture.png"
    save_png(path, image)
    np.testing.assert_array_equal(read_frame(path), image)
    save_png(path, image[::-1].copy())
    np.testing.assert_array_equal(read_frame(path), image[::-1])
    assert [p.name for p in path.parent.iterdir()] == ["picture.png"]


def _pair(height: int = 30, width: int = 40) -> DreamPair:
    image = np.full((height, width, 3), 100, dtype=np.uint8)
    labels = np.zeros((height, width), dtype=np.int32)
    labels[5:15, 5:15] = 1
    frame = DreamedFrame(image=image, labels=labels, prev_labels=labels)
    flow = np.zeros((height, width, 2), dtype=np.float32)
    flow[..., 0] = 3.0
    valid = np.ones((height, width), dtype=bool)
    valid[:, -3:] = False
    return DreamPair(a=frame, b=frame, flow_ab=flow, flow_ba=-flow, valid_ab=valid, valid_ba=valid, params={})


def test_contact_sheet_has_one_captioned_row_of_four_panels_per_pair() -> None:
    one = contact_sheet([_pair()], cell_width=80)
    three = contact_sheet([_pair()] * 3, cell_width=80)
    cell_h = 60  # 80 * 30 / 40
    assert one.shape[1] == 4 * 80 + 5 * 4
    row_height, remainder = divmod(three.shape[0] - one.shape[0], 2)
    assert remainder == 0 and row_height > cell_h + 2 * 4
    # The last row's flow a→b panel: +x flow at full scale is red, the invalid strip black.
    panel = three[-4 - cell_h : -4, 4 + 2 * (80 + 4) : 4 + 2 * (80 + 4) + 80]
    np.testing.assert_array_equal(panel[cell_h // 2, 10], (255, 0, 0))
    np.testing.assert_array_equal(panel[cell_h // 2, -1], (0, 0, 0))


def test_given_colours_replace_the_palette_for_their_ids() -> None:
    image, labels = _square_scene()
    out = overlay_labels(image, labels, alpha=1.0, contour_thickness=2, colours={2: (10, 20, 250)})
    np.testing.assert_array_equal(out[labels == 1][0], (128, 0, 0))  # not given: the palette's
    np.testing.assert_array_equal(out[labels == 2], np.broadcast_to((10, 20, 250), ((labels == 2).sum(), 3)))
    np.testing.assert_array_equal(label_colors([2, 1], {2: (1, 2, 3)}), [(1, 2, 3), (128, 0, 0)])
