"""Dreaming per-video training sets on a Dask cluster: planning, resuming, fan-out and the final manifest.

The client checks every input first, then for each video writes the manifest's header, submits one task per
annotated frame (inpaint the background once, or read it from the video's cache) and one task per chunk of samples
(which depends on its frame's scene, so Dask ships the scene to the workers that need it), and finalises each video
(``annotations.json``, the complete manifest) as soon as its last chunk is in. Workers write the data files and chunk
records themselves: client and workers must share the output folder's filesystem.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from distributed import Client, as_completed
from tqdm import tqdm

from dreaming import checks
from dreaming.dataset.coco import coco_dataset
from dreaming.dataset.manifest import (
    ANNOTATIONS,
    CACHE,
    CHUNKS,
    DATA_FOLDERS,
    MANIFEST,
    ChunkRecord,
    FileEntry,
    Manifest,
    digest,
    identity_differences,
    library_versions,
    to_json_bytes,
    verify_manifest,
)
from dreaming.dataset.writer import (
    ChunkTask,
    DatasetSpec,
    check_spec,
    dream_chunk,
    load_scene,
    plan_chunks,
    scene_cache_path,
)
from foundation.cluster import WorkerSetup
from foundation.davis import select_sequences
from foundation.errors import InputError
from foundation.io import object_ids, read_annotated_frame, write_bytes_atomic

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceFrame:
    """An annotated frame to dream from: its index in the video, its image and its mask."""

    index: int
    image: Path
    mask: Path


@dataclass(frozen=True)
class VideoSource:
    """A video's annotated frames; ``name`` names its output folder and seeds its samples."""

    name: str
    frames: tuple[SourceFrame, ...]


def davis_sources(
    root: str | os.PathLike[str],
    sequences: str | Iterable[str] | None = None,
    frames: list[int] | tuple[int, ...] = (0,),
    resolution: str = "480p",
) -> list[VideoSource]:
    """The annotated frames ``frames`` (indices) of the sequences ``sequences`` of a DAVIS-layout root (all when
    ``None``; see :func:`~foundation.davis.select_sequences`)."""
    if not frames:
        raise InputError("data.frames", "no annotated frame given", "at least one frame index, e.g. [0]")
    sources = []
    for sequence in select_sequences(root, sequences, resolution):
        masks = {i: sequence.annotation(i) for i in sorted(set(frames))}  # checks the index first
        picked = tuple(SourceFrame(i, sequence.frames[i], mask) for i, mask in masks.items())
        sources.append(VideoSource(name=sequence.name, frames=picked))
    return sources


def image_source(image: str | os.PathLike[str], mask: str | os.PathLike[str], name: str | None = None) -> VideoSource:
    """A single annotated image as a one-frame video, named after the image's stem unless ``name`` is given."""
    image, mask = Path(image), Path(mask)
    return VideoSource(name=name or image.stem, frames=(SourceFrame(0, image, mask),))


def check_output_folder(out: str | os.PathLike[str]) -> Path:
    """Create ``out`` if needed and make sure files can be written in it."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as error:
        raise InputError(out, f"cannot write in this folder ({error.strerror or error})", "a writable folder") from None
    return out


@dataclass
class VideoPlan:
    """The work left for one video."""

    source: VideoSource
    folder: Path
    manifest: Manifest
    categories: list[int]
    tasks: list[ChunkTask]
    todo: list[ChunkTask] = field(default_factory=list)


def _file_hash(paths: list[Path]) -> str:
    return digest(b"".join(digest(p.read_bytes()).encode() for p in paths))


def _our_outputs(folder: Path) -> list[Path]:
    names = [MANIFEST, ANNOTATIONS, CHUNKS, CACHE, *DATA_FOLDERS]
    return [folder / name for name in names if (folder / name).exists()]


def remove_temporary_files(folder: Path) -> None:
    """Delete temporary files left by writes that never finished (a killed worker or client)."""
    for sub in [folder, *(folder / name for name in (CHUNKS, CACHE, *DATA_FOLDERS))]:
        if sub.is_dir():
            for path in sub.glob(".*.tmp*"):
                path.unlink(missing_ok=True)


def dataset_identity(source: VideoSource, spec: DatasetSpec) -> dict[str, Any]:
    """What defines a video's bytes, as stored in (and read back from) its manifest."""
    identity = {
        "video": source.name,
        "dream": asdict(spec.dream),
        "pairs": spec.pairs,
        "seed": spec.seed,
        "formats": asdict(spec.formats),
        "sources": [{"frame": f.index, "hash": _file_hash([f.image, f.mask])} for f in source.frames],
    }
    return json.loads(to_json_bytes(identity))  # tuples become lists, as in a manifest read back


def _remove(paths: list[Path]) -> None:
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def plan_video(source: VideoSource, spec: DatasetSpec, out: Path, chunk_size: int, overwrite: bool) -> VideoPlan:
    """Check a video's inputs against its output folder, write the manifest's header, find the chunks to dream.

    A complete dataset of the same settings is verified (every file read): the chunks with a missing or damaged file
    are dreamed again, and ``annotations.json`` and the manifest rewritten, so a rerun repairs what
    :func:`~dreaming.dataset.manifest.verify_video` finds.

    Raises:
        InputError: bad inputs, or an output folder holding other files or a dataset of other settings (unless
            ``overwrite``, which deletes the dataset's files first).
    """
    categories: set[int] = set()
    for frame in source.frames:
        _, labels = read_annotated_frame(frame.image, frame.mask)
        categories.update(object_ids(labels))
    folder = out / source.name
    manifest = Manifest(
        video=source.name,
        identity=dataset_identity(source, spec),
        inputs=[{"frame": f.index, "image": str(f.image), "mask": str(f.mask)} for f in source.frames],
        versions=library_versions(),
        chunk_size=chunk_size,
    )
    tasks = plan_chunks(source.name, [f.index for f in source.frames], spec.pairs, chunk_size)
    plan = VideoPlan(source, folder, manifest, sorted(categories), tasks, todo=list(tasks))
    existing = _our_outputs(folder)
    replace = overwrite or _unfinished_without_pairs(folder)
    old = _resumable(folder, manifest, replace)
    if old is not None and old.complete:
        problems, damaged = verify_manifest(folder, old)
        if not problems:
            log.info("%s: already complete", folder)
            plan.manifest, plan.todo = old, []
            return plan
        for problem in problems:
            log.warning("%s", problem)
        log.warning("%s: repairing %d damaged file(s): dreaming %d chunk(s) again", folder, len(problems), len(damaged))
        # The chunks of the finished run, whatever this command's chunk size.
        manifest.chunk_size = old.chunk_size
        plan.tasks = [ChunkTask(source.name, c["frame"], c["start"], c["stop"]) for c in old.chunks]
        plan.todo = [task for task in plan.tasks if task.name in damaged]
        remove_temporary_files(folder)
    elif old is not None:
        remove_temporary_files(folder)
        plan.todo = [t for t in tasks if not _chunk_done(folder, t)]
    elif existing and not replace:
        raise InputError(folder, "holds files but no manifest.json", "an empty folder, or overwrite=true")
    else:
        _remove(existing)
    manifest.write(folder)
    return plan


def _unfinished_without_pairs(folder: Path) -> bool:
    """Whether ``folder`` holds only the start of a run that stopped before its first chunk (nothing to lose)."""
    try:
        old = Manifest.load(folder / MANIFEST)
    except InputError:
        return False
    return not old.complete and not list((folder / CHUNKS).glob("[!.]*.json"))


def _resumable(folder: Path, manifest: Manifest, replace: bool) -> Manifest | None:
    """The manifest already in ``folder`` when it describes the same dataset; None when there is none to resume
    (or, with ``replace``, when it describes another dataset or cannot be read)."""
    if not (folder / MANIFEST).is_file():
        return None
    try:
        old = Manifest.load(folder / MANIFEST)
    except InputError as error:
        if replace:
            return None
        raise InputError(
            error.what, f"{error.problem}: the settings of the dataset are lost", "overwrite=true to dream it again"
        ) from None
    differences = identity_differences(old.identity, manifest.identity)
    if differences and not replace:
        raise InputError(
            folder,
            f"holds a dataset dreamed with other settings (differing: {', '.join(differences[:8])})",
            "the same settings to resume it, overwrite=true to replace it, or another output folder",
        )
    if differences:
        log.info("%s: replacing a dataset of other settings (differing: %s)", folder, ", ".join(differences[:8]))
        return None
    if old.versions != manifest.versions:
        log.warning("%s: resuming with other library versions (%s → %s)", folder, old.versions, manifest.versions)
    return old


def _chunk_done(folder: Path, task: ChunkTask) -> bool:
    path = folder / CHUNKS / f"{task.name}.json"
    if not path.is_file():
        return False
    try:
        record = ChunkRecord.load(path)
    except InputError:
        return False
    return (record.frame, record.start, record.stop) == (task.frame, task.start, task.stop) and record.is_written(
        folder
    )


def finalize_video(plan: VideoPlan) -> Manifest:
    """Write ``annotations.json`` and the complete manifest once every chunk of the video is on disk."""
    folder, manifest = plan.folder, plan.manifest
    records, chunks = [], []
    for task in plan.tasks:
        path = folder / CHUNKS / f"{task.name}.json"
        data = path.read_bytes()
        records.append(ChunkRecord.load(path))
        entry = {"name": task.name, "frame": task.frame, "start": task.start, "stop": task.stop}
        chunks.append({**entry, "size": len(data), "digest": digest(data)})
    # Records of another chunk size (an earlier run) describe the same files; only the current ones are kept.
    current = {f"{task.name}.json" for task in plan.tasks}
    for stale in (folder / CHUNKS).glob("*.json"):
        if stale.name not in current:
            stale.unlink()
    remove_temporary_files(folder)
    annotations = to_json_bytes(coco_dataset(plan.source.name, plan.categories, records))
    write_bytes_atomic(folder / ANNOTATIONS, annotations)
    stats = [pair["stats"] for record in records for pair in record.pairs]
    files = [entry for record in records for entry in record.files.values()]
    manifest.chunks = chunks
    manifest.annotations = FileEntry(size=len(annotations), digest=digest(annotations))
    manifest.counts = {
        "pairs": len(stats),
        "images": 2 * len(stats),
        "files": len(files),
        "bytes": sum(entry.size for entry in files),
    }
    manifest.stats = {key: float(np.mean([s[key] for s in stats])) for key in stats[0]} if stats else {}
    manifest.complete = True
    manifest.write(folder)
    return manifest


@dataclass
class DatasetPlan:
    """The work left for a run: the settings, the output root, and one plan per video."""

    spec: DatasetSpec
    out: Path
    videos: list[VideoPlan]

    @property
    def pairs(self) -> tuple[int, int]:
        """``(to dream, in all)``."""
        todo = sum(t.stop - t.start for v in self.videos for t in v.todo)
        return todo, sum(t.stop - t.start for v in self.videos for t in v.tasks)


def plan_dataset(
    sources: list[VideoSource],
    spec: DatasetSpec,
    out: str | os.PathLike[str],
    chunk_size: int = 50,
    overwrite: bool = False,
) -> DatasetPlan:
    """Check every input and output folder, write each video's manifest header, and find the chunks to dream.

    Every setting is checked first, then every input, before any file is written; nothing runs on the cluster yet,
    so bad input fails before any worker starts.
    """
    check_spec(spec)
    checks.at_least(chunk_size, 1, "chunk_size", integer=True)
    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        raise InputError("data", f"video names repeat: {names}", "distinct names, one output folder each")
    out = check_output_folder(out)
    return DatasetPlan(spec, out, [plan_video(source, spec, out, chunk_size, overwrite) for source in sources])


def finish(plan: DatasetPlan) -> list[Manifest]:
    """Finalise the videos of ``plan`` whose chunks are all on disk but whose manifest is not complete yet.

    That is the case after a run stopped between its last chunk and the end, and after :func:`run_plan`.
    """
    for video in plan.videos:
        if not video.manifest.complete and not video.todo:
            finalize_video(video)
    return [video.manifest for video in plan.videos]


def run_plan(plan: DatasetPlan, client: Client, retries: int = 3, progress: bool = True) -> list[Manifest]:
    """Dream the chunks left in ``plan`` on ``client``'s workers and finalise each video as soon as it is done.

    Args:
        client: a Dask client; its workers must see the output folder and the source files at the same paths.
        retries: how often a failed task is retried before the run fails.

    Returns:
        the manifest of each video, in the order of the plan.
    """
    spec = plan.spec
    client.register_plugin(WorkerSetup())
    owner: dict[str, tuple[VideoPlan, ChunkTask]] = {}
    left: dict[str, int] = {}
    futures = []
    for video in plan.videos:
        frames = {f.index: f for f in video.source.frames}
        scenes = {
            index: client.submit(
                load_scene,
                frames[index].image,
                frames[index].mask,
                spec.dream.inpaint,
                scene_cache_path(video.folder, index),
                pure=False,
                retries=retries,
            )
            for index in sorted({t.frame for t in video.todo})
        }
        for task in video.todo:
            future = client.submit(
                dream_chunk, scenes[task.frame], spec, task, video.folder, pure=False, retries=retries
            )
            owner[future.key] = (video, task)
            futures.append(future)
        left[video.source.name] = len(video.todo)

    todo, total = plan.pairs
    if 0 < todo < total:
        log.info("resuming: %d of %d pairs already on disk", total - todo, total)
    started, written = time.perf_counter(), 0
    try:
        with tqdm(total=todo, unit="pair", disable=not progress or not todo, smoothing=0.1) as bar:
            for future in as_completed(futures):
                written += future.result()
                video, task = owner[future.key]
                bar.update(task.stop - task.start)
                left[video.source.name] -= 1
                if left[video.source.name] == 0:
                    video.todo = []
                    finalize_video(video)
    except BaseException:
        client.cancel(futures)
        raise
    finish(plan)
    elapsed = time.perf_counter() - started
    if todo:
        log.info(
            "dreamed %d pairs in %.1f s (%.1f pairs/s), %.1f MB written to %s",
            todo,
            elapsed,
            todo / elapsed,
            written / 1e6,
            plan.out,
        )
    return [video.manifest for video in plan.videos]


def dream_dataset(
    sources: list[VideoSource],
    spec: DatasetSpec,
    out: str | os.PathLike[str],
    client: Client,
    chunk_size: int = 50,
    retries: int = 3,
    overwrite: bool = False,
    progress: bool = True,
) -> list[Manifest]:
    """Dream ``spec.pairs`` pairs per annotated frame of each video into ``out/<video>/``, resuming earlier runs.

    :func:`plan_dataset` then :func:`run_plan`; see them for the arguments. ``chunk_size`` (samples per task) does
    not change the files.
    """
    return run_plan(plan_dataset(sources, spec, out, chunk_size, overwrite), client, retries, progress)
