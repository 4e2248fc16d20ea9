"""What a studio session exports: DAVIS palette PNGs, COCO instances with RLE masks, and an overlay MP4.

Every writer takes the video's frames (``uint8 (H, W, 3)`` RGB, read on demand), their stems and the labels of every
frame (``int32 (H, W)``, 0 background); each file is written atomically.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dreaming.dataset.coco import coco_objects
from dreaming.synthesis.viz import overlay_labels
from foundation.errors import InputError
from foundation.io import atomic_path, write_labels
from segmenters.visualize import video_writer

FORMATS = ("davis", "coco", "mp4")
"""Export formats: ``davis`` (``davis/<stem>.png``), ``coco`` (``coco.json``), ``mp4`` (``overlay.mp4``)."""

Rgb = tuple[int, int, int]


def check_formats(formats: Sequence[str]) -> None:
    """Raise :class:`InputError` unless ``formats`` is a non-empty selection of :data:`FORMATS`."""
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown or not formats:
        raise InputError("export formats", f"{list(formats)}", f"some of {list(FORMATS)}")


@dataclass(frozen=True)
class ExportedObject:
    """An object as exported: its id in the label maps, its name and its colour."""

    id: int
    name: str
    colour: Rgb


def write_davis(folder: str | os.PathLike[str], stems: Sequence[str], labels: Iterable[np.ndarray]) -> list[Path]:
    """``<folder>/<stem>.png`` per frame: DAVIS palette PNGs of the labels."""
    written = []
    for stem, frame_labels in zip(stems, labels, strict=True):
        path = Path(folder) / f"{stem}.png"
        write_labels(path, frame_labels)
        written.append(path)
    return written


def coco_annotations(labels: Iterable[np.ndarray]) -> Iterator[dict[str, Any]]:
    """COCO instance annotations of a segmented video, frame by frame: per object present in a frame its mask as
    compressed RLE (pycocotools), area and box; ``image_id`` is the frame's index + 1, ``category_id`` and
    ``track_id`` the object's id."""
    count = 0
    for index, frame_labels in enumerate(labels):
        for obj in coco_objects(frame_labels):
            count += 1
            yield {
                **obj,
                "id": count,
                "image_id": index + 1,
                "category_id": obj["id"],
                "track_id": obj["id"],
                "iscrowd": 0,
            }


def write_coco(
    path: str | os.PathLike[str],
    video: str,
    stems: Sequence[str],
    shape: tuple[int, int],
    labels: Iterable[np.ndarray],
    objects: Sequence[ExportedObject],
) -> Path:
    """``coco.json``: an image per frame, a category per object (its name), the :func:`coco_annotations`. Written
    one annotation at a time, so memory does not grow with the video's length."""
    height, width = shape
    header = {
        "info": {"description": f"Lucid studio segmentation of {video}", "video": video},
        "categories": [{"id": o.id, "name": o.name, "supercategory": "object"} for o in objects],
        "images": [
            {"id": i + 1, "file_name": stem, "frame_index": i, "width": width, "height": height}
            for i, stem in enumerate(stems)
        ],
    }
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as out:
        out.write(json.dumps(header)[:-1] + ', "annotations": [')
        for n, annotation in enumerate(coco_annotations(labels)):
            out.write((", " if n else "") + json.dumps(annotation))
        out.write("]}")
    return Path(path)


def write_overlay_video(
    path: str | os.PathLike[str],
    frames: Iterable[np.ndarray],
    labels: Iterable[np.ndarray],
    objects: Sequence[ExportedObject],
    fps: float,
    alpha: float = 0.5,
) -> Path:
    """An MPEG-4 video of the frames with each object tinted and outlined in its colour."""
    colours = {o.id: o.colour for o in objects}
    with video_writer(path, fps) as write:
        for frame, frame_labels in zip(frames, labels, strict=True):
            write(overlay_labels(frame, frame_labels, alpha, colours=colours))
    return Path(path)


def export(
    folder: str | os.PathLike[str],
    formats: Sequence[str],
    video: str,
    stems: Sequence[str],
    shape: tuple[int, int],
    frame: Callable[[int], np.ndarray],
    labels: Callable[[int], np.ndarray],
    objects: Sequence[ExportedObject],
    fps: float,
) -> list[Path]:
    """Write ``formats`` of a video's segmentation into ``folder``; ``frame(i)`` and ``labels(i)`` read frame ``i``
    on demand, so memory does not grow with the video's length. Returns the files written."""
    check_formats(formats)
    folder = Path(folder)
    count = len(stems)
    written: list[Path] = []
    if "davis" in formats:
        written += write_davis(folder / "davis", stems, (labels(i) for i in range(count)))
    if "coco" in formats:
        written.append(
            write_coco(folder / "coco.json", video, stems, shape, (labels(i) for i in range(count)), objects)
        )
    if "mp4" in formats:
        frames = (frame(i) for i in range(count))
        written.append(
            write_overlay_video(folder / "overlay.mp4", frames, (labels(i) for i in range(count)), objects, fps)
        )
    return written
