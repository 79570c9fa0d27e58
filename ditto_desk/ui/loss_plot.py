"""The live training plot: loss and reward margin against the training step, in palette colours."""

from __future__ import annotations

import math
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ditto_desk.core.progress import Phase, ProgressEvent
from ditto_desk.ui.theme import accent


class StepAxis(pg.AxisItem):
    """Training steps are whole numbers: no 1.5 or 2.5 ticks."""

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list:  # noqa: N802, N803 - pyqtgraph API
        levels = [
            (spacing, [v for v in values if abs(v - round(v)) < 1e-9])
            for spacing, values in super().tickValues(minVal, maxVal, size)
            if spacing >= 1
        ]
        if not levels:
            levels = [(1.0, [float(v) for v in range(math.ceil(minVal), math.floor(maxVal) + 1)])]
        return levels


class LossPlot(QWidget):
    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.widget = pg.PlotWidget(axisItems={"bottom": StepAxis("bottom")})
        self.widget.setObjectName("lossPlot")
        self.widget.setMinimumHeight(180)
        self.widget.setMenuEnabled(False)
        self.widget.setMouseEnabled(x=False, y=False)
        self.widget.hideButtons()
        layout.addWidget(self.widget)
        self.plot = self.widget.getPlotItem()
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setLabel("bottom", "training step")
        # SFT and DPO losses measure different things: two curves, never one line joining them.
        self.sft_curve = self.plot.plot([], [], name="loss while studying", symbol="o", symbolSize=6)
        self.dpo_curve = self.plot.plot([], [], name="loss while comparing", symbol="s", symbolSize=6)
        self.margin_curve = self.plot.plot([], [], name="reward margin", symbol="t", symbolSize=8)
        self.curves = {"sft": self.sft_curve, "dpo": self.dpo_curve, "margin": self.margin_curve}
        self._dpo_line: pg.InfiniteLine | None = None
        self.clear()
        self.apply_palette()

    def apply_palette(self) -> None:
        palette = self.palette()
        base = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        self.widget.setBackground(base)
        for axis in ("left", "bottom"):
            self.plot.getAxis(axis).setPen(pg.mkPen(text))
            self.plot.getAxis(axis).setTextPen(pg.mkPen(text))
        loss, dpo, margin = accent("loss", palette), accent("dpo", palette), accent("margin", palette)
        gap = "&nbsp;" * 4
        # The legend is the title line, above the curves, so it never hides a point.
        self.plot.setTitle(
            f"<span style='color:{loss.name()}'>● loss while studying your texts</span>{gap}"
            f"<span style='color:{dpo.name()}'>■ loss while comparing</span>{gap}"
            f"<span style='color:{margin.name()}'>▼ reward margin</span>"
            f"<span style='color:{text.name()}'> (how much more the model now prefers your text to its draft)</span>",
            size="10pt",
        )
        for curve, colour in ((self.sft_curve, loss), (self.dpo_curve, dpo), (self.margin_curve, margin)):
            curve.setPen(pg.mkPen(colour, width=2))
            curve.setSymbolBrush(colour)
            curve.setSymbolPen(colour)

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt override: follow a theme switch
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange:
            self.apply_palette()

    def clear(self) -> None:
        self.steps = 0
        self.points: dict[str, tuple[list[float], list[float]]] = {series: ([], []) for series in self.curves}
        for curve in self.curves.values():
            curve.setData([], [])
        if self._dpo_line is not None:
            self.plot.removeItem(self._dpo_line)
            self._dpo_line = None

    def add(self, event: ProgressEvent) -> bool:
        """Plot a training step's numbers; returns False for events that carry none."""
        if event.loss is None:
            return False
        self.steps += 1
        if event.phase == Phase.DPO and self._dpo_line is None and self.steps > 1:
            # Where learning from the user's texts ends and comparing with the model's own drafts begins.
            palette = self.palette()
            self._dpo_line = pg.InfiniteLine(
                self.steps - 0.5,
                angle=90,
                pen=pg.mkPen(palette.color(QPalette.ColorRole.Mid), style=Qt.PenStyle.DashLine),
                label="comparison rounds",
                labelOpts={"position": 0.95, "color": palette.color(QPalette.ColorRole.Text)},
            )
            self.plot.addItem(self._dpo_line)
        self._append("dpo" if event.phase == Phase.DPO else "sft", event.loss)
        if event.reward_margin is not None:
            self._append("margin", event.reward_margin)
        return True

    def show_log(self, log: list[dict[str, Any]]) -> None:
        """Plot a finished learning's steps from its training log (the entries a run's events were made from)."""
        self.clear()
        for entry in log:
            loss, margin = entry.get("loss"), entry.get("reward_margin")
            if entry.get("phase") in (Phase.SFT, Phase.DPO) and isinstance(loss, (int, float)):
                margin = float(margin) if isinstance(margin, (int, float)) else None
                self.add(ProgressEvent(entry["phase"], "", loss=float(loss), reward_margin=margin))

    @property
    def margin_y(self) -> list[float]:
        """Every plotted reward margin (scripts/screenshots.py waits for the first)."""
        return self.points["margin"][1]

    def _append(self, series: str, value: float) -> None:
        xs, ys = self.points[series]
        xs.append(self.steps)
        ys.append(value)
        self.curves[series].setData(xs, ys)
