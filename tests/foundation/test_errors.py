"""The one wrapper of every command-line entry point: one line on stderr and the exit status, never a traceback."""

from __future__ import annotations

import errno
import pickle
from pathlib import Path

import pytest

from foundation.errors import EXIT_INPUT, EXIT_INTERRUPTED, InputError, cli_entry


def test_bad_input_is_one_line_naming_the_file_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    @cli_entry("lucid-x")
    def main() -> int:
        raise InputError(Path("clip/00000.png"), "file not found", "an existing image file")

    assert main() == EXIT_INPUT == 2
    error = capsys.readouterr().err
    assert error == "lucid-x: error: clip/00000.png: file not found (expected an existing image file)\n"


def test_a_failed_file_operation_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    @cli_entry("lucid-x")
    def main() -> int:
        (tmp_path / "missing" / "out.txt").write_text("x")
        return 0

    assert main() == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "Traceback" not in error
    assert error.startswith(f"lucid-x: error: {tmp_path / 'missing' / 'out.txt'}: ")
    assert "[Errno" not in error


def test_an_os_error_without_a_file_is_its_reason(capsys: pytest.CaptureFixture[str]) -> None:
    @cli_entry("lucid-x")
    def main() -> None:
        raise OSError(errno.ENOSPC, "cannot write out/x.png (No space left on device)")

    assert main() == 2
    assert capsys.readouterr().err == "lucid-x: error: cannot write out/x.png (No space left on device)\n"


def test_ctrl_c_is_one_line_and_exit_130(capsys: pytest.CaptureFixture[str]) -> None:
    @cli_entry("lucid-x")
    def main() -> int:
        raise KeyboardInterrupt

    assert main() == EXIT_INTERRUPTED == 130
    assert capsys.readouterr().err == "lucid-x: interrupted\n"


def test_the_status_is_the_return_value_and_other_errors_propagate() -> None:
    @cli_entry("lucid-x")
    def main(status: int | None) -> int | None:
        if status is None:
            raise RuntimeError("a bug: keep the traceback")
        return status

    assert main(0) == 0 and main(1) == 1
    with pytest.raises(RuntimeError, match="a bug"):
        main(None)


def test_hydra_apps_leave_by_system_exit(capsys: pytest.CaptureFixture[str]) -> None:
    @cli_entry("lucid-x", exits=True)
    def app(cfg: dict[str, str]) -> int:
        if "root" not in cfg:
            raise InputError("data.root", "not set", "a DAVIS-layout folder")
        return 0

    assert app({"root": "x"}) == 0
    with pytest.raises(SystemExit) as stopped:
        app({})
    assert stopped.value.code == 2
    assert capsys.readouterr().err == "lucid-x: error: data.root: not set (expected a DAVIS-layout folder)\n"


def test_input_error_crosses_processes_whole() -> None:
    """Pickled by Dask from a worker: rebuilt from its parts (it used to fail to unpickle)."""
    error = pickle.loads(pickle.dumps(InputError(Path("a.png"), "too small", "at least 16x16")))
    assert (str(error), error.what, error.problem, error.expected) == (
        "a.png: too small (expected at least 16x16)",
        "a.png",
        "too small",
        "at least 16x16",
    )


def test_ctrl_c_can_say_how_to_resume(capsys: pytest.CaptureFixture[str]) -> None:
    @cli_entry("lucid-x", interrupted="interrupted; rerun the same command to resume")
    def main() -> int:
        raise KeyboardInterrupt

    assert main() == EXIT_INTERRUPTED
    assert capsys.readouterr().err == "lucid-x: interrupted; rerun the same command to resume\n"
