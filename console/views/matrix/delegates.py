"""The matrix grid's cells: two lines (who, and their number) and a table that dials on Enter."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QFont,
    QFontMetrics,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPalette,
)
from PySide6.QtWidgets import (
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from console.models.escalation_matrix import (
    DETAIL_LINE_ROLE,
    FIRST_LINE_ROLE,
)

Index = QModelIndex | QPersistentModelIndex


class TwoLineDelegate(QStyledItemDelegate):
    """Draws a cell on two lines: the person in bold, the number to dial below.

    The first line is ``FIRST_LINE_ROLE`` (else the display text), the second
    ``DETAIL_LINE_ROLE``. Two short lines keep the grid narrow enough to show
    every tier beside the chain, where one "Name · number" line would not.
    The number is drawn as plainly as the name; only in ``quiet_columns``
    (the service's criticality) is the second line smaller and greyed.
    """

    def __init__(self, parent: QWidget | None = None, *, quiet_columns: Iterable[int] = ()) -> None:
        super().__init__(parent)
        self._quiet = frozenset(quiet_columns)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        main = index.data(FIRST_LINE_ROLE) or opt.text
        detail = index.data(DETAIL_LINE_ROLE) or ""
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else None
        if style is None:
            super().paint(painter, option, index)
            return
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        rect = opt.rect.adjusted(6, 3, -6, -3)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        colour = opt.palette.color(role)
        foreground = index.data(Qt.ItemDataRole.ForegroundRole)
        if foreground is not None and not selected:
            colour = foreground
        painter.save()
        bold = QFont(opt.font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(colour)
        metrics = QFontMetrics(bold)
        top = QRect(rect.left(), rect.top(), rect.width(), metrics.height())
        painter.drawText(
            top,
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
            metrics.elidedText(main, Qt.TextElideMode.ElideRight, rect.width()),
        )
        if detail:
            small = QFont(opt.font)
            if index.column() in self._quiet:
                # Style sheets may size fonts in pixels (pointSizeF is then -1).
                if opt.font.pointSizeF() > 0:
                    small.setPointSizeF(max(6.0, opt.font.pointSizeF() * 0.9))
                else:
                    small.setPixelSize(max(8, round(opt.font.pixelSize() * 0.9)))
                if not selected and foreground is None:
                    colour = opt.palette.color(QPalette.ColorRole.PlaceholderText)
            painter.setFont(small)
            painter.setPen(colour)
            small_metrics = QFontMetrics(small)
            bottom = QRect(rect.left(), top.bottom() + 2, rect.width(), small_metrics.height())
            painter.drawText(
                bottom,
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                small_metrics.elidedText(detail, Qt.TextElideMode.ElideRight, rect.width()),
            )
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        bold = QFont(option.font)
        bold.setBold(True)
        metrics = QFontMetrics(bold)
        text = str(index.data(FIRST_LINE_ROLE) or index.data(Qt.ItemDataRole.DisplayRole) or "")
        detail = str(index.data(DETAIL_LINE_ROLE) or "")
        width = max(
            metrics.horizontalAdvance(text), QFontMetrics(option.font).horizontalAdvance(detail)
        )
        return QSize(width + 16, metrics.height() * 2 + 10)


class PhoneTable(QTableView):
    """A read-only table whose Copy (Ctrl+C) copies the selected person's number.

    QTableView would copy the cell's text (a name); at 2 a.m. the number is
    what is pasted into a softphone.
    """

    copy_requested = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_requested.emit()
            event.accept()
            return
        super().keyPressEvent(event)
