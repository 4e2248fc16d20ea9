"""The dream's configuration: switching components off (:func:`dreaming.synthesis.config.without`) really removes them
from the dreams; every setting is checked (:func:`~dreaming.synthesis.config.check_config`), once per dream."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from dreaming.synthesis import dream
from dreaming.synthesis.config import COMPONENTS, InpaintConfig, check_config, fast, paper, without
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


def test_presets_and_ablations_pass_the_checks() -> None:
    for cfg in (paper(), fast(), *(without(fast(), (c,)) for c in COMPONENTS if c != "move_objects")):
        check_config(cfg)
    check_config(without(fast(), ("move_objects",)))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"illumination": {"p": 7.0}}, r"dream.illumination.p: 7.0 \(expected a probability in \[0, 1\]\)"),
        ({"subset": {"erase_p": -0.1}}, r"dream.subset.erase_p: -0.1 \(expected a probability"),
        ({"view": {"flip_p": "often"}}, r"dream.view.flip_p: 'often' \(expected a number\)"),
        ({"placement": {"scale": (1.2, 0.8)}}, r"dream.placement.scale: \[1.2, 0.8\] \(expected a range"),
        (
            {"camera": {"scale": (0.0, 1.0)}},
            r"dream.camera.scale: \[0.0, 1.0\] \(expected a range \[low, high\] with 0 <",
        ),
        ({"illumination": {"b": (-1.0, 1.0)}}, "dream.illumination.b"),
        ({"deform": {"points": 2.5}}, r"dream.deform.points: 2.5 \(expected an integer\)"),
        ({"prev_mask": {"dilation_radius": -1}}, "dream.prev_mask.dilation_radius: -1"),
        ({"inpaint": {"method": "bogus"}}, "dream.inpaint.method: unknown inpainting method 'bogus'"),
        ({"blend": {"method": "blur"}}, "dream.blend.method: unknown blending method 'blur'"),
        ({"object_motion": {"kinds": ()}}, r"dream.object_motion.kinds: \(\) \(expected a non-empty list"),
        ({"motion_types": ("camera", "zoom")}, "dream.motion_types: unknown motion type 'zoom'"),
        ({"interpolation": "area"}, "dream.interpolation: unknown interpolation 'area'"),
    ],
)
def test_bad_settings_are_named(change: dict, message: str) -> None:
    cfg = fast()
    for key, value in change.items():
        cfg = replace(cfg, **{key: replace(getattr(cfg, key), **value) if isinstance(value, dict) else value})
    with pytest.raises(InputError, match=message):
        check_config(cfg)


def test_the_config_is_checked_once_per_dream(scene, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = dream.check_config
    monkeypatch.setattr(dream, "check_config", lambda cfg: calls.append(cfg) or real(cfg))
    pair = dream.dream_pair(scene, np.random.default_rng(0), fast())
    dream.dream_single(scene, np.random.default_rng(0), fast())
    assert len(calls) == 2
    dream.render_pair(scene, pair.params, fast())
    assert len(calls) == 3


def test_sampling_does_not_import_rendering() -> None:
    code = "import sys, dreaming.synthesis.sampling; print('dreaming.synthesis.render' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
