"""Marks to labels without a model: the first interaction finds the marked object, a correction changes only the
neighbourhood of its marks, marks are hard constraints, a confident prior is followed, bad input is refused."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from foundation.errors import InputError
from foundation.morphology import thin_parts
from segmenters.interactive.marks import UNMARKED, Scribble, seed_map
from segmenters.interactive.seeded import METHODS, SeededConfig, segment_from_marks, still_background, trusted_seeds

HEIGHT, WIDTH = 120, 160
CENTRE, RADIUS = (60, 70), 30  # the disk (object 1), (row, column)
SQUARE = np.s_[20:50, 115:145]  # object 2


def _scene() -> tuple[np.ndarray, np.ndarray]:
    """A bright orange disk (1) and a blue square (2) on a dark, textured background: image and true labels."""
    rng = np.random.default_rng(0)
    image = rng.integers(20, 70, (HEIGHT, WIDTH, 3)).astype(np.uint8)
    rows, cols = np.mgrid[:HEIGHT, :WIDTH]
    truth = np.zeros((HEIGHT, WIDTH), dtype=np.int32)
    truth[(rows - CENTRE[0]) ** 2 + (cols - CENTRE[1]) ** 2 <= RADIUS**2] = 1
    truth[SQUARE] = 2
    image[truth == 1] = rng.integers(0, 25, (int((truth == 1).sum()), 3)) + np.array([210, 140, 40], np.uint8)
    image[truth == 2] = rng.integers(0, 25, (int((truth == 2).sum()), 3)) + np.array([40, 60, 200], np.uint8)
    return image, truth


def _marks(*strokes: tuple[int, list[tuple[float, float]]]) -> np.ndarray:
    """Seed map of scribbles given as ``(id, [(x, y), ...])`` in pixels."""
    return seed_map((HEIGHT, WIDTH), [Scribble.from_pixels(i, np.array(p, float), HEIGHT, WIDTH) for i, p in strokes])


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def _distance_to(marks: np.ndarray) -> np.ndarray:
    rows, cols = np.mgrid[:HEIGHT, :WIDTH]
    ys, xs = np.nonzero(marks)
    return np.sqrt((rows[..., None] - ys) ** 2 + (cols[..., None] - xs) ** 2).min(axis=-1)


# A diagonal stroke inside the disk, as a user (or the robot's medial axis) would draw it.
DISK_STROKE = (1, [(55.0, 47.0), (70.0, 60.0), (85.0, 73.0)])
CONFIGS = [SeededConfig(method=m) for m in METHODS] + [SeededConfig(method=m, max_side=90) for m in METHODS]
IDS = [f"{c.method}-{c.max_side}" for c in CONFIGS]


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_first_interaction_one_scribble_finds_the_disk(cfg: SeededConfig) -> None:
    image, truth = _scene()
    out = segment_from_marks(image, _marks(DISK_STROKE), [1, 2], cfg)
    assert out.dtype == np.int32 and out.shape == truth.shape
    assert _jaccard(out == 1, truth == 1) >= 0.9
    # Object 2 has no mark and no current labels: it stays absent.
    assert set(np.unique(out)) <= {0, 1}


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_first_interaction_ignores_a_look_alike_detached_from_the_marks(cfg: SeededConfig) -> None:
    image, truth = _scene()
    image[28:35, 36:43] = image[CENTRE]  # the disk's colour, inside the region the disk may extend to
    out = segment_from_marks(image, _marks(DISK_STROKE), [1, 2], cfg)
    assert (out[28:35, 36:43] == 0).all()
    assert _jaccard(out == 1, truth == 1) >= 0.9


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_correction_recovers_the_missed_half_and_leaves_the_rest(cfg: SeededConfig) -> None:
    image, truth = _scene()
    current = truth.copy()
    current[(truth == 1) & (np.arange(WIDTH) < CENTRE[1])] = 0  # the left half of the disk was missed
    seeds = _marks((1, [(55.0, 42.0), (55.0, 78.0)]))
    out = segment_from_marks(image, seeds, [1, 2], cfg, current=current)
    assert _jaccard(out == 1, truth == 1) >= 0.9
    kept = (_distance_to(seeds != UNMARKED) > cfg.keep_distance) & ~thin_parts(current, cfg.thin)
    np.testing.assert_array_equal(out[kept], current[kept])


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_background_scribble_removes_a_false_positive_blob(cfg: SeededConfig) -> None:
    image, truth = _scene()
    current = truth.copy()
    blob = np.zeros_like(truth, dtype=bool)
    blob[85:105, 120:140] = True
    current[blob] = 1
    seeds = _marks((0, [(122.0, 95.0), (138.0, 95.0)]))
    out = segment_from_marks(image, seeds, [1, 2], cfg, current=current)
    assert (out[blob] == 0).all()
    kept = ~blob & ~thin_parts(current, cfg.thin)  # a region's corners are thin: they are solved again
    np.testing.assert_array_equal(out[kept], current[kept])


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_a_thin_streak_of_the_current_labels_is_solved_again(cfg: SeededConfig) -> None:
    image, truth = _scene()
    current = truth.copy()
    streak = np.zeros_like(truth, dtype=bool)
    streak[100:106, 10:150] = True  # 6 px: what a propagation smears over the background, far from any mark
    current[streak] = 1
    seeds = _marks(DISK_STROKE)  # a correction on the disk: nothing marks the streak
    assert (_distance_to(seeds != UNMARKED)[streak] > cfg.keep_distance).all()
    out = segment_from_marks(image, seeds, [1, 2], cfg, current=current)
    assert (out[streak] == 0).mean() >= 0.95  # the background's colours take it back
    assert _jaccard(out == 1, truth == 1) >= 0.9 and _jaccard(out == 2, truth == 2) >= 0.9
    kept = segment_from_marks(image, seeds, [1, 2], replace(cfg, thin=0), current=current)
    assert (kept[streak] == 1).all()  # without the rule the streak is a trusted belief


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
@pytest.mark.parametrize("with_current", [False, True])
def test_every_marked_pixel_takes_its_marks_id(cfg: SeededConfig, with_current: bool) -> None:
    image, truth = _scene()
    # Marks that contradict the image: object 1 across the background and object 2, background across the disk.
    seeds = _marks(
        (1, [(5.0, 110.0), (60.0, 100.0), (130.0, 40.0)]),
        (2, [(20.0, 20.0), (40.0, 30.0)]),
        (0, [(50.0, 60.0), (90.0, 60.0)]),
        (2, [(100.0, 100.0)]),
    )
    out = segment_from_marks(image, seeds, [1, 2], cfg, current=truth if with_current else None)
    marked = seeds != UNMARKED
    np.testing.assert_array_equal(out[marked], seeds[marked])
    assert set(np.unique(out)) <= {0, 1, 2}


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_confident_prior_is_followed_away_from_the_mark(cfg: SeededConfig) -> None:
    image, truth = _scene()
    prior = np.full((3, HEIGHT, WIDTH), 0.025, dtype=np.float32)
    for k in range(3):
        prior[k][truth == k] = 0.95
    seeds = _marks((1, [(60.0, 60.0), (75.0, 60.0)]))
    out = segment_from_marks(image, seeds, [1, 2], cfg, prior=prior)
    far = _distance_to(seeds != UNMARKED) > cfg.keep_distance
    np.testing.assert_array_equal(out[far], truth[far])
    assert _jaccard(out == 1, truth == 1) >= 0.9 and _jaccard(out == 2, truth == 2) >= 0.9


@pytest.mark.parametrize("method", METHODS)
def test_unconfident_prior_is_solved_by_the_method(method: str) -> None:
    image, truth = _scene()
    prior = np.stack([truth == 0, truth == 1, truth == 2]).astype(np.float32) * 0.3 + 0.2333
    out = segment_from_marks(image, _marks(DISK_STROKE), [1, 2], SeededConfig(method=method), prior=prior)
    assert set(np.unique(out)) <= {0, 1, 2}
    assert _jaccard(out == 1, truth == 1) >= 0.8


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_deterministic_int32_and_only_known_ids(cfg: SeededConfig) -> None:
    image, truth = _scene()
    seeds = _marks(DISK_STROKE, (2, [(120.0, 25.0), (140.0, 45.0)]))
    first = segment_from_marks(image, seeds, [1, 2], cfg)
    second = segment_from_marks(image, seeds.copy(), [1, 2], cfg)
    np.testing.assert_array_equal(first, second)
    assert first.dtype == np.int32
    assert set(np.unique(first)) <= {0, 1, 2}
    assert _jaccard(first == 2, truth == 2) >= 0.9


def test_no_marks_keeps_current_and_nothing_gives_background() -> None:
    image, truth = _scene()
    empty = np.full(truth.shape, UNMARKED, dtype=np.int32)
    out = segment_from_marks(image, empty, [1, 2], SeededConfig(), current=truth)
    np.testing.assert_array_equal(out, truth)
    assert out is not truth and out.dtype == np.int32
    assert not segment_from_marks(image, empty, [1, 2], SeededConfig()).any()
    only_background = _marks((0, [(10.0, 10.0), (50.0, 10.0)]))
    assert not segment_from_marks(image, only_background, [1, 2], SeededConfig()).any()


def test_trusted_seeds_drop_beliefs_near_marks_of_another_label() -> None:
    beliefs = np.zeros((5, 9), dtype=np.int32)
    beliefs[:, 5:] = 1
    seeds = np.full((5, 9), UNMARKED, dtype=np.int32)
    seeds[2, 6] = 0  # a background mark on object 1
    seeds[0, 0] = 0  # a background mark on background: contradicts nothing
    out = trusted_seeds(beliefs, seeds, keep_distance=1.0)
    expected = beliefs.copy()
    expected[1:4, 6] = UNMARKED
    expected[2, 5] = expected[2, 7] = UNMARKED
    expected[2, 6] = 0
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == np.int32


def test_motion_separates_an_object_whose_colours_the_background_shares() -> None:
    # The disk and the background are drawn from the same colours; only the disk moves (4 px right per frame).
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (HEIGHT, WIDTH, 3)).astype(np.uint8)
    _, truth = _scene()
    motion = np.zeros((HEIGHT, WIDTH, 2), np.float32)
    motion[truth == 1] = (4.0, 0.0)
    seeds = _marks(DISK_STROKE, (0, [(10.0, 110.0), (150.0, 110.0)]))
    cfg = SeededConfig(motion_weight=10.0)
    with_motion = segment_from_marks(image, seeds, [1, 2], cfg, motion=motion)
    colour_only = segment_from_marks(image, seeds, [1, 2], replace(cfg, motion_weight=0.0), motion=motion)
    assert _jaccard(with_motion == 1, truth == 1) >= 0.9
    assert _jaccard(colour_only == 1, truth == 1) < 0.7
    # Without a flow the weight changes nothing.
    np.testing.assert_array_equal(segment_from_marks(image, seeds, [1, 2], cfg), colour_only)


def test_bad_input_is_refused() -> None:
    image, truth = _scene()
    seeds = _marks(DISK_STROKE)
    cfg = SeededConfig()
    with pytest.raises(InputError, match="object id 3"):
        segment_from_marks(image, _marks((3, [(10.0, 10.0)])), [1, 2], cfg)
    with pytest.raises(InputError, match=r"\(60, 80\).*\(120, 160\)"):
        segment_from_marks(image, seeds[::2, ::2], [1, 2], cfg)
    with pytest.raises(InputError, match="uint8"):
        segment_from_marks(image.astype(np.float32), seeds, [1, 2], cfg)
    with pytest.raises(InputError, match="uint8"):
        segment_from_marks(image[..., 0], seeds, [1, 2], cfg)
    with pytest.raises(InputError, match="prior"):
        segment_from_marks(image, seeds, [1, 2], cfg, prior=np.zeros((2, HEIGHT, WIDTH), np.float32))
    with pytest.raises(InputError, match="current"):
        segment_from_marks(image, seeds, [1], cfg, current=truth)
    with pytest.raises(InputError, match=r"motion.*\(60, 80, 2\).*\(120, 160, 2\)"):
        segment_from_marks(image, seeds, [1, 2], cfg, motion=np.zeros((60, 80, 2), np.float32))
    with pytest.raises(InputError, match="non-finite flow"):
        segment_from_marks(image, seeds, [1, 2], cfg, motion=np.full((HEIGHT, WIDTH, 2), np.nan, np.float32))
    with pytest.raises(InputError, match=r"session\.seeded\.motion_weight"):
        replace(cfg, motion_weight=-1.0)
    with pytest.raises(InputError, match=r"session\.seeded\.method"):
        SeededConfig(method="watershed")
    with pytest.raises(InputError, match=r"session\.seeded\.thin"):
        replace(cfg, thin=-1)
    with pytest.raises(InputError, match=r"session\.seeded\.confident"):
        replace(cfg, confident=0.3)


def test_a_long_stroke_frees_the_beliefs_it_contradicts_over_its_reach() -> None:
    beliefs = np.ones((100, 200), np.int32)  # we believe everything is object 1
    seeds = np.full((100, 200), UNMARKED, np.int32)
    seeds[50, 20:180] = 0  # a background stroke 160 px long
    near = trusted_seeds(beliefs, seeds, keep_distance=5, reach=0.0)
    far = trusted_seeds(beliefs, seeds, keep_distance=5, reach=0.25)
    assert (near[50 - 10, 100] == 1) and (near[50 - 4, 100] == UNMARKED)
    # reach 0.25 × 160 px: every belief within 40 px of the stroke is left to the method, farther ones kept.
    assert (far[50 - 39 : 50, 100] == UNMARKED).all() and (far[50 - 45, 100] == 1)
    assert (far[50, 20:180] == 0).all()


def _pole_scene() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The disk moving (3 px per frame apart from the camera) beside a still pole of its colours that touches it, as a
    dog runs past poles: image, true labels, the pole, the frame's own motion."""
    image, truth = _scene()
    pole = np.zeros_like(truth, dtype=bool)
    pole[28:60, 36:44] = True
    pole &= truth == 0
    image[pole] = image[truth == 1][: int(pole.sum())]
    own_motion = np.where(truth == 1, 3.0, 0.05).astype(np.float32)
    return image, truth, pole, own_motion


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_first_interaction_leaves_a_still_look_alike_to_the_background_when_the_object_moves(
    cfg: SeededConfig,
) -> None:
    image, truth, pole, own_motion = _pole_scene()
    seeds = _marks(DISK_STROKE)
    far = pole & (_distance_to(seeds != UNMARKED) > cfg.keep_distance)
    plain = segment_from_marks(image, seeds, [1, 2], cfg)
    still = segment_from_marks(image, seeds, [1, 2], replace(cfg, still=0.2), own_motion=own_motion)
    assert (plain[far] == 1).mean() > 0.5  # by colour alone the pole joins the disk
    assert (still[far] == 0).all()
    assert _jaccard(still == 1, truth == 1) > _jaccard(plain == 1, truth == 1)
    assert _jaccard(still == 1, truth == 1) >= 0.85
    # When the marked object stands still too, stillness says nothing: the result is the plain one.
    unmoving = np.zeros_like(own_motion)
    np.testing.assert_array_equal(
        segment_from_marks(image, seeds, [1, 2], replace(cfg, still=0.2), own_motion=unmoving), plain
    )
    # Corrections (current labels given) do not read it.
    np.testing.assert_array_equal(
        segment_from_marks(image, seeds, [1, 2], replace(cfg, still=0.2), current=plain, own_motion=own_motion),
        segment_from_marks(image, seeds, [1, 2], cfg, current=plain),
    )


def test_still_background_is_still_and_away_from_the_marks() -> None:
    objects = np.zeros((40, 60), dtype=bool)
    objects[20, 10:30] = True
    motion = np.full((40, 60), 0.1, np.float32)
    motion[15:26, 5:35] = 2.0  # the object moves
    motion[:, 55:] = 1.0  # something else moves
    out = still_background(objects, motion, still=0.2, distance=8.0)
    rows, cols = np.mgrid[:40, :60]
    near = np.hypot(rows - 20, np.clip(cols, 10, 29) - cols) <= 8.0
    np.testing.assert_array_equal(out, (motion < 0.2) & ~near)
    assert not still_background(objects, np.full((40, 60), 0.1, np.float32), 0.2, 8.0).any()  # the object still
    assert not still_background(np.zeros_like(objects), motion, 0.2, 8.0).any()  # no object marked
