"""The profile selector: a combo of the saved styles, with New, Rename, Delete, and Export / Import as one
archive (to take a style to another computer)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QWidget,
)

from ditto_desk.ui.session import Session


class ProfileBar(QWidget):
    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        label = QLabel("Pro&file:")
        self.combo = QComboBox()
        self.combo.setObjectName("profileCombo")
        self.combo.setMinimumContentsLength(16)
        self.combo.setToolTip("Each profile is one style: its own texts and its own learned model")
        label.setBuddy(self.combo)
        self.new_button = QPushButton("New…")
        self.rename_button = QPushButton("Rename…")
        self.delete_button = QPushButton("Delete…")
        self.new_button.setToolTip("Start a new style profile (e.g. “Work email”, “Blog”)")
        self.new_button.clicked.connect(self.new_profile)
        self.rename_button.clicked.connect(self.rename_profile)
        self.delete_button.clicked.connect(self.delete_profile)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save this style (texts and learned model) as one file for another computer")
        self.export_button.clicked.connect(self.export_profile)
        self.import_button = QPushButton("Import…")
        self.import_button.setToolTip("Add a style exported on another computer (checked before anything is saved)")
        self.import_button.clicked.connect(self.import_profile)
        buttons = (self.new_button, self.rename_button, self.delete_button, self.export_button, self.import_button)
        for widget in (label, self.combo, *buttons):
            layout.addWidget(widget)
        self.combo.activated.connect(self._chosen)
        session.profile_changed.connect(self.refresh)
        session.profiles_listed.connect(self.refresh)
        session.training_changed.connect(lambda running: self.setEnabled(not running))
        self.refresh()

    def refresh(self) -> None:
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItems(self.session.profile_names())
        current = self.session.profile.name if self.session.profile else ""
        self.combo.setCurrentIndex(self.combo.findText(current))
        self.combo.blockSignals(False)
        has = self.session.profile is not None
        self.rename_button.setEnabled(has)
        self.delete_button.setEnabled(has)
        self.export_button.setEnabled(has)

    def _chosen(self, index: int) -> None:
        name = self.combo.itemText(index)
        if self.session.profile is None or name != self.session.profile.name:
            self.session.open_profile(name)
        self.refresh()

    def new_profile(self) -> None:
        name, ok = QInputDialog.getText(self, "New profile", "Name of the new style (e.g. Work email):")
        if ok and name.strip():
            self.session.create_profile(name)

    def rename_profile(self) -> None:
        profile = self.session.profile
        if profile is None:
            return
        name, ok = QInputDialog.getText(self, "Rename profile", "New name:", text=profile.name)
        if ok and name.strip() and name.strip() != profile.name:
            self.session.rename_profile(name)

    def delete_profile(self) -> None:
        profile = self.session.profile
        if profile is None:
            return
        answer = QMessageBox.question(
            self,
            "Delete profile",
            f"Delete the profile “{profile.name}” with its texts and learned style? This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.session.delete_profile()

    def export_profile(self) -> None:
        profile = self.session.profile
        if profile is None:
            return
        suggested = str(Path(documents_folder()) / f"{profile.name}.ditto.zip")  # not the folder the app runs in
        file, _ = QFileDialog.getSaveFileName(self, "Export profile", suggested, "Ditto Desk profiles (*.zip)")
        if file and self.session.export_profile(file):
            QMessageBox.information(self, "Export profile", f"“{profile.name}” was saved to {file}.")

    def import_profile(self) -> None:
        kinds = "Ditto Desk profiles (*.zip);;All files (*)"
        file, _ = QFileDialog.getOpenFileName(self, "Import profile", documents_folder(), kinds)
        if file:
            self.session.import_profile(file)


def documents_folder() -> str:
    """Where the file dialogs of exports and imports open: the user's documents (or home) folder."""
    found = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return found or str(Path.home())
