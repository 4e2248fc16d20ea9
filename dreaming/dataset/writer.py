"""Dreaming one chunk of a video's samples to disk: seed, dream, encode, checksum, write atomically, record.

Everything here runs on a worker and depends only on its arguments, so a chunk's bytes are the same on any worker,
in any order, whatever the chunk size: sample ``i`` of annotated frame ``f`` of video ``v`` is always dreamed from
``SeedSequence([seed, video_key(v), f, i])`` (:mod:`dreaming.synthesis.seeds`).
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dreaming import checks
from dreaming.dataset.coco import coco_objects, label_areas
from dreaming.dataset.formats import (
    FormatConfig,
    check_formats,
    encode_flow,
    encode_jpeg,
    encode_labels,
    flow_suffix,
)
from dreaming.dataset.manifest import CACHE, CHUNKS, ChunkRecord, FileEntry, chunk_name, digest
from dreaming.synthesis.config import DreamConfig, InpaintConfig, check_config
from dreaming.synthesis.dream import DreamPair, dream_pair
from dreaming.synthesis.scene import Scene
from dreaming.synthesis.seeds import sample_rng
from foundation.errors import InputError
from foundation.io import read_annotated_frame, write_bytes_atomic


@dataclass(frozen=True)
class DatasetSpec:
    """Everything that defines the bytes of a dreamed video besides its source frames."""

    dream: DreamConfig = field(default_factory=DreamConfig)
    pairs: int = 2500
    """Pairs dreamed from each annotated frame."""
    seed: int = 0
    formats: FormatConfig = field(default_factory=FormatConfig)


def check_spec(spec: DatasetSpec) -> None:
    """Check every setting that defines a dataset's bytes, before any work or file (types, ranges, names)."""
    checks.at_least(spec.pairs, 1, "pairs", integer=True)
    checks.at_least(spec.seed, 0, "seed", integer=True)
    check_config(spec.dream)
    check_formats(spec.formats)


@dataclass(frozen=True)
class ChunkTask:
    """Samples ``start..stop-1`` of annotated frame ``frame`` of video ``video``."""

    video: str
    frame: int
    start: int
    stop: int

    @property
    def name(self) -> str:
        return chunk_name(self.frame, self.start)


def plan_chunks(video: str, frames: list[int], pairs: int, chunk_size: int) -> list[ChunkTask]:
    """Split the samples of each annotated frame into consecutive chunks of at most ``chunk_size``."""
    if chunk_size < 1:
        raise InputError("chunk_size", f"{chunk_size}", "at least 1 sample per chunk")
    return [
        ChunkTask(video, frame, start, min(start + chunk_size, pairs))
        for frame in frames
        for start in range(0, pairs, chunk_size)
    ]


def sample_stem(frame: int, index: int) -> str:
    """File stem shared by the files of one pair: ``<frame:05d>_<index:06d>``."""
    return f"{frame:05d}_{index:06d}"


def pair_files(frame: int, index: int, flow_format: str) -> dict[str, str]:
    """Paths, relative to the video folder, of the files of one pair, by role."""
    stem, suffix = sample_stem(frame, index), flow_suffix(flow_format)
    return {
        "image_a": f"images/{stem}_a.jpg",
        "image_b": f"images/{stem}_b.jpg",
        "labels_a": f"labels/{stem}_a.png",
        "labels_b": f"labels/{stem}_b.png",
        "prev_a": f"prev/{stem}_a.png",
        "prev_b": f"prev/{stem}_b.png",
        "flow_ab": f"flow/{stem}_ab{suffix}",
        "flow_ba": f"flow/{stem}_ba{suffix}",
    }


def encode_pair(pair: DreamPair, formats: FormatConfig) -> dict[str, bytes]:
    """The encoded files of a pair, by role (the keys of :func:`pair_files`)."""
    level = formats.png_compression
    return {
        "image_a": encode_jpeg(pair.a.image, formats.jpeg_quality),
        "image_b": encode_jpeg(pair.b.image, formats.jpeg_quality),
        "labels_a": encode_labels(pair.a.labels, level),
        "labels_b": encode_labels(pair.b.labels, level),
        "prev_a": encode_labels(pair.a.prev_labels, level),
        "prev_b": encode_labels(pair.b.prev_labels, level),
        "flow_ab": encode_flow(pair.flow_ab, pair.valid_ab, formats.flow, level),
        "flow_ba": encode_flow(pair.flow_ba, pair.valid_ba, formats.flow, level),
    }


def pair_stats(pair: DreamPair) -> dict[str, float]:
    """Per-pair statistics summarised by ``lucid-report``: foreground fraction and objects per frame, mean motion
    (px) and fraction of pixels of a with a valid flow to b."""
    areas = [label_areas(pair.a.labels), label_areas(pair.b.labels)]
    # NumPy's reductions, unlike OpenCV's SIMD ones, do not depend on memory alignment: the bytes stay the same.
    speed = np.hypot(pair.flow_ab[..., 0], pair.flow_ab[..., 1])[pair.valid_ab]
    return {
        "foreground": sum(sum(a.values()) for a in areas) / (2 * pair.a.labels.size),
        "objects": (len(areas[0]) + len(areas[1])) / 2,
        "flow": float(speed.sum(dtype=np.float64) / speed.size) if speed.size else 0.0,
        "valid": float(pair.valid_ab.mean()),
    }


def scene_cache_path(video_dir: Path, frame: int) -> Path:
    return video_dir / CACHE / f"scene_{frame:05d}.npz"


def load_scene(
    image: str | os.PathLike[str], mask: str | os.PathLike[str], inpaint: InpaintConfig, cache: Path
) -> Scene:
    """The scene of an annotated frame, inpainted once: read from ``cache`` when a previous run wrote it (a damaged
    cache file is inpainted again and rewritten)."""
    if cache.is_file():
        try:
            with np.load(cache, allow_pickle=False) as arrays:
                return Scene(image=arrays["image"], labels=arrays["labels"], background=arrays["background"])
        except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile):
            pass  # InputError (arrays that disagree) is a ValueError too
    scene = Scene.from_frame(*read_annotated_frame(image, mask), inpaint)
    buffer = io.BytesIO()
    np.savez(buffer, image=scene.image, labels=scene.labels, background=scene.background)
    write_bytes_atomic(cache, buffer.getvalue())
    return scene


def dream_chunk(scene: Scene, spec: DatasetSpec, task: ChunkTask, video_dir: Path) -> int:
    """Dream, encode and write the pairs of ``task``, then its chunk record (written last: it marks the chunk done).

    Returns:
        the number of bytes written.
    """
    files: dict[str, FileEntry] = {}
    pairs = []
    for index in range(task.start, task.stop):
        pair = dream_pair(scene, sample_rng(spec.seed, task.video, task.frame, index), spec.dream)
        paths = pair_files(task.frame, index, spec.formats.flow)
        for role, data in encode_pair(pair, spec.formats).items():
            write_bytes_atomic(video_dir / paths[role], data)
            files[paths[role]] = FileEntry(size=len(data), digest=digest(data))
        pairs.append(
            {
                "index": index,
                "files": paths,
                "size": list(scene.size),
                "params": pair.params,
                "stats": pair_stats(pair),
                "objects": {"a": coco_objects(pair.a.labels), "b": coco_objects(pair.b.labels)},
            }
        )
    record = ChunkRecord(frame=task.frame, start=task.start, stop=task.stop, files=files, pairs=pairs)
    write_bytes_atomic(video_dir / CHUNKS / f"{record.name}.json", record.to_bytes())
    return sum(entry.size for entry in files.values())
