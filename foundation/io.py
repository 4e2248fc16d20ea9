"""Reading frames and masks, writing label PNGs, and atomic file writes.

Conventions used everywhere in Lucid:

* Frames are ``uint8`` arrays of shape ``(H, W, 3)`` in **RGB** order. OpenCV's BGR never leaves a function.
* Masks are integer label maps of shape ``(H, W)`` and dtype ``int32``: ``0`` is background, object ids are kept
  exactly as stored (they need not be contiguous), and :data:`VOID` (255, palette PNGs only) marks pixels that are
  ignored everywhere.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from foundation.errors import InputError

VOID = 255
"""Label of ignored pixels (palette index 255 in DAVIS-style palette PNGs)."""

_UMASK = os.umask(0)
os.umask(_UMASK)

_FRAME_MODES = {"RGB", "L", "LA", "RGBA", "P", "1", "CMYK", "YCbCr"}
_BINARY_MASK_MODES = {"1", "L", "LA"}


def _open_image(path: Path, data: bytes | None = None) -> Image.Image:
    """The image in file ``path``, or in ``data`` (an upload; ``path`` then only names it in errors)."""
    if data is None and not path.is_file():
        raise InputError(path, "file not found", "an existing image file")
    try:
        image = Image.open(path if data is None else io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise InputError(path, f"unreadable or corrupt image ({error})", "a valid JPEG or PNG file") from None
    if image.width == 0 or image.height == 0:
        raise InputError(path, f"zero-size image ({image.width}x{image.height})", "at least 1x1 pixels")
    return image


def read_frame(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an 8-bit JPEG/PNG frame as RGB.

    Returns:
        ``uint8`` array ``(H, W, 3)``, RGB. Grayscale is expanded to three channels; alpha is dropped.
    """
    path = Path(path)
    image = _open_image(path)
    if image.mode not in _FRAME_MODES:
        raise InputError(path, f"unsupported pixel format {image.mode!r}", "an 8-bit grayscale, RGB or RGBA image")
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def _colour_labels(path: Path, rgb: np.ndarray) -> np.ndarray:
    """Label map of an RGB mask ``uint8 (H, W, 3)``: object 1 wherever it is not black when its other colours are
    one colour or grey levels (a binary mask); else each colour is an object, with that colour's DAVIS palette index
    as its id (black 0; (224, 224, 192) is :data:`VOID`). A colour outside the palette is an error."""
    codes = (rgb[..., 0].astype(np.int32) << 16) | (rgb[..., 1].astype(np.int32) << 8) | rgb[..., 2]
    colours, inverse = np.unique(codes, return_inverse=True)
    objects = colours[colours != 0]
    grey = (objects >> 16 == objects & 0xFF) & ((objects >> 8) & 0xFF == objects & 0xFF)
    if len(objects) <= 1 or grey.all():
        return (codes != 0).astype(np.int32)
    palette = davis_palette().astype(np.int32)
    index = {int(code): i for i, code in enumerate((palette[:, 0] << 16) | (palette[:, 1] << 8) | palette[:, 2])}
    unknown = [int(code) for code in objects if int(code) not in index]
    if unknown:
        first = (unknown[0] >> 16, (unknown[0] >> 8) & 0xFF, unknown[0] & 0xFF)
        raise InputError(
            path,
            f"RGB mask of {len(objects)} colours, {len(unknown)} of them outside the DAVIS palette, e.g. {first}",
            "one object per colour in DAVIS palette colours, a palette PNG of object ids, or a binary mask",
        )
    ids = np.array([index[int(code)] for code in colours], dtype=np.int32)
    return ids[inverse].reshape(codes.shape)


def read_labels(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a mask PNG as a label map.

    Palette PNGs (mode ``P``) give their palette indices (255 = :data:`VOID`). Binary masks (modes ``1``, ``L``,
    ``LA``, and ``RGB``/``RGBA`` of one colour or of grey levels; DAVIS-2016 stores 0/255) give object 1 wherever a
    colour channel is non-zero. An ``RGB``/``RGBA`` mask of several colours (a DAVIS mask saved as RGB) gives one
    object per colour, with the colour's index in the DAVIS palette as its id; a colour outside it is an error. An
    alpha channel is ignored.

    Returns:
        ``int32`` array ``(H, W)``.
    """
    path = Path(path)
    return _labels_of(_open_image(path), path)


def decode_labels(data: bytes, name: str) -> np.ndarray:
    """:func:`read_labels` of a mask PNG's bytes (e.g. an upload); ``name`` names it in errors."""
    return _labels_of(_open_image(Path(name), data), Path(name))


def _labels_of(image: Image.Image, path: Path) -> np.ndarray:
    if image.mode == "P":
        return np.asarray(image, dtype=np.int32)
    if image.mode in {"RGB", "RGBA"}:
        return _colour_labels(path, np.asarray(image.convert("RGB")))
    if image.mode in _BINARY_MASK_MODES:
        return (np.asarray(image.convert("L")) > 0).astype(np.int32)
    raise InputError(
        path,
        f"cannot interpret a mask of mode {image.mode!r} (16-bit or floating-point)",
        "an 8-bit palette PNG of object ids or a binary 0/255 PNG",
    )


def object_ids(labels: np.ndarray) -> tuple[int, ...]:
    """Sorted ids of the objects in a label map (background 0 and :data:`VOID` excluded)."""
    ids = np.unique(labels)
    return tuple(int(i) for i in ids if i != 0 and i != VOID)


def read_annotated_frame(
    image_path: str | os.PathLike[str],
    mask_path: str | os.PathLike[str],
    ids: tuple[int, ...] | list[int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Read a frame and its mask, checked against each other.

    Args:
        ids: keep only these object ids (others become background); all present objects when ``None``.

    Returns:
        ``(image, labels)``: ``uint8 (H, W, 3)`` RGB and ``int32 (H, W)``.
    """
    image = read_frame(image_path)
    labels = read_labels(mask_path)
    if image.shape[:2] != labels.shape:
        raise InputError(
            mask_path,
            f"mask is {labels.shape[1]}x{labels.shape[0]} but its frame {image_path} is "
            f"{image.shape[1]}x{image.shape[0]}",
            "a mask of the same size as its frame",
        )
    present = object_ids(labels)
    if not present:
        raise InputError(mask_path, "the mask contains no object", "at least one non-zero, non-void label")
    if ids is not None:
        missing = sorted(set(int(i) for i in ids) - set(present))
        if missing:
            raise InputError(mask_path, f"object id(s) {missing} are absent", f"ids among {list(present)}")
        keep = np.isin(labels, [*ids, VOID])
        labels = np.where(keep, labels, 0).astype(np.int32)
    return image, labels


def davis_palette() -> np.ndarray:
    """The standard DAVIS / PASCAL VOC palette: ``uint8 (256, 3)``, index 0 black, 1 red, 2 green, ..."""
    palette = np.zeros((256, 3), dtype=np.uint8)
    for index in range(256):
        c, r, g, b = index, 0, 0, 0
        for shift in range(7, -1, -1):
            r |= ((c >> 0) & 1) << shift
            g |= ((c >> 1) & 1) << shift
            b |= ((c >> 2) & 1) << shift
            c >>= 3
        palette[index] = (r, g, b)
    return palette


def writable_folder(path: str | os.PathLike[str], setting: str) -> Path:
    """``path`` checked, before any work, as a folder to write into: an existing folder this process may write in, or
    one it can create (its nearest existing ancestor is such a folder). Raises :class:`InputError` naming
    ``setting`` and the path otherwise."""
    path = Path(path)
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not existing.is_dir():
        raise InputError(setting, f"{existing} is a file", "a folder to write into")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(setting, f"{existing} is not writable", "a folder this user can write into")
    return path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed onto ``path`` (atomic on POSIX).

    On failure the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; outputs get the usual permissions
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary folder beside ``path`` that replaces ``path`` (and whatever it held) on success.

    On failure the temporary folder is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A plain mkdir (not mkdtemp's private 0700) so the folder gets the usual permissions.
    tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.partial"
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if path.exists():
        old = path.parent / f".{path.name}.{secrets.token_hex(4)}.old"
        os.replace(path, old)
    os.replace(tmp, path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file renamed into place, so no reader sees half a file.

    Raises:
        OSError: naming ``path`` (not the temporary file) when the write fails, e.g. on a full disk.
    """
    try:
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
    except OSError as error:
        raise OSError(error.errno, f"cannot write {path} ({error.strerror or error})") from error


def write_labels(path: str | os.PathLike[str], labels: np.ndarray) -> None:
    """Write a label map ``(H, W)`` with ids in 0..255 as a DAVIS palette PNG, atomically."""
    if labels.ndim != 2 or labels.size == 0:
        raise InputError(path, f"label map of shape {labels.shape} cannot be written", "a non-empty (H, W) array")
    if labels.min() < 0 or labels.max() > 255:
        raise InputError(path, f"labels span {labels.min()}..{labels.max()}", "ids in 0..255 for a palette PNG")
    image = Image.fromarray(labels.astype(np.uint8), mode="P")
    image.putpalette(davis_palette().ravel().tolist())
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG")
