"""The manifest of a dreamed video: what was asked for, what was written, and the checksums that verify it.

A video folder holds ``manifest.json`` (the settings that define the bytes, library versions, counts, and one
checksum per chunk record), ``chunks/<chunk>.json`` (per chunk: every file's size and checksum, the parameters and
annotations of every pair), the data files, and ``annotations.json`` (COCO). See ``docs/dataset-format.md``.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from foundation.errors import InputError
from foundation.io import write_bytes_atomic

FORMAT = "lucid-dream/1"
MANIFEST = "manifest.json"
ANNOTATIONS = "annotations.json"
CHUNKS = "chunks"
DATA_FOLDERS = ("images", "labels", "prev", "flow")
CACHE = "cache"
"""Intermediate results (the inpainted scene of each annotated frame), reused when a run resumes."""

_DISTRIBUTIONS = ("lucid-vos", "numpy", "opencv-python-headless", "pillow", "pycocotools", "dask", "distributed")


def digest(data: bytes) -> str:
    """Checksum of ``data``: BLAKE2b-128, hexadecimal."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def file_digest(path: str | os.PathLike[str]) -> str:
    """:func:`digest` of a file's bytes."""
    return digest(Path(path).read_bytes())


def library_versions() -> dict[str, str]:
    """Versions of Python and of the libraries whose output ends up in the files."""
    versions = {"python": platform.python_version()}
    for name in _DISTRIBUTIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def to_json_bytes(obj: Any, indent: int | None = None) -> bytes:
    """Deterministic JSON (sorted keys, no trailing spaces) ending with a newline."""
    separators = (",", ": ") if indent else (",", ":")
    return (json.dumps(obj, indent=indent, sort_keys=True, separators=separators) + "\n").encode()


def read_json(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a JSON object, with a clear error for a missing or corrupt file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found", "a file written by lucid-dream")
    try:
        obj = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as error:
        raise InputError(path, f"corrupt JSON ({error})", "a file written by lucid-dream") from None
    if not isinstance(obj, dict):
        raise InputError(path, f"JSON {type(obj).__name__}", "a JSON object")
    return obj


def chunk_name(frame: int, start: int) -> str:
    """Name of the chunk of annotated frame ``frame`` whose first sample is ``start``."""
    return f"{frame:05d}_{start:06d}"


@dataclass(frozen=True)
class FileEntry:
    """Size and checksum of a written file."""

    size: int
    digest: str


@dataclass(frozen=True)
class ChunkRecord:
    """What one chunk wrote: samples ``start..stop-1`` of annotated frame ``frame``.

    Attributes:
        files: path relative to the video folder → size and checksum, for every data file of the chunk.
        pairs: one JSON object per pair, in sample order (index, parameters, statistics, COCO annotations).
    """

    frame: int
    start: int
    stop: int
    files: dict[str, FileEntry]
    pairs: list[dict[str, Any]]

    @property
    def name(self) -> str:
        return chunk_name(self.frame, self.start)

    def to_bytes(self) -> bytes:
        return to_json_bytes(asdict(self))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ChunkRecord:
        obj = read_json(path)
        try:
            files = {name: FileEntry(**entry) for name, entry in obj["files"].items()}
            return cls(frame=obj["frame"], start=obj["start"], stop=obj["stop"], files=files, pairs=obj["pairs"])
        except (KeyError, TypeError, AttributeError) as error:
            raise InputError(path, f"not a chunk record ({error!r})", "a file written by lucid-dream") from None

    def is_written(self, video_dir: Path) -> bool:
        """Whether every file of the chunk exists with its recorded size (cheap; :func:`verify` reads them)."""
        for name, entry in self.files.items():
            path = video_dir / name
            if not path.is_file() or path.stat().st_size != entry.size:
                return False
        return True


@dataclass
class Manifest:
    """``manifest.json`` of one video.

    Attributes:
        video: the video's name.
        identity: everything that defines the dataset's bytes (dream config, seed, pairs per frame, formats, hash
            of each source frame and mask). A rerun resumes only when its identity is equal.
        inputs: where the source frames were read (informative: moving them does not change the identity).
        versions: Python and library versions of the run.
        chunk_size: samples per chunk.
        complete: True once every chunk and ``annotations.json`` are written.
        chunks: per chunk, in order: ``name``, ``frame``, ``start``, ``stop`` and ``digest`` of its record file.
        annotations: size and checksum of ``annotations.json``.
        counts: pairs, images, files and bytes written.
        stats: dataset statistics (means over pairs), for ``lucid-report``.
    """

    video: str
    identity: dict[str, Any]
    inputs: list[dict[str, Any]]
    versions: dict[str, str]
    chunk_size: int
    complete: bool = False
    chunks: list[dict[str, Any]] = field(default_factory=list)
    annotations: FileEntry | None = None
    counts: dict[str, int] = field(default_factory=dict)
    stats: dict[str, float] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        return to_json_bytes({"format": FORMAT, **asdict(self)}, indent=2)

    def write(self, video_dir: Path) -> None:
        write_bytes_atomic(video_dir / MANIFEST, self.to_bytes())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Manifest:
        """Read a ``manifest.json`` (or the one in a video folder)."""
        path = Path(path)
        if path.is_dir():
            path = path / MANIFEST
        obj = read_json(path)
        if obj.pop("format", None) != FORMAT:
            raise InputError(path, "unknown manifest format", f"a manifest of format {FORMAT!r}")
        try:
            annotations = obj.pop("annotations")
            return cls(**obj, annotations=None if annotations is None else FileEntry(**annotations))
        except (KeyError, TypeError) as error:
            raise InputError(path, f"malformed manifest ({error})", "a file written by lucid-dream") from None


def identity_differences(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two identities (JSON-like nested dicts)."""
    if isinstance(old, dict) and isinstance(new, dict):
        keys = sorted(set(old) | set(new))
        return [d for k in keys for d in identity_differences(old.get(k), new.get(k), f"{prefix}{k}.")]
    return [] if old == new else [prefix.rstrip(".") or "<root>"]


@dataclass(frozen=True)
class Problem:
    """A file that fails verification."""

    path: Path
    problem: str

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


def _check_file(path: Path, entry: FileEntry) -> Problem | None:
    if not path.is_file():
        return Problem(path, "missing")
    data = path.read_bytes()
    if len(data) != entry.size:
        return Problem(path, f"corrupt: {len(data)} bytes, manifest says {entry.size}")
    if digest(data) != entry.digest:
        return Problem(path, "corrupt: checksum differs from the manifest")
    return None


def verify_manifest(video_dir: Path, manifest: Manifest) -> tuple[list[Problem], set[str]]:
    """Check every file a manifest lists (reading them all): the problems found, and the names of the chunks whose
    record or data files are damaged (dreaming those chunks again repairs them)."""
    problems = []
    if not manifest.complete:
        problems.append(Problem(video_dir / MANIFEST, "incomplete run: rerun the same lucid-dream command to resume"))
    if manifest.annotations is not None:
        problems.append(_check_file(video_dir / ANNOTATIONS, manifest.annotations))
    damaged = set()
    for chunk in manifest.chunks:
        record_path = video_dir / CHUNKS / f"{chunk['name']}.json"
        found = [_check_file(record_path, FileEntry(size=chunk["size"], digest=chunk["digest"]))]
        if found[0] is None:
            record = ChunkRecord.load(record_path)
            found = [_check_file(video_dir / name, entry) for name, entry in record.files.items()]
        found = [problem for problem in found if problem is not None]
        if found:
            damaged.add(chunk["name"])
            problems.extend(found)
    return [p for p in problems if p is not None], damaged


def verify_video(video_dir: str | os.PathLike[str]) -> list[Problem]:
    """Check every file of a dreamed video against its manifest; returns the problems found (none when sound).

    Rerunning the ``lucid-dream`` command that made the video repairs them.
    """
    video_dir = Path(video_dir)
    try:
        manifest = Manifest.load(video_dir / MANIFEST)
    except InputError as error:
        return [Problem(video_dir / MANIFEST, error.problem)]
    return verify_manifest(video_dir, manifest)[0]


def find_videos(root: str | os.PathLike[str]) -> list[Path]:
    """Video folders (those holding a ``manifest.json``) at or below ``root``, sorted."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(root, "folder not found", "a lucid-dream output folder")
    return sorted(p.parent for p in root.rglob(MANIFEST))
