"""The one exception type for bad input, and the one wrapper of every command-line entry point.

:class:`InputError` names the file or setting, what is wrong, and what was expected. :func:`cli_entry` turns it (and
a failed file operation, :class:`OSError`) into one line on stderr and exit status :data:`EXIT_INPUT`, and Ctrl-C into
one line and :data:`EXIT_INTERRUPTED`, instead of a traceback.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from os import PathLike
from typing import ParamSpec

P = ParamSpec("P")


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

    def __reduce__(self) -> tuple[type[InputError], tuple[str | None, str, str | None]]:
        # Rebuilt from its parts (not from the message) where it crosses processes, e.g. from a Dask worker.
        return type(self), (self.what, self.problem, self.expected)


EXIT_FAILED = 1
"""Exit status of a command whose work failed, e.g. a verification that found bad files."""
EXIT_INPUT = 2
"""Exit status of a command stopped by bad input or a failed file operation."""
EXIT_INTERRUPTED = 130
"""Exit status of a command stopped by Ctrl-C (128 + SIGINT, as shells report it)."""


def describe(error: BaseException) -> str:
    """One line about ``error``: an :class:`OSError` names its file(s) and the reason without the errno prefix."""
    if isinstance(error, OSError) and error.filename is not None:
        files = f"{error.filename} → {error.filename2}" if error.filename2 is not None else f"{error.filename}"
        return f"{files}: {error.strerror or error}"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error)


def cli_entry(
    prog: str, *, exits: bool = False, interrupted: str = "interrupted"
) -> Callable[[Callable[P, int | None]], Callable[P, int]]:
    """Wrap the body of a command-line entry point: its return value (``None``: 0) is the exit status.

    An :class:`InputError` or :class:`OSError` becomes ``<prog>: error: <what>`` on stderr and :data:`EXIT_INPUT`;
    Ctrl-C becomes ``<prog>: <interrupted>`` and :data:`EXIT_INTERRUPTED`; never a traceback.

    Args:
        prog: the command's name, starting the line.
        exits: leave by ``SystemExit`` when the status is not 0 instead of returning it (for Hydra apps: Hydra drops
            the return value of its task function).
        interrupted: the line after ``<prog>: `` on Ctrl-C, e.g. how to resume.
    """

    def wrap(body: Callable[P, int | None]) -> Callable[P, int]:
        @functools.wraps(body)
        def entry(*args: P.args, **kwargs: P.kwargs) -> int:
            try:
                status = body(*args, **kwargs) or 0
            except (InputError, OSError) as error:
                print(f"{prog}: error: {describe(error)}", file=sys.stderr)
                status = EXIT_INPUT
            except KeyboardInterrupt:
                print(f"{prog}: {interrupted}", file=sys.stderr)
                status = EXIT_INTERRUPTED
            if exits and status:
                raise SystemExit(status)
            return status

        return entry

    return wrap
