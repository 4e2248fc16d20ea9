"""A compact U-Net (Ronneberger et al., MICCAI 2015), randomly initialised, for mask prediction on small crops."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

NORMS = ("batch", "group", "none")


def norm_layer(name: str) -> Callable[[int], nn.Module]:
    """The normalisation after each convolution, as a function of the channel count.

    ``batch``: batch statistics in training, running averages in evaluation; ``group``: GroupNorm over groups of 8
    channels (fewer groups for narrow layers), the same computation in training and evaluation, independent of the
    batch; ``none``: identity.
    """
    if name == "batch":
        return nn.BatchNorm2d
    if name == "group":
        return lambda channels: nn.GroupNorm(max(1, channels // 8), channels)
    if name == "none":
        return lambda channels: nn.Identity()
    raise ValueError(f"unknown normalisation {name!r}, expected one of {NORMS}")


@dataclass(frozen=True)
class UNetConfig:
    """A :class:`UNet`'s shape: channels per level and normalisation."""

    widths: tuple[int, ...] = (16, 32, 64, 128)
    """Channels per level, finest first."""
    norm: str = "batch"
    """Normalisation after each convolution (:func:`norm_layer`): ``batch``, ``group`` or ``none``."""


def conv_block(in_channels: int, out_channels: int, norm: str = "batch") -> nn.Sequential:
    """Two 3x3 convolutions, each followed by normalisation (:func:`norm_layer`) and ReLU; spatial size unchanged."""
    make_norm = norm_layer(norm)
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=norm == "none"),
        make_norm(out_channels),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=norm == "none"),
        make_norm(out_channels),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    """Encoder–decoder with skip connections: ``(B, in_channels, H, W)`` → ``(B, out_channels, H, W)`` logits.

    Args:
        in_channels: input channels (e.g. RGB + guidance mask = 4).
        out_channels: output logit maps.
        widths: channels of each level, finest first; the input is halved ``len(widths) - 1`` times, so ``H`` and
            ``W`` should be multiples of ``2 ** (len(widths) - 1)``.
        norm: normalisation after each convolution (:func:`norm_layer`).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int = 1,
        widths: Sequence[int] = (16, 32, 64, 128),
        norm: str = "batch",
    ) -> None:
        super().__init__()
        widths = [int(w) for w in widths]
        if len(widths) < 2 or min(widths) < 1:
            raise ValueError(f"widths must list at least two positive channel counts, got {widths}")
        self.in_channels, self.out_channels, self.widths = in_channels, out_channels, tuple(widths)
        self.encoders = nn.ModuleList(
            conv_block(c_in, c_out, norm) for c_in, c_out in zip([in_channels, *widths[:-1]], widths, strict=True)
        )
        self.decoders = nn.ModuleList(
            conv_block(deep + skip, skip, norm) for deep, skip in zip(widths[:0:-1], widths[-2::-1], strict=True)
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


def build_unet(cfg: UNetConfig, in_channels: int, out_channels: int = 1) -> UNet:
    """A randomly initialised :class:`UNet` of ``cfg``'s shape (seeded by torch's global generator)."""
    return UNet(in_channels, out_channels, cfg.widths, cfg.norm)
