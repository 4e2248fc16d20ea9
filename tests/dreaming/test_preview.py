"""The ``lucid-preview`` command and ``python -m dreaming.demo``, run end to end on the embedded sample clip."""

from __future__ import annotations

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
    two = preview.dream_pairs(scene, cfg, 2, seed=9)
    three = preview.dream_pairs(scene, cfg, 3, seed=9)
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
