"""Start the desktop app: ``ditto-desk`` with no subcommand calls :func:`main`."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from PySide6.QtWidgets import QApplication

from ditto_desk.core.app_settings import load_app_settings
from ditto_desk.core.profiles.store import ProfileStore
from ditto_desk.core.training.config import TrainingConfig
from ditto_desk.ui.main_window import MainWindow
from ditto_desk.ui.session import Session
from ditto_desk.ui.theme import apply_style

USAGE = """usage: ditto-desk [--dark] [Qt options]

Opens the Ditto Desk window. --dark uses a dark colour palette."""


def build_window(
    store: ProfileStore | None = None,
    training_config: TrainingConfig | None = None,
    *,
    autoload_model: bool = True,
) -> MainWindow:
    """The main window on the saved settings and profiles (a QApplication must exist)."""
    session = Session(store or ProfileStore(), load_app_settings(), training_config)
    return MainWindow(session, autoload_model=autoload_model)


def main(argv: Sequence[str] | None = None) -> int:
    """Create the QApplication and the window, and run until it closes. ``argv`` excludes the program name."""
    args = list(sys.argv[1:] if argv is None else argv)
    if "-h" in args or "--help" in args:
        print(USAGE)
        return 0
    dark = "--dark" in args
    args = [a for a in args if a != "--dark"]
    app = QApplication.instance() or QApplication(["ditto-desk", *args])
    app.setApplicationName("Ditto Desk")
    app.setOrganizationName("ditto-desk")
    app.setDesktopFileName("ditto-desk")
    apply_style(app, dark=dark)
    window = build_window()
    screen = app.primaryScreen()
    if screen is not None:  # fit small screens (1280x800 with a task bar), never exceed the default size
        room = screen.availableGeometry()
        window.resize(min(window.width(), room.width() - 40), min(window.height(), room.height() - 60))
    window.show()
    window.start()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
