"""The live training plot: loss and reward margin against the training step, in palette colours."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ditto_desk.core.progress import ProgressEvent
from ditto_desk.ui.theme import accent


class LossPlot(QWidget):
    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.widget = pg.PlotWidget()
        self.widget.setObjectName("lossPlot")
        self.widget.setMinimumHeight(180)
        self.widget.setMenuEnabled(False)
        self.widget.setMouseEnabled(x=False, y=False)
        self.widget.hideButtons()
        layout.addWidget(self.widget)
        self.plot = self.widget.getPlotItem()
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setLabel("bottom", "training step")
        self.legend = self.plot.addLegend(offset=(-10, 10))
        self.loss_curve = self.plot.plot([], [], name="loss", symbol="o", symbolSize=5)
        self.margin_curve = self.plot.plot([], [], name="reward margin (your text vs. the model's)", symbol="t")
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
        self.legend.setLabelTextColor(text)
        loss, margin = accent("loss", palette), accent("margin", palette)
        self.loss_curve.setPen(pg.mkPen(loss, width=2))
        self.loss_curve.setSymbolBrush(loss)
        self.loss_curve.setSymbolPen(loss)
        self.margin_curve.setPen(pg.mkPen(margin, width=2))
        self.margin_curve.setSymbolBrush(margin)
        self.margin_curve.setSymbolPen(margin)

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt override: follow a theme switch
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange:
            self.apply_palette()

    def clear(self) -> None:
        self.steps = 0
        self.loss_x: list[float] = []
        self.loss_y: list[float] = []
        self.margin_x: list[float] = []
        self.margin_y: list[float] = []
        self.loss_curve.setData([], [])
        self.margin_curve.setData([], [])
        if self._dpo_line is not None:
            self.plot.removeItem(self._dpo_line)
            self._dpo_line = None

    def add(self, event: ProgressEvent) -> bool:
        """Plot a training step's numbers; returns False for events that carry none."""
        if event.loss is None:
            return False
        self.steps += 1
        if event.phase == "dpo" and self._dpo_line is None and self.steps > 1:
            # Where learning from the user's texts ends and comparing with the model's own drafts begins.
            palette = self.palette()
            self._dpo_line = pg.InfiniteLine(
                self.steps - 0.5,
                angle=90,
                pen=pg.mkPen(palette.color(QPalette.ColorRole.Mid), style=Qt.PenStyle.DashLine),
                label="comparison rounds",
                labelOpts={"position": 0.92, "color": palette.color(QPalette.ColorRole.Text)},
            )
            self.plot.addItem(self._dpo_line)
        self.loss_x.append(self.steps)
        self.loss_y.append(event.loss)
        self.loss_curve.setData(self.loss_x, self.loss_y)
        if event.reward_margin is not None:
            self.margin_x.append(self.steps)
            self.margin_y.append(event.reward_margin)
            self.margin_curve.setData(self.margin_x, self.margin_y)
        return True
