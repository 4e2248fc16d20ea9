"""A studio project: one video's interactive session kept in a folder, its objects' names and colours, and the long
jobs (propagation, export) run one at a time beside the page.

The folder holds ``session/`` (:meth:`InteractiveSession.save`, rewritten in a background thread after every change),
``studio.json`` (names and colours) and ``exports/<name>/``. Killing the server loses at most the change being saved;
opening the same folder again continues the session.
"""

from __future__ import annotations

import colorsys
import io
import json
import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from foundation.errors import InputError
from foundation.io import VOID, decode_labels, write_bytes_atomic
from segmenters.interactive.frames import VideoFrames, open_video
from segmenters.interactive.marks import Click, Scribble, stroke_mask
from segmenters.interactive.session import SESSION_FILE, InteractiveConfig, InteractiveSession
from segmenters.studio.export import FORMATS, ExportedObject, check_formats, export

log = logging.getLogger(__name__)

STUDIO_FILE = "studio.json"
SESSION_FOLDER = "session"
EXPORTS_FOLDER = "exports"
EXPORT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
"""An export's name: a plain file name (no separators, no leading dot)."""
COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
NAME_LENGTH = 80


MESSAGES = {
    "dreaming": "dreaming training pairs from the annotated frames",
    "training": "training the video's networks (the masks improve when it is done)",
    "propagating": "propagating to every frame",
    "exporting": "writing the export",
}
"""What the page says the studio is doing, by state."""
COLOURS = ("#0a84ff", "#ffd60a", "#ff375f", "#30d158", "#bf5af2", "#ff9f0a", "#64d2ff", "#ac8e68")
"""Default display colours: bright and far apart, so a mask shows on any frame (the exported PNGs keep the DAVIS
palette)."""


def default_colour(object_id: int) -> str:
    """The default ``#rrggbb`` of ``object_id``: :data:`COLOURS` first, then hues a golden angle apart (crowds of
    objects stay told apart)."""
    if 1 <= object_id <= len(COLOURS):
        return COLOURS[object_id - 1]
    hue = (object_id * 0.618033988749895) % 1.0
    r, g, b = (round(255 * c) for c in colorsys.hsv_to_rgb(hue, 0.75, 0.95))
    return f"#{r:02x}{g:02x}{b:02x}"


def hex_to_rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


@dataclass
class StudioObject:
    """An object as the page shows it."""

    id: int
    name: str
    colour: str
    """``#rrggbb``."""


@dataclass
class Job:
    """The long job running beside the page: ``propagate`` or ``export``."""

    name: str
    thread: threading.Thread


class StudioProject:
    """The project in ``folder`` over ``video`` (a new session, or the one saved there).

    Args:
        frames: a second reader of the same video, for the page (the session's own frame cache belongs to its lock).
    """

    def __init__(self, folder: Path, session: InteractiveSession, frames: VideoFrames, fps: float) -> None:
        self.folder, self.session, self.frames, self.fps = folder, session, frames, fps
        self._frames_lock = threading.Lock()
        self._lock = threading.RLock()
        self.objects: dict[int, StudioObject] = {}
        self._read_objects()
        self._sync_objects()
        self._meta_version = 0
        self.job: Job | None = None
        self.error: str | None = None
        self._save_wanted = threading.Event()
        self._saver = threading.Thread(target=self._save_loop, name="lucid-studio-saver", daemon=True)
        self._saver.start()

    # --- opening ------------------------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: str,
        folder: str | Path,
        cfg: InteractiveConfig,
        sequence: str | None = None,
        resolution: str = "480p",
        display_cache_mb: float = 128.0,
    ) -> StudioProject:
        """Open the video at ``path`` (DAVIS root, folder of frames or video file) in the project ``folder``:
        reopened when it holds a saved session, else a new one."""
        folder = Path(folder)
        saved = folder / SESSION_FOLDER
        if (saved / SESSION_FILE).is_file():
            video = open_video(path, sequence, resolution, cfg.cache_mb)
            session = InteractiveSession.load(saved, video)
            log.info("%s: reopened the session in %s (%d annotated frames)", video.name, folder, len(session.annotated))
        else:
            session = InteractiveSession.open(path, cfg, sequence, resolution)
        frames = open_video(path, sequence, resolution, display_cache_mb)
        return cls(folder, session, frames, video_fps(path))

    def _read_objects(self) -> None:
        path = self.folder / STUDIO_FILE
        if not path.is_file():
            return
        try:
            items = json.loads(path.read_text())["objects"]
            self.objects = {int(o["id"]): StudioObject(int(o["id"]), str(o["name"]), str(o["colour"])) for o in items}
        except (ValueError, KeyError, TypeError) as error:
            raise InputError(path, f"unreadable ({error!r})", f"a {STUDIO_FILE} written by lucid-studio") from None

    def _sync_objects(self) -> None:
        """Names and colours for the session's objects (new ones get defaults; removed ones are dropped)."""
        ids = self.session.ids
        self.objects = {i: self.objects.get(i) or StudioObject(i, f"object {i}", default_colour(i)) for i in ids}

    # --- what the page reads ------------------------------------------------------------------------------------

    @property
    def version(self) -> int:
        """Changes whenever labels, objects or annotations change (the page reloads masks when it does)."""
        return self.session.revision * 1000 + self._meta_version

    def check_frame(self, frame: int) -> int:
        if not 0 <= frame < len(self.frames):
            raise InputError(
                f"{self.frames.name} frame", f"index {frame} is out of range", f"0..{len(self.frames) - 1}"
            )
        return frame

    def frame_jpeg(self, frame: int, quality: int = 90) -> bytes:
        with self._frames_lock:  # the reader's cache and a video file's decoder are not thread-safe
            image = self.frames[self.check_frame(frame)]
        ok, data = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
        assert ok
        return data.tobytes()

    def mask_png(self, frame: int) -> bytes:
        """RGBA PNG of ``frame``'s labels: each object in its colour, opaque; background transparent."""
        labels = self.session.labels(self.check_frame(frame))
        lookup = np.zeros((VOID + 1, 4), np.uint8)
        for obj in self.objects.values():
            lookup[obj.id] = (*hex_to_rgb(obj.colour), 255)
        rgba = lookup[np.clip(labels, 0, VOID)]
        ok, data = cv2.imencode(".png", cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA), [cv2.IMWRITE_PNG_COMPRESSION, 1])
        assert ok
        return data.tobytes()

    def status(self) -> dict[str, Any]:
        session = self.session.status
        job = self.job.name if self.job is not None and self.job.thread.is_alive() else None
        state = session.get("state", "idle")
        if job == "export":
            state = "exporting"
        elif job == "propagate" and state == "idle":
            state = "propagating"
        progress = session.get("progress") if job != "export" else None
        message = MESSAGES.get(state, "")
        return {
            "state": state,
            "progress": progress,
            "model": int(session.get("model", 0)),
            "job": job,
            "error": self.error,
            "message": message,
            "version": self.version,
        }

    def state(self) -> dict[str, Any]:
        with self._lock:
            self._sync_objects()
            return {
                "version": self.version,
                "objects": [asdict(self.objects[i]) for i in self.session.ids],
                "annotated": self.session.annotated,
                "confidence": np.round(self.session.confidence(), 4).tolist(),
                "can_undo": self.session.can_undo,
                "status": self.status(),
            }

    def video_info(self) -> dict[str, Any]:
        height, width = self.frames.shape
        stems = list(self.frames.stems)
        return {
            "name": self.frames.name,
            "frames": len(stems),
            "width": width,
            "height": height,
            "stems": stems,
            "fps": self.fps,
        }

    # --- objects ------------------------------------------------------------------------------------------------

    def add_object(self, name: str | None = None, colour: str | None = None) -> StudioObject:
        with self._lock:
            object_id = self.session.add_object()
            obj = StudioObject(object_id, f"object {object_id}", default_colour(object_id))
            self.objects[object_id] = obj
            self._update(obj, name, colour)
            return obj

    def update_object(self, object_id: int, name: str | None = None, colour: str | None = None) -> StudioObject:
        with self._lock:
            obj = self._object(object_id)
            self._update(obj, name, colour)
            return obj

    def remove_object(self, object_id: int) -> None:
        with self._lock:
            self._object(object_id)
            self.session.remove_object(object_id)
            self.objects.pop(object_id, None)
            self._changed()

    def _object(self, object_id: int) -> StudioObject:
        if object_id not in self.session.ids:
            raise InputError("object id", f"{object_id} is not an object of this session", f"one of {self.session.ids}")
        self._sync_objects()
        return self.objects[object_id]

    def _update(self, obj: StudioObject, name: str | None, colour: str | None) -> None:
        if name is not None:
            name = name.strip()
            if not 0 < len(name) <= NAME_LENGTH:
                raise InputError("object name", f"{len(name)} characters", f"1..{NAME_LENGTH} characters")
            obj.name = name
        if colour is not None:
            if not COLOUR.fullmatch(colour):
                raise InputError("object colour", repr(colour), "#rrggbb")
            obj.colour = colour.lower()
        self._changed()

    # --- interactions -------------------------------------------------------------------------------------------

    def scribble(self, frame: int, scribbles: Sequence[Scribble]) -> None:
        self._interact(lambda: self.session.add_scribbles(frame, scribbles))

    def click(self, frame: int, clicks: Sequence[Click]) -> None:
        self._interact(lambda: self.session.add_clicks(frame, clicks))

    def erase(self, frame: int, points: np.ndarray, width: int) -> None:
        """Make the pixels under a stroke (``(N, 2)`` frame pixels ``(x, y)``, ``width`` px wide) background."""
        frame = self.check_frame(frame)
        erased = stroke_mask(self.session.shape, points, width)
        labels = self.session.labels(frame)
        labels[erased] = 0
        self._interact(lambda: self.session.set_mask(frame, labels))

    def import_mask(self, frame: int, data: bytes, object_id: int) -> None:
        """Give ``frame`` the labels of a PNG: a palette or colour PNG keeps its ids, a binary one becomes
        ``object_id``."""
        frame = self.check_frame(frame)
        labels = decode_mask(data, self.session.shape, object_id)
        self._interact(lambda: self.session.set_mask(frame, labels))

    def _interact(self, change: Callable[[], Any]) -> None:
        self._check_idle("change the annotations")
        with self._lock:
            change()
            self._changed()

    def undo(self) -> None:
        self._check_idle("undo")
        with self._lock:
            self.session.undo()
            self._changed()

    # --- jobs ---------------------------------------------------------------------------------------------------

    def busy(self) -> bool:
        return self.job is not None and self.job.thread.is_alive()

    def _check_idle(self, what: str) -> None:
        if self.busy():
            assert self.job is not None
            raise Busy(f"cannot {what} while the {self.job.name} job runs")

    def propagate(self) -> None:
        """Start propagating (learning first when the session is due to, in the background with
        ``session.background``)."""
        if not self.session.annotated:
            raise InputError(self.frames.name, "nothing is annotated yet", "marks or a mask on at least one frame")
        self._start("propagate", self.session.propagate)

    def export(self, formats: Sequence[str], name: str | None = None) -> str:
        """Start writing ``formats`` into ``exports/<name>/`` (a new name when ``None``); returns the name."""
        formats = list(formats) or list(FORMATS)
        check_formats(formats)
        name = name or self._next_export_name()
        if not EXPORT_NAME.fullmatch(name):
            raise InputError("export name", repr(name), "1..64 letters, digits, '.', '_' or '-', not starting with '.'")
        objects = [ExportedObject(o.id, o.name, hex_to_rgb(o.colour)) for o in self.state_objects()]
        labels = self.session.all_labels()
        target = self.folder / EXPORTS_FOLDER / name

        def run() -> list[Path]:
            def frame(index: int) -> np.ndarray:
                with self._frames_lock:
                    return self.frames[index]

            stems = self.frames.stems
            return export(
                target,
                formats,
                self.frames.name,
                stems,
                self.frames.shape,
                frame,
                labels.__getitem__,
                objects,
                self.fps,
            )

        self._start("export", run)
        return name

    def state_objects(self) -> list[StudioObject]:
        with self._lock:
            self._sync_objects()
            return [self.objects[i] for i in self.session.ids]

    def _next_export_name(self) -> str:
        existing = {p.name for p in (self.folder / EXPORTS_FOLDER).glob("*")}
        return next(f"export-{n:03d}" for n in range(1, 10_000) if f"export-{n:03d}" not in existing)

    def _start(self, name: str, work: Callable[[], Any]) -> None:
        with self._lock:
            self._check_idle(f"start {name}")
            self.error = None

            def run() -> None:
                try:
                    work()
                except Exception as error:  # shown on the page; the server keeps serving
                    log.exception("%s failed", name)
                    self.error = f"{name} failed: {error}"
                finally:
                    self._changed()

            self.job = Job(name, threading.Thread(target=run, name=f"lucid-studio-{name}", daemon=True))
            self.job.thread.start()

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the running job (and the session's background learning)."""
        if self.job is not None:
            self.job.thread.join(timeout)
        self.session.wait()

    def exports(self) -> list[dict[str, Any]]:
        root = self.folder / EXPORTS_FOLDER
        listing = []
        for folder in sorted(p for p in root.glob("*") if p.is_dir()):
            files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
            listing.append(
                {"name": folder.name, "files": [{"path": f, "url": f"/api/exports/{folder.name}/{f}"} for f in files]}
            )
        return listing

    def export_file(self, name: str, path: str) -> Path:
        """The exported file ``exports/<name>/<path>``; anything outside the exports folder is refused."""
        root = (self.folder / EXPORTS_FOLDER).resolve()
        target = (root / name / path).resolve()
        if not target.is_relative_to(root) or not EXPORT_NAME.fullmatch(name):
            raise Forbidden(f"{name}/{path} is outside the project's exports")
        if not target.is_file():
            raise NotFound(f"no exported file {name}/{path}")
        return target

    # --- saving -------------------------------------------------------------------------------------------------

    def _changed(self) -> None:
        self._meta_version += 1
        self._save_wanted.set()

    def _save_loop(self) -> None:
        while True:
            self._save_wanted.wait()
            self._save_wanted.clear()
            try:
                self.save()
            except Exception:  # a failed save is retried with the next change; the page keeps working
                log.exception("saving %s failed", self.folder)

    def save(self) -> None:
        """Write the session and the objects' names and colours (each atomically)."""
        with self._lock:
            objects = [asdict(o) for o in self.state_objects()]
        self.session.save(self.folder / SESSION_FOLDER)
        write_bytes_atomic(self.folder / STUDIO_FILE, json.dumps({"objects": objects}, indent=1).encode())

    def flush(self) -> None:
        """Save now (at shutdown)."""
        self._save_wanted.clear()
        self.save()


class Busy(InputError):
    """A change asked for while a job runs (HTTP 409)."""

    def __init__(self, problem: str) -> None:
        super().__init__(None, problem, "the job to finish first")


class Forbidden(InputError):
    def __init__(self, problem: str) -> None:
        super().__init__(None, problem)


class NotFound(InputError):
    def __init__(self, problem: str) -> None:
        super().__init__(None, problem)


def decode_mask(data: bytes, shape: tuple[int, int], object_id: int) -> np.ndarray:
    """Labels ``int32 (H, W)`` of an uploaded mask PNG, read as :func:`~foundation.io.read_labels` reads a file: a
    palette PNG keeps its ids; a binary mask (grey levels, or one colour) becomes ``object_id``."""
    labels = decode_labels(data, "imported mask")
    with Image.open(io.BytesIO(data)) as image:  # decode_labels has read it: the header is valid
        palette = image.mode == "P"
    if labels.shape != shape:
        raise InputError("imported mask", f"{labels.shape[1]}x{labels.shape[0]}", f"the video's {shape[1]}x{shape[0]}")
    if not palette and set(np.unique(labels).tolist()) <= {0, 1}:
        return (labels * object_id).astype(np.int32)
    return labels.astype(np.int32)


def video_fps(path: str | Path, default: float = 24.0) -> float:
    """A video file's frame rate (``default`` for folders of frames, as DAVIS has 24 fps)."""
    path = Path(path)
    if not path.is_file():
        return default
    capture = cv2.VideoCapture(str(path))
    fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
    capture.release()
    return fps if 0.0 < fps < 1000.0 else default
