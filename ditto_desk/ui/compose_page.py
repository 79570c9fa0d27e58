"""Step 3: compose. The email being answered (optional), a request, a draft streamed piece by piece in the
learned style, Stop, Write again,
Copy, and optionally the base model's answer beside it. Under the draft, the teach bar (teach_bar.py):
correct the draft in place and teach the style with the edit."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QTextCursor
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ditto_desk.bridge import tasks
from ditto_desk.bridge.workers import Job
from ditto_desk.core.app_settings import (
    AUTO_LENGTH,
    MAX_STYLE_STRENGTH,
    MAX_TEMPERATURE,
    MIN_STYLE_STRENGTH,
    MIN_TEMPERATURE,
)
from ditto_desk.core.errors import InputError, Refused
from ditto_desk.core.writing.length import MAX_NEW_TOKENS, ROOM
from ditto_desk.ui.model_host import FAILED, LOADING, ModelHost
from ditto_desk.ui.reply_box import ReplyBox
from ditto_desk.ui.session import Session
from ditto_desk.ui.teach_bar import TeachBar

REQUEST_EXAMPLE = "e.g. An email to the team moving Friday's retro to Monday at 10"
REPLY_EXAMPLE = "e.g. yes, but not before May"
DONE = "Done. Edit the draft, write again, or copy it."
DONE_LEARNED = "Done. Correct the draft and press Teach to teach your style, write again, or copy it."


class ComposePage(QWidget):
    message = Signal(str)
    teach_requested = Signal()  # the teach bar kept an edit: the window runs the update

    def __init__(self, session: Session, model_host: ModelHost) -> None:
        super().__init__()
        self.session = session
        self.model_host = model_host
        self.job: Job | None = None
        self._shown_profile = session.profile.name if session.profile is not None else None
        self._build()
        session.profile_changed.connect(self._profile_changed)
        model_host.state_changed.connect(self.refresh)
        self.refresh()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        title = QLabel("Compose")
        title.setObjectName("pageTitle")
        layout.addWidget(title)
        self.notice = QLabel()
        self.notice.setObjectName("notice")
        self.notice.setWordWrap(True)
        self.notice.setFrameShape(QFrame.Shape.StyledPanel)
        self.notice.setMargin(6)
        layout.addWidget(self.notice)

        reply_label = QLabel("&Replying to:")
        self.reply_to = ReplyBox()
        self.reply_to.setMaximumHeight(96)
        self.reply_to.textChanged.connect(self._update_buttons)
        self.reply_to.refused.connect(self._say)
        reply_label.setBuddy(self.reply_to)
        layout.addWidget(reply_label)
        layout.addWidget(self.reply_to)
        self.request_label = QLabel("What should I write?")
        layout.addWidget(self.request_label)
        self.request = QPlainTextEdit()
        self.request.setObjectName("request")
        self.request.setPlaceholderText(REQUEST_EXAMPLE)
        self.request.setTabChangesFocus(True)
        self.request.setMaximumHeight(72)
        self.request.textChanged.connect(self._update_buttons)
        layout.addWidget(self.request)

        controls = QHBoxLayout()
        self.write_button = QPushButton("Write")
        self.write_button.setObjectName("primary")
        self.write_button.setToolTip("Write a draft (Ctrl+Enter)")
        self.write_button.clicked.connect(self.write)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop writing (Esc)")
        self.stop_button.clicked.connect(self.stop)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the draft to the clipboard")
        self.copy_button.clicked.connect(self.copy)
        settings = self.session.settings
        self.length = QSpinBox()
        # Its lowest value reads "Auto": the length taken from the profile's texts (core/writing/length.py).
        self.length.setRange(AUTO_LENGTH, MAX_NEW_TOKENS)
        self.length.setSpecialValueText("Auto")
        self.length.setSingleStep(50)
        self.length.setValue(settings.compose_length)
        self.length.setSuffix(" tokens")
        self.length.setToolTip(
            "The longest draft, in tokens (a token is about ¾ of a word). "
            f"Auto: {ROOM:g} × the longest of the profile's texts; past their median length the draft is "
            "nudged towards an end."
        )
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(MIN_TEMPERATURE, MAX_TEMPERATURE)
        self.temperature.setSingleStep(0.1)
        self.temperature.setDecimals(2)
        self.temperature.setValue(settings.compose_temperature)
        self.temperature.setToolTip("Higher: more varied wording; lower: safer, more predictable")
        self.strength = QDoubleSpinBox()
        self.strength.setObjectName("styleStrength")
        self.strength.setRange(MIN_STYLE_STRENGTH, MAX_STYLE_STRENGTH)
        self.strength.setSingleStep(0.1)
        self.strength.setDecimals(1)
        self.strength.setValue(settings.compose_style_strength)
        self.strength.setToolTip(
            "How much of your learned style: 0 writes as the base model, 1 as learned, above 1 a little more. "
            "Lower it when a draft has your voice but loses the thread."
        )
        self.compare = QCheckBox("Show the base model's answer beside it")
        self.compare.setChecked(settings.show_base_comparison)
        self.compare.toggled.connect(self._compare_toggled)
        for widget in (self.write_button, self.stop_button, self.copy_button):
            controls.addWidget(widget)
        controls.addSpacing(16)
        length_label = QLabel("&Length:")
        length_label.setBuddy(self.length)
        temperature_label = QLabel("&Temperature:")
        temperature_label.setBuddy(self.temperature)
        strength_label = QLabel("St&yle:")
        strength_label.setBuddy(self.strength)
        for widget in (
            length_label,
            self.length,
            temperature_label,
            self.temperature,
            strength_label,
            self.strength,
            self.compare,
        ):
            controls.addWidget(widget)
        controls.addStretch(1)
        layout.addLayout(controls)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.styled_box, self.output = self._output_box("In your style", "draft")
        self.base_box, self.base_output = self._output_box("Base model, without your style", "baseDraft")
        self.teach_bar = TeachBar(self.session, self.output)
        self.teach_bar.message.connect(self._say)
        self.teach_bar.teach_requested.connect(self.teach_requested)
        self.styled_box.layout().addWidget(self.teach_bar)
        self.splitter.addWidget(self.styled_box)
        self.splitter.addWidget(self.base_box)
        self.splitter.setChildrenCollapsible(False)
        layout.addWidget(self.splitter, 1)
        self.status = QLabel()
        layout.addWidget(self.status)
        self._compare_toggled(self.compare.isChecked())

    def _output_box(self, title: str, name: str) -> tuple[QGroupBox, QPlainTextEdit]:
        box = QGroupBox(title)
        inner = QVBoxLayout(box)
        editor = QPlainTextEdit()
        editor.setObjectName(name)
        editor.setPlaceholderText("The draft appears here as it is written. Once it is done you can edit it.")
        inner.addWidget(editor)
        return box, editor

    # -- state -------------------------------------------------------------------------------------

    @property
    def writing(self) -> bool:
        return self.job is not None

    def _profile_changed(self) -> None:
        """Another profile's drafts are not this one's: they go (a reload of the same profile keeps them)."""
        name = self.session.profile.name if self.session.profile is not None else None
        if name != self._shown_profile and not self.writing:
            self.output.clear()
            self.base_output.clear()
            self.status.clear()
            self.teach_bar.forget()
            self.write_button.setText("Write")
        self._shown_profile = name
        self.refresh()

    def refresh(self, *_: object) -> None:
        profile = self.session.profile
        state = self.model_host.state
        if state == LOADING:
            text = "Loading the model in the background… you can type your request meanwhile."
        elif state == FAILED:
            text = f"The model could not be loaded: {self.model_host.error} Fix it in Settings, then try again."
        elif profile is not None and profile.has_adapter:
            text = f"Writing in the style learned for “{profile.name}”."
        else:
            text = (
                "This profile has not learned a style yet, so drafts come from the base model. "
                "Add your texts and press “Learn my style” first."
            )
        self.notice.setText(text)
        self._update_buttons()

    def _update_buttons(self) -> None:
        replying = bool(self.reply_to.toPlainText().strip())
        self.request_label.setText("What should the reply say? (optional)" if replying else "What should I write?")
        self.request.setPlaceholderText(REPLY_EXAMPLE if replying else REQUEST_EXAMPLE)
        asked = replying or bool(self.request.toPlainText().strip())
        ready = self.model_host.writer is not None and asked
        self.write_button.setEnabled(ready and not self.writing)
        self.stop_button.setEnabled(self.writing)
        self.copy_button.setEnabled(bool(self.output.toPlainText().strip()))
        self.compare.setEnabled(not self.writing)

    def _compare_toggled(self, on: bool) -> None:
        self.base_box.setVisible(on)
        self.session.settings.show_base_comparison = on

    def remember_controls(self) -> None:
        """Copy length/temperature/style/comparison into the app settings (saved when the window closes)."""
        settings = self.session.settings
        settings.compose_length = self.length.value()
        settings.compose_temperature = round(self.temperature.value(), 2)
        settings.compose_style_strength = round(self.strength.value(), 1)
        settings.show_base_comparison = self.compare.isChecked()

    # -- writing -----------------------------------------------------------------------------------

    def write(self) -> None:
        typed = self.request.toPlainText().strip()
        writer = self.model_host.writer
        if self.writing or writer is None:
            return
        try:
            message = self.reply_to.message()
        except Refused as exc:
            self._say(f"The email you are answering: {exc}")
            return
        if not typed and message is None:
            return
        profile = self.session.profile
        # The model's request, and the one an edit of the draft is kept with: the typed words in the profile's
        # form, after the message answered.
        try:
            request = tasks.model_request(writer, profile, typed, message)
        except InputError as exc:
            self._say(str(exc))
            return
        adapter = profile.active_adapter_dir if profile is not None else None
        compare = self.compare.isChecked()
        self.teach_bar.forget()
        self.output.clear()
        self.base_output.clear()
        if compare and adapter is None:
            self.base_output.setPlainText("(Same as the draft: this profile has no learned style yet.)")
        self.remember_controls()
        self.status.setText("Writing…")
        job = Job(
            tasks.write(
                writer, profile, request, self.length.value(), self.temperature.value(), compare, self.strength.value()
            ),
            "Could not write the draft",
        )
        answered = request if profile is not None and adapter is not None else None
        name = profile.name if profile is not None else ""
        job.item.connect(self._piece)
        job.finished.connect(lambda _: self._written(name, answered, DONE_LEARNED if answered else DONE))
        job.cancelled.connect(lambda: self._written(name, answered, "Stopped."))
        job.failed.connect(lambda exc, _: self.status.setText("Writing failed (see the message)."))
        job.ended.connect(self._ended)
        self.job = job.start()
        self.output.setReadOnly(True)  # the draft must be exactly what the model wrote until it ends
        self.teach_bar.set_writing(True)
        self._update_buttons()

    def _written(self, profile: str, answered: str | None, status: str) -> None:
        self.status.setText(status)
        if answered is not None:  # only a draft in the learned style can teach it (a stopped one too)
            self.teach_bar.remember(profile, answered, self.output.toPlainText())

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.message.emit(text)

    def _piece(self, item: tuple[str, str]) -> None:
        target, piece = item
        editor = self.output if target == "styled" else self.base_output
        cursor = editor.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(piece)
        bar = editor.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _ended(self) -> None:
        self.job = None
        self.output.setReadOnly(False)
        self.teach_bar.set_writing(False)
        self.write_button.setText("Write again")
        self._update_buttons()

    def stop(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.status.setText("Stopping…")

    def copy(self) -> None:
        text = self.output.toPlainText().strip()
        if text:
            QGuiApplication.clipboard().setText(text)
            self.message.emit("Draft copied to the clipboard.")
