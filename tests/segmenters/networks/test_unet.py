"""The U-Net: shapes, seeded initialisation, normalisation."""

from __future__ import annotations

import pytest
import torch

from segmenters.networks import UNet


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
