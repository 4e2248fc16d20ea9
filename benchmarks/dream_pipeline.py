"""Pairs per second of the whole pipeline (dream, encode, checksum, write to disk) with 1 and 2 workers, beside a floor.

The floor, measured in the same run on the same frame and disk: read the JPEG and its mask, two ``cv2.remap`` of the
frame, one full-frame alpha composite, then encode and write every file of one pair (2 JPEGs, 4 label PNGs, 2 flow
files) with the dataset's formats — the least any generator writing this dataset must do per pair. The ratio is the
pipeline's time per pair per worker over the floor's (1.0: nothing but the floor's work).

    python benchmarks/dream_pipeline.py [--pairs 2500] [--workers 1 2] [--preset fast] [--out DIR]

Without ``--image``/``--mask`` it uses frame 0 of ../shared/data/davis2016/bear (854x480) when present, else the
embedded sample's first frame resized to 854x480.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from dreaming.dataset.formats import FormatConfig
from dreaming.dataset.pipeline import dream_dataset, image_source
from dreaming.dataset.writer import DatasetSpec, encode_pair, pair_files
from dreaming.synthesis.config import preset
from dreaming.synthesis.dream import DreamedFrame, DreamPair
from dreaming.synthesis.samples import make_clip
from foundation.cluster import ClusterConfig, open_client
from foundation.io import read_annotated_frame, write_bytes_atomic, write_labels

SHARED_BEAR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "davis2016"


def source_frame(args: argparse.Namespace, work: Path) -> tuple[Path, Path, str]:
    if args.image and args.mask:
        return Path(args.image), Path(args.mask), "given frame"
    if SHARED_BEAR.is_dir():
        return (
            SHARED_BEAR / "JPEGImages/480p/bear/00000.jpg",
            SHARED_BEAR / "Annotations/480p/bear/00000.png",
            "DAVIS-2016 bear, frame 0",
        )
    clip = make_clip(num_frames=2, size=(854, 480))
    image, mask = work / "sample.jpg", work / "sample.png"
    cv2.imwrite(str(image), cv2.cvtColor(clip.frames[0], cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
    write_labels(mask, clip.labels[0])
    return image, mask, "embedded sample (854x480)"


def floor_seconds(image_path: Path, mask_path: Path, formats: FormatConfig, out: Path, repeat: int = 40) -> float:
    """Seconds per pair of the floor (see the module docstring), median of ``repeat`` pairs, one core."""
    image, labels = read_annotated_frame(image_path, mask_path)
    height, width = labels.shape
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    flow = np.stack([np.full_like(grid_x, 3.3), np.full_like(grid_y, -1.7)], axis=-1)
    alpha = (labels > 0).astype(np.float32)[..., None]
    valid = np.ones((height, width), bool)
    times = []
    for index in range(repeat):
        start = time.perf_counter()
        image, labels = read_annotated_frame(image_path, mask_path)
        a = cv2.remap(image, grid_x + flow[..., 0], grid_y + flow[..., 1], cv2.INTER_LINEAR, None, cv2.BORDER_REFLECT)
        b = cv2.remap(image, grid_x - flow[..., 0], grid_y - flow[..., 1], cv2.INTER_LINEAR, None, cv2.BORDER_REFLECT)
        b = (alpha * a + (1.0 - alpha) * b).astype(np.uint8)
        frame_a, frame_b = DreamedFrame(a, labels, labels), DreamedFrame(b, labels, labels)
        pair = DreamPair(frame_a, frame_b, flow, -flow, valid, valid, params={})
        paths = pair_files(0, index, formats.flow)
        for role, data in encode_pair(pair, formats).items():
            write_bytes_atomic(out / paths[role], data)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=2500)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--preset", default="fast")
    parser.add_argument("--chunk-size", type=int, default=50)
    parser.add_argument("--image")
    parser.add_argument("--mask")
    parser.add_argument("--out", help="where the datasets are written (default: a temporary folder, removed)")
    args = parser.parse_args()

    work = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="lucid-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        cv2.setNumThreads(1)
        image, mask, what = source_frame(args, work)
        spec = DatasetSpec(dream=preset(args.preset), pairs=args.pairs, seed=0)
        floor = floor_seconds(image, mask, spec.formats, work / "floor")
        height, width = read_annotated_frame(image, mask)[1].shape
        print(f"{what}: {width}x{height}, preset {args.preset}, {args.pairs} pairs, chunks of {args.chunk_size}")
        print(f"floor (read, 2 remaps, composite, encode + write one pair's 8 files): {1000 * floor:.1f} ms/pair")
        print()
        print("| workers | start s | run s | pairs/s | floor pairs/s | ratio to floor | MB | MB/1000 pairs |")
        print("|---|---|---|---|---|---|---|---|")
        for workers in args.workers:
            out = work / f"workers-{workers}"
            shutil.rmtree(out, ignore_errors=True)
            started = time.perf_counter()
            with open_client(ClusterConfig(workers=workers)) as client:
                client.wait_for_workers(workers)
                ready = time.perf_counter()
                dream_dataset([image_source(image, mask, "bench")], spec, out, client, args.chunk_size, progress=False)
                done = time.perf_counter()
            run = done - ready
            rate, floor_rate = args.pairs / run, workers / floor
            megabytes = folder_bytes(out / "bench") / 1e6
            print(
                f"| {workers} | {ready - started:.1f} | {run:.1f} | {rate:.1f} | {floor_rate:.1f} | "
                f"{floor_rate / rate:.2f} | {megabytes:.0f} | {1000 * megabytes / args.pairs:.0f} |"
            )
    finally:
        if not args.out:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
