"""Segmentation networks, trained from random initialisation (no pretrained weights anywhere)."""

from segmenters.networks.unet import NORMS, UNet, norm_layer

__all__ = ["NORMS", "UNet", "norm_layer"]
