"""What happens to the files a user adds: an import in progress (with Cancel), and the files that were
not added, each with its reason."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QStyle,
    QVBoxLayout,
)

from ditto_desk.core.importing.files import Refusal
from ditto_desk.core.progress import ProgressEvent


class ImportProgress(QFrame):
    """Shown while files are read in the background: what is being read, how far, and a way out."""

    cancel_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("importProgress")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # busy until the first file is counted
        self.bar.setTextVisible(False)
        self.bar.setMaximumWidth(120)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop reading the files; nothing is added")
        self.cancel_button.clicked.connect(self._cancel)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.hide()

    def start(self, count: int) -> None:
        self.label.setText(f"Reading {count} item{'s' if count != 1 else ''}…")
        self.bar.setRange(0, 0)
        self.cancel_button.setEnabled(True)
        self.show()

    def on_progress(self, event: ProgressEvent) -> None:
        if event.total:
            self.bar.setRange(0, event.total)
            self.bar.setValue(event.step)
        if event.message and self.cancel_button.isEnabled():
            self.label.setText(event.message)

    def _cancel(self) -> None:
        self.cancel_button.setEnabled(False)
        self.label.setText("Cancelling…")
        self.cancel_requested.emit()


class RefusalPanel(QFrame):
    """Files that were not added, each with its reason; the good ones were kept."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("refusals")
        layout = QVBoxLayout(self)
        header = QHBoxLayout()
        self.title = QLabel()
        self.title.setWordWrap(True)
        clear = QPushButton("Dismiss")
        clear.setToolTip("Hide this list")
        clear.clicked.connect(self.clear)
        header.addWidget(self.title, 1)
        header.addWidget(clear)
        layout.addLayout(header)
        self.list = QListWidget()
        self.list.setObjectName("refusalList")
        self.list.setWordWrap(True)
        layout.addWidget(self.list)
        self.hide()

    def show_refusals(self, refused: list[Refusal]) -> None:
        self.list.clear()
        icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        for r in refused:
            item = QListWidgetItem(icon, f"{Path(r.source).name or r.source}: {r.reason}")
            item.setToolTip(r.source)
            self.list.addItem(item)
        shown = sum(max(self.list.sizeHintForRow(i), 20) for i in range(min(len(refused), 4)))
        self.list.setFixedHeight(shown + 2 * self.list.frameWidth() + 4)
        n = len(refused)
        self.title.setText(f"{n} not added (the others were kept):" if n != 1 else "1 not added:")
        self.setVisible(bool(refused))

    def clear(self) -> None:
        self.list.clear()
        self.hide()
