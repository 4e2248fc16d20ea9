"""What importing a package loads: a tracker needs no Dask cluster, and foundation needs neither side."""

from __future__ import annotations

import json
import subprocess
import sys


def loaded_after(statement: str, prefixes: tuple[str, ...]) -> list[str]:
    """The modules starting with ``prefixes`` that ``statement`` loads, in a fresh interpreter."""
    loaded = f"sorted(m for m in sys.modules if m.startswith({prefixes!r}))"
    code = f"import json, sys; {statement}; print(json.dumps({loaded}))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def test_importing_a_tracker_does_not_import_distributed() -> None:
    assert loaded_after("import segmenters.lucid.tracker", ("distributed",)) == []


def test_foundation_imports_neither_dreaming_nor_segmenters() -> None:
    modules = "errors, io, davis, settings, timing, morphology, cluster, tables"
    assert loaded_after(f"from foundation import {modules}", ("dreaming", "segmenters")) == []
