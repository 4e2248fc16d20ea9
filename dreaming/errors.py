"""The one exception type for bad input: it names the file, what is wrong, and what was expected."""

from __future__ import annotations

from os import PathLike


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
