"""The export writers on hand-made labels: DAVIS PNGs read back equal, COCO RLE decodes to each object's pixels with
its name and box, the overlay video has every frame in the objects' colours."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_utils

from foundation.errors import InputError
from foundation.io import read_labels
from segmenters.studio.export import ExportedObject, export, write_coco

# pycocotools' mask.decode trips NumPy 2's copy-keyword deprecation; harmless here.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

OBJECTS = [ExportedObject(1, "cat", (255, 0, 0)), ExportedObject(4, "cup", (0, 0, 255))]


def _labels(frames: int = 3) -> list[np.ndarray]:
    out = []
    for t in range(frames):
        labels = np.zeros((20, 30), np.int32)
        labels[2:6, 3 + t : 9 + t] = 1  # 4 x 6, moving right
        if t != 1:
            labels[10:18, 20:24] = 4  # absent from frame 1
        out.append(labels)
    return out


def test_coco_instances_decode_to_each_object(tmp_path: Path) -> None:
    labels = _labels()
    coco = json.loads(
        write_coco(tmp_path / "coco.json", "clip", ["a", "b", "c"], (20, 30), labels, OBJECTS).read_text()
    )
    assert [c["name"] for c in coco["categories"]] == ["cat", "cup"]
    assert [(i["id"], i["file_name"]) for i in coco["images"]] == [(1, "a"), (2, "b"), (3, "c")]
    assert [(a["image_id"], a["track_id"]) for a in coco["annotations"]] == [(1, 1), (1, 4), (2, 1), (3, 1), (3, 4)]
    first = coco["annotations"][0]
    assert first["area"] == 24 and first["bbox"] == [3.0, 2.0, 6.0, 4.0]
    for ann in coco["annotations"]:
        decoded = mask_utils.decode(ann["segmentation"]).astype(bool)
        np.testing.assert_array_equal(decoded, labels[ann["image_id"] - 1] == ann["category_id"])


def test_export_writes_every_format(tmp_path: Path) -> None:
    labels = _labels()
    frames = [np.full((20, 30, 3), 128, np.uint8) for _ in labels]
    written = export(
        tmp_path,
        ["davis", "coco", "mp4"],
        "clip",
        ["a", "b", "c"],
        (20, 30),
        frames.__getitem__,
        labels.__getitem__,
        OBJECTS,
        fps=10,
    )
    assert {p.relative_to(tmp_path).as_posix() for p in written} == {
        "davis/a.png",
        "davis/b.png",
        "davis/c.png",
        "coco.json",
        "overlay.mp4",
    }
    for stem, expected in zip("abc", labels, strict=True):
        np.testing.assert_array_equal(read_labels(tmp_path / "davis" / f"{stem}.png"), expected)
    assert len(json.loads((tmp_path / "coco.json").read_text())["annotations"]) == 5
    capture = cv2.VideoCapture(str(tmp_path / "overlay.mp4"))
    ok, first = capture.read()
    assert ok and int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 3
    inside = first[12:16, 21:23].reshape(-1, 3).mean(axis=0)  # BGR: the cup tinted blue
    assert inside[0] > inside[2] + 40, inside
    with pytest.raises(InputError, match="export formats"):
        export(tmp_path, ["gif"], "clip", ["a"], (20, 30), frames.__getitem__, labels.__getitem__, OBJECTS, 10)
