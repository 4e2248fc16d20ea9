"""File formats of a dreamed dataset: encoders to bytes and decoders from bytes, one pair per format.

* Frames: JPEG (:func:`encode_jpeg`); read back with :func:`decode_image`.
* Label maps: 8-bit palette PNG with the DAVIS palette, pixel value = object id (:func:`encode_labels`).
* Optical flow: the KITTI 16-bit PNG (:func:`encode_flow_png`) or the Middlebury ``.flo`` (:func:`encode_flo`).

Flows are ``float32 (H, W, 2)`` with ``flow[y, x] = (dx, dy)``; validity masks are ``bool (H, W)``. Encoders return
``bytes`` so that the caller can checksum them and write them atomically.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from dreaming import checks
from foundation.errors import InputError
from foundation.io import davis_palette

FLOW_FORMATS = ("png", "flo")
"""``png``: KITTI 16-bit PNG (1/64 px steps, ±512 px, validity kept). ``flo``: Middlebury float32 (exact)."""

KITTI_SCALE = 64.0
KITTI_OFFSET = 2**15
KITTI_MAX = (np.iinfo(np.uint16).max - KITTI_OFFSET) / KITTI_SCALE
"""The largest flow component a KITTI PNG holds (511.98 px); the smallest is ``-KITTI_OFFSET / KITTI_SCALE``."""

FLO_MAGIC = 202021.25
FLO_UNKNOWN = 1e10
"""Middlebury marks a pixel whose flow is unknown with components above 1e9."""

_PALETTE = davis_palette().ravel().tolist()


@dataclass
class FormatConfig:
    """How a dreamed dataset's files are encoded (part of what defines its bytes)."""

    jpeg_quality: int = 95
    """0-100 (OpenCV's scale)."""
    flow: str = "png"
    """``png`` (KITTI 16-bit, 1/64 px) or ``flo`` (Middlebury float32, exact, ~8 bytes per pixel)."""
    png_compression: int = 2
    """zlib level (0-9) of the label and flow PNGs. On 854x480 dreams a flow PNG takes ~10 ms and ~140 KB at
    levels 1-2, ~11 ms and ~105 KB at 3, ~25 ms and ~70 KB at 6."""


def check_formats(formats: FormatConfig, where: str = "formats") -> None:
    """Check every setting of ``formats`` before any file is written (JPEG quality 0-100, a known flow format,
    zlib level 0-9)."""
    checks.within(formats.jpeg_quality, 0, 100, f"{where}.jpeg_quality", integer=True)
    checks.choice(formats.flow, FLOW_FORMATS, f"{where}.flow", "flow format")
    checks.within(formats.png_compression, 0, 9, f"{where}.png_compression", integer=True)


def flow_suffix(flow_format: str) -> str:
    """File suffix of a flow format (``png`` → ``.png``, ``flo`` → ``.flo``)."""
    if flow_format not in FLOW_FORMATS:
        raise InputError("formats.flow", f"unknown flow format {flow_format!r}", f"one of {FLOW_FORMATS}")
    return "." + flow_format


def _check_flow(flow: np.ndarray, valid: np.ndarray) -> None:
    if flow.ndim != 3 or flow.shape[2] != 2:
        raise InputError("flow", f"array of shape {flow.shape}", "(H, W, 2)")
    if valid.shape != flow.shape[:2]:
        raise InputError("valid", f"mask of shape {valid.shape} for a flow of shape {flow.shape}", "(H, W)")


def encode_jpeg(image: np.ndarray, quality: int = 95) -> bytes:
    """Encode an RGB ``uint8 (H, W, 3)`` image as JPEG."""
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise InputError("image", f"OpenCV could not encode an array of shape {image.shape} as JPEG", "uint8 (H, W, 3)")
    return data.tobytes()


def decode_image(data: bytes, what: str | os.PathLike[str] = "image") -> np.ndarray:
    """Decode a JPEG or PNG into ``uint8 (H, W, 3)`` RGB."""
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise InputError(what, "corrupt or unsupported image data", "a JPEG or PNG image")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def encode_labels(labels: np.ndarray, compression: int = 2) -> bytes:
    """Encode a label map ``(H, W)`` with ids in 0..255 as a DAVIS palette PNG (zlib level ``compression``)."""
    if labels.ndim != 2 or labels.size == 0:
        raise InputError("labels", f"label map of shape {labels.shape}", "a non-empty (H, W) array")
    if labels.min() < 0 or labels.max() > 255:
        raise InputError("labels", f"labels span {labels.min()}..{labels.max()}", "ids in 0..255 for a palette PNG")
    image = Image.fromarray(labels.astype(np.uint8), mode="P")
    image.putpalette(_PALETTE)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=compression)
    return buffer.getvalue()


def decode_labels(data: bytes, what: str | os.PathLike[str] = "labels") -> np.ndarray:
    """Decode a palette PNG written by :func:`encode_labels` into ``int32 (H, W)`` object ids."""
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (OSError, SyntaxError, ValueError) as error:
        raise InputError(what, f"corrupt PNG ({error})", "a palette PNG of object ids") from None
    if image.mode not in ("P", "L"):
        raise InputError(what, f"PNG of mode {image.mode!r}", "a palette (P) or 8-bit grey (L) PNG of object ids")
    return np.asarray(image, dtype=np.int32)


def encode_flow_png(flow: np.ndarray, valid: np.ndarray, compression: int = 2) -> bytes:
    """Encode a flow as a KITTI 16-bit PNG: R = ``dx * 64 + 2**15``, G = ``dy * 64 + 2**15``, B = validity.

    Components are rounded to 1/64 px. A pixel whose flow is not finite or exceeds the representable range
    (about ±512 px) is stored as invalid, with its components clipped.

    The PNG "sub" filter is forced: on dreamed flows the adaptive filter search (libpng's default) costs about
    twice the time for files of about the same size.
    """
    _check_flow(flow, valid)
    top = float(np.iinfo(np.uint16).max)
    scaled = np.rint(flow.astype(np.float32) * KITTI_SCALE)  # exact: a power of two, then integers < 2**24
    scaled += KITTI_OFFSET
    in_range = cv2.inRange(scaled, (0.0, 0.0), (top, top)) > 0  # False for NaN too
    if not in_range.all():
        scaled = np.clip(np.nan_to_num(scaled), 0, top)
    dx, dy = cv2.split(scaled.astype(np.uint16))
    packed = cv2.merge([(valid & in_range).astype(np.uint16), dy, dx])  # OpenCV writes BGR: R = dx, G = dy.
    params = [cv2.IMWRITE_PNG_COMPRESSION, compression, cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_SUB]
    ok, data = cv2.imencode(".png", packed, params)
    if not ok:
        raise InputError("flow", f"OpenCV could not encode a flow of shape {flow.shape} as PNG", "(H, W, 2)")
    return data.tobytes()


def decode_flow_png(data: bytes, what: str | os.PathLike[str] = "flow") -> tuple[np.ndarray, np.ndarray]:
    """Decode a KITTI 16-bit flow PNG into ``(flow float32 (H, W, 2), valid bool (H, W))``."""
    packed = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if packed is None or packed.dtype != np.uint16 or packed.ndim != 3 or packed.shape[2] != 3:
        raise InputError(what, "not a KITTI flow PNG", "a 16-bit, 3-channel PNG")
    flow = (packed[..., 2:0:-1].astype(np.float32) - KITTI_OFFSET) / KITTI_SCALE
    return flow, packed[..., 0] > 0


def encode_flo(flow: np.ndarray, valid: np.ndarray) -> bytes:
    """Encode a flow as Middlebury ``.flo`` (float32, exact); invalid pixels hold the "unknown" marker 1e10."""
    _check_flow(flow, valid)
    height, width = valid.shape
    values = np.where(valid[..., None], flow, FLO_UNKNOWN).astype("<f4")
    header = np.array([FLO_MAGIC], "<f4").tobytes() + np.array([width, height], "<i4").tobytes()
    return header + values.tobytes()


def decode_flo(data: bytes, what: str | os.PathLike[str] = "flow") -> tuple[np.ndarray, np.ndarray]:
    """Decode a Middlebury ``.flo`` into ``(flow float32 (H, W, 2), valid bool (H, W))``; unknown pixels hold 0."""
    if len(data) < 12 or np.frombuffer(data[:4], "<f4")[0] != FLO_MAGIC:
        raise InputError(what, "missing the .flo magic number", f"a Middlebury .flo file starting with {FLO_MAGIC}")
    width, height = (int(v) for v in np.frombuffer(data[4:12], "<i4"))
    if width <= 0 or height <= 0 or len(data) != 12 + 8 * width * height:
        raise InputError(what, f"{len(data)} bytes for a {width}x{height} flow", f"{12 + 8 * width * height} bytes")
    values = np.frombuffer(data[12:], "<f4").reshape(height, width, 2)
    valid = (np.abs(values) < 1e9).all(axis=2)
    return np.where(valid[..., None], values, 0.0).astype(np.float32), valid


def encode_flow(flow: np.ndarray, valid: np.ndarray, flow_format: str, compression: int = 2) -> bytes:
    """Encode a flow in ``flow_format`` (see :data:`FLOW_FORMATS`)."""
    if flow_suffix(flow_format) == ".flo":
        return encode_flo(flow, valid)
    return encode_flow_png(flow, valid, compression)


def read_flow(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Read a ``.png`` (KITTI) or ``.flo`` (Middlebury) flow file into ``(flow, valid)``."""
    path = Path(path)
    decoders = {".png": decode_flow_png, ".flo": decode_flo}
    if path.suffix not in decoders:
        raise InputError(path, f"unknown flow file suffix {path.suffix!r}", "a .png (KITTI) or .flo file")
    if not path.is_file():
        raise InputError(path, "file not found", "an existing flow file")
    return decoders[path.suffix](path.read_bytes(), path)
