"""How a core job reports progress and learns it was cancelled. Plain Python: the GUI and the CLI
both consume these events.

The vocabulary, defined here once (one word per idea: not "task", not "worker"). A *job* is core work that
reports progress and can be cancelled: a function given a progress callback and a cancel token. The CLI calls
such functions itself; the window runs each as ``fn(progress, cancel)`` (:data:`JobFn`) in a background thread
(``bridge/tasks.py`` makes the window's jobs, ``bridge/workers.py`` runs them). A job reports
:class:`ProgressEvent` s, each in a :class:`Phase`, and ends in one :class:`Outcome`.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:  # Python 3.10: the same, by hand

    class StrEnum(str, Enum):
        """Members that are their plain strings: they compare, hash, print and serialise as their values."""

        def __str__(self) -> str:
            return str(self.value)  # and so f"{Phase.SFT}" is "sft", not "Phase.SFT"


class Phase(StrEnum):
    """What a job is doing. The values are written into training logs and compared by tests: keep them."""

    # Getting the model ready (models/hub.py, models/gguf.py, models/loading.py)
    DOWNLOAD = "download"  # fetching a Hugging Face model, once
    CONVERT = "convert"  # converting a GGUF model (the bundled one or the user's) into the cache, once
    LOAD = "load"
    # Training (training/engine.py, jobs.py); SFT, SAMPLE and DPO are also the training log's entry kinds
    SFT = "sft"
    SAMPLE = "sample"
    REFERENCE = "reference"  # scoring samples under the frozen SFT model: timed (phase_seconds), no events
    DPO = "dpo"
    SAVE = "save"
    DONE = "done"
    # Reading the user's files (importing/files.py)
    IMPORT = "import"
    # The evaluation (evaluation/runner.py), around its trainings' own phases
    GENERATE = "generate"
    SCORE = "score"
    REPORT = "report"


class Outcome(StrEnum):
    """How a job the window ran ended: exactly one of these."""

    FINISHED = "finished"
    CANCELLED = "cancelled"
    FAILED = "failed"


class Cancelled(Exception):
    """Raised inside a job when its cancel token was set; the job leaves nothing half-written."""


class CancelToken:
    """A flag the caller sets and the job checks between steps and between sampling batches."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()


@dataclass(frozen=True)
class ProgressEvent:
    """One progress report. ``step``/``total`` count within the current phase; ``fraction`` is overall."""

    phase: str  # a Phase (a str)
    message: str
    step: int = 0
    total: int = 0
    fraction: float = 0.0
    elapsed_s: float = 0.0
    eta_s: float | None = None
    loss: float | None = None
    reward_margin: float | None = None
    reward_accuracy: float | None = None
    samples_drawn: int = 0


ProgressCallback = Callable[[ProgressEvent], None]
JobFn = Callable[[ProgressCallback, CancelToken], Any]


def ignore_progress(event: ProgressEvent) -> None:
    """The default callback: report nothing."""


# Below this share of the work done, an ETA would extrapolate from noise: none is given.
_MIN_FRACTION_FOR_ETA = 0.005


def eta_seconds(elapsed: float, fraction: float) -> float | None:
    """Time left if the rest goes at the pace so far; None until there is a pace to go by."""
    if fraction <= _MIN_FRACTION_FOR_ETA:
        return None
    return elapsed * (1 - fraction) / fraction


def format_duration(seconds: float) -> str:
    """Elapsed or remaining time as "4:05", or "1:02:03" past an hour: the one format of the CLI and the window."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class ProgressClock:
    """Turns 'work units done of total' into the overall fraction, elapsed time and an ETA.

    Phases cost different amounts per unit, so each job gives its kinds of work a weight (its own
    estimate) and the clock corrects the estimate by the speed measured so far.
    """

    def __init__(self, total_units: float) -> None:
        self.start = time.monotonic()
        self.total_units = max(total_units, 1e-9)
        self.done_units = 0.0

    def advance(self, units: float) -> None:
        self.done_units = min(self.total_units, self.done_units + units)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.start

    @property
    def fraction(self) -> float:
        return self.fraction_with(0.0)

    def fraction_with(self, partial_units: float) -> float:
        """The fraction done, counting ``partial_units`` of work under way that is not yet advanced."""
        return min(1.0, (self.done_units + partial_units) / self.total_units)

    @property
    def eta(self) -> float | None:
        return eta_seconds(self.elapsed, self.fraction)

    def event(self, phase: str, message: str, *, partial_units: float = 0.0, **fields: Any) -> ProgressEvent:
        """A progress event stamped with this clock's fraction, elapsed time and ETA."""
        fraction, elapsed = self.fraction_with(partial_units), self.elapsed
        return ProgressEvent(
            phase, message, fraction=fraction, elapsed_s=elapsed, eta_s=eta_seconds(elapsed, fraction), **fields
        )
