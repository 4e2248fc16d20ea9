"""LucidTracker: for each video, dream from its annotated frame, train the two networks, then track frame by frame.

A share of the dreamed pairs (``holdout``) is kept out of training; on them the post-processing (fusion weight,
threshold, refinement, clean-up) is tuned and saved beside the checkpoint.

Tracking frame ``t``: DIS flow from ``t`` to ``t − 1``; each object's guidance is its mask in the prediction of
``t − 1``, carried along that flow (``warp_guidance``) and optionally dilated; the appearance and motion networks
look at a window around the guidance; their probabilities are fused, refined and the objects merged by soft
aggregation (:mod:`segmenters.postprocess`). An object whose guidance becomes empty (it left the frame, or was
lost) stays empty.

With ``adaptation.enabled`` (``profile=cpu``) the video is tracked twice: the networks continue training on dreams of
two of the first pass's own frames, then track again from the first of them (:mod:`segmenters.lucid.adaptation`).
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from dreaming.synthesis.config import DreamConfig, check_config, fast, without
from dreaming.synthesis.dream import Scene
from dreaming.synthesis.inpaint import object_hole
from foundation.errors import InputError
from foundation.io import atomic_path, object_ids
from foundation.settings import from_container
from foundation.timing import timed
from segmenters.lucid.adaptation import AdaptationConfig, adaptation_frames, objects_present
from segmenters.lucid.boundary import BoundaryConfig, BoundarySamples
from segmenters.lucid.inputs import MatchingContext, dilate, motion_channels, warp_guidance
from segmenters.lucid.model import LucidModel
from segmenters.lucid.proposals import (
    PROPOSAL_GRID,
    ProposalConfig,
    ProposalFrame,
    keep_supported,
    kept_pieces,
    nearer_match,
    nearest_labels,
    redetect,
)
from segmenters.lucid.samples import (
    CropConfig,
    CropSamples,
    DatasetPairs,
    JitterConfig,
    PairSubset,
    TrainingPair,
    dream_training_pairs,
    split_pairs,
)
from segmenters.lucid.validation import validation_frames
from segmenters.matching.embedding import (
    EmbeddingConfig,
    EmbeddingSamples,
    build_embedding,
    nearest_neighbour_loss,
    resize_labels,
)
from segmenters.matching.segmenter import (
    INPUT_CHANNELS,
    MatchingInputsConfig,
    build_matching_segmenter,
    map_count,
)
from segmenters.networks import UNet, UNetConfig, build_unet
from segmenters.optical_flow import dis_flow
from segmenters.postprocess import PostProcessConfig
from segmenters.postprocess.tuning import DEFAULT_GRID, postprocessed, tune_on_frames
from segmenters.tracking import annotated_first_frame, describe_stage_times
from segmenters.training import (
    TrainConfig,
    autocast_dtype,
    load_checkpoint,
    resolve_device,
    segmentation_loss,
    train,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AppearanceConfig(UNetConfig):
    """The appearance network. Group normalisation: batch statistics of training crops differ from those of the one
    crop tracked at a time, and on the embedded clip that made the result swing with the seed
    (``benchmarks/embedded_spread.py``)."""

    norm: str = "group"
    matching: MatchingInputsConfig = field(default_factory=MatchingInputsConfig)
    """FEELVOS's matching maps as further inputs, learnt end to end (:mod:`segmenters.matching.segmenter`), e.g.
    ``tracker.appearance.matching.mode=both``."""


@dataclass(frozen=True)
class MotionConfig(UNetConfig):
    """The motion network: optional, narrower by default, group normalisation as the appearance network."""

    widths: tuple[int, ...] = (8, 16, 32, 64)
    norm: str = "group"
    enabled: bool = True
    direction: bool = False
    """Give the flow's (camera-compensated) components besides its magnitude."""


@dataclass(frozen=True)
class TuningConfig:
    enabled: bool = True
    """Choose the post-processing on the held-out dreams; false: use ``postprocess`` as given."""
    sweeps: int = 2
    """Rounds of the coordinate search."""
    min_frames: int = 20
    """Held-out frames needed to tune; with fewer the post-processing is kept as configured (tuning on a few frames
    fits their noise)."""
    grid: dict[str, tuple[Any, ...]] = field(default_factory=lambda: dict(DEFAULT_GRID))
    """Values tried per :class:`~segmenters.postprocess.PostProcessConfig` field."""
    proposals: bool = True
    """With the proposals on, also choose their scoring on the held-out dreams, after the post-processing."""
    proposal_grid: dict[str, tuple[Any, ...]] = field(default_factory=lambda: dict(PROPOSAL_GRID))
    """Values tried per :class:`~segmenters.lucid.proposals.ProposalConfig` field."""


@dataclass(frozen=True)
class TrackConfig:
    warp_guidance: bool = True
    """Carry the previous prediction along the flow before using it as guidance."""
    guidance_dilation: int = 0
    """Dilate the guidance by this radius (px)."""
    dis_preset: str = "medium"
    batch_size: int = 16
    """Object crops per forward pass."""
    flip: bool = False
    """Test-time augmentation: the appearance network and the boundary refiner average their probability with that
    of the mirrored input."""


@dataclass(frozen=True)
class LucidConfig:
    """Everything the tracker reads (``conf/tracker/lucid.yaml``)."""

    dream: DreamConfig = field(default_factory=fast)
    """How pairs are dreamed on the fly (:class:`~dreaming.synthesis.config.DreamConfig`; the ``fast`` preset: a
    feathered alpha blend); every field can be overridden or swept, e.g. ``tracker.dream.placement.scale=[0.5,2]``,
    ``tracker.dream.blend.method=poisson`` (the paper's preset)."""
    inpaint: str | None = None
    """Override of ``dream.inpaint.method`` (``patchmatch`` or ``telea``), set by the profile."""
    pairs: int = 200
    """Pairs dreamed on the fly (when ``dataset`` is null)."""
    without: tuple[str, ...] = ()
    """Dreaming components switched off, for ablations (:data:`dreaming.config.COMPONENTS`)."""
    dataset: str | None = None
    """A ``lucid-dream`` output root holding ``<root>/<video>/``; null: dream on the fly."""
    flow: str = "exact"
    """Training flow: ``exact`` (the dreamed flow) or ``estimated`` (DIS on the dreamed pair, as when tracking)."""
    seed: int = 0
    device: str = "auto"
    """``auto`` (CUDA when available, else CPU), ``cpu`` or ``cuda[:n]``."""
    precision: str = "auto"
    """Autocast precision: ``auto`` (float16 on CUDA, bfloat16 on CPUs with native bf16, else float32), ``fp32``,
    ``bf16`` or ``fp16``."""
    threads: int = 2
    """torch CPU threads (0: leave torch's setting)."""
    crop: CropConfig = field(default_factory=CropConfig)
    jitter: JitterConfig = field(default_factory=JitterConfig)
    appearance: AppearanceConfig = field(default_factory=AppearanceConfig)
    motion: MotionConfig = field(default_factory=MotionConfig)
    boundary: BoundaryConfig = field(default_factory=BoundaryConfig)
    """The boundary refiner (:mod:`segmenters.lucid.boundary`), trained after the two networks, with its own
    checkpoint."""
    matching: EmbeddingConfig = field(default_factory=EmbeddingConfig)
    """The pixel embedding (:mod:`segmenters.matching`), trained after the two networks, with its own checkpoint;
    the proposals use it."""
    proposals: ProposalConfig = field(default_factory=ProposalConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    holdout: float = 0.1
    """Fraction of the dreamed pairs kept out of training, to tune the post-processing on."""
    postprocess: PostProcessConfig = field(default_factory=PostProcessConfig)
    """The post-processing used when not tuned, and the tuning's starting point."""
    tuning: TuningConfig = field(default_factory=TuningConfig)
    track: TrackConfig = field(default_factory=TrackConfig)
    adaptation: AdaptationConfig = field(default_factory=AdaptationConfig)
    """Online adaptation (:mod:`segmenters.lucid.adaptation`): learn from the first pass's own frames, then track
    again."""
    checkpoints: str | None = None
    """Folder of per-video checkpoints ``<folder>/<video>-<settings digest>.pt`` and tuned post-processing and
    proposals' scoring (resumed, and reused when finished); null: none."""
    progress: bool = True


def dream_settings(cfg: LucidConfig) -> DreamConfig:
    """The dream settings ``cfg`` gives: ``dream`` with the profile's inpainting and without the components of
    ``without``, checked (:class:`~foundation.errors.InputError` naming the ``tracker.dream`` setting)."""
    dream = cfg.dream
    if cfg.inpaint is not None:
        dream = replace(dream, inpaint=replace(dream.inpaint, method=cfg.inpaint))
    check_config(dream, "tracker.dream")
    return without(dream, cfg.without)


def matching_map_count(cfg: LucidConfig) -> int:
    """The matching maps the appearance network reads (:class:`~foundation.errors.InputError` naming
    ``tracker.appearance.matching.mode`` for an unknown mode)."""
    try:
        return map_count(cfg.appearance.matching.mode)
    except ValueError:
        mode = cfg.appearance.matching.mode
        raise InputError("tracker.appearance.matching.mode", repr(mode), "none, global, local or both") from None


def appearance_channels(cfg: LucidConfig) -> int:
    """Input channels of the appearance network: RGB and guidance, and with matching maps the annotated and the
    previous frame's crops (:data:`segmenters.matching.segmenter.INPUT_CHANNELS`)."""
    return 4 if cfg.appearance.matching.mode == "none" else INPUT_CHANNELS


def build_networks(cfg: LucidConfig) -> dict[str, torch.nn.Module]:
    """Randomly initialised networks, seeded by ``cfg.seed``."""
    torch.manual_seed(cfg.seed)
    matching = cfg.appearance.matching
    appearance: torch.nn.Module = build_unet(cfg.appearance, 4 + matching_map_count(cfg))
    if matching.mode != "none":
        appearance = build_matching_segmenter(appearance, matching, cfg.appearance.norm)
    networks = {"appearance": appearance}
    if cfg.motion.enabled:
        networks["motion"] = build_unet(cfg.motion, motion_channels(cfg.motion.direction))
    stride = max(net.stride for net in networks.values())
    if cfg.crop.size % stride:
        raise InputError("crop.size", f"{cfg.crop.size}", f"a multiple of {stride} (the networks' stride)")
    return networks


def build_model(
    cfg: LucidConfig, networks: dict[str, torch.nn.Module], auxiliary: dict[str, UNet] | None = None
) -> LucidModel:
    """The model of trained ``networks`` (and the ``boundary`` / ``matching`` networks of ``auxiliary``) with
    ``cfg``'s crops, post-processing, device and precision."""
    auxiliary = auxiliary or {}
    device = resolve_device(cfg.device)
    return LucidModel(
        networks["appearance"],
        networks.get("motion"),
        cfg.crop,
        cfg.motion.direction,
        cfg.postprocess,
        device,
        cfg.track.batch_size,
        autocast_dtype(device, cfg.precision),
        auxiliary.get("boundary"),
        cfg.boundary,
        auxiliary.get("matching"),
        cfg.matching,
        flip=cfg.track.flip,
    )


def checkpoint_settings(cfg: LucidConfig) -> str:
    """What the two networks' checkpoint must match to be resumed: everything that shapes their training (the
    boundary refiner, trained after them, has its own checkpoint: :func:`auxiliary_settings`)."""
    keep = replace(cfg, threads=0, device="", checkpoints=None, progress=False)
    keep = replace(keep, train=replace(keep.train, checkpoint_every=0, workers=0))
    settings = asdict(keep)
    # Left out, not reset to their defaults: a field added to the tracking, post-processing or tuning settings must
    # not change the digest (adding track.flip would have retrained every network).
    for name in (*AUXILIARY, "proposals", *TRACKING_ONLY):
        settings.pop(name)
    if cfg.appearance.matching.mode == "none":
        settings["appearance"].pop("matching")  # so the networks trained before the matching inputs stay valid
    return json.dumps(settings, sort_keys=True)


TRACKING_ONLY = ("track", "postprocess", "tuning", "adaptation")
"""Settings that shape no checkpointed training (the adaptation trains copies while tracking): the networks'
checkpoints stay valid whatever they are."""


AUXILIARY = ("boundary", "matching")
"""Networks trained after the two main ones, each with its own checkpoint."""


def auxiliary_settings(cfg: LucidConfig, name: str) -> str:
    """What the checkpoint of the auxiliary network ``name`` must match: its settings and the dreams."""
    return json.dumps([checkpoint_settings(cfg), asdict(getattr(cfg, name))], sort_keys=True)


def train_on_pairs(
    networks: dict[str, torch.nn.Module],
    pairs: Sequence[TrainingPair],
    cfg: LucidConfig,
    schedule: TrainConfig,
    seed: int,
    checkpoint: Path | None = None,
    reference: tuple[np.ndarray, np.ndarray] | None = None,
    progress: bool = False,
    on_step: Callable[[int, int], None] | None = None,
) -> None:
    """Train ``networks`` in place for ``schedule`` on random object crops of ``pairs`` (:class:`CropSamples`
    seeded by ``seed``; ``reference``, the annotated frame and its labels, for an appearance network with matching
    maps), on ``cfg``'s device and precision; resumed from and saved to ``checkpoint`` when given."""
    device = resolve_device(cfg.device)
    length = schedule.steps * schedule.batch_size
    samples = CropSamples(pairs, cfg.crop, cfg.jitter, cfg.motion.direction, seed, length, reference=reference)
    precision = autocast_dtype(device, cfg.precision)
    train(networks, samples, schedule, device, checkpoint, progress, precision, on_step=on_step)


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:10]


class LucidTracker:
    """The Lucid tracker (Khoreva et al., IJCV 2019); keyword arguments are the fields of :class:`LucidConfig`.

    ``stage_times[video]`` holds the seconds spent dreaming, training and tracking each video.
    """

    def __init__(self, **settings: Any) -> None:
        settings = {
            k: OmegaConf.to_container(v, resolve=True) if isinstance(v, DictConfig) else v for k, v in settings.items()
        }
        self.cfg = from_container(LucidConfig, settings, "tracker")
        dream_settings(self.cfg)  # a bad dream setting fails here, not after a video has been read
        matching_map_count(self.cfg)
        self.stage_times: dict[str, dict[str, float]] = {}

    def _checkpoint_path(self, video: str) -> Path | None:
        """``<checkpoints>/<video>-<digest of the training settings>.pt``: runs of other settings (a sweep) keep
        their own checkpoints in the same folder, and runs of the same settings share one."""
        if self.cfg.checkpoints is None:
            return None
        return Path(self.cfg.checkpoints) / f"{video}-{_digest(checkpoint_settings(self.cfg))}.pt"

    def _wanted(self, name: str) -> bool:
        """Whether the auxiliary network ``name`` is enabled and used (the embedding serves the proposals)."""
        used = self.cfg.proposals.enabled if name == "matching" else True
        return bool(getattr(self.cfg, name).enabled) and used

    def _auxiliary_path(self, video: str, name: str) -> Path | None:
        """``<checkpoints>/<video>-<digest of its settings>.<name>.pt`` for the auxiliary network ``name``."""
        if self.cfg.checkpoints is None or not self._wanted(name):
            return None
        return Path(self.cfg.checkpoints) / f"{video}-{_digest(auxiliary_settings(self.cfg, name))}.{name}.pt"

    def _finished_checkpoint(self, path: Path | None, steps: int | None = None) -> dict[str, Any] | None:
        """The checkpoint's state when it holds a finished training (of ``steps``, by default the networks')."""
        if path is None or not path.is_file():
            return None
        state = load_checkpoint(path)
        return state if int(state["step"]) >= (steps or self.cfg.train.steps) else None

    def _auxiliary_networks(
        self, pairs: Any, device: torch.device, precision: torch.dtype | None, video: str
    ) -> dict[str, UNet]:
        """The boundary refiner and the embedding (those enabled), read from their checkpoints or trained on the
        training dreams ``pairs`` (``None`` when both are finished)."""
        cfg, times, networks = self.cfg, self.stage_times[video], {}
        for name in AUXILIARY:
            aux = getattr(cfg, name)
            if not self._wanted(name):
                continue
            torch.manual_seed(cfg.seed)
            net: torch.nn.Module = build_unet(aux, 4) if name == "boundary" else build_embedding(aux)
            path = self._auxiliary_path(video, name)
            finished = self._finished_checkpoint(path, aux.steps)
            if finished is not None:
                net.load_state_dict(finished["networks"][name])
            else:
                length = aux.steps * aux.batch_size
                samples: Any = (
                    BoundarySamples(pairs, aux, cfg.crop, cfg.jitter, cfg.seed, length)
                    if name == "boundary"
                    else EmbeddingSamples(pairs, aux, cfg.seed, length)
                )
                loss: Any = segmentation_loss if name == "boundary" else nearest_neighbour_loss
                with timed(times, "train"):
                    if path is not None:
                        path.parent.mkdir(parents=True, exist_ok=True)
                        with atomic_path(path.with_suffix(".json")) as tmp:
                            tmp.write_text(auxiliary_settings(cfg, name))
                    # The loader workers too: made in this process, the refiner's patches (cut from whole dreamed
                    # frames) took 1 s a step on an H200 with the GPU idle.
                    steps = TrainConfig(
                        steps=aux.steps,
                        batch_size=aux.batch_size,
                        lr=aux.lr,
                        checkpoint_every=0,
                        workers=cfg.train.workers,
                    )
                    train({name: net}, samples, steps, device, path, cfg.progress, precision, loss)
            networks[name] = net.net if name == "matching" else net
        return networks

    def _auxiliary_finished(self, video: str) -> bool:
        return all(
            self._finished_checkpoint(self._auxiliary_path(video, name), getattr(self.cfg, name).steps) is not None
            for name in AUXILIARY
            if self._wanted(name)
        )

    def _training_pairs(self, image: np.ndarray, labels: np.ndarray, video: str) -> Any:
        cfg = self.cfg
        if cfg.dataset is not None:
            if cfg.without:
                raise InputError("tracker.without", "set with a dataset", "a dataset dreamed without those parts")
            # Loader workers each hold their own cache (GBs at the gpu profile's 2,500 pairs) and decode in
            # parallel anyway: cache only when crops are made in this process.
            cache = cfg.pairs if cfg.train.workers == 0 else 0
            return DatasetPairs(cfg.dataset, video, cfg.flow, cfg.track.dis_preset, cache=cache)
        dream_cfg = dream_settings(cfg)
        scene = Scene.from_frame(image, labels, dream_cfg.inpaint)
        return dream_training_pairs(
            scene, dream_cfg, cfg.pairs, cfg.seed, video, cfg.flow, cfg.track.dis_preset, cfg.progress
        )

    def _tuning_path(self, video: str, kind: str = "postprocess") -> Path | None:
        """``<checkpoints>/<video>-<digest of the training and tuning settings>.<kind>.json`` (``kind``:
        ``postprocess`` or ``proposals``)."""
        if self.cfg.checkpoints is None:
            return None
        tuning = asdict(self.cfg.tuning)
        proposals = {name: tuning.pop(name) for name in ("proposals", "proposal_grid")}
        settings: list[Any] = [
            *(auxiliary_settings(self.cfg, name) for name in AUXILIARY),
            asdict(self.cfg.postprocess),
            tuning,
            # The one tracking setting that changes the probabilities the tuning sees.
            {"flip": self.cfg.track.flip},
        ]
        if kind == "proposals":
            # Not the re-detection's settings: a held-out frame never has a lost object.
            settings += [proposals, asdict(replace(self.cfg.proposals, redetect=True, min_area=0.0))]
        return Path(self.cfg.checkpoints) / f"{video}-{_digest(json.dumps(settings))}.{kind}.json"

    def _tunes_proposals(self) -> bool:
        tuning = self.cfg.tuning
        return tuning.enabled and tuning.proposals and self._wanted("matching")

    def _saved_tuning(self, video: str, kind: str, schema: type) -> Any:
        """The ``kind`` settings (a ``schema``) tuned earlier with these settings (beside the checkpoint), if any."""
        path = self._tuning_path(video, kind)
        if path is None or not path.is_file():
            return None
        return from_container(schema, json.loads(path.read_text())[kind], str(path))

    def _tune(
        self, model: LucidModel, pairs: Any, video: str, reference: tuple[np.ndarray, np.ndarray]
    ) -> tuple[PostProcessConfig, ProposalConfig | None]:
        """The post-processing and (with the proposals on and ``tuning.proposals``) the proposals' scoring chosen on
        the held-out dreams ``pairs``, each written beside the checkpoint."""
        cfg = self.cfg
        if len(pairs) == 0:
            raise InputError("tracker.holdout", "no held-out dream to tune on", "holdout > 0, or tuning.enabled=false")
        grid = dict(cfg.tuning.grid)
        if model.motion is None:
            grid.pop("appearance_weight", None)  # nothing to fuse
        matcher = None
        if self._tunes_proposals() and model.embedding is not None:
            matcher = model.reference_matcher(*reference)
        local = cfg.proposals.local_radius if cfg.proposals.local else None
        frames = validation_frames(model, pairs, cfg.track.dis_preset, reference, matcher, local)
        post = self._choose(video, "postprocess", frames, cfg.postprocess, grid, postprocessed)
        if matcher is None:
            return post, None
        scored = [
            ProposalFrame(postprocessed(f, post), f.guidance, f.distances, f.labels, f.ids)
            for f in frames
            if f.guidance is not None and f.distances is not None
        ]
        return post, self._choose(video, "proposals", scored, cfg.proposals, cfg.tuning.proposal_grid, kept_pieces)

    def _choose(
        self,
        video: str,
        kind: str,
        frames: Sequence[Any],
        start: Any,
        grid: dict[str, tuple[Any, ...]],
        predict: Callable[[Any, Any], np.ndarray],
    ) -> Any:
        """The ``kind`` settings (``postprocess`` or ``proposals``) chosen on ``frames`` from ``start``, logged and
        written beside the checkpoint."""
        tuning = self.cfg.tuning
        what = "post-processing" if kind == "postprocess" else "proposals' scoring"
        result = tune_on_frames(
            frames, start, grid, predict, tuning.sweeps, self.cfg.progress, tuning.min_frames, f"tune {what}"
        )
        if len(frames) < tuning.min_frames:
            log.warning(
                "%s: %d held-out frames, fewer than tuning.min_frames=%d: %s kept as configured",
                video,
                len(frames),
                tuning.min_frames,
                what,
            )
        log.info(
            "%s: %s tuned on %d held-out frames in %.1f s: J&F %.3f -> %.3f (%s)",
            video,
            what,
            len(frames),
            result.seconds,
            result.start_score,
            result.score,
            result.best,
        )
        path = self._tuning_path(video, kind)
        if path is not None:
            with atomic_path(path) as tmp:
                tmp.write_text(json.dumps(result.to_json(kind), indent=1))
        return result.best

    def _reference(self, image: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """The annotated frame as the matching maps' reference in training, when the appearance network reads them."""
        return (image, labels) if self.cfg.appearance.matching.mode != "none" else None

    def fit(self, image: np.ndarray, labels: np.ndarray, video: str = "video") -> LucidModel:
        """Dream from one annotated frame (or read its dataset), train the networks on most of the dreams and tune
        the post-processing on the rest: the model of ``video``."""
        cfg, times = self.cfg, self.stage_times.setdefault(video, {})
        for stage in ("dream", "train", "tune"):
            times.setdefault(stage, 0.0)
        if cfg.threads > 0:
            torch.set_num_threads(cfg.threads)
        device = resolve_device(cfg.device)
        precision = autocast_dtype(device, cfg.precision)
        networks = build_networks(cfg)
        checkpoint = self._checkpoint_path(video)
        finished = self._finished_checkpoint(checkpoint)
        tuned = self._saved_tuning(video, "postprocess", PostProcessConfig) if cfg.tuning.enabled else None
        scoring = self._saved_tuning(video, "proposals", ProposalConfig) if self._tunes_proposals() else None
        untuned = cfg.tuning.enabled and (tuned is None or (self._tunes_proposals() and scoring is None))
        pairs: Any = []
        auxiliary_finished = self.cfg.checkpoints is not None and self._auxiliary_finished(video)
        if finished is None or not auxiliary_finished or untuned:
            with timed(times, "dream"):
                pairs = self._training_pairs(image, labels, video)
        training, held_out = split_pairs(len(pairs), cfg.holdout, cfg.seed) if len(pairs) else ([], [])
        if finished is not None:
            log.info("%s: trained networks read from %s", video, checkpoint)
            for name, net in networks.items():
                net.load_state_dict(finished["networks"][name])
        else:
            with timed(times, "train"):
                if checkpoint is not None:
                    checkpoint.parent.mkdir(parents=True, exist_ok=True)
                    with atomic_path(checkpoint.with_suffix(".json")) as tmp:
                        tmp.write_text(checkpoint_settings(cfg))
                train_on_pairs(
                    networks,
                    PairSubset(pairs, training),
                    cfg,
                    cfg.train,
                    cfg.seed,
                    checkpoint,
                    self._reference(image, labels),
                    cfg.progress,
                )
        auxiliary = self._auxiliary_networks(PairSubset(pairs, training), device, precision, video)
        model = build_model(cfg, networks, auxiliary)
        if cfg.tuning.enabled:
            if untuned:
                with timed(times, "tune"):
                    tuned, scoring = self._tune(model, PairSubset(pairs, held_out), video, (image, labels))
            assert tuned is not None
            model.postprocess, model.proposals = tuned, scoring
        return model

    def follow(
        self,
        model: LucidModel,
        first: np.ndarray,
        frames: Iterable[np.ndarray],
        first_labels: np.ndarray,
        start: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> Iterator[np.ndarray]:
        """Labels of each frame after ``first`` (the annotated frame, whose labels are ``first_labels``), frame by
        frame; ``start``: the frame just before ``frames`` and its labels, when that is not ``first`` (tracking
        resumed mid-video).

        With the embedding and ``proposals.enabled``: pieces of a mask that neither match the object nor continue
        its previous mask are dropped, and lost objects are searched for in the whole frame
        (:mod:`segmenters.lucid.proposals`)."""
        tcfg, pcfg = self.cfg.track, self.cfg.proposals
        if pcfg.enabled and model.proposals is not None:
            # The fields the tuning chooses come from the video's model; the others (switches) from the tracker.
            tuned = {name: getattr(model.proposals, name) for name in self.cfg.tuning.proposal_grid}
            pcfg = replace(pcfg, **tuned)
        ids = object_ids(first_labels)
        matcher = None
        if model.embedding is not None and pcfg.enabled:
            matcher = model.reference_matcher(first, first_labels)
            previous_embedding = matcher.embed(first if start is None else start[0])
            size = previous_embedding.shape[1:]
            small = resize_labels(first_labels, size)
            min_area = {i: pcfg.min_area * float((small == i).sum()) for i in ids}
        previous, labels = start or (first, first_labels)
        for index, frame in enumerate(frames, start=1):
            if frame.shape != first.shape:
                raise InputError(f"frame {index}", f"shape {frame.shape}", f"the first frame's shape {first.shape}")
            flow = dis_flow(frame, previous, tcfg.dis_preset)
            guide_labels = labels
            if tcfg.warp_guidance:
                guide_labels = warp_guidance(labels, flow)
            guidance = [dilate(guide_labels == object_id, tcfg.guidance_dilation) for object_id in ids]
            context = MatchingContext(first, first_labels, previous, labels) if model.matching else None
            if matcher is not None:
                embedding = matcher.embed(frame)
                distances = matcher.distances(embedding, ids).cpu().numpy()
                matched = nearest_labels(distances, ids, pcfg.match_distance)
                if pcfg.local:
                    local = matcher.local_distances(
                        embedding, previous_embedding, resize_labels(labels, size), ids, pcfg.local_radius
                    )
                    scoring = nearer_match(distances, local.cpu().numpy())
                else:
                    scoring = distances
                previous_embedding = embedding
                if pcfg.redetect:
                    for k, object_id in enumerate(ids):
                        if not guidance[k].any():
                            found = redetect(matched, object_id, min_area[object_id])
                            if found is not None:
                                guidance[k] = resize_labels(found, frame.shape[:2]) > 0
                labels = model.segment(frame, flow, guidance, ids, context)
                labels = keep_supported(labels, scoring, guide_labels, ids, pcfg)
            else:
                labels = model.segment(frame, flow, guidance, ids, context)
            previous = frame
            yield labels

    def track(
        self, frames: Iterable[np.ndarray], first_labels: np.ndarray, name: str | None = None
    ) -> Iterator[np.ndarray]:
        """Dream, train and track (see :class:`~segmenters.tracking.Tracker`); ``name`` names the video's dataset
        folder, checkpoint and timing row."""
        video = name or "video"
        iterator = iter(frames)
        first, labels = annotated_first_frame(iterator, first_labels, video)
        model = self.fit(first, labels, video)
        times = self.stage_times[video]
        yield labels.copy()
        try:
            if self.cfg.adaptation.enabled:
                # Two passes: the frames are held (a DAVIS sequence at 480p: ~100 MB).
                rest = list(iterator)
                with timed(times, "track"):
                    tracked = list(self.follow(model, first, rest, labels))
                with timed(times, "adapt"):
                    model, learnt = self.adapt(model, (first, labels), rest, tracked, video)
                # Up to the first frame learnt from, the first pass stands (the networks that learnt from the
                # annotated frame alone tracked it); from there on the adapted networks track again.
                resume = learnt[0] + 1 if learnt else len(rest)
                yield from tracked[:resume]
                if resume < len(rest):
                    start = (rest[resume - 1], tracked[resume - 1])
                    with timed(times, "track"):
                        yield from self.follow(model, first, rest[resume:], labels, start)
                return
            with timed(times, "track"):
                yield from self.follow(model, first, iterator, labels)
        finally:
            log.info("%s: %s", video, describe_stage_times(times))

    def adapt(
        self,
        model: LucidModel,
        annotated: tuple[np.ndarray, np.ndarray],
        frames: Sequence[np.ndarray],
        tracked: Sequence[np.ndarray],
        video: str,
    ) -> tuple[LucidModel, list[int]]:
        """The model whose networks continued training on dreams of some ``tracked`` frames (``frames[i]`` with
        the labels ``tracked[i]``: frame ``i + 1`` of the video) and of the ``annotated`` frame and labels
        (:mod:`segmenters.lucid.adaptation`), and the indices ``i`` of those frames (increasing; when none, ``model``
        itself). ``model`` is left as it is."""
        cfg, acfg = self.cfg, self.cfg.adaptation
        image, labels = annotated
        ids = object_ids(labels)
        dream_cfg = dream_settings(cfg)
        chosen = adaptation_frames([objects_present(t, ids) for t in tracked], acfg.frames)
        learnt = []
        for index in chosen:
            if object_hole(tracked[index], dream_cfg.inpaint.dilation_radius).all():
                log.warning("%s frame %d: the objects fill the frame, nothing to dream from", video, index + 1)
            else:
                learnt.append(index)
        log.info("%s: adapting to frames %s", video, [index + 1 for index in learnt])
        if not learnt:
            return model, []
        sources = [(0, image, labels, acfg.reference_pairs)]
        sources += [(index + 1, frames[index], tracked[index], acfg.pairs_per_frame) for index in learnt]
        pairs = [
            pair
            for frame, source, source_labels, count in sources
            for pair in dream_training_pairs(
                Scene.from_frame(source, source_labels, dream_cfg.inpaint),
                dream_cfg,
                count,
                cfg.seed,
                video,
                cfg.flow,
                cfg.track.dis_preset,
                progress=False,
                frame=frame,
            )
        ]
        networks: dict[str, torch.nn.Module] = {"appearance": copy.deepcopy(model.appearance)}
        if model.motion is not None:
            networks["motion"] = copy.deepcopy(model.motion)
        schedule = replace(cfg.train, steps=acfg.steps, lr=acfg.lr, checkpoint_every=0)
        train_on_pairs(
            networks,
            pairs,
            cfg,
            schedule,
            cfg.seed + 1,
            reference=self._reference(image, labels),
            progress=cfg.progress,
        )
        adapted = copy.copy(model)
        adapted.appearance = networks["appearance"].eval()
        adapted.motion = networks["motion"].eval() if model.motion is not None else None
        return adapted, learnt
