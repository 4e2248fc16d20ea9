"""Pixel matching in a learned embedding (FEELVOS, Voigtlaender et al., CVPR 2019), as pure torch functions.

Embeddings are ``(C, h, w)`` maps; a *bank* is a ``(N, C)`` set of reference pixels. Distances are squared L2,
mapped to ``[0, 1)`` as in the paper: ``1 − 2 / (1 + exp(d))`` (0: identical, towards 1: far apart).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


def feelvos_distance(squared: torch.Tensor) -> torch.Tensor:
    """Squared L2 distances (``≥ 0``) → ``1 − 2 / (1 + exp(d))`` in ``[0, 1)``."""
    return 1.0 - 2.0 / (1.0 + torch.exp(squared.clamp_max(60.0)))


def squared_distances(query: torch.Tensor, bank: torch.Tensor) -> torch.Tensor:
    """``(Q, C)`` and ``(N, C)`` → ``(Q, N)`` squared L2 distances (clamped at 0 against rounding)."""
    return ((query * query).sum(1, keepdim=True) - 2.0 * query @ bank.T + (bank * bank).sum(1)[None]).clamp_min(0.0)


def nearest_distance(query: torch.Tensor, bank: torch.Tensor, chunk: int = 2048) -> torch.Tensor:
    """``(Q,)``: each query pixel's squared distance to its nearest bank pixel (``inf`` for an empty bank)."""
    if bank.shape[0] == 0:
        return torch.full((query.shape[0],), float("inf"), dtype=query.dtype, device=query.device)
    # min_j |q − b_j|² = |q|² + min_j (|b_j|² − 2 q·b_j): one fused matrix product per chunk and no (Q, N) temporaries
    # beyond it — a quarter of the time of the plain formula on a 854x480 frame's embedding.
    bank_norms = (bank * bank).sum(1)[None]
    return torch.cat(
        [
            (torch.addmm(bank_norms, part, bank.T, alpha=-2.0).amin(1) + (part * part).sum(1)).clamp_min(0.0)
            for part in query.contiguous().split(chunk)
        ]
    )


def even_subset(points: torch.Tensor, limit: int) -> torch.Tensor:
    """At most ``limit`` rows of ``points`` (``(N, C)``), evenly spaced: deterministic and spread over the object."""
    if points.shape[0] <= limit:
        return points
    index = torch.linspace(0, points.shape[0] - 1, limit, device=points.device).round().long()
    return points[index]


def pixel_bank(embedding: torch.Tensor, mask: torch.Tensor, limit: int) -> torch.Tensor:
    """``(N, C)`` embeddings (of a ``(C, h, w)`` map) at the pixels of ``mask`` (``bool (h, w)``), at most
    ``limit`` of them (:func:`even_subset`)."""
    return even_subset(embedding.flatten(1).T[mask.flatten()], limit)


def global_matching(embedding: torch.Tensor, bank: torch.Tensor) -> torch.Tensor:
    """``(h, w)``: each pixel's :func:`feelvos_distance` to the nearest pixel of ``bank`` (``(N, C)``; 1 where the
    bank is empty). ``embedding``: ``(C, h, w)``."""
    height, width = embedding.shape[1:]
    nearest = nearest_distance(embedding.flatten(1).T, bank)
    return feelvos_distance(nearest).nan_to_num(1.0).reshape(height, width)


def local_matching(
    embedding: torch.Tensor, previous: torch.Tensor, mask: torch.Tensor, radius: int, dilation: int = 1
) -> torch.Tensor:
    """``(h, w)``: each pixel's :func:`feelvos_distance` to the nearest pixel of ``mask`` (``bool (h, w)``) in the
    ``previous`` frame's embedding (``(C, h, w)``) within a ``(2 * radius + 1)²`` window of step ``dilation``
    (FEELVOS: window 15 at stride 4 of the frame); 1 where no such pixel lies in the window."""
    height, width = embedding.shape[1:]
    size = 2 * radius + 1
    pad = radius * dilation
    # Offsets are visited one at a time: (2r + 1)² shifted copies would need that many maps in memory at once.
    best = torch.full((height, width), float("inf"), dtype=embedding.dtype, device=embedding.device)
    shifted_prev = F.pad(previous, (pad, pad, pad, pad))
    shifted_mask = F.pad(mask[None].to(embedding.dtype), (pad, pad, pad, pad))[0] > 0
    for dy in range(size):
        for dx in range(size):
            y0, x0 = dy * dilation, dx * dilation
            other = shifted_prev[:, y0 : y0 + height, x0 : x0 + width]
            valid = shifted_mask[y0 : y0 + height, x0 : x0 + width]
            distance = ((embedding - other) ** 2).sum(0)
            best = torch.where(valid, torch.minimum(best, distance), best)
    return feelvos_distance(best).nan_to_num(1.0)


def dense_global_matching(query: torch.Tensor, reference: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """``(B, M, h, w)``: each ``query`` pixel's :func:`feelvos_distance` to the nearest pixel of each of the ``M``
    ``masks`` (``bool (B, M, h', w')``) in ``reference``, for batches of ``query`` (``(B, C, h, w)``) and
    ``reference`` maps (``(B, C, h', w')``); 1 where a mask is empty.

    Every pair of pixels is compared at once (``B × h·w × h'·w'`` distances, shared by the masks): meant for small
    maps such as the embeddings of object crops. Differentiable: the gradient reaches each pixel's nearest reference
    pixel.
    """
    batch, _, height, width = query.shape
    q = query.flatten(2).transpose(1, 2)  # (B, Q, C)
    r = reference.flatten(2).transpose(1, 2)  # (B, N, C)
    # |q − r|² = |q|² + (|r|² − 2 q·r): the query's term is added after the minimum over r (it does not move it), and
    # min() rather than amin(): its backward scatters to one index instead of comparing the whole matrix again.
    partial = torch.baddbmm((r * r).sum(-1)[:, None], q, r.transpose(1, 2), alpha=-2.0)  # (B, Q, N)
    nearest = [partial.masked_fill(~m.flatten(1)[:, None], float("inf")).min(-1).values for m in masks.unbind(1)]
    squared = (torch.stack(nearest, 1) + (q * q).sum(-1)[:, None]).clamp_min(0.0)
    return feelvos_distance(squared).reshape(batch, -1, height, width)


def windowed_local_matching(
    query: torch.Tensor, previous: torch.Tensor, masks: torch.Tensor, radius: int
) -> torch.Tensor:
    """``(B, M, h, w)``: :func:`local_matching` (step 1) for a batch of small maps and ``M`` masks at once —
    ``query`` and ``previous`` ``(B, C, h, w)``, ``masks`` ``bool (B, M, h, w)`` on ``previous``.

    All ``(2 * radius + 1)²`` window offsets are unfolded at once (``C × (2r + 1)² × h·w`` values per map), which
    suits object crops and autograd; :func:`local_matching` visits them one by one for whole frames.
    """
    batch, channels, height, width = query.shape
    size = 2 * radius + 1
    windows = F.unfold(previous, size, padding=radius).reshape(batch, channels, size * size, height * width)
    squared = ((windows - query.flatten(2)[:, :, None]) ** 2).sum(1)  # (B, K, Q)
    inside = F.unfold(masks.to(query.dtype), size, padding=radius).reshape(batch, -1, size * size, height * width)
    nearest = [squared.masked_fill(m <= 0, float("inf")).min(1).values for m in inside.unbind(1)]
    return feelvos_distance(torch.stack(nearest, 1)).reshape(batch, -1, height, width)
