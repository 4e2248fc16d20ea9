"""The ``lucid-preview`` command and ``python -m dreaming.demo``, run end to end on the embedded sample clip."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from dreaming import demo, preview
from dreaming.synthesis.config import fast
from dreaming.synthesis.dream import DreamPair, Scene
from dreaming.synthesis.samples import make_clip
from dreaming.synthesis.viz import contact_sheet, save_png
from foundation.io import read_frame, read_labels, write_labels


@pytest.fixture(scope="module")
def annotated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    clip = make_clip(num_frames=2, size=(160, 96), seed=4)
    folder = tmp_path_factory.mktemp("frame")
    save_png(folder / "frame.png", clip.frames[0])
    write_labels(folder / "mask.png", clip.labels[0])
    return folder / "frame.png", folder / "mask.png"


def test_preview_writes_a_deterministic_contact_sheet(annotated: tuple[Path, Path], tmp_path: Path) -> None:
    image, mask = annotated
    first, second = tmp_path / "one.png", tmp_path / "two.png"
    assert preview.main([str(image), str(mask), str(first), "--pairs", "2", "--seed", "3", "--cell-width", "80"]) == 0
    assert preview.main([str(image), str(mask), str(second), "--pairs", "2", "--seed", "3", "--cell-width", "80"]) == 0
    assert first.read_bytes() == second.read_bytes()
    sheet = read_frame(first)
    assert sheet.shape[1] == 4 * 80 + 5 * 4  # four panels per row
    assert sheet.shape[0] > 2 * (48 + 2 * 4)  # two rows of 80x48 cells, plus captions
    other = tmp_path / "other.png"
    assert preview.main([str(image), str(mask), str(other), "--pairs", "2", "--seed", "4", "--cell-width", "80"]) == 0
    assert other.read_bytes() != first.read_bytes()


def test_each_pair_has_its_own_seed_whatever_the_count(annotated: tuple[Path, Path]) -> None:
    image, mask = annotated
    cfg = fast()
    scene = Scene.from_frame(read_frame(image), read_labels(mask), cfg.inpaint)
    two = preview.dream_pairs(scene, cfg, 2, seed=9, video="frame")
    three = preview.dream_pairs(scene, cfg, 3, seed=9, video="frame")
    for a, b in zip(two, three, strict=False):
        np.testing.assert_array_equal(a.b.image, b.b.image)
        np.testing.assert_array_equal(a.flow_ab, b.flow_ab)
    assert not np.array_equal(three[0].b.image, three[1].b.image)


def test_preview_dreams_only_the_requested_ids(
    annotated: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image, mask = annotated
    sheets: list[list[DreamPair]] = []

    def keep_pairs(pairs: list[DreamPair], **kwargs: object) -> np.ndarray:
        sheets.append(list(pairs))
        return contact_sheet(pairs, **kwargs)

    monkeypatch.setattr(preview, "contact_sheet", keep_pairs)
    out = tmp_path / "only2.png"
    assert preview.main([str(image), str(mask), str(out), "--pairs", "2", "--ids", "2", "--cell-width", "80"]) == 0
    assert out.is_file() and len(sheets[0]) == 2
    for pair in sheets[0]:
        for frame in (pair.a, pair.b):
            assert set(np.unique(frame.labels)) <= {0, 2}
            assert set(np.unique(frame.prev_labels)) <= {0, 2}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"mask": "missing.png"}, "file not found"),
        ({"ids": ["7"]}, "absent"),
        ({"out": "sheet.jpg"}, "ending in .png"),
        ({"image": "small.png"}, "same size"),
    ],
)
def test_bad_input_exits_with_code_2_and_a_message(
    annotated: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], change: dict, message: str
) -> None:
    image, mask = annotated
    save_png(tmp_path / "small.png", np.zeros((10, 10, 3), dtype=np.uint8))
    image = tmp_path / change["image"] if "image" in change else image
    mask = tmp_path / change["mask"] if "mask" in change else mask
    out = tmp_path / change.get("out", "sheet.png")
    argv = [str(image), str(mask), str(out), "--pairs", "1"] + (["--ids", *change["ids"]] if "ids" in change else [])
    assert preview.main(argv) == 2
    error = capsys.readouterr().err
    assert error.startswith("lucid-preview: error:") and message in error
    assert "Traceback" not in error
    assert not out.exists()


def test_a_failed_preview_leaves_an_existing_sheet_alone(annotated: tuple[Path, Path], tmp_path: Path) -> None:
    image, _ = annotated
    out = tmp_path / "sheet.png"
    out.write_bytes(b"previous sheet")
    assert preview.main([str(image), str(tmp_path / "missing.png"), str(out)]) == 2
    assert out.read_bytes() == b"previous sheet"


def test_zero_pairs_is_refused_by_the_parser() -> None:
    with pytest.raises(SystemExit) as stopped:
        preview.main(["a.jpg", "b.png", "c.png", "--pairs", "0"])
    assert stopped.value.code == 2


def test_write_small_png_fits_the_budget_by_shrinking(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, size=(200, 300, 3), dtype=np.uint8)  # incompressible
    width, height, size = demo.write_small_png(tmp_path / "small.png", noise, max_bytes=20_000)
    assert size <= 20_000 and (tmp_path / "small.png").stat().st_size == size
    assert width < 300 and height < 200 and abs(width / height - 1.5) < 0.02
    picture = read_frame(tmp_path / "small.png")
    assert picture.shape == (height, width, 3)


def test_demo_writes_the_sheet_and_the_readme_copy(tmp_path: Path) -> None:
    docs = tmp_path / "docs" / "contact_sheet.png"
    sheet = demo.run(tmp_path / "demo", docs, num_pairs=2, seed=0)
    assert sheet == tmp_path / "demo" / "contact_sheet.png"
    assert read_frame(sheet).shape[1] == 4 * 320 + 5 * 4
    assert 0 < docs.stat().st_size <= demo.DOCS_MAX_BYTES


def test_preview_pair_i_is_sample_i_of_lucid_dream(
    annotated: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The dataset lucid-dream data=image data.image=frame.png data.mask=mask.png dream=fast pairs=3 seed=5 writes...
    from distributed import Client

    from dreaming.dataset.manifest import ChunkRecord
    from dreaming.dataset.pipeline import dream_dataset, image_source
    from dreaming.dataset.writer import DatasetSpec, encode_pair, pair_files

    image, mask = annotated
    spec = DatasetSpec(dream=fast(), pairs=3, seed=5)
    with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=":0") as client:
        dream_dataset([image_source(image, mask)], spec, tmp_path / "dreams", client, progress=False)
    video = tmp_path / "dreams" / "frame"
    (record,) = [ChunkRecord.load(path) for path in (video / "chunks").glob("*.json")]
    # ...holds as sample i the pair i of lucid-preview frame.png mask.png --seed 5 --preset fast: same parameters,
    # same pixels, masks and flows (the same bytes once encoded).
    sheets: list[list[DreamPair]] = []
    monkeypatch.setattr(
        preview, "contact_sheet", lambda pairs, **kwargs: sheets.append(pairs) or np.zeros((2, 2, 3), np.uint8)
    )
    argv = [str(image), str(mask), str(tmp_path / "sheet.png"), "--pairs", "3", "--seed", "5", "--preset", "fast"]
    assert preview.main(argv) == 0
    for index, pair in enumerate(sheets[0]):
        assert json.loads(json.dumps(pair.params)) == record.pairs[index]["params"]
        files = pair_files(0, index, spec.formats.flow)
        for role, data in encode_pair(pair, spec.formats).items():
            assert (video / files[role]).read_bytes() == data, (index, role)


def _no_scene(*args: object, **kwargs: object) -> None:
    raise AssertionError("the destination must be checked before any work")


def test_an_output_folder_is_refused_before_the_work(
    annotated: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    image, mask = annotated
    monkeypatch.setattr(preview.Scene, "from_frame", _no_scene)
    (tmp_path / "sheet.png").mkdir()
    (tmp_path / "a-file").write_text("")
    for out, message in (
        ("sheet.png", "sheet.png: is a folder (expected a file name for the contact sheet)"),
        ("a-file/sheet.png", "a-file/sheet.png: {tmp}/a-file is a file (expected a folder to write into)"),
    ):
        assert preview.main([str(image), str(mask), str(tmp_path / out)]) == 2
        error = capsys.readouterr().err
        assert error.startswith("lucid-preview: error: ") and error.count("\n") == 1
        assert message.format(tmp=tmp_path) in error
    assert not list((tmp_path / "sheet.png").iterdir())


def test_a_read_only_destination_is_refused_before_the_work(
    annotated: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Root may write in a read-only folder, so the permission itself is simulated: os.access says no.
    image, mask = annotated
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != locked and real_access(path, mode))
    monkeypatch.setattr(preview.Scene, "from_frame", _no_scene)
    for out in (locked / "sheet.png", locked / "new" / "sheet.png"):
        assert preview.main([str(image), str(mask), str(out)]) == 2
        error = capsys.readouterr().err
        assert f"{out}: {locked} is not writable (expected a folder this user can write into)" in error
        assert error.count("\n") == 1
    assert not list(locked.iterdir())


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in read-only folders: the simulated case covers it")
def test_a_read_only_folder_is_refused(annotated: tuple[Path, Path], tmp_path: Path) -> None:
    image, mask = annotated
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    try:
        assert preview.main([str(image), str(mask), str(locked / "sheet.png")]) == 2
    finally:
        locked.chmod(0o755)
