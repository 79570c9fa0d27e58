""" "History…": what a profile learned, and when. One row per kept version (a learning from its texts or an
update from taught edits) with its figures, the settings it used for the one selected, and a way to make an
earlier version current again."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ditto_desk.core.profiles.history import LearnedVersion, history
from ditto_desk.ui.edits_dialog import version_label
from ditto_desk.ui.session import Session


class HistoryDialog(QDialog):
    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setWindowTitle("History of this style")
        self.resize(900, 560)
        layout = QVBoxLayout(self)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("versions")
        self.table.setHorizontalHeaderLabels(["Saved", "", "What it learned"])
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.itemSelectionChanged.connect(self._selected)
        layout.addWidget(self.table, 2)
        layout.addWidget(QLabel("Settings it learned with"))
        self.settings = QPlainTextEdit()
        self.settings.setObjectName("settings")
        self.settings.setReadOnly(True)
        layout.addWidget(self.settings, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.use_button = QPushButton("Use this version")
        self.use_button.setToolTip("Make the selected version the profile's style again, exactly as it was saved")
        self.use_button.clicked.connect(self._use)
        buttons.addButton(self.use_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.versions: list[LearnedVersion] = []
        self.refresh()

    def refresh(self) -> None:
        profile = self.session.profile
        self.versions = history(profile) if profile is not None else []
        self.summary.setText(
            f"{len(self.versions)} kept version(s) of “{profile.name}”, newest first: each learning and each update "
            "from taught edits. Its texts are on step 1; the edits it was taught, under Compose → Taught edits…"
            if profile is not None
            else "No profile is open."
        )
        self.table.setRowCount(len(self.versions))
        for row, version in enumerate(self.versions):
            row_texts = (version_label(version.version), ", ".join(version.marks), version.summary())
            for column, text in enumerate(row_texts):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        if self.versions:
            self.table.selectRow(0)
        self._selected()

    def _selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        version = self.versions[rows[0].row()] if rows else None
        self.settings.setPlainText(version.settings_text() if version is not None else "")
        self.use_button.setEnabled(version is not None and not version.current and not version.problem)

    def _use(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows and self.session.use_version(self.versions[rows[0].row()].version):
            self.refresh()
