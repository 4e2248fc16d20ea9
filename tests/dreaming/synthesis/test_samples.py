from __future__ import annotations

import cv2
import numpy as np
import pytest

from dreaming.synthesis.samples import MAX_OBJECTS, Clip, make_clip, write_davis
from foundation.davis import list_sequences, load_sequence
from foundation.errors import InputError
from foundation.io import object_ids, read_frame, read_labels

CLIP = {"num_frames": 24, "size": (240, 136), "num_objects": 3, "seed": 0}
"""The product demo's clip, which the hard-case variants start from."""


@pytest.fixture(scope="module")
def clip() -> Clip:
    return make_clip()


@pytest.fixture(scope="module")
def plain() -> Clip:
    return make_clip(**CLIP)


def _on_border(mask: np.ndarray) -> bool:
    return bool(mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any())


def _touches(labels: np.ndarray, a: int, b: int) -> bool:
    """Whether objects ``a`` and ``b`` are 4-neighbours somewhere."""
    horizontal = (labels[:, :-1] == a) & (labels[:, 1:] == b) | (labels[:, :-1] == b) & (labels[:, 1:] == a)
    vertical = (labels[:-1] == a) & (labels[1:] == b) | (labels[:-1] == b) & (labels[1:] == a)
    return bool(horizontal.any() or vertical.any())


def test_default_clip_sizes_types_and_ids(clip: Clip) -> None:
    assert len(clip.frames) == len(clip.labels) == 24
    for frame, labels in zip(clip.frames, clip.labels, strict=True):
        assert frame.shape == (270, 480, 3) and frame.dtype == np.uint8
        assert labels.shape == (270, 480) and labels.dtype == np.int32
    assert object_ids(clip.labels[0]) == (1, 2, 3)
    assert set(np.unique(np.stack(clip.labels))) == {0, 1, 2, 3}
    assert clip.name


@pytest.mark.parametrize("num_objects", [1, MAX_OBJECTS])
def test_custom_size_length_and_object_count(num_objects: int) -> None:
    small = make_clip(num_frames=5, size=(160, 96), num_objects=num_objects, seed=7)
    assert len(small.frames) == 5
    assert small.frames[0].shape == (96, 160, 3) and small.labels[-1].shape == (96, 160)
    assert object_ids(small.labels[0]) == tuple(range(1, num_objects + 1))


def test_same_seed_same_bytes_other_seed_other_clip(clip: Clip) -> None:
    again = make_clip()
    for a, b in zip(clip.frames + clip.labels, again.frames + again.labels, strict=True):
        assert a.tobytes() == b.tobytes()
    other = make_clip(seed=1)
    assert not np.array_equal(other.frames[0], clip.frames[0])
    assert not np.array_equal(other.labels[-1], clip.labels[-1])


def test_objects_and_camera_move(clip: Clip) -> None:
    first, last = clip.labels[0], clip.labels[-1]
    shifts = []
    for object_id in object_ids(first):
        ys0, xs0 = np.nonzero(first == object_id)
        ys1, xs1 = np.nonzero(last == object_id)
        shifts.append(np.hypot(xs1.mean() - xs0.mean(), ys1.mean() - ys0.mean()))
    assert max(shifts) > 0.4 * 480  # the traveller crosses the scene
    assert sorted(shifts)[0] > 1.0  # nothing stands still
    consecutive = [np.count_nonzero(a != b) for a, b in zip(clip.labels, clip.labels[1:], strict=False)]
    assert min(consecutive) > 0  # every frame moves
    # The camera moves too: background far from every object changes between the first and last frame.
    background = (first == 0) & (last == 0)
    difference = np.abs(clip.frames[0].astype(int) - clip.frames[-1].astype(int)).mean(axis=2)
    assert np.median(difference[background]) > 3  # a still camera would give exactly 0


def test_objects_occlude_each_other(clip: Clip) -> None:
    areas = np.array([[np.count_nonzero(labels == i) for i in (1, 2, 3)] for labels in clip.labels])
    occluded = []
    for t, labels in enumerate(clip.labels):
        for index, object_id in enumerate((1, 2, 3)):
            mask = labels == object_id
            on_border = mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any()
            covered = [other for other in (1, 2, 3) if other != object_id and _touches(labels, object_id, other)]
            if covered and not on_border and areas[t, index] < 0.8 * areas[:, index].max():
                occluded.append((t, object_id))
    assert len(occluded) >= 3, "some object must lose a good part of its visible area under another one"


def test_an_object_partly_leaves_the_frame_near_the_end(clip: Clip) -> None:
    last = clip.labels[-1]
    leaving = set(np.unique(np.concatenate([last[:, 0], last[:, -1], last[0], last[-1]]))) - {0}
    assert leaving, "no object touches the frame border in the last frame"
    for object_id in leaving:
        assert np.count_nonzero(last == object_id) > 0  # partly, not entirely
        first = clip.labels[0] == object_id
        assert not (first[:, -1].any() or first[-1].any())  # it was not already cut at the start


def test_invalid_requests_raise_input_errors() -> None:
    with pytest.raises(InputError, match="num_objects"):
        make_clip(num_objects=MAX_OBJECTS + 1)
    with pytest.raises(InputError, match="num_objects"):
        make_clip(num_objects=0)
    with pytest.raises(InputError, match="num_frames"):
        make_clip(num_frames=1)
    with pytest.raises(InputError, match="size"):
        make_clip(size=(32, 300))


def test_write_davis_round_trip(tmp_path) -> None:
    clip = make_clip(num_frames=3, size=(128, 80), seed=2)
    root = write_davis(clip, tmp_path / "davis")
    assert root == tmp_path / "davis"
    assert list_sequences(root) == [clip.name]
    sequence = load_sequence(root, clip.name)
    assert [p.name for p in sequence.frames] == ["00000.jpg", "00001.jpg", "00002.jpg"]
    assert sorted(sequence.annotations) == ["00000", "00001", "00002"]
    for index, (frame, labels) in enumerate(zip(clip.frames, clip.labels, strict=True)):
        np.testing.assert_array_equal(read_labels(sequence.annotation(index)), labels)
        decoded = read_frame(sequence.frames[index]).astype(int)
        assert np.abs(decoded - frame.astype(int)).mean() < 4  # JPEG quality 95
    assert not list(root.rglob("*.tmp*"))


def test_variants_are_off_by_default(plain: Clip) -> None:
    off = make_clip(**CLIP, distractor=False, occlusion=None)
    for a, b in zip(plain.frames + plain.labels, off.frames + off.labels, strict=True):
        assert a.tobytes() == b.tobytes()


def test_distractor_is_an_unlabelled_look_alike_that_enters_near_object_1(plain: Clip) -> None:
    clip = make_clip(**CLIP, distractor=True)
    for labels, base in zip(clip.labels, plain.labels, strict=True):
        np.testing.assert_array_equal(labels, base)  # background: label 0, and objects keep every pixel
    drawn = [np.any(a != b, axis=2) for a, b in zip(clip.frames, plain.frames, strict=True)]
    assert not drawn[0].any(), "the annotated first frame must not show the distractor"
    first = min(k for k, mask in enumerate(drawn) if mask.any())
    assert first < len(drawn) / 2  # enters in the first half
    assert all(mask.any() for mask in drawn[first:])  # and stays
    assert _on_border(drawn[first])  # comes in across an edge
    for k in range(16, 24):  # the last third: wholly inside the frame, behind the objects
        assert not _on_border(drawn[k])
        assert np.count_nonzero(plain.labels[k][drawn[k]] == 0) > 0.95 * np.count_nonzero(drawn[k])
    # About the cat's size and colour, not the same colour.
    cat = plain.labels[0] == 1
    assert 0.6 < np.count_nonzero(drawn[-1]) / np.count_nonzero(cat) < 1.4
    assert np.abs(clip.frames[-1][drawn[-1]].mean(axis=0) - plain.frames[0][cat].mean(axis=0)).max() < 30
    hue = np.median(cv2.cvtColor(clip.frames[-1], cv2.COLOR_RGB2HSV)[drawn[-1]][:, 0].astype(int))
    cat_hue = np.median(cv2.cvtColor(plain.frames[0], cv2.COLOR_RGB2HSV)[cat][:, 0].astype(int))
    assert 3 <= abs(hue - cat_hue) <= 15  # OpenCV hue units of 2°
    # Near the cat at its closest (within the cat's size), not on it.
    gaps = []
    for mask, labels in zip(drawn[first:], plain.labels[first:], strict=True):
        away_from_cat = cv2.distanceTransform((labels != 1).astype(np.uint8), cv2.DIST_L2, 5)
        gaps.append(away_from_cat[mask].min())
    cat_size = max(np.ptp(np.nonzero(cat)[0]), np.ptp(np.nonzero(cat)[1])) + 1
    assert 0 < min(gaps) <= cat_size


def test_occlusion_hides_object_1_then_gives_it_back(plain: Clip) -> None:
    clip = make_clip(**CLIP, occlusion=(8, 14))
    for k, (labels, base) in enumerate(zip(clip.labels, plain.labels, strict=True)):
        changed = labels != base
        assert np.all(labels[changed] == 0), "the occluder only turns pixels into background"
        visible, unoccluded = np.count_nonzero(labels == 1), np.count_nonzero(base == 1)
        if 8 <= k < 14:
            assert visible == 0, f"object 1 shows in frame {k}"
            # Hidden under the occluder, not just unlabelled: the frame changed wherever the cat was.
            assert np.all(np.any(clip.frames[k] != plain.frames[k], axis=2)[base == 1])
        elif k >= 16:
            assert visible >= 0.5 * unoccluded, f"object 1 is not back in frame {k}"
    for k in (7, 14):  # it slides in and out, covering part of the cat just before and after
        assert 0 < np.count_nonzero(clip.labels[k] == 1) < np.count_nonzero(plain.labels[k] == 1)
    for k in range(6):
        assert clip.frames[k].tobytes() == plain.frames[k].tobytes()
    assert any(np.any(clip.labels[k] == i) for k in range(8, 14) for i in (2, 3))  # other objects stay labelled


@pytest.mark.parametrize("occlusion", [(1, 3), (20, 24)])
def test_occlusion_at_the_ends_of_the_clip(plain: Clip, occlusion: tuple[int, int]) -> None:
    clip = make_clip(**CLIP, occlusion=occlusion)
    assert clip.frames[0].tobytes() == plain.frames[0].tobytes()  # the annotated frame is never covered
    assert all(not np.any(clip.labels[k] == 1) for k in range(*occlusion))


def test_variants_combine(plain: Clip) -> None:
    both = make_clip(**CLIP, distractor=True, occlusion=(8, 14))
    occluded = make_clip(**CLIP, occlusion=(8, 14))
    for a, b in zip(both.labels, occluded.labels, strict=True):
        np.testing.assert_array_equal(a, b)
    assert both.frames[0].tobytes() == plain.frames[0].tobytes()


@pytest.mark.parametrize(
    ("occlusion", "problem"),
    [
        ((0, 5), "start 0 would hide object 1 in frame 0"),
        ((-2, 5), "start -2 would hide object 1 in frame 0"),
        ((5, 5), "stop 5 is not after start 5"),
        ((9, 4), "stop 4 is not after start 9"),
        ((20, 25), "stop 25 is past the end of a 24-frame clip"),
        ((30, 40), "stop 40 is past the end"),
        ((3,), "is not a pair of frame indices"),
        ((2.0, 5), "is not a pair of frame indices"),
    ],
)
def test_invalid_occlusion_raises_input_errors(occlusion: tuple[int, int], problem: str) -> None:
    with pytest.raises(InputError) as raised:
        make_clip(**CLIP, occlusion=occlusion)
    assert raised.value.what == "occlusion"
    assert problem in raised.value.problem
    assert "1 <= start < stop <= 24" in str(raised.value)
