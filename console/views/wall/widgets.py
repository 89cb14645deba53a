"""The wall display's painted parts: severity counters, incident lists and the on-call board.

Painted rather than built from labels so that every size follows the screen
height (:class:`WallScale`) whatever the application's style sheet says, and
so a list shows exactly as many rows as fit, paging through the rest. Severity
is drawn as colour + shape + text with :func:`console.views.severity.paint_badge`,
the same badge the queue uses.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPaintEvent, QPen, QResizeEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from console.domain.severity import Severity
from console.domain.sla import SlaStatus
from console.models.wall import OnCallBoard, OnCallRow, OnCallTier, WallIncident
from console.views.severity import paint_badge

WHITE = QColor("#FFFFFF")
GREY = QColor("#BDBDBD")  # 10:1 on black: secondary text still readable from afar
DIM = QColor("#8A8A8A")  # for zero counts and "nobody": calm, but legible
TILE = QColor("#141414")
RULE = QColor("#3A3A3A")
AMBER = QColor("#FFD54F")
CALM = QColor("#69F0AE")

# SLA chip: (fill, text). Breach and warning are filled; the rest is plain text.
_SLA_CHIP: dict[SlaStatus, tuple[QColor | None, QColor]] = {
    SlaStatus.BREACHED: (QColor("#C62828"), WHITE),
    SlaStatus.WARNING: (QColor("#F9A825"), QColor("#000000")),
    SlaStatus.PAUSED: (QColor("#9E9E9E"), QColor("#000000")),
    SlaStatus.OK: (None, GREY),
    SlaStatus.MET: (None, GREY),
}


@dataclass(frozen=True)
class WallScale:
    """Every size on the wall, in pixels, as a share of the screen height.

    Read from 5 m: the counters' digits are 15 % of the height (cap height
    about 11 %), list text 4.2 % (about 45 px on a 1080p screen, 90 px on
    4K), secondary text 3 %.
    """

    height: int

    def part(self, share: float) -> int:
        return max(1, round(self.height * share))

    @property
    def counter(self) -> int:
        return self.part(0.15)

    @property
    def clock(self) -> int:
        return self.part(0.075)

    @property
    def title(self) -> int:
        return self.part(0.05)

    @property
    def banner(self) -> int:
        return self.part(0.042)

    @property
    def row(self) -> int:
        return self.part(0.042)

    @property
    def small(self) -> int:
        return self.part(0.03)

    @property
    def margin(self) -> int:
        return self.part(0.02)

    @property
    def line(self) -> int:
        """Rule and outline width."""
        return max(2, self.part(0.003))


def pixel_font(base: QFont, pixels: int, *, bold: bool = False) -> QFont:
    """``base`` at ``pixels`` high (pixel sizes, so the scale is exact on any DPI)."""
    font = QFont(base)
    font.setPixelSize(max(6, pixels))
    font.setBold(bold)
    return font


# ------------------------------------------------------------------ counters


class SeverityCounter(QWidget):
    """One big tile: the severity's badge, its open count, and its code and label."""

    def __init__(self, severity: Severity, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.severity = severity
        self.count = 0
        self._scale = WallScale(1080)
        self.setObjectName(f"wallCounter{severity.value}")
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.set_scale(self._scale)

    def set_scale(self, scale: WallScale) -> None:
        self._scale = scale
        self.setFixedHeight(round(scale.counter * 1.12 + scale.margin))
        self.update()

    def set_count(self, count: int) -> None:
        if count != self.count:
            self.count = count
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        s = self._scale
        style = self.severity.style
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.fillRect(self.rect(), QColor("#000000"))
        tile = QRectF(self.rect()).adjusted(s.line, s.line, -s.line, -s.line)
        painter.setBrush(TILE)
        # A live SEV-1 or SEV-2 gets a thick border in its colour: seen before read.
        active = self.count > 0 and self.severity <= Severity.SEV2
        pen_width = s.line * (4 if active else 1)
        painter.setPen(QPen(QColor(style.colour) if self.count else RULE, pen_width))
        inset = pen_width / 2
        painter.drawRoundedRect(
            tile.adjusted(inset, inset, -inset, -inset), s.margin / 2, s.margin / 2
        )
        inner = tile.adjusted(s.margin, s.margin * 0.7, -s.margin, -s.margin * 0.7)

        # Left column: the badge, and under it the code and the label on two lines.
        code_font = pixel_font(self.font(), s.small, bold=True)
        label_font = pixel_font(self.font(), s.small)
        line_h = QFontMetricsF(code_font).height()
        badge = max(1.0, inner.height() - 2 * line_h)
        box = QRectF(inner.left(), inner.top(), badge, badge)
        paint_badge(painter, box, self.severity, self.font())
        column_w = max(
            badge,
            QFontMetricsF(code_font).horizontalAdvance(self.severity.code),
            QFontMetricsF(label_font).horizontalAdvance(self.severity.label),
        )
        painter.setPen(WHITE if self.count else GREY)
        for number, (font, text) in enumerate(
            ((code_font, self.severity.code), (label_font, self.severity.label))
        ):
            painter.setFont(font)
            painter.drawText(
                QRectF(inner.left(), box.bottom() + number * line_h, column_w, line_h),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                text,
            )

        # Right: the count, as big as the tile allows (shrunk only if it would not fit).
        number_rect = QRectF(inner.left() + column_w + s.margin, inner.top(), 0, inner.height())
        number_rect.setRight(inner.right())
        text = str(self.count)
        number_font = pixel_font(self.font(), s.counter, bold=True)
        width = QFontMetricsF(number_font).horizontalAdvance(text)
        if width > number_rect.width() > 0:
            number_font.setPixelSize(max(6, int(s.counter * number_rect.width() / width)))
        painter.setFont(number_font)
        painter.setPen(WHITE if self.count else DIM)
        painter.drawText(
            number_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text
        )
        painter.end()


# ------------------------------------------------------------------- paging

_Item = TypeVar("_Item")


class PagedPanel(QWidget, Generic[_Item]):
    """A list painted row by row; what does not fit goes to further pages.

    The wall turns the pages on its rotation timer, so every row is shown in
    turn and no row is ever cut off. ``paging_changed`` fires when the number
    of pages may have changed (new items, a new size).
    """

    paging_changed = Signal()

    def __init__(self, empty_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.empty_text = empty_text
        self.stale: str | None = None
        """Why the data may be out of date (None: live or demo): no green all-clear then."""
        self.items: tuple[_Item, ...] = ()
        self.page = 0
        self.scale = WallScale(1080)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_scale(self, scale: WallScale) -> None:
        self.scale = scale
        self.update()

    def set_items(self, items: Sequence[_Item]) -> None:
        items = tuple(items)
        if items == self.items:
            return  # nothing to repaint (a 4K repaint is not free)
        self.items = items
        self.page = min(self.page, self.page_count - 1)
        self.update()
        self.paging_changed.emit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.page = min(self.page, self.page_count - 1)
        self.paging_changed.emit()

    def row_height(self) -> float:
        raise NotImplementedError

    def header_height(self) -> float:
        """Room above the rows for column headings (none by default)."""
        return 0.0

    @property
    def rows_per_page(self) -> int:
        # Half a margin kept free at the bottom, so the last row never touches the footer.
        room = self.height() - self.header_height() - self.scale.margin / 2
        return max(1, int(room // self.row_height()))

    @property
    def page_count(self) -> int:
        return max(1, math.ceil(len(self.items) / self.rows_per_page))

    def set_page(self, page: int) -> None:
        self.page = max(0, min(page, self.page_count - 1))
        self.update()

    def visible_items(self) -> tuple[_Item, ...]:
        per_page = self.rows_per_page
        return self.items[self.page * per_page : (self.page + 1) * per_page]

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        painter.fillRect(self.rect(), QColor("#000000"))
        if not self.items:
            self.paint_empty(painter)
        else:
            visible = self.visible_items()
            self.prepare(painter, visible)
            top = self.header_height()
            if top:
                self.paint_header(painter, QRectF(0, 0, self.width(), top))
            height = self.row_height()
            for number, item in enumerate(visible):
                rect = QRectF(0, top + number * height, self.width(), height)
                self.paint_item(painter, rect, item)
                if number < len(visible) - 1:
                    painter.setPen(QPen(RULE, self.scale.line))
                    painter.drawLine(rect.bottomLeft(), rect.bottomRight())
        painter.end()

    def set_stale(self, reason: str | None) -> None:
        """The data may be out of date (``reason``): an empty list is then no all-clear."""
        if reason != self.stale:
            self.stale = reason
            self.update()

    def empty_message(self) -> str:
        """What an empty list says: the all-clear, or — on stale data — that it is not known."""
        if self.stale:
            return (
                f"? Not known now: {self.stale}.\nThe last data received said: {self.empty_text}."
            )
        return f"✔ {self.empty_text}"

    def paint_empty(self, painter: QPainter) -> None:
        painter.setFont(
            pixel_font(self.font(), self.scale.small if self.stale else self.scale.title, bold=True)
        )
        painter.setPen(GREY if self.stale else CALM)
        painter.drawText(
            QRectF(self.rect()),
            Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
            self.empty_message(),
        )

    def prepare(self, painter: QPainter, visible: Sequence[_Item]) -> None:
        """Measure what the rows share (column widths) before painting them."""

    def paint_header(self, painter: QPainter, rect: QRectF) -> None:
        """Paint the column headings into ``rect`` (when :meth:`header_height` gives room)."""

    def paint_item(self, painter: QPainter, rect: QRectF, item: _Item) -> None:
        raise NotImplementedError


# ------------------------------------------------------------- incident rows


class IncidentListPanel(PagedPanel[WallIncident]):
    """One incident per row: badge, number, MAJOR/NEW tags, title, and the SLA chip."""

    def __init__(self, empty_text: str, parent: QWidget | None = None) -> None:
        super().__init__(empty_text, parent)
        self._number_w = 0.0
        self._chip_w = 0.0

    def row_height(self) -> float:
        return self.scale.row * 1.75

    def prepare(self, painter: QPainter, visible: Sequence[WallIncident]) -> None:
        s = self.scale
        number = QFontMetricsF(pixel_font(self.font(), s.small))
        chip = QFontMetricsF(pixel_font(self.font(), s.small, bold=True))
        self._number_w = max(number.horizontalAdvance(r.number) for r in visible)
        widest = max(chip.horizontalAdvance(r.sla) for r in visible)
        # Every chip as wide as the widest, so the right column lines up.
        self._chip_w = min(widest + 2 * s.margin, self.width() * 0.4)

    def paint_item(self, painter: QPainter, rect: QRectF, item: WallIncident) -> None:
        s = self.scale
        pad = s.margin * 0.6
        badge = rect.height() * 0.6
        box = QRectF(rect.left() + pad, rect.center().y() - badge / 2, badge, badge)
        paint_badge(painter, box, item.severity, self.font())
        x = box.right() + pad * 1.5

        row_font = pixel_font(self.font(), s.row)
        painter.setFont(pixel_font(self.font(), s.small))
        painter.setPen(GREY)
        painter.drawText(
            QRectF(x, rect.top(), self._number_w, rect.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            item.number,
        )
        x += self._number_w + pad * 1.5

        chip_rect = QRectF(
            rect.right() - pad - self._chip_w,
            rect.top() + rect.height() * 0.16,
            self._chip_w,
            rect.height() * 0.68,
        )
        tags: list[tuple[str, QColor | None, QColor]] = []
        if not item.acknowledged:
            tags.append(("NEW", AMBER, QColor("#000000")))
        if item.major and item.severity is not Severity.SEV1:
            # Every SEV-1 is a major incident; the tag explains the others.
            tags.append(("MAJOR", None, WHITE))
        tag_font = pixel_font(self.font(), s.small, bold=True)
        tag_metrics = QFontMetricsF(tag_font)
        for text, fill, colour in tags:
            width = tag_metrics.horizontalAdvance(text) + pad
            tag = QRectF(x, chip_rect.top(), width, chip_rect.height())
            painter.setPen(QPen(colour if fill is None else fill, s.line))
            painter.setBrush(fill if fill is not None else Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(tag, s.line * 2, s.line * 2)
            painter.setFont(tag_font)
            painter.setPen(colour)
            painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, text)
            x += width + pad

        title_rect = QRectF(x, rect.top(), chip_rect.left() - pad - x, rect.height())
        painter.setFont(row_font)
        painter.setPen(WHITE)
        title = QFontMetricsF(row_font).elidedText(
            item.title, Qt.TextElideMode.ElideRight, max(0.0, title_rect.width())
        )
        painter.drawText(
            title_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, title
        )

        chip_fill, chip_colour = _SLA_CHIP[item.reading.status]
        if chip_fill is not None:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(chip_fill)
            painter.drawRoundedRect(chip_rect, s.line * 2, s.line * 2)
        painter.setFont(pixel_font(self.font(), s.small, bold=True))
        painter.setPen(chip_colour)
        painter.drawText(
            chip_rect.adjusted(pad, 0, -pad, 0),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            item.sla,
        )


# ------------------------------------------------------------------ on call

TIER_HEADINGS = {1: "L1 · first line", 2: "L2 · specialists", 3: "L3 · engineering"}


class OnCallPanel(PagedPanel[OnCallRow]):
    """One key service per row; in the L1, L2 and L3 columns who answers now and their phone."""

    MAX_TIERS = 3

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("No key services configured", parent)
        self.problems: tuple[str, ...] = ()
        self.now: datetime | None = None

    def set_board(self, board: OnCallBoard | None, now: datetime) -> None:
        self.problems = () if board is None else board.problems
        self.now = now
        self.set_items(() if board is None else board.rows)

    def _phone_px(self) -> int:
        # Secondary to the name: a little under the usual small text, so a row
        # stays short enough for four services a page.
        return self.scale.part(0.026)

    def row_height(self) -> float:
        # As tall as a person (name over phone): a service name that needs two
        # lines takes the smaller type rather than a taller row, so a page holds
        # four services at 1080p instead of two and half a screen of black.
        s = self.scale
        return s.row * 1.15 + self._phone_px() * 1.2 + s.margin * 0.4

    def header_height(self) -> float:
        return self.scale.small * 1.6

    def _columns(self, rect: QRectF) -> tuple[float, float]:
        # The service column ends with a gap, so a long service name never
        # runs into the first person's name.
        service_w = rect.width() * 0.28 + self.scale.margin
        return service_w, (rect.width() - service_w) / self.MAX_TIERS

    def paint_header(self, painter: QPainter, rect: QRectF) -> None:
        service_w, width = self._columns(rect)
        painter.setFont(pixel_font(self.font(), self.scale.small, bold=True))
        painter.setPen(GREY)
        for level in range(1, self.MAX_TIERS + 1):
            painter.drawText(
                QRectF(
                    rect.left() + service_w + (level - 1) * width, rect.top(), width, rect.height()
                ),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                TIER_HEADINGS[level],
            )

    def paint_item(self, painter: QPainter, rect: QRectF, item: OnCallRow) -> None:
        s = self.scale
        pad = s.margin * 0.6
        service_w, width = self._columns(rect)
        # Regular weight: a service name may need two lines (in the smaller type),
        # a person's name never should.
        service_rect = QRectF(
            rect.left() + pad, rect.top(), service_w - pad - s.margin, rect.height()
        )
        name_font = pixel_font(self.font(), s.row)
        if QFontMetricsF(name_font).horizontalAdvance(item.service) > service_rect.width():
            name_font = pixel_font(self.font(), s.small)
        painter.setFont(name_font)
        painter.setPen(WHITE)
        painter.drawText(
            service_rect,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextWordWrap,
            QFontMetricsF(name_font).elidedText(
                item.service, Qt.TextElideMode.ElideRight, service_rect.width() * 2
            ),
        )
        cells_left = rect.left() + service_w
        if not item.tiers:
            painter.setFont(pixel_font(self.font(), s.small))
            painter.setPen(DIM)
            painter.drawText(
                QRectF(cells_left, rect.top(), rect.width() - service_w, rect.height()),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                item.note,
            )
            return
        for tier in item.tiers:
            if not 1 <= tier.level <= self.MAX_TIERS:
                continue  # deeper tiers (L4…) are for the escalation matrix, not the wall
            left = cells_left + (tier.level - 1) * width
            self._paint_tier(painter, QRectF(left, rect.top(), width - pad, rect.height()), tier)

    def _paint_tier(self, painter: QPainter, cell: QRectF, tier: OnCallTier) -> None:
        s = self.scale
        phone_px = self._phone_px()
        block = s.row * 1.15 + phone_px * 1.2
        top = cell.center().y() - block / 2
        name_rect = QRectF(cell.left(), top, cell.width(), s.row * 1.15)
        info_rect = QRectF(cell.left(), name_rect.bottom(), cell.width(), phone_px * 1.2)
        name_font = pixel_font(self.font(), s.row, bold=tier.contact is not None)
        painter.setFont(name_font)
        painter.setPen(WHITE if tier.contact else DIM)
        name = tier.contact or f"— {tier.note or 'nobody'}"
        painter.drawText(
            name_rect,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            QFontMetricsF(name_font).elidedText(name, Qt.TextElideMode.ElideRight, cell.width()),
        )
        # The phone says more than the team name here; the team shows when there is none.
        info = tier.phone or tier.label
        if tier.via_override:
            # First, so the phone is what gets cut short if the cell is narrow.
            info = f"{tier.via or 'override'} · {info}"
        small = pixel_font(self.font(), phone_px)
        painter.setFont(small)
        painter.setPen(AMBER if tier.via_override else GREY)
        painter.drawText(
            info_rect,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            QFontMetricsF(small).elidedText(info, Qt.TextElideMode.ElideRight, cell.width()),
        )
