"""Teach by editing in the window: a draft in the learned style becomes editable once written; changing it
enables Teach and Save edit; the edit is kept in the profile, listed with a word diff in "Taught edits…",
and Teach runs an update through the Learn page (progress, Cancel) that commits a new version."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from ditto_desk.bridge import tasks
from ditto_desk.core.profiles.edits import MAX_EDIT_CHARS
from ditto_desk.core.profiles.store import ProfileStore
from ditto_desk.ui.edits_dialog import diff_styles, word_diff_html

REQUEST = "A short note to the team about Friday"
SIGN_OFF = "\n\nCheers, Sam"
_TRAINED: dict[str, Path] = {}  # one learned profile per test run, copied into each test's home


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def teach_config(ui_training_config):
    return ui_training_config.with_overrides(teach_steps=2)


@pytest.fixture
def learned(tiny_settings, teach_config, sample_demos, tmp_path_factory) -> Path:
    """A profile "me" with a real learned style (trained once, then copied), opened by the window at start."""
    from ditto_desk.core.jobs import train_profile

    if "me" not in _TRAINED:
        store = ProfileStore(tmp_path_factory.mktemp("learned"))
        store.create("me").save_demonstrations(sample_demos[:2])
        train_profile(store, "me", tiny_settings, teach_config)
        _TRAINED["me"] = store.root / "me"
    target = ProfileStore().root / "me"
    shutil.copytree(_TRAINED["me"], target)
    return target


def _window_with_draft(make_window, qtbot, config):
    """The window on the learned profile, with a draft written in its style."""
    window = make_window(autoload_model=True, training_config=config)
    compose = window.compose
    window.tabs.setCurrentWidget(compose)
    qtbot.waitUntil(lambda: window.model_host.state == "ready", timeout=60_000)
    assert window.session.profile.name == "me" and window.session.profile.has_adapter
    compose.length.setValue(24)
    compose.request.setPlainText(REQUEST)
    compose.write()
    assert compose.output.isReadOnly()  # the draft stays exactly what the model writes while it streams
    assert not compose.teach_bar.save_button.isEnabled() and not compose.teach_bar.teach_button.isEnabled()
    qtbot.waitUntil(lambda: not compose.writing, timeout=60_000)
    assert compose.output.toPlainText().strip(), "the tiny model wrote nothing"
    assert not compose.output.isReadOnly()
    return window


def test_editing_the_draft_enables_teach_and_save_edit(
    make_window, tiny_app_settings, teach_config, learned, qtbot
) -> None:
    window = _window_with_draft(make_window, qtbot, teach_config)
    compose, bar = window.compose, window.compose.teach_bar
    draft = compose.output.toPlainText()
    assert bar.draft == draft
    writer = window.model_host.writer
    assert bar.request == tasks.model_request(writer, window.session.profile, REQUEST)  # as the model was asked
    assert bar.waiting_label.text() == "No edit waiting to be taught."
    assert not bar.teach_button.isEnabled() and not bar.save_button.isEnabled()  # nothing changed yet

    compose.output.setPlainText("  " + draft.replace(" ", "  ") + "\n")  # spacing is not an edit
    assert not bar.teach_button.isEnabled() and not bar.save_button.isEnabled()

    compose.output.setPlainText(draft + SIGN_OFF)
    assert bar.teach_button.isEnabled() and bar.save_button.isEnabled()
    compose.output.setPlainText(draft)  # changed back
    assert not bar.teach_button.isEnabled() and not bar.save_button.isEnabled()

    compose.output.setPlainText(draft + SIGN_OFF)
    window.session.set_training(True)  # one learning or update at a time
    assert not bar.teach_button.isEnabled() and not bar.save_button.isEnabled()
    window.session.set_training(False)
    assert bar.teach_button.isEnabled()


def test_save_edit_keeps_the_edit_and_counts_it_waiting(
    make_window, tiny_app_settings, teach_config, learned, qtbot
) -> None:
    window = _window_with_draft(make_window, qtbot, teach_config)
    compose, bar = window.compose, window.compose.teach_bar
    draft = compose.output.toPlainText()

    compose.output.setPlainText("x" * (MAX_EDIT_CHARS + 1))  # refused by the core: its message, no crash
    qtbot.mouseClick(bar.save_button, Qt.MouseButton.LeftButton)
    assert "longer than" in compose.status.text()
    assert window.session.profile.edits() == []

    compose.output.setPlainText(draft + SIGN_OFF)
    qtbot.mouseClick(bar.save_button, Qt.MouseButton.LeftButton)
    (edit,) = ProfileStore().load("me").edits()
    assert (edit.request, edit.draft, edit.edited) == (bar.request, draft.strip(), (draft + SIGN_OFF).strip())
    assert edit.taught_in is None
    assert bar.waiting_label.text() == "1 edit waiting to be taught."
    assert compose.status.text().startswith("Edit saved.")
    assert not bar.save_button.isEnabled()  # kept already: saving it again would teach it twice
    assert bar.teach_button.isEnabled()  # teaches the waiting edit
    assert window.tabs.currentWidget() is compose  # Save edit only keeps it

    # Another profile: the draft was not written in its style, and it has no edits.
    window.session.create_profile("other")
    assert bar.draft is None and not bar.save_button.isEnabled() and not bar.teach_button.isEnabled()
    window.session.open_profile("me")
    assert bar.waiting_label.text() == "1 edit waiting to be taught."


def test_the_edits_dialog_lists_the_edit_with_a_word_diff(
    make_window, tiny_app_settings, teach_config, learned, qtbot
) -> None:
    window = _window_with_draft(make_window, qtbot, teach_config)
    compose, bar = window.compose, window.compose.teach_bar
    draft = compose.output.toPlainText()
    compose.output.setPlainText(draft + SIGN_OFF)
    qtbot.mouseClick(bar.save_button, Qt.MouseButton.LeftButton)

    qtbot.mouseClick(bar.history_button, Qt.MouseButton.LeftButton)
    dialog = bar.dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.table.rowCount() == 1
    assert dialog.table.item(0, 1).text() == " ".join(bar.request.split())
    assert dialog.table.item(0, 2).text() == "waiting"
    assert dialog.draft.toPlainText() == draft.strip() and dialog.edited.toPlainText().endswith("Cheers, Sam")
    assert dialog.draft.isReadOnly() and dialog.edited.isReadOnly()
    html = dialog.diff.toHtml()
    assert "Cheers" in html and "Sam" in html
    assert "line-through" not in word_diff_html(draft, draft + SIGN_OFF)  # only added words
    dialog.close()


def test_word_diff_strikes_removed_words_and_colours_added_ones(qapp) -> None:
    from ditto_desk.ui.theme import dark_palette

    html = word_diff_html("The retro is on Friday.", "The retro moves to Monday, ok?")
    deleted, inserted = diff_styles()
    assert "line-through" in deleted and "line-through" not in inserted
    assert html.startswith('<div style="white-space:pre-wrap">The retro ')
    # Changes parted only by spaces read as one change, not word by word.
    assert f'<span style="{deleted}">is on Friday.</span><span style="{inserted}">moves to Monday, ok?</span>' in html
    assert word_diff_html("a b c", "a x c").count("<span") == 2
    assert "&lt;b&gt;" in word_diff_html("a", "<b>")  # the user's text is escaped, never markup
    assert diff_styles(dark_palette()) != (deleted, inserted)  # readable on a dark palette too


def test_teach_runs_an_update_with_progress_and_cancel(
    make_window, tiny_app_settings, teach_config, learned, qtbot
) -> None:
    window = _window_with_draft(make_window, qtbot, teach_config)
    compose, bar, learn = window.compose, window.compose.teach_bar, window.learn
    before = window.session.profile.active_adapter_dir
    compose.output.setPlainText(compose.output.toPlainText() + SIGN_OFF)

    # Teach keeps the edit and runs the update on the Learn page; a cancelled update changes nothing.
    qtbot.mouseClick(bar.teach_button, Qt.MouseButton.LeftButton)
    assert window.tabs.currentWidget() is learn and learn.training and learn.kind == "teach"
    assert len(ProfileStore().load("me").waiting_edits()) == 1
    snapshot = _snapshot(learned)
    assert not bar.teach_button.isEnabled() and not learn.learn_button.isEnabled()  # one run at a time
    job = learn.job
    learn.cancel()
    with qtbot.waitSignal(job.ended, timeout=30_000):
        pass
    assert learn.phase_label.text() == "Update cancelled; nothing changed."
    assert _snapshot(learned) == snapshot

    # Teach again: the edit waiting is taught, as a new version.
    window.tabs.setCurrentWidget(compose)
    assert bar.teach_button.isEnabled() and not bar.save_button.isEnabled()
    qtbot.mouseClick(bar.teach_button, Qt.MouseButton.LeftButton)
    job = learn.job
    steps: list[object] = []
    job.progress.connect(lambda event: steps.append(event) if event.loss is not None else None)
    with qtbot.waitSignal(job.finished, timeout=180_000):
        pass
    qtbot.waitUntil(lambda: not learn.training, timeout=10_000)
    profile = ProfileStore().load("me")
    assert profile.active_adapter_dir != before and profile.versions()[1] == before.name
    assert profile.waiting_edits() == [] and profile.edits()[0].taught_in == profile.active_adapter_dir.name
    assert window.session.profile.active_adapter_dir == profile.active_adapter_dir
    assert learn.phase_label.text() == "Done." and "Updated your style" in learn.result_label.text()
    assert len(steps) == 2 and len(learn.plot.points["dpo"][1]) == 2  # the plot showed the update's steps
    assert learn.state_label.text().startswith("Style updated on")
    assert bar.waiting_label.text() == "No edit waiting to be taught."
    assert not bar.teach_button.isEnabled()

    # Undo takes the update back: the edit waits again.
    qtbot.mouseClick(learn.undo_button, Qt.MouseButton.LeftButton)
    assert window.session.profile.active_adapter_dir == before
    assert bar.waiting_label.text() == "1 edit waiting to be taught." and bar.teach_button.isEnabled()

    # History lists both versions, the update named as one; using the update again brings it back.
    from ditto_desk.ui.history_dialog import HistoryDialog

    dialog = HistoryDialog(window.session, window)
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 2
    assert dialog.table.item(0, 2).text().startswith("taught 1 edit") and dialog.table.item(1, 1).text() == "current"
    shown = dialog.settings.toPlainText().splitlines()
    assert (
        "teach steps: 2" in shown
        and "lora targets: q_proj, k_proj, v_proj, o_proj" in shown
        and dialog.use_button.isEnabled()
    )
    assert "{" not in dialog.settings.toPlainText()  # read as settings, not as the file that keeps them
    dialog.use_button.click()
    assert window.session.profile.active_adapter_dir == profile.active_adapter_dir
    assert dialog.table.item(0, 1).text() == "current" and not dialog.use_button.isEnabled()


def test_a_reply_to_a_dropped_email_is_written_and_its_edit_keeps_the_message(
    make_window, tiny_app_settings, teach_config, learned, qtbot, tmp_path
) -> None:
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent

    window = make_window(autoload_model=True, training_config=teach_config)
    compose = window.compose
    window.tabs.setCurrentWidget(compose)
    qtbot.waitUntil(lambda: window.model_host.state == "ready", timeout=60_000)
    incoming = tmp_path / "budget.eml"
    incoming.write_text(
        "From: Carol Diaz <carol@example.com>\nSubject: Budget\n\nCan you send me the budget before May?\n\n"
        "-- \nCarol\n",
        encoding="utf-8",
    )
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(incoming))])
    drop = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0))
    compose.reply_to.dropEvent(drop)
    assert compose.reply_to.toPlainText() == "Can you send me the budget before May?"  # her words, not her signature
    assert compose.request_label.text() == "What should the reply say? (optional)"
    assert compose.write_button.isEnabled()  # a reply needs no request
    compose.length.setValue(16)
    compose.write()
    qtbot.waitUntil(lambda: not compose.writing, timeout=60_000)
    bar = compose.teach_bar
    assert bar.request.startswith("Answer this email from Carol Diaz:\n\nCan you send me the budget before May?")
    assert bar.request.endswith("Write an email about: Budget")  # the subject stands in for what to say

    compose.reply_to.setPlainText("")
    assert compose.request_label.text() == "What should I write?" and not compose.write_button.isEnabled()
    unreadable = tmp_path / "blob.eml"
    unreadable.write_bytes(b"")
    mime.setUrls([QUrl.fromLocalFile(str(unreadable))])
    compose.reply_to.dropEvent(
        QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0))
    )
    assert "empty file" in compose.status.text() and compose.reply_to.toPlainText() == ""
