"""Settings: Hydra/OmegaConf values to the library's dataclasses, and the resolvers the YAML in ``conf/`` uses.

Importing this module registers the resolvers (every command-line tool imports it before composing its config):

* ``lucid_profile`` (``conf/profile/auto.yaml``): a key of ``conf/profile/gpu.yaml`` when torch sees CUDA, else of
  ``conf/profile/cpu.yaml``;
* ``lucid_output`` (``conf/dream.yaml``): the folder ``lucid-dream`` works in, ``verify`` when set, else ``out``.
"""

from __future__ import annotations

import typing
from dataclasses import fields, is_dataclass
from importlib import resources
from typing import Any, TypeVar

from omegaconf import OmegaConf

from foundation.errors import InputError

T = TypeVar("T")


def _convert(hint: Any, value: Any, where: str) -> Any:
    if is_dataclass(hint):
        return from_container(hint, value, where)
    if typing.get_origin(hint) is tuple:
        args = typing.get_args(hint)
        if not (len(args) == 2 and args[1] is Ellipsis) and len(value) != len(args):
            raise InputError(where, f"{len(value)} values {list(value)}", f"{len(args)} values")
        return tuple(value)
    return value


def from_container(cls: type[T], values: dict[str, Any], where: str = "") -> T:
    """Build dataclass ``cls`` from plain nested dicts/lists (``OmegaConf.to_container``), lists → typed tuples."""
    hints = typing.get_type_hints(cls)
    prefix = f"{where}." if where else ""
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise InputError(f"{prefix}{unknown[0]}", "unknown setting", f"one of {sorted(known)}")
    return cls(**{k: _convert(hints[k], v, f"{prefix}{k}") for k, v in values.items()})


def auto_profile() -> str:
    """``gpu`` when torch sees CUDA, else ``cpu``."""
    import torch  # only when profile=auto is resolved

    return "gpu" if torch.cuda.is_available() else "cpu"


def _profile_value(key: str) -> Any:
    # A list comes back as a ListConfig: OmegaConf.resolve cannot store a plain list in a node.
    with resources.as_file(resources.files("conf") / "profile" / f"{auto_profile()}.yaml") as path:
        return OmegaConf.load(path)[key]


def _output_dir(out: str, verify: str | None) -> str:
    return verify or out


for _name, _resolver in (("lucid_profile", _profile_value), ("lucid_output", _output_dir)):
    if not OmegaConf.has_resolver(_name):
        OmegaConf.register_new_resolver(_name, _resolver)
