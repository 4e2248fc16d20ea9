"""The page in a real browser: a headless Chromium (Debian's ``chromium``, driven by Playwright) opens the page a
real ``lucid-studio`` process serves for the embedded clip, draws scribbles with the mouse on the canvas, propagates
(learning included), exports, and the exported masks on disk are checked; a screenshot is saved."""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from dreaming.synthesis.samples import Clip
from foundation.io import read_labels

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOT_ENV = "LUCID_STUDIO_SCREENSHOT"
"""Where to copy the screenshot too (the README's ``docs/studio.jpg`` is made this way)."""
LAUNCH_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-background-networking",  # no connections to the outside, which these machines refuse
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _browser_or_skip() -> str:
    if CHROMIUM is None:
        reason = "no chromium on PATH: install Debian's chromium (apt-get install -y chromium), as .ci/run does"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser test: {reason}")
        pytest.skip(reason)
    pytest.importorskip(
        "playwright.sync_api", reason="Playwright for Python is a dev dependency (pip install -e .[dev])"
    )
    return CHROMIUM


@pytest.fixture
def server(clip_folder: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A ``lucid-studio`` process on a free port; yields the page's address and the project folder."""
    project = tmp_path / "project"
    command = [
        sys.executable,
        "-m",
        "segmenters.cli_studio",
        str(clip_folder),
        "port=0",
        f"project={project}",
        "profile=demo",
        "session.learning.steps=150",
        "session.learning.pairs_per_frame=8",
        "session.learning.start=1",
        "tracker.device=cpu",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()  # type: ignore[union-attr]
    url, seen = None, []
    while url is None:
        try:
            line = lines.get(timeout=120)
        except queue.Empty:
            break
        seen.append(line)
        match = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
        url = match.group(1) if match else None
    assert url is not None, "".join(seen)
    try:
        yield url, project
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) in (0, 130)
    assert (project / "session" / "session.json").is_file()  # killed, the session is on disk


def _interior_stroke(mask: np.ndarray) -> np.ndarray:
    """A horizontal stroke ``(N, 2)`` of frame pixels ``(x, y)`` inside ``mask``, away from its edges."""
    inner = cv2.erode(mask.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    row = int(np.argmax(inner.sum(axis=1)))
    xs = np.flatnonzero(inner[row])
    return np.array([[x, row] for x in np.linspace(xs.min(), xs.max(), 8)], dtype=np.float64)


def _drag(page, canvas, points: np.ndarray, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    """Draw through ``points`` (frame pixels) with the mouse on ``canvas``."""
    box = canvas.bounding_box()
    height, width = size
    xy = [
        (box["x"] + (x + 0.5) * box["width"] / width, box["y"] + (y + 0.5) * box["height"] / height) for x, y in points
    ]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for x, y in xy[1:]:
        page.mouse.move(x, y, steps=3)
    page.mouse.up()


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


@pytest.mark.slow
def test_scribble_propagate_export_in_a_real_browser(server: tuple[str, Path], embedded: Clip, tmp_path: Path) -> None:
    chromium = _browser_or_skip()
    from playwright.sync_api import sync_playwright

    url, project = server
    shot = tmp_path / Path(os.environ.get(SCREENSHOT_ENV) or "studio.png").name  # .jpg: JPEG
    truth = embedded.labels[0]
    target = max((1, 2, 3), key=lambda i: int((truth == i).sum()))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url)
        canvas = page.locator("#frame-canvas")
        page.wait_for_function("() => document.getElementById('frame-canvas').width > 0")
        page.click("#tool-scribble")
        _drag(page, canvas, _interior_stroke(truth == target), truth.shape)  # the first scribble makes object 1
        page.wait_for_function("() => document.querySelectorAll('#objects li').length === 1")
        page.click("#tool-negative")
        _drag(
            page,
            canvas,
            _interior_stroke(cv2.dilate((truth > 0).astype(np.uint8), np.ones((15, 15))) == 0),
            truth.shape,
        )
        page.wait_for_function("() => !document.getElementById('undo').disabled")
        page.click("#propagate")
        # Flow propagation first, then the networks learn from the scribbled frame and propagate again.
        page.wait_for_function(
            "() => /idle/.test(document.getElementById('status').textContent)"
            " && /trained 1×/.test(document.getElementById('status').textContent)"
            " && !document.getElementById('propagate').disabled",
            timeout=300_000,
        )
        page.click("#export")
        page.wait_for_function("() => document.querySelectorAll('#exports a').length >= 3", timeout=120_000)
        links = page.locator("#exports a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
        page.screenshot(path=str(shot), quality=85 if shot.suffix == ".jpg" else None)
        browser.close()
    assert not errors, errors
    if os.environ.get(SCREENSHOT_ENV):
        shutil.copyfile(shot, os.environ[SCREENSHOT_ENV])
    assert any(link.endswith("coco.json") for link in links) and any(link.endswith("overlay.mp4") for link in links)
    exported = sorted((project / "exports").glob("*/davis/*.png"))
    assert len(exported) == len(embedded.frames)
    labels = [read_labels(path) for path in exported]
    assert set(np.unique(np.stack(labels)).tolist()) <= {0, 1}
    scores = [_jaccard(frame == 1, t == target) for frame, t in zip(labels, embedded.labels, strict=True)]
    # Measured on the development machine, tracker.seed 0 / 1 / 2: J 0.94 on the scribbled frame for each, 0.833 /
    # 0.845 / 0.877 over the clip; the floors leave room for another CPU's float order.
    assert scores[0] > 0.7 and np.mean(scores) > 0.5, np.round(scores, 2)
