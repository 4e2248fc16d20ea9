"""Propagation from several annotated frames: which anchors a frame is tracked from, how the two directions merge,
and how much they agree.

Every frame between two annotated frames ``a < t < b`` is tracked forwards from ``a`` and backwards from ``b``; the
two label maps are merged pixel by pixel, each direction weighted by its closeness in time (``(b − t) / (b − a)``
for the forward one) and, where given, by its *reliability* — how much of the way from its anchor a pixel's label
came along flow that the reverse flow confirms (:func:`carry_reliability`) — so the nearer annotation wins where they
disagree, unless its labels there were carried across occlusions or broken flow. Frames before the first or after
the last annotated frame have one direction only. An annotated frame keeps its own labels.
"""

from __future__ import annotations

import bisect
import zlib
from collections.abc import Sequence

import cv2
import numpy as np

from dreaming.synthesis.flow import warp_backward
from foundation.errors import InputError


def nearest_anchors(frame: int, anchors: Sequence[int]) -> tuple[int | None, int | None]:
    """The annotated frames nearest to ``frame`` before and after it (``None`` where there is none); ``anchors``
    sorted. An annotated frame is its own anchor on both sides."""
    i = bisect.bisect_left(anchors, frame)
    if i < len(anchors) and anchors[i] == frame:
        return frame, frame
    before = anchors[i - 1] if i > 0 else None
    after = anchors[i] if i < len(anchors) else None
    return before, after


def forward_weight(frame: int, before: int | None, after: int | None) -> float:
    """The weight of the forward result (tracked from ``before``) at ``frame``: ``(after − frame) / (after −
    before)``; 1 or 0 where only one direction exists."""
    if before is None and after is None:
        raise InputError("anchors", "no annotated frame", "at least one annotated frame")
    if after is None or before == after:
        return 1.0
    if before is None:
        return 0.0
    return (after - frame) / (after - before)


def boundary_distance(labels: np.ndarray) -> np.ndarray | None:
    """Distance (px) of each pixel to the nearest boundary between two ids of ``labels`` ``int (H, W)``: ``float32
    (H, W)``, 0 on both pixels of a boundary; ``None`` when the map holds one id only."""
    edges = np.zeros(labels.shape, dtype=bool)
    across = labels[:, 1:] != labels[:, :-1]
    edges[:, 1:] |= across
    edges[:, :-1] |= across  # both pixels of an edge
    down = labels[1:, :] != labels[:-1, :]
    edges[1:, :] |= down
    edges[:-1, :] |= down
    if not edges.any():
        return None
    return cv2.distanceTransform((~edges).view(np.uint8), cv2.DIST_L2, 3)


def edge_certainty(labels: np.ndarray, softness: float) -> np.ndarray:
    """How sure a label map is of each pixel: ``float32 (H, W)`` in ``[0, 1]``, 0 on a boundary between two ids,
    rising linearly to 1 at ``softness`` px from it (a propagated edge is uncertain by a few pixels)."""
    distance = boundary_distance(labels) if softness > 0 else None
    if distance is None:
        return np.ones(labels.shape, dtype=np.float32)
    return np.minimum(distance / float(softness), 1.0).astype(np.float32)


def merge_directions(
    forward: np.ndarray,
    backward: np.ndarray,
    weight: float,
    softness: float = 5.0,
    reliability: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Merge the two directions' label maps ``int (H, W)`` of one frame.

    Where they agree, that id. Where they disagree, the direction with the larger ``w · r · (1 + c) / 2`` wins: ``w``
    its weight (``weight`` for ``forward``, ``1 − weight`` for ``backward``), ``r`` its reliability there (the
    ``float32 (H, W)`` maps of ``reliability``, forward's then backward's, see :func:`carry_reliability`; 1 when
    ``None``), ``c`` its :func:`edge_certainty` there — so the nearer annotation wins, except near its own edges where
    the other is sure, and where its labels came across flow the reverse flow does not confirm. Ties go forward.

    Returns:
        ``int32 (H, W)``.
    """
    if forward.shape != backward.shape:
        raise InputError("labels", f"forward {forward.shape} and backward {backward.shape}", "the same shape")
    forward, backward = forward.astype(np.int32), backward.astype(np.int32)
    if weight >= 1.0:
        return forward
    if weight <= 0.0:
        return backward
    differ = forward != backward
    if not differ.any():
        return forward
    score_forward = weight * (1.0 + edge_certainty(forward, softness))
    score_backward = (1.0 - weight) * (1.0 + edge_certainty(backward, softness))
    if reliability is not None:
        score_forward = score_forward * reliability[0]
        score_backward = score_backward * reliability[1]
    return np.where(differ & (score_backward > score_forward), backward, forward)


def fuse_learned(flow: np.ndarray, learned: np.ndarray, reliability: np.ndarray | None, threshold: float) -> np.ndarray:
    """One frame's labels from the flow propagation's ``flow`` and the trained networks' ``learned`` (``int (H, W)``):
    the networks' where the flow's ``reliability`` (``float32 (H, W)``, :func:`carry_reliability`) is below
    ``threshold``, the flow's elsewhere; the networks' everywhere when no reliability was carried (``None``).

    Returns:
        ``int32 (H, W)``.
    """
    if flow.shape != learned.shape or (reliability is not None and reliability.shape != flow.shape):
        got = f"flow {flow.shape}, learned {learned.shape}" + ("" if reliability is None else f", {reliability.shape}")
        raise InputError("labels", got, "the same shape")
    if reliability is None:
        return learned.astype(np.int32)
    return np.where(reliability < threshold, learned, flow).astype(np.int32)


def agreement(forward: np.ndarray, backward: np.ndarray, ids: Sequence[int]) -> np.ndarray:
    """Per object, the IoU of its masks in the two directions' labels (1 when both are empty): ``float64 (K,)``."""
    values = np.ones(len(ids), dtype=np.float64)
    for k, object_id in enumerate(ids):
        a, b = forward == object_id, backward == object_id
        union = np.count_nonzero(a | b)
        if union:
            values[k] = np.count_nonzero(a & b) / union
    return values


def object_reliability(labels: np.ndarray, reliability: np.ndarray | None, ids: Sequence[int]) -> np.ndarray:
    """Per object, the mean :func:`carry_reliability` over its pixels of ``labels`` (``int (H, W)``): ``float64 (K,)``;
    1 for an absent object or without a ``reliability`` map (``float32 (H, W)``)."""
    values = np.ones(len(ids), dtype=np.float64)
    if reliability is None:
        return values
    for k, object_id in enumerate(ids):
        mask = labels == object_id
        if mask.any():
            values[k] = float(reliability[mask].mean())
    return values


def consistent_flow(flow: np.ndarray, back: np.ndarray, tolerance: float = 0.01, slack: float = 0.5) -> np.ndarray:
    """Where ``flow`` (a → b, ``float32 (H, W, 2)``) is confirmed by ``back`` (b → a): ``bool (H, W)``.

    A pixel of a passes when the round trip returns near it, ``|f + b(x + f)|² < tolerance · (|f|² + |b(x + f)|²) +
    slack`` (Sundaram et al., ECCV 2010); it fails where it is occluded in b or the flow is wrong — typically the
    background beside a moving object, into which a propagated mask would otherwise smear.
    """
    returned = warp_backward(back, flow)
    error = np.sum((flow + returned) ** 2, axis=-1)
    return error < tolerance * (np.sum(flow**2, axis=-1) + np.sum(returned**2, axis=-1)) + slack


def carry_reliability(reliability: np.ndarray, flow: np.ndarray, consistent: np.ndarray, decay: float) -> np.ndarray:
    """One step of a propagation's reliability: ``float32 (H, W)`` in ``[0, 1]`` at the new frame, in steps of 1/255
    (what :func:`compress_reliability` keeps exactly: a propagation resumed from a stored map equals one that never
    stopped).

    Args:
        reliability: ``float32 (H', W')`` at the previous frame (1 at an anchor).
        flow: ``float32 (H, W, 2)`` from the new frame to the previous one (what the labels are carried along).
        consistent: ``bool (H, W)`` where the reverse flow confirms ``flow`` (:func:`consistent_flow`).
        decay: factor applied where it does not (occlusions, broken flow): a label that crossed ``k`` such steps is
            ``decay ** k`` reliable. Where the flow leaves the frame, 0.
    """
    carried = warp_backward(reliability.astype(np.float32), flow)
    carried = np.where(consistent, carried, decay * carried)
    return _levels(carried).astype(np.float32) / 255.0


def _levels(reliability: np.ndarray) -> np.ndarray:
    """``uint8`` levels of a reliability map in ``[0, 1]``, in steps of 1/255."""
    return np.round(np.clip(reliability, 0.0, 1.0) * 255.0).astype(np.uint8)


def compress_reliability(reliability: np.ndarray) -> bytes:
    """A reliability map ``float (H, W)`` in ``[0, 1]``, quantised to 1/255, as zlib bytes."""
    return zlib.compress(np.ascontiguousarray(_levels(reliability)).tobytes(), 1)


def decompress_reliability(data: bytes, shape: tuple[int, int]) -> np.ndarray:
    """The ``float32 (H, W)`` map :func:`compress_reliability` packed (to 1/255)."""
    return np.frombuffer(zlib.decompress(data), dtype=np.uint8).reshape(shape).astype(np.float32) / 255.0


def compress_labels(labels: np.ndarray) -> bytes:
    """A label map ``(H, W)`` of ids below 256 as zlib bytes (a few KB at 480p instead of 1.6 MB as ``int32``)."""
    return zlib.compress(np.ascontiguousarray(labels, dtype=np.uint8).tobytes(), 1)


def decompress_labels(data: bytes, shape: tuple[int, int]) -> np.ndarray:
    """The ``int32 (H, W)`` label map :func:`compress_labels` packed."""
    return np.frombuffer(zlib.decompress(data), dtype=np.uint8).reshape(shape).astype(np.int32)
