"""How one text looks in the list: its prompt in bold, a one-line preview below in a softer colour,
a warning icon when it is flagged. Colours come from the palette (selected rows included)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QIcon, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

PROMPT_ROLE = Qt.ItemDataRole.UserRole + 1
PREVIEW_ROLE = Qt.ItemDataRole.UserRole + 2
PAD = 6
ICON = 16


class DemoDelegate(QStyledItemDelegate):
    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:  # noqa: N802
        line = QFontMetrics(option.font).lineSpacing()
        return QSize(200, 2 * line + 2 * PAD + 2)

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        style = opt.widget.style() if opt.widget else QApplication.style()
        # The background and selection exactly as the style draws them, then our two lines on top.
        opt.text = ""
        opt.icon = QIcon()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)

        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        group = (
            QPalette.ColorGroup.Normal
            if option.state & QStyle.StateFlag.State_Enabled
            else QPalette.ColorGroup.Disabled
        )
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        rect = option.rect.adjusted(PAD, PAD, -PAD, -PAD)
        icon = index.data(Qt.ItemDataRole.DecorationRole)
        if icon is not None:
            icon.paint(painter, QRect(rect.left(), rect.top(), ICON, ICON))
        rect.setLeft(rect.left() + ICON + PAD)

        painter.save()
        bold = QFont(option.font)
        bold.setBold(True)
        line = QFontMetrics(option.font).lineSpacing()
        painter.setFont(bold)
        painter.setPen(option.palette.color(group, text_role))
        prompt = QFontMetrics(bold).elidedText(index.data(PROMPT_ROLE) or "", Qt.TextElideMode.ElideRight, rect.width())
        painter.drawText(QRect(rect.left(), rect.top(), rect.width(), line), Qt.AlignmentFlag.AlignVCenter, prompt)
        painter.setFont(option.font)
        if not selected:
            painter.setPen(soft_text(option.palette, group))
        preview = QFontMetrics(option.font).elidedText(
            index.data(PREVIEW_ROLE) or "", Qt.TextElideMode.ElideRight, rect.width()
        )
        painter.drawText(
            QRect(rect.left(), rect.top() + line, rect.width(), line), Qt.AlignmentFlag.AlignVCenter, preview
        )
        painter.restore()


def soft_text(palette: QPalette, group: QPalette.ColorGroup) -> QColor:
    """Text colour a quarter of the way towards the background: quieter, still well readable."""
    text, base = palette.color(group, QPalette.ColorRole.Text), palette.color(group, QPalette.ColorRole.Base)
    return QColor(
        round(0.75 * text.red() + 0.25 * base.red()),
        round(0.75 * text.green() + 0.25 * base.green()),
        round(0.75 * text.blue() + 0.25 * base.blue()),
    )
