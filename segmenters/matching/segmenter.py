"""The appearance network with FEELVOS's matching maps among its inputs, trained end to end (Voigtlaender et al.,
CVPR 2019, on object crops).

A small encoder embeds three crops of the same object: the current frame's (in the window around the guidance), the
annotated frame's (around the object's annotated mask) and the previous frame's (the current window). From the
embeddings, per crop pixel:

* **global** matching: the distance to the nearest pixel of the object, and to the nearest pixel of everything else,
  in the annotated frame's crop;
* **local** matching: the same against the previous frame's crop, within a window of ``radius`` embedding pixels.

The maps (``1 − 2 / (1 + e^d)`` of squared L2 distances) are upsampled to the crop and given to the segmentation
U-Net beside the RGB and the guidance. The encoder learns only through the segmentation loss: what makes the maps
useful to the head is what it learns.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from segmenters.matching.functional import dense_global_matching, windowed_local_matching
from segmenters.networks.unet import UNet, conv_block

MATCHING_MODES = ("none", "global", "local", "both")

CURRENT, REFERENCE, PREVIOUS = slice(0, 4), slice(4, 8), slice(8, 12)
"""The input's channel groups, each RGB (normalised) then a 0/1 mask: the current crop and its guidance, the
annotated frame's crop and the object's mask there, the previous frame's crop and the object's mask there."""

INPUT_CHANNELS = 12


@dataclass(frozen=True)
class MatchingInputsConfig:
    """The matching maps the appearance network reads (``tracker.appearance.matching``)."""

    mode: str = "none"
    """``none`` (RGB and guidance only), ``global``, ``local`` or ``both``."""
    widths: tuple[int, ...] = (16, 32, 64)
    """Channels per level of the embedding encoder; it embeds at a stride of ``2 ** len(widths)``."""
    dim: int = 16
    """Embedding channels."""
    radius: int = 2
    """Local matching window radius, in embedding pixels (2 at stride 8: ±16 crop pixels)."""


def map_count(mode: str) -> int:
    """Matching maps of ``mode``: two per kind (the object, everything else)."""
    if mode not in MATCHING_MODES:
        raise ValueError(f"unknown matching mode {mode!r}, expected one of {MATCHING_MODES}")
    return {"none": 0, "global": 2, "local": 2, "both": 4}[mode]


class CropEncoder(nn.Module):
    """``(B, 3, S, S)`` normalised RGB → ``(B, dim, S / stride, S / stride)`` embedding, ``stride = 2 **
    len(widths)``: the crop is seen at half resolution (the maps are coarse anyway; a quarter of the cost)."""

    def __init__(self, widths: tuple[int, ...], dim: int, norm: str) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            conv_block(c_in, c_out, norm) for c_in, c_out in zip([3, *widths[:-1]], widths, strict=True)
        )
        self.head = nn.Conv2d(widths[-1], dim, 1)
        self.stride = 2 ** len(widths)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(F.avg_pool2d(x, 2) if block is self.blocks[0] else F.max_pool2d(x, 2))
        return self.head(x)


def downsample_mask(mask: torch.Tensor, stride: int) -> torch.Tensor:
    """``(B, 1, S, S)`` 0/1 mask → ``bool (B, S / stride, S / stride)``: cells at least half covered."""
    return F.avg_pool2d(mask, stride)[:, 0] >= 0.5


class MatchingSegmenter(nn.Module):
    """``(B, 12, S, S)`` (channel groups :data:`CURRENT`, :data:`REFERENCE`, :data:`PREVIOUS`) → ``(B, 1, S, S)``
    logits: the ``head`` U-Net applied to the current crop, its guidance and the matching maps of ``mode``.

    Args:
        head: U-Net of ``4 + map_count(mode)`` input channels.
        encoder: the crops' embedding.
        mode: ``global``, ``local`` or ``both``.
        radius: local matching window radius (embedding pixels).
    """

    def __init__(self, head: UNet, encoder: CropEncoder, mode: str, radius: int) -> None:
        super().__init__()
        if mode == "none" or head.in_channels != 4 + map_count(mode):
            raise ValueError(f"a head of {head.in_channels} input channels cannot read the matching maps of {mode!r}")
        self.head, self.encoder, self.mode, self.radius = head, encoder, mode, radius

    @property
    def stride(self) -> int:
        """Input sides must be multiples of this."""
        return max(self.head.stride, self.encoder.stride)

    def matching_maps(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, map_count(mode), S, S)`` matching maps of the input ``x`` (``(B, 12, S, S)``), in ``[0, 1)``: for
        global then local matching, the distance to the object, then to everything else."""
        crops = torch.cat([x[:, CURRENT][:, :3], x[:, REFERENCE][:, :3], x[:, PREVIOUS][:, :3]])
        current, reference, previous = self.encoder(crops).chunk(3)
        stride = self.encoder.stride
        # Distances in float32 whatever the autocast: bf16 keeps 3 significant digits of a sum of 16 squares.
        with torch.autocast(device_type=x.device.type, enabled=False):
            current, reference, previous = current.float(), reference.float(), previous.float()
            maps = []
            if self.mode in ("global", "both"):
                inside = downsample_mask(x[:, REFERENCE][:, 3:].float(), stride)
                maps.append(dense_global_matching(current, reference, torch.stack([inside, ~inside], 1)))
            if self.mode in ("local", "both"):
                inside = downsample_mask(x[:, PREVIOUS][:, 3:].float(), stride)
                maps.append(windowed_local_matching(current, previous, torch.stack([inside, ~inside], 1), self.radius))
            return F.interpolate(torch.cat(maps, 1), size=x.shape[-2:], mode="bilinear", align_corners=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        maps = self.matching_maps(x)
        return self.head(torch.cat([x[:, CURRENT], maps.to(x.dtype)], 1))


def build_matching_segmenter(head: UNet, cfg: MatchingInputsConfig, norm: str) -> MatchingSegmenter:
    """A randomly initialised :class:`MatchingSegmenter` around ``head`` (seeded by torch's global generator)."""
    return MatchingSegmenter(head, CropEncoder(tuple(cfg.widths), cfg.dim, norm), cfg.mode, cfg.radius)
