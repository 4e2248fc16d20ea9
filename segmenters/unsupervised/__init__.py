"""Unsupervised video object segmentation: objects found from motion with no annotation (:mod:`.discovery`), then
dreamed from and tracked by the video's own networks (:mod:`.tracker`)."""

from segmenters.unsupervised.discovery import Discovery, DiscoveryConfig, Track, discover
from segmenters.unsupervised.tracker import UnsupervisedConfig, UnsupervisedTracker

__all__ = ["Discovery", "DiscoveryConfig", "Track", "UnsupervisedConfig", "UnsupervisedTracker", "discover"]
