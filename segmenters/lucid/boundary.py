"""Boundaries at the object's own resolution: a small network that refines a coarse probability along its edge.

The appearance network sees each object in a window resampled to a fixed crop (128 px at ``profile=cpu``), so a
large object's mask is predicted at a fraction of its resolution and upsampled: its boundary is blurred by several
frame pixels. The refiner looks at square patches of the *frame* at native resolution (``patch`` px) centred on the
band around the coarse mask's edge, given the RGB and the coarse probability, and predicts the object there.

It is trained per video on the dreams, like the other networks: the coarse input is the dreamed object's true mask
degraded as the tracker degrades it — resampled to the crop size of a jittered window and back, its edge shifted
by a random smooth displacement and grown or shrunk by a pixel or two — so that nothing but the annotated frame is
used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from foundation.errors import InputError
from foundation.io import VOID
from segmenters.lucid.crops import Window, crop, mask_window, paste_region
from segmenters.lucid.inputs import dilate, erode
from segmenters.lucid.samples import CropConfig, JitterConfig, TrainingPair
from segmenters.networks import UNet, UNetConfig, image_features
from segmenters.training import predict_probability


@dataclass(frozen=True)
class BoundaryConfig(UNetConfig):
    """The boundary refiner: its network (:class:`~segmenters.networks.UNetConfig`), patches and training."""

    enabled: bool = True
    widths: tuple[int, ...] = (16, 32, 64)
    norm: str = "group"
    patch: int = 64
    """Patch side (frame px at native resolution); a multiple of the network's stride."""
    band: int = 16
    """Half-width (px) of the band around the coarse edge that is refined. Training patches put the edge up to a
    quarter patch from their centre, so the refiner may move it that far: 16 px (from 6: +0.006 J&F, +0.012 F on the
    development set, same networks; boat, kite-walk and mallard-fly up with seed 0 and seed 1). It also bounds the
    training blobs (``blob_p``); 24 px with ``grow=3 blob_p=0.5``: −0.010 J&F on the development set."""
    steps: int = 500
    batch_size: int = 16
    lr: float = 0.002
    shift: float = 2.0
    """Scale (frame px) of the smooth random displacement of the simulated coarse edge."""
    grow: int = 1
    """Largest growth or shrinkage (crop px) of the simulated coarse mask."""
    blob_p: float = 0.0
    """Probability that a training patch's coarse mask also gains or loses an elliptic blob centred on the object's
    edge (half-axes up to ``band`` px): the appearance network's larger local errors, such as a shadow or a
    look-alike it spills onto. With ``grow=3``: +0.016 J&F on four development sequences (3 seeds), but −0.006 on
    four others (seed 1) and +0.003 on all ten (seed 0), so not the default (README)."""


def boundary_band(mask: np.ndarray, radius: int) -> np.ndarray:
    """``bool (H, W)``: pixels within ``radius`` px of the edge of ``mask`` (``bool (H, W)``), on either side."""
    return dilate(mask, radius) & ~erode(mask, radius)


def patch_centres(band: np.ndarray, patch: int) -> np.ndarray:
    """``int64 (N, 2)`` ``(x, y)`` centres of ``patch``-px squares on a grid of step ``patch / 2`` whose central
    half holds a pixel of ``band`` (``bool (H, W)``): every band pixel lies in the central half of some patch."""
    step = patch // 2
    height, width = band.shape
    rows, cols = -(-height // step), -(-width // step)
    padded = np.zeros((rows * step, cols * step), dtype=bool)
    padded[:height, :width] = band
    cells = padded.reshape(rows, step, cols, step).any(axis=(1, 3))
    ys, xs = np.nonzero(cells)
    return np.stack([xs * step + step // 2, ys * step + step // 2], axis=1).astype(np.int64)


def cut_patch(array: np.ndarray, centre: tuple[int, int], patch: int) -> np.ndarray:
    """The ``patch x patch`` square of ``array`` (``(H, W)`` or ``(H, W, C)``) whose pixel ``patch // 2`` (both
    axes) is ``centre = (x, y)``; outside the frame reads 0. A copy, same dtype."""
    height, width = array.shape[:2]
    x0, y0 = centre[0] - patch // 2, centre[1] - patch // 2
    out = np.zeros((patch, patch, *array.shape[2:]), dtype=array.dtype)
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x0 + patch, width), min(y0 + patch, height)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = array[sy0:sy1, sx0:sx1]
    return out


def refiner_inputs(image: np.ndarray, coarse: np.ndarray, centre: tuple[int, int], patch: int) -> np.ndarray:
    """``float32 (4, P, P)``: the normalised RGB of ``image`` (``uint8 (H, W, 3)``) and the coarse probability
    (``float32 (H, W)``) in the patch at ``centre``."""
    rgb = image_features(cut_patch(image, centre, patch))
    return np.concatenate([rgb, cut_patch(coarse.astype(np.float32, copy=False), centre, patch)[None]])


def _tent(patch: int) -> np.ndarray:
    """``float32 (P, P)`` blending weight: 1 in the centre, falling linearly towards the patch's edges."""
    ramp = 1.0 - np.abs(np.arange(patch) - (patch - 1) / 2) / (patch / 2)
    return np.outer(ramp, ramp).astype(np.float32) + 1e-3


def simulate_coarse(
    mask: np.ndarray, window: Window, size: int, shift: float, rng: np.random.Generator, grow: int = 1
) -> tuple[tuple[slice, slice], np.ndarray]:
    """What the appearance network might say about ``mask`` (``bool (H, W)``) seen in ``window`` at ``size`` px: the
    mask resampled into the crop, its edge moved by a smooth random displacement of scale ``shift`` frame px, grown
    or shrunk by up to ``grow`` crop px, blurred, and pasted back: ``(region, float32 probability over region)``."""
    coarse = crop(mask.astype(np.float32), window, size)
    scale = window.scale(size)
    amplitude = shift * scale
    grid = rng.normal(size=(4, 4, 2)).astype(np.float32)
    field = cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC) * np.float32(amplitude)
    xs, ys = np.meshgrid(np.arange(size, dtype=np.float32), np.arange(size, dtype=np.float32))
    coarse = cv2.remap(coarse, xs + field[..., 0], ys + field[..., 1], cv2.INTER_LINEAR)
    step = int(rng.integers(-grow, grow + 1))
    if step:
        kernel = np.ones((2 * abs(step) + 1,) * 2, np.uint8)
        coarse = cv2.dilate(coarse, kernel) if step > 0 else cv2.erode(coarse, kernel)
    coarse = cv2.GaussianBlur(coarse, (0, 0), float(rng.uniform(0.3, 1.0)))
    region, values = paste_region(coarse, window, mask.shape)
    return region, np.clip(values, 0.0, 1.0)


def ellipse_blob(
    probability: np.ndarray, centre: tuple[float, float], axes: tuple[float, float], angle: float, add: bool
) -> np.ndarray:
    """``probability`` (``float32 (H, W)``) with a filled ellipse (``centre`` ``(x, y)``, half-``axes`` in px,
    ``angle`` in degrees, edge blurred by a pixel) set to 1 where ``add``, else to 0. A new array."""
    blob = np.zeros(probability.shape, np.float32)
    cv2.ellipse(
        blob,
        (round(centre[0]), round(centre[1])),
        (max(round(axes[0]), 1), max(round(axes[1]), 1)),
        angle,
        0,
        360,
        1.0,
        -1,
    )
    blob = cv2.GaussianBlur(blob, (0, 0), 1.0)
    return np.maximum(probability, blob) if add else probability * (1.0 - blob)


class BoundarySamples(Dataset):
    """Item ``i`` is one patch on a dreamed object's edge, drawn from ``SeedSequence([seed, i, 3])``: ``boundary
    float32 (4, P, P)`` (:func:`refiner_inputs`), ``target float32 (1, P, P)``, ``weight float32 (1, P, P)``."""

    def __init__(
        self,
        pairs: Sequence[TrainingPair],
        cfg: BoundaryConfig,
        crop_cfg: CropConfig,
        jitter: JitterConfig,
        seed: int,
        length: int,
    ) -> None:
        if len(pairs) == 0:
            raise InputError("pairs", "no dreamed pair to train on", "at least one pair")
        self.pairs, self.cfg, self.crop_cfg, self.jitter, self.seed, self.length = (
            pairs,
            cfg,
            crop_cfg,
            jitter,
            seed,
            length,
        )

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, index, 3]))
        for _ in range(100):
            pair = self.pairs[int(rng.integers(len(self.pairs)))]
            frame = int(rng.integers(2))
            labels = pair.labels[frame]
            ids = [i for i in np.unique(labels).tolist() if i not in (0, VOID)]
            if ids:
                break
        else:
            raise InputError("pairs", "no dreamed frame shows an object", "dreams with objects in view")
        mask = labels == int(rng.choice(ids))
        base = mask_window(mask, self.crop_cfg.margin, self.crop_cfg.min_side)
        assert base is not None
        side = base.side * float(rng.uniform(*self.jitter.scale))
        window = Window(base.cx, base.cy, side)
        region, values = simulate_coarse(mask, window, self.crop_cfg.size, self.cfg.shift, rng, self.cfg.grow)
        coarse = np.zeros(mask.shape, np.float32)
        coarse[region] = values
        ys, xs = np.nonzero(boundary_band(mask, 1))
        k = int(rng.integers(xs.size))
        jitter = rng.integers(-(self.cfg.patch // 4), self.cfg.patch // 4 + 1, size=2)
        centre = (int(xs[k] + jitter[0]), int(ys[k] + jitter[1]))
        if self.cfg.blob_p > 0 and rng.random() < self.cfg.blob_p:
            radius = rng.uniform(0.25, 1.0, size=2) * self.cfg.band
            coarse = ellipse_blob(
                coarse, (xs[k], ys[k]), (radius[0], radius[1]), float(rng.uniform(0, 180)), bool(rng.random() < 0.5)
            )
        inputs = refiner_inputs(pair.images[frame], coarse, centre, self.cfg.patch)
        target = cut_patch(mask.astype(np.float32), centre, self.cfg.patch)[None]
        weight = cut_patch((labels != VOID).astype(np.float32), centre, self.cfg.patch)[None]
        if rng.random() < 0.5:
            inputs, target, weight = (np.ascontiguousarray(a[..., ::-1]) for a in (inputs, target, weight))
        return {
            "boundary": torch.from_numpy(inputs),
            "target": torch.from_numpy(target),
            "weight": torch.from_numpy(weight),
        }


def refine_boundary(
    net: UNet,
    image: np.ndarray,
    region: tuple[slice, slice],
    probability: np.ndarray,
    cfg: BoundaryConfig,
    device: torch.device,
    precision: torch.dtype | None = None,
    batch_size: int = 32,
    flip: bool = False,
) -> np.ndarray:
    """``probability`` (``float32 (h, w)`` over ``image[region]``) with the band around its 0.5 edge replaced by the
    refiner's prediction at native resolution (patches blended with a tent weight); unchanged when it has no edge.
    ``flip``: each patch's prediction averaged with its mirror's (:func:`~segmenters.training.predict_probability`)."""
    height, width = image.shape[:2]
    coarse = np.zeros((height, width), np.float32)
    coarse[region] = probability
    band = boundary_band(coarse >= 0.5, cfg.band)
    centres = patch_centres(band, cfg.patch)
    if len(centres) == 0:
        return probability
    total = np.zeros((height + 2 * cfg.patch, width + 2 * cfg.patch), np.float32)
    weights = np.zeros_like(total)
    tent, half = _tent(cfg.patch), cfg.patch // 2
    for start in range(0, len(centres), batch_size):
        chunk = centres[start : start + batch_size]
        inputs = np.stack([refiner_inputs(image, coarse, (int(x), int(y)), cfg.patch) for x, y in chunk])
        refined = predict_probability(net, inputs, device, precision, flip)
        for (x, y), values in zip(chunk, refined, strict=True):
            # total is offset by half a patch so that patches reaching past the top-left edge fit.
            total[y : y + cfg.patch, x : x + cfg.patch] += values * tent
            weights[y : y + cfg.patch, x : x + cfg.patch] += tent
    blended = total[half : half + height, half : half + width] / np.maximum(
        weights[half : half + height, half : half + width], 1e-6
    )
    out = coarse.copy()
    out[band] = blended[band]
    return out[region]
