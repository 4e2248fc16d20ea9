from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from foundation.errors import InputError
from foundation.io import (
    VOID,
    davis_palette,
    object_ids,
    read_annotated_frame,
    read_frame,
    read_labels,
    writable_folder,
    write_labels,
)


def _save(path, array, mode=None):
    Image.fromarray(array, mode=mode).save(path)
    return path


def test_frame_grayscale_and_alpha_become_rgb(tmp_path):
    gray = _save(tmp_path / "g.png", np.full((4, 5), 7, np.uint8))
    rgba = np.zeros((4, 5, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, 10
    assert read_frame(gray).shape == (4, 5, 3) and (read_frame(gray) == 7).all()
    out = read_frame(_save(tmp_path / "a.png", rgba))
    assert out.shape == (4, 5, 3) and (out[..., 0] == 200).all() and (out[..., 1:] == 0).all()


def test_palette_mask_keeps_ids_and_void(tmp_path):
    labels = np.array([[0, 3, 3], [7, VOID, 0]], np.int32)
    write_labels(tmp_path / "m.png", labels)
    assert Image.open(tmp_path / "m.png").mode == "P"
    out = read_labels(tmp_path / "m.png")
    assert out.dtype == np.int32 and (out == labels).all()
    assert object_ids(out) == (3, 7)
    assert tuple(davis_palette()[1]) == (128, 0, 0) and tuple(davis_palette()[2]) == (0, 128, 0)


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
def test_binary_masks_any_nonzero_is_object_one(tmp_path, mode):
    channels = {"L": 0, "LA": 2, "RGB": 3, "RGBA": 4}[mode]
    shape = (3, 4) if channels == 0 else (3, 4, channels)
    array = np.zeros(shape, np.uint8)
    array[1, 2] = 255
    if mode == "LA":
        array[..., 1] = 255  # alpha everywhere: must not make the background an object
    out = read_labels(_save(tmp_path / "m.png", array, mode))
    expected = np.zeros((3, 4), np.int32)
    expected[1, 2] = 1
    assert (out == expected).all()


def test_rgb_mask_of_several_colours_has_one_object_per_davis_colour(tmp_path):
    labels = np.array([[0, 1, 1, 2], [0, 3, VOID, 2], [7, 0, 0, 0]], np.int32)
    rgba = np.dstack([davis_palette()[labels], np.full(labels.shape, 255, np.uint8)])  # a DAVIS mask saved as RGBA
    for name, array in (("rgb.png", rgba[..., :3]), ("rgba.png", rgba)):
        out = read_labels(_save(tmp_path / name, array))
        assert out.dtype == np.int32 and (out == labels).all()
        assert object_ids(out) == (1, 2, 3, 7)


def test_rgb_mask_of_one_colour_or_grey_levels_is_binary(tmp_path):
    one = np.zeros((2, 3, 3), np.uint8)
    one[0, 1] = (0, 128, 0)  # DAVIS colour of id 2, alone: a binary mask, object 1 (as a white one)
    grey = np.zeros((2, 3, 3), np.uint8)
    grey[0, 1], grey[1, 2] = (255, 255, 255), (128, 128, 128)  # an anti-aliased white mask
    for name, array in (("one.png", one), ("grey.png", grey)):
        out = read_labels(_save(tmp_path / name, array))
        assert set(np.unique(out)) == {0, 1} and out[0, 1] == 1


def test_rgb_mask_with_a_colour_outside_the_palette_is_refused(tmp_path):
    array = np.zeros((2, 3, 3), np.uint8)
    array[0, 0], array[0, 1], array[1, 1] = (128, 0, 0), (0, 128, 0), (250, 10, 10)
    path = _save(tmp_path / "painted.png", array)
    with pytest.raises(
        InputError,
        match=r"painted.png: RGB mask of 3 colours, 1 of them outside the DAVIS palette, "
        r"e.g. \(250, 10, 10\) \(expected one object per colour in DAVIS palette colours",
    ):
        read_labels(path)


def test_davis_la_mask_reads_as_binary(davis2016):
    masks = sorted((davis2016 / "Annotations" / "480p" / "bear").glob("*.png"))
    la = [m for m in masks if Image.open(m).mode == "LA"]
    assert la, "bear should contain LA-mode masks"
    labels = read_labels(la[0])
    assert set(np.unique(labels)) == {0, 1}


def test_errors_name_the_file(tmp_path):
    frame = _save(tmp_path / "f.png", np.zeros((4, 5, 3), np.uint8))
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(InputError, match="corrupt.png.*unreadable or corrupt"):
        read_labels(corrupt)
    with pytest.raises(InputError, match="missing.png.*not found"):
        read_frame(tmp_path / "missing.png")
    small = _save(tmp_path / "small.png", np.ones((3, 5), np.uint8) * 255)
    with pytest.raises(InputError, match="small.png.*mask is 5x3 but its frame .* is 5x4"):
        read_annotated_frame(frame, small)
    empty = _save(tmp_path / "empty.png", np.zeros((4, 5), np.uint8))
    with pytest.raises(InputError, match="empty.png.*no object"):
        read_annotated_frame(frame, empty)
    one = _save(tmp_path / "one.png", np.full((4, 5), 255, np.uint8))
    with pytest.raises(InputError, match=r"one.png.*object id\(s\) \[2\] are absent"):
        read_annotated_frame(frame, one, ids=[2])
    sixteen = tmp_path / "sixteen.png"
    Image.fromarray(np.full((4, 5), 1000, np.uint16)).save(sixteen)
    with pytest.raises(InputError, match="sixteen.png.*16-bit or floating-point"):
        read_labels(sixteen)
    with pytest.raises(InputError, match="zero-size|unreadable"):
        zero = tmp_path / "zero.png"
        zero.write_bytes(b"")
        read_frame(zero)


def test_read_annotated_frame_selects_ids(tmp_path):
    frame = _save(tmp_path / "f.png", np.zeros((2, 3, 3), np.uint8))
    labels = np.array([[1, 2, 0], [5, 5, VOID]], np.int32)
    write_labels(tmp_path / "m.png", labels)
    _, out = read_annotated_frame(frame, tmp_path / "m.png", ids=[5])
    assert (out == np.array([[0, 0, 0], [5, 5, VOID]])).all()


def test_write_labels_is_atomic_on_failure(tmp_path):
    target = tmp_path / "m.png"
    write_labels(target, np.ones((2, 2), np.int32))
    before = target.read_bytes()
    with pytest.raises(InputError):
        write_labels(target, np.full((2, 2), 300, np.int32))
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.png"]


def test_writable_folder_is_checked_before_any_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "file"
    file.write_text("")
    assert writable_folder(tmp_path / "new" / "deeper", "out") == tmp_path / "new" / "deeper"
    assert not (tmp_path / "new").exists()  # checked, not created
    with pytest.raises(InputError, match=rf"^out: {file} is a file \(expected a folder to write into\)$"):
        writable_folder(file, "out")
    with pytest.raises(InputError, match=rf"^out: {file} is a file"):
        writable_folder(file / "below", "out")
    # A chmod would not do: the tests may run as root, who may write anywhere.
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != tmp_path)
    with pytest.raises(InputError, match=rf"^--out: {tmp_path} is not writable"):
        writable_folder(tmp_path / "new", "--out")


def test_decode_labels_reads_bytes_as_read_labels_reads_files(tmp_path):
    from foundation.io import decode_labels

    labels = np.zeros((6, 8), np.int32)
    labels[1:3, 2:5], labels[4, :] = 2, VOID
    write_labels(tmp_path / "p.png", labels)
    binary = _save(tmp_path / "b.png", np.where(labels == 2, 255, 0).astype(np.uint8))
    for path in (tmp_path / "p.png", binary):
        np.testing.assert_array_equal(decode_labels(path.read_bytes(), "upload"), read_labels(path))
    with pytest.raises(InputError, match="upload: unreadable or corrupt image"):
        decode_labels(b"not a png", "upload")
