"""Settings: which model (bundled, one of the recommended models, a Hugging Face id, a local folder or a
.gguf file), device, quantization, preset. The recommended models show what learning with each would take
on this computer (core/planning/estimates.py), once the current model has loaded and measured the machine."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ditto_desk.core.app_settings import AppSettings
from ditto_desk.core.models.catalog import CATALOG, CatalogModel
from ditto_desk.core.models.settings import (
    AUTO,
    BUNDLED,
    BUNDLED_NAME,
    DEVICES,
    QUANTIZATIONS,
    is_folder_choice,
    model_choice_problem,
)
from ditto_desk.core.planning.estimates import GB, Estimate, Fit, format_rough_duration
from ditto_desk.core.training.config import PRESETS
from ditto_desk.ui.learn_page import PRESET_NOTES

DEVICE_LABELS = {
    AUTO: "Automatic (GPU if there is one, else CPU)",
    "cpu": "CPU",
    "cuda": "NVIDIA GPU (CUDA)",
    "mps": "Apple GPU (MPS)",
}
QUANTIZATION_LABELS = {
    AUTO: "Automatic (NF4 on an NVIDIA GPU, bf16 on a CPU that computes in bf16, else full precision)",
    "nf4": "NF4, 4-bit (smallest; falls back to full precision where bitsandbytes can't run)",
    "int8": "8-bit",
    "bf16": "bf16, 16-bit (fastest on CPUs with bf16 arithmetic)",
    "none": "None (full precision; fastest to load on a CPU)",
}


DOWNLOADS = tuple(m for m in CATALOG if not m.bundled)  # the bundled model has its own choice above the table
CATALOG_COLUMNS = ("Model", "Download", "Licence", "Learning needs", "Here", "Learning takes")

FIT_LABELS = {
    Fit.FITS: "fits",
    Fit.TIGHT: "tight: close other programs",
    Fit.TOO_BIG: "too big for this computer",
}


def _took(estimates: list[tuple[CatalogModel, Estimate]] | None) -> str:
    """What learning takes here with the bundled model, as the table says it for the others."""
    bundled = next((e for m, e in estimates or [] if m.bundled), None)
    if bundled is None or bundled.seconds is None:
        return ""
    return f" · learning takes about {format_rough_duration(bundled.seconds)} here"


class SettingsDialog(QDialog):
    def __init__(
        self,
        settings: AppSettings,
        parent: QWidget | None = None,
        estimates: list[tuple[CatalogModel, Estimate]] | None = None,
        speed_note: str = "",
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(980)
        self.settings = settings
        layout = QVBoxLayout(self)

        model_box = QGroupBox("Model")
        grid = QGridLayout(model_box)
        self.bundled = QRadioButton(f"Bundled: {BUNDLED_NAME} (on this computer, no download){_took(estimates)}")
        self.hub = QRadioButton("A Hugging Face model id:")
        self.folder = QRadioButton("A model folder or .gguf file on this computer:")
        self.kind = QButtonGroup(self)
        for button in (self.bundled, self.hub, self.folder):
            self.kind.addButton(button)
        self.hub_id = QLineEdit()
        self.hub_id.setPlaceholderText("e.g. HuggingFaceTB/SmolLM2-360M-Instruct (downloads once)")
        self.folder_path = QLineEdit()
        self.folder_path.setPlaceholderText("A folder saved by transformers (with config.json), or a .gguf file")
        browse = QPushButton("Folder…")
        browse.clicked.connect(self._browse)
        browse_gguf = QPushButton("GGUF file…")
        browse_gguf.setToolTip("A model file from LM Studio, Ollama or llama.cpp: converted once, then loaded")
        browse_gguf.clicked.connect(self._browse_gguf)
        browse_row = QHBoxLayout()
        browse_row.addWidget(browse)
        browse_row.addWidget(browse_gguf)
        self.catalog = self._catalog_table(estimates)
        grid.addWidget(self.bundled, 0, 0, 1, 3)
        recommended = QLabel("Recommended models (one you pick downloads once; a gated one needs its licence):")
        grid.addWidget(recommended, 1, 0, 1, 3)
        grid.addWidget(self.catalog, 2, 0, 1, 3)
        self.speed_note = QLabel(speed_note)  # the times' caveat when the machine was busy as it was measured
        self.speed_note.setWordWrap(True)
        self.speed_note.setVisible(bool(speed_note))
        grid.addWidget(self.speed_note, 3, 0, 1, 3)
        grid.addWidget(self.hub, 4, 0)
        grid.addWidget(self.hub_id, 4, 1, 1, 2)
        grid.addWidget(self.folder, 5, 0)
        grid.addWidget(self.folder_path, 5, 1)
        grid.addLayout(browse_row, 5, 2)
        layout.addWidget(model_box)

        form = QFormLayout()
        self.device = QComboBox()
        for key in DEVICES:
            self.device.addItem(DEVICE_LABELS[key], key)
        self.quantization = QComboBox()
        for key in QUANTIZATIONS:
            self.quantization.addItem(QUANTIZATION_LABELS[key], key)
        self.preset = QComboBox()
        for key in PRESETS:
            self.preset.addItem(PRESET_NOTES.get(key, key), key)
        form.addRow("&Device:", self.device)
        form.addRow("&Quantization:", self.quantization)
        form.addRow("Training &preset:", self.preset)
        layout.addLayout(form)
        note = QLabel(
            "A new model loads in the background. A learned style belongs to the model it was learned with: "
            "after switching models, learn your style again."
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

        self.hub_id.textEdited.connect(lambda: self.hub.setChecked(True))
        self.folder_path.textEdited.connect(lambda: self.folder.setChecked(True))
        self._load(settings)

    def _catalog_table(self, estimates: list[tuple[CatalogModel, Estimate]] | None) -> QTableWidget:
        table = QTableWidget(len(DOWNLOADS), len(CATALOG_COLUMNS))
        table.setHorizontalHeaderLabels(CATALOG_COLUMNS)
        table.verticalHeader().hide()
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        by_id = {model.repo_id: estimate for model, estimate in estimates or []}
        for row, model in enumerate(DOWNLOADS):
            estimate = by_id.get(model.repo_id)
            licence = f"{model.licence} (gated)" if model.gated else model.licence
            cells = [model.repo_id, f"{model.download_bytes / GB:.1f} GB", licence]
            if estimate is None:
                cells += ["…", "shown once the current model has loaded", ""]
            else:
                seconds = estimate.seconds
                cells += [
                    f"{estimate.memory_bytes / GB:.1f} GB",
                    FIT_LABELS[estimate.fit],
                    f"about {format_rough_duration(seconds)}" if seconds is not None else "",
                ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(model.note or licence)
                table.setItem(row, column, item)
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
        table.resizeColumnsToContents()
        table.horizontalHeader().setStretchLastSection(True)
        frame = 2 * table.frameWidth()
        table.setFixedHeight(table.verticalHeader().length() + table.horizontalHeader().height() + frame)
        table.itemSelectionChanged.connect(self._catalog_chosen)
        return table

    def _catalog_chosen(self) -> None:
        rows = self.catalog.selectionModel().selectedRows()
        if rows:
            self.hub_id.setText(DOWNLOADS[rows[0].row()].repo_id)
            self.hub.setChecked(True)

    def _load(self, s: AppSettings) -> None:
        if s.model == BUNDLED:
            self.bundled.setChecked(True)
        elif is_folder_choice(s.model):
            self.folder.setChecked(True)
            self.folder_path.setText(s.model)
        else:
            self.hub.setChecked(True)
            self.hub_id.setText(s.model)
        self.device.setCurrentIndex(max(0, self.device.findData(s.device)))
        self.quantization.setCurrentIndex(max(0, self.quantization.findData(s.quantization)))
        self.preset.setCurrentIndex(max(0, self.preset.findData(s.preset)))

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a model folder", self.folder_path.text())
        if folder:
            self.folder_path.setText(folder)
            self.folder.setChecked(True)

    def _browse_gguf(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose a GGUF model file", self.folder_path.text(), "GGUF models (*.gguf);;All files (*)"
        )
        if path:
            self.folder_path.setText(path)
            self.folder.setChecked(True)

    def chosen_model(self) -> str:
        if self.hub.isChecked():
            return self.hub_id.text().strip()
        if self.folder.isChecked():
            return self.folder_path.text().strip()
        return BUNDLED

    def problem(self) -> str | None:
        """Why the choice can't be used as it is, or None."""
        model = self.chosen_model()
        if self.hub.isChecked() and not model:
            return "Type a Hugging Face model id, or choose the bundled model."
        if self.folder.isChecked() and not model:
            return "Choose a model folder, or choose the bundled model."
        return model_choice_problem(model, as_folder=self.folder.isChecked() if model != BUNDLED else None)

    def accept(self) -> None:
        problem = self.problem()
        if problem:
            QMessageBox.warning(self, "Settings", problem)
            return
        super().accept()

    def apply(self) -> bool:
        """Write the choices into the settings object; True when the model must be reloaded."""
        s = self.settings
        before = s.model_json()
        s.model = self.chosen_model()
        s.device = self.device.currentData()
        s.quantization = self.quantization.currentData()
        s.preset = self.preset.currentData()
        return s.model_json() != before
