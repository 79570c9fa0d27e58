"""Every module of the app, the benchmarks and the scripts imports: a moved or renamed name breaks this test,
not a benchmark on the day someone runs it. Importing runs nothing (each script works under __main__ only)."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
from pathlib import Path

import pytest

import ditto_desk

REPO = Path(__file__).resolve().parent.parent
APP_MODULES = sorted(m.name for m in pkgutil.walk_packages(ditto_desk.__path__, "ditto_desk."))
SCRIPTS = sorted([*(REPO / "benchmarks").glob("*.py"), *(REPO / "scripts").glob("*.py")])


@pytest.mark.parametrize("name", APP_MODULES)
def test_every_module_of_the_app_imports(name: str) -> None:
    importlib.import_module(name)


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_benchmark_and_script_imports(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(path.parent))  # as running the file does: its folder first on the path
    spec = importlib.util.spec_from_file_location(f"_imported_{path.parent.name}_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
