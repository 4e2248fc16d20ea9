"""Segmentation networks, trained from random initialisation (no pretrained weights anywhere)."""

from segmenters.networks.unet import UNet

__all__ = ["UNet"]
