"""Discovering moving objects with no annotation: candidates, tracks, their ranking and the frames to dream from."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from dreaming.synthesis.samples import Clip, make_clip
from foundation.errors import InputError
from segmenters.demo import CLIP
from segmenters.evaluation.unsupervised import score_candidates
from segmenters.interactive.frames import VideoFrames
from segmenters.unsupervised import Discovery, DiscoveryConfig, Track, UnsupervisedTracker, discover
from segmenters.unsupervised.discovery import Candidate, link_candidates


def clip_video(frames: list[np.ndarray], name: str = "clip") -> VideoFrames:
    return VideoFrames(name, [f"{i:05d}" for i in range(len(frames))], lambda i: frames[i], 64)


def truth_of(clip: Clip) -> list[np.ndarray]:
    return [np.where(labels == 255, 0, labels).astype(np.int32) for labels in clip.labels]


@pytest.fixture(scope="module")
def found() -> tuple[Clip, Discovery]:
    clip = make_clip(**CLIP)
    return clip, discover(clip_video(list(clip.frames)))


def test_the_moving_object_of_the_embedded_clip_is_found(found: tuple[Clip, Discovery]) -> None:
    clip, discovery = found
    video_shape = clip.frames[0].shape[:2]
    labels = [discovery.labels(t, video_shape) for t in range(len(clip.frames))]
    scores, matching = score_candidates("clip", tuple(map(str, range(len(labels)))), truth_of(clip), labels)
    # Object 2 moves about 8 px per frame apart from the panning camera; objects 1 and 3 move 0.1-0.3 px per frame
    # against it, within the flow's noise, and are not claimed. Measured: J 0.949 for object 2 (0.84 before GrabCut
    # started from the motion mask's rim as probable background).
    matched = {pair.object_id: pair.candidate_id for pair in matching.pairs}
    assert matched[2] is not None
    assert scores.j[scores.ids.index(2)].mean() > 0.85
    # No candidate was kept that is not an object: every kept track matches one.
    assert set(discovery.ids) <= {c for c in matched.values() if c is not None}


def test_ids_are_constant_and_objects_never_overlap(found: tuple[Clip, Discovery]) -> None:
    clip, discovery = found
    for object_id in discovery.ids:
        overlapped = set()
        for t, truth in enumerate(truth_of(clip)):
            mask = discovery.labels(t, truth.shape) == object_id
            if mask.sum() > 50:
                ids, counts = np.unique(truth[mask], return_counts=True)
                overlapped.add(int(ids[np.argmax(counts)]))
        assert len(overlapped) == 1, f"object {object_id} is over ground-truth objects {overlapped}"
    # labels() paints one id per pixel: overlaps are resolved by rank, by construction of an id map.


def test_discovery_is_deterministic(found: tuple[Clip, Discovery]) -> None:
    clip, discovery = found
    again = discover(clip_video(list(clip.frames)))
    assert [t.masks for t in again.tracks] == [t.masks for t in discovery.tracks]
    assert again.anchors(3, 6) == discovery.anchors(3, 6)


def test_a_static_video_has_no_object(caplog: pytest.LogCaptureFixture) -> None:
    frame = make_clip(num_frames=2, size=(160, 96), num_objects=2).frames[0]
    video = clip_video([frame] * 8, "still")
    assert discover(video).tracks == ()
    with caplog.at_level(logging.INFO, logger="segmenters.unsupervised.tracker"):
        labels = list(UnsupervisedTracker(progress=False).discover(video))
    assert len(labels) == 8 and not any(lab.any() for lab in labels)
    assert "still: no moving object found" in caplog.text


def track_with(reliability: dict[int, float]) -> Track:
    """A track present in frames 0..N−1 whose reliability at frame t is ``reliability[t]`` (through agreement)."""
    frames = range(max(reliability) + 1)
    empty = np.packbits(np.zeros(4, bool)).tobytes()
    return Track(
        masks=dict.fromkeys(frames, empty),
        salience=dict.fromkeys(frames, 1.0),
        agreement={t: reliability.get(t, 0.0) for t in frames},
        link=dict.fromkeys(frames, 1.0),
    )


def test_reliability_and_score_are_the_product_and_sum() -> None:
    track = Track(
        masks=dict.fromkeys((3, 4, 5), b""),
        salience={3: 0.5, 4: 2.0, 5: -1.0},
        agreement={3: 1.0, 4: 0.5, 5: 1.0},
        link={3: 0.0, 4: 0.8, 5: 0.6},
    )
    assert track.score == pytest.approx(2.5)  # negative contrast counts as none
    assert track.reliability(4) == pytest.approx((0.8 + 0.6) / 2 * 0.5 * 2.0)
    assert track.reliability(3) == pytest.approx(0.8 * 1.0 * 0.5)  # its first frame: only the link to the next
    assert track.reliability(5) == 0.0


def test_anchors_are_the_most_reliable_frames_spaced_apart() -> None:
    reliability = {t: 0.1 for t in range(20)} | {4: 0.9, 5: 0.95, 6: 0.8, 15: 0.7}
    discovery = Discovery(20, (2, 2), (track_with(reliability),))
    # spacing 20 // (2 · 2) = 5: frame 5 first, then 4 and 6 are too close, 15 is next.
    assert discovery.anchors(per_object=2, limit=6) == [5, 15]
    assert discovery.anchors(per_object=2, limit=1) == [5]


def box(top: int, left: int, height: int, width: int) -> np.ndarray:
    mask = np.zeros((40, 60), bool)
    mask[top : top + height, left : left + width] = True
    return mask


def test_links_go_by_iou_then_by_how_much_of_a_track_a_candidate_covers() -> None:
    carried = {0: (box(10, 10, 10, 10), 0), 1: (box(10, 40, 10, 10), 0), 2: (box(30, 0, 5, 5), 0)}
    largest = {0: 100, 1: 100, 2: 25}
    found = [
        Candidate(box(10, 40, 10, 11), 1.0, 1.0),  # track 1 moved by a column: IoU 100/110
        Candidate(box(5, 5, 20, 20), 1.0, 1.0),  # track 0 grown 4 times: covers all of it, IoU 100/400
        Candidate(box(30, 2, 5, 10), 1.0, 1.0),  # covers 3/5 of track 2, IoU 15/60
    ]
    links = link_candidates(found, carried, largest, DiscoveryConfig(link_iou=0.3, link_cover=0.8))
    assert links == {0: (1, pytest.approx(100 / 110)), 1: (0, pytest.approx(0.25))}  # the IoU is what is kept
    # link_cover 1 still takes a candidate holding the whole track; above the IoU alone decides
    assert set(link_candidates(found, carried, largest, DiscoveryConfig(link_cover=1.0))) == {0, 1}
    assert set(link_candidates(found, carried, largest, DiscoveryConfig(link_iou=0.2, link_cover=1.0))) == {0, 1, 2}
    # grown more than link_growth times the track's largest mask: the object merged with something else
    assert set(link_candidates(found, carried, largest, DiscoveryConfig(link_growth=3.9))) == {0}
    # ... measured against the largest mask the track has had, not its last (a fragment of the object)
    assert set(link_candidates(found, carried, {0: 300, 1: 100, 2: 25}, DiscoveryConfig(link_growth=1.5))) == {0, 1}


def test_an_object_merged_for_two_frames_with_the_water_keeps_its_track() -> None:
    frames, strip = water_and_object_video()
    found = discover(clip_video(frames, "water"), DiscoveryConfig(border_sigma=0.0, relative_score=0.0))
    # In frames 3-4 the object's region runs into the water's (ten times the object's area): a candidate covering
    # the object's carried mask, which link_growth keeps from taking over the object's track.
    first = found.tracks[0]
    assert first.frames[0] == 0 and first.frames[-1] == len(frames) - 1
    assert not any((first.mask(t, found.shape) & strip).any() for t in first.frames)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("max_side", 0),
        ("link_iou", 1.5),
        ("link_cover", -0.2),
        ("link_growth", 0.5),
        ("min_area", -0.1),
        ("dis_preset", "slow"),
        ("max_objects", 0),
        ("refine_rim", -1),
        ("refine_core", -1),
    ],
)
def test_bad_settings_name_themselves(setting: str, value: object) -> None:
    with pytest.raises(InputError, match=f"tracker.discovery.{setting}"):
        DiscoveryConfig(**{setting: value})


def water_and_object_video(frames: int = 10) -> tuple[list[np.ndarray], np.ndarray]:
    """A still, textured scene with a textured object moving 3 px per frame inside it and, along the bottom border,
    a strip whose texture flows sideways 3 px per frame (water); returns the frames and the strip's mask."""
    rng = np.random.default_rng(0)
    height, width = 120, 200
    scene = rng.integers(60, 140, (height, width, 3)).astype(np.uint8)
    scene = np.repeat(np.repeat(scene[::4, ::4], 4, 0), 4, 1)[:height, :width]
    water = np.repeat(np.repeat(rng.integers(0, 255, (10, 80, 3)), 4, 0), 4, 1).astype(np.uint8)
    thing = np.repeat(np.repeat(rng.integers(150, 255, (8, 8, 3)), 4, 0), 4, 1).astype(np.uint8)
    strip = np.zeros((height, width), bool)
    strip[height - 30 :] = True
    video = []
    for t in range(frames):
        frame = scene.copy()
        frame[height - 30 :] = water[:30, 3 * t : 3 * t + width]
        frame[30:62, 40 + 3 * t : 72 + 3 * t] = thing
        video.append(frame)
    return video, strip


@pytest.mark.parametrize("border_sigma", [1.0, 0.0])
def test_a_region_spread_along_the_border_is_not_taken_for_an_object(border_sigma: float) -> None:
    frames, strip = water_and_object_video()
    found = discover(clip_video(frames, "water"), DiscoveryConfig(border_sigma=border_sigma))
    on_strip = [
        k
        for k, track in enumerate(found.tracks)
        if any((track.mask(t, found.shape) & strip).any() for t in track.frames)
    ]
    assert found.tracks and 0 not in on_strip  # the object ranks first
    if border_sigma > 0:
        assert on_strip == []  # the water along the border weighs too little (score 0.03, the object's 9.5)
    else:
        assert on_strip == [1]  # unweighted it is kept (score 5.9): the test can tell
