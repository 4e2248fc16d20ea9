"""LucidTracker: per-video appearance and motion networks trained from scratch on dreams of the annotated frame.

Modules: :mod:`~segmenters.lucid.crops` (windows around an object), :mod:`~segmenters.lucid.inputs` (network inputs:
guidance, flow), :mod:`~segmenters.lucid.samples` (training crops from dreamed pairs),
:mod:`~segmenters.lucid.validation` (held-out dreams for tuning), :mod:`~segmenters.lucid.model` (the two networks
and one frame's segmentation), :mod:`~segmenters.lucid.tracker` (dream → train → track for one video; the Hydra
``_target_`` of ``tracker=lucid``).
"""

from segmenters.lucid.model import LucidModel
from segmenters.lucid.tracker import LucidConfig, LucidTracker

__all__ = ["LucidConfig", "LucidModel", "LucidTracker"]
