"""Settings: the library's dataclasses as Hydra schemas and back, Hydra's errors as one line, and the resolvers the
YAML in ``conf/`` uses.

Importing this module registers the resolvers (every command-line tool imports it before composing its config):

* ``lucid_profile`` (``conf/profile/auto.yaml``): a key of ``conf/profile/gpu.yaml`` when torch sees CUDA, else of
  ``conf/profile/cpu.yaml``;
* ``lucid_output`` (``conf/eval.yaml``): its second argument when set, else its first — where ``lucid-eval`` writes
  (``out``, else ``results``);
* ``lucid_writable`` (``conf/track.yaml``): the value of a setting naming an output folder, checked by
  :func:`~foundation.io.writable_folder` (and every mandatory setting by :func:`check_mandatory`) before Hydra
  creates it.
"""

from __future__ import annotations

import argparse
import contextlib
import enum
import functools
import os
import sys
import types
import typing
from collections.abc import Iterator
from dataclasses import MISSING as NO_DEFAULT
from dataclasses import Field, field, fields, is_dataclass, make_dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from hydra.errors import HydraException
from omegaconf import MISSING, DictConfig, OmegaConf
from omegaconf.errors import MissingMandatoryValue, OmegaConfBaseException

from foundation.errors import InputError, describe
from foundation.io import writable_folder

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


_SCALARS = (bool, int, float, str, Path)


def _schema_hint(hint: Any) -> Any:
    """``hint`` as OmegaConf can type a node: a dataclass → its :func:`schema`, a tuple → a list, ``X | None`` kept;
    other unions, and element types OmegaConf cannot hold, → ``Any`` (:func:`from_container` checks them later)."""
    if is_dataclass(hint):
        return schema(hint)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        rest = [arg for arg in args if arg is not type(None)]
        return typing.Optional[_schema_hint(rest[0])] if len(rest) == 1 else Any  # noqa: UP045 (a runtime type)
    if origin in (tuple, list):
        items = {arg for arg in args if arg is not Ellipsis}
        item = items.pop() if len(items) == 1 else Any
        return list[item if item in _SCALARS else Any]
    if origin is dict:
        return dict[str, _schema_hint(args[1]) if args else Any]
    if hint in _SCALARS or (isinstance(hint, type) and issubclass(hint, enum.Enum)):
        return hint
    return Any


def _schema_value(value: Any) -> Any:
    """A default of a library dataclass as its schema holds it (dataclasses → schema instances, tuples → lists)."""
    if is_dataclass(value) and not isinstance(value, type):
        return schema(type(value))(**{f.name: _schema_value(getattr(value, f.name)) for f in fields(value)})
    if isinstance(value, tuple | list):
        return [_schema_value(item) for item in value]
    if isinstance(value, dict):
        return {key: _schema_value(item) for key, item in value.items()}
    return value


def _default(spec: Field[Any]) -> Any:
    if spec.default is not NO_DEFAULT:
        return spec.default
    if spec.default_factory is not NO_DEFAULT:
        return spec.default_factory()
    return MISSING


@functools.cache
def schema(cls: type, instantiable: bool = False) -> type:
    """A Hydra structured-config class mirroring dataclass ``cls``: the same fields, types and defaults (the
    defaults live in ``cls`` only), mutable, with types OmegaConf cannot hold loosened (:func:`_schema_hint`).

    Register it in Hydra's ConfigStore to have overrides type-checked when the config is composed; build ``cls``
    back with :func:`from_container`. ``instantiable`` adds ``_target_`` (given by the YAML), for
    ``hydra.utils.instantiate``.
    """
    hints = typing.get_type_hints(cls)
    specs: list[tuple[str, Any, Any]] = [("_target_", str, field(default=MISSING))] if instantiable else []
    for spec in fields(cls):
        default = functools.partial(_schema_value, _default(spec))
        specs.append((spec.name, _schema_hint(hints[spec.name]), field(default_factory=default)))
    return make_dataclass(f"{cls.__name__}Schema", specs)


MANDATORY = {
    "data.root": "a DAVIS-layout folder, e.g. data.root=../shared/data/davis2016",
    "out": "a folder for the results, e.g. out=outputs/flow",
    "results": "a folder of <sequence>/<frame>.png label PNGs, e.g. results=outputs/flow",
}
"""What the mandatory settings (``???``) of the apps in ``conf/`` expect, for the error naming one not given."""


def check_mandatory(cfg: DictConfig) -> None:
    """Every mandatory setting (``???``) of ``cfg`` is given: else an :class:`InputError` naming the first missing
    one, with what it expects (:data:`MANDATORY`)."""
    missing = []
    for name in cfg:
        if name == "hydra":  # Hydra's own settings: its run dir may resolve this very check (lucid_writable)
            continue
        if OmegaConf.is_missing(cfg, name):
            missing.append(str(name))
        elif OmegaConf.is_config(child := cfg[name]):
            missing += OmegaConf.missing_keys(child)  # full keys, e.g. data.root
    missing.sort()
    if missing:
        key = missing[0]
        raise InputError(key, "mandatory setting not given", MANDATORY.get(key, f"{key}=<value> on the command line"))


def config_error(error: BaseException, setting: str | None = None) -> InputError:
    """A Hydra or OmegaConf error as one :class:`InputError`: the one it wraps, if any; else the setting it names
    (or ``setting``) and the first lines of its message and of its cause's."""
    chain: list[BaseException] = []
    link: BaseException | None = error
    while link is not None and link not in chain:
        chain.append(link)
        link = link.__cause__ or link.__context__
    for link in chain:
        if isinstance(link, InputError):
            return link
    paragraph = (
        str(error).strip().split("\n\n")[0].replace(", set env var HYDRA_FULL_ERROR=1 to see chained exception", "")
    )
    head = " ".join(
        line.strip() for line in paragraph.splitlines() if not line.strip().startswith(("full_key:", "object_type="))
    )
    missing = next((x for x in chain if isinstance(x, MissingMandatoryValue)), None)
    if missing is not None:  # "Missing mandatory value: <key>", possibly met while resolving another setting
        key = getattr(missing, "full_key", None) or str(missing).splitlines()[0].rpartition(": ")[2]
        return InputError(key, "mandatory setting not given", MANDATORY.get(key, f"{key}=<value> on the command line"))
    options = getattr(error, "options", None)  # an unknown config of a group: the ones there are
    if options:
        return InputError(None, head, "one of " + ", ".join(options))
    keyed = next((x for x in chain if isinstance(x, OmegaConfBaseException) and getattr(x, "full_key", None)), None)
    if keyed is None:
        cause = error.__cause__
        return InputError(setting, f"{head} ({' '.join(describe(cause).split())})" if cause else head)
    problem = str(keyed).strip().splitlines()[0]
    restates = head == problem or head.startswith("Error merging override")
    return InputError(keyed.full_key, problem if restates else f"{head}; {problem}")


@contextlib.contextmanager
def hydra_errors() -> Iterator[None]:
    """Around a ``@hydra.main`` app: Hydra's own failures before the task runs — a malformed override, a value of
    the wrong type, a missing mandatory setting, an unknown config, an unusable output folder — raise as one
    :class:`InputError` (for :func:`~foundation.errors.cli_entry`) instead of Hydra's report of several lines (or a
    traceback) and exit status 1."""
    saved = {name: os.environ.get(name) for name in ("HYDRA_FULL_ERROR", "OC_CAUSE")}
    os.environ.update(HYDRA_FULL_ERROR="1", OC_CAUSE="1")  # raise instead of printing; keep what a resolver raised
    try:
        yield
    except (HydraException, OmegaConfBaseException) as error:
        raise config_error(error) from None
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


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


def _writable(key: str, *, _root_: DictConfig) -> str:
    # Hydra creates its output folder before the app runs: nothing is created until every setting is given.
    check_mandatory(_root_)
    return str(writable_folder(_root_[key], key))


for _name, _resolver in (
    ("lucid_profile", _profile_value),
    ("lucid_output", _output_dir),
    ("lucid_writable", _writable),
):
    if not OmegaConf.has_resolver(_name):
        OmegaConf.register_new_resolver(_name, _resolver)


def parse_with_overrides(parser: argparse.ArgumentParser, argv: list[str] | None = None) -> tuple[Any, list[str]]:
    """A script's own arguments and its trailing Hydra overrides (``key=value``), in any order.

    ``parse_known_args`` alone hands an override written after a list option (``--sequences bear tracker.seed=1``)
    to that list; such items — list values containing ``=``, which no sequence or configuration name does — go back
    to the overrides, in their order on the command line (a list left empty takes its default).
    """
    args, overrides = parser.parse_known_args(argv)
    swallowed = []
    for name, value in vars(args).items():
        if isinstance(value, list) and any(isinstance(v, str) and "=" in v for v in value):
            swallowed += [v for v in value if "=" in v]
            setattr(args, name, [v for v in value if "=" not in v] or parser.get_default(name))
    given = sys.argv[1:] if argv is None else argv
    ordered = [a for a in given if a in swallowed or a in overrides]
    return args, ordered
