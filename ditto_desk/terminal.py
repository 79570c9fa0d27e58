"""A one-line terminal progress bar for the CLI, drawn from the core's progress events."""

from __future__ import annotations

import sys
from typing import TextIO

from ditto_desk.core.progress import ProgressEvent, format_duration


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
