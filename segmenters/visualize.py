"""Looking at results: overlay videos and GIFs, frame strips for READMEs, and J/F-over-time plots.

Images are ``uint8 (H, W, 3)`` RGB and label maps ``int (H, W)``, as everywhere in Lucid; colours and outlines come
from :mod:`dreaming.synthesis.viz`. Every file is written atomically.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from dreaming.synthesis.viz import add_caption, label_colors, overlay_labels, save_png, tile
from foundation import davis
from foundation.errors import InputError
from foundation.io import atomic_path, read_frame, read_labels
from segmenters.evaluation import SequenceScores, has_ground_truth, read_result


@dataclass(frozen=True)
class OverlayOptions:
    """Which pictures :func:`write_sequence_overlays` makes, and how: the ``overlays`` settings of ``lucid-track``
    and ``lucid-eval`` (whose defaults turn ``video`` and ``strip`` off)."""

    video: bool = True
    """An MP4 (MPEG-4 part 2) of every frame."""
    gif: bool = False
    """An animated GIF of every frame, ``gif_width`` pixels wide."""
    strip: bool = True
    """One PNG of ``strip_frames`` evenly spaced frames, ``strip_cell_width`` pixels wide each: the predictions in a
    row, over the ground truth when ``side_by_side``."""
    side_by_side: bool = True
    """Show the ground truth beside the prediction when the sequence has it."""
    fps: float = 12.0
    alpha: float = 0.5
    gif_width: int = 480
    strip_frames: int = 5
    strip_cell_width: int = 320


def evenly_spaced(count: int, total: int) -> list[int]:
    """``count`` indices spread evenly over ``0..total-1``, first and last included (fewer if ``total`` is small)."""
    if total <= 0 or count <= 0:
        return []
    return sorted(set(np.linspace(0, total - 1, min(count, total)).round().astype(int).tolist()))


def side_by_side(prediction_view: np.ndarray, truth_view: np.ndarray | None = None, caption: str = "") -> np.ndarray:
    """The prediction overlay captioned ``"<caption> prediction"`` and, when given, the ground truth beside it."""
    panels = [add_caption(prediction_view, f"{caption} prediction".strip())]
    if truth_view is not None:
        panels.append(add_caption(truth_view, "ground truth"))
    return panels[0] if len(panels) == 1 else tile([panels], pad=4)


def frame_strip(
    rows: Sequence[Sequence[np.ndarray]], captions: Sequence[Sequence[str]] | None = None, cell_width: int = 320
) -> np.ndarray:
    """Rows of equally sized images (e.g. predictions over ground truth), each scaled to ``cell_width`` pixels wide
    (aspect kept) and captioned by ``captions[row][column]``, on a white background."""
    if not rows or not rows[0]:
        raise ValueError("a strip needs at least one image")
    scaled = [[_scaled(image, cell_width) for image in row] for row in rows]
    if captions is not None:
        scaled = [
            [add_caption(image, text) for image, text in zip(row, texts, strict=True)]
            for row, texts in zip(scaled, captions, strict=True)
        ]
    return tile(scaled, pad=4, cell_size=(cell_width, scaled[0][0].shape[0]))


def _scaled(image: np.ndarray, width: int) -> np.ndarray:
    """Resize to ``width`` pixels wide, keeping the aspect ratio."""
    height = max(1, round(image.shape[0] * width / image.shape[1]))
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def _even(image: np.ndarray) -> np.ndarray:
    """Pad with white to even width and height, which video encoders need."""
    height, width = image.shape[:2]
    return np.pad(image, ((0, height % 2), (0, width % 2), (0, 0)), constant_values=255)


@contextlib.contextmanager
def video_writer(path: str | os.PathLike[str], fps: float) -> Iterator[Callable[[np.ndarray], None]]:
    """Yield ``write(rgb)`` appending one frame (all of the same size) to an MP4 written atomically at ``path``."""
    writer: cv2.VideoWriter | None = None
    size: tuple[int, int] | None = None
    with atomic_path(path) as tmp:

        def write(image: np.ndarray) -> None:
            nonlocal writer, size
            image = _even(image)
            if writer is None:
                size = (image.shape[1], image.shape[0])
                writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter.fourcc(*"mp4v"), fps, size)
                if not writer.isOpened():
                    raise OSError(f"{path}: OpenCV could not open an MPEG-4 video writer")
            if (image.shape[1], image.shape[0]) != size:
                raise ValueError(f"{path}: frame of {image.shape[1]}x{image.shape[0]} in a {size[0]}x{size[1]} video")
            writer.write(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))

        try:
            yield write
        finally:
            if writer is not None:
                writer.release()
        if writer is None:
            raise ValueError(f"{path}: a video needs at least one frame")


def write_gif(path: str | os.PathLike[str], images: Sequence[np.ndarray], fps: float) -> None:
    """Write an endlessly looping animated GIF (256 colours per frame), atomically."""
    if not images:
        raise ValueError(f"{path}: a GIF needs at least one frame")
    frames = [Image.fromarray(image).quantize(colors=256, method=Image.Quantize.MEDIANCUT) for image in images]
    with atomic_path(path) as tmp:
        frames[0].save(tmp, format="GIF", save_all=True, append_images=frames[1:], duration=round(1000 / fps), loop=0)


def write_sequence_overlays(
    sequence: davis.Sequence,
    results: str | os.PathLike[str],
    out: str | os.PathLike[str],
    options: OverlayOptions = OverlayOptions(),
) -> list[Path]:
    """Picture the results ``<results>/<sequence>/<frame stem>.png`` of one sequence.

    Writes ``<out>/<sequence>.mp4``, ``<out>/<sequence>.gif`` and ``<out>/<sequence>_strip.png`` as ``options``
    asks.

    Returns:
        The files written.
    """
    out = Path(out)
    with_truth = options.side_by_side and has_ground_truth(sequence)
    strip_ids = set(evenly_spaced(options.strip_frames, len(sequence.frames))) if options.strip else set()
    gif_frames: list[np.ndarray] = []
    strip_stems: list[str] = []
    strip_rows: list[list[np.ndarray]] = [[], []] if with_truth else [[]]
    written: list[Path] = []
    with contextlib.ExitStack() as stack:
        write = stack.enter_context(video_writer(out / f"{sequence.name}.mp4", options.fps)) if options.video else None
        for index, frame_path in enumerate(sequence.frames):
            frame = read_frame(frame_path)
            result_path = Path(results) / sequence.name / f"{frame_path.stem}.png"
            result = read_result(result_path)
            if result.shape != frame.shape[:2]:
                raise InputError(
                    result_path,
                    f"result is {result.shape[1]}x{result.shape[0]}",
                    f"the size of its frame, {frame.shape[1]}x{frame.shape[0]}",
                )
            views = [overlay_labels(frame, result, options.alpha)]
            if with_truth:
                views.append(overlay_labels(frame, read_labels(sequence.annotations[frame_path.stem]), options.alpha))
            panel = side_by_side(*views, caption=f"{sequence.name} {frame_path.stem}")
            if write is not None:
                write(panel)
            if options.gif:
                gif_frames.append(_scaled(panel, options.gif_width))
            if index in strip_ids:
                strip_stems.append(frame_path.stem)
                for row, view in zip(strip_rows, views, strict=True):
                    row.append(view)
    if options.video:
        written.append(out / f"{sequence.name}.mp4")
    if options.gif:
        write_gif(out / f"{sequence.name}.gif", gif_frames, options.fps)
        written.append(out / f"{sequence.name}.gif")
    if options.strip:
        captions = [[f"{stem} prediction" for stem in strip_stems], ["ground truth"] * len(strip_stems)]
        strip = frame_strip(strip_rows, captions[: len(strip_rows)], options.strip_cell_width)
        save_png(out / f"{sequence.name}_strip.png", strip)
        written.append(out / f"{sequence.name}_strip.png")
    return written


def _frame_axis(stems: Sequence[str]) -> np.ndarray:
    """Frame numbers from stems like ``00012``; positions when the stems are not numbers."""
    return np.array([int(s) for s in stems]) if all(s.isdigit() for s in stems) else np.arange(1, len(stems) + 1)


def plot_scores(path: str | os.PathLike[str], scores: SequenceScores) -> None:
    """Plot J and F over the scored frames, one line per object in its palette colour, as a PNG (atomically)."""
    frames = _frame_axis(scores.frames)
    colors = label_colors(scores.ids) / 255.0
    # A bare Figure renders with Agg and leaves pyplot's global state (and any notebook backend) alone.
    figure = Figure(figsize=(8, 5), layout="constrained")
    axes = figure.subplots(2, 1, sharex=True)
    for axis, values, measure in ((axes[0], scores.j, "J"), (axes[1], scores.f, "F")):
        for name, row, color in zip(scores.object_names(), values, colors, strict=True):
            axis.plot(frames, row, color=color, linewidth=1.5, label=f"{name} (mean {row.mean():.3f})")
        axis.set_ylim(0, 1.02)
        axis.set_ylabel(measure)
        axis.grid(alpha=0.3)
        axis.legend(loc="lower left", fontsize="small")
    axes[1].set_xlabel("frame")
    axes[0].set_title(f"{scores.name}: J {scores.j.mean():.3f}, F {scores.f.mean():.3f}")
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=100, metadata={"Software": None})
