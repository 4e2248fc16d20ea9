"""Frames of one video read on demand, from a DAVIS sequence, a folder of images or a video file, with a cache whose
size is set in megabytes (not by the video's length).

Frames are ``uint8 (H, W, 3)`` RGB, indexed ``0 … len − 1``.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Generic, TypeVar

import cv2
import numpy as np

from foundation.davis import FRAME_SUFFIXES, list_sequences, load_sequence
from foundation.davis import Sequence as Sequence_
from foundation.errors import InputError
from foundation.io import read_frame

V = TypeVar("V")

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")


class LruCache(Generic[V]):
    """Values kept until their total size passes ``max_bytes``; then the least recently used go first.

    ``size(value)`` gives a value's bytes (``value.nbytes`` by default). A value larger than the bound is returned
    but not kept.
    """

    def __init__(self, max_bytes: int, size: Callable[[V], int] | None = None) -> None:
        self.max_bytes = int(max_bytes)
        self.size = size or (lambda value: int(value.nbytes))  # type: ignore[attr-defined]
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self.bytes = 0

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable, make: Callable[[], V]) -> V:
        """The value of ``key``, made by ``make()`` (and kept, within the bound) when it is not cached."""
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key][0]
        value = make()
        self.put(key, value)
        return value

    def put(self, key: Hashable, value: V) -> None:
        self.discard(key)
        nbytes = self.size(value)
        if nbytes > self.max_bytes:
            return
        self._items[key] = (value, nbytes)
        self.bytes += nbytes
        while self.bytes > self.max_bytes:
            _, (_, dropped) = self._items.popitem(last=False)
            self.bytes -= dropped

    def discard(self, key: Hashable) -> None:
        item = self._items.pop(key, None)
        if item is not None:
            self.bytes -= item[1]

    def clear(self) -> None:
        self._items.clear()
        self.bytes = 0


class VideoFrames:
    """The frames of a video, decoded on demand and cached within ``cache_mb`` megabytes.

    Build it with :func:`open_video`. ``stems`` name the frames (the image files' stems, or ``00000``… for a video
    file), as result PNGs are named.
    """

    def __init__(self, name: str, stems: Sequence[str], read: Callable[[int], np.ndarray], cache_mb: float) -> None:
        if not stems:
            raise InputError(name, "no frames", "a video of at least one frame")
        self.name, self.stems, self._read = name, tuple(stems), read
        self._cache: LruCache[np.ndarray] = LruCache(int(cache_mb * 2**20))
        self._shape: tuple[int, int, int] | None = None

    def __len__(self) -> int:
        return len(self.stems)

    def __getitem__(self, index: int) -> np.ndarray:
        if not 0 <= index < len(self):
            raise InputError(self.name, f"frame index {index} is out of range", f"0..{len(self) - 1}")
        frame = self._cache.get(index, lambda: self._read(index))
        if self._shape is None:
            self._shape = frame.shape
        elif frame.shape != self._shape:
            raise InputError(
                f"{self.name} frame {self.stems[index]}",
                f"frame is {frame.shape[1]}x{frame.shape[0]}",
                f"every frame of the video {self._shape[1]}x{self._shape[0]}",
            )
        return frame

    @property
    def shape(self) -> tuple[int, int]:
        """``(H, W)`` of the frames (from the first one)."""
        return self[0].shape[:2] if self._shape is None else self._shape[:2]


class _VideoFileReader:
    """Frames of a video file by index: read on in order from the last one, seek otherwise."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.capture = cv2.VideoCapture(str(path))
        if not self.capture.isOpened():
            raise InputError(path, "OpenCV cannot open this video", "a video file OpenCV's FFmpeg backend reads")
        self.next = 0

    def count(self) -> int:
        """The number of frames, counted by decoding (the container's count is unreliable for some codecs)."""
        self.capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
        count = 0
        while self.capture.grab():
            count += 1
        self.capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
        self.next = 0
        return count

    def __call__(self, index: int) -> np.ndarray:
        if index != self.next:
            self.capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, frame = self.capture.read()
        if not ok:
            raise InputError(self.path, f"cannot decode frame {index}", "a readable video")
        self.next = index + 1
        return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


def _image_paths(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in FRAME_SUFFIXES)


def sequence_frames(sequence: Sequence_, cache_mb: float = 256.0) -> VideoFrames:
    """The frames of a DAVIS sequence."""
    return VideoFrames(
        sequence.name, [p.stem for p in sequence.frames], lambda i: read_frame(sequence.frames[i]), cache_mb
    )


def open_video(
    path: str | os.PathLike[str], sequence: str | None = None, resolution: str = "480p", cache_mb: float = 256.0
) -> VideoFrames:
    """The frames at ``path``: a video file; a DAVIS-layout root (``sequence`` names one, optional when it holds
    one); a folder of JPEG/PNG frames (sorted by name), or one holding them in ``JPEGImages/``.

    Raises:
        InputError: no such path, no frames, an unreadable video, or a DAVIS root of several sequences without
            ``sequence``.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "not found", "a video file, a folder of frames or a DAVIS-layout root")
    if path.is_file():
        if path.suffix.lower() not in VIDEO_SUFFIXES:
            raise InputError(path, f"unknown video type {path.suffix!r}", f"one of {', '.join(VIDEO_SUFFIXES)}")
        reader = _VideoFileReader(path)
        count = reader.count()
        return VideoFrames(path.stem, [f"{i:05d}" for i in range(count)], reader, cache_mb)
    if (path / "JPEGImages").is_dir() and _image_paths(path / "JPEGImages"):  # frames right under JPEGImages/
        frames = _image_paths(path / "JPEGImages")
        return VideoFrames(path.name, [p.stem for p in frames], lambda i: read_frame(frames[i]), cache_mb)
    if (path / "JPEGImages").is_dir():
        names = list_sequences(path, resolution)
        if sequence is None:
            if len(names) != 1:
                raise InputError(path, f"a DAVIS root of {len(names)} sequences", "the sequence to open")
            sequence = names[0]
        return sequence_frames(load_sequence(path, sequence, resolution), cache_mb)
    frames = _image_paths(path)
    if not frames:
        raise InputError(path, "no JPEG or PNG frames in this folder", "a folder of frames, a video or a DAVIS root")
    return VideoFrames(path.name, [p.stem for p in frames], lambda i: read_frame(frames[i]), cache_mb)
