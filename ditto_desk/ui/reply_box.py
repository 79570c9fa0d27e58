"""The message being answered, in Compose: pasted, or read from an .eml or text file dropped on the box. A file's
sender and subject are kept with its text until the text is changed by hand or cleared."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QPlainTextEdit

from ditto_desk.core.errors import Refused
from ditto_desk.core.importing.files import IncomingMessage, pasted_message, read_message


class ReplyBox(QPlainTextEdit):
    refused = Signal(str)  # a dropped file could not be read: why, and what to do

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("replyTo")
        self.setAccessibleName("The email you are answering")
        self.setPlaceholderText(
            "Optional: paste the email you are answering, or drop its .eml or .txt file here. "
            "The draft then replies to it."
        )
        self.setTabChangesFocus(True)
        self._from_file: IncomingMessage | None = None
        self.textChanged.connect(self._edited)

    def message(self) -> IncomingMessage | None:
        """The message to answer, or None when the box is empty; raises Refused when it holds no words."""
        if not self.toPlainText().strip():
            return None
        if self._from_file is not None:
            return self._from_file
        return pasted_message(self.toPlainText())

    def show_message(self, message: IncomingMessage) -> None:
        self.setPlainText(message.text)
        self._from_file = message  # after setPlainText: its own change must not forget the file
        who = f" from {message.sender}" if message.sender else ""
        self.setToolTip(f"The email{who}" + (f": “{message.subject}”" if message.subject else ""))

    def _edited(self) -> None:
        if self._from_file is not None and self.toPlainText() != self._from_file.text:
            self._from_file = None
            self.setToolTip("")

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        urls = event.mimeData().urls()
        if not urls:
            super().dropEvent(event)
            return
        event.acceptProposedAction()
        if len(urls) > 1 or not urls[0].isLocalFile():
            self.refused.emit("Drop one email saved on this computer (.eml or .txt) to answer it.")
            return
        path = urls[0].toLocalFile()
        try:
            # Read here, not in a job: the importer's limits bound an email's parse to well under a second.
            self.show_message(read_message(path))
        except Refused as exc:
            self.refused.emit(f"Could not read {path}: {exc}")
