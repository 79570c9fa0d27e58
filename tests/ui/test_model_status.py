"""The model's state in the window: the first-run conversion dialog, and the status bar."""

from __future__ import annotations

from PySide6.QtWidgets import QProgressDialog, QPushButton

from ditto_desk.core.progress import ProgressEvent


def test_first_run_conversion_shows_a_progress_dialog_that_closes_when_ready(make_window, qtbot) -> None:
    window = make_window()
    host = window.model_host
    host._set_state("loading")
    assert "loading SmolLM2-135M-Instruct" in window.model_label.text()
    host.progress.emit(ProgressEvent("convert", "Reading the bundled model (once)…", 1, 3, fraction=0.1))
    dialog = window.findChild(QProgressDialog, "convertDialog")
    assert dialog is not None and dialog.isVisible()
    assert dialog.labelText() == "Reading the bundled model (once)…" and dialog.value() == 10
    host.progress.emit(ProgressEvent("convert", "Writing the model cache…", 2, 3, fraction=0.7))
    assert dialog.value() == 70
    host.description, host.note = "SmolLM2-135M-Instruct · cpu · nf4", "Quantized to NF4 with bitsandbytes on cpu."
    host._set_state("ready")
    assert not dialog.isVisible()
    assert window.model_label.text() == "Model: SmolLM2-135M-Instruct · cpu · nf4"
    assert "bitsandbytes" in window.model_label.toolTip()


def test_a_download_shows_its_progress_in_a_dialog_that_can_stop_it(make_window, qtbot) -> None:
    window = make_window()
    host = window.model_host
    stopped: list[bool] = []
    host.cancel = lambda: stopped.append(True)  # the job itself is the core's, tested in test_hub_download.py
    host._set_state("loading")
    host.progress.emit(ProgressEvent("download", "Downloading a/b: 105 of 273 MB, 22.3 MB/s, 0:08 left", fraction=0.38))
    dialog = window.findChild(QProgressDialog, "convertDialog")
    assert dialog is not None and dialog.isVisible()
    assert "105 of 273 MB" in dialog.labelText() and dialog.value() == 38
    stop = dialog.findChild(QPushButton)
    assert stop is not None and stop.text() == "Stop download"
    stop.click()
    assert stopped == [True]
    host._set_state("idle")  # what the host does once the job has stopped
    assert window.findChild(QProgressDialog, "convertDialog") is None or not dialog.isVisible()
    assert "open Settings" in window.model_label.text()


def test_a_model_that_does_not_load_leaves_the_one_in_use_in_use(make_window, qtbot, tmp_path) -> None:
    """Choosing a model that cannot load (an unreachable hub model, a broken folder) says why, and the window goes
    on with the model it had: Write stays possible and the settings name that model again."""
    window = make_window(autoload_model=True)
    host = window.model_host
    qtbot.waitUntil(lambda: host.state == "ready", timeout=60_000)
    working, described = host.writer, host.description
    not_a_model = tmp_path / "not-a-model"
    not_a_model.mkdir()
    window.session.settings.model = str(not_a_model)
    window.load_model()
    assert host.busy
    qtbot.waitUntil(lambda: host.state == "ready" and not host.busy, timeout=60_000)
    assert host.writer is working and host.description == described
    assert window.session.settings.model == "bundled"
    assert window.model_label.text() == f"Model: {described}"
    assert "Still using" in window.statusBar().currentMessage()
    assert "is not a model folder" in window.error_boxes[-1].text()
