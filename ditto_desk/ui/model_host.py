"""The compose model, loaded in the background after the window shows, and reloaded when the model
settings change. Holds the core ``Writer`` once it is ready."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal

from ditto_desk.bridge import tasks
from ditto_desk.bridge.workers import Job
from ditto_desk.core.progress import StrEnum


class ModelState(StrEnum):
    """Where the compose model stands; ``state_changed`` carries the value (a plain str across the signal)."""

    IDLE = "idle"
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"


LOADING, READY, FAILED, IDLE = ModelState.LOADING, ModelState.READY, ModelState.FAILED, ModelState.IDLE


class ModelHost(QObject):
    """The model in use stays in use until another has loaded: a load that fails puts it back (``kept``)."""

    state_changed = Signal(str)
    progress = Signal(object)  # core ProgressEvents (Phase.CONVERT on the first run, then Phase.LOAD)
    kept = Signal(dict, str)  # a load failed: the model json still in use, and why the other did not load

    def __init__(self) -> None:
        super().__init__()
        self.state: str = IDLE
        self.writer: Any = None
        self.machine: Any = None  # a core Machine, its speed measured on the loaded model (for estimates)
        self.description = ""  # "SmolLM2-135M-Instruct · cpu · nf4"
        self.note = ""  # how it was loaded, and why when it fell back
        self.error = ""
        self.job: Job | None = None
        self._pending: dict[str, str] | None = None
        self._loading: dict[str, str] = {}
        self._working: tuple[dict[str, str], Any, Any, str, str] | None = None  # json, writer, machine, texts

    @property
    def busy(self) -> bool:
        return self.state == LOADING

    def load(self, model_json: dict[str, str]) -> None:
        """Load (or reload) the model; a request made while loading runs once the current load ends."""
        if self.job is not None:
            self._pending = dict(model_json)
            return
        if self.writer is not None:
            self._working = (self._loading, self.writer, self.machine, self.description, self.note)
        self.writer = self.machine = None
        self._loading = dict(model_json)
        self._set_state(LOADING)
        job = Job(tasks.load_writer(dict(model_json)), "Could not load the model")
        job.progress.connect(self.progress)
        job.finished.connect(self._loaded)
        job.failed.connect(self._failed)
        job.ended.connect(self._ended)
        self.job = job.start()

    def cancel(self) -> None:
        """Stop the load under way (a download keeps its bytes and goes on from there next time)."""
        self._pending = None
        if self.job is not None:
            self.job.cancel()

    def _loaded(self, result: tuple[Any, Any]) -> None:
        self.writer, self.machine = result
        self.description = self.writer.loaded.describe()
        self.note = self.writer.loaded.note
        self.error = ""
        self._working = None
        self._set_state(READY)

    def _failed(self, exc: BaseException, trace: str) -> None:
        self.error = str(exc)
        if self._working is None:
            self._set_state(FAILED)
            return
        (self._loading, self.writer, self.machine, self.description, self.note), self._working = self._working, None
        self.kept.emit(dict(self._loading), self.error)
        self._set_state(READY)

    def _ended(self) -> None:
        self.job = None
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self.load(pending)
        elif self.state == LOADING and self._working is not None:  # cancelled: the model in use stays
            (self._loading, self.writer, self.machine, self.description, self.note), self._working = self._working, None
            self._set_state(READY)
        elif self.state == LOADING:  # cancelled (the window is closing)
            self._set_state(IDLE)

    def _set_state(self, state: str) -> None:
        self.state = state
        self.state_changed.emit(state)
