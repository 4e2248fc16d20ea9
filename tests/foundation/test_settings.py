"""Dataclasses as Hydra schemas and back, mandatory settings, and Hydra's errors as one line."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

import pytest
from omegaconf import OmegaConf
from omegaconf.errors import ValidationError

from foundation.errors import InputError
from foundation.settings import check_mandatory, from_container, hydra_errors, parse_with_overrides, schema


@dataclass(frozen=True)
class Inner:
    scale: tuple[float, float] = (0.8, 1.25)
    grid: dict[str, tuple[Any, ...]] = field(default_factory=lambda: {"threshold": (0.3, 0.5)})


@dataclass(frozen=True)
class Outer:
    steps: int = 10
    name: str | None = None
    widths: tuple[int, ...] = (8, 16)
    inner: Inner = field(default_factory=lambda: Inner(scale=(1.0, 2.0)))


def test_schema_mirrors_a_frozen_dataclass_with_its_defaults_and_types() -> None:
    node = OmegaConf.structured(schema(Outer, instantiable=True))
    assert OmegaConf.to_container(node) == {
        "_target_": "???",
        "steps": 10,
        "name": None,
        "widths": [8, 16],
        "inner": {"scale": [1.0, 2.0], "grid": {"threshold": [0.3, 0.5]}},  # the default instance's values
    }
    node.steps = "12"  # converted, as a command-line override is
    with pytest.raises(ValidationError, match="could not be converted to Integer"):
        node.steps = "abc"
    with pytest.raises(ValidationError):
        node.widths = ["wide"]
    values = OmegaConf.to_container(node)
    del values["_target_"]
    back = from_container(Outer, values)
    assert (back.steps, back.widths, back.inner.scale) == (12, (8, 16), (1.0, 2.0))


def test_check_mandatory_names_the_first_missing_setting() -> None:
    cfg = OmegaConf.create({"out": "???", "data": {"root": "???"}, "hydra": {"run": {"dir": "???"}}})
    with pytest.raises(InputError, match=r"^data\.root: mandatory setting not given \(expected a DAVIS-layout folder"):
        check_mandatory(cfg)
    cfg.data.root = "davis"
    with pytest.raises(InputError, match=r"^out: mandatory setting not given"):
        check_mandatory(cfg)
    cfg.out = "x"
    check_mandatory(cfg)  # Hydra's own settings are not the user's


def test_hydra_errors_become_one_input_error() -> None:
    node = OmegaConf.structured(schema(Outer))
    message = r"^steps: Value 'abc' of type 'str' could not be converted to Integer$"
    with pytest.raises(InputError, match=message), hydra_errors():
        node.steps = "abc"
    with pytest.raises(InputError, match=r"^out: no$"), hydra_errors():
        raise InputError("out", "no")


def _benchmark_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sequences", nargs="*", default=None)
    parser.add_argument("--overlays", nargs="*", default=[])
    parser.add_argument("--workers", type=int, default=2)
    return parser


def test_overrides_after_a_list_option_go_back_to_the_overrides_in_order() -> None:
    argv = ["a.b=1", "--sequences", "bear", "x.y=2", "boat", "--workers", "3", "--overlays", "z=3"]
    args, overrides = parse_with_overrides(_benchmark_parser(), argv)
    assert args.sequences == ["bear", "boat"] and args.workers == 3
    assert args.overlays == [], "a list left empty takes its default"
    assert overrides == ["a.b=1", "x.y=2", "z=3"]
    args, overrides = parse_with_overrides(_benchmark_parser(), ["--sequences", "s=1"])
    assert args.sequences is None and overrides == ["s=1"]
    args, overrides = parse_with_overrides(_benchmark_parser(), ["--sequences", "bear"])
    assert args.sequences == ["bear"] and overrides == []
