"""Switching dreaming components off (:func:`dreaming.synthesis.config.without`): each one really disappears from the
dreams."""

from __future__ import annotations

import numpy as np
import pytest

from dreaming.synthesis.config import COMPONENTS, InpaintConfig, fast, without
from dreaming.synthesis.dream import Scene, dream_pair
from dreaming.synthesis.samples import make_clip
from foundation.errors import InputError


@pytest.fixture(scope="module")
def scene() -> Scene:
    clip = make_clip(num_frames=2, size=(160, 96), num_objects=2)
    return Scene.from_frame(clip.frames[0], clip.labels[0], InpaintConfig(method="telea"))


def _params(scene: Scene, components: tuple[str, ...], seeds: range = range(12)) -> list[dict]:
    cfg = without(fast(), components)
    return [dream_pair(scene, np.random.default_rng(seed), cfg).params for seed in seeds]


def test_every_component_is_present_by_default(scene) -> None:
    params = _params(scene, ())
    assert any(p["subset"]["manipulated"] for p in params)
    assert any(p["camera"] for p in params) and any(p["illumination"]["a"] for p in params)
    assert any(o["motion"] and o["motion"]["deform"] for p in params for o in p["objects"])


def test_without_moving_objects_everything_stays_in_place_and_only_the_camera_moves(scene) -> None:
    for p in _params(scene, ("move_objects",)):
        assert p["subset"]["manipulated"] == [] and p["subset"]["erased"] == [] and p["motion"] == "camera"
        assert all(o["mode"] == "kept" and o["motion"] is None for o in p["objects"])


def test_without_camera_illumination_or_deformation(scene) -> None:
    assert all(p["camera"] is None for p in _params(scene, ("camera",)))
    assert all(
        p["illumination"]["a"] is None and p["illumination"]["b"] is None for p in _params(scene, ("illumination",))
    )
    for p in _params(scene, ("deform",)):
        for obj in p["objects"]:
            for deform in (obj["deform"], obj["motion"] and obj["motion"]["deform"]):
                assert not deform or np.abs(deform["shifts"]).max() == 0


def test_without_previous_mask_simulation_the_guidance_is_the_true_mask(scene) -> None:
    cfg = without(fast(), ("prev_mask",))
    for seed in range(4):
        pair = dream_pair(scene, np.random.default_rng(seed), cfg)
        for frame in (pair.a, pair.b):
            assert (frame.prev_labels == np.where(frame.labels == 255, 0, frame.labels)).mean() > 0.999


def test_unknown_or_impossible_ablations_are_refused() -> None:
    with pytest.raises(InputError, match="unknown dreaming component 'colour'"):
        without(fast(), ("colour",))
    with pytest.raises(InputError, match="nothing moves"):
        without(fast(), ("move_objects", "camera"))
    assert set(COMPONENTS) == {"move_objects", "deform", "camera", "illumination", "prev_mask"}
