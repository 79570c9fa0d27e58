"""App settings persist (and survive a broken file); the window opens fast without torch."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtWidgets import QDialog, QMessageBox
from window_helpers import add_files

from ditto_desk.core.app_settings import AppSettings, load_app_settings, save_app_settings
from ditto_desk.core.places import app_settings_path
from ditto_desk.ui.settings_dialog import SettingsDialog

REPO = Path(__file__).resolve().parents[2]


def test_settings_round_trip_in_ditto_desk_home(_isolated_home: Path) -> None:
    assert app_settings_path() == _isolated_home / "settings.json"
    assert load_app_settings() == AppSettings()  # no file yet: defaults
    saved = AppSettings(
        model="HuggingFaceTB/SmolLM2-360M-Instruct",
        device="cpu",
        quantization="int8",
        preset="standard",
        last_profile="Work email",
        compose_length=300,
        compose_temperature=0.9,
        show_base_comparison=True,
    )
    save_app_settings(saved)
    assert load_app_settings() == saved
    assert json.loads(app_settings_path().read_text())["preset"] == "standard"


def test_a_broken_settings_file_falls_back_to_defaults(_isolated_home: Path) -> None:
    path = app_settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    for broken in (b"{not json", b"\xff\xfe\x00garbage", b"[1, 2]", b"null"):
        path.write_bytes(broken)
        assert load_app_settings() == AppSettings()
    # Field by field: the good ones are kept, the wrong ones take their default.
    path.write_text(json.dumps({"preset": "standard", "device": "tpu", "compose_temperature": "hot", "extra": 1}))
    settings = load_app_settings()
    assert settings.preset == "standard" and settings.device == "auto" and settings.compose_temperature == 0.7


def test_settings_dialog_and_compose_controls_persist(make_window, qtbot, tmp_path: Path) -> None:
    window = make_window()
    dialog = SettingsDialog(window.session.settings, window)
    qtbot.addWidget(dialog)
    dialog.folder_path.setText(str(tmp_path))  # no config.json: refused with a reason
    dialog.folder.setChecked(True)
    assert "not a model folder" in dialog.problem()
    (tmp_path / "config.json").write_text("{}")
    assert dialog.problem() is None
    dialog.hub_id.setText("not an id!")  # the same check as load_model's and the command line's
    dialog.hub.setChecked(True)
    assert "is not a Hugging Face model id" in dialog.problem()
    dialog.folder.setChecked(True)
    dialog.device.setCurrentIndex(dialog.device.findData("cpu"))
    dialog.quantization.setCurrentIndex(dialog.quantization.findData("none"))
    dialog.preset.setCurrentIndex(dialog.preset.findData("standard"))
    assert dialog.apply() is True  # the model changed: it must be reloaded
    window.session.save_settings()
    window.compose.length.setValue(333)
    window.compose.temperature.setValue(1.1)
    window.compose.compare.setChecked(True)
    window.close()

    saved = load_app_settings()
    assert (saved.model, saved.device, saved.quantization, saved.preset) == (str(tmp_path), "cpu", "none", "standard")
    assert (saved.compose_length, saved.compose_temperature, saved.show_base_comparison) == (333, 1.1, True)
    assert saved.last_profile == "My style"
    reopened = make_window()
    assert reopened.compose.length.value() == 333 and reopened.compose.compare.isChecked()
    assert "standard" in reopened.learn.preset_label.text()
    again = SettingsDialog(reopened.session.settings, reopened)
    qtbot.addWidget(again)
    assert again.folder.isChecked() and again.folder_path.text() == str(tmp_path)
    assert again.result() == QDialog.DialogCode.Rejected  # never shown: nothing blocked


def test_window_opens_fast_without_importing_torch(tmp_path: Path) -> None:
    script = """
import sys, time
t0 = time.perf_counter()
from PySide6.QtWidgets import QApplication
app = QApplication(["ditto-desk"])
from ditto_desk.ui.app import build_window
from ditto_desk.ui.theme import apply_style
apply_style(app)
window = build_window(autoload_model=False)
window.show()
app.processEvents()
print(time.perf_counter() - t0, "torch" in sys.modules, "transformers" in sys.modules)
window.shutdown()
"""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "DITTO_DESK_HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", script], env=env, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    seconds, torch_loaded, transformers_loaded = out.stdout.split()
    assert torch_loaded == "False" and transformers_loaded == "False"
    assert float(seconds) < 3.0


def test_the_model_picker_shows_what_each_model_would_take_here(
    make_window, qtbot, tiny_app_settings, samples, monkeypatch
) -> None:
    from ditto_desk.core.models.catalog import CATALOG
    from ditto_desk.ui.model_host import READY

    window = make_window(autoload_model=True)
    qtbot.waitUntil(lambda: window.model_host.state == READY, timeout=60_000)
    assert window.model_host.machine is not None and window.model_host.machine.speed is not None
    add_files(window, qtbot, [str(p) for p in samples])
    assert "On this computer:" in window.learn.preset_label.text()  # the Learn page's estimate for this run
    rows = window.catalog_estimates()
    assert [model for model, _ in rows] == list(CATALOG)
    dialog = SettingsDialog(window.session.settings, window, rows)
    qtbot.addWidget(dialog)
    # The bundled model is one choice, with what it takes here; the table lists the models one downloads.
    assert dialog.bundled.text().startswith("Bundled: SmolLM2-135M-Instruct (on this computer, no download)")
    assert "learning takes about" in dialog.bundled.text()
    downloads = [m for m in CATALOG if not m.bundled]
    assert dialog.catalog.rowCount() == len(CATALOG) - 1 == len(downloads)
    listed = [dialog.catalog.item(row, 0).text() for row in range(dialog.catalog.rowCount())]
    assert "HuggingFaceTB/SmolLM2-135M-Instruct" not in listed
    cells = [dialog.catalog.item(0, column).text() for column in range(dialog.catalog.columnCount())]
    assert cells[0] == "HuggingFaceTB/SmolLM2-360M-Instruct" and cells[1].endswith("GB")
    assert cells[3].endswith("GB") and cells[4] in ("fits", "tight: close other programs", "too big for this computer")
    assert cells[5].startswith("about ")
    gated = next(i for i, m in enumerate(downloads) if m.gated)
    assert "(gated)" in dialog.catalog.item(gated, 2).text()
    dialog.catalog.selectRow(3)
    assert dialog.hub.isChecked() and dialog.chosen_model() == downloads[3].repo_id
    assert dialog.problem() is None

    # Measured on a busy machine, the times say so, on the Learn page and beside the picker.
    busy = "Other programs are using this computer: the times are for when it is idle, as measured earlier."
    window.model_host.machine = dataclasses.replace(window.model_host.machine, speed_note=busy)
    window.learn.refresh()
    assert busy in window.learn.preset_label.text()
    noted = SettingsDialog(window.session.settings, window, rows, busy)
    qtbot.addWidget(noted)
    assert noted.speed_note.text() == busy and not noted.speed_note.isHidden()

    # Learning a model that needs more memory than is free asks first; "No" starts nothing.
    window.model_host.machine = dataclasses.replace(window.model_host.machine, free_bytes=10**6)
    asked: list[str] = []

    def answer_no(parent, title, text, *args):
        asked.append(text)
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", answer_no)
    window.learn.start()
    assert asked and "more than this computer has free" in asked[0]
    assert not window.learn.training


def test_the_picker_says_when_its_figures_are_not_ready(make_window, qtbot) -> None:
    window = make_window()  # the model is not loaded: nothing measured yet
    assert window.catalog_estimates() is None
    dialog = SettingsDialog(window.session.settings, window, None)
    qtbot.addWidget(dialog)
    assert "once the current model has loaded" in dialog.catalog.item(0, 4).text()
