"""The one-shot fine-tuning baseline (OSVOS-style): a network trained from scratch on standard augmentations of the
annotated frame alone, applied to each frame independently (the Hydra ``_target_`` of ``tracker=oneshot``).

Modules: :mod:`~segmenters.oneshot.augment` (augmented training crops), :mod:`~segmenters.oneshot.tracker`
(train → segment each frame).
"""

from segmenters.oneshot.augment import AugmentConfig, OneShotSamples
from segmenters.oneshot.tracker import OneShotConfig, OneShotModel, OneShotTracker

__all__ = ["AugmentConfig", "OneShotConfig", "OneShotModel", "OneShotSamples", "OneShotTracker"]
