"""Unsupervised VOS on a long or large video (default: the 45-frame 1080p crowd clip, 44 people): seconds per frame
and peak memory of the discovery, beside its floor measured in the same run (the DIS flows alone, which any
motion-based discovery computes); with ``--dream``, of the whole method too.

    python benchmarks/unsupervised_crowd.py [--video ../shared/samples/crowd-1080p/JPEGImages] [--dream]
        [--profile cpu] [--frames 45]

Peak memory is the process's maximum resident set size (``ru_maxrss``), so the floor and the discovery are measured
in separate processes.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

CROWD = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "crowd-1080p" / "JPEGImages"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_floor(video_path: Path, frames: int, max_side: int) -> None:
    from segmenters.interactive.frames import open_video
    from segmenters.optical_flow import dis_flow
    from segmenters.unsupervised.discovery import analysis_size

    video = open_video(video_path, cache_mb=64)
    count = min(frames, len(video))
    size = analysis_size(video.shape, max_side)
    images = [cv2.resize(video[t], size[::-1], interpolation=cv2.INTER_AREA) for t in range(count)]
    start = time.perf_counter()
    for t in range(count - 1):
        dis_flow(images[t], images[t + 1])
        dis_flow(images[t + 1], images[t])
    seconds = time.perf_counter() - start
    print(f"floor (DIS flows both ways at {size[1]}x{size[0]}): {seconds / count:.3f} s/frame, peak {peak_mb():.0f} MB")


def run_method(video_path: Path, frames: int, dream: bool, profile: str) -> None:
    from hydra import compose, initialize_config_module
    from omegaconf import OmegaConf

    from segmenters import cli_track  # noqa: F401 (registers the schemas)
    from segmenters.interactive.frames import VideoFrames, open_video
    from segmenters.unsupervised import UnsupervisedTracker

    overrides = ["tracker=unsupervised", f"profile={profile}", "out=.", f"tracker.dream={str(dream).lower()}"]
    with initialize_config_module(config_module="conf", version_base="1.3"):
        settings = OmegaConf.to_container(compose("track", overrides=overrides).tracker, resolve=True)
    assert isinstance(settings, dict)
    settings.pop("_target_")
    tracker = UnsupervisedTracker(**{**settings, "progress": False})
    full = open_video(video_path, cache_mb=256)
    count = min(frames, len(full))
    video = VideoFrames(full.name, full.stems[:count], full.__getitem__, 256)
    start = time.perf_counter()
    labels = list(tracker.discover(video))
    seconds = time.perf_counter() - start
    found = tracker.discoveries[video.name]
    ids = sorted(set(np.unique(np.stack(labels)).tolist()) - {0})
    times = ", ".join(f"{k} {v:.0f} s" for k, v in tracker.stage_times[video.name].items())
    what = "discovery + dreaming + tracking" if dream else "discovery (the candidates)"
    print(
        f"{what}: {count} frames of {video.shape[1]}x{video.shape[0]}, {len(found.tracks)} tracks kept, "
        f"{len(ids)} objects in the result; {seconds / count:.2f} s/frame ({times}), peak {peak_mb():.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=CROWD, help="frames folder or video file (default: %(default)s)")
    parser.add_argument("--frames", type=int, default=45, help="at most this many frames (default: %(default)s)")
    parser.add_argument("--dream", action="store_true", help="also the whole method (dream, train, track)")
    parser.add_argument("--profile", default="cpu", help="network sizes with --dream (default: %(default)s)")
    parser.add_argument("--part", choices=["floor", "candidates", "dream"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    import torch

    torch.set_num_threads(1)
    if args.part == "floor":
        from segmenters.unsupervised.discovery import DiscoveryConfig

        run_floor(args.video, args.frames, DiscoveryConfig().max_side)
    elif args.part is not None:
        run_method(args.video, args.frames, args.part == "dream", args.profile)
    else:
        print(f"{args.video}, one thread")
        common = ["--video", str(args.video), "--frames", str(args.frames), "--profile", args.profile]
        for part in ["floor", "candidates", *(["dream"] if args.dream else [])]:
            subprocess.run([sys.executable, __file__, "--part", part, *common], check=True)


if __name__ == "__main__":
    main()
