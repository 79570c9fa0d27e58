"""The main window: profile bar, the three steps as tabs (texts, learn, compose), and a status bar
naming the model. It wires pages to the session and shows every error in one place."""

from __future__ import annotations

import contextlib

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ditto_desk.bridge.workers import error_hub, stop_all_jobs
from ditto_desk.core.models.settings import BUNDLED, BUNDLED_NAME
from ditto_desk.core.progress import Phase, ProgressEvent
from ditto_desk.ui.compose_page import ComposePage
from ditto_desk.ui.demos_page import DemonstrationsPage
from ditto_desk.ui.errors import show_error
from ditto_desk.ui.learn_page import LearnPage
from ditto_desk.ui.menus import add_menus
from ditto_desk.ui.model_host import FAILED, IDLE, LOADING, READY, ModelHost
from ditto_desk.ui.profile_bar import ProfileBar
from ditto_desk.ui.session import Session
from ditto_desk.ui.settings_dialog import SettingsDialog
from ditto_desk.ui.theme import app_icon

DEMOS_TAB, LEARN_TAB, COMPOSE_TAB = 0, 1, 2


class MainWindow(QMainWindow):
    def __init__(self, session: Session, *, autoload_model: bool = True) -> None:
        super().__init__()
        self.session = session
        self.model_host = ModelHost()
        self.autoload_model = autoload_model
        self._shut_down = False
        self.ask_before_closing = True  # closing while training asks first (tests turn this off)
        self.error_boxes: list[QMessageBox] = []
        self._convert_dialog: QProgressDialog | None = None
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.resize(1180, 760)
        self.setMinimumSize(900, 600)

        central = QWidget()
        layout = QVBoxLayout(central)
        top = QHBoxLayout()
        self.profile_bar = ProfileBar(session)
        self.settings_button = QPushButton("Settings…")
        self.settings_button.setToolTip("Model, device, quantization and training preset (Ctrl+,)")
        self.settings_button.clicked.connect(self.open_settings)
        top.addWidget(self.profile_bar)
        top.addStretch(1)
        top.addWidget(self.settings_button)
        layout.addLayout(top)

        self.demos = DemonstrationsPage(session)
        self.learn = LearnPage(session, self.model_host)
        self.compose = ComposePage(session, self.model_host)
        self.learn.ready_check = self.demos.ready
        self.learn.before_start = self.demos.flush
        self.learn.plot.widget.setAcceptDrops(False)  # a file dropped on the plot goes to the window
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.demos, "1 · Your texts")
        self.tabs.addTab(self.learn, "2 · Learn my style")
        self.tabs.addTab(self.compose, "3 · Compose")
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        self.model_label = QLabel()
        self.model_label.setObjectName("modelStatus")
        self.training_label = QLabel()
        self.statusBar().addPermanentWidget(self.training_label)
        self.statusBar().addPermanentWidget(self.model_label)

        self._connect()
        self._shortcuts()
        add_menus(self, session, self.profile_bar, self.open_settings, self.model_label.text)
        self.session.open_start_profile()
        self._model_state(self.model_host.state)

    # -- wiring ------------------------------------------------------------------------------------

    def _connect(self) -> None:
        error_hub.error.connect(self.show_error)
        for page in (self.demos, self.learn, self.compose):
            page.message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.demos.changed.connect(self.learn.refresh)  # readiness, and the estimate for these texts
        self.demos.next_requested.connect(lambda: self.tabs.setCurrentIndex(LEARN_TAB))
        self.learn.compose_requested.connect(lambda: self.tabs.setCurrentIndex(COMPOSE_TAB))
        self.compose.teach_requested.connect(self.teach)
        self.learn.progress.valueChanged.connect(self._training_status)
        self.session.training_changed.connect(self._training_changed)
        self.session.profile_changed.connect(self._title)
        self.model_host.state_changed.connect(self._model_state)
        self.model_host.progress.connect(self._model_progress)
        self.model_host.kept.connect(self._model_kept)

    def _shortcuts(self) -> None:
        def add(keys: str | QKeySequence, slot: object) -> None:
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)

        add("Ctrl+L", self.learn_shortcut)
        add("Ctrl+Return", self.write_shortcut)
        add("Ctrl+Enter", self.write_shortcut)
        add("Esc", self.stop_shortcut)
        add("Ctrl+,", self.open_settings)
        add(QKeySequence.StandardKey.Quit, self.close)

    def start(self) -> None:
        """Call after show(): the model loads in the background once the window is on screen."""
        if self.autoload_model:
            self.load_model()  # a background job: returns at once

    def load_model(self) -> None:
        self.model_host.load(self.session.settings.model_json())

    # -- shortcuts ---------------------------------------------------------------------------------

    def learn_shortcut(self) -> None:
        self.tabs.setCurrentIndex(LEARN_TAB)
        self.learn.start()

    def teach(self) -> None:
        """Run the update from the edits kept in Compose on the Learn page: its progress, plot and Cancel."""
        self.tabs.setCurrentIndex(LEARN_TAB)
        self.learn.teach()

    def write_shortcut(self) -> None:
        self.tabs.setCurrentIndex(COMPOSE_TAB)
        self.compose.write()

    def stop_shortcut(self) -> None:
        if self.compose.writing:
            self.compose.stop()
        elif self.learn.training:
            self.learn.cancel()

    # -- drag and drop -----------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        mime = event.mimeData()
        if (mime.hasUrls() or mime.hasText()) and not self.session.training:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt override
        if self.session.training:
            event.ignore()
        else:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        if self.session.training:
            event.ignore()
            return
        event.acceptProposedAction()
        self.tabs.setCurrentIndex(DEMOS_TAB)
        self.demos.add_mime(event.mimeData())

    # -- status ------------------------------------------------------------------------------------

    def _title(self) -> None:
        profile = self.session.profile
        self.setWindowTitle(f"Ditto Desk — {profile.name}" if profile else "Ditto Desk")

    def _model_state(self, state: str) -> None:
        host = self.model_host
        if state == LOADING:
            model = self.session.settings.model
            name = BUNDLED_NAME if model == BUNDLED else model
            self.model_label.setText(f"Model: loading {name} in the background…")
            self.model_label.setToolTip("")
        elif state == READY:
            self.model_label.setText(f"Model: {host.description}")
            self.model_label.setToolTip(host.note)
        elif state == FAILED:
            self.model_label.setText("Model: not loaded — open Settings to fix it")
            self.model_label.setToolTip(host.error)
        else:
            self.model_label.setText("Model: not loaded — open Settings to load one")
        if state != LOADING and self._convert_dialog is not None:
            self._convert_dialog.canceled.disconnect()  # closing a progress dialog emits canceled
            self._convert_dialog.close()
            self._convert_dialog = None

    def _model_progress(self, event: ProgressEvent) -> None:
        if event.phase not in (Phase.CONVERT, Phase.DOWNLOAD):
            self.model_label.setText(f"Model: {event.message}")
            return
        # A download or a one-time conversion takes a while: say so in a progress dialog. A download can be
        # stopped (it goes on from where it stopped next time); a conversion cannot be stopped halfway.
        if self._convert_dialog is None:
            dialog = QProgressDialog("Preparing the model…", "", 0, 100, self)
            dialog.setObjectName("convertDialog")
            dialog.setWindowTitle("Getting the model ready")
            dialog.setWindowModality(Qt.WindowModality.WindowModal)
            dialog.setMinimumDuration(0)
            dialog.setAutoClose(False)
            dialog.setAutoReset(False)
            dialog.canceled.connect(self.model_host.cancel)
            self._convert_dialog = dialog
        if event.phase == Phase.DOWNLOAD:
            self._convert_dialog.setCancelButtonText("Stop download")
        else:
            self._convert_dialog.setCancelButton(None)
        self._convert_dialog.setLabelText(event.message)
        self._convert_dialog.setValue(round(100 * event.fraction))
        self._convert_dialog.show()

    def _training_changed(self, running: bool) -> None:
        self.settings_button.setEnabled(not running)
        self._training_status()

    def _training_status(self, *_: object) -> None:
        running = self.session.training
        progress = f"{self.learn.activity}: {self.learn.progress.value() // 10}%"
        self.training_label.setText(progress if running else "")

    # -- dialogs -----------------------------------------------------------------------------------

    def show_error(self, title: str, exc: BaseException, trace: str = "") -> None:
        for old in [b for b in self.error_boxes if not b.isVisible()]:
            self.error_boxes.remove(old)
            old.deleteLater()
        self.error_boxes.append(show_error(self, title, exc, trace))

    def _model_kept(self, model_json: dict, error: str) -> None:
        """The model chosen did not load: the settings go back to the one still in use, which the window names."""
        from ditto_desk.core.models.settings import ModelSettings

        kept = ModelSettings.from_json(model_json)
        settings = self.session.settings
        settings.model, settings.device, settings.quantization = kept.model, kept.device, kept.quantization
        self.session.save_settings()
        self.learn.refresh()
        message = f"Still using {self.model_host.description}: the model chosen did not load."
        self.statusBar().showMessage(message, 10_000)

    def open_settings(self) -> None:
        if self.session.training:
            self.statusBar().showMessage("Settings can be changed once training has finished.", 6000)
            return
        machine = self.model_host.machine
        speed_note = machine.speed_note if machine is not None else ""
        dialog = SettingsDialog(self.session.settings, self, self.catalog_estimates(), speed_note)
        if dialog.exec() != SettingsDialog.DialogCode.Accepted:
            return
        model_changed = dialog.apply()
        self.session.save_settings()
        self.learn.refresh()
        if model_changed or self.model_host.state in (IDLE, FAILED):  # a stopped or failed load is tried again
            self.load_model()

    def catalog_estimates(self) -> list | None:
        """What learning with each recommended model would take here; None until the model has measured the machine."""
        host, profile = self.model_host, self.session.profile
        if host.writer is None or host.machine is None:
            return None
        from ditto_desk.core.planning.estimates import estimate_catalog  # torch: loaded already, with the model

        texts = [d.text for d in profile.demonstrations] if profile else []
        return estimate_catalog(host.writer.loaded, host.machine, self.session.training_config(), texts)

    # -- closing -----------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if self.learn.training and self.ask_before_closing:
            answer = QMessageBox.question(
                self,
                "Training is running",
                "Stop training and quit? Your previous style is kept unchanged.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Save what is pending and stop every background thread (cancel, then wait). Runs once."""
        if self._shut_down:
            return
        self._shut_down = True
        self.demos.flush()
        self.compose.remember_controls()
        self.session.save_settings()
        self.hide()  # a model still loading can't be interrupted: don't leave a frozen window while we wait
        stop_all_jobs()
        with contextlib.suppress(RuntimeError, TypeError):  # already disconnected
            error_hub.error.disconnect(self.show_error)
