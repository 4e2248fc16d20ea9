"""The studio's fixtures: a project over the embedded clip's folder of frames (flow propagation only, so that a
propagation takes a second)."""

from __future__ import annotations

from pathlib import Path

import pytest

from segmenters.interactive.learning import LearningConfig
from segmenters.interactive.session import InteractiveConfig
from segmenters.studio.project import StudioProject

FLOW_ONLY = InteractiveConfig(learning=LearningConfig(enabled=False))


@pytest.fixture
def project(clip_folder: Path, tmp_path: Path) -> StudioProject:
    return StudioProject.open(str(clip_folder), tmp_path / "project", FLOW_ONLY)
