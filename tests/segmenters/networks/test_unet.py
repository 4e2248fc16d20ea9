"""The U-Net, the crop geometry, the network inputs and the fusion of probabilities."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from segmenters.lucid.crops import Window, crop, crop_flow, mask_window, paste, paste_region
from segmenters.lucid.inputs import flow_features, network_inputs, warp_guidance
from segmenters.networks import UNet
from segmenters.postprocess.fusion import fuse, merge_objects


@pytest.mark.parametrize(("widths", "size"), [((4, 8), (16, 16)), ((4, 8, 16, 16), (40, 24)), ((4, 8, 16), (30, 18))])
def test_unet_keeps_the_input_size(widths: tuple[int, ...], size: tuple[int, int]) -> None:
    torch.manual_seed(0)
    net = UNet(5, 3, widths).eval()
    out = net(torch.randn(2, 5, *size))
    assert out.shape == (2, 3, *size)
    assert net.stride == 2 ** (len(widths) - 1)


def test_unet_is_randomly_initialised_from_the_torch_seed() -> None:
    torch.manual_seed(1)
    a = UNet(4, 1, (4, 8))
    torch.manual_seed(1)
    b = UNet(4, 1, (4, 8))
    torch.manual_seed(2)
    c = UNet(4, 1, (4, 8))
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))
    assert not torch.equal(a.head.weight, c.head.weight)


def test_unet_rejects_a_single_level() -> None:
    with pytest.raises(ValueError, match="at least two"):
        UNet(4, 1, (8,))


def test_group_norm_unet_predicts_a_crop_alike_alone_or_in_a_batch_and_in_train_or_eval_mode() -> None:
    """Group normalisation uses no batch statistics: what the network learns in training is what it computes when
    tracking one crop at a time. Batch normalisation does not have that property (the check can fail)."""
    torch.manual_seed(0)
    batch = torch.randn(4, 4, 16, 16)
    for norm, alike in (("group", True), ("batch", False)):
        torch.manual_seed(0)
        net = UNet(4, 1, (8, 16), norm).train()
        with torch.no_grad():
            together, alone = net(batch)[:1], net(batch[:1])
            evaluated = net.eval()(batch[:1])
        assert torch.allclose(together, alone, atol=1e-5) is alike
        assert torch.allclose(together, evaluated, atol=1e-5) is alike


def test_unet_rejects_an_unknown_normalisation() -> None:
    with pytest.raises(ValueError, match="unknown normalisation 'layer'"):
        UNet(4, 1, (4, 8), "layer")


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


def test_flow_features_ignore_the_camera_motion() -> None:
    flow = np.full((32, 32, 2), 7.0, np.float32)  # the whole window moves alike: no object motion
    assert np.allclose(flow_features(flow, direction=True), 0)
    flow[10:20, 10:20] += (3.0, 4.0)  # an object moving 5 px relative to the background
    features = flow_features(flow, direction=True)
    assert features.shape == (3, 32, 32)
    assert features[0, 15, 15] > 0 and features[0, 0, 0] == 0
    assert features[1, 15, 15] / features[2, 15, 15] == pytest.approx(3 / 4)


def test_network_inputs_have_the_documented_channels() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    guidance = np.zeros((40, 50), bool)
    guidance[10:20, 15:30] = True
    window = mask_window(guidance)
    appearance, motion = network_inputs(image, np.zeros((40, 50, 2), np.float32), guidance, window, 16, False)
    assert appearance.shape == (4, 16, 16) and motion.shape == (2, 16, 16)
    assert set(np.unique(appearance[3])) == {0.0, 1.0} and np.array_equal(appearance[3], motion[1])


def test_warp_guidance_moves_the_mask_along_the_flow() -> None:
    mask = np.zeros((20, 30), bool)
    mask[5:10, 5:10] = True
    flow = np.zeros((20, 30, 2), np.float32)
    flow[..., 0] = -3.0  # current pixel x is seen at x - 3 in the previous frame: the object moved right by 3
    moved = warp_guidance(mask, flow)
    assert np.array_equal(moved, np.roll(mask, 3, axis=1))


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
