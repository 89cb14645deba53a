"""The queue's Title cell: a compact MAJOR badge before the title, not a word-long prefix.

The model's text stays ``MAJOR · title`` (copy, accessibility, the tests of the
model); this delegate paints a small red ``MAJOR`` pill and the title beside it,
so on a 1280-pixel laptop the title keeps the characters the prefix took.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QIcon, QPainter
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from console.domain.incident import Incident
from console.models.incident_table import INCIDENT_ROLE, OVERDUE_ROLE

BADGE_TEXT = "MAJOR"
BADGE_BACKGROUND = QColor("#B71C1C")
BADGE_TEXT_COLOUR = QColor("#FFFFFF")
# #19: an overdue stakeholder update: a framed amber pill with the words (not colour alone).
OVERDUE_BACKGROUND = QColor("#FFE082")
OVERDUE_TEXT_COLOUR = QColor("#000000")
OVERDUE_WORDS = "◷ UPDATE OVERDUE"
"""The pill's words (the queue row and the board card); which audience and by how long
are in the tooltip and the detail pane."""


def overdue_pill_width(font: QFont) -> float:
    """How wide the ``◷ UPDATE OVERDUE`` pill is in ``font`` (its words and a space each side)."""
    metrics = QFontMetricsF(font)
    return metrics.horizontalAdvance(OVERDUE_WORDS) + 2 * metrics.horizontalAdvance(" ")


def paint_overdue_pill(painter: QPainter, pill: QRectF, font: QFont) -> None:
    """Paint the framed amber ``◷ UPDATE OVERDUE`` pill in ``pill`` (elided if narrower)."""
    metrics = QFontMetricsF(font)
    room = pill.width() - metrics.horizontalAdvance(" ")
    painter.save()
    painter.setBrush(OVERDUE_BACKGROUND)
    painter.setPen(OVERDUE_TEXT_COLOUR)
    painter.setFont(font)
    painter.drawRoundedRect(pill, 3, 3)  # framed: a shape, not only a colour
    painter.drawText(
        pill,
        Qt.AlignmentFlag.AlignCenter,
        metrics.elidedText(OVERDUE_WORDS, Qt.TextElideMode.ElideRight, room),
    )
    painter.restore()


class TitleDelegate(QStyledItemDelegate):
    """Paints an open major incident's title with the compact MAJOR badge in front."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        incident = index.data(INCIDENT_ROLE)
        if not (isinstance(incident, Incident) and incident.major and incident.is_open):
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        opt.icon = QIcon()
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)

        rect = QRectF(opt.rect).adjusted(4, 0, -4, 0)
        small = QFont(opt.font)
        small.setBold(True)
        small.setPointSizeF(max(6.0, opt.font.pointSizeF() * 0.72))
        small_metrics = QFontMetricsF(small)
        pad = small_metrics.horizontalAdvance(" ")
        badge_w = small_metrics.horizontalAdvance(BADGE_TEXT) + 2 * pad
        badge_h = small_metrics.height() + 2
        badge = QRectF(rect.left(), rect.center().y() - badge_h / 2, badge_w, badge_h)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(BADGE_BACKGROUND)
        painter.drawRoundedRect(badge, 3, 3)
        painter.setFont(small)
        painter.setPen(BADGE_TEXT_COLOUR)
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, BADGE_TEXT)

        overdue = index.data(OVERDUE_ROLE)
        if isinstance(overdue, str) and overdue:
            # Compact in the row; the cell's tooltip says which audience and by how long.
            width = min(overdue_pill_width(small), rect.width() * 0.45)
            badge = QRectF(badge.right() + pad, badge.top(), width, badge_h)
            paint_overdue_pill(painter, badge, small)

        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        group = opt.palette.ColorGroup.Normal
        role = opt.palette.ColorRole.HighlightedText if selected else opt.palette.ColorRole.Text
        painter.setPen(opt.palette.color(group, role))
        painter.setFont(opt.font)
        text_rect = QRectF(badge.right() + pad * 1.5, rect.top(), 0, rect.height())
        text_rect.setRight(rect.right())
        title = QFontMetricsF(opt.font).elidedText(
            incident.title, Qt.TextElideMode.ElideRight, max(0.0, text_rect.width())
        )
        painter.drawText(
            text_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, title
        )
        painter.restore()
