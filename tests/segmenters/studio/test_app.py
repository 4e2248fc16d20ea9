"""The studio's API with FastAPI's test client on the embedded clip: a scribbled frame propagates and exports masks
equal to the engine's; objects, undo, import and reopening behave; traversal, malformed and oversized requests are
refused with a 4xx and a message."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from pycocotools import mask as mask_utils

from dreaming.synthesis.samples import Clip
from foundation.io import read_labels, write_labels
from segmenters.evaluation.interactive import robot_scribbles
from segmenters.studio.app import create_app
from segmenters.studio.project import StudioProject

from .conftest import FLOW_ONLY

# pycocotools' mask.decode trips NumPy 2's copy-keyword deprecation; harmless here.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


@pytest.fixture
def client(project: StudioProject) -> TestClient:
    return TestClient(create_app(project, max_request_mb=1.0))


def scribble_body(embedded: Clip, frame: int) -> dict:
    """The robot's first scribbles of ``frame`` (every object, and background), in frame pixels."""
    height, width = embedded.labels[frame].shape
    marks = robot_scribbles(np.zeros_like(embedded.labels[frame]), embedded.labels[frame], [1, 2, 3])
    return {
        "scribbles": [{"object_id": m.object_id, "points": m.pixels(height, width).tolist(), "width": 3} for m in marks]
    }


def wait_idle(client: TestClient, project: StudioProject) -> dict:
    project.wait(timeout=120)
    status = client.get("/api/status").json()
    assert status["job"] is None and status["state"] == "idle", status
    return status


def add_objects(client: TestClient, count: int = 3) -> None:
    for _ in range(count):
        assert client.post("/api/objects", json={}).status_code == 200


def test_scribble_propagate_export(client: TestClient, project: StudioProject, embedded: Clip) -> None:
    video = client.get("/api/video").json()
    assert video["frames"] == len(embedded.frames) and (video["height"], video["width"]) == embedded.labels[0].shape
    add_objects(client)
    first = client.post("/api/frames/0/scribbles", json=scribble_body(embedded, 0))
    assert first.status_code == 200, first.text
    assert client.post("/api/propagate").status_code == 202
    status = wait_idle(client, project)
    assert status["error"] is None
    state = client.get("/api/state").json()
    assert state["annotated"] == [0] and [o["id"] for o in state["objects"]] == [1, 2, 3]
    assert np.asarray(state["confidence"]).shape == (len(embedded.frames), 3)
    labels = [project.session.labels(t) for t in range(len(embedded.frames))]
    hits = np.mean([np.mean((p == t) | (t == 255)) for p, t in zip(labels, embedded.labels, strict=True)])
    assert hits > 0.9  # the marked objects spread through the clip

    mask = cv2.imdecode(np.frombuffer(client.get("/api/masks/5.png").content, np.uint8), cv2.IMREAD_UNCHANGED)
    assert mask.shape == (*labels[5].shape, 4)
    np.testing.assert_array_equal(mask[..., 3] > 0, labels[5] > 0)
    frame = cv2.imdecode(np.frombuffer(client.get("/api/frames/5.jpg").content, np.uint8), cv2.IMREAD_COLOR)
    assert np.abs(frame[..., ::-1].astype(int) - embedded.frames[5]).mean() < 4  # JPEG of the frame

    assert client.patch("/api/objects/2", json={"name": "cat", "colour": "#00ff00"}).status_code == 200
    response = client.post("/api/export", json={"formats": ["davis", "coco", "mp4"], "name": "first"})
    assert response.status_code == 202, response.text
    wait_idle(client, project)
    out = project.folder / "exports" / "first"
    for t, expected in enumerate(labels):
        np.testing.assert_array_equal(read_labels(out / "davis" / f"{t:05d}.png"), expected)
    coco = json.loads((out / "coco.json").read_text())
    assert {c["id"]: c["name"] for c in coco["categories"]} == {1: "object 1", 2: "cat", 3: "object 3"}
    for ann in coco["annotations"]:
        decoded = mask_utils.decode(ann["segmentation"]).astype(bool)
        np.testing.assert_array_equal(decoded, labels[ann["image_id"] - 1] == ann["track_id"])
    capture = cv2.VideoCapture(str(out / "overlay.mp4"))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == len(embedded.frames)
    listing = client.get("/api/exports").json()
    files = {f["path"]: f["url"] for f in listing[0]["files"]}
    assert listing[0]["name"] == "first" and "coco.json" in files and "davis/00000.png" in files
    assert client.get(files["davis/00003.png"]).content == (out / "davis" / "00003.png").read_bytes()


def test_undo_import_and_objects(client: TestClient, project: StudioProject, embedded: Clip, tmp_path: Path) -> None:
    add_objects(client, 2)
    assert client.post("/api/undo").status_code == 400  # nothing to undo yet
    client.post("/api/frames/3/clicks", json={"clicks": [{"x": 60, "y": 60, "object_id": 1, "positive": True}]})
    assert client.get("/api/state").json()["annotated"] == [3] and client.get("/api/state").json()["can_undo"]
    assert client.post("/api/undo").status_code == 200
    assert client.get("/api/state").json()["annotated"] == []

    buffer = io.BytesIO()  # a binary mask made elsewhere becomes the object named in the request
    Image.fromarray((embedded.labels[4] == 2).astype(np.uint8) * 255).save(buffer, format="PNG")
    response = client.post(
        "/api/frames/4/mask?object_id=2", content=buffer.getvalue(), headers={"content-type": "image/png"}
    )
    assert response.status_code == 200, response.text
    np.testing.assert_array_equal(project.session.labels(4), np.where(embedded.labels[4] == 2, 2, 0))
    write_labels(tmp_path / "palette.png", embedded.labels[6])  # a palette mask keeps its ids (3 is added)
    palette = (tmp_path / "palette.png").read_bytes()
    assert client.post("/api/frames/6/mask", content=palette, headers={"content-type": "image/png"}).status_code == 200
    np.testing.assert_array_equal(project.session.labels(6), np.where(embedded.labels[6] == 255, 0, embedded.labels[6]))
    assert [o["id"] for o in client.get("/api/state").json()["objects"]] == [1, 2, 3]

    client.post("/api/frames/6/erase", json={"points": [[0, 0], [239, 135]], "width": 400})
    assert not project.session.labels(6).any()
    assert client.delete("/api/objects/2").status_code == 200
    assert not (project.session.labels(4) == 2).any()
    assert [o["id"] for o in client.get("/api/state").json()["objects"]] == [1, 3]


def test_a_reopened_project_continues(clip_folder: Path, tmp_path: Path, embedded: Clip) -> None:
    project = StudioProject.open(str(clip_folder), tmp_path / "p", FLOW_ONLY)
    client = TestClient(create_app(project))
    add_objects(client)
    client.patch("/api/objects/1", json={"name": "bird"})
    client.post("/api/frames/0/scribbles", json=scribble_body(embedded, 0))
    client.post("/api/propagate")
    wait_idle(client, project)
    project.flush()
    before = client.get("/api/state").json()
    reopened = StudioProject.open(str(clip_folder), tmp_path / "p", FLOW_ONLY)
    after = TestClient(create_app(reopened)).get("/api/state").json()
    for key in ("objects", "annotated", "confidence"):
        assert after[key] == before[key], key
    for t in range(len(embedded.frames)):
        np.testing.assert_array_equal(reopened.session.labels(t), project.session.labels(t))


def test_paths_outside_the_project_are_refused(client: TestClient, project: StudioProject) -> None:
    (project.folder / "exports" / "e").mkdir(parents=True)
    (project.folder / "exports" / "e" / "ok.txt").write_text("ok")
    (project.folder / "secret.txt").write_text("TOPSECRET")
    assert client.get("/api/exports/e/ok.txt").text == "ok"
    for url in (
        "/api/exports/e/../../secret.txt",
        "/api/exports/e/..%2F..%2Fsecret.txt",
        "/api/exports/..%2F..%2F/secret.txt",
        "/api/exports/e/%2Fetc%2Fpasswd",
        "/static/..%2F..%2F..%2Fcli_studio.py",
    ):
        response = client.get(url)
        assert 400 <= response.status_code < 500, url
        assert "TOPSECRET" not in response.text and "root:" not in response.text, url
    response = client.post("/api/export", json={"name": "../escape"})
    assert response.status_code == 400 and "export name" in response.json()["detail"]
    assert not (project.folder.parent / "escape").exists()


@pytest.mark.parametrize(
    ("method", "url", "body", "status", "message"),
    [
        ("post", "/api/frames/0/scribbles", "{not json", 422, ""),
        ("post", "/api/frames/0/scribbles", {"scribbles": []}, 422, "scribbles"),
        ("post", "/api/frames/0/scribbles", {"scribbles": [{"object_id": 9, "points": [[1, 1]]}]}, 400, "object id"),
        ("post", "/api/frames/99/clicks", {"clicks": [{"x": 1, "y": 1, "object_id": 1}]}, 400, "out of range"),
        ("post", "/api/frames/0/clicks", {"clicks": [{"x": 999, "y": 1, "object_id": 1}]}, 400, "outside the frame"),
        ("post", "/api/frames/0/mask", b"not a png", 400, "imported mask"),
        ("post", "/api/propagate", None, 400, "nothing is annotated"),
        ("patch", "/api/objects/1", {"colour": "red"}, 400, "#rrggbb"),
        ("delete", "/api/objects/7", None, 400, "not an object"),
        ("post", "/api/export", {"formats": ["gif"]}, 400, "export formats"),
        ("get", "/api/frames/99.jpg", None, 404, "no frame"),
        ("post", "/api/frames/0/mask", b"x" * (2 * 2**20), 413, "larger than"),
    ],
)
def test_malformed_requests_get_a_4xx_with_a_message(
    client: TestClient, method: str, url: str, body: object, status: int, message: str
) -> None:
    add_objects(client, 1)
    if isinstance(body, bytes | str):
        response = client.request(method, url, content=body, headers={"content-type": "application/json"})
    else:
        response = client.request(method, url, json=body)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert message in json.dumps(detail), detail
    assert "Traceback" not in response.text


def test_each_change_is_saved_promptly(clip_folder: Path, tmp_path: Path, embedded: Clip) -> None:
    """A killed server loses at most the change in flight: each change reaches the folder within seconds, by itself
    (no flush, as when the process is killed)."""
    project = StudioProject.open(str(clip_folder), tmp_path / "p", FLOW_ONLY)
    client = TestClient(create_app(project))
    add_objects(client)
    client.post("/api/frames/7/scribbles", json=scribble_body(embedded, 7))
    saved = project.folder / "session" / "session.json"
    for _ in range(200):
        if saved.is_file() and json.loads(saved.read_text())["annotated"] == [7]:
            break
        time.sleep(0.05)
    reopened = StudioProject.open(str(clip_folder), tmp_path / "p", FLOW_ONLY)
    assert reopened.session.annotated == [7]
    np.testing.assert_array_equal(reopened.session.labels(7), project.session.labels(7))
