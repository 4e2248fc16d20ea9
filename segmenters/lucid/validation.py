"""Held-out dreamed frames as the tracker would see them, for tuning the post-processing and the proposals."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from foundation.io import VOID
from segmenters.lucid.inputs import MatchingContext
from segmenters.lucid.model import LucidModel
from segmenters.lucid.proposals import nearer_match
from segmenters.lucid.samples import TrainingPair
from segmenters.matching.embedding import ReferenceMatcher, resize_labels
from segmenters.optical_flow import dis_flow
from segmenters.postprocess.tuning import ValidationFrame


def validation_frames(
    model: LucidModel,
    pairs: Sequence[TrainingPair],
    dis_preset: str,
    reference: tuple[np.ndarray, np.ndarray] | None = None,
    matcher: ReferenceMatcher | None = None,
    local_radius: int | None = None,
) -> list[ValidationFrame]:
    """Both frames of each held-out pair: the networks see each object's simulated previous mask as guidance and
    the DIS flow to the other frame of the pair (estimated, as on real frames, whatever the training flow); with
    matching maps, the annotated frame and its labels (``reference``) and the pair's other frame as the previous
    one, as in training.

    With ``matcher`` (the annotated frame's banks) each frame also keeps its guidance and its matching distances as
    the proposals score them: global, or with ``local_radius`` the nearer of the global and the local match to the
    pair's other frame and its simulated previous mask (the previous frame and prediction of tracking)."""
    frames = []
    for pair in pairs:
        embeddings = [matcher.embed(image) for image in pair.images] if matcher is not None else []
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
            if matcher is None:
                frames.append(ValidationFrame(image, labels, objects))
                continue
            previous = pair.prev[index].astype(np.int32)
            previous[previous == VOID] = 0
            embedding, before = embeddings[index], embeddings[1 - index]
            distances = matcher.distances(embedding, ids).cpu().numpy()
            if local_radius is not None:
                small = resize_labels(pair.prev[1 - index], tuple(embedding.shape[1:]))
                local = matcher.local_distances(embedding, before, small, ids, local_radius)
                distances = nearer_match(distances, local.cpu().numpy())
            frames.append(ValidationFrame(image, labels, objects, previous, distances))
    return frames
