"""Illumination changes in HSV: saturation and value each become ``a * x**b + c`` (in [0, 1], clipped)."""

from __future__ import annotations

import cv2
import numpy as np

from dreaming.config import IlluminationConfig


def adjust_illumination(image: np.ndarray, saturation: tuple[float, float, float], value: tuple[float, float, float]):
    """Apply ``a * x**b + c`` to the S and V channels.

    Args:
        image: ``uint8 (H, W, 3)`` RGB.
        saturation, value: ``(a, b, c)`` for each channel.

    Returns:
        ``uint8 (H, W, 3)`` RGB; hue unchanged.
    """
    hsv = cv2.cvtColor(image.astype(np.float32) * np.float32(1 / 255), cv2.COLOR_RGB2HSV)
    for channel, (a, b, c) in ((1, saturation), (2, value)):
        x = hsv[..., channel]
        np.power(x, np.float32(b), out=x)
        x *= np.float32(a)
        x += np.float32(c)
        np.clip(x, 0.0, 1.0, out=x)
    rgb = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


def sample_illumination(rng: np.random.Generator, cfg: IlluminationConfig) -> dict[str, list[float]] | None:
    """Draw an illumination change with probability ``cfg.p``: ``{"saturation": [a, b, c], "value": [a, b, c]}``,
    or ``None`` for no change."""
    if rng.random() >= cfg.p:
        return None
    return {
        channel: [float(rng.uniform(*cfg.a)), float(rng.uniform(*cfg.b)), float(rng.uniform(*cfg.c))]
        for channel in ("saturation", "value")
    }


def apply_illumination(image: np.ndarray, params: dict[str, list[float]] | None) -> np.ndarray:
    """Apply parameters from :func:`sample_illumination` (``None`` returns ``image`` unchanged)."""
    if params is None:
        return image
    return adjust_illumination(image, tuple(params["saturation"]), tuple(params["value"]))
