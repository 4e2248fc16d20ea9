"""Reference trackers: the floor every learned tracker has to beat."""

from segmenters.baselines.copy_first import CopyTracker
from segmenters.baselines.flow_warp import FlowTracker

__all__ = ["CopyTracker", "FlowTracker"]
