"""How a core job reports progress and learns it was cancelled. Plain Python: the GUI and the CLI
both consume these events."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


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

    phase: str  # "load", "sft", "sample", "dpo", "save", "done"
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


def ignore_progress(event: ProgressEvent) -> None:
    """The default callback: report nothing."""


class ProgressClock:
    """Turns 'work units done of total' into elapsed time and an ETA.

    Phases cost different amounts per unit, so the engine gives each phase a weight in seconds
    (its own estimate) and the clock corrects the estimate by the speed measured so far.
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
        return self.done_units / self.total_units

    @property
    def eta(self) -> float | None:
        if self.done_units <= 0:
            return None
        return self.elapsed * (self.total_units - self.done_units) / self.done_units
