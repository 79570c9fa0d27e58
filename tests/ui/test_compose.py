"""Step 3: a draft streams into the editor piece by piece; Stop stops it; an untrained profile says so."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication


def _ready(window, qtbot) -> None:
    qtbot.waitUntil(lambda: window.model_host.state == "ready", timeout=60_000)


def test_draft_streams_piece_by_piece_with_the_base_model_when_untrained(make_window, tiny_app_settings, qtbot) -> None:
    window = make_window(autoload_model=True)
    compose = window.compose
    _ready(window, qtbot)
    assert "has not learned a style yet" in compose.notice.text()
    assert not compose.write_button.isEnabled()  # nothing to write about yet
    assert compose.length.text() == "Auto"  # the length fitted to the profile's texts, until the user sets one
    compose.length.setValue(40)
    compose.temperature.setValue(1.0)
    compose.request.setPlainText("A short note to the team about Friday")
    assert compose.write_button.isEnabled()

    lengths: list[int] = []
    compose.output.textChanged.connect(lambda: lengths.append(len(compose.output.toPlainText())))
    qtbot.mouseClick(compose.write_button, Qt.MouseButton.LeftButton)
    assert compose.writing and compose.stop_button.isEnabled() and not compose.write_button.isEnabled()
    qtbot.waitUntil(lambda: not compose.writing, timeout=60_000)
    assert len([n for n in lengths if n]) >= 3 and lengths == sorted(lengths)  # it grew in several pieces
    assert compose.output.toPlainText().strip()
    assert compose.write_button.text() == "Write again"
    assert compose.status.text().startswith("Done")

    qtbot.mouseClick(compose.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == compose.output.toPlainText().strip()

    draft = compose.output.toPlainText()
    window.session.reload_profile()  # the same profile opened again (after a learning, say) keeps its draft
    assert compose.output.toPlainText() == draft
    assert window.session.create_profile("Someone else")  # another person's draft is not theirs
    assert compose.output.toPlainText() == "" and compose.status.text() == ""
    assert compose.write_button.text() == "Write" and not compose.copy_button.isEnabled()


def test_stop_ends_the_draft_quickly(make_window, tiny_app_settings, qtbot) -> None:
    window = make_window(autoload_model=True)
    compose = window.compose
    _ready(window, qtbot)
    compose.length.setValue(1024)
    compose.temperature.setValue(1.0)
    compose.request.setPlainText("A long report about everything")
    compose.write()
    job = compose.job
    pieces: list[int] = []
    compose.output.textChanged.connect(lambda: pieces.append(1))  # one per piece, the draft was cleared already
    qtbot.waitUntil(lambda: len(pieces) >= 2, timeout=30_000)
    t0 = time.perf_counter()
    qtbot.keyClick(window, Qt.Key.Key_Escape)  # Esc = Stop
    with qtbot.waitSignal(job.ended, timeout=10_000):
        pass
    assert time.perf_counter() - t0 < 2.0
    assert job.outcome == "cancelled" and job._thread.isFinished()
    assert compose.status.text() == "Stopped."
    assert compose.output.toPlainText()  # what was written so far stays
    assert compose.write_button.isEnabled()
