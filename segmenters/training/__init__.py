"""The generic training loop of a tracker's networks: optimisation, mixed precision, checkpoints that resume exactly.

What the networks are trained on is the tracker's own business (:mod:`segmenters.lucid.samples`,
:mod:`segmenters.oneshot.augment`).
"""

from segmenters.training.trainer import (
    TrainConfig,
    autocast_dtype,
    channels_last,
    load_checkpoint,
    loader_workers,
    predict,
    predict_probability,
    resolve_device,
    save_checkpoint,
    segmentation_loss,
    train,
)

__all__ = [
    "TrainConfig",
    "autocast_dtype",
    "channels_last",
    "load_checkpoint",
    "loader_workers",
    "predict",
    "predict_probability",
    "resolve_device",
    "save_checkpoint",
    "segmentation_loss",
    "train",
]
