"""Turning a user's marks on one frame into that frame's labels, without any pretrained model.

The marks (a seed map, see :mod:`segmenters.interactive.marks`) are hard constraints. What we already believe about the
frame constrains the rest: the labels we currently have (a propagation) are kept as seeds away from marks that
contradict them and where they are not thin, and a network's prior is kept where it is confident. Only the pixels left
undecided are solved, by a multi-label random walker with prior models (Grady, CVPR 2005) or by GrabCut per object, at a
reduced resolution and inside the bounding box of the undecided pixels for speed. Without a prior, a region the method
gives a label but that reaches none of that label's seeds (colour alone made it) takes its surroundings' label.

On the first interaction there is no belief: each marked object may extend only a margin beyond the bounding box of
its marks, everything farther is background, and so is the image border when no background mark exists; where the
marked objects move apart from the camera, what stands still (away from the marks) is background too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage, sparse
from scipy.sparse import linalg as sparse_linalg

from foundation.errors import InputError
from foundation.io import VOID
from foundation.morphology import thin_parts
from segmenters.interactive.marks import UNMARKED

METHODS = ("random_walker", "grabcut")
_SETTING = "session.seeded"
_SAMPLES = 5000
"""Most colours of one label a colour model is fitted to (a regular subsample beyond)."""
_COMPONENTS = 5
"""Gaussians per colour model, as in GrabCut."""
_EM_STEPS = 8
_COLOUR_NOISE = 4.0
"""Variance (squared 8-bit levels) added to every Gaussian, so that a flat colour has a model too."""
_TEMPERATURE = 0.5
"""Exponent on the colour models' likelihoods: colour alone never decides a pixel outright."""


@dataclass(frozen=True)
class SeededConfig:
    """How marks become labels.

    Attributes:
        method: ``"random_walker"`` (the default: a multi-label random walker whose prior is colour models refitted
            to its result, or the given ``prior``; better on a first interaction, and chosen on the benchmark's robot
            sessions) or ``"grabcut"`` (one GrabCut per object: colour models and a graph cut; better when a
            scribble runs along thin parts, and when one frame is corrected round after round — J 0.903 against
            0.848 after five rounds, ``benchmarks/seeded_marks.py``).
        scale: resolution factor the method works at (≤ 1), on top of ``max_side``.
        max_side: the method works at a resolution whose longest side is at most this many pixels (0: no cap); the
            result is upsampled back through its probabilities.
        beta: random-walker edge sensitivity: edge weights are ``exp(−beta · ‖ΔLab‖² / mean ‖ΔLab‖²)``.
        prior_weight: random-walker weight of the prior (colour models or ``prior``) against the edges (≤ 1).
        margin: on the first interaction, how far beyond the bounding box of an object's marks the object may extend,
            as a fraction of the box's longest side (at least ``keep_distance`` px); farther is background.
        keep_distance: pixels of the current labels (or of a confident prior) closer than this (px, full resolution)
            to a mark of another label are left to the method; farther ones keep their label.
        reach: each connected stroke also frees the beliefs it contradicts within this fraction of its extent (the
            longer side of its bounding box).
        thin: the parts of the current labels that no disk of this radius (px) fits in are left to the method too:
            the streaks a flow propagation smears over the background are thin, and a robot (or a person) rarely
            marks what is that thin. 0: off. On the development sequences (flow only, 8 robot interactions) final J&F
            0.571 at 0 and 0.664 at 12 px; swept with a 2-px opening of each propagation step (since dropped),
            0.639 / 0.645 / 0.653 / 0.663 / 0.654 at 4 / 6 / 8 / 12 / 16 px.
        confident: a prior probability at or above this makes its pixel a seed of that label.
        iterations: how many times the colour models are fitted to the segmentation (GrabCut's iterations; the random
            walker solves once per fit).
        motion_weight: when a frame's optical flow is given, the random walker's colour models become models of
            colour and motion, each flow component (px) times this weight beside the 8-bit colour levels: an
            object moves unlike the background beside it even where their colours are alike. 0: colour only (the
            default: level on the development sessions without the reliability weighting, 0.664 / 0.665 / 0.660
            final J&F at 0 / 4 / 10, boat up by
            0.12, a turning car and a rider down by 0.04-0.07). GrabCut, and the walker given a network's prior,
            ignore it.
        still: on the first interaction, given the frame's motion apart from the camera (``own_motion``), pixels
            moving less than this (px per frame), farther than ``keep_distance`` from every object mark, are
            background seeds — when the marked objects move (their marks' median motion is at least twice this): a
            still background the object's colours share (a dog's poles and flags, a boat's shore) is not given to the
            object. 0: off (the default). On the development sessions (flow only, 8 robot interactions) 0.2 px
            raises the first marked frame's J from 0.657 to 0.677 and the final J&F from 0.7375 ± 0.0013 to 0.750
            ± 0.003 (four roundings of the snapping), 0.4 px to 0.748, but 0.1 px lowers it to 0.723 and 0.721: a
            gain that does not hold across the threshold, so it is not the default.
    """

    method: str = "random_walker"
    scale: float = 1.0
    max_side: int = 480
    beta: float = 3.0
    prior_weight: float = 0.01
    margin: float = 0.3
    keep_distance: float = 20.0
    reach: float = 0.5
    thin: int = 12
    confident: float = 0.9
    iterations: int = 3
    motion_weight: float = 0.0
    still: float = 0.0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InputError(f"{_SETTING}.method", f"{self.method!r}", f"one of {', '.join(METHODS)}")
        if not 0.0 < self.scale <= 1.0:
            raise InputError(f"{_SETTING}.scale", f"{self.scale}", "a factor in (0, 1]")
        if self.max_side < 0:
            raise InputError(f"{_SETTING}.max_side", f"{self.max_side}", "0 (no cap) or a positive number of pixels")
        if not self.beta > 0.0:
            raise InputError(f"{_SETTING}.beta", f"{self.beta}", "a positive value")
        if not 0.0 < self.prior_weight <= 1.0:
            raise InputError(f"{_SETTING}.prior_weight", f"{self.prior_weight}", "a weight in (0, 1]")
        if not self.margin >= 0.0:
            raise InputError(f"{_SETTING}.margin", f"{self.margin}", "a non-negative fraction")
        if not self.reach >= 0.0:
            raise InputError(f"{_SETTING}.reach", f"{self.reach}", "a non-negative fraction")
        if self.thin < 0:
            raise InputError(f"{_SETTING}.thin", f"{self.thin}", "0 (off) or a radius in px")
        if not self.keep_distance >= 0.0:
            raise InputError(f"{_SETTING}.keep_distance", f"{self.keep_distance}", "a non-negative distance in px")
        if not 0.5 < self.confident <= 1.0:
            raise InputError(f"{_SETTING}.confident", f"{self.confident}", "a probability in (0.5, 1]")
        if self.iterations < 1:
            raise InputError(f"{_SETTING}.iterations", f"{self.iterations}", "at least 1")
        if not self.motion_weight >= 0.0:
            raise InputError(f"{_SETTING}.motion_weight", f"{self.motion_weight}", "0 (off) or a positive weight")
        if not self.still >= 0.0:
            raise InputError(f"{_SETTING}.still", f"{self.still}", "0 (off) or a motion in px per frame")


def trusted_seeds(beliefs: np.ndarray, seeds: np.ndarray, keep_distance: float, reach: float = 0.0) -> np.ndarray:
    """The marks plus the beliefs that no mark contradicts nearby.

    Args:
        beliefs: ``int32 (H, W)`` labels we believe (e.g. a propagation); :data:`UNMARKED` where we believe nothing.
        seeds: ``int32 (H, W)`` seed map of the marks, :data:`UNMARKED` where unmarked.
        keep_distance: a belief closer than this (px, Euclidean) to a mark of a different label is dropped.
        reach: a mark (one connected stroke) also drops the contradicting beliefs within ``reach`` times its extent
            (the longer side of its bounding box): a long stroke through a large error frees the whole error, not
            a band along the stroke.

    Returns:
        ``int32 (H, W)`` seed map: the marks, the kept beliefs elsewhere, :data:`UNMARKED` for the rest.
    """
    out = np.asarray(beliefs, dtype=np.int32).copy()
    marked = seeds != UNMARKED
    for mark in np.unique(seeds[marked]):
        strokes, pieces, stats, _ = cv2.connectedComponentsWithStats((seeds == mark).astype(np.uint8), connectivity=8)
        for piece in range(1, strokes):
            extent = max(stats[piece, cv2.CC_STAT_WIDTH], stats[piece, cv2.CC_STAT_HEIGHT])
            near = _distance_to(pieces == piece) <= max(keep_distance, reach * extent)
            out[near & (out != mark)] = UNMARKED
    out[marked] = seeds[marked]
    return out


def segment_from_marks(
    image: np.ndarray,
    seeds: np.ndarray,
    ids: Sequence[int],
    cfg: SeededConfig,
    current: np.ndarray | None = None,
    prior: np.ndarray | None = None,
    motion: np.ndarray | None = None,
    own_motion: np.ndarray | None = None,
) -> np.ndarray:
    """Labels of a frame from marks on it, with the marks as hard constraints.

    Every marked pixel takes its mark's id. Pixels of ``current`` farther than ``cfg.keep_distance`` from any mark of a
    different id keep their label (but for its parts thinner than ``cfg.thin``), so a correction changes only the
    neighbourhood of its marks and the thin streaks a propagation leaves. Without ``current``, pixels whose ``prior`` is
    confident keep the prior's label (with the same distance rule); without either, the first-interaction rule of the
    module applies. The undecided rest is solved by ``cfg.method``, which also takes ``prior`` (else ``current``) as
    soft evidence. A frame without marks keeps ``current``. An object with no mark, no pixel in ``current`` and nowhere
    a prior of at least 0.5 stays absent.

    Args:
        image: ``uint8 (H, W, 3)`` RGB frame.
        seeds: ``int32 (H, W)`` seed map: :data:`UNMARKED`, 0 (background) or one of ``ids``.
        ids: the video's object ids (not all need marks).
        cfg: the method and its settings.
        current: ``int32 (H, W)`` labels we currently have for the frame (0 and ``ids``), or ``None``.
        prior: ``float32 (K + 1, H, W)`` probabilities of background and of ``ids[k]``, or ``None``.
        motion: ``float32 (H, W, 2)`` optical flow of the frame to a neighbouring frame (``(dx, dy)`` px), or
            ``None``: with ``cfg.motion_weight > 0`` the random walker's colour models include it.
        own_motion: ``float32 (H, W)`` how far each pixel moves apart from the camera (px per frame), or ``None``:
            on a first interaction with ``cfg.still > 0``, still pixels away from the marks are background.

    Returns:
        ``int32 (H, W)`` labels using 0 and ``ids`` only. Deterministic.
    """
    ids = _check_inputs(image, seeds, ids, current, prior, motion, own_motion)
    marked = seeds != UNMARKED
    if current is not None and not marked.any():
        return current.astype(np.int32, copy=True)
    if current is not None:
        constraints = trusted_seeds(current, seeds, cfg.keep_distance, cfg.reach)
        constraints[thin_parts(current, cfg.thin) & ~marked] = UNMARKED
    elif prior is not None:
        constraints = trusted_seeds(_confident_labels(prior, ids, cfg.confident), seeds, cfg.keep_distance, cfg.reach)
    else:
        constraints = _first_interaction_seeds(seeds, cfg, own_motion)
    unknown = constraints == UNMARKED
    labels = np.unique(constraints[~unknown])
    if prior is not None:
        # The method may also give the labels the prior favours somewhere, seeds or not.
        values = np.array([0, *ids], dtype=np.int32)
        labels = np.union1d(labels, values[(prior >= 0.5).reshape(len(values), -1).any(axis=1) | (values == 0)])
    if not unknown.any() or len(labels) == 0:
        return np.where(unknown, 0, constraints).astype(np.int32)
    if len(labels) == 1:
        return np.where(unknown, labels[0], constraints).astype(np.int32)

    factor = _factor(seeds.shape, cfg)
    # The crop's rim must hold seeds at the working resolution so that every undecided pixel is near one.
    rows, cols = padded_box(unknown, pad=math.ceil(4 / factor))
    evidence = _evidence(current, prior, ids, labels)
    # The random walker's colour models sample each label over the whole frame: the crop's rim samples it poorly.
    use_colours = cfg.method == "random_walker" and prior is None
    motion = None if motion is None or cfg.motion_weight <= 0.0 else cfg.motion_weight * motion.astype(np.float32)
    probabilities = _solve(
        image[rows, cols],
        None if motion is None else motion[rows, cols],
        constraints[rows, cols],
        marked[rows, cols],
        labels,
        None if evidence is None else evidence[:, rows, cols],
        _feature_samples(image, motion, constraints, labels) if use_colours else None,
        factor,
        cfg,
    )
    out = constraints.copy()
    crop_constraints = constraints[rows, cols]
    crop = labels[np.argmax(probabilities, axis=0)]
    crop[crop_constraints != UNMARKED] = crop_constraints[crop_constraints != UNMARKED]
    # With a prior, a region away from its label's seeds may be what the network saw; without, colour alone made it.
    out[rows, cols] = crop if prior is not None else _connected_to_seeds(crop, crop_constraints)
    return out


def _connected_to_seeds(labels: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """``labels`` (``int32 (h, w)``) where each region of a label that reaches none of its ``seeds`` (the method
    gave it from colour alone, detached from anything marked or believed) takes its nearest kept pixel's label."""
    detached = np.zeros(labels.shape, dtype=bool)
    for label in np.unique(labels):
        count, regions = cv2.connectedComponents((labels == label).astype(np.uint8), connectivity=8)
        reached = np.zeros(count, dtype=bool)
        reached[regions[seeds == label]] = True
        detached |= (labels == label) & ~reached[regions]
    if not detached.any() or detached.all():
        return labels
    rows, cols = ndimage.distance_transform_edt(detached, return_distances=False, return_indices=True)
    return labels[rows, cols]


def _check_inputs(
    image: np.ndarray,
    seeds: np.ndarray,
    ids: Sequence[int],
    current: np.ndarray | None,
    prior: np.ndarray | None,
    motion: np.ndarray | None = None,
    own_motion: np.ndarray | None = None,
) -> tuple[int, ...]:
    """Raise :class:`InputError` for inputs that do not fit together; the ids as a tuple of ints."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        got = f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
        raise InputError("image", f"an array {got}", "uint8 (H, W, 3) RGB")
    shape = image.shape[:2]
    if not isinstance(seeds, np.ndarray) or seeds.shape != shape or not np.issubdtype(seeds.dtype, np.integer):
        got = f"{seeds.dtype} {seeds.shape}" if isinstance(seeds, np.ndarray) else type(seeds).__name__
        raise InputError("seeds", f"a seed map {got} for an image of {shape}", f"an integer map of shape {shape}")
    ids = tuple(int(i) for i in ids)
    if len(set(ids)) != len(ids) or any(not 0 < i < VOID for i in ids):
        raise InputError("ids", f"{list(ids)}", f"distinct object ids in 1..{VOID - 1}")
    allowed = np.array([UNMARKED, 0, *ids])
    strange = np.setdiff1d(np.unique(seeds), allowed)
    if len(strange):
        raise InputError("seeds", f"marks of object id {int(strange[0])}", f"0 (background) or one of {list(ids)}")
    if current is not None:
        if not isinstance(current, np.ndarray) or current.shape != shape:
            got = current.shape if isinstance(current, np.ndarray) else type(current).__name__
            raise InputError("current", f"labels of shape {got} for an image of {shape}", f"shape {shape}")
        strange = np.setdiff1d(np.unique(current), allowed[1:])
        if len(strange):
            raise InputError("current", f"label {int(strange[0])}", f"0 (background) or one of {list(ids)}")
    if prior is not None:
        expected = (len(ids) + 1, *shape)
        if not isinstance(prior, np.ndarray) or prior.shape != expected:
            got = prior.shape if isinstance(prior, np.ndarray) else type(prior).__name__
            raise InputError("prior", f"probabilities of shape {got}", f"(K + 1, H, W) = {expected}")
        if not np.isfinite(prior).all():
            raise InputError("prior", "non-finite probabilities", "probabilities in [0, 1]")
    if motion is not None:
        if not isinstance(motion, np.ndarray) or motion.shape != (*shape, 2):
            got = motion.shape if isinstance(motion, np.ndarray) else type(motion).__name__
            raise InputError("motion", f"a flow of shape {got} for an image of {shape}", f"(H, W, 2) = {(*shape, 2)}")
        if not np.isfinite(motion).all():
            raise InputError("motion", "non-finite flow vectors", "finite (dx, dy) in px")
    if own_motion is not None:
        if not isinstance(own_motion, np.ndarray) or own_motion.shape != shape:
            got = own_motion.shape if isinstance(own_motion, np.ndarray) else type(own_motion).__name__
            raise InputError("own_motion", f"a map of shape {got} for an image of {shape}", f"(H, W) = {shape}")
        if not np.isfinite(own_motion).all():
            raise InputError("own_motion", "non-finite motion", "finite px per frame")
    return ids


def _distance_to(mask: np.ndarray) -> np.ndarray:
    """``float32 (H, W)`` Euclidean distance (px) of every pixel to the nearest pixel of ``bool`` ``mask``."""
    return cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def _confident_labels(prior: np.ndarray, ids: tuple[int, ...], confident: float) -> np.ndarray:
    """``int32 (H, W)``: the label whose prior is at least ``confident``, :data:`UNMARKED` where none is."""
    values = np.array([0, *ids], dtype=np.int32)
    return np.where(prior.max(axis=0) >= confident, values[np.argmax(prior, axis=0)], UNMARKED).astype(np.int32)


def _first_interaction_seeds(seeds: np.ndarray, cfg: SeededConfig, own_motion: np.ndarray | None = None) -> np.ndarray:
    """Seeds without any belief: background beyond each marked object's grown mark box (and on the image border when
    no background is marked) and, with ``own_motion`` and ``cfg.still``, where the frame stands still away from the
    object marks (:func:`still_background`); the marks themselves; undecided elsewhere."""
    height, width = seeds.shape
    out = np.zeros(seeds.shape, dtype=np.int32)
    for object_id in np.unique(seeds[seeds > 0]):
        ys, xs = np.nonzero(seeds == object_id)
        side = max(xs.max() - xs.min(), ys.max() - ys.min()) + 1
        grow = math.ceil(max(cfg.margin * side, cfg.keep_distance))
        out[max(ys.min() - grow, 0) : ys.max() + grow + 1, max(xs.min() - grow, 0) : xs.max() + grow + 1] = UNMARKED
    if not (seeds == 0).any():
        border = np.ones(seeds.shape, dtype=bool)
        border[1 : height - 1, 1 : width - 1] = False
        out[border] = 0
    if own_motion is not None and cfg.still > 0.0:
        out[still_background(seeds > 0, own_motion, cfg.still, cfg.keep_distance)] = 0
    marked = seeds != UNMARKED
    out[marked] = seeds[marked]
    return out


def still_background(objects: np.ndarray, own_motion: np.ndarray, still: float, distance: float) -> np.ndarray:
    """Where a frame stands still away from its marked objects: ``bool (H, W)``, pixels of ``own_motion`` (``float32
    (H, W)``, px per frame apart from the camera) below ``still`` and farther than ``distance`` px from every pixel of
    ``objects`` (``bool (H, W)``, the object marks) — nowhere when the objects' marks do not move themselves (median
    motion below ``2 · still``): then stillness tells nothing of what is background."""
    if not objects.any() or float(np.median(own_motion[objects])) < 2.0 * still:
        return np.zeros(objects.shape, dtype=bool)
    return (own_motion < still) & (_distance_to(objects) > distance)


def _evidence(
    current: np.ndarray | None, prior: np.ndarray | None, ids: tuple[int, ...], labels: np.ndarray
) -> np.ndarray | None:
    """``float32 (L, H, W)`` soft belief in each of ``labels``: the prior's, else the current labels', else ``None``."""
    if prior is not None:
        index = {value: k for k, value in enumerate((0, *ids))}
        return prior[[index[int(label)] for label in labels]].astype(np.float32)
    if current is not None:
        return (current[None] == labels[:, None, None]).astype(np.float32)
    return None


def padded_box(mask: np.ndarray, pad: int) -> tuple[slice, slice]:
    """``(rows, cols)`` slices of the bounding box of a non-empty ``bool (H, W)`` mask's pixels grown by ``pad``,
    clipped to the frame."""
    ys = np.flatnonzero(mask.any(axis=1))
    xs = np.flatnonzero(mask.any(axis=0))
    height, width = mask.shape
    return (
        slice(max(ys[0] - pad, 0), min(ys[-1] + pad + 1, height)),
        slice(max(xs[0] - pad, 0), min(xs[-1] + pad + 1, width)),
    )


def _factor(shape: tuple[int, int], cfg: SeededConfig) -> float:
    """Resolution factor the method works at for a frame of ``shape``."""
    factor = cfg.scale if cfg.max_side == 0 else min(cfg.scale, cfg.max_side / max(shape))
    return min(factor, 1.0)


def _solve(
    image: np.ndarray,
    motion: np.ndarray | None,
    constraints: np.ndarray,
    marked: np.ndarray,
    labels: np.ndarray,
    evidence: np.ndarray | None,
    samples: list[np.ndarray] | None,
    factor: float,
    cfg: SeededConfig,
) -> np.ndarray:
    """``float32 (L, h, w)`` probabilities of ``labels`` over a crop ``(h, w)``, solved at ``factor`` times its
    resolution and upsampled back.

    Args:
        constraints: ``int32 (h, w)`` seed map of marks and kept beliefs; ``marked``: ``bool (h, w)``, the marks.
        motion: ``float32 (h, w, 2)`` the flow times ``cfg.motion_weight``, modelled beside the colours, or ``None``.
        evidence: ``float32 (L, h, w)`` soft belief in each label (see :func:`_evidence`), or ``None``.
        samples: features of each label's seeds (see :func:`_feature_samples`): the random walker's prior is then
            colour models, else ``evidence``.
    """
    height, width = constraints.shape
    size = (max(round(width * factor), 2), max(round(height * factor), 2))
    if size == (width, height):
        small_image, small_motion = np.ascontiguousarray(image), motion
        small_seeds, small_evidence = constraints, evidence
    else:
        small_image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        small_motion = None if motion is None else cv2.resize(motion, size, interpolation=cv2.INTER_AREA)
        small_seeds = _shrink_seeds(constraints, marked, labels, size)
        small_evidence = None
        if evidence is not None:
            small_evidence = np.stack([cv2.resize(e, size, interpolation=cv2.INTER_AREA) for e in evidence])
    if cfg.method == "grabcut":
        small = _grabcut(small_image, small_seeds, labels, small_evidence, cfg.iterations)
    else:
        small = _random_walker(small_image, small_motion, small_seeds, labels, small_evidence, samples, cfg)
    if small.shape[1:] == (height, width):
        return small
    return np.stack([cv2.resize(p, (width, height), interpolation=cv2.INTER_LINEAR) for p in small])


def _shrink_seeds(constraints: np.ndarray, marked: np.ndarray, labels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Seed map at ``size`` ``(w, h)``: a mark survives if it touches a small pixel (thin scribbles must not vanish),
    a belief only if it covers it; small pixels touched by marks of two labels are left undecided."""
    small = np.full((size[1], size[0]), UNMARKED, dtype=np.int32)
    touches = np.zeros((size[1], size[0]), dtype=np.int32)
    for label in labels:
        is_label = constraints == label
        covered = cv2.resize(is_label.astype(np.float32), size, interpolation=cv2.INTER_AREA) >= 1.0 - 1e-4
        small[covered] = label
        touched = cv2.resize((is_label & marked).astype(np.float32), size, interpolation=cv2.INTER_AREA) > 1e-3
        small[touched] = label
        touches += touched
    small[touches > 1] = UNMARKED
    return small


def _grabcut(
    image: np.ndarray, seeds: np.ndarray, labels: np.ndarray, evidence: np.ndarray | None, iterations: int
) -> np.ndarray:
    """``float32 (L, h, w)`` one-hot labels from one GrabCut per object label.

    Each object's mask starts as "foreground" on its seeds, "background" on other seeds, "probably foreground" where
    ``evidence`` says so and "probably background" elsewhere. A pixel claimed by several objects goes to the one with
    the most evidence, else to the one whose seeds are nearest; one claimed by none to background (or, when no
    background seed exists, to the nearest seeds' label).
    """
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    unknown = seeds == UNMARKED
    claims = np.zeros((len(labels), *seeds.shape), dtype=bool)
    for k, label in enumerate(labels):
        if label == 0:
            continue
        mask = np.full(seeds.shape, cv2.GC_PR_BGD, dtype=np.uint8)
        if evidence is not None:
            mask[evidence[k] > 0.5] = cv2.GC_PR_FGD
        mask[~unknown] = cv2.GC_BGD
        mask[seeds == label] = cv2.GC_FGD
        foreground = int(np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD)).sum())
        # GrabCut's colour models need a handful of samples on each side (its k-means asserts otherwise).
        if foreground >= 10 and mask.size - foreground >= 10 and unknown.any():
            cv2.setRNGSeed(0)
            cv2.grabCut(bgr, mask, None, np.zeros((1, 65)), np.zeros((1, 65)), iterations, cv2.GC_INIT_WITH_MASK)
        claims[k] = np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD))
    nearness = np.stack([-_distance_to(seeds == label) for label in labels])
    score = np.where(claims, nearness if evidence is None else evidence, -np.inf)
    unclaimed = ~claims.any(axis=0)
    if labels[0] == 0:
        score[0] = np.where(unclaimed, 0.0, -np.inf)
    else:
        score[:, unclaimed] = nearness[:, unclaimed]
    return _one_hot(np.argmax(score, axis=0), len(labels))


def _one_hot(index: np.ndarray, count: int) -> np.ndarray:
    """``float32 (count, h, w)`` one-hot of an ``(h, w)`` index map."""
    return (np.arange(count)[:, None, None] == index[None]).astype(np.float32)


def _random_walker(
    image: np.ndarray,
    motion: np.ndarray | None,
    seeds: np.ndarray,
    labels: np.ndarray,
    evidence: np.ndarray | None,
    samples: list[np.ndarray] | None,
    cfg: SeededConfig,
) -> np.ndarray:
    """``float32 (L, h, w)`` probabilities of a multi-label random walker with prior models (Grady, CVPR 2005).

    For each label ``s``, ``(L_U + w · I) x_s = w · λ_s + W_US m_s`` over the undecided pixels ``U``, where ``L`` is
    the Laplacian of the 4-connected grid (edge weights as :class:`SeededConfig` says), ``W_US`` its weights to the
    seeds ``m_s`` of ``s``, ``w`` the prior weight and ``λ_s`` how much each pixel alone says ``s`` (summing to 1 over
    labels). The prior term also makes the system regular where an undecided region touches no seed.

    ``λ`` is ``evidence`` when ``samples`` is ``None``; else it comes from colour models of each label, fitted first
    to ``samples`` plus the undecided pixels that ``evidence`` (or, without it, background) claims — they are mostly
    background and seeds alone sample it poorly, as GrabCut reasons — then refitted to each solution.
    """
    walker = _Walker(image, seeds, cfg.beta, cfg.prior_weight)
    if samples is None:  # the caller then passes the prior as evidence
        return walker.solve(labels, evidence / np.maximum(evidence.sum(axis=0, keepdims=True), 1e-6))
    features = _features(image, motion)
    colours = features.reshape(-1, features.shape[-1])
    undecided = (seeds == UNMARKED).ravel()
    if evidence is not None:
        claimed = np.argmax(evidence, axis=0).ravel()
    else:
        claimed = np.full(len(colours), 0 if labels[0] == 0 else -1)
    probabilities = None
    for _ in range(cfg.iterations):
        pools = []
        for k in range(len(labels)):
            extra = colours[undecided & (claimed == k)]
            pools.append(np.concatenate([samples[k], subsample(extra)]))
        likelihood = colour_likelihood(pools, colours)
        probabilities = walker.solve(labels, likelihood.reshape(len(labels), *seeds.shape), start=probabilities)
        claimed = np.argmax(probabilities, axis=0).ravel()
    return probabilities


class _Walker:
    """The random walker's linear system over the undecided pixels of one seed map, built once for several priors."""

    def __init__(self, image: np.ndarray, seeds: np.ndarray, beta: float, weight: float) -> None:
        height, width = seeds.shape
        lab = cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
        squared = np.concatenate(
            [
                np.square(lab[:, 1:] - lab[:, :-1]).sum(axis=-1).ravel(),
                np.square(lab[1:] - lab[:-1]).sum(axis=-1).ravel(),
            ]
        )
        edges = np.exp(-beta * squared / max(float(squared.mean()), 1e-6)) + 1e-6
        index = np.arange(height * width).reshape(height, width)
        first = np.concatenate([index[:, :-1].ravel(), index[:-1].ravel()])
        second = np.concatenate([index[:, 1:].ravel(), index[1:].ravel()])
        adjacency = sparse.coo_array(
            (np.concatenate([edges, edges]), (np.concatenate([first, second]), np.concatenate([second, first]))),
            shape=(height * width, height * width),
        ).tocsr()
        self.seeds = seeds.ravel()
        self.shape = (height, width)
        self.weight = weight
        self.unknown = np.flatnonzero(self.seeds == UNMARKED)
        self.seeded = np.flatnonzero(self.seeds != UNMARKED)
        rows = adjacency[self.unknown]
        degree = np.asarray(rows.sum(axis=1)).ravel()
        self.system = (sparse.diags_array(degree + weight) - rows[:, self.unknown]).tocsr()
        self.to_seeds = rows[:, self.seeded].tocsr()
        self.preconditioner = sparse.diags_array(1.0 / self.system.diagonal())

    def solve(self, labels: np.ndarray, likelihood: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
        """``float32 (L, h, w)`` probabilities given ``λ`` (``likelihood``, ``(L, h, w)``); the solver starts from
        ``start`` (a previous solution, same shape) when given, else from ``λ``."""
        out = np.zeros((len(labels), len(self.seeds)), dtype=np.float32)
        for k, label in enumerate(labels):
            is_label = self.seeds == label
            out[k, is_label] = 1.0
            if len(self.unknown) == 0:
                continue
            if k == len(labels) - 1:
                # The probabilities sum to 1 at every pixel, so the last label needs no solve.
                out[k, self.unknown] = 1.0 - out[:k, self.unknown].sum(axis=0)
                break
            prior = likelihood[k].ravel()[self.unknown].astype(np.float64)
            rhs = self.weight * prior + self.to_seeds @ is_label[self.seeded].astype(np.float64)
            guess = prior if start is None else start[k].ravel()[self.unknown].astype(np.float64)
            solution, _ = sparse_linalg.cg(
                self.system, rhs, x0=guess, rtol=1e-4, atol=0.0, M=self.preconditioner, maxiter=2000
            )
            out[k, self.unknown] = solution
        return np.clip(out, 0.0, 1.0).reshape(len(labels), *self.shape)


def _features(image: np.ndarray, motion: np.ndarray | None) -> np.ndarray:
    """``float64 (..., D)`` what the colour models model: RGB (8-bit levels), then the two components of the weighted
    ``motion`` when given (``D`` = 5), else ``D`` = 3."""
    colours = image.astype(np.float64)
    return colours if motion is None else np.concatenate([colours, motion.astype(np.float64)], axis=-1)


def _feature_samples(
    image: np.ndarray, motion: np.ndarray | None, constraints: np.ndarray, labels: np.ndarray
) -> list[np.ndarray]:
    """``float64 (N, D)`` features (:func:`_features`) of each label's seeds over the whole frame, at most
    :data:`_SAMPLES` of them."""
    out = []
    for label in labels:
        is_label = constraints == label
        colours = _features(image[is_label], None if motion is None else motion[is_label])
        out.append(subsample(colours))
    return out


def subsample(samples: np.ndarray, limit: int = _SAMPLES) -> np.ndarray:
    """At most about ``limit`` rows of ``samples`` ``(N, D)``, regularly spaced."""
    return samples[:: max(len(samples) // max(limit, 1), 1)]


def colour_likelihood(pools: Sequence[np.ndarray], colours: np.ndarray) -> np.ndarray:
    """How much each of ``colours`` ``float64 (N, D)`` alone says each label, from a colour model (a Gaussian mixture,
    :func:`_fit_gmm`) fitted to each label's ``pools[k]`` ``(N_k, D)``: ``float64 (L, N)``, summing to 1 over the
    labels, tempered by :data:`_TEMPERATURE`."""
    log_likelihood = np.stack([_gmm_log_density(_fit_gmm(pool), colours) for pool in pools])
    likelihood = np.exp(_TEMPERATURE * (log_likelihood - log_likelihood.max(axis=0, keepdims=True)))
    return likelihood / likelihood.sum(axis=0, keepdims=True)


def _fit_gmm(colours: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A mixture of up to :data:`_COMPONENTS` full-covariance Gaussians fitted by EM to ``float64 (N, D)`` colours,
    deterministically (k-means started from brightness quantiles).

    Returns:
        ``(log_weights (C,), means (C, 3), covariances (C, 3, 3))``.
    """
    dims = colours.shape[1]
    if len(colours) == 0:
        # A label without any colour (its seeds vanished at the working resolution): a flat, uninformative model.
        return np.zeros(1), np.full((1, dims), 127.5), np.eye(dims)[None] * 128.0**2
    components = int(min(_COMPONENTS, max(len(colours) // 20, 1)))
    order = np.argsort(colours.sum(axis=1), kind="stable")
    means = colours[order[((np.arange(components) + 0.5) * len(colours) / components).astype(int)]]
    for _ in range(5):
        nearest = np.argmin(((colours[:, None] - means[None]) ** 2).sum(axis=-1), axis=1)
        for c in range(components):
            if (nearest == c).any():
                means[c] = colours[nearest == c].mean(axis=0)
    responsibilities = np.eye(components)[nearest]
    noise = _COLOUR_NOISE * np.eye(dims)
    for _ in range(_EM_STEPS):
        mass = responsibilities.sum(axis=0) + 1e-9
        means = (responsibilities.T @ colours) / mass[:, None]
        covariances = np.empty((components, dims, dims))
        for c in range(components):
            centred = colours - means[c]
            covariances[c] = (responsibilities[:, c, None] * centred).T @ centred / mass[c] + noise
        log_weights = np.log(mass / mass.sum())
        log_joint = log_weights + _gaussian_log_density(colours, means, covariances)
        responsibilities = np.exp(log_joint - log_joint.max(axis=1, keepdims=True))
        responsibilities /= responsibilities.sum(axis=1, keepdims=True)
    return log_weights, means, covariances


def _gmm_log_density(gmm: tuple[np.ndarray, np.ndarray, np.ndarray], colours: np.ndarray) -> np.ndarray:
    """``float64 (N,)`` log density of a mixture from :func:`_fit_gmm` at ``(N, D)`` colours."""
    log_weights, means, covariances = gmm
    log_joint = log_weights + _gaussian_log_density(colours, means, covariances)
    top = log_joint.max(axis=1)
    return top + np.log(np.exp(log_joint - top[:, None]).sum(axis=1))


def _gaussian_log_density(colours: np.ndarray, means: np.ndarray, covariances: np.ndarray) -> np.ndarray:
    """``float64 (N, C)`` log density of each of C Gaussians at ``(N, D)`` colours."""
    out = np.empty((len(colours), len(means)))
    for c, (mean, covariance) in enumerate(zip(means, covariances, strict=True)):
        centred = colours - mean
        mahalanobis = ((centred @ np.linalg.inv(covariance)) * centred).sum(axis=1)
        out[:, c] = -0.5 * (mahalanobis + np.linalg.slogdet(covariance)[1] + colours.shape[1] * np.log(2 * np.pi))
    return out
