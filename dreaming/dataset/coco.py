"""COCO instance annotations of dreamed frames: each frame's objects as compressed RLE (computed on the workers),
and the dataset's ``annotations.json`` with the links between the two frames of each pair and their flow files.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from dreaming.dataset.manifest import ChunkRecord
from foundation.io import VOID


def label_areas(labels: np.ndarray) -> dict[int, int]:
    """Pixel count of each object id in a label map (background 0 and :data:`~foundation.io.VOID` excluded)."""
    counts = np.bincount(labels.ravel(), minlength=VOID + 1)  # ~10x faster than np.unique on a frame
    return {int(i): int(counts[i]) for i in np.flatnonzero(counts) if i not in (0, VOID)}


def coco_objects(labels: np.ndarray) -> list[dict[str, Any]]:
    """COCO instance annotations of a label map: per object id, its compressed RLE, area and ``[x, y, w, h]`` box."""
    objects = []
    for object_id, area in label_areas(labels).items():
        rle = mask_utils.encode(np.asfortranarray(labels == object_id, dtype=np.uint8))
        objects.append(
            {
                "id": object_id,
                "segmentation": {"size": [int(s) for s in rle["size"]], "counts": rle["counts"].decode("ascii")},
                "area": area,
                "bbox": [float(v) for v in mask_utils.toBbox(rle)],
            }
        )
    return objects


def coco_dataset(video: str, categories: list[int], records: list[ChunkRecord]) -> dict[str, Any]:
    """COCO instances of every dreamed image, plus ``pairs`` linking the two images of each pair and their flows."""
    images, annotations, pairs = [], [], []
    for record in records:
        for pair in record.pairs:
            width, height = pair["size"]
            files = pair["files"]
            pair_id = len(pairs) + 1
            ids = {side: len(images) + n + 1 for n, side in enumerate("ab")}
            for side, other in (("a", "b"), ("b", "a")):
                images.append(
                    {
                        "id": ids[side],
                        "file_name": files[f"image_{side}"],
                        "width": width,
                        "height": height,
                        "labels": files[f"labels_{side}"],
                        "prev": files[f"prev_{side}"],
                        "flow": files[f"flow_{side}{other}"],
                        "pair_id": pair_id,
                        "side": side,
                        "partner_id": ids[other],
                        "source_frame": record.frame,
                        "sample": pair["index"],
                    }
                )
                for obj in pair["objects"][side]:
                    annotations.append(
                        {
                            "id": len(annotations) + 1,
                            "image_id": ids[side],
                            "category_id": obj["id"],
                            "segmentation": obj["segmentation"],
                            "area": obj["area"],
                            "bbox": obj["bbox"],
                            "iscrowd": 0,
                        }
                    )
            pairs.append(
                {
                    "id": pair_id,
                    "image_a": ids["a"],
                    "image_b": ids["b"],
                    "flow_ab": files["flow_ab"],
                    "flow_ba": files["flow_ba"],
                    "source_frame": record.frame,
                    "sample": pair["index"],
                    "params": pair["params"],
                }
            )
    return {
        "info": {"description": f"Lucid dreams of {video}", "video": video},
        "categories": [{"id": c, "name": f"object {c}", "supercategory": "object"} for c in categories],
        "images": images,
        "annotations": annotations,
        "pairs": pairs,
    }
