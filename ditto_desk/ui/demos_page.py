"""Step 1: the demonstrations. A list of the user's texts on the left, the selected one's prompt, text and (for a
reply) the message it answers on the right, refused files listed with their reasons; every change is saved to the
profile."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QMimeData, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QPainter, QPalette, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from ditto_desk.bridge import tasks
from ditto_desk.bridge.workers import Job, error_hub
from ditto_desk.core.errors import ProfileError
from ditto_desk.core.importing.files import ImportResult, Refusal, import_text
from ditto_desk.core.importing.reasons import SUPPORTED
from ditto_desk.core.texts.demonstration import Demonstration, split_new
from ditto_desk.core.texts.guidance import flag, guidance, preview, ready_to_learn
from ditto_desk.ui.demo_delegate import PREVIEW_ROLE, PROMPT_ROLE, DemoDelegate
from ditto_desk.ui.demo_editor import DemoEditor
from ditto_desk.ui.import_panels import ImportProgress, RefusalPanel
from ditto_desk.ui.mailbox_import import MailboxImport
from ditto_desk.ui.session import Session

ID_ROLE = Qt.ItemDataRole.UserRole
SAVE_DELAY_MS = 400


class DemoList(QListWidget):
    """The list of texts; when empty it says how to fill it."""

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().paintEvent(event)
        if self.count():
            return
        painter = QPainter(self.viewport())
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        rect = self.viewport().rect().adjusted(16, 16, -16, -16)
        painter.drawText(
            rect,
            Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
            f"Drag your own emails or posts here\n({SUPPORTED}, or a whole folder),\nor copy a text and press Ctrl+V.",
        )


class DemonstrationsPage(QWidget):
    message = Signal(str)  # a short status-bar note ("Added 3 texts")
    changed = Signal()  # the list changed (count, emptiness): Learn's readiness may have too
    next_requested = Signal()

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.demos: list[Demonstration] = []
        self.locked = False
        self.import_job: Job | None = None
        self._save_timer = QTimer(self, singleShot=True, interval=SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self.save)
        self._build()
        session.about_to_change.connect(self.flush)
        session.profile_changed.connect(self.reload)
        session.training_changed.connect(self.set_locked)
        self.reload()

    # -- layout ------------------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        title = QLabel("Your writing")
        title.setObjectName("pageTitle")
        hint = QLabel(
            "Add a few texts you wrote yourself — emails, posts, notes. Drag files or a folder onto the window, "
            "or paste. Each text gets a prompt (the request it answers) and, for a reply, the message it answers; "
            "edit them if they read wrong."
        )
        hint.setWordWrap(True)
        layout.addWidget(title)
        layout.addWidget(hint)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        self.list = DemoList()
        self.list.setObjectName("demoList")
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setItemDelegate(DemoDelegate(self.list))
        self.list.setUniformItemSizes(True)
        self.list.setAlternatingRowColors(True)
        self.list.setAccessibleName("Demonstrations")
        self.list.currentRowChanged.connect(self._select)
        left_layout.addWidget(self.list, 1)

        buttons = QHBoxLayout()
        self.paste_button = QPushButton("&Paste text")
        self.paste_button.setToolTip("Add the text on the clipboard (Ctrl+V in the list)")
        self.paste_button.clicked.connect(self.paste)
        self.add_button = QPushButton("&Add files…")
        self.add_button.setToolTip(f"Choose files to add ({SUPPORTED})")
        self.add_button.clicked.connect(self.choose_files)
        self.mailbox = MailboxImport(self, self)
        self.mailbox_button = self.mailbox.button
        self.remove_button = QPushButton("&Remove")
        self.remove_button.setToolTip("Remove the selected texts (Delete)")
        self.remove_button.clicked.connect(self.remove_selected)
        for button in (self.paste_button, self.add_button, self.mailbox_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        left_layout.addLayout(buttons)
        self.count_label = QLabel()
        self.count_label.setObjectName("guidance")
        self.count_label.setWordWrap(True)
        left_layout.addWidget(self.count_label)
        self.importing = ImportProgress()
        left_layout.addWidget(self.importing)
        self.refusals = RefusalPanel()
        left_layout.addWidget(self.refusals)

        self.editor = DemoEditor()
        self.editor.edited.connect(self._edited)
        splitter.addWidget(left)
        splitter.addWidget(self.editor)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setChildrenCollapsible(False)
        layout.addWidget(splitter, 1)

        footer = QHBoxLayout()
        footer.addStretch(1)
        self.next_button = QPushButton("Next: Learn my style →")
        self.next_button.clicked.connect(self.next_requested)
        footer.addWidget(self.next_button)
        layout.addLayout(footer)

        paste = QShortcut(QKeySequence(QKeySequence.StandardKey.Paste), self.list)
        paste.setContext(Qt.ShortcutContext.WidgetShortcut)
        paste.activated.connect(self.paste)
        delete = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.list)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self.remove_selected)
        self.setTabOrder(self.list, self.paste_button)
        self.setTabOrder(self.paste_button, self.add_button)
        self.setTabOrder(self.add_button, self.mailbox_button)
        self.setTabOrder(self.mailbox_button, self.remove_button)
        self.setTabOrder(self.remove_button, self.editor.prompt)
        self.setTabOrder(self.editor.prompt, self.editor.context)
        self.setTabOrder(self.editor.context, self.editor.text)
        self.setTabOrder(self.editor.text, self.next_button)

    # -- adding ------------------------------------------------------------------------------------

    def add_paths(self, paths: Iterable[str | Path], refused: Iterable[Refusal] = ()) -> Job | None:
        """Read the files in the background (a big or broken file must not freeze the window), then add
        them; ``refused`` are shown with the files' own refusals."""
        paths = [str(p) for p in paths]
        if not paths or not self._can_add():
            return None
        if self.import_job is not None:
            self.message.emit("Still reading the last files: wait for them, or press Cancel.")
            return None
        earlier = ImportResult(refused=list(refused))
        job = Job(tasks.import_files(paths), "Could not read the files")
        job.progress.connect(self.importing.on_progress)
        job.finished.connect(lambda result: self.add_result(result, keep_refusals=earlier))
        job.cancelled.connect(lambda: self.message.emit("Import cancelled: nothing was added."))
        job.ended.connect(self._import_ended)
        self.importing.cancel_requested.connect(job.cancel)
        self.importing.start(len(paths))
        self.import_job = job.start()
        return job

    def _import_ended(self) -> None:
        if self.import_job is not None:
            self.importing.cancel_requested.disconnect(self.import_job.cancel)
        self.import_job = None
        self.importing.hide()

    def add_text(self, text: str, source: str = "pasted") -> ImportResult | None:
        if not self._can_add():
            return None
        result = import_text(text, source)
        self.add_result(result)
        return result

    def add_mime(self, mime: QMimeData) -> ImportResult | None:
        """Files (local URLs) or plain text, from a drop or the clipboard."""
        if mime.hasUrls():
            local = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
            remote = [u.toString() for u in mime.urls() if not u.isLocalFile()]
            refusals = [Refusal(r, "only files on this computer can be added; save it first") for r in remote]
            if local:
                self.add_paths(local, refusals)
            elif refusals and self._can_add():
                self.add_result(ImportResult(refused=refusals))
            return None
        if mime.hasText():
            return self.add_text(mime.text())
        return None

    def paste(self) -> None:
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None or not (mime.hasUrls() or mime.text().strip()):
            self.refusals.show_refusals([Refusal("clipboard", "the clipboard has no text; copy a text first")])
            return
        self.add_mime(mime)

    def choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Add your texts", str(Path.home()), "Texts (*.txt *.md *.eml *.html *.htm *.docx);;All files (*)"
        )
        self.add_paths(paths)

    def add_result(self, result: ImportResult, keep_refusals: ImportResult | None = None) -> None:
        """Append the imported texts (skipping ones already in the list) and show what was refused."""
        added, repeated = split_new(self.demos, result.demonstrations)
        refused = list(keep_refusals.refused if keep_refusals else []) + list(result.refused)
        refused += [Refusal(demo.source, "this text is already in the list") for demo in repeated]
        if refused:
            self.refusals.show_refusals(refused)
        else:
            self.refusals.clear()
        if not added:
            return
        self.demos.extend(added)
        self.save()
        self._fill_list(select=len(self.demos) - 1)
        self.message.emit(f"Added {len(added)} text{'' if len(added) == 1 else 's'}.")

    def _can_add(self) -> bool:
        if self.locked:
            self.message.emit("Wait for training to finish (or cancel it) before changing your texts.")
            return False
        if self.session.profile is None:
            self.message.emit("Open or create a profile first.")
            return False
        return True

    # -- editing and removing ----------------------------------------------------------------------

    def remove_selected(self) -> None:
        if self.locked:
            return
        rows = sorted({self.list.row(item) for item in self.list.selectedItems()}, reverse=True)
        if not rows:
            return
        for row in rows:
            del self.demos[row]
        self.save()
        self._fill_list(select=min(rows[-1], len(self.demos) - 1))
        self.message.emit(f"Removed {len(rows)} text{'' if len(rows) == 1 else 's'}.")

    def _edited(self) -> None:
        row = self.list.currentRow()
        if self.locked or not 0 <= row < len(self.demos):
            return
        demo = self.demos[row]
        demo.prompt = self.editor.prompt.text()
        demo.text = self.editor.text.toPlainText()
        demo.context = self.editor.context.toPlainText()
        if not demo.context.strip():
            demo.context_sender, demo.context_below = "", False
        self._render_item(self.list.item(row), demo)
        self.editor.update_flag(demo)
        self.editor.update_context_label(demo)
        self._update_guidance()
        self._save_timer.start()  # typing saves once it pauses, not on every key

    def flush(self) -> None:
        """Save a pending edit now (before training, switching profile or closing)."""
        if self._save_timer.isActive():
            self._save_timer.stop()
            self.save()

    def save(self) -> None:
        profile = self.session.profile
        if profile is None:
            return
        try:
            profile.save_demonstrations(self.demos)
        except ProfileError as exc:
            error_hub.error.emit("Could not save your texts", exc, "")
        self.changed.emit()

    # -- display -----------------------------------------------------------------------------------

    def reload(self) -> None:
        self._save_timer.stop()
        profile = self.session.profile
        self.demos = list(profile.demonstrations) if profile else []
        self.refusals.clear()
        self._fill_list(select=0 if self.demos else -1)
        self.changed.emit()

    def _fill_list(self, select: int) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for demo in self.demos:
            item = QListWidgetItem()
            self._render_item(item, demo)
            self.list.addItem(item)
        self.list.setCurrentRow(select)
        self.list.blockSignals(False)
        self._select(select)
        self._update_guidance()

    def _render_item(self, item: QListWidgetItem, demo: Demonstration) -> None:
        reason = flag(demo)
        prompt = demo.prompt.strip() or "(prompt will be derived from the text)"
        if demo.context.strip():
            prompt = f"↩ {demo.context_sender or 'a reply'} · {prompt}"
        item.setText(f"{prompt}\n{preview(demo)}")  # what screen readers and tests see
        item.setData(PROMPT_ROLE, prompt)
        item.setData(PREVIEW_ROLE, preview(demo, 400))
        item.setData(ID_ROLE, demo.id)
        item.setToolTip(reason or demo.source)
        warning = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        item.setIcon(warning if reason else self.style().standardIcon(QStyle.StandardPixmap.SP_FileIcon))

    def _select(self, row: int) -> None:
        self.flush()
        self.editor.show_demo(self.demos[row] if 0 <= row < len(self.demos) else None)

    def _update_guidance(self) -> None:
        text, good = guidance(self.demos)
        self.count_label.setText(text if good else f"⚠ {text}")
        self.next_button.setEnabled(ready_to_learn(self.demos))
        self.remove_button.setEnabled(bool(self.demos) and not self.locked)

    def set_locked(self, locked: bool) -> None:
        """While training, the texts can be read but not changed."""
        if locked:
            self.flush()
        self.locked = locked
        self.editor.set_read_only(locked)
        for button in (self.paste_button, self.add_button, self.mailbox_button):
            button.setEnabled(not locked)
        self._update_guidance()

    def ready(self) -> bool:
        return ready_to_learn(self.demos)
