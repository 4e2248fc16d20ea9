"""The DAVIS folder layout, and the one function that selects sequences of a root.

``<root>/JPEGImages/<res>/<seq>/%05d.jpg`` frames and ``<root>/Annotations/<res>/<seq>/%05d.png`` masks.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from foundation.errors import InputError

FRAME_SUFFIXES = (".jpg", ".jpeg", ".png")


@dataclass(frozen=True)
class Sequence:
    """One video of a DAVIS-layout root: its frames in order and the annotation files that exist."""

    name: str
    frames: tuple[Path, ...]
    annotations: dict[str, Path]
    """Frame stem (e.g. ``"00000"``) → mask path, for every annotated frame."""

    def annotation(self, index: int) -> Path:
        """The mask of frame ``index``, or a clear error when that frame is not annotated."""
        if not 0 <= index < len(self.frames):
            raise InputError(
                self.frames[0].parent, f"frame index {index} is out of range", f"0..{len(self.frames) - 1}"
            )
        stem = self.frames[index].stem
        if stem not in self.annotations:
            raise InputError(
                self.frames[index],
                "this frame has no annotation",
                f"a mask {stem}.png in the Annotations folder",
            )
        return self.annotations[stem]


def list_sequences(root: str | os.PathLike[str], resolution: str = "480p") -> list[str]:
    """Names of the sequences under ``<root>/JPEGImages/<resolution>``, sorted."""
    images = Path(root) / "JPEGImages" / resolution
    if not images.is_dir():
        raise InputError(images, "folder not found", "a DAVIS-layout root with JPEGImages/<resolution>/<sequence>/")
    return sorted(p.name for p in images.iterdir() if p.is_dir())


def load_sequence(root: str | os.PathLike[str], name: str, resolution: str = "480p") -> Sequence:
    """Index the frames and annotations of one sequence."""
    root = Path(root)
    frame_dir = root / "JPEGImages" / resolution / name
    mask_dir = root / "Annotations" / resolution / name
    if not frame_dir.is_dir():
        raise InputError(frame_dir, f"sequence {name!r} not found", "a folder of frames")
    frames = tuple(sorted(p for p in frame_dir.iterdir() if p.suffix.lower() in FRAME_SUFFIXES))
    if not frames:
        raise InputError(frame_dir, "no frames", "JPEG or PNG frames")
    annotations = (
        {p.stem: p for p in sorted(mask_dir.iterdir()) if p.suffix.lower() == ".png"} if mask_dir.is_dir() else {}
    )
    return Sequence(name=name, frames=frames, annotations=annotations)


def select_sequences(
    root: str | os.PathLike[str], names: str | Iterable[str] | None = None, resolution: str = "480p"
) -> list[Sequence]:
    """The sequences ``names`` (one name, several, or all of them, sorted, when ``None``) of a DAVIS-layout root.

    Raises:
        InputError: no such root, unknown names (all of them listed, beside the names there are), or no sequence.
    """
    images = Path(root) / "JPEGImages" / resolution
    available = list_sequences(root, resolution)
    selected = available if names is None else [names] if isinstance(names, str) else list(names)
    unknown = [name for name in selected if name not in available]
    if unknown:
        missing = ", ".join(f"sequence {name!r} not found" for name in unknown)
        raise InputError(images, f"unknown sequence(s) {unknown}: {missing}", f"names among {available}")
    if not selected:
        raise InputError(images, "no sequences", "at least one sequence folder")
    return [load_sequence(root, name, resolution) for name in selected]
