"""A tiny synthetic DAVIS root: two textured sequences with objects that move by known amounts."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig
from PIL import Image

from dreaming.synthesis.config import InpaintConfig, fast
from dreaming.synthesis.dream import Scene
from dreaming.synthesis.samples import Clip, make_clip
from foundation.io import object_ids, write_labels
from segmenters.demo import CLIP
from segmenters.evaluation.metrics import boundary_f, jaccard
from segmenters.lucid.samples import dream_training_pairs

HEIGHT, WIDTH, FRAMES = 60, 80, 7


def square_labels(t: int) -> np.ndarray:
    """Object 1 moves right by 2 px a frame, object 2 down by 1 px a frame."""
    labels = np.zeros((HEIGHT, WIDTH), dtype=np.int32)
    labels[10:30, 8 + 2 * t : 28 + 2 * t] = 1
    labels[30 + t : 45 + t, 50:70] = 2
    return labels


def textured_frame(labels: np.ndarray, t: int, seed: int = 0) -> np.ndarray:
    """A static random background; each object's own texture moves with it (object 1 right, object 2 down)."""
    rng = np.random.default_rng(seed)
    background, texture_1, texture_2 = (rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8) for _ in range(3))
    frame = background.copy()
    frame[labels == 1] = np.roll(texture_1, 2 * t, axis=1)[labels == 1]
    frame[labels == 2] = np.roll(texture_2, t, axis=0)[labels == 2]
    return cv2.GaussianBlur(frame, (5, 5), 0)


def write_sequence(root: Path, name: str, annotate_all: bool = True) -> None:
    for t in range(FRAMES):
        labels = square_labels(t)
        frame_path = root / "JPEGImages" / "480p" / name / f"{t:05d}.png"
        frame_path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(frame_path), cv2.cvtColor(textured_frame(labels, t), cv2.COLOR_RGB2BGR))
        if annotate_all or t == 0:
            write_labels(root / "Annotations" / "480p" / name / f"{t:05d}.png", labels)


@pytest.fixture
def synthetic() -> SimpleNamespace:
    """The synthetic sequences' geometry: ``labels(t)``, ``frame(t)``, ``frames``, ``height``, ``width``."""
    return SimpleNamespace(
        labels=square_labels,
        frame=lambda t: textured_frame(square_labels(t), t),
        frames=FRAMES,
        height=HEIGHT,
        width=WIDTH,
    )


@pytest.fixture
def davis_root(tmp_path: Path) -> Path:
    """Sequences ``alpha`` and ``beta`` (fully annotated) of 7 frames of 80x60, objects 1 and 2."""
    root = tmp_path / "davis"
    for name in ("alpha", "beta"):
        write_sequence(root, name)
    return root


@pytest.fixture
def cuda() -> torch.device:
    """The first CUDA device; the test is skipped where torch sees none (CI, the 2-core development machine)."""
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device: torch sees none (run these on a GPU machine)")
    return torch.device("cuda")


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Tiny networks gain nothing from more threads, and shared CI cores make two threads much slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _j_and_f(predictions: list[np.ndarray], truth: list[np.ndarray]) -> float:
    """Mean of J and F over objects and frames after the first (the DAVIS protocol)."""
    scores = [
        (float(jaccard(p == i, t == i)) + float(boundary_f(p == i, t == i))) / 2
        for p, t in zip(predictions[1:], truth[1:], strict=True)
        for i in object_ids(truth[0])
    ]
    return float(np.mean(scores))


@pytest.fixture
def j_and_f() -> Callable[[list[np.ndarray], list[np.ndarray]], float]:
    """``j_and_f(predictions, truth)``: the DAVIS J&F of label sequences held in memory."""
    return _j_and_f


@pytest.fixture(scope="session")
def embedded() -> Clip:
    """The embedded sample clip of the demo: 24 frames of 240x136 with 3 objects."""
    return make_clip(**CLIP)


@pytest.fixture(scope="session")
def clip_folder(embedded: Clip, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded clip's frames as ``<folder>/clip/00000.png`` …"""
    folder = tmp_path_factory.mktemp("video") / "clip"
    folder.mkdir()
    for index, frame in enumerate(embedded.frames):
        Image.fromarray(frame).save(folder / f"{index:05d}.png")
    return folder


def _app_config(name: str, overrides: list[str]) -> DictConfig:
    with initialize_config_module(config_module="conf", version_base="1.3"):
        return compose(name, overrides=overrides)


@pytest.fixture
def app_config() -> Callable[[str, list[str]], DictConfig]:
    """``app_config(name, overrides)``: the composed configuration of an app (``conf/<name>.yaml``: track, eval)."""
    return _app_config


@pytest.fixture
def track_config() -> Callable[[list[str]], DictConfig]:
    """``track_config(overrides)``: the composed ``lucid-track`` configuration."""
    return functools.partial(_app_config, "track")


@dataclass(frozen=True)
class CliRun:
    """What a command did: its exit status and what it printed."""

    status: int
    out: str
    err: str


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., CliRun]:
    """``run_cli(main, *argv)``: a command's entry point run in this process as from a shell (``sys.argv``, exit
    status, stdout and stderr); the logging set up by Hydra is undone afterwards."""
    root = logging.getLogger()

    def run(main: Callable[[], int], *argv: object) -> CliRun:
        monkeypatch.setattr(sys, "argv", [main.__module__, *map(str, argv)])
        handlers, level = root.handlers[:], root.level
        try:
            status = main()
        except SystemExit as stop:
            status = stop.code
        finally:
            GlobalHydra.instance().clear()
            HydraConfig.instance().cfg = None  # type: ignore[assignment]
            for handler in set(root.handlers) - set(handlers):
                handler.close()
            root.handlers[:], root.level = handlers, level
        captured = capsys.readouterr()
        return CliRun(int(status or 0), captured.out, captured.err)

    return run


@pytest.fixture(scope="session")
def pairs() -> list:
    """Four pairs dreamed (Telea inpainting, the fast preset) from a 128x80 frame of the embedded clip, 2 objects."""
    clip = make_clip(num_frames=2, size=(128, 80), num_objects=2)
    scene = Scene.from_frame(clip.frames[0], clip.labels[0], InpaintConfig(method="telea"))
    return dream_training_pairs(scene, fast(), 4, seed=0, video="clip", progress=False)
