"""``lucid-studio``: a local web page to segment a video interactively.

lucid-studio PATH [--open] [key=value ...]

PATH is a DAVIS-layout root (``sequence=`` names one of several), a folder of frames or a video file. The server
listens on 127.0.0.1:8765 (``host=``, ``port=``) and prints the page's address; ``--open`` opens it in the default
browser. The project folder (``project=``, default ``studio/<video name>``) keeps the session: opening it again
continues where it stopped. Every other setting is a Hydra override (``session.*``, ``tracker.*``, ``profile=``).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import sys
import threading
import webbrowser
from pathlib import Path

import hydra
import uvicorn
from hydra.utils import to_absolute_path
from omegaconf import DictConfig, OmegaConf

from foundation.errors import InputError, cli_entry
from foundation.settings import check_mandatory, hydra_errors
from segmenters.cli_interactive import session_config
from segmenters.hydra_conf import register_configs
from segmenters.studio.app import create_app
from segmenters.studio.project import StudioProject

log = logging.getLogger(__name__)

register_configs()

USAGE = """usage: lucid-studio PATH [--open] [key=value ...]

Segment a video interactively in a local web page.

  PATH        a DAVIS-layout root (sequence=NAME picks one), a folder of frames or a video file
  --open      open the page in the default browser
  key=value   any setting, e.g. port=8000 project=outputs/studio/bear session.learning.enabled=false
              (lucid-studio PATH --cfg job prints them all)

Keys on the page: ←/→ previous/next frame, space play/pause, Ctrl+Z undo.
"""


def hydra_arguments(argv: list[str]) -> list[str]:
    """``PATH`` and ``--open`` as Hydra overrides (``path=…``, ``open=true``); everything else as given."""
    out: list[str] = []
    for arg in argv:
        if arg == "--open":
            out.append("open=true")
        elif not arg.startswith("-") and "=" not in arg and not any(a.startswith("path=") for a in out):
            out.append(f"path={Path(arg).resolve()}")
        else:
            out.append(arg)
    return out


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_port(host: str, port: int) -> None:
    """Raise :class:`InputError` when ``host:port`` cannot be listened on (before the project is opened)."""
    if not 0 <= port < 65536:
        raise InputError("port", f"{port}", "0..65535 (0: any free port)")
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe.bind((host, port))
    except OSError as error:
        raise InputError(f"{host}:{port}", error.strerror or str(error), "a free port (port=0: any)") from None


def open_project(cfg: DictConfig) -> StudioProject:
    """The project ``cfg`` names (its video opened, its saved session reopened)."""
    check_mandatory(cfg)
    settings = session_config(
        OmegaConf.to_container(cfg.session, resolve=True), OmegaConf.to_container(cfg.tracker, resolve=True)
    )
    path = to_absolute_path(cfg.path)
    if cfg.project is not None:
        folder = Path(to_absolute_path(cfg.project))
    else:
        name = Path(path).stem if Path(path).is_file() else cfg.sequence or Path(path).name
        folder = Path.cwd() / "studio" / name
    return StudioProject.open(path, folder, settings, cfg.sequence, cfg.resolution, cfg.display_cache_mb)


def serve(cfg: DictConfig) -> None:
    """Open the project and serve the page until Ctrl-C; the session is saved on the way out."""
    check_port(cfg.host, cfg.port)
    project = open_project(cfg)
    if not is_loopback(cfg.host):
        log.warning(
            "listening on %s: other machines can reach the page and the video (the studio has no login)", cfg.host
        )
    app = create_app(project, cfg.max_request_mb)
    server = uvicorn.Server(uvicorn.Config(app, host=cfg.host, port=cfg.port, log_level="warning"))

    def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            threading.Event().wait(0.05)
        port = server.servers[0].sockets[0].getsockname()[1] if server.servers else cfg.port
        host = f"[{cfg.host}]" if ":" in cfg.host else cfg.host
        url = f"http://{host}:{port}/"
        print(f"lucid-studio: {project.frames.name} ({len(project.frames)} frames) at {url}", flush=True)
        print(f"lucid-studio: project folder {project.folder}; Ctrl-C stops", flush=True)
        if cfg.open:
            webbrowser.open(url)

    threading.Thread(target=announce, daemon=True).start()
    try:
        server.run()
    finally:
        project.flush()


@hydra.main(version_base="1.3", config_path="pkg://conf", config_name="studio")
@cli_entry("lucid-studio", exits=True, interrupted="stopped; the session is saved")
def _studio_app(cfg: DictConfig) -> None:
    serve(cfg)


@cli_entry("lucid-studio")
def main() -> int:
    """Entry point of ``lucid-studio``."""
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(USAGE, end="")
        return 0 if len(sys.argv) >= 2 else 2
    sys.argv = [sys.argv[0], *hydra_arguments(sys.argv[1:])]
    with hydra_errors():
        _studio_app()
    return 0


if __name__ == "__main__":
    sys.exit(main())
