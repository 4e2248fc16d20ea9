"""The dreaming pipeline on an in-process Dask cluster: determinism, resuming, manifests, verification, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from distributed import Client
from pycocotools.coco import COCO

from dreaming.dataset.manifest import CHUNKS, Manifest, verify_video
from dreaming.dataset.pipeline import davis_sources, dream_dataset, image_source, plan_chunks
from dreaming.dataset.writer import DatasetSpec, encode_pair, pair_files
from dreaming.synthesis.config import InpaintConfig, fast
from dreaming.synthesis.samples import make_clip, write_davis
from dreaming.synthesis.scene import Scene
from dreaming.synthesis.seeds import sample_rng, video_key
from foundation.errors import InputError
from foundation.io import read_annotated_frame, write_labels

SPEC = DatasetSpec(dream=replace(fast(), inpaint=InpaintConfig(method="telea")), pairs=7, seed=3)


def dataset_files(out: Path) -> dict[str, bytes]:
    """Every file of the video folders under ``out`` but the scene cache (an intermediate, zip-timestamped)."""
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.parent != out and "cache" not in p.relative_to(out).parts
    }


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=":0") as client:
        yield client


@pytest.fixture(scope="module")
def davis(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("davis")
    clip = make_clip(num_frames=3, size=(96, 64))
    for name in ("alpha", "beta"):
        write_davis(replace(clip, name=name), root)
    return root


@pytest.fixture(scope="module")
def reference(davis: Path, client: Client, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reference")
    dream_dataset(davis_sources(davis, frames=[0, 2]), SPEC, out, client, chunk_size=3, progress=False)
    return out


def test_video_key_is_stable_across_processes() -> None:
    code = "from dreaming.synthesis.seeds import video_key; print(video_key('bear'))"
    keys = {
        subprocess.run(
            [sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, text=True
        ).stdout.strip()
        for seed in ("1", "2")
    }
    assert keys == {str(video_key("bear"))}
    assert video_key("bear") != video_key("bear2")


def test_chunks_cover_every_sample_once() -> None:
    tasks = plan_chunks("v", [0, 5], pairs=7, chunk_size=3)
    assert [(t.frame, t.start, t.stop) for t in tasks] == [
        (0, 0, 3),
        (0, 3, 6),
        (0, 6, 7),
        (5, 0, 3),
        (5, 3, 6),
        (5, 6, 7),
    ]
    with pytest.raises(InputError, match="chunk_size"):
        plan_chunks("v", [0], pairs=7, chunk_size=0)


def test_layout_counts_and_manifest(reference: Path, davis: Path) -> None:
    for video in ("alpha", "beta"):
        folder = reference / video
        manifest = Manifest.load(folder)
        assert manifest.complete and manifest.chunk_size == 3
        assert manifest.counts["pairs"] == 2 * SPEC.pairs and manifest.counts["files"] == 8 * 2 * SPEC.pairs
        assert [c["name"] for c in manifest.chunks] == [
            "00000_000000",
            "00000_000003",
            "00000_000006",
            "00002_000000",
            "00002_000003",
            "00002_000006",
        ]
        assert manifest.identity["seed"] == 3 and manifest.identity["dream"]["blend"]["method"] == "alpha"
        assert manifest.versions["numpy"] == np.__version__
        for name in pair_files(2, 6, "png").values():
            assert (folder / name).is_file()
        assert not list(folder.rglob(".*.tmp*"))
        assert verify_video(folder) == []


def test_each_pair_is_dream_pair_of_its_own_seed(reference: Path, davis: Path) -> None:
    # Pair 5 of frame 2 of "beta", dreamed here alone, encodes to exactly the bytes on disk.
    image, labels = read_annotated_frame(
        davis / "JPEGImages/480p/beta/00002.jpg", davis / "Annotations/480p/beta/00002.png"
    )
    scene = Scene.from_frame(image, labels, SPEC.dream.inpaint)
    from dreaming.synthesis.dream import dream_pair

    pair = dream_pair(scene, sample_rng(SPEC.seed, "beta", 2, 5), SPEC.dream)
    files = pair_files(2, 5, "png")
    for role, data in encode_pair(pair, SPEC.formats).items():
        assert (reference / "beta" / files[role]).read_bytes() == data, role


def test_files_do_not_depend_on_workers_or_chunk_size(reference: Path, davis: Path, tmp_path: Path) -> None:
    with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=":0") as one_worker:
        dream_dataset(davis_sources(davis, frames=[0, 2]), SPEC, tmp_path, one_worker, chunk_size=5, progress=False)
    ours, theirs = dataset_files(tmp_path), dataset_files(reference)
    data = {k for k in theirs if "/chunks/" not in k and not k.endswith("manifest.json")}
    assert data and {k: ours[k] for k in data} == {k: theirs[k] for k in data}
    old, new = Manifest.load(reference / "alpha"), Manifest.load(tmp_path / "alpha")
    assert (old.identity, old.counts, old.stats) == (new.identity, new.counts, new.stats)


def test_coco_annotations_load_and_link_pairs(reference: Path) -> None:
    coco = COCO(str(reference / "alpha" / "annotations.json"))
    assert len(coco.imgs) == 2 * 2 * SPEC.pairs
    assert sorted(coco.cats) == [1, 2, 3]
    dataset = json.loads((reference / "alpha" / "annotations.json").read_text())
    pair = dataset["pairs"][4]
    a, b = coco.imgs[pair["image_a"]], coco.imgs[pair["image_b"]]
    assert a["partner_id"] == b["id"] and b["partner_id"] == a["id"]
    assert a["flow"] == pair["flow_ab"] and b["flow"] == pair["flow_ba"]
    assert (reference / "alpha" / a["file_name"]).is_file() and a["file_name"].endswith("_a.jpg")
    assert "objects" in pair["params"]


def test_rerun_with_same_settings_changes_nothing(reference: Path, davis: Path, client: Client) -> None:
    before = {p: p.stat().st_mtime_ns for p in reference.rglob("*") if p.is_file()}
    dream_dataset(davis_sources(davis, frames=[0, 2]), SPEC, reference, client, chunk_size=3, progress=False)
    assert {p: p.stat().st_mtime_ns for p in reference.rglob("*") if p.is_file()} == before


def test_resume_redoes_exactly_the_unfinished_chunks(reference: Path, davis: Path, client: Client, tmp_path) -> None:
    sources = davis_sources(davis, sequences=["alpha"], frames=[0, 2])
    dream_dataset(sources, SPEC, tmp_path, client, chunk_size=3, progress=False)
    folder = tmp_path / "alpha"
    manifest = Manifest.load(folder)
    manifest.complete = False
    manifest.write(folder)
    (folder / CHUNKS / "00000_000003.json").unlink()  # chunk without its record: redone
    (folder / "images" / "00002_000006_b.jpg").unlink()  # chunk with a file missing: redone
    (folder / "flow" / "00002_000000_ab.png").write_bytes(b"")  # truncated file: redone
    (folder / "flow" / ".00002_000001_ab.png.x.tmp.png").write_bytes(b"partial")  # a killed write: removed
    kept = (folder / "labels" / "00000_000000_a.png").stat().st_mtime_ns
    dream_dataset(sources, SPEC, tmp_path, client, chunk_size=3, progress=False)
    assert (folder / "labels" / "00000_000000_a.png").stat().st_mtime_ns == kept  # done chunk skipped
    reference_alpha = {k: v for k, v in dataset_files(reference).items() if k.startswith("alpha/")}
    assert dataset_files(tmp_path) == reference_alpha


def test_other_settings_are_refused_unless_overwrite(reference: Path, davis: Path, client: Client, tmp_path) -> None:
    sources = davis_sources(davis, sequences=["alpha"])
    dream_dataset(sources, SPEC, tmp_path, client, chunk_size=3, progress=False)
    before = dataset_files(tmp_path)
    other = replace(SPEC, seed=4, formats=replace(SPEC.formats, flow="flo"))
    with pytest.raises(InputError, match=r"other settings \(differing: formats.flow, seed\)"):
        dream_dataset(sources, other, tmp_path, client, progress=False)
    assert dataset_files(tmp_path) == before
    dream_dataset(sources, other, tmp_path, client, overwrite=True, progress=False)
    assert Manifest.load(tmp_path / "alpha").identity["seed"] == 4
    assert (tmp_path / "alpha" / "flow" / "00000_000000_ab.flo").is_file()
    assert not (tmp_path / "alpha" / "flow" / "00000_000000_ab.png").exists()
    assert verify_video(tmp_path / "alpha") == []


def test_verify_names_missing_and_corrupt_files(reference: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(reference, copy)
    corrupt = copy / "alpha" / "labels" / "00000_000001_b.png"
    data = bytearray(corrupt.read_bytes())
    data[len(data) // 2] ^= 0xFF
    corrupt.write_bytes(bytes(data))
    (copy / "alpha" / "prev" / "00002_000004_a.png").unlink()
    (copy / "alpha" / "annotations.json").write_text("{}")
    problems = {str(p.path.relative_to(copy)): p.problem for p in verify_video(copy / "alpha")}
    assert problems.keys() == {
        "alpha/labels/00000_000001_b.png",
        "alpha/prev/00002_000004_a.png",
        "alpha/annotations.json",
    }
    assert problems["alpha/prev/00002_000004_a.png"] == "missing"
    assert "checksum" in problems["alpha/labels/00000_000001_b.png"]
    assert verify_video(copy / "beta") == []
    script = Path(sys.executable).with_name("lucid-verify")
    result = subprocess.run([script, str(copy)], capture_output=True, text=True)
    assert result.returncode == 1
    assert "00000_000001_b.png: corrupt" in result.stderr and "3 bad file(s)" in result.stderr
    assert subprocess.run([script, str(reference)], capture_output=True).returncode == 0


def test_single_image_source(davis: Path, client: Client, tmp_path: Path) -> None:
    source = image_source(davis / "JPEGImages/480p/alpha/00001.jpg", davis / "Annotations/480p/alpha/00001.png")
    (manifest,) = dream_dataset([source], replace(SPEC, pairs=2), tmp_path, client, progress=False)
    assert manifest.video == "00001" and manifest.counts["pairs"] == 2
    assert (tmp_path / "00001" / "images" / "00000_000001_b.jpg").is_file()


def _no_output(out: Path) -> bool:
    return not out.exists() or not any(out.iterdir())


def test_bad_input_gives_specific_errors_and_writes_nothing(davis: Path, client: Client, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(InputError, match="sequence 'gamma' not found"):
        dream_dataset(davis_sources(davis, sequences=["alpha", "gamma"]), SPEC, out, client)
    broken = tmp_path / "broken"
    clip = make_clip(num_frames=3, size=(96, 64))
    write_davis(clip, broken)
    (broken / "Annotations/480p/lucid-sample/00001.png").unlink()
    with pytest.raises(InputError, match="00001.jpg: this frame has no annotation"):
        dream_dataset(davis_sources(broken, frames=[0, 1]), SPEC, out, client)
    with pytest.raises(InputError, match="out of range"):
        dream_dataset(davis_sources(broken, frames=[9]), SPEC, out, client)
    wrong_size = np.zeros((64, 80), np.int32)
    wrong_size[10:20, 10:20] = 1
    write_labels(broken / "Annotations/480p/lucid-sample/00000.png", wrong_size)
    with pytest.raises(InputError, match="mask is 80x64 but its frame .* is 96x64"):
        dream_dataset(davis_sources(broken), SPEC, out, client)
    assert _no_output(out)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(InputError, match="a-file/out: cannot write in this folder"):
        dream_dataset(davis_sources(davis), SPEC, blocker / "out", client)
    with pytest.raises(InputError, match="seed"):
        dream_dataset(davis_sources(davis), replace(SPEC, seed=-1), out, client)
    assert _no_output(out)


def _damage(folder: Path) -> None:
    """Delete, truncate and corrupt (same size) one data file each, delete a chunk record, ``annotations.json``, and
    truncate the scene cache."""
    (folder / "images" / "00000_000001_a.jpg").unlink()
    truncated = folder / "flow" / "00002_000004_ab.png"
    truncated.write_bytes(truncated.read_bytes()[:100])
    flipped = folder / "labels" / "00002_000006_b.png"
    data = bytearray(flipped.read_bytes())
    data[len(data) // 2] ^= 0xFF
    flipped.write_bytes(bytes(data))
    (folder / CHUNKS / "00000_000003.json").unlink()
    (folder / "annotations.json").unlink()
    cache = folder / "cache" / "scene_00000.npz"
    cache.write_bytes(cache.read_bytes()[:50])


@pytest.mark.parametrize("overwrite", [False, True])
def test_rerun_repairs_what_verify_finds(reference: Path, davis: Path, client: Client, tmp_path, overwrite) -> None:
    import shutil

    shutil.copytree(reference / "alpha", tmp_path / "alpha")
    folder = tmp_path / "alpha"
    _damage(folder)
    assert len(verify_video(folder)) == 5
    untouched = folder / "images" / "00002_000000_a.jpg"
    kept = untouched.stat().st_mtime_ns
    sources = davis_sources(davis, sequences=["alpha"], frames=[0, 2])
    # Another chunk size: the damaged chunks of the finished run are dreamed again, not the whole video.
    dream_dataset(sources, SPEC, tmp_path, client, chunk_size=5, overwrite=overwrite, progress=False)
    assert verify_video(folder) == []
    assert untouched.stat().st_mtime_ns == kept
    reference_alpha = {k: v for k, v in dataset_files(reference).items() if k.startswith("alpha/")}
    assert dataset_files(tmp_path) == reference_alpha  # manifest and chunk records included


def test_an_unreadable_manifest_is_named_with_the_way_out(reference: Path, davis: Path, client: Client, tmp_path):
    import shutil

    shutil.copytree(reference / "alpha", tmp_path / "alpha")
    manifest = tmp_path / "alpha" / "manifest.json"
    manifest.write_bytes(manifest.read_bytes()[:40])
    sources = davis_sources(davis, sequences=["alpha"], frames=[0, 2])
    with pytest.raises(
        InputError, match=r"manifest.json: corrupt JSON .* \(expected overwrite=true to dream it again\)"
    ):
        dream_dataset(sources, SPEC, tmp_path, client, chunk_size=3, progress=False)
    dream_dataset(sources, SPEC, tmp_path, client, chunk_size=3, overwrite=True, progress=False)
    assert verify_video(tmp_path / "alpha") == []


def test_a_run_stopped_before_its_first_chunk_is_replaced(davis: Path, client: Client, tmp_path) -> None:
    # A run whose workers failed before writing any pair (only the manifest's header): the corrected command runs.
    from dreaming.dataset.pipeline import plan_dataset

    sources = davis_sources(davis, sequences=["alpha"])
    plan_dataset(sources, replace(SPEC, seed=11), tmp_path, chunk_size=3)
    assert not Manifest.load(tmp_path / "alpha").complete
    dream_dataset(sources, SPEC, tmp_path, client, chunk_size=3, progress=False)
    assert Manifest.load(tmp_path / "alpha").identity["seed"] == SPEC.seed
    assert verify_video(tmp_path / "alpha") == []


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (replace(SPEC, formats=replace(SPEC.formats, flow="bmp")), "formats.flow: unknown flow format 'bmp'"),
        (replace(SPEC, formats=replace(SPEC.formats, jpeg_quality=500)), "formats.jpeg_quality: 500 .*in \\[0, 100\\]"),
        (replace(SPEC, dream=replace(SPEC.dream, inpaint=InpaintConfig(method="bogus"))), "dream.inpaint.method"),
        (
            replace(SPEC, dream=replace(SPEC.dream, illumination=replace(SPEC.dream.illumination, p=7))),
            "dream.illumination.p: 7 \\(expected a probability in \\[0, 1\\]\\)",
        ),
        (replace(SPEC, pairs=0), "pairs: 0"),
    ],
)
def test_settings_are_checked_before_any_file(davis: Path, client: Client, tmp_path, spec, message) -> None:
    out = tmp_path / "out"
    with pytest.raises(InputError, match=message):
        dream_dataset(davis_sources(davis), spec, out, client, progress=False)
    with pytest.raises(InputError, match="chunk_size: 0"):
        dream_dataset(davis_sources(davis), SPEC, out, client, chunk_size=0, progress=False)
    assert not out.exists()
