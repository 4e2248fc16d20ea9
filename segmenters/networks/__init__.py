"""Segmentation networks, trained from random initialisation (no pretrained weights anywhere), and their inputs."""

from segmenters.networks.inputs import image_features
from segmenters.networks.unet import NORMS, UNet, UNetConfig, build_unet, norm_layer

__all__ = ["NORMS", "UNet", "UNetConfig", "build_unet", "image_features", "norm_layer"]
