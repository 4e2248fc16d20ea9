"""The one exception type for bad input: it names the file, what is wrong, and what was expected."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from os import PathLike
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


class InputError(ValueError):
    """Bad user input (a file, a folder, a setting).

    The message always says which file or setting, what is wrong with it, and what was expected.
    """

    def __init__(self, what: str | PathLike[str] | None, problem: str, expected: str | None = None) -> None:
        self.what = None if what is None else str(what)
        self.problem = problem
        self.expected = expected
        text = problem if what is None else f"{what}: {problem}"
        if expected:
            text += f" (expected {expected})"
        super().__init__(text)


EXIT_INPUT = 2
"""Exit status of a command-line tool stopped by bad input."""


def exits_on_input_error(run: Callable[[T], R]) -> Callable[[T], R]:
    """Wrap a command's body: an :class:`InputError` becomes one logged line and exit status :data:`EXIT_INPUT`
    instead of a traceback."""

    @functools.wraps(run)
    def wrapper(arg: T) -> R:
        try:
            return run(arg)
        except InputError as error:
            logging.getLogger(run.__module__).error("%s", error)
            raise SystemExit(EXIT_INPUT) from None

    return wrapper
