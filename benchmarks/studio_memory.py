"""Peak memory and wall time of lucid-studio on a large and on a long video, beside their floor measured in the same
run (Python, the same imports, and decoding every frame of the video once).

    python benchmarks/studio_memory.py [--frames 2000] [--only crowd|long] [--learning] [--cache-mb MB] [--mp4]
        [--keep DIR]

Cases: ``crowd``, the 45-frame 1920x1080 clip of 44 people (``../shared/samples/crowd-1080p``); ``long``, a synthetic
854x480 MP4 of ``--frames`` frames (a textured background panning, three textured ellipses moving), made before it is
measured. Each case drives the studio's own FastAPI application through FastAPI's test client as the page would:
import the first frame's palette mask, propagate, fetch a few frames and masks, export. Flow propagation by default
(no learning); ``--learning`` trains the demo-profile networks first (100 steps, 8 pairs).

Peak memory is each process's maximum resident set size (``ru_maxrss`` from ``wait4``, which counts the process and
whatever it ran), so every case and every floor runs in a process of its own.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from segmenters.evaluation.report import format_table

CROWD = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "crowd-1080p"
LONG_SIZE = (480, 854)
"""``(H, W)`` of the synthetic video."""
LONG_FPS = 24.0
PAN = 160
"""Pixels the synthetic background pans across, back and forth."""
PAGE_FRAMES = 5
"""Frames whose JPEG and mask PNG the benchmark fetches, as a page scrubbing the timeline would."""


@dataclass(frozen=True)
class SyntheticObject:
    """One object of the synthetic video: a textured ellipse moving along a slow Lissajous path (no rotation)."""

    patch: np.ndarray
    """``uint8 (h, w, 3)`` RGB: its look, carried with it (textured, so optical flow can follow it)."""
    inside: np.ndarray
    """``bool (h, w)``: its pixels within the patch."""
    centre: tuple[float, float]
    """Mean position, as shares of the frame's ``(width, height)``."""
    amplitude: tuple[float, float]
    periods: tuple[float, float]
    """Frames of one swing in x and in y."""


# --- the synthetic video --------------------------------------------------------------------------------------------


def smooth_noise(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """``float32 (H, W, 3)`` in ``[0, 1]``: a coarse and a fine octave of random noise."""
    coarse = cv2.resize(rng.random((height // 32 + 2, width // 32 + 2, 3), np.float32), (width, height))
    fine = cv2.resize(rng.random((height // 4 + 2, width // 4 + 2, 3), np.float32), (width, height))
    return 0.7 * coarse + 0.3 * fine


def background_texture(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """``uint8 (H, W, 3)`` RGB: smooth random noise, textured enough for DIS flow."""
    return np.clip(40 + 170 * smooth_noise(rng, height, width), 0, 255).astype(np.uint8)


def synthetic_objects(rng: np.random.Generator) -> list[SyntheticObject]:
    """The three objects (object ``k`` gets id ``k + 1``): two disks and an ellipse, red, green and blue."""
    specs = [  # half axes, angle, colour, centre, amplitude, periods
        ((70, 70), 0.0, (220, 40, 40), (0.3, 0.4), (0.2, 0.2), (230, 170)),
        ((55, 55), 0.0, (40, 200, 60), (0.65, 0.55), (0.25, 0.25), (310, 200)),
        ((90, 45), 25.0, (50, 80, 230), (0.5, 0.5), (0.35, 0.3), (410, 290)),
    ]
    objects = []
    for axes, angle, colour, centre, amplitude, periods in specs:
        side = 2 * max(axes) + 1
        inside = np.zeros((side, side), np.uint8)
        cv2.ellipse(inside, (side // 2, side // 2), axes, angle, 0, 360, 1, -1)
        grey = smooth_noise(rng, side, side).mean(axis=2, keepdims=True)
        shade = np.clip(0.2 + 1.6 * (grey - grey.min()) / np.ptp(grey), 0.2, 1.4)  # strong texture
        patch = np.clip(shade * np.asarray(colour, np.float32), 0, 255).astype(np.uint8)
        objects.append(SyntheticObject(patch, inside.astype(bool), centre, amplitude, periods))
    return objects


def object_corner(obj: SyntheticObject, index: int, t: int, shape: tuple[int, int]) -> tuple[int, int]:
    """``(y, x)`` of the top-left corner of object number ``index``'s patch at frame ``t``."""
    height, width = shape
    x = width * (obj.centre[0] + obj.amplitude[0] * math.sin(2 * math.pi * t / obj.periods[0] + index))
    y = height * (obj.centre[1] + obj.amplitude[1] * math.sin(2 * math.pi * t / obj.periods[1] + 2 * index))
    size = obj.inside.shape[0]
    return (min(max(round(y) - size // 2, 0), height - size), min(max(round(x) - size // 2, 0), width - size))


def render(
    background: np.ndarray, objects: list[SyntheticObject], t: int, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Frame ``t``: ``uint8 (H, W, 3)`` RGB and its labels ``uint8 (H, W)`` (later objects occlude earlier ones).
    The background pans back and forth by ``PAN`` pixels every 600 frames."""
    height, width = shape
    offset = round(PAN * (1 - math.cos(2 * math.pi * t / 600)) / 2)
    image = background[:height, offset : offset + width].copy()
    labels = np.zeros(shape, np.uint8)
    for index, obj in enumerate(objects):
        y, x = object_corner(obj, index, t, shape)
        size = obj.inside.shape[0]
        region = (slice(y, y + size), slice(x, x + size))
        image[region][obj.inside] = obj.patch[obj.inside]
        labels[region][obj.inside] = index + 1
    return image, labels


def write_synthetic(folder: Path, frames: int) -> tuple[Path, Path]:
    """Write ``long.mp4`` (MPEG-4, ``frames`` frames) and ``long-first.png`` (frame 0's labels, palette PNG)."""
    from foundation.io import write_labels

    height, width = LONG_SIZE
    rng = np.random.default_rng(0)
    background = background_texture(rng, height, width + PAN + 1)
    objects = synthetic_objects(rng)
    video, mask = folder / "long.mp4", folder / "long-first.png"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"mp4v"), LONG_FPS, (width, height))
    if not writer.isOpened():
        raise OSError(f"{video}: OpenCV could not open an MPEG-4 writer")
    try:
        for t in range(frames):
            image, labels = render(background, objects, t, LONG_SIZE)
            writer.write(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
            if t == 0:
                write_labels(mask, labels)
    finally:
        writer.release()
    return video, mask


# --- the measured processes -----------------------------------------------------------------------------------------


def peak_mb() -> float:
    """This process's peak resident set size so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def crowd_inputs(root: Path) -> tuple[Path, Path]:
    """The crowd clip's folder (``JPEGImages/<frame>.jpg`` beside ``Annotations/<frame>.png``, which the studio opens
    as it is) and its first frame's annotation."""
    frames = root / "JPEGImages"
    first = sorted(p.stem for p in frames.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[0]
    return root, root / "Annotations" / f"{first}.png"


def session_config(learning: bool, cache_mb: float | None) -> Any:
    """The session's settings: flow propagation only, or learning at small settings (demo-profile networks); in the
    background as the studio runs it (``conf/studio.yaml``)."""
    from dataclasses import replace

    from segmenters.interactive.learning import LearningConfig
    from segmenters.interactive.session import InteractiveConfig

    extra: dict[str, Any] = {} if cache_mb is None else {"cache_mb": cache_mb}
    if not learning:
        return InteractiveConfig(learning=LearningConfig(enabled=False), background=True, **extra)
    from foundation.settings import from_container
    from segmenters.demo import lucid_settings
    from segmenters.lucid.tracker import LucidConfig

    tracker = replace(from_container(LucidConfig, lucid_settings("demo"), "tracker"), progress=False)
    steps = LearningConfig(start=1, steps=100, pairs_per_frame=8, finetune_steps=20)
    return InteractiveConfig(learning=steps, tracker=tracker, background=True, **extra)


def import_studio() -> None:
    """What a studio process imports (the floor imports the same)."""
    for module in ("fastapi.testclient", "segmenters.studio.app", "segmenters.studio.project"):
        importlib.import_module(module)


def run_floor(video_path: Path, result: Path) -> None:
    """The floor: the imports, and every frame of the video decoded once (nothing kept)."""
    import_studio()
    from segmenters.interactive.frames import open_video

    start = time.perf_counter()
    video = open_video(video_path, cache_mb=0)
    for t in range(len(video)):
        video[t]  # decoded, then dropped
    seconds = time.perf_counter() - start
    print(f"  floor: decoded {len(video)} frames in {seconds:.1f} s, peak {peak_mb():.0f} MB", flush=True)
    result.write_text(json.dumps({"decode_s": seconds, "self_peak_mb": peak_mb()}))


def wait_idle(client: Any, project: Any, poll: float = 0.5) -> dict[str, Any]:
    """Poll ``/api/status`` as the page does until nothing runs; then the project's own wait (background learning)."""
    while True:
        status = client.get("/api/status").json()
        if status["state"] == "idle" and status["job"] is None:
            break
        time.sleep(poll)
    project.wait()
    status = client.get("/api/status").json()
    if status["error"]:
        raise RuntimeError(f"the studio reports: {status['error']}")
    return status


def checked(response: Any, code: int = 200) -> Any:
    if response.status_code != code:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    return response


def run_studio(video_path: Path, mask_path: Path, folder: Path, formats: list[str], cfg: Any, result: Path) -> None:
    """One studio session through its HTTP API: import the first mask, propagate, look at a few frames, export."""
    import_studio()
    from fastapi.testclient import TestClient

    from segmenters.studio.app import create_app
    from segmenters.studio.project import StudioProject

    peaks: dict[str, float] = {}
    start = time.perf_counter()
    project = StudioProject.open(str(video_path), folder, cfg)
    client = TestClient(create_app(project))
    info = checked(client.get("/api/video")).json()
    checked(client.get("/api/state"))
    checked(client.get("/api/frames/0.jpg"))
    opened = time.perf_counter() - start
    peaks["open"] = peak_mb()
    print(f"  opened {info['frames']} frames of {info['width']}x{info['height']} in {opened:.1f} s", flush=True)

    headers = {"Content-Type": "image/png"}
    checked(client.post("/api/frames/0/mask", content=mask_path.read_bytes(), headers=headers))
    objects = len(checked(client.get("/api/state")).json()["objects"])
    start = time.perf_counter()
    checked(client.post("/api/propagate"), 202)
    status = wait_idle(client, project)
    propagate = time.perf_counter() - start
    peaks["propagate"] = peak_mb()
    print(f"  propagated {objects} objects in {propagate:.1f} s (model {status['model']})", flush=True)

    state = checked(client.get("/api/state")).json()
    confidence = np.asarray(state["confidence"])
    count = info["frames"]
    for frame in sorted({round(i * (count - 1) / (PAGE_FRAMES - 1)) for i in range(PAGE_FRAMES)}):
        checked(client.get(f"/api/frames/{frame}.jpg"))
        checked(client.get(f"/api/masks/{frame}.png", params={"v": state["version"]}))
    peaks["page"] = peak_mb()

    start = time.perf_counter()
    name = checked(client.post("/api/export", json={"formats": formats}), 202).json()["name"]
    wait_idle(client, project)
    export = time.perf_counter() - start
    files = next(e["files"] for e in checked(client.get("/api/exports")).json() if e["name"] == name)
    checked(client.get(files[-1]["url"]))
    peaks["export"] = peak_mb()
    print(f"  exported {', '.join(formats)} ({len(files)} files) in {export:.1f} s", flush=True)
    project.flush()
    peaks["saved"] = peak_mb()
    result.write_text(
        json.dumps(
            {
                "frames": count,
                "size": f"{info['width']}x{info['height']}",
                "objects": objects,
                "open_s": opened,
                "propagate_s": propagate,
                "export_s": export,
                "export_files": len(files),
                "min_confidence": float(confidence.min()) if confidence.size else 0.0,
                "peaks": peaks,
            }
        )
    )


# --- the parent -----------------------------------------------------------------------------------------------------


def measure(arguments: list[str], result: Path) -> tuple[dict[str, Any], float]:
    """Run this script with ``arguments`` in a process of its own: what it wrote to ``result`` and its peak RSS
    (MB), from ``wait4``."""
    process = subprocess.Popen([sys.executable, __file__, *arguments, "--result", str(result)])
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(arguments)}: exit status {process.returncode}")
    return json.loads(result.read_text()), usage.ru_maxrss / 1024


def folder_mb(folder: Path) -> tuple[float, list[str]]:
    """Space the files under ``folder`` take on disk (MB), and any half-written leftovers (``.partial``, ``.old``)."""
    paths = list(folder.rglob("*"))
    size = sum(p.lstat().st_blocks * 512 for p in paths if p.is_file())
    leftovers = [str(p.relative_to(folder)) for p in paths if p.name.endswith((".partial", ".old", ".tmp"))]
    return size / 2**20, leftovers


def case_arguments(args: argparse.Namespace) -> list[str]:
    extra = ["--learning"] if args.learning else []
    return extra + ([] if args.cache_mb is None else ["--cache-mb", str(args.cache_mb)])


def run_case(name: str, video: Path, mask: Path, formats: list[str], work: Path, args: argparse.Namespace) -> list[str]:
    """Measure the floor and the studio on one video; the table row."""
    print(f"{name}: floor ({video})", flush=True)
    _, floor_peak = measure(["--part", "floor", "--video", str(video)], work / f"{name}-floor.json")
    print(f"{name}: studio", flush=True)
    folder = work / f"{name}-project"
    shutil.rmtree(folder, ignore_errors=True)  # a saved session there would be reopened, not measured afresh
    arguments = ["--part", "studio", "--video", str(video), "--mask", str(mask), "--folder", str(folder)]
    arguments += ["--formats", ",".join(formats), *case_arguments(args)]
    studio, peak = measure(arguments, work / f"{name}-studio.json")
    size, leftovers = folder_mb(folder)
    peaks = ", ".join(f"{k} {v:.0f}" for k, v in studio["peaks"].items())
    print(f"  peak RSS after each step (MB): {peaks}; lowest confidence {studio['min_confidence']:.2f}", flush=True)
    if leftovers:
        print(f"  note: half-written files left in the project folder: {leftovers}", flush=True)
    return [
        name,
        str(studio["frames"]),
        studio["size"],
        str(studio["objects"]),
        f"{peak:.0f}",
        f"{floor_peak:.0f}",
        f"{peak - floor_peak:.0f}",
        f"{studio['propagate_s']:.1f}",
        f"{studio['export_s']:.1f}",
        f"{size:.1f}",
    ]


def run_all(args: argparse.Namespace, work: Path) -> None:
    from segmenters.interactive.session import InteractiveConfig

    cache_mb = InteractiveConfig().cache_mb if args.cache_mb is None else args.cache_mb
    method = "learning (demo networks, 100 steps, 8 pairs/frame)" if args.learning else "flow propagation, no learning"
    print(f"lucid-studio memory: {method}; session cache {cache_mb:.0f} MB for frames and for flows each, page cache")
    print(f"128 MB; floor = imports + decoding every frame once; {os.cpu_count()} CPUs; work folder {work}", flush=True)
    rows = [["case", "frames", "size", "objects", "peak MB", "floor MB", "added MB", "propagate s", "export s"]]
    rows[0].append("folder MB")
    if args.only in (None, "crowd"):
        if CROWD.is_dir():
            frames, mask = crowd_inputs(CROWD)
            rows.append(run_case("crowd", frames, mask, ["davis", "coco", "mp4"], work, args))
        else:
            print(f"crowd: skipped ({CROWD} is absent)", flush=True)
    if args.only in (None, "long"):
        print(f"long: writing a {args.frames}-frame {LONG_SIZE[1]}x{LONG_SIZE[0]} MP4 (not measured)", flush=True)
        start = time.perf_counter()
        video, mask = write_synthetic(work, args.frames)
        print(f"  written in {time.perf_counter() - start:.0f} s ({video.stat().st_size / 2**20:.1f} MB)", flush=True)
        formats = ["davis", "coco", *(["mp4"] if args.mp4 else [])]
        rows.append(run_case("long", video, mask, formats, work, args))
    print()
    print(format_table(rows))
    print("peak: the studio process's maximum RSS; floor: the same imports and every frame decoded once;")
    print("propagate and export: seconds from the request until /api/status is idle again; folder: the project on disk")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=2000, help="synthetic video length (default: %(default)s)")
    parser.add_argument("--only", choices=["crowd", "long"], help="one case only")
    parser.add_argument("--learning", action="store_true", help="learn before propagating (small settings)")
    parser.add_argument("--cache-mb", type=float, help="session.cache_mb (default: the session's)")
    parser.add_argument("--mp4", action="store_true", help="also export the overlay MP4 of the long video")
    parser.add_argument("--keep", type=Path, help="keep the videos, projects and exports in this folder")
    parser.add_argument("--part", choices=["floor", "studio"], help=argparse.SUPPRESS)
    parser.add_argument("--video", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--mask", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--formats", help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.frames < 2:
        parser.error("--frames: at least 2")
    if args.part == "floor":
        run_floor(args.video, args.result)
    elif args.part == "studio":
        cfg = session_config(args.learning, args.cache_mb)
        run_studio(args.video, args.mask, args.folder, args.formats.split(","), cfg, args.result)
    elif args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        run_all(args, args.keep.resolve())
    else:
        with tempfile.TemporaryDirectory(prefix="studio-memory-") as work:
            run_all(args, Path(work))


if __name__ == "__main__":
    main()
