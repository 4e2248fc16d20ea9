"""Shared fixtures: the read-only data in ../shared (skipped with a reason when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test with the reason when it is not there."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not found: these tests need the read-only ../shared data beside the repository")
    return path


@pytest.fixture(scope="session")
def lions_paths() -> tuple[Path, Path]:
    root = shared_path("samples", "lions")
    return root / "00000.jpg", root / "00000.png"


@pytest.fixture(scope="session")
def davis2016() -> Path:
    """The 10 DAVIS-2016 development sequences (skipped with the reason when ../shared is absent)."""
    return shared_path("data", "davis2016")


@pytest.fixture(scope="session")
def crowd_paths() -> tuple[Path, Path]:
    root = shared_path("samples", "crowd-1080p")
    mask = sorted((root / "Annotations").glob("*.png"))[0]
    return root / "JPEGImages" / f"{mask.stem}.jpg", mask
