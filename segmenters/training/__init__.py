"""Per-video training on dreamed data: samples (:mod:`.samples`) and the optimisation loop (:mod:`.trainer`)."""

from segmenters.training.samples import (
    CropConfig,
    CropSamples,
    DatasetPairs,
    JitterConfig,
    TrainingPair,
    dream_training_pairs,
    from_dream,
)
from segmenters.training.trainer import TrainConfig, load_checkpoint, resolve_device, save_checkpoint, train

__all__ = [
    "CropConfig",
    "CropSamples",
    "DatasetPairs",
    "JitterConfig",
    "TrainConfig",
    "TrainingPair",
    "dream_training_pairs",
    "from_dream",
    "load_checkpoint",
    "resolve_device",
    "save_checkpoint",
    "train",
]
