"""The Texts page's "From a mailbox…": choose an mbox file, a Maildir folder or an IMAP folder, read it in the
background for the user's own emails, and add the ones they confirm in the picker."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QMenu, QPushButton, QWidget

from ditto_desk.bridge import tasks
from ditto_desk.bridge.workers import Job
from ditto_desk.core.importing.files import ImportResult
from ditto_desk.core.mailbox.picking import DEFAULT_PICKS, Pick
from ditto_desk.core.mailbox.scan import MailboxScan
from ditto_desk.ui.mailbox_dialog import MailboxPicker, ask_addresses, ask_imap_folder


class TextsPage(Protocol):
    """What of the Texts page a mailbox import uses: its one import at a time, its progress, its list."""

    session: Any
    import_job: Job | None
    importing: Any
    message: Any

    def _can_add(self) -> bool: ...
    def _import_ended(self) -> None: ...
    def add_result(self, result: ImportResult) -> None: ...


class MailboxImport(QObject):
    """The "From a mailbox…" button with its menu, and the read it starts; ``page`` is the Texts page (``parent``,
    for dialogs), whose one import slot, progress and list it shares."""

    def __init__(self, page: TextsPage, parent: QWidget) -> None:
        super().__init__(parent)
        self.page = page
        self.parent_widget = parent
        self.picker: MailboxPicker | None = None
        self.likely_addresses: list[str] = []  # from the last mailbox that held none of the user's emails
        self.last_imap = ""  # the IMAP folder last read, offered again (never its password)
        self.button = QPushButton("From a &mailbox…")
        self.button.setToolTip(
            "Pick your own best emails from a mailbox your mail program keeps or exports (an mbox file, a Maildir "
            "folder, or a folder on your mail server); you confirm them before they are added"
        )
        menu = QMenu(self.button)
        menu.addAction("An mbox file…", self.choose_mbox)
        menu.addAction("A Maildir folder…", self.choose_maildir)
        menu.addAction("An IMAP folder on your mail server…", self.choose_imap)
        self.button.setMenu(menu)

    def choose_mbox(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.parent_widget, "Your mailbox (mbox)", str(Path.home()), "Mailboxes (*.mbox *.mbx);;All files (*)"
        )
        if path:
            self.add(path)

    def choose_maildir(self) -> None:
        path = QFileDialog.getExistingDirectory(self.parent_widget, "Your Maildir folder", str(Path.home()))
        if path:
            self.add(path)

    def choose_imap(self) -> None:
        chosen = ask_imap_folder(self.parent_widget, self.last_imap)
        if chosen:
            self.last_imap = chosen[0]
            self.add(chosen[0], password=chosen[1])

    def add(self, source: str | Path, me: list[str] | None = None, password: str = "") -> Job | None:
        """Read a mailbox in the background for the user's own emails (from ``me``, asked for when not given),
        then let them confirm the picks (:class:`MailboxPicker`); nothing is added before they do."""
        page = self.page
        if not page._can_add():
            return None
        if page.import_job is not None:
            page.message.emit("Still reading: wait for it, or press Cancel.")
            return None
        if me is None:
            me = ask_addresses(self.parent_widget, self.likely_addresses or page.session.settings.my_addresses)
        if not me:
            return None
        job = Job(tasks.pick_from_mailbox(str(source), me, DEFAULT_PICKS, password), "Could not read the mailbox")
        job.progress.connect(page.importing.on_progress)
        job.finished.connect(lambda result: self._read(me, *result))
        job.cancelled.connect(lambda: page.message.emit("Reading the mailbox was cancelled: nothing was added."))
        job.ended.connect(page._import_ended)
        page.importing.cancel_requested.connect(job.cancel)
        page.importing.start(1)
        page.import_job = job.start()
        return job

    def _read(self, me: list[str], scan: MailboxScan, picks: list[Pick]) -> None:
        page = self.page
        if not scan.own.found:
            self.likely_addresses = scan.likely_addresses()
            most = f" Most are from {', '.join(self.likely_addresses)}." if self.likely_addresses else ""
            page.message.emit(
                f"None of the {scan.read.messages:,} emails is one of yours to learn from (sent from "
                f"{', '.join(me)}).{most} Choose the mailbox again with your address, or give your Sent folder."
            )
            return
        page.session.settings.my_addresses = list(me)
        page.session.save_settings()
        picker = self.picker = MailboxPicker(scan, picks, self.parent_widget)
        picker.accepted.connect(lambda: page.add_result(ImportResult(demonstrations=picker.chosen())))
        picker.open()
