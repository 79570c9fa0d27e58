"""Step 2: "Learn my style". Runs DITTO on the open profile as a background job, with the phase, a
progress bar with elapsed time and ETA, a live plot, and a Cancel that keeps the previous style. An update
from the drafts corrected in Compose (teach by editing) runs here too, the same way: one run at a time."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QProgressBar, QPushButton, QVBoxLayout, QWidget

from ditto_desk.bridge import tasks
from ditto_desk.bridge.workers import Job
from ditto_desk.core.planning.estimates import GB, Estimate, Fit, describe_estimate
from ditto_desk.core.progress import Phase, ProgressEvent, format_duration
from ditto_desk.core.training.config import DEFAULT_PRESET, PRESETS
from ditto_desk.ui.learn_words import describe_training, kept_words
from ditto_desk.ui.loss_plot import LossPlot
from ditto_desk.ui.model_host import FAILED, ModelHost
from ditto_desk.ui.session import Session

PRESET_NOTES = {
    "quick": "quick — the fastest; minutes on a laptop CPU",
    "standard": "standard — longer, usually a closer match",
    "paper": "paper — the DITTO paper's settings; slow without a GPU",
}
PHASE_TITLES = {  # when an event comes without a message of its own
    Phase.CONVERT: "Preparing the model (once)",
    Phase.LOAD: "Preparing the model",
    Phase.SFT: "Studying your texts",
    Phase.SAMPLE: "Drafting texts to compare with yours",
    Phase.DPO: "Learning to prefer your texts",
    Phase.SAVE: "Saving your style",
    Phase.DONE: "Finishing",
}
# Getting the model ready often reports no fraction: the bar is then left alone, not reset to 0.
_MODEL_PHASES = (Phase.DOWNLOAD, Phase.CONVERT, Phase.LOAD)
LEARN, TEACH = "learn", "teach"  # what the page runs: DITTO on the texts, or an update from the edits


class LearnPage(QWidget):
    message = Signal(str)
    compose_requested = Signal()

    def __init__(self, session: Session, model_host: ModelHost) -> None:
        super().__init__()
        self.session = session
        self.model_host = model_host
        self.job: Job | None = None
        self.kind = LEARN  # what the current (or last) run is
        self.pending = False  # Learn or Teach was pressed while the compose model was still loading
        self._failed_with: tuple[object, ...] | None = None  # what a failure shown below was about
        self._plotted: tuple[object, ...] | None = None  # the profile and style whose learning the plot shows
        self.ready_check: Callable[[], bool] = lambda: True
        self.before_start: Callable[[], None] = lambda: None
        self._build()
        session.profile_changed.connect(self.refresh)
        model_host.state_changed.connect(self._model_state)
        self.refresh()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        title = QLabel("Learn my style")
        title.setObjectName("pageTitle")
        intro = QLabel(
            "The model first studies your texts, then writes its own versions and learns to prefer yours "
            "(DITTO). Everything runs on this computer; you can keep using the app meanwhile."
        )
        intro.setWordWrap(True)
        self.state_label = QLabel()
        self.state_label.setObjectName("profileState")
        self.state_label.setWordWrap(True)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addWidget(self.state_label)

        row = QHBoxLayout()
        self.learn_button = QPushButton("Learn my style")
        self.learn_button.setObjectName("primary")
        self.learn_button.setToolTip("Train on this profile's texts (Ctrl+L)")
        self.learn_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop training; your previous style is kept (Esc)")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        self.undo_button = QPushButton("Undo last learning")
        self.undo_button.setToolTip("Go back to the style this profile had before its last learning, exactly")
        self.undo_button.clicked.connect(self.undo)
        self.history_button = QPushButton("History…")
        self.history_button.setToolTip("Every kept version of this style: when, from what, its figures; use one again")
        self.history_button.clicked.connect(self.show_history)
        self.preset_label = QLabel()
        row.addWidget(self.learn_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.undo_button)
        row.addWidget(self.history_button)
        row.addSpacing(12)
        row.addWidget(self.preset_label, 1)
        layout.addLayout(row)

        self.phase_label = QLabel("Not started.")
        self.phase_label.setObjectName("phase")
        self.phase_label.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        self.progress.setAccessibleName("Training progress")
        self.time_label = QLabel()
        self.metrics_label = QLabel()
        self.metrics_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.phase_label)
        layout.addWidget(self.progress)
        times = QHBoxLayout()
        times.addWidget(self.time_label)
        times.addStretch(1)
        times.addWidget(self.metrics_label)
        layout.addLayout(times)
        self.plot = LossPlot()
        layout.addWidget(self.plot, 1)

        result_row = QHBoxLayout()
        self.result_label = QLabel()
        self.result_label.setObjectName("result")
        self.result_label.setWordWrap(True)
        self.compose_button = QPushButton("Next: Compose →")
        self.compose_button.clicked.connect(self.compose_requested)
        self.compose_button.hide()
        result_row.addWidget(self.result_label, 1)
        result_row.addWidget(self.compose_button)
        layout.addLayout(result_row)

    # -- state -------------------------------------------------------------------------------------

    @property
    def training(self) -> bool:
        """A learning or an update is running (or waiting for the model): only one at a time."""
        return self.job is not None or self.pending

    @property
    def activity(self) -> str:
        return "Teaching" if self.kind == TEACH else "Learning"

    def _context(self) -> tuple[object, ...]:
        """What a failure depends on: the profile, its texts and the model chosen."""
        profile = self.session.profile
        texts = tuple(d.text for d in profile.demonstrations) if profile is not None else ()
        return (profile.name if profile is not None else None, texts, tuple(self.session.settings.model_json().items()))

    def _show_failure(self, text: str) -> None:
        self.phase_label.setText(text)
        self._failed_with = self._context()

    def refresh(self) -> None:
        if self._failed_with is not None and self.job is None and self._context() != self._failed_with:
            self._failed_with = None  # another profile, other texts or another model: that failure is not theirs
            self.phase_label.setText("Not started.")
        profile = self.session.profile
        if profile is None:
            self.state_label.setText("No profile is open.")
        elif profile.has_adapter:
            self.state_label.setText(
                describe_training(profile.record) + " Learning again replaces it." + kept_words(profile)
            )
        else:
            self.state_label.setText("This profile has not learned a style yet." + kept_words(profile))
        self._show_how_it_was_learned()
        name = self.session.settings.preset if self.session.settings.preset in PRESETS else DEFAULT_PRESET
        self.preset_label.setText(f"Preset: {PRESET_NOTES.get(name, name)} (change it in Settings).{self._estimate()}")
        self.update_buttons()

    def _show_how_it_was_learned(self) -> None:
        """With no learning under way, the plot shows how the current style was learned, from its training log (after
        a restart, or on opening another profile), rather than staying empty."""
        shown = self._shown()
        if self.session.training or self.pending or shown == self._plotted:
            return
        self._plotted = shown
        profile = self.session.profile
        self.plot.show_log(profile.training_log if profile is not None and profile.has_adapter else [])
        if self.plot.steps and self.phase_label.text() == "Not started.":
            self.phase_label.setText("The plot shows how the current style was learned.")
        elif not self.plot.steps and self.phase_label.text() == "The plot shows how the current style was learned.":
            self.phase_label.setText("Not started.")

    def _shown(self) -> tuple[object, ...] | None:
        profile = self.session.profile
        return (profile.name, profile.active_adapter_dir) if profile is not None else None

    def _run_estimate(self) -> Estimate | None:
        """What the run will take here, once the model is loaded and the profile has texts."""
        profile, host = self.session.profile, self.model_host
        if profile is None or not profile.demonstrations or host.machine is None or host.writer is None:
            return None
        from ditto_desk.core.planning.estimates import estimate_run  # torch: loaded already, with the model

        config = self.session.training_config()
        return estimate_run(host.writer.loaded, host.machine, config, [d.text for d in profile.demonstrations])

    def _estimate(self) -> str:
        run = self._run_estimate()
        if run is None:
            return ""
        note = self.model_host.machine.speed_note
        return f"\nOn this computer: {describe_estimate(run)}." + (f" {note}" if note else "")

    def _enough_memory(self) -> bool:
        """True unless learning needs more memory than is free and the user chose not to try anyway."""
        run = self._run_estimate()
        if run is None or run.fit != Fit.TOO_BIG:
            return True
        answer = QMessageBox.question(
            self,
            "Not enough memory",
            f"Learning with this model needs about {run.memory_bytes / GB:.1f} GB, more than this computer has "
            "free now. Close other programs, or pick a smaller model in Settings.\n\nTry anyway?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def undo(self) -> None:
        version = self.session.undo_learning()
        if version is not None:
            self.message.emit("Back to the previous style (Undo again to go further back).")

    def show_history(self) -> None:
        from ditto_desk.ui.history_dialog import HistoryDialog

        HistoryDialog(self.session, self).exec()

    def update_buttons(self) -> None:
        profile = self.session.profile
        current = profile.active_adapter_dir if profile is not None else None
        earlier = current is not None and any(v < current.name for v in profile.versions())
        self.undo_button.setEnabled(earlier and not self.training)
        self.history_button.setEnabled(current is not None and not self.training)
        ready = self.session.profile is not None and self.ready_check()
        self.learn_button.setEnabled(ready and not self.training)
        self.learn_button.setToolTip(
            "Train on this profile's texts (Ctrl+L)" if ready else "Add at least 2 texts first (step 1)."
        )
        self.cancel_button.setEnabled(self.training)

    # -- running -----------------------------------------------------------------------------------

    def start(self) -> None:
        """Learn the style from the profile's texts."""
        if self.training or self.session.profile is None or not self.ready_check():
            return
        if self._enough_memory():
            self._begin(LEARN)

    def teach(self) -> None:
        """Update the learned style from the edits waiting to be taught (kept in Compose)."""
        profile = self.session.profile
        if self.training or profile is None or not profile.has_adapter:
            return
        if self._enough_memory():
            self._begin(TEACH)

    def _begin(self, kind: str) -> None:
        self.kind = kind
        self.before_start()  # the update learns from the texts too: edits in progress reach the file first
        self.session.set_training(True)
        self.plot.clear()
        self._plotted = self._shown()  # a cancelled run's steps stay in view; a new style's log replaces them
        self.progress.setValue(0)
        self.result_label.clear()
        self.compose_button.hide()
        self.metrics_label.clear()
        self.time_label.clear()
        if self.model_host.busy:
            # Loading the same model twice at once would race on the first-run conversion; wait for it.
            self.pending = True
            self.phase_label.setText("Waiting for the model to finish loading…")
        else:
            self._launch()
        self.update_buttons()

    def _model_state(self, state: str) -> None:
        self.refresh()  # the estimate needs the loaded model
        if not self.pending or self.model_host.busy:
            return
        self.pending = False
        if state == FAILED or self.model_host.error:  # failed, or failed and the model in use was kept
            # Training would load the same model and fail the same way: one dialog about it is enough.
            what = "The update" if self.kind == TEACH else "Training"
            self._show_failure(f"{what} did not start: the model could not be loaded (see Settings).")
            self._ended()
        else:
            self._launch()

    def _launch(self) -> None:
        profile = self.session.profile
        assert profile is not None
        self._failed_with = None
        self.phase_label.setText("Starting…")
        # The update uses the model and the preset that learning uses.
        make, title = (tasks.teach, "The update stopped") if self.kind == TEACH else (tasks.train, "Training stopped")
        job = Job(
            make(self.session.store, profile.name, self.session.settings.model_json(), self.session.training_config()),
            title,
        )
        job.progress.connect(self.on_progress)
        job.finished.connect(self._finished)
        job.cancelled.connect(self._cancelled)
        job.failed.connect(self._failed)
        job.ended.connect(self._ended)
        self.job = job.start()
        self.update_buttons()

    def cancel(self) -> None:
        if self.pending:
            self.pending = False
            self._cancelled()
            self._ended()
        elif self.job is not None and not self.job.token.cancelled:
            self.job.cancel()
            self.phase_label.setText("Cancelling… (this takes a few seconds)")
            self.cancel_button.setEnabled(False)

    def on_progress(self, event: ProgressEvent) -> None:
        if self.job is not None and self.job.token.cancelled:
            return  # keep saying "Cancelling…"
        self.phase_label.setText(event.message or PHASE_TITLES.get(event.phase, event.phase))
        if event.phase not in _MODEL_PHASES or event.fraction:
            self.progress.setValue(round(1000 * min(max(event.fraction, 0.0), 1.0)))
        if event.elapsed_s:
            left = "estimating time left…" if event.eta_s is None else f"about {format_duration(event.eta_s)} left"
            self.time_label.setText(f"Elapsed {format_duration(event.elapsed_s)} · {left}")
        if self.plot.add(event):
            parts = [f"loss {event.loss:.3f}"]
            if event.reward_margin is not None:
                margin = event.reward_margin if abs(event.reward_margin) >= 5e-4 else 0.0  # no "-0.000"
                parts.append(f"reward margin {margin:+.3f}")
            # The first comparison step starts from a tie (margin 0): "preferred in 0%" would only alarm.
            if event.reward_accuracy is not None and abs(event.reward_margin or 0.0) >= 5e-4:
                parts.append(f"your text preferred in {event.reward_accuracy:.0%} of pairs")
            self.metrics_label.setText("Last step: " + " · ".join(parts))

    def _finished(self, summary: object) -> None:
        self.progress.setValue(1000)
        seconds = format_duration(getattr(summary, "seconds", 0.0))
        self.phase_label.setText("Done.")
        if self.kind == TEACH:
            self.result_label.setText(
                f"Updated your style from your edits in {seconds}. Try it in Compose; "
                "“Undo last learning” takes the update back."
            )
            self.compose_button.setText("Back to Compose →")
            self.message.emit("Your style was updated from your edits and saved.")
        else:
            resumed = getattr(summary, "resumed", "")
            continued = f" It continued the stopped learning ({resumed} already done)." if resumed else ""
            self.result_label.setText(f"Learned your style in {seconds}.{continued} Try it in Compose.")
            self.compose_button.setText("Next: Compose →")
            self.message.emit("Your style was learned and saved.")
        self.compose_button.show()
        self.session.reload_profile()  # picks up the new adapter (and, after an update, the edits taught)

    def _cancelled(self) -> None:
        profile = self.session.profile
        if self.kind == TEACH:
            kept = "Update cancelled; nothing changed."
        elif profile is not None and profile.has_adapter:
            kept = "Cancelled — your previous style was kept unchanged."
        else:
            kept = "Cancelled — nothing was saved; this profile still has no learned style."
        if self.kind != TEACH and profile is not None:
            kept += kept_words(profile)
        self.phase_label.setText(kept)
        self.progress.setValue(0)
        self.time_label.clear()
        self.message.emit(kept)

    def _failed(self, exc: BaseException, trace: str) -> None:
        # The dialog with the cause and the next step comes from the error hub; this line stays behind.
        what = "The update stopped" if self.kind == TEACH else "Training stopped"
        self._show_failure(f"{what}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
        self.progress.setValue(0)
        self.time_label.clear()

    def _ended(self) -> None:
        self.job = None
        self.session.set_training(False)
        self.refresh()
