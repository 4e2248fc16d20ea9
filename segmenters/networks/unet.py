"""A compact U-Net (Ronneberger et al., MICCAI 2015), randomly initialised, for mask prediction on small crops."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F


def conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """Two 3x3 convolutions, each followed by batch normalisation and ReLU; spatial size unchanged."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    """Encoder–decoder with skip connections: ``(B, in_channels, H, W)`` → ``(B, out_channels, H, W)`` logits.

    Args:
        in_channels: input channels (e.g. RGB + guidance mask = 4).
        out_channels: output logit maps.
        widths: channels of each level, finest first; the input is halved ``len(widths) - 1`` times, so ``H`` and
            ``W`` should be multiples of ``2 ** (len(widths) - 1)``.
    """

    def __init__(self, in_channels: int, out_channels: int = 1, widths: Sequence[int] = (16, 32, 64, 128)) -> None:
        super().__init__()
        widths = [int(w) for w in widths]
        if len(widths) < 2 or min(widths) < 1:
            raise ValueError(f"widths must list at least two positive channel counts, got {widths}")
        self.in_channels, self.out_channels, self.widths = in_channels, out_channels, tuple(widths)
        self.encoders = nn.ModuleList(
            conv_block(c_in, c_out) for c_in, c_out in zip([in_channels, *widths[:-1]], widths, strict=True)
        )
        self.decoders = nn.ModuleList(
            conv_block(deep + skip, skip) for deep, skip in zip(widths[:0:-1], widths[-2::-1], strict=True)
        )
        self.head = nn.Conv2d(widths[0], out_channels, 1)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")

    @property
    def stride(self) -> int:
        """Input sides must be multiples of this."""
        return 2 ** (len(self.widths) - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for level, encoder in enumerate(self.encoders):
            x = encoder(x if level == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        x = skips.pop()
        for decoder in self.decoders:
            skip = skips.pop()
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = decoder(torch.cat([x, skip], dim=1))
        return self.head(x)
