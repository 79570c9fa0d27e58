"""Teach by editing, under the draft in Compose: the draft as the model wrote it is remembered, the user
corrects it in place, and Teach keeps the edit and asks for an update of the style (Save edit only keeps
it, to teach several together). Shows how many edits wait to be taught, and opens their history."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QWidget

from ditto_desk.bridge.workers import error_hub
from ditto_desk.core.errors import InputError, ProfileError
from ditto_desk.core.profiles.edits import changes_something
from ditto_desk.ui.edits_dialog import EditsDialog
from ditto_desk.ui.session import Session


def waiting_text(count: int) -> str:
    if count == 0:
        return "No edit waiting to be taught."
    return f"{count} edit{'s' if count != 1 else ''} waiting to be taught."


class TeachBar(QWidget):
    teach_requested = Signal()  # the waiting edits should now be taught (the window runs the update)
    message = Signal(str)

    def __init__(self, session: Session, editor: QPlainTextEdit) -> None:
        super().__init__()
        self.session = session
        self.editor = editor
        self.request: str | None = None  # the request the draft answered, as the model was given it
        self.draft: str | None = None  # the draft as the model wrote it, before any edit
        self.saved: str | None = None  # the edited text last kept for this draft
        self.profile_name: str | None = None  # the profile whose style wrote the draft
        self.writing = False
        self.waiting = 0
        self.dialog: EditsDialog | None = None
        self._build()
        editor.textChanged.connect(self.update_buttons)
        session.profile_changed.connect(self.refresh)
        session.training_changed.connect(self.update_buttons)
        self.refresh()

    def _build(self) -> None:
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.teach_button = QPushButton("Teach")
        self.teach_button.setObjectName("teach")
        self.teach_button.clicked.connect(self.teach)
        self.save_button = QPushButton("Save edit")
        self.save_button.setToolTip(
            "Keep this edit without learning yet: correct several drafts, then teach them together"
        )
        self.save_button.clicked.connect(self.save)
        self.waiting_label = QLabel()
        self.waiting_label.setObjectName("waitingEdits")
        self.history_button = QPushButton("Taught edits…")
        self.history_button.setToolTip("The drafts you corrected in this profile, and what you changed")
        self.history_button.clicked.connect(self.show_history)
        row.addWidget(self.teach_button)
        row.addWidget(self.save_button)
        row.addWidget(self.waiting_label, 1)
        row.addWidget(self.history_button)

    # -- the draft ---------------------------------------------------------------------------------

    def remember(self, profile: str, request: str, draft: str) -> None:
        """A draft was written in the learned style of ``profile``: edits of it can now teach that profile."""
        current = self.session.profile
        if current is None or current.name != profile or not draft.strip():
            self.forget()  # the profile changed while it was being written
            return
        self.request, self.draft, self.saved, self.profile_name = request, draft, None, profile
        self.update_buttons()

    def forget(self) -> None:
        self.request = self.draft = self.saved = self.profile_name = None
        self.update_buttons()

    def set_writing(self, writing: bool) -> None:
        self.writing = writing
        self.update_buttons()

    # -- state -------------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the waiting edits again (after a profile change, an update, an undo or a saved edit)."""
        profile = self.session.profile
        if profile is None or profile.name != self.profile_name:
            # A draft of another profile's style would teach this one the wrong thing.
            self.request = self.draft = self.saved = self.profile_name = None
        self.waiting = 0
        if profile is None:
            self.waiting_label.clear()
        elif not profile.has_adapter:
            self.waiting_label.setText("Learn your style first; then correct its drafts here to teach it.")
        else:
            try:
                self.waiting = len(profile.waiting_edits())
                self.waiting_label.setText(waiting_text(self.waiting))
            except ProfileError as exc:
                self.waiting_label.setText(str(exc))
        self.history_button.setEnabled(profile is not None)
        self.update_buttons()

    def edited(self) -> bool:
        """The text differs from the draft, and from what was last kept for it."""
        text = self.editor.toPlainText()
        return (
            self.draft is not None
            and changes_something(self.draft, text)
            and (self.saved is None or changes_something(self.saved, text))
        )

    def update_buttons(self, *_: object) -> None:
        profile = self.session.profile
        free = profile is not None and profile.has_adapter and not self.writing and not self.session.training
        edited = self.edited()
        self.save_button.setEnabled(free and edited)
        # Teach also takes the edits kept with Save edit when there is no new one here.
        self.teach_button.setEnabled(free and (edited or self.waiting > 0))
        others = f" and the {self.waiting} waiting" if self.waiting else ""
        self.teach_button.setToolTip(
            f"Keep this edit and update your style from it{others}"
            if edited
            else "Correct the draft above, then press Teach to update your style from it"
            if not self.waiting
            else f"Update your style from the {self.waiting} waiting edit{'s' if self.waiting != 1 else ''}"
        )

    # -- actions -----------------------------------------------------------------------------------

    def _keep(self) -> bool:
        """Store the edit in the profile; False (and why, in the message) when it was not kept."""
        profile = self.session.profile
        if profile is None or self.request is None or self.draft is None:
            return False
        text = self.editor.toPlainText()
        try:
            profile.add_edit(self.request, self.draft, text)
        except ProfileError as exc:
            error_hub.error.emit("Could not save the edit", exc, "")
            return False
        except InputError as exc:  # the edit itself was refused (empty, unchanged, too long): said in a line
            self.message.emit(str(exc))
            return False
        self.saved = text
        self.refresh()
        return True

    def save(self) -> None:
        if self.save_button.isEnabled() and self._keep():
            self.message.emit(f"Edit saved. {waiting_text(self.waiting)} Press Teach when you are ready.")

    def teach(self) -> None:
        if not self.teach_button.isEnabled():
            return
        if self.edited() and not self._keep():
            return
        if self.waiting:
            self.teach_requested.emit()

    def show_history(self) -> None:
        profile = self.session.profile
        if profile is None:
            return
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = EditsDialog(profile, self.window())
        self.dialog.open()
