"""The studio's web application: the page (static files shipped in the package) and the JSON API over a
:class:`~segmenters.studio.project.StudioProject`.

FastAPI validates every request body against the models below (a malformed one gets 422 with the fields at fault);
the engine's :class:`~foundation.errors.InputError` becomes 400 (409 while a job runs, 403 outside the project, 404
for what is not there); anything else 500 with one line, never a traceback page. Request bodies are bounded.
"""

from __future__ import annotations

import logging
from importlib import resources
from typing import Annotated, Any

import numpy as np
from fastapi import Body, FastAPI, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from foundation.errors import InputError
from segmenters.interactive.marks import Click, Scribble
from segmenters.studio.project import Busy, Forbidden, NotFound, StudioProject

log = logging.getLogger(__name__)

MAX_POINTS = 20_000
"""Most points in one stroke or clicks in one request."""

NO_CACHE = {"Cache-Control": "no-store"}


class StrokeIn(BaseModel):
    object_id: int = Field(ge=0, lt=255)
    points: list[tuple[float, float]] = Field(min_length=1, max_length=MAX_POINTS)
    width: int = Field(default=3, ge=1, le=200)


class ScribblesIn(BaseModel):
    scribbles: list[StrokeIn] = Field(min_length=1, max_length=100)


class ClickIn(BaseModel):
    x: float
    y: float
    object_id: int = Field(ge=1, lt=255)
    positive: bool = True


class ClicksIn(BaseModel):
    clicks: list[ClickIn] = Field(min_length=1, max_length=1000)


class EraseIn(BaseModel):
    points: list[tuple[float, float]] = Field(min_length=1, max_length=MAX_POINTS)
    width: int = Field(default=10, ge=1, le=400)


class ObjectIn(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    colour: str | None = Field(default=None, max_length=7)


class ExportIn(BaseModel):
    formats: list[str] = Field(default_factory=lambda: ["davis", "coco", "mp4"], max_length=3)
    name: str | None = Field(default=None, max_length=64)


class BodyLimit:
    """ASGI middleware: a request whose body passes ``max_bytes`` gets 413 (checked on the declared length and on
    the bytes actually received)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _too_large(self.max_bytes, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _too_large(self.max_bytes, send)


class _TooLarge(Exception):
    pass


async def _too_large(max_bytes: int, send: Send) -> None:
    response = JSONResponse({"detail": f"request body larger than {max_bytes // 2**20} MB"}, status_code=413)
    await response({"type": "http"}, _nothing, send)


async def _nothing() -> Message:
    return {"type": "http.disconnect"}


def _status_of(error: InputError) -> int:
    if isinstance(error, Busy):
        return 409
    if isinstance(error, Forbidden):
        return 403
    if isinstance(error, NotFound):
        return 404
    return 400


def create_app(project: StudioProject, max_request_mb: float = 32.0) -> FastAPI:
    """The studio's application over ``project``."""
    app = FastAPI(title="lucid-studio", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.state.project = project
    static = resources.files("segmenters.studio") / "static"

    @app.exception_handler(InputError)
    async def input_error(request: Request, error: InputError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=_status_of(error))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.error("%s %s failed", request.method, request.url.path, exc_info=error)
        return JSONResponse({"detail": f"internal error: {type(error).__name__}: {error}"}, status_code=500)

    @app.get("/", include_in_schema=False)
    def page() -> Response:
        return Response((static / "index.html").read_bytes(), media_type="text/html", headers=NO_CACHE)

    @app.get("/api/video")
    def video() -> dict[str, Any]:
        return project.video_info()

    @app.get("/api/frames/{frame}.jpg")
    def frame_image(frame: int) -> Response:
        _exists(project, frame)
        return Response(project.frame_jpeg(frame), media_type="image/jpeg")

    @app.get("/api/masks/{frame}.png")
    def mask_image(frame: int, v: int = 0) -> Response:
        _exists(project, frame)
        return Response(project.mask_png(frame), media_type="image/png", headers=NO_CACHE)

    @app.get("/api/state")
    def state() -> dict[str, Any]:
        return project.state()

    @app.get("/api/status")
    def status() -> dict[str, Any]:
        return project.status()

    @app.post("/api/objects")
    def add_object(body: ObjectIn) -> dict[str, Any]:
        return vars(project.add_object(body.name, body.colour)).copy()

    @app.patch("/api/objects/{object_id}")
    def update_object(object_id: int, body: ObjectIn) -> dict[str, Any]:
        return vars(project.update_object(object_id, body.name, body.colour)).copy()

    @app.delete("/api/objects/{object_id}")
    def remove_object(object_id: int) -> dict[str, Any]:
        project.remove_object(object_id)
        return {"ok": True}

    @app.post("/api/frames/{frame}/scribbles")
    def scribbles(frame: int, body: ScribblesIn) -> dict[str, Any]:
        height, width = project.session.shape
        marks = [
            Scribble.from_pixels(s.object_id, np.asarray(s.points, np.float64), height, width, s.width)
            for s in body.scribbles
        ]
        project.scribble(frame, marks)
        return {"version": project.version}

    @app.post("/api/frames/{frame}/clicks")
    def clicks(frame: int, body: ClicksIn) -> dict[str, Any]:
        project.click(frame, [Click(c.x, c.y, c.object_id, c.positive) for c in body.clicks])
        return {"version": project.version}

    @app.post("/api/frames/{frame}/erase")
    def erase(frame: int, body: EraseIn) -> dict[str, Any]:
        project.erase(frame, np.asarray(body.points, np.float64), body.width)
        return {"version": project.version}

    @app.post("/api/frames/{frame}/mask")
    async def import_mask(
        frame: int, request: Request, object_id: Annotated[int, Query(ge=1, lt=255)] = 1
    ) -> dict[str, Any]:
        project.import_mask(frame, await request.body(), object_id)
        return {"version": project.version}

    @app.post("/api/undo")
    def undo() -> dict[str, Any]:
        project.undo()
        return {"version": project.version}

    @app.post("/api/propagate", status_code=202)
    def propagate() -> dict[str, Any]:
        project.propagate()
        return {"job": "propagate"}

    @app.post("/api/export", status_code=202)
    def export(body: Annotated[ExportIn | None, Body()] = None) -> dict[str, Any]:
        body = body or ExportIn()
        return {"job": "export", "name": project.export(body.formats, body.name)}

    @app.get("/api/exports")
    def exports() -> list[dict[str, Any]]:
        return project.exports()

    @app.get("/api/exports/{name}/{path:path}")
    def exported(name: str, path: str) -> FileResponse:
        return FileResponse(project.export_file(name, path))

    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.add_middleware(BodyLimit, max_bytes=int(max_request_mb * 2**20))
    return app


def _exists(project: StudioProject, frame: int) -> None:
    if not 0 <= frame < len(project.frames):
        raise NotFound(f"no frame {frame} (the video has {len(project.frames)})")
