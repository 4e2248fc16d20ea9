"""Keeping each object on itself (PReMVOS-style proposal scoring, Luiten et al., ACCV 2018, learnt per video).

Every frame, each object's predicted mask is split into its connected pieces — the proposals — and each piece is
scored by how much of it the video's embedding matches to that object rather than to the background or another
object (:mod:`segmenters.matching`), and by how much of it the object covered in the previous frame, carried along
the flow. First, pixels the embedding matches to *another* object leave the mask (the inverse term: a mask does not
take what looks like someone else), and so do pixels beyond the previous mask that do not look like the object
(growth only onto the object). Then pieces that score below ``keep`` are dropped, and so are new pieces (those
the previous mask did not cover) of an object that still has a piece it did cover: a mask that spread onto a
look-alike, onto an occluder or onto another object's place loses those pieces, and an object with no piece left is
lost for that frame. A lost object is searched for in the whole frame: the largest region the embedding matches to
it becomes its guidance for the network, and the network's mask there is kept if it scores, so an object that
reappears after an occlusion, or left its window, is found again.

The scoring's weights and thresholds are tuned per video on held-out dreams, like the post-processing
(:func:`kept_pieces`): in a dreamed frame the simulated previous mask plays the warped previous mask, and the
true labels say which pieces should have stayed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from segmenters.lucid.inputs import dilate


@dataclass(frozen=True)
class ProposalConfig:
    """Scoring and re-detection (they need the embedding: ``matching.enabled``). Off by default: on the embedded
    clip's hard cases they stop the drift, but on DAVIS the embedding learnt from one frame does not recognise
    objects that change their look, and dropping or gating by it loses them (README)."""

    enabled: bool = False
    match_weight: float = 1.0
    """Weight of the share of a piece's pixels matched to the object."""
    flow_weight: float = 0.5
    """Weight of the share of a piece inside the object's flow-warped previous mask."""
    keep: float = 0.65
    """A piece is kept when ``match_weight * similarity + flow_weight * support`` reaches this (similarity: 1 − the
    piece's mean matching distance to the object; support: its share inside the warped previous mask)."""
    continuing: float = 0.1
    """A piece with at least this share inside the warped previous mask continues the object; while an object has
    such a piece, its other pieces are dropped."""
    local_radius: int = 7
    """Local matching window: ``2 * local_radius + 1`` embedding pixels on a side."""
    local: bool = False
    """Score with the nearer of the global match (to the annotated frame) and the local match (to the object's
    pixels in the previous frame, FEELVOS's local matching): objects change their look as the video goes on."""
    exclusive: bool = True
    """Remove from each object the pixels the embedding matches to another object."""
    growth_margin: int = 3
    """Pixels of an object farther than this (px) from its warped previous mask are new: they stay only if they lie
    within ``match_distance`` of the object — a mask grows onto what looks like its object, it does not creep onto
    a neighbouring look-alike or the background. Negative: off."""
    redetect: bool = True
    """Search the whole frame for lost objects."""
    match_distance: float = 0.6
    """A pixel matches its nearest object (or the background) only when their matching distance (FEELVOS's, in
    ``[0, 1)``) is below this; farther, it matches nothing — something never seen in the annotated frame, such as
    an occluder, is not taken for the object it happens to be least unlike."""
    min_area: float = 0.2
    """Smallest region (a fraction of the object's area in the annotated frame) taken as a re-detection."""


PROPOSAL_GRID: dict[str, tuple[Any, ...]] = {
    "flow_weight": (0.0, 0.25, 0.5, 1.0),
    "keep": (0.0, 0.3, 0.5, 0.65, 0.8),
    "continuing": (0.05, 0.1, 0.3),
    "match_distance": (0.4, 0.5, 0.6, 0.7, 0.8, 1.0),
    "growth_margin": (-1, 3, 8),
    "exclusive": (False, True),
}
"""Values tried for each :class:`ProposalConfig` field (``match_weight`` stays: it sets the scores' scale)."""


@dataclass(frozen=True)
class ProposalFrame:
    """A held-out dreamed frame as the proposals see it.

    Attributes:
        predicted: ``int32 (H, W)`` the model's post-processed labels, each object guided by its simulated previous
            mask.
        warped: ``int32 (H, W)`` those simulated previous labels (the warped previous labels of tracking).
        distances: ``float32 (1 + K, h, w)`` matching distances as tracking scores them (background, then ``ids``).
        labels: ``int32 (H, W)`` the true labels (void as background).
        ids: the objects of the frame.
    """

    predicted: np.ndarray
    warped: np.ndarray
    distances: np.ndarray
    labels: np.ndarray
    ids: tuple[int, ...]


def kept_pieces(frame: ProposalFrame, cfg: ProposalConfig) -> np.ndarray:
    """``int32 (H, W)``: ``frame``'s predicted labels after :func:`keep_supported` with ``cfg`` (the labels a tuning
    of the scoring scores, :func:`~segmenters.postprocess.tuning.tune_on_frames`)."""
    return keep_supported(frame.predicted, frame.distances, frame.warped, frame.ids, cfg)


def nearer_match(distances: np.ndarray, local: np.ndarray) -> np.ndarray:
    """``float (1 + K, h, w)``: global matching ``distances`` (background, then the objects) with each object's the
    nearer of its global and its ``local`` match (``(K, h, w)``, FEELVOS's local matching to the previous frame)."""
    out = distances.copy()
    out[1:] = np.minimum(distances[1:], local)
    return out


def nearest_labels(distances: np.ndarray, ids: Sequence[int], max_distance: float = 1.0) -> np.ndarray:
    """``int32 (h, w)``: for global matching ``distances`` (``(1 + K, h, w)``: background, then the objects ``ids``),
    the id of the nearest, 0 for the background and for pixels whose nearest lies at ``max_distance`` or farther."""
    nearest = np.asarray([0, *ids], dtype=np.int32)[np.argmin(distances, axis=0)]
    nearest[distances.min(axis=0) >= max_distance] = 0
    return nearest


def piece_scores(
    mask: np.ndarray, similarity: np.ndarray, warped: np.ndarray, cfg: ProposalConfig
) -> tuple[np.ndarray, np.ndarray]:
    """The connected pieces of ``mask`` and their scores: ``match_weight`` times the piece's mean ``similarity`` plus
    ``flow_weight`` times its share inside ``warped``.

    Args:
        mask: ``bool (H, W)`` the object's predicted mask.
        similarity: ``float (H, W)`` in [0, 1]: 1 − the matching distance to the object (or a ``bool`` match).
        warped: ``bool (H, W)`` the object's previous mask carried along the flow.

    Returns:
        ``(pieces int32 (H, W)`` with 0 outside the mask and ``1..N`` for the pieces, ``scores float64 (N + 1,)`` with
        ``scores[0] = 0)``.
    """
    count, pieces = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    area = np.bincount(pieces.ravel(), minlength=count).astype(np.float64)
    match = np.bincount(pieces.ravel(), weights=similarity.ravel(), minlength=count) / np.maximum(area, 1)
    support = np.bincount(pieces.ravel(), weights=warped.ravel(), minlength=count) / np.maximum(area, 1)
    scores = cfg.match_weight * match + cfg.flow_weight * support
    scores[0] = 0.0
    return pieces, scores


def keep_supported(
    labels: np.ndarray,
    distances: np.ndarray,
    warped: np.ndarray,
    ids: Sequence[int],
    cfg: ProposalConfig,
) -> np.ndarray:
    """``labels`` (``int32 (H, W)``) without what each object should not keep (module docstring).

    Args:
        labels: the network's labels of the frame.
        distances: ``(1 + K, h, w)`` global matching distances at the embedding's size (background, then ``ids``).
        warped: ``int32 (H, W)`` the previous labels carried along the flow.
        ids: the objects.
        cfg: the scoring.
    """
    size = (labels.shape[1], labels.shape[0])
    out = labels.copy()
    if cfg.exclusive:
        matched = cv2.resize(nearest_labels(distances, ids, cfg.match_distance), size, interpolation=cv2.INTER_NEAREST)
        out[(matched != 0) & (matched != out) & np.isin(out, ids)] = 0
    height, width = labels.shape
    rows_scale, cols_scale = distances.shape[1] / height, distances.shape[2] / width
    for k, object_id in enumerate(ids, start=1):
        # Each object is scored inside the box of its mask and previous mask (with the growth margin): with many
        # objects on a large frame, whole-frame maps per object would cost seconds per frame.
        here = (out == object_id) | (warped == object_id)
        x, y, w, h = cv2.boundingRect(here.astype(np.uint8))
        if w == 0 or h == 0 or not (out[y : y + h, x : x + w] == object_id).any():
            continue
        pad = max(cfg.growth_margin, 0) + 1
        box = np.s_[max(y - pad, 0) : min(y + h + pad, height), max(x - pad, 0) : min(x + w + pad, width)]
        rows = np.minimum((np.arange(height)[box[0]] * rows_scale).astype(int), distances.shape[1] - 1)
        cols = np.minimum((np.arange(width)[box[1]] * cols_scale).astype(int), distances.shape[2] - 1)
        distance = distances[k][rows[:, None], cols[None, :]].astype(np.float32)
        region, previous = out[box], warped[box] == object_id
        mask = region == object_id
        if cfg.growth_margin >= 0 and previous.any():
            grown = mask & ~dilate(previous, cfg.growth_margin) & (distance >= cfg.match_distance)
            region[grown] = 0
            mask &= ~grown
            if not mask.any():
                continue
        pieces, scores = piece_scores(mask, 1.0 - distance, previous, cfg)
        area = np.maximum(np.bincount(pieces.ravel()), 1)
        continues = np.bincount(pieces.ravel(), weights=previous.ravel()) / area >= cfg.continuing
        continues[0] = False
        # A new piece only joins an object that has nothing continuing (a re-detection); any piece must score.
        keep = (scores >= cfg.keep) & (continues if continues.any() else True)
        keep[0] = False
        region[mask & ~keep[pieces]] = 0
    return out


def redetect(matched: np.ndarray, object_id: int, min_area: float) -> np.ndarray | None:
    """``bool (h, w)``: the largest region of ``matched == object_id`` (``int32 (h, w)`` nearest-match ids) if it has
    at least ``min_area`` pixels, else ``None``."""
    count, pieces, stats, _ = cv2.connectedComponentsWithStats((matched == object_id).astype(np.uint8), connectivity=8)
    if count < 2:
        return None
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    if stats[largest, cv2.CC_STAT_AREA] < min_area:
        return None
    return pieces == largest
