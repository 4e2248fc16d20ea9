"""Checks of settings and output paths, run before any work: each raises :class:`~foundation.errors.InputError` naming
the setting (its dotted name, e.g. ``dream.illumination.p``) or the path, the value given and what is expected."""

from __future__ import annotations

import math
import os
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from foundation.errors import InputError
from foundation.io import writable_folder


def number(value: Any, where: str, *, integer: bool = False) -> float:
    """``value`` as a finite real number (an ``int`` when ``integer``); booleans and strings are refused."""
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not math.isfinite(value):
        raise InputError(where, f"{value!r}", "an integer" if integer else "a number")
    return value


def at_least(value: Any, low: float, where: str, *, integer: bool = False) -> None:
    """``value`` is a number ``>= low``."""
    if number(value, where, integer=integer) < low:
        raise InputError(where, f"{value!r}", f"{'an integer' if integer else 'a number'} ≥ {low}")


def within(value: Any, low: float, high: float, where: str, *, integer: bool = False, what: str = "") -> None:
    """``value`` is a number in ``[low, high]``."""
    if not low <= number(value, where, integer=integer) <= high:
        raise InputError(where, f"{value!r}", f"{what or ('an integer' if integer else 'a number')} in [{low}, {high}]")


def probability(value: Any, where: str) -> None:
    """``value`` is a probability, in ``[0, 1]``."""
    within(value, 0, 1, where, what="a probability")


def interval(value: Any, where: str, *, positive: bool = False) -> None:
    """``value`` is a range ``(low, high)`` of numbers with ``low <= high`` (and ``low > 0`` when ``positive``)."""
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2:
        raise InputError(where, f"{value!r}", "a range [low, high]")
    low, high = (number(v, where) for v in value)
    if low > high or (positive and low <= 0):
        raise InputError(where, f"{list(value)}", f"a range [low, high] with {'0 < ' if positive else ''}low ≤ high")


def choice(value: Any, options: Collection[str], where: str, what: str = "value") -> None:
    """``value`` is one of ``options``."""
    if value not in options:
        raise InputError(where, f"unknown {what} {value!r}", f"one of {tuple(options)}")


def choices(values: Any, options: Collection[str], where: str, what: str = "value") -> None:
    """``values`` is a non-empty list of ``options``."""
    if isinstance(values, str) or not isinstance(values, Sequence) or not values:
        raise InputError(where, f"{values!r}", f"a non-empty list of {tuple(options)}")
    for value in values:
        choice(value, options, where, what)


def output_file(path: str | os.PathLike[str], what: str = "the output") -> Path:
    """Check, before any work, that ``path`` can be written as a file: not a folder, in a folder this process may
    write in or create (:func:`~foundation.io.writable_folder`)."""
    path = Path(path)
    if path.is_dir():
        raise InputError(path, "is a folder", f"a file name for {what}")
    writable_folder(path.parent, str(path))
    return path
