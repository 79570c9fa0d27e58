"""The window's menu bar: a profile's file actions, Settings and Quit; Help with how the app works and About."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMainWindow, QMessageBox

from ditto_desk import __version__
from ditto_desk.ui.profile_bar import ProfileBar
from ditto_desk.ui.session import Session

HOW_IT_WORKS = (
    "1 · Your texts: add a few emails or posts you wrote (paste them, drop files, or pick from a mailbox).\n\n"
    "2 · Learn my style: the model on this computer learns from them (DITTO: it first imitates your texts, then "
    "learns to prefer them over its own drafts). It takes minutes; you can keep using the app meanwhile, and a "
    "stopped learning continues where it was.\n\n"
    "3 · Compose: say what to write, or paste the email you are answering, and the draft comes in your style. "
    "Correct a draft and press Teach to teach the style your correction.\n\n"
    "Everything stays on this computer: no text is sent anywhere."
)


def add_menus(
    window: QMainWindow,
    session: Session,
    profiles: ProfileBar,
    open_settings: Callable[[], None],
    model_in_use: Callable[[], str],
) -> None:
    bar = window.menuBar()
    file = bar.addMenu("&File")
    file.addAction("&New profile…", profiles.new_profile)
    file.addAction("&Import a profile…", profiles.import_profile)
    file.addAction("&Export this profile…", profiles.export_profile)
    file.addSeparator()
    settings = file.addAction("&Settings…\tCtrl+,", open_settings)  # the window's own shortcut opens it
    session.training_changed.connect(lambda running: settings.setEnabled(not running))
    file.addSeparator()
    file.addAction("&Quit", window.close)
    help_menu = bar.addMenu("&Help")
    help_menu.addAction("&How Ditto Desk works", lambda: QMessageBox.information(window, "How it works", HOW_IT_WORKS))

    def show_about() -> None:  # read when asked: the model in use may have changed
        QMessageBox.about(window, "About Ditto Desk", about(session, model_in_use()))

    help_menu.addAction("&About Ditto Desk", show_about)


def about(session: Session, model: str) -> str:
    model = model or "not loaded yet"
    return (
        f"Ditto Desk {__version__}\n\n"
        "Teaches a language model on this computer to write the way you write (DITTO: Demonstration ITerated "
        "Task Optimization). It works offline; a model is downloaded only when you choose one in Settings.\n\n"
        f"Model in use: {model}\n"
        f"Your profiles are kept in: {session.store.root}\n\n"
        "Licence: Apache-2.0. The bundled model, SmolLM2-135M-Instruct, is Apache-2.0 (Hugging Face)."
    )
