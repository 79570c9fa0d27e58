"""Settings: which model (bundled, a Hugging Face id, or a local folder), device, quantization, preset."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from ditto_desk.core.app_settings import BUNDLED, DEVICES, QUANTIZATIONS, AppSettings
from ditto_desk.core.config import PRESETS
from ditto_desk.core.model_settings import AUTO, BUNDLED_NAME, is_folder_choice, model_choice_problem
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


class SettingsDialog(QDialog):
    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(560)
        self.settings = settings
        layout = QVBoxLayout(self)

        model_box = QGroupBox("Model")
        grid = QGridLayout(model_box)
        self.bundled = QRadioButton(f"Bundled: {BUNDLED_NAME} (on this computer, no download)")
        self.hub = QRadioButton("A Hugging Face model id:")
        self.folder = QRadioButton("A model folder on this computer:")
        self.kind = QButtonGroup(self)
        for button in (self.bundled, self.hub, self.folder):
            self.kind.addButton(button)
        self.hub_id = QLineEdit()
        self.hub_id.setPlaceholderText("e.g. HuggingFaceTB/SmolLM2-360M-Instruct (downloads once)")
        self.folder_path = QLineEdit()
        self.folder_path.setPlaceholderText("A folder saved by transformers (with config.json)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        grid.addWidget(self.bundled, 0, 0, 1, 3)
        grid.addWidget(self.hub, 1, 0)
        grid.addWidget(self.hub_id, 1, 1, 1, 2)
        grid.addWidget(self.folder, 2, 0)
        grid.addWidget(self.folder_path, 2, 1)
        grid.addWidget(browse, 2, 2)
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
