"""Step 1 as a user meets it: drop files, paste, see refusals, edit, remove; everything is saved."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from window_helpers import GapMeter, add_files, refusal_reasons

from ditto_desk.core.profiles.store import ProfileStore
from ditto_desk.core.texts.demonstration import Demonstration
from ditto_desk.core.texts.guidance import flag, guidance, ready_to_learn

WORDS = "hey all — quick note on the plan for next week, since a few of you asked about it yesterday."


def _drop(window, paths: list[Path]) -> QDropEvent:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(
        QPoint(50, 50).toPointF(),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPoint(50, 50).toPointF(),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, drop)
    deadline = time.monotonic() + 20
    while window.demos.import_job is not None and time.monotonic() < deadline:  # files are read in the background
        QTest.qWait(10)
    return drop


def _saved(window) -> list[Demonstration]:
    return ProfileStore().load(window.session.profile.name).demonstrations


def test_dropping_files_and_a_folder_adds_them(make_window, samples, tmp_path) -> None:
    window = make_window()
    _drop(window, samples[:2])
    assert window.demos.list.count() == 2
    folder = tmp_path / "more"
    folder.mkdir()
    for p in samples[2:]:
        (folder / p.name).write_bytes(p.read_bytes())
    _drop(window, [folder])
    assert window.demos.list.count() == 4
    assert [d.text for d in _saved(window)] == [d.text for d in window.demos.demos]
    first = window.demos.list.item(0).text()
    assert first.startswith("↩ Tomasz Nowak · Write an email about: release freeze") and "hey all" in first
    assert window.demos.refusals.isHidden()
    assert "4 texts — good" in window.demos.count_label.text()


def test_a_bad_file_is_refused_with_its_reason_and_the_good_ones_stay(make_window, samples, tmp_path) -> None:
    window = make_window()
    pdf = tmp_path / "cv.pdf"
    pdf.write_bytes(b"%PDF-1.4 ...")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    _drop(window, [samples[0], pdf, samples[1], empty])
    assert window.demos.list.count() == 2
    assert not window.demos.refusals.isHidden()
    reasons = refusal_reasons(window.demos.refusals)
    assert any(r.startswith("cv.pdf:") and "PDF" in r for r in reasons)
    assert any(r.startswith("empty.txt:") and "empty" in r for r in reasons)
    assert "2 not added" in window.demos.refusals.title.text()
    assert len(_saved(window)) == 2
    # Dropping the same file again is refused too, and nothing already added is lost.
    _drop(window, [samples[0]])
    assert window.demos.list.count() == 2
    assert any("already in the list" in r for r in refusal_reasons(window.demos.refusals))


def test_ctrl_v_in_the_list_pastes_a_text(make_window, qtbot) -> None:
    window = make_window()
    QGuiApplication.clipboard().setText(WORDS * 3)
    window.demos.list.setFocus()
    qtbot.waitUntil(window.demos.list.hasFocus, timeout=2000)
    qtbot.keyClick(window.demos.list, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert window.demos.list.count() == 1
    assert window.demos.demos[0].source == "pasted"
    assert _saved(window)[0].text.startswith("hey all")
    # The Paste button does the same; an empty clipboard is explained, not silently ignored.
    QGuiApplication.clipboard().setText("")
    qtbot.mouseClick(window.demos.paste_button, Qt.MouseButton.LeftButton)
    assert window.demos.list.count() == 1
    assert "clipboard has no text" in refusal_reasons(window.demos.refusals)[0]


def test_edits_to_prompt_and_text_are_saved(make_window, samples, qtbot) -> None:
    window = make_window()
    add_files(window, qtbot, samples[:2])
    window.demos.list.setCurrentRow(1)
    editor = window.demos.editor
    editor.prompt.clear()
    qtbot.keyClicks(editor.prompt, "Write an email about: the offsite")
    editor.text.setPlainText(WORDS + " onward,")
    qtbot.waitUntil(lambda: _saved(window)[1].prompt == "Write an email about: the offsite", timeout=3000)
    assert _saved(window)[1].text.endswith("onward,")
    assert window.demos.list.item(1).text().startswith("Write an email about: the offsite")
    # A short text is flagged beside the editor and in the list.
    assert "Short" in editor.flag.text()
    assert "Short" in window.demos.list.item(1).toolTip()


def test_remove_and_guidance(make_window, samples, qtbot) -> None:
    window = make_window()
    assert "add at least 2" in window.demos.count_label.text()
    add_files(window, qtbot, samples[:1])
    assert "add at least 2" in window.demos.count_label.text()
    assert not window.learn.learn_button.isEnabled()
    add_files(window, qtbot, samples[1:3])
    assert window.learn.learn_button.isEnabled()
    window.demos.list.setCurrentRow(0)
    qtbot.mouseClick(window.demos.remove_button, Qt.MouseButton.LeftButton)
    assert window.demos.list.count() == 2
    assert len(_saved(window)) == 2
    many = [Demonstration(f"{WORDS} number {i}", f"Write a note {i}") for i in range(11)]
    assert "works best with under 10" in guidance(many)[0]
    assert flag(Demonstration("too short to learn much from")) is not None
    assert flag(Demonstration(" ".join(["word"] * 500))).startswith("Long (500 words): learnt whole")
    assert not ready_to_learn([Demonstration(WORDS), Demonstration("")])


def test_a_long_import_keeps_the_window_responsive_and_can_be_cancelled(make_window, qtbot, tmp_path) -> None:
    """Files are read in the background with progress and a Cancel button; a cancelled import adds nothing."""
    window = make_window()
    folder = tmp_path / "all my mail"
    folder.mkdir()
    for i in range(4000):
        (folder / f"note-{i:04d}.txt").write_text(f"{i}: {WORDS * 20}", encoding="utf-8")
    meter = GapMeter()
    meter.start()
    assert window.demos.add_paths([folder]) is not None
    panel = window.demos.importing
    assert not panel.isHidden()
    qtbot.waitUntil(lambda: panel.bar.maximum() == 4000 and panel.bar.value() > 50, timeout=20_000)
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.demos.import_job is None, timeout=10_000)
    meter.stop()
    assert panel.isHidden()
    assert window.demos.list.count() == 0 and _saved(window) == []
    assert meter.max_gap < 0.2, f"the window froze for {meter.max_gap * 1000:.0f} ms while files were read"


def test_a_replys_message_is_shown_edited_and_removed_like_its_text(make_window, samples, qtbot) -> None:
    window = make_window()
    _drop(window, samples[:2])
    page, editor = window.demos, window.demos.editor
    page.list.setCurrentRow(0)
    assert editor.context_label.text() == "Answers this email from Tomasz Nowak:"
    assert editor.context.toPlainText().startswith("Does the freeze cover the docs repo too")
    assert not editor.not_a_reply.isHidden()
    editor.context.setPlainText("Does the freeze cover the docs repo?")
    qtbot.waitUntil(lambda: _saved(window)[0].context == "Does the freeze cover the docs repo?", timeout=5_000)
    editor.not_a_reply.click()
    qtbot.waitUntil(lambda: _saved(window)[0].context == "", timeout=5_000)
    assert _saved(window)[0].context_sender == "" and editor.context_label.text() == "Answers: (not a reply)"
    assert page.list.item(0).text().startswith("Write an email about: release freeze")
    page.list.setCurrentRow(1)
    assert editor.context.toPlainText() == "" and editor.not_a_reply.isHidden()


def test_emails_picked_from_a_mailbox_are_confirmed_swapped_and_added(make_window, qtbot, tmp_path) -> None:
    """From a mailbox…: the user's own emails are read in the background, the picks come ticked with their
    reasons, one is swapped for another, and only the ticked ones are added; the address is remembered."""
    import mailbox

    corpus = Path(__file__).resolve().parents[2] / "resources" / "mail-corpus"
    box = mailbox.mbox(tmp_path / "Sent")
    for path in sorted(corpus.glob("*/*.eml")):
        box.add(path.read_bytes())
    box.close()
    window = make_window()
    page = window.demos
    assert page.mailbox.add(tmp_path / "Sent", ["nobody@example.org"]) is not None
    qtbot.waitUntil(lambda: page.import_job is None, timeout=20_000)
    assert page.list.count() == 0 and page.mailbox.picker is None and page.mailbox.likely_addresses

    assert page.mailbox.add(tmp_path / "Sent", ["tim.one@comcast.net"]) is not None
    qtbot.waitUntil(lambda: page.mailbox.picker is not None and page.mailbox.picker.isVisible(), timeout=20_000)
    picker = page.mailbox.picker
    items = [picker.list.item(i) for i in range(picker.list.count())]
    ticked = [i for i in items if i.checkState() == Qt.CheckState.Checked]
    assert len(items) == 9 and len(ticked) == 8 and all("standing for" in i.text() for i in ticked)
    ticked[0].setCheckState(Qt.CheckState.Unchecked)
    items[-1].setCheckState(Qt.CheckState.Checked)
    assert picker.add_button.text() == "Add 8 emails"
    chosen = picker.chosen()
    picker.add_button.click()
    qtbot.waitUntil(lambda: page.list.count() == 8, timeout=5_000)
    assert [d.text for d in _saved(window)] == [d.text for d in chosen]
    assert all(d.context for d in _saved(window))
    assert window.session.settings.my_addresses == ["tim.one@comcast.net"]


def test_emails_picked_from_an_imap_folder_come_to_the_same_picker(make_window, qtbot, monkeypatch) -> None:
    from imap_server import PASSWORD, dovecot

    corpus = Path(__file__).resolve().parents[2] / "resources" / "mail-corpus"
    with dovecot() as server:
        server.fill("Sent", [p.read_bytes() for p in sorted(corpus.glob("*/*.eml"))])
        monkeypatch.setenv("SSL_CERT_FILE", str(server.cert))
        page = make_window().demos
        assert page.mailbox.add(server.url("Sent"), ["tim.one@comcast.net"], password=PASSWORD) is not None
        qtbot.waitUntil(lambda: page.mailbox.picker is not None and page.mailbox.picker.isVisible(), timeout=20_000)
        assert len(page.mailbox.picker.chosen()) == 8
