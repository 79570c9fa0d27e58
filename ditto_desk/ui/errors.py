"""The one place errors are shown: a dialog with what happened, what to do next, and the details."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from ditto_desk.core.errors import DittoDeskError, ModelError


def explain(exc: BaseException) -> tuple[str, str]:
    """(cause, next step) for an exception, in words a user can act on."""
    name = type(exc).__name__
    message = str(exc).strip()
    if isinstance(exc, DittoDeskError):  # worded for the user already: what happened and what to do
        if isinstance(exc, ModelError):
            return message, "Open Settings (Ctrl+,) to pick another model or device, then try again."
        return message, "Fix the problem described above, then try again."
    if isinstance(exc, MemoryError) or "out of memory" in message.lower():
        return (
            "The computer ran out of memory.",
            "Close other programs, or choose the 'quick' preset or a smaller model in Settings, and try again.",
        )
    return (
        f"Something unexpected went wrong ({name}: {message or 'no message'}).",
        "Try again. If it happens again, keep the details below and report them.",
    )


def show_error(parent: QWidget | None, title: str, exc: BaseException, trace: str = "") -> QMessageBox:
    """Open a non-blocking (window-modal) error dialog and return it."""
    cause, next_step = explain(exc)
    box = QMessageBox(QMessageBox.Icon.Critical, title, cause, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("errorDialog")
    box.setInformativeText(next_step)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if trace:
        box.setDetailedText(trace)
    box.open()
    return box
