"""The appearance network with matching maps: what the maps say about identical crops, shapes, gradients, errors."""

from __future__ import annotations

import pytest
import torch

from segmenters.matching.segmenter import (
    INPUT_CHANNELS,
    MatchingInputsConfig,
    build_matching_segmenter,
    map_count,
)
from segmenters.networks import UNet


def segmenter(mode: str) -> torch.nn.Module:
    torch.manual_seed(0)
    head = UNet(4 + map_count(mode), 1, (4, 8), "group")
    return build_matching_segmenter(head, MatchingInputsConfig(mode=mode, widths=(4, 8), dim=4, radius=1), "group")


def inputs(same: bool) -> torch.Tensor:
    """``(2, 12, 32, 32)``: random crops; the object is the left half (mask 1) in the reference and previous crops.
    ``same``: the reference and previous RGB equal the current crop's."""
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(2, INPUT_CHANNELS, 32, 32, generator=generator)
    for masked in (3, 7, 11):
        x[:, masked] = 0.0
        x[:, masked, :, :16] = 1.0
    if same:
        x[:, 4:7] = x[:, 0:3]
        x[:, 8:11] = x[:, 0:3]
    return x


@pytest.mark.parametrize("mode", ["global", "local", "both"])
def test_an_unchanged_object_matches_itself_exactly_whatever_the_weights(mode: str) -> None:
    """When the annotated and previous crops are the current one, each pixel's nearest object (or background) pixel
    is itself: distance 0 to its own side, whatever the encoder has learnt; the maps are ordered object, background
    per kind."""
    net = segmenter(mode).eval()
    with torch.no_grad():
        maps = net.matching_maps(inputs(same=True))
    assert maps.shape == (2, map_count(mode), 32, 32)
    # Away from the edge between the halves, where upsampling mixes the two sides' cells.
    for kind in range(map_count(mode) // 2):
        inside, outside = maps[:, 2 * kind], maps[:, 2 * kind + 1]
        assert inside[:, :, :10].abs().max() < 1e-6 and outside[:, :, 22:].abs().max() < 1e-6
        assert inside[:, :, 22:].min() > 0 and outside[:, :, :10].min() > 0
    with torch.no_grad():
        different = net.matching_maps(inputs(same=False))
    assert different[:, 0, :, :10].min() > 0  # other crops: no exact match


def test_the_segmentation_loss_trains_the_encoder_through_the_maps() -> None:
    net = segmenter("both")
    net(inputs(same=False)).mean().backward()
    grads = [p.grad for p in net.encoder.parameters()]
    assert all(g is not None for g in grads) and any(g.abs().sum() > 0 for g in grads if g is not None)
    assert net(inputs(same=False)).shape == (2, 1, 32, 32)


def test_a_head_that_cannot_read_the_maps_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot read the matching maps"):
        build_matching_segmenter(UNet(4, 1, (4, 8)), MatchingInputsConfig(mode="both"), "group")
    with pytest.raises(ValueError, match="unknown matching mode"):
        map_count("nearest")
