"""Frames read on demand: the byte-bounded LRU cache, and ``open_video`` on a folder of frames, a DAVIS root and a
video file, with a clear error for every bad input."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from foundation.errors import InputError
from segmenters.interactive.frames import LruCache, VideoFrames, open_video

# Ten flat RGB colours, far apart from each other (a lossy codec moves them by a few levels).
COLOURS = np.array([[(i * 73) % 256, (i * 151 + 40) % 256, (255 - i * 25) % 256] for i in range(10)], dtype=np.uint8)


def block(nbytes: int, value: int = 0) -> np.ndarray:
    return np.full(nbytes, value, dtype=np.uint8)


def write_frames(folder: Path, count: int, size: tuple[int, int] = (40, 30)) -> list[np.ndarray]:
    """``count`` PNG frames of ``size`` (W, H) named ``f000.png``…, each a different flat colour; returned (RGB)."""
    folder.mkdir(parents=True, exist_ok=True)
    frames = [np.full((size[1], size[0], 3), COLOURS[i], dtype=np.uint8) for i in range(count)]
    for i, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"f{i:03d}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    return frames


def write_video(path: Path, count: int = 10, size: tuple[int, int] = (64, 48)) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, size)
    assert writer.isOpened()
    for colour in COLOURS[:count]:
        writer.write(np.full((size[1], size[0], 3), colour[::-1], dtype=np.uint8))  # BGR
    writer.release()


# --- LruCache ---------------------------------------------------------------------------------------------------------


def test_cache_stays_within_its_bound_and_drops_the_least_recently_used() -> None:
    cache: LruCache[np.ndarray] = LruCache(max_bytes=300)
    made: list[str] = []

    def get(key: str) -> np.ndarray:
        return cache.get(key, lambda: made.append(key) or block(100))

    for key in "abc":
        get(key)
    assert cache.bytes == 300 and len(cache) == 3
    get("a")  # a is now the most recently used: b goes first
    get("d")
    assert cache.bytes <= 300
    assert "b" not in cache and all(k in cache for k in "acd")
    get("e")
    assert "c" not in cache and all(k in cache for k in "ade")
    assert made == ["a", "b", "c", "d", "e"]  # the hit on "a" did not make it again
    get("b")
    assert made[-1] == "b" and "a" not in cache and cache.bytes == 300


def test_cache_bound_counts_bytes_not_items() -> None:
    cache: LruCache[np.ndarray] = LruCache(max_bytes=250)
    cache.put("small", block(50))
    cache.put("large", block(200))
    assert cache.bytes == 250 and len(cache) == 2
    cache.put("small", block(100))  # replacing a value recounts it: 300 > 250 drops the oldest (large)
    assert "large" not in cache and cache.bytes == 100


def test_a_value_larger_than_the_bound_is_returned_but_not_kept() -> None:
    cache: LruCache[np.ndarray] = LruCache(max_bytes=100)
    cache.put("kept", block(60))
    huge = cache.get("huge", lambda: block(101, 7))
    assert huge.nbytes == 101 and (huge == 7).all()
    assert "huge" not in cache
    assert "kept" in cache and cache.bytes == 60  # nothing else was evicted to make room for it


# --- open_video -------------------------------------------------------------------------------------------------------


def test_a_folder_of_frames(tmp_path: Path) -> None:
    written = write_frames(tmp_path / "clip", 4)
    (tmp_path / "clip" / "notes.txt").write_text("not a frame")
    video = open_video(tmp_path / "clip")
    assert isinstance(video, VideoFrames)
    assert video.name == "clip" and len(video) == 4
    assert video.stems == ("f000", "f001", "f002", "f003")
    assert video.shape == (30, 40)
    for index in (3, 0, 2):
        np.testing.assert_array_equal(video[index], written[index])


def test_frames_right_under_jpegimages(tmp_path: Path) -> None:
    """As the crowd sample keeps them: ``<clip>/JPEGImages/*.jpg`` beside ``<clip>/Annotations/``."""
    written = write_frames(tmp_path / "crowd" / "JPEGImages", 2)
    video = open_video(tmp_path / "crowd")
    assert video.name == "crowd" and len(video) == 2
    np.testing.assert_array_equal(video[1], written[1])


def test_a_davis_root_of_one_sequence_needs_no_name(tmp_path: Path) -> None:
    root = tmp_path / "davis"
    written = write_frames(root / "JPEGImages" / "480p" / "alpha", 3)
    for video in (open_video(root), open_video(root, sequence="alpha")):
        assert video.name == "alpha" and len(video) == 3 and video.shape == (30, 40)
        np.testing.assert_array_equal(video[2], written[2])
    with pytest.raises(InputError, match="JPEGImages/1080p"):
        open_video(root, resolution="1080p")


def test_a_davis_root_of_two_sequences_needs_the_name(davis_root: Path, synthetic: SimpleNamespace) -> None:
    with pytest.raises(InputError, match="a DAVIS root of 2 sequences") as raised:
        open_video(davis_root)
    assert str(davis_root) in str(raised.value) and "the sequence to open" in str(raised.value)
    beta = open_video(davis_root, sequence="beta")
    assert beta.name == "beta" and len(beta) == synthetic.frames
    assert beta.stems[0] == "00000" and beta.shape == (synthetic.height, synthetic.width)
    np.testing.assert_array_equal(beta[3], synthetic.frame(3))  # PNG: lossless
    with pytest.raises(InputError, match="'gamma' not found"):
        open_video(davis_root, sequence="gamma")


def test_a_video_file_is_decoded_in_any_order(tmp_path: Path) -> None:
    path = tmp_path / "flat.mp4"
    write_video(path)
    video = open_video(path, cache_mb=0)  # no cache: every access decodes
    assert video.name == "flat" and len(video) == 10
    assert video.stems[:2] == ("00000", "00001") and video.shape == (48, 64)
    for index in (7, 2, 3, 9, 0, 1):
        frame = video[index]
        assert frame.shape == (48, 64, 3) and frame.dtype == np.uint8
        mean = frame.reshape(-1, 3).mean(axis=0)
        assert np.abs(mean - COLOURS[index]).max() < 12, (index, mean, COLOURS[index])
        nearest = int(np.argmin(np.abs(COLOURS.astype(float) - mean).sum(axis=1)))
        assert nearest == index


# --- Errors -----------------------------------------------------------------------------------------------------------


def test_a_missing_path_is_an_input_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.mp4"
    with pytest.raises(InputError, match="not found") as raised:
        open_video(missing)
    assert str(missing) in str(raised.value)


def test_an_unknown_file_suffix_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "clip.txt"
    path.write_text("hello")
    with pytest.raises(InputError, match=r"unknown video type '\.txt'") as raised:
        open_video(path)
    assert str(path) in str(raised.value) and ".mp4" in str(raised.value)


def test_an_unreadable_video_file_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.mp4"
    path.write_bytes(b"not a video at all" * 10)
    with pytest.raises(InputError, match="OpenCV cannot open this video") as raised:
        open_video(path)
    assert str(path) in str(raised.value)


def test_a_folder_without_frames_is_an_input_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.md").write_text("no frames here")
    with pytest.raises(InputError, match="no JPEG or PNG frames") as raised:
        open_video(empty)
    assert str(empty) in str(raised.value)


def test_a_frame_index_out_of_range_is_an_input_error(tmp_path: Path) -> None:
    write_frames(tmp_path / "clip", 3)
    video = open_video(tmp_path / "clip")
    for index in (3, -1):
        with pytest.raises(InputError, match=f"frame index {index} is out of range") as raised:
            video[index]
        assert "clip" in str(raised.value) and "0..2" in str(raised.value)


def test_a_frame_of_another_size_is_an_input_error_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "clip"
    write_frames(folder, 3, size=(40, 30))
    cv2.imwrite(str(folder / "f003.png"), np.zeros((20, 40, 3), dtype=np.uint8))
    video = open_video(folder)
    for index in range(3):
        video[index]
    with pytest.raises(InputError, match="f003") as raised:
        video[3]
    assert "40x20" in str(raised.value) and "40x30" in str(raised.value)
