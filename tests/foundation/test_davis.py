"""The one sequence selector of a DAVIS-layout root."""

from __future__ import annotations

from pathlib import Path

import pytest

from foundation.davis import select_sequences
from foundation.errors import InputError


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for name in ("beta", "alpha"):
        frames = tmp_path / "JPEGImages" / "480p" / name
        frames.mkdir(parents=True)
        (frames / "00000.jpg").write_bytes(b"")
    return tmp_path


def test_none_is_every_sequence_sorted_and_a_name_is_one(root: Path) -> None:
    assert [s.name for s in select_sequences(root)] == ["alpha", "beta"]
    assert [s.name for s in select_sequences(root, "beta")] == ["beta"]
    assert [s.name for s in select_sequences(root, iter(["beta", "alpha"]))] == ["beta", "alpha"]


def test_unknown_names_are_all_listed_beside_the_names_there_are(root: Path) -> None:
    with pytest.raises(InputError, match=r"unknown sequence\(s\) \['gamma', 'delta'\]") as raised:
        select_sequences(root, ["alpha", "gamma", "delta"])
    assert "sequence 'gamma' not found" in str(raised.value) and "names among ['alpha', 'beta']" in str(raised.value)
    with pytest.raises(InputError, match="no sequences"):
        select_sequences(root, [])
    with pytest.raises(InputError, match="folder not found"):
        select_sequences(root, resolution="1080p")
