"""Held-out dreamed frames as the tracker would see them, for tuning the post-processing."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from foundation.io import VOID
from segmenters.lucid.inputs import MatchingContext
from segmenters.lucid.model import LucidModel
from segmenters.lucid.samples import TrainingPair
from segmenters.optical_flow import dis_flow
from segmenters.postprocess.tuning import ValidationFrame


def validation_frames(
    model: LucidModel,
    pairs: Sequence[TrainingPair],
    dis_preset: str,
    reference: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[ValidationFrame]:
    """Both frames of each held-out pair: the networks see each object's simulated previous mask as guidance and
    the DIS flow to the other frame of the pair (estimated, as on real frames, whatever the training flow); with
    matching maps, the annotated frame and its labels (``reference``) and the pair's other frame as the previous
    one, as in training."""
    frames = []
    for pair in pairs:
        for index in (0, 1):
            image, other = pair.images[index], pair.images[1 - index]
            ids = [int(i) for i in np.unique(pair.prev[index]) if i not in (0, VOID)]
            if not ids:
                continue
            flow = dis_flow(image, other, dis_preset)
            guidance = [pair.prev[index] == object_id for object_id in ids]
            labels = pair.labels[index].astype(np.int32)
            labels[labels == VOID] = 0
            context = None
            if model.matching:
                if reference is None:
                    raise ValueError("an appearance network with matching maps is validated against a reference")
                context = MatchingContext(*reference, other, pair.prev[1 - index])
            objects = tuple(model.object_probabilities(image, flow, guidance, ids, context))
            frames.append(ValidationFrame(image=image, labels=labels, objects=objects))
    return frames
