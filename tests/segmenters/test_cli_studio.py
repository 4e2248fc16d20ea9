"""``lucid-studio``'s command line: PATH and --open become Hydra overrides, --help, one-line errors, and the warning
when it listens beyond this machine."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from segmenters import cli_studio
from segmenters.cli_studio import hydra_arguments, is_loopback


def test_path_and_open_become_overrides(tmp_path: Path) -> None:
    assert hydra_arguments([str(tmp_path), "--open", "port=0"]) == [f"path={tmp_path.resolve()}", "open=true", "port=0"]
    assert hydra_arguments(["path=x", "y"]) == ["path=x", "y"]  # one path only: Hydra then names the stray word


def test_help_and_usage(run_cli: Any) -> None:
    shown = run_cli(cli_studio.main, "--help")
    assert shown.status == 0 and "usage: lucid-studio PATH" in shown.out and "Ctrl+Z" in shown.out
    assert run_cli(cli_studio.main).status == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["/no/such/video"], "/no/such/video: not found"),
        (["{clip}", "port=70000"], "port: 70000"),
        (["{clip}", "session.threshold=2"], "session.threshold"),
        (["{clip}", "no_such_key=1"], "no_such_key"),
        (["{clip}", "host=no.such.host.invalid"], "no.such.host.invalid:8765"),
    ],
)
def test_errors_are_one_line(run_cli: Any, clip_folder: Path, tmp_path: Path, argv: list[str], message: str) -> None:
    args = [a.format(clip=clip_folder) for a in argv]
    run = run_cli(cli_studio.main, *args, f"project={tmp_path / 'p'}")
    assert run.status == 2, run
    assert run.err.startswith("lucid-studio: error:") and message in run.err and "Traceback" not in run.err, run.err
    assert len(run.err.strip().splitlines()) == 1, run.err


def test_loopback_addresses() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4") and not is_loopback("example.org")


def test_a_port_in_use_is_one_line(run_cli: Any, clip_folder: Path, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = run_cli(cli_studio.main, clip_folder, f"port={port}", f"project={tmp_path / 'p'}")
    assert run.status == 2 and run.err.startswith(f"lucid-studio: error: 127.0.0.1:{port}: "), run.err
    assert "a free port" in run.err and not (tmp_path / "p").exists()
