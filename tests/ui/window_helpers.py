"""Steps the window tests share."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer

from ditto_desk.ui.import_panels import RefusalPanel
from ditto_desk.ui.loss_plot import LossPlot


def add_files(window, qtbot, paths) -> None:
    """Add files as a user would (they are read in the background) and wait until they are in the list."""
    assert window.demos.add_paths(paths) is not None
    qtbot.waitUntil(lambda: window.demos.import_job is None, timeout=20_000)


def refusal_reasons(panel: RefusalPanel) -> list[str]:
    """The lines of the "not added" list, as the user reads them."""
    return [panel.list.item(i).text() for i in range(panel.list.count())]


def plotted_losses(plot: LossPlot) -> list[float]:
    """Every loss the training plot shows, both phases."""
    return plot.points["sft"][1] + plot.points["dpo"][1]


class GapMeter:
    """A 20 ms timer on the GUI thread; the longest gap between its ticks is how long the window froze."""

    def __init__(self) -> None:
        self.timer = QTimer(interval=20)
        self.timer.timeout.connect(self._tick)
        self.last = 0.0
        self.max_gap = 0.0
        self.ticks = 0

    def _tick(self) -> None:
        now = time.perf_counter()
        if self.last:
            self.max_gap = max(self.max_gap, now - self.last)
        self.last = now
        self.ticks += 1

    def start(self) -> None:
        self.last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
