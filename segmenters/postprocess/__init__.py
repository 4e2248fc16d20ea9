"""Post-processing of the networks' probabilities (:mod:`.refine`, pure maths in :mod:`.functional`) and its tuning on
held-out dreams (:mod:`.tuning`)."""

from segmenters.postprocess.refine import ObjectProbabilities, PostProcessConfig, postprocess

__all__ = ["ObjectProbabilities", "PostProcessConfig", "postprocess"]
