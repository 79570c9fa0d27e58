"""The selected text on the Texts page: its request (prompt), the message it answers if it is a reply, and the
text itself, all editable; a flag when the text may teach badly, and where it came from."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ditto_desk.core.texts.demonstration import Demonstration
from ditto_desk.core.texts.guidance import flag


class DemoEditor(QWidget):
    """The selected text, the request (prompt) it answers and the message it replies to, all editable."""

    edited = Signal()

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        self.prompt = QLineEdit()
        self.prompt.setPlaceholderText("What was asked for, e.g. “Write an email about: Friday offsite”")
        self.prompt.setToolTip("The request this text answers; the model learns to answer such requests your way.")
        self.prompt.setAcceptDrops(False)  # files dropped here go to the window, not into the line
        form.addRow("&Prompt:", self.prompt)
        layout.addLayout(form)
        context_row = QHBoxLayout()
        self.context_label = QLabel()
        self.context_label.setBuddy(self.prompt)
        self.not_a_reply = QPushButton("Not a reply")
        self.not_a_reply.setToolTip("Forget the message this text answers: it is learnt as a text of its own")
        self.not_a_reply.clicked.connect(lambda: self.context.setPlainText(""))
        context_row.addWidget(self.context_label, 1)
        context_row.addWidget(self.not_a_reply)
        layout.addLayout(context_row)
        self.context = QPlainTextEdit()
        self.context.setObjectName("demoContext")
        self.context.setAccessibleName("The message this text answers")
        self.context.setPlaceholderText("If this text is a reply, the message it answers (optional).")
        self.context.setMaximumHeight(110)
        self.context.setAcceptDrops(False)
        self.context.setTabChangesFocus(True)
        layout.addWidget(self.context)
        self.text = QPlainTextEdit()
        self.text.setPlaceholderText("Select a text on the left to see and edit it.")
        self.text.setAcceptDrops(False)
        layout.addWidget(self.text, 1)
        self.flag = QLabel()
        self.flag.setWordWrap(True)
        self.source = QLabel()
        self.source.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.source.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.flag)
        layout.addWidget(self.source)
        self._loading = False
        self.prompt.textEdited.connect(self._changed)
        self.text.textChanged.connect(self._changed)
        self.context.textChanged.connect(self._changed)
        self.show_demo(None)

    def show_demo(self, demo: Demonstration | None) -> None:
        self._loading = True
        self.prompt.setText(demo.prompt if demo else "")
        self.text.setPlainText(demo.text if demo else "")
        self.context.setPlainText(demo.context if demo else "")
        self._loading = False
        for widget in (self.prompt, self.text, self.context):
            widget.setEnabled(demo is not None)
        self.update_context_label(demo)
        self.source.setText(f"From: {demo.source}" if demo else "")
        self.update_flag(demo)

    def update_flag(self, demo: Demonstration | None) -> None:
        reason = flag(demo) if demo else None
        self.flag.setText(f"⚠ {reason}" if reason else "")
        self.flag.setVisible(bool(reason))

    def update_context_label(self, demo: Demonstration | None) -> None:
        replying = demo is not None and bool(demo.context.strip())
        sender = f" from {demo.context_sender}" if replying and demo and demo.context_sender else ""
        self.context_label.setText(f"Answers this email{sender}:" if replying else "Answers: (not a reply)")
        self.not_a_reply.setVisible(replying)

    def set_read_only(self, read_only: bool) -> None:
        for widget in (self.prompt, self.text, self.context):
            widget.setReadOnly(read_only)
        self.not_a_reply.setEnabled(not read_only)

    def _changed(self, *_: object) -> None:
        if not self._loading:
            self.edited.emit()
