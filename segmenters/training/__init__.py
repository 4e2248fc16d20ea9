"""Per-video training on dreamed data: samples (:mod:`.samples`) and the optimisation loop (:mod:`.trainer`)."""

from segmenters.training.samples import (
    CropConfig,
    CropSamples,
    DatasetPairs,
    JitterConfig,
    PairSubset,
    TrainingPair,
    dream_training_pairs,
    from_dream,
    split_pairs,
)
from segmenters.training.trainer import (
    TrainConfig,
    autocast_dtype,
    load_checkpoint,
    resolve_device,
    save_checkpoint,
    train,
)

__all__ = [
    "CropConfig",
    "CropSamples",
    "DatasetPairs",
    "JitterConfig",
    "PairSubset",
    "TrainConfig",
    "TrainingPair",
    "autocast_dtype",
    "dream_training_pairs",
    "from_dream",
    "load_checkpoint",
    "resolve_device",
    "save_checkpoint",
    "split_pairs",
    "train",
]
