from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from distributed import Client
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from torch.utils.data import DataLoader

from dreaming.dataset.formats import FormatConfig
from dreaming.dataset.manifest import Manifest
from dreaming.dataset.pipeline import davis_sources, dream_dataset
from dreaming.dataset.reader import DreamDataset, crop_pair, resize_pair
from dreaming.dataset.writer import DatasetSpec
from dreaming.synthesis.config import InpaintConfig, fast
from dreaming.synthesis.samples import make_clip, write_davis
from foundation.errors import InputError

# pycocotools' mask.decode trips NumPy 2's copy-keyword deprecation; harmless here.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

SPEC = DatasetSpec(dream=replace(fast(), inpaint=InpaintConfig(method="telea")), pairs=5, seed=0)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    davis = write_davis(make_clip(num_frames=2, size=(96, 64)), tmp_path_factory.mktemp("davis"))
    out = tmp_path_factory.mktemp("dreams")
    with Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=":0") as client:
        dream_dataset(davis_sources(davis, frames=[0, 1]), SPEC, out, client, chunk_size=2, progress=False)
        flo = replace(SPEC, formats=FormatConfig(flow="flo"))
        dream_dataset(davis_sources(davis), flo, out / "flo", client, progress=False)
    yield out


def test_items_have_documented_shapes_and_types(root: Path) -> None:
    dataset = DreamDataset(root, "lucid-sample")
    assert len(dataset) == 10
    item = dataset[7]
    assert item["image"].shape == (2, 3, 64, 96) and item["image"].dtype == torch.float32
    assert item["image"].min() >= 0 and item["image"].max() <= 1
    assert item["labels"].shape == item["prev"].shape == (2, 64, 96) and item["labels"].dtype == torch.int64
    assert item["flow"].shape == (2, 2, 64, 96) and item["flow"].dtype == torch.float32
    assert item["valid"].shape == (2, 64, 96) and item["valid"].dtype == torch.bool
    assert int(item["index"]) == 7
    with pytest.raises(IndexError):
        dataset[10]


def test_labels_agree_with_coco_annotations(root: Path) -> None:
    dataset = DreamDataset(root, "lucid-sample")
    coco = COCO(str(root / "lucid-sample" / "annotations.json"))
    for pair in coco.dataset["pairs"]:
        item = dataset[pair["id"] - 1]
        for side, image_id in enumerate((pair["image_a"], pair["image_b"])):
            info = coco.imgs[image_id]
            composed = np.zeros((info["height"], info["width"]), np.int64)
            for ann in coco.loadAnns(coco.getAnnIds(imgIds=image_id)):
                composed[mask_utils.decode(ann["segmentation"]) > 0] = ann["category_id"]
            np.testing.assert_array_equal(item["labels"][side].numpy(), composed)


def test_flow_maps_labels_of_a_onto_labels_of_b(root: Path) -> None:
    # Where the flow is valid, the object under pixel x in a is the object under x + flow in b (up to edges).
    dataset = DreamDataset(root, "lucid-sample")
    agree, total = 0, 0
    for index in range(len(dataset)):
        item = dataset[index]
        labels_a, labels_b = item["labels"][0].numpy(), item["labels"][1].numpy()
        flow, valid = item["flow"][0].numpy(), item["valid"][0].numpy()
        ys, xs = np.nonzero(valid)
        tx = np.clip(np.rint(xs + flow[0, ys, xs]).astype(int), 0, 95)
        ty = np.clip(np.rint(ys + flow[1, ys, xs]).astype(int), 0, 63)
        agree += int((labels_a[ys, xs] == labels_b[ty, tx]).sum())
        total += len(ys)
    assert agree / total > 0.97


def test_flo_and_png_datasets_read_the_same_way(root: Path) -> None:
    png, flo = DreamDataset(root, "lucid-sample")[3], DreamDataset(root / "flo", "lucid-sample")[3]
    assert torch.equal(png["valid"], flo["valid"]) and torch.equal(png["labels"], flo["labels"])
    valid = png["valid"][:, None].expand_as(png["flow"])
    assert (png["flow"][valid] - flo["flow"][valid]).abs().max() <= 1 / 128 + 1e-6


def test_resize_scales_flow_and_keeps_ids(root: Path) -> None:
    full = DreamDataset(root, "lucid-sample")[2]
    half = DreamDataset(root, "lucid-sample", size=(32, 48))[2]
    assert half["image"].shape == (2, 3, 32, 48) and half["flow"].shape == (2, 2, 32, 48)
    assert set(half["labels"].unique().tolist()) <= set(full["labels"].unique().tolist())
    # Nearest-neighbour sampling at even pixels, components halved.
    np.testing.assert_allclose(half["flow"].numpy(), full["flow"][:, :, ::2, ::2].numpy() / 2, atol=1e-6)


def test_crop_shifts_nothing_and_invalidates_flow_leaving_the_window() -> None:
    images = np.zeros((2, 4, 6, 3), np.uint8)
    labels = np.arange(4 * 4 * 6).reshape(4, 4, 6)
    flows = np.zeros((2, 4, 6, 2), np.float32)
    flows[0, 1, 2] = (2.0, 0.0)  # lands at x=4 in the full frame, outside a window of width 3 starting at 1
    flows[0, 2, 2] = (1.0, -1.0)  # lands at (3, 1): inside
    valid = np.ones((2, 4, 6), bool)
    _, crop_labels, crop_flows, crop_valid = crop_pair(images, labels, flows, valid, (1, 1, 3, 2))
    np.testing.assert_array_equal(crop_labels, labels[:, 1:3, 1:4])
    np.testing.assert_array_equal(crop_flows, flows[:, 1:3, 1:4])
    assert not crop_valid[0, 0, 1] and crop_valid[0, 1, 1] is np.True_
    assert crop_valid.sum() == 2 * 6 - 1
    _, _, resized_flows, _ = resize_pair(images, labels[:, :4, :6], flows, valid, (8, 12))
    np.testing.assert_array_equal(resized_flows[0, 2, 4], (4.0, 0.0))


def test_random_crops_are_reproducible_and_loader_workers_agree(root: Path) -> None:
    dataset = DreamDataset(root, "lucid-sample", crop=(40, 60), seed=5)
    first = [dataset[i] for i in range(len(dataset))]
    assert first[0]["image"].shape == (2, 3, 40, 60)
    loader = DataLoader(dataset, batch_size=4, num_workers=2)
    batches = list(loader)
    stacked = torch.cat([b["labels"] for b in batches])
    assert torch.equal(stacked, torch.stack([item["labels"] for item in first]))
    dataset.set_epoch(1)
    assert any(not torch.equal(dataset[i]["labels"], first[i]["labels"]) for i in range(len(dataset)))
    with pytest.raises(InputError, match="crop"):
        DreamDataset(root, "lucid-sample", crop=(65, 10))[0]


def test_incomplete_dataset_is_refused(root: Path, tmp_path: Path) -> None:
    manifest = Manifest.load(root / "flo" / "lucid-sample")
    manifest.complete = False
    manifest.write(tmp_path / "v")
    with pytest.raises(InputError, match="incomplete"):
        DreamDataset(tmp_path, "v")
