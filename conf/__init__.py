"""Hydra configuration of the Lucid command-line tools, shipped as a package so that installs find it.

Apps load it with ``config_path="pkg://conf"``; the YAML files live here and in the group folders. Importing the
package (which Hydra does to read it) registers the ``lucid_profile`` resolver of ``profile=auto``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import OmegaConf


def auto_profile() -> str:
    """``gpu`` when torch sees CUDA, else ``cpu``."""
    import torch  # only when profile=auto is resolved

    return "gpu" if torch.cuda.is_available() else "cpu"


def _profile_value(key: str) -> Any:
    # A list comes back as a ListConfig: OmegaConf.resolve cannot store a plain list in a node.
    return OmegaConf.load(Path(__file__).parent / "profile" / f"{auto_profile()}.yaml")[key]


if not OmegaConf.has_resolver("lucid_profile"):
    OmegaConf.register_new_resolver("lucid_profile", _profile_value)
