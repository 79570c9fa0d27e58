"""A dark palette stays readable; profiles can be created, switched, renamed and deleted."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QInputDialog, QLabel, QMessageBox
from window_helpers import add_files

from ditto_desk.core.profiles.store import ProfileStore
from ditto_desk.core.texts.demonstration import Demonstration
from ditto_desk.ui.theme import apply_style, dark_palette

TEXT = "hey all — quick note on the plan for next week, since a few of you asked about it yesterday at lunch."


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio between two colours (1 to 21)."""

    def luminance(c: QColor) -> float:
        def channel(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.fixture
def styled_app() -> Iterator[QApplication]:
    """The app's real style (Fusion and its style sheet); the palette is restored afterwards."""
    app = QApplication.instance()
    before = app.palette()
    apply_style(app)
    yield app
    app.setPalette(before)


def test_dark_palette_is_readable(styled_app, make_window, samples, qtbot) -> None:
    window = make_window()
    add_files(window, qtbot, samples[:1])  # one text: the guidance warns, an item is flagged
    styled_app.setPalette(dark_palette())  # switched while the window is open, as a system theme change does
    qtbot.wait(50)
    for page in (window.demos, window.learn, window.compose):
        window.tabs.setCurrentWidget(page)
        for label in page.findChildren(QLabel):
            if not label.isVisible() or not label.text():
                continue
            palette = label.palette()
            fg = palette.color(label.foregroundRole())
            bg = palette.color(label.backgroundRole())
            assert bg.lightness() < 128, label.text()
            assert contrast(fg, bg) >= 4.5, f"{label.text()!r}: {fg.name()} on {bg.name()}"
    lst = window.demos.list
    assert contrast(lst.palette().color(QPalette.ColorRole.Text), lst.palette().color(QPalette.ColorRole.Base)) >= 7
    plot = window.learn.plot
    assert plot.widget.backgroundBrush().color() == dark_palette().color(QPalette.ColorRole.Base)
    axis_pen = plot.plot.getAxis("left").textPen().color()
    assert contrast(axis_pen, dark_palette().color(QPalette.ColorRole.Base)) >= 7
    sheet = styled_app.styleSheet()  # it names no colours, only palette roles
    assert not re.search(r"#[0-9a-fA-F]{3,8}\b|rgb", sheet)
    assert all(v.strip().startswith("palette(") for v in re.findall(r"(?:color|background)\s*:\s*([^;]+);", sheet))
    image = window.grab().toImage()
    assert image.pixelColor(5, image.height() // 2).lightness() < 128  # it really renders dark


def test_profiles_new_switch_rename_delete(make_window, monkeypatch, qtbot) -> None:
    window = make_window()
    session, bar = window.session, window.profile_bar
    session.profile.save_demonstrations([Demonstration(TEXT, "Write a note")])
    session.reload_profile()
    assert window.demos.list.count() == 1

    window.demos.editor.prompt.setText("Write a note to the team")
    window.demos.editor.prompt.textEdited.emit("Write a note to the team")  # as typing does; saved after a pause
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Blog", True))
    bar.new_button.click()  # switching profile right away still saves the edit, into the right profile
    assert ProfileStore().load("My style").demonstrations[0].prompt == "Write a note to the team"
    assert ProfileStore().load("Blog").demonstrations == []
    assert session.profile.name == "Blog" and window.windowTitle() == "Ditto Desk — Blog"
    assert [bar.combo.itemText(i) for i in range(bar.combo.count())] == ["Blog", "My style"]
    assert window.demos.list.count() == 0

    bar.combo.setCurrentIndex(1)
    bar.combo.activated.emit(1)
    assert session.profile.name == "My style" and window.demos.list.count() == 1

    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Work email", True))
    bar.rename_button.click()
    assert session.profile.name == "Work email"
    assert ProfileStore().list() == ["Blog", "Work email"]

    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("bad/name", True))
    bar.new_button.click()  # refused with the store's reason, in the error dialog
    assert "path separators" in window.error_boxes[-1].text()
    window.error_boxes[-1].close()

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    bar.delete_button.click()
    assert ProfileStore().list() == ["Blog"] and session.profile.name == "Blog"


def test_a_profile_exported_from_the_window_imports_as_a_new_one(make_window, monkeypatch, qtbot, tmp_path) -> None:
    from PySide6.QtCore import QStandardPaths
    from PySide6.QtWidgets import QFileDialog

    window = make_window()
    session, bar = window.session, window.profile_bar
    session.profile.save_demonstrations([Demonstration(TEXT, "Write a note")])
    archive = tmp_path / "my-style.ditto.zip"
    offered: list[str] = []

    def save_as(parent, title, suggested, kinds):
        offered.append(suggested)
        return str(archive), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_as)
    told: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda parent, title, text: told.append(text))
    bar.export_button.click()
    assert archive.is_file() and told and str(archive) in told[0]
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    assert offered == [str(Path(documents or Path.home()) / "My style.ditto.zip")]  # not the folder the app runs in

    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(archive), ""))
    bar.import_button.click()  # the name is taken here: refused, with a free one offered, nothing changed
    assert "My style (2)" in window.error_boxes[-1].text()
    window.error_boxes[-1].close()
    assert ProfileStore().list() == ["My style"]

    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Before", True))
    bar.rename_button.click()  # the name is free now, as on another computer
    bar.import_button.click()
    assert session.profile.name == "My style" and ProfileStore().list() == ["Before", "My style"]
    assert [d.text for d in session.profile.demonstrations] == [TEXT]


def test_undo_last_learning_brings_back_the_style_before(make_window, qtbot) -> None:
    import json

    import torch
    from safetensors.torch import save_file

    from ditto_desk.core.profiles.adapter_folder import ADAPTER_CONFIG, ADAPTER_WEIGHTS

    def adapter(value: float):
        def write(folder):
            save_file({"lora_A.weight": torch.full((4, 8), value)}, str(folder / ADAPTER_WEIGHTS))
            (folder / ADAPTER_CONFIG).write_text(json.dumps({"peft_type": "LORA", "r": 4}))

        return write

    window = make_window()
    session, learn = window.session, window.learn
    assert not learn.undo_button.isEnabled()  # nothing learned yet
    first = session.profile.commit_adapter(adapter(1.0), [])
    session.profile.commit_adapter(adapter(2.0), [])
    session.reload_profile()
    learn.refresh()
    assert learn.undo_button.isEnabled()
    learn.undo_button.click()
    assert session.profile.active_adapter_dir == first
    assert ProfileStore().load("My style").active_adapter_dir == first
    assert not learn.undo_button.isEnabled()  # nothing before the first


def test_the_menu_bar_has_the_profile_actions_and_help(make_window, monkeypatch, qtbot) -> None:
    window = make_window()
    menus = {a.text(): a.menu() for a in window.menuBar().actions()}
    assert list(menus) == ["&File", "&Help"]
    file_items = [a.text() for a in menus["&File"].actions() if not a.isSeparator()]
    assert file_items == ["&New profile…", "&Import a profile…", "&Export this profile…", "&Settings…\tCtrl+,", "&Quit"]
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "about", lambda parent, title, text: shown.append(text))
    about = next(a for a in menus["&Help"].actions() if a.text() == "&About Ditto Desk")
    about.trigger()
    assert shown and shown[0].startswith("Ditto Desk 0.") and str(window.session.store.root) in shown[0]
