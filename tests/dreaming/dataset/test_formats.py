from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from dreaming.dataset.formats import (
    KITTI_MAX,
    FormatConfig,
    check_formats,
    decode_flo,
    decode_flow_png,
    decode_image,
    decode_labels,
    encode_flo,
    encode_flow,
    encode_flow_png,
    encode_jpeg,
    encode_labels,
    flow_suffix,
    read_flow,
)
from foundation.errors import InputError
from foundation.io import davis_palette, read_labels


@pytest.fixture
def flow_and_valid() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    flow = rng.uniform(-300, 300, size=(37, 53, 2)).astype(np.float32)
    valid = rng.random((37, 53)) > 0.3
    flow[0, 0], valid[0, 0] = (-512.0, KITTI_MAX), True  # the extremes KITTI can hold
    return flow, valid


def test_kitti_png_round_trip_within_a_64th_of_a_pixel(flow_and_valid: tuple[np.ndarray, np.ndarray]) -> None:
    flow, valid = flow_and_valid
    decoded, decoded_valid = decode_flow_png(encode_flow_png(flow, valid))
    assert decoded.dtype == np.float32 and decoded.shape == flow.shape
    assert np.abs(decoded - flow).max() <= 1 / 128 + 1e-6  # rounded to the nearest 1/64
    np.testing.assert_array_equal(decoded_valid, valid)


def test_kitti_png_layout_is_the_kitti_devkit_one() -> None:
    # R = dx * 64 + 2**15, G = dy * 64 + 2**15, B = valid, read here without OpenCV's BGR order.
    flow = np.zeros((2, 3, 2), np.float32)
    flow[1, 2] = (1.5, -0.25)
    valid = np.zeros((2, 3), bool)
    valid[1, 2] = True
    rgb = cv2.imdecode(np.frombuffer(encode_flow_png(flow, valid), np.uint8), cv2.IMREAD_UNCHANGED)[..., ::-1]
    assert rgb.dtype == np.uint16
    assert tuple(int(v) for v in rgb[1, 2]) == (32768 + 96, 32768 - 16, 1)
    assert tuple(int(v) for v in rgb[0, 0]) == (32768, 32768, 0)
    assert Image.open(io.BytesIO(encode_flow_png(flow, valid))).size == (3, 2)


def test_kitti_png_marks_unrepresentable_flow_invalid() -> None:
    flow = np.array([[[600.0, 0.0], [np.nan, 1.0], [3.0, -4.0], [0.0, -512.01]]], np.float32)
    valid = np.ones((1, 4), bool)
    decoded, decoded_valid = decode_flow_png(encode_flow_png(flow, valid))
    np.testing.assert_array_equal(decoded_valid, [[False, False, True, False]])
    np.testing.assert_allclose(decoded[0, 2], (3.0, -4.0))


def test_flo_round_trip_is_exact_where_valid(flow_and_valid: tuple[np.ndarray, np.ndarray]) -> None:
    flow, valid = flow_and_valid
    data = encode_flo(flow, valid)
    assert data[:4] == b"PIEH" and len(data) == 12 + 8 * flow.shape[0] * flow.shape[1]
    decoded, decoded_valid = decode_flo(data)
    np.testing.assert_array_equal(decoded_valid, valid)
    np.testing.assert_array_equal(decoded[valid], flow[valid])
    assert (decoded[~valid] == 0).all()


def test_corrupt_flow_files_raise_input_error(flow_and_valid: tuple[np.ndarray, np.ndarray]) -> None:
    flow, valid = flow_and_valid
    with pytest.raises(InputError, match="magic"):
        decode_flo(b"nope" + encode_flo(flow, valid)[4:])
    with pytest.raises(InputError, match="bytes for a 53x37 flow"):
        decode_flo(encode_flo(flow, valid)[:-8])
    with pytest.raises(InputError, match="KITTI"):
        decode_flow_png(encode_labels(np.zeros((4, 4), np.int32)))
    with pytest.raises(InputError, match=r"\(H, W, 2\)"):
        encode_flow_png(flow[..., :1], valid)


def test_read_flow_dispatches_on_suffix(tmp_path, flow_and_valid) -> None:
    flow, valid = flow_and_valid
    for fmt in ("png", "flo"):
        path = tmp_path / f"f{flow_suffix(fmt)}"
        path.write_bytes(encode_flow(flow, valid, fmt))
        decoded, decoded_valid = read_flow(path)
        np.testing.assert_array_equal(decoded_valid, valid)
        assert np.abs(decoded[valid] - flow[valid]).max() <= 1 / 128 + 1e-6
    with pytest.raises(InputError, match="suffix"):
        read_flow(tmp_path / "f.npy")
    with pytest.raises(InputError, match="unknown flow format"):
        flow_suffix("exr")


def test_labels_are_davis_palette_pngs_of_object_ids(tmp_path) -> None:
    labels = np.zeros((20, 30), np.int32)
    labels[2:8, 3:9] = 1
    labels[10:15, 20:28] = 7
    labels[0, 0] = 255
    data = encode_labels(labels)
    path = tmp_path / "l.png"
    path.write_bytes(data)
    image = Image.open(path)
    assert image.mode == "P"
    np.testing.assert_array_equal(np.asarray(image.getpalette(), np.uint8).reshape(-1, 3), davis_palette())
    np.testing.assert_array_equal(read_labels(path), labels)
    np.testing.assert_array_equal(decode_labels(data), labels)
    with pytest.raises(InputError, match="0..255"):
        encode_labels(labels + 300)


def test_jpeg_quality_95_is_close_and_smaller_than_raw() -> None:
    yy, xx = np.mgrid[0:48, 0:64]
    image = np.stack([xx * 4, yy * 5, (xx + yy) * 2], axis=-1).astype(np.uint8)
    data = encode_jpeg(image, 95)
    assert data[:2] == b"\xff\xd8" and len(data) < image.nbytes
    decoded = decode_image(data)
    assert decoded.shape == image.shape
    assert np.abs(decoded.astype(int) - image).mean() < 2.0
    # RGB order survives: the red channel grows along x.
    assert decoded[24, 60, 0] > decoded[24, 4, 0] + 150
    with pytest.raises(InputError, match="corrupt"):
        decode_image(b"not an image")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"jpeg_quality": 500}, r"formats.jpeg_quality: 500 \(expected an integer in \[0, 100\]\)"),
        ({"flow": "bmp"}, r"formats.flow: unknown flow format 'bmp' \(expected one of \('png', 'flo'\)\)"),
        ({"png_compression": 10}, r"formats.png_compression: 10 \(expected an integer in \[0, 9\]\)"),
    ],
)
def test_format_settings_are_checked(change: dict, message: str) -> None:
    check_formats(FormatConfig())
    with pytest.raises(InputError, match=message):
        check_formats(FormatConfig(**change))
