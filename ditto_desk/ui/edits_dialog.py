""" "Taught edits…": the drafts the user corrected in a profile, when, for which request, and which version
learned from them; for the one selected, the draft and the edited text side by side and a word diff."""

from __future__ import annotations

import difflib
import html
import re
from datetime import datetime, timezone

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ditto_desk.core.errors import ProfileError
from ditto_desk.core.profiles.edits import Edit
from ditto_desk.core.profiles.profile import Profile
from ditto_desk.ui.theme import accent, is_dark

_TOKENS = re.compile(r"\s+|\w+|[^\w\s]")  # words, runs of spacing and single punctuation marks


def _local(moment: datetime) -> str:
    return moment.astimezone().strftime("%d %b %Y, %H:%M")


def when(created: str) -> str:
    """An edit's ISO timestamp as local time, or as stored if it is not one."""
    try:
        return _local(datetime.fromisoformat(created))
    except ValueError:
        return created


def version_label(stamp: str) -> str:
    """An adapter version's folder name (``20260101T101500123456Z-ab12cd``) as the local time it was saved."""
    try:
        moment = datetime.strptime(stamp.split("-", 1)[0], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return stamp
    return _local(moment)


def diff_styles(palette: QPalette | None = None) -> tuple[str, str]:
    """The CSS of removed and added words, readable on the palette (theme.py has no red accent: the same
    light/dark pairing is used here)."""
    removed = "#ff8a80" if is_dark(palette) else "#b3261e"
    return f"color:{removed}; text-decoration:line-through", f"color:{accent('ok', palette).name()}; font-weight:600"


def word_diff_html(draft: str, edited: str, palette: QPalette | None = None) -> str:
    """The change from ``draft`` to ``edited`` word by word, as HTML: removed words struck through in red,
    added words in green, the rest as is (spacing and line breaks kept)."""
    deleted, inserted = diff_styles(palette)
    old, new = _TOKENS.findall(draft), _TOKENS.findall(edited)
    chunks: list[str | tuple[str, str]] = []  # unchanged text, or (removed, added)
    # autojunk off: in a long text, common words ("the", ",") would otherwise stop matching.
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            chunks.append("".join(old[i1:i2]))
            continue
        removed, added = "".join(old[i1:i2]), "".join(new[j1:j2])
        # Changes parted only by a space read as one: "~~is on Friday~~ moves to Monday", not word by word.
        if (
            len(chunks) >= 2
            and isinstance(chunks[-1], str)
            and not chunks[-1].strip()
            and isinstance(chunks[-2], tuple)
        ):
            space = chunks.pop()
            before_removed, before_added = chunks.pop()
            removed, added = before_removed + space + removed, before_added + space + added
        chunks.append((removed, added))
    parts: list[str] = []
    for chunk in chunks:
        if isinstance(chunk, str):
            parts.append(html.escape(chunk))
            continue
        removed, added = chunk
        if removed.strip():
            parts.append(f'<span style="{deleted}">{html.escape(removed)}</span>')
        if added:
            parts.append(f'<span style="{inserted}">{html.escape(added)}</span>')
    return f'<div style="white-space:pre-wrap">{"".join(parts)}</div>'


class EditsDialog(QDialog):
    """Read-only history of a profile's taught edits, newest first."""

    def __init__(self, profile: Profile, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("editsDialog")
        self.setWindowTitle(f"Taught edits — {profile.name}")
        self.resize(900, 620)
        current = profile.active_adapter_dir.name if profile.active_adapter_dir is not None else None
        self.error = ""
        try:
            self.edits: list[Edit] = list(reversed(profile.edits()))
        except ProfileError as exc:
            self.edits, self.error = [], str(exc)
        self._build(current)

    def _build(self, current: str | None) -> None:
        layout = QVBoxLayout(self)
        waiting = sum(e.waiting(current) for e in self.edits)
        if self.error:
            summary = self.error
        elif not self.edits:
            summary = "No edits yet. In Compose, correct a draft written in your style, then press Teach or Save edit."
        else:
            summary = (
                f"{len(self.edits)} edit{'s' if len(self.edits) != 1 else ''}, {waiting} waiting to be taught. "
                "Select one to see what you changed."
            )
        self.summary = QLabel(summary)
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)

        self.table = QTableWidget(len(self.edits), 3)
        self.table.setObjectName("editsTable")
        self.table.setHorizontalHeaderLabels(["When", "Request", "Taught in"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        for row, edit in enumerate(self.edits):
            taught = "waiting" if edit.waiting(current) else f"version of {version_label(edit.taught_in or '')}"
            for column, text in enumerate((when(edit.created), " ".join(edit.request.split()), taught)):
                item = QTableWidgetItem(text)
                item.setToolTip(edit.request if column == 1 else text)
                self.table.setItem(row, column, item)
        self.table.currentCellChanged.connect(lambda row, *_: self.show_edit(row))

        texts = QSplitter(Qt.Orientation.Horizontal)
        self.draft, draft_box = self._text_box("The draft as written")
        self.edited, edited_box = self._text_box("Your edited text")
        texts.addWidget(draft_box)
        texts.addWidget(edited_box)
        diff_box = QGroupBox("What you changed (removed struck through in red, added in green)")
        diff_layout = QVBoxLayout(diff_box)
        self.diff = QTextBrowser()
        self.diff.setObjectName("editDiff")
        diff_layout.addWidget(self.diff)

        parts = QSplitter(Qt.Orientation.Vertical)
        parts.addWidget(self.table)
        parts.addWidget(texts)
        parts.addWidget(diff_box)
        parts.setChildrenCollapsible(False)
        parts.setSizes([160, 220, 200])
        layout.addWidget(parts, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        if self.edits:
            self.table.selectRow(0)
            self.show_edit(0)

    def _text_box(self, title: str) -> tuple[QPlainTextEdit, QGroupBox]:
        box = QGroupBox(title)
        inner = QVBoxLayout(box)
        editor = QPlainTextEdit()
        editor.setReadOnly(True)
        inner.addWidget(editor)
        return editor, box

    def show_edit(self, row: int) -> None:
        if not 0 <= row < len(self.edits):
            return
        edit = self.edits[row]
        self.draft.setPlainText(edit.draft)
        self.edited.setPlainText(edit.edited)
        self.diff.setHtml(word_diff_html(edit.draft, edit.edited, self.palette()))
