"""The terminal side of a long job: a one-line progress bar drawn from the core's progress events, and Ctrl+C
turned into the job's cancel token."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from ditto_desk.core.progress import CancelToken, ProgressCallback, ProgressEvent, format_duration


class ProgressBar:
    def __init__(self, stream: TextIO | None = None, width: int = 28) -> None:
        self.stream = stream or sys.stderr
        self.width = width
        self.interactive = self.stream.isatty()
        self.last_message = ""

    def update(self, event: ProgressEvent) -> None:
        filled = int(self.width * min(max(event.fraction, 0.0), 1.0))
        bar = "█" * filled + "·" * (self.width - filled)
        metrics = ""
        if event.loss is not None:
            metrics += f" loss {event.loss:.3f}"
        if event.reward_margin is not None:
            metrics += f" margin {event.reward_margin:+.3f}"
        eta = "--:--" if event.eta_s is None else format_duration(event.eta_s)
        times = f"{format_duration(event.elapsed_s)} eta {eta}"
        line = f"[{bar}] {event.fraction:4.0%} {times}  {event.message}{metrics}"
        if self.interactive:
            self.stream.write("\r" + line[:160].ljust(160))
        elif event.message != self.last_message or event.loss is not None:
            self.stream.write(line + "\n")  # logs and CI: one line per step, no carriage returns
        self.last_message = event.message
        self.stream.flush()

    def close(self) -> None:
        if self.interactive:
            self.stream.write("\n")
            self.stream.flush()


@contextmanager
def job_progress() -> Iterator[tuple[ProgressCallback, CancelToken]]:
    """A progress bar on stderr and a cancel token for one job. The first Ctrl+C sets the token, so the job stops
    at its next check and leaves everything as it was; a second one interrupts at once."""
    cancel = CancelToken()

    def on_interrupt(*_: Any) -> None:
        cancel.cancel()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    bar = ProgressBar()
    try:
        yield bar.update, cancel
    finally:
        bar.close()
        signal.signal(signal.SIGINT, previous)
