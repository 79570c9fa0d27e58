"""UI test fixtures: offscreen Qt, each test in its own DITTO_DESK_HOME (tests/conftest.py's autouse
``_isolated_home``), the window on the tiny random model from tests/conftest.py (``tiny_model_dir``)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any Qt import

from collections.abc import Callable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SAMPLES = sorted(p for p in (REPO / "resources" / "samples").iterdir() if p.name != "README.md")


@pytest.fixture
def samples() -> list[Path]:
    """The four sample demonstrations (.eml, .eml, .txt, .md)."""
    return list(SAMPLES)


@pytest.fixture
def tiny_app_settings(tiny_model_dir: Path):
    """App settings on the tiny model, saved where the window reads them."""
    from ditto_desk.core.app_settings import AppSettings, save_app_settings

    settings = AppSettings(model=str(tiny_model_dir), device="cpu", quantization="none")
    save_app_settings(settings)
    return settings


@pytest.fixture
def ui_training_config(tiny_config):
    """The smallest DITTO run with every phase: still ~10 s on 2 cores (the 49k-token vocabulary dominates)."""
    return tiny_config.with_overrides(dpo_batch_size=2)


@pytest.fixture
def make_window(qtbot) -> Iterator[Callable[..., object]]:
    """Build the real main window (``autoload_model`` off unless asked); closed and joined afterwards."""
    from ditto_desk.bridge.workers import running_jobs, stop_all_jobs
    from ditto_desk.core.profiles.store import ProfileStore
    from ditto_desk.ui.app import build_window

    windows = []

    def make(*, autoload_model: bool = False, training_config=None):
        window = build_window(ProfileStore(), training_config, autoload_model=autoload_model)
        window.ask_before_closing = False
        qtbot.addWidget(window)
        window.show()
        window.activateWindow()  # window shortcuts (Ctrl+L, Esc) need the active window
        qtbot.waitUntil(window.isActiveWindow, timeout=2000)
        window.start()
        windows.append(window)
        return window

    yield make
    stop_all_jobs()
    qtbot.waitUntil(lambda: not running_jobs(), timeout=30_000)  # the queued end signals arrive
    for window in windows:
        window.shutdown()
