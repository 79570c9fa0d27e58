""" "From a mailbox…": which addresses are the user's, then the emails picked from the mailbox to confirm or swap
(the picks come ticked with why each was chosen; any other of the user's emails can be ticked instead)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ditto_desk.core.mailbox.picking import Pick
from ditto_desk.core.mailbox.scan import MailboxScan
from ditto_desk.core.texts.demonstration import Demonstration
from ditto_desk.core.texts.guidance import preview


def ask_addresses(parent: QWidget, known: Sequence[str], found_in_mailbox: Sequence[str] = ()) -> list[str] | None:
    """The user's addresses, one or more separated by commas or spaces; None when they cancel."""
    dialog = QDialog(parent)
    dialog.setWindowTitle("Your email addresses")
    layout = QVBoxLayout(dialog)
    note = "Which addresses do you send from? Only emails sent from them are picked."
    if found_in_mailbox:
        note += "\nNone of the emails is from the addresses given; most of them are from: " + ", ".join(
            found_in_mailbox
        )
    label = QLabel(note)
    label.setWordWrap(True)
    layout.addWidget(label)
    field = QLineEdit(", ".join(found_in_mailbox or known))
    field.setPlaceholderText("you@example.com, you@work.example")
    field.setAccessibleName("Your email addresses")
    layout.addWidget(field)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    layout.addWidget(buttons)
    ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
    field.textChanged.connect(lambda text: ok.setEnabled("@" in text))
    ok.setEnabled("@" in field.text())
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return [a for a in field.text().replace(",", " ").split() if "@" in a]


def ask_imap_folder(parent: QWidget, last: str = "") -> tuple[str, str] | None:
    """An IMAP folder (``imaps://you@host/Folder``) and its password, or None when the user cancels. The password
    is used for this read only: it is never saved."""
    dialog = QDialog(parent)
    dialog.setWindowTitle("An IMAP folder")
    layout = QVBoxLayout(dialog)
    label = QLabel(
        "The folder on your mail server, such as imaps://you@mail.example.com/Sent. It is read over TLS and "
        "never changed: nothing is marked read, moved or deleted. The password is used for this read only."
    )
    label.setWordWrap(True)
    layout.addWidget(label)
    url = QLineEdit(last)
    url.setPlaceholderText("imaps://you@mail.example.com/Sent")
    url.setAccessibleName("IMAP folder")
    password = QLineEdit()
    password.setEchoMode(QLineEdit.EchoMode.Password)
    password.setPlaceholderText("Password")
    password.setAccessibleName("Password")
    layout.addWidget(url)
    layout.addWidget(password)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    layout.addWidget(buttons)
    ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
    url.textChanged.connect(lambda text: ok.setEnabled(text.lower().startswith("imaps://")))
    ok.setEnabled(last.lower().startswith("imaps://"))
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return url.text().strip(), password.text()


class MailboxPicker(QDialog):
    """The user's emails found in a mailbox, the picks ticked; Add brings the ticked ones in."""

    def __init__(self, scan: MailboxScan, picks: Sequence[Pick], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Your emails to learn from")
        self.resize(900, 560)
        layout = QVBoxLayout(self)
        summary = QLabel("\n".join(line.strip() for line in scan.summary()))
        summary.setWordWrap(True)
        layout.addWidget(summary)
        hint = QLabel(
            f"The {len(picks)} ticked stand for how you usually write; untick any, or tick others instead. "
            "A few (under ten) teach best."
        )
        hint.setObjectName("guidance")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        splitter = QSplitter()
        self.list = QListWidget()
        self.list.setAccessibleName("Your emails")
        self.list.setWordWrap(True)
        self.preview = QTextBrowser()
        splitter.addWidget(self.list)
        splitter.addWidget(self.preview)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout.addWidget(splitter, 1)
        picked = {p.demonstration.id for p in picks}
        rest = [d for d in scan.own.found if d.id not in picked]
        for pick in picks:
            self._add(pick.demonstration, pick.reason, True)
        for demo in rest:
            self._add(demo, "", False)
        self.list.currentItemChanged.connect(self._show)
        self.list.itemChanged.connect(self._count)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.add_button = QPushButton()
        self.add_button.setDefault(True)
        buttons.addButton(self.add_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.list.setCurrentRow(0)
        self._count()

    def _add(self, demo: Demonstration, reason: str, ticked: bool) -> None:
        first = f"{demo.prompt}  [{demo.source}]"
        item = QListWidgetItem(f"{first}\n{reason}" if reason else first)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)
        item.setData(Qt.ItemDataRole.UserRole, demo)
        item.setToolTip(preview(demo, 300))
        self.list.addItem(item)

    def _items(self) -> list[QListWidgetItem]:
        return [self.list.item(i) for i in range(self.list.count())]

    def chosen(self) -> list[Demonstration]:
        """The ticked emails, in the list's order."""
        return [i.data(Qt.ItemDataRole.UserRole) for i in self._items() if i.checkState() == Qt.CheckState.Checked]

    def _count(self, *_: object) -> None:
        n = len(self.chosen())
        self.add_button.setText(f"Add {n} email{'' if n == 1 else 's'}")
        self.add_button.setEnabled(n > 0)

    def _show(self, item: QListWidgetItem | None, *_: object) -> None:
        demo: Demonstration | None = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if demo is None:
            self.preview.clear()
            return
        answered = f"\n\n— answering {demo.context_sender or 'a message'}:\n{demo.context}" if demo.context else ""
        self.preview.setPlainText(demo.text + answered)
