"""Colours and style derived from the current palette, so light and dark themes both stay readable.

Nothing here hard-codes a text or background colour: accents are picked per palette lightness.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication

from ditto_desk.core.places import RESOURCES

# Resources live beside the package in a source checkout; an installed app without them still runs.
RESTYLER = "dittoDeskRestyler"


def is_dark(palette: QPalette | None = None) -> bool:
    palette = palette or QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def accent(name: str, palette: QPalette | None = None) -> QColor:
    """A named accent colour with enough contrast against the palette's base colour."""
    dark = is_dark(palette)
    colours = {
        "loss": ("#1f6fb2", "#7cc0ff"),
        "dpo": ("#6d28d9", "#c4b5fd"),
        "margin": ("#c2410c", "#ffab70"),
        "warning": ("#8a5300", "#ffc266"),
        "ok": ("#2f7d32", "#8fdc93"),
    }
    light_hex, dark_hex = colours[name]
    return QColor(dark_hex if dark else light_hex)


def dark_palette() -> QPalette:
    """A dark palette built from roles (used by tests and the --dark option)."""
    p = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#202124",
        QPalette.ColorRole.WindowText: "#e8eaed",
        QPalette.ColorRole.Base: "#17181a",
        QPalette.ColorRole.AlternateBase: "#2a2b2e",
        QPalette.ColorRole.Text: "#e8eaed",
        QPalette.ColorRole.Button: "#2d2e31",
        QPalette.ColorRole.ButtonText: "#e8eaed",
        QPalette.ColorRole.Highlight: "#3d6fb6",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: "#2d2e31",
        QPalette.ColorRole.ToolTipText: "#e8eaed",
        QPalette.ColorRole.PlaceholderText: "#9aa0a6",
        QPalette.ColorRole.Link: "#8ab4f8",
    }
    for role, colour in roles.items():
        p.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7f8388"))
    return p


def app_icon() -> QIcon:
    path = RESOURCES / "icons" / "ditto-desk.svg"
    return QIcon(str(path)) if path.is_file() else QIcon()


class _RestyleOnPaletteChange(QObject):
    """A style sheet freezes the palette it was applied with: when the palette changes later (the system
    switches to dark mode), apply the sheet again so every widget takes the new colours."""

    def __init__(self, app: QApplication, sheet: str) -> None:
        super().__init__(app)
        self.setObjectName(RESTYLER)
        self.sheet = sheet

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if watched is QApplication.instance() and event.type() == QEvent.Type.ApplicationPaletteChange:
            app = QApplication.instance()
            app.setStyleSheet("")
            app.setStyleSheet(self.sheet)
        return False


def apply_style(app: QApplication, dark: bool = False) -> None:
    """Fusion everywhere (it follows the palette faithfully), plus the small palette-based style sheet."""
    app.setStyle("Fusion")
    if dark:
        app.setPalette(dark_palette())
    path = RESOURCES / "style.qss"
    if path.is_file():
        sheet = path.read_text(encoding="utf-8")
        app.setStyleSheet(sheet)
        old = app.findChild(QObject, RESTYLER)
        if old is not None:  # apply_style called again: one filter is enough
            app.removeEventFilter(old)
            old.deleteLater()
        app.installEventFilter(_RestyleOnPaletteChange(app, sheet))
    app.setWindowIcon(app_icon())
