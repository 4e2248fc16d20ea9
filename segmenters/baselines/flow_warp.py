"""The optical-flow reference: carry the previous mask to the current frame along dense optical flow.

Flow convention (as in :mod:`dreaming.synthesis.dream`): ``flow[y, x] = (dx, dy)`` means pixel ``(x, y)`` of the first
image is seen at ``(x + dx, y + dy)`` in the second.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from dreaming.synthesis.flow import flow_targets
from foundation.io import object_ids
from foundation.settings import from_container
from segmenters.optical_flow import check_dis_size, dis_estimator


def propagate_labels(labels: np.ndarray, flow: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Move each object of ``labels`` along ``flow`` (``float32 (H, W, 2)``, from the new frame to that of
    ``labels``).

    Every object's mask is warped as a soft ``float32`` map; a pixel takes the object with the largest warped value
    when that value exceeds ``threshold``, so objects never overlap.

    Returns:
        ``int32 (H, W)`` labels of the new frame, using ids of ``labels`` only.
    """
    targets = flow_targets(flow)  # once for every object
    result = np.zeros(labels.shape, dtype=np.int32)
    best = np.full(labels.shape, threshold, dtype=np.float32)
    for object_id in object_ids(labels):
        mask = (labels == object_id).astype(np.float32)
        soft = cv2.remap(mask, targets, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        wins = soft > best
        result[wins] = object_id
        best[wins] = soft[wins]
    return result


@dataclass(frozen=True)
class FlowConfig:
    """Everything :class:`FlowTracker` reads (``conf/tracker/flow.yaml``)."""

    preset: str = "medium"
    """DIS preset: ``ultrafast``, ``fast`` or ``medium``."""
    threshold: float = 0.5
    """A pixel joins an object when its warped soft mask exceeds this."""


class FlowTracker:
    """Propagate the previous frame's labels with DIS optical flow (Kroeger et al., ECCV 2016); keyword arguments
    are the fields of :class:`FlowConfig`.

    The flow is computed backwards, from frame ``t`` to ``t − 1``, so that every pixel of frame ``t`` gets a value.
    """

    def __init__(self, **settings: Any) -> None:
        self.cfg = from_container(FlowConfig, settings, "tracker")
        dis_estimator(self.cfg.preset, "tracker.preset")  # an unknown preset fails here, not at the first frame

    def track(
        self, frames: Iterable[np.ndarray], first_labels: np.ndarray, name: str | None = None
    ) -> Iterator[np.ndarray]:
        dis = dis_estimator(self.cfg.preset)
        check_dis_size(first_labels.shape, dis, name or "video")
        labels, previous = first_labels.astype(np.int32), None
        for frame in frames:
            gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
            if previous is not None:
                flow = dis.calc(gray, previous, None)
                labels = propagate_labels(labels, flow, self.cfg.threshold)
            previous = gray
            yield labels.copy()
