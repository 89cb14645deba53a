"""Severity drawn as colour + shape + text, so it reads in greyscale and from across the room.

SEV-1 is a red octagon, SEV-2 an orange triangle, SEV-3 a yellow diamond and
SEV-4 a blue circle (``Severity.style``), each with a dark outline and the
severity number inside, followed by the code and label (``SEV-1 Critical``).
"""

from __future__ import annotations

import math

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QIcon,
    QPainter,
    QPainterPath,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from console.domain.severity import Severity, Shape
from console.models.incident_table import SEVERITY_ROLE

OUTLINE = QColor("#1A1A1A")
# How strongly the cell behind the badge is tinted with the severity colour.
TINT_ALPHA = 56


def shape_path(shape: Shape, box: QRectF) -> QPainterPath:
    """The outline of ``shape`` fitted into the square ``box``."""
    path = QPainterPath()
    cx, cy = box.center().x(), box.center().y()
    r = box.width() / 2
    if shape is Shape.CIRCLE:
        path.addEllipse(box)
    elif shape is Shape.OCTAGON:
        # Flat top and bottom, like a stop sign.
        points = [
            QPointF(
                cx + r * math.cos(math.radians(22.5 + 45 * k)),
                cy + r * math.sin(math.radians(22.5 + 45 * k)),
            )
            for k in range(8)
        ]
        path.addPolygon(QPolygonF(points))
        path.closeSubpath()
    elif shape is Shape.TRIANGLE:
        # A warning triangle, slightly wider than tall so the digit fits.
        path.addPolygon(QPolygonF([QPointF(cx, box.top()), box.bottomRight(), box.bottomLeft()]))
        path.closeSubpath()
    else:  # Shape.DIAMOND
        path.addPolygon(
            QPolygonF(
                [
                    QPointF(cx, box.top()),
                    QPointF(box.right(), cy),
                    QPointF(cx, box.bottom()),
                    QPointF(box.left(), cy),
                ]
            )
        )
        path.closeSubpath()
    return path


def paint_badge(painter: QPainter, box: QRectF, severity: Severity, font: QFont) -> None:
    """Paint the filled, outlined severity shape with its number inside."""
    style = severity.style
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(QPen(OUTLINE, max(1.2, box.width() / 14)))
    painter.setBrush(QColor(style.colour))
    painter.drawPath(shape_path(style.shape, box))
    digit_font = QFont(font)
    digit_font.setBold(True)
    digit_font.setPixelSize(max(7, round(box.height() * 0.5)))
    painter.setFont(digit_font)
    painter.setPen(QColor(style.text_colour))
    digit_box = QRectF(box)
    if style.shape is Shape.TRIANGLE:
        # The triangle's visual centre sits low: move the digit down into it.
        digit_box.adjust(0, box.height() * 0.22, 0, 0)
    painter.drawText(digit_box, Qt.AlignmentFlag.AlignCenter, str(severity.value))
    painter.restore()


class SeverityDelegate(QStyledItemDelegate):
    """Paints a severity cell: tinted background, badge, bold code and the label."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        severity = index.data(SEVERITY_ROLE)
        if not isinstance(severity, Severity):
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        # Let the style draw background, selection and focus, but not the text
        # or the colour swatch: those are drawn below.
        opt.text = ""
        opt.features &= ~QStyleOptionViewItem.ViewItemFeature.HasDecoration
        # A selected row would otherwise ask the style to paint a null icon,
        # which Qt reports as a painter warning on every repaint.
        opt.icon = QIcon()
        widget: QWidget | None = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)

        rect = QRectF(opt.rect)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        painter.save()
        if not selected:
            tint = QColor(severity.style.colour)
            tint.setAlpha(TINT_ALPHA)
            painter.fillRect(rect, tint)
        # A solid bar on the left edge: the row's severity at a glance.
        painter.fillRect(
            QRectF(rect.left(), rect.top(), 4, rect.height()), QColor(severity.style.colour)
        )

        metrics = QFontMetrics(opt.font)
        size = min(rect.height() - 6, metrics.height() * 1.35)
        box = QRectF(rect.left() + 10, rect.center().y() - size / 2, size, size)
        paint_badge(painter, box, severity, opt.font)

        group = opt.palette.ColorGroup.Normal
        role = opt.palette.ColorRole.HighlightedText if selected else opt.palette.ColorRole.Text
        painter.setPen(opt.palette.color(group, role))
        x = box.right() + 8
        bold = QFont(opt.font)
        bold.setBold(True)
        code = severity.code
        text_rect = QRectF(x, rect.top(), rect.right() - x - 4, rect.height())
        painter.setFont(bold)
        painter.drawText(
            text_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, code
        )
        x += QFontMetrics(bold).horizontalAdvance(code + " ")
        painter.setFont(opt.font)
        label_rect = QRectF(x, rect.top(), max(0.0, rect.right() - x - 4), rect.height())
        label = metrics.elidedText(
            severity.label, Qt.TextElideMode.ElideRight, int(label_rect.width())
        )
        painter.drawText(
            label_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, label
        )
        painter.restore()

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        metrics = QFontMetrics(option.font)
        bold = QFont(option.font)
        bold.setBold(True)
        badge = round(metrics.height() * 1.35)
        # Wide enough for the longest label, so every row's column lines up.
        text = QFontMetrics(bold).horizontalAdvance("SEV-0 ") + max(
            metrics.horizontalAdvance(s.label) for s in Severity
        )
        return QSize(10 + badge + 8 + text + 12, badge + 8)
