"""The wall's optional metrics page (``[wall] metrics = true``).

One page in the rotation, in the wall's big type: on the left the SLA
compliance this week (Monday 00:00 UTC to now) per severity, response and
resolution, each as ``✔ 96 %`` (target met) or ``▲ 71 % below target`` so
it reads without colour, ``—`` when there is nothing to measure yet; on the
right the open backlog by age bucket, a count and a bar each. The bottom line
says which week and "figures as of HH:MM": the figures are worked out on a
worker thread (:class:`console.models.wall_metrics.WallMetricsLoader`) every
minute and after sync changes, never on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QEvent, QObject, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QWidget

from console.domain.text import clock_text
from console.models.wall_metrics import (
    WALL_METRICS_REFRESH_MS,
    WallMetrics,
    WallMetricsLoader,
    compliance_text,
)
from console.store import Cache
from console.views.wall.widgets import (
    AMBER,
    CALM,
    DIM,
    GREY,
    RULE,
    TILE,
    WHITE,
    PagedPanel,
    pixel_font,
)
from console.views.wall.window import Panel, WallWindow

CHANGE_DELAY_MS = 10_000
"""After a sync change the figures are worked out again this much later (a burst: once)."""


def share_colour(text: str) -> QColor:
    """Colour only repeats what the mark says: ✔ calm, ▲ amber, — dim."""
    if text.startswith("✔"):
        return CALM
    if text.startswith("▲"):
        return AMBER
    return DIM


class MetricsPanel(PagedPanel[WallMetrics]):
    """The metrics page: one item (the last :class:`WallMetrics`), always one page."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Working out this week's figures…", parent)
        self.problem = ""
        self.loader: WallMetricsLoader | None = None
        self.refresher = QTimer(self)
        self.refresher.setInterval(WALL_METRICS_REFRESH_MS)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """When the wall closes: no more refreshes, and the running one finishes first."""
        if event.type() == QEvent.Type.Close and watched is self.window():
            self.refresher.stop()
            if self.loader is not None:
                self.loader.wait(5.0)
        return False

    def set_metrics(self, metrics: WallMetrics) -> None:
        self.problem = ""
        self.set_items((metrics,))

    def set_problem(self, text: str) -> None:
        """The last computation failed: keep the last figures and say so at the bottom."""
        self.problem = text
        self.update()

    @property
    def metrics(self) -> WallMetrics | None:
        return self.items[0] if self.items else None

    def row_height(self) -> float:
        return float(max(1, self.height()))

    @property
    def rows_per_page(self) -> int:
        return 1

    def paint_empty(self, painter: QPainter) -> None:
        painter.setFont(pixel_font(self.font(), self.scale.title, bold=True))
        painter.setPen(GREY)
        text = self.problem or self.empty_text
        painter.drawText(
            QRectF(self.rect()), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text
        )

    def paint_item(self, painter: QPainter, rect: QRectF, item: WallMetrics) -> None:
        s = self.scale
        foot = s.small * 1.5
        body = QRectF(rect.left(), rect.top(), rect.width(), rect.height() - foot)
        split = body.width() * 0.62
        self._paint_compliance(painter, QRectF(body.left(), body.top(), split, body.height()), item)
        painter.setPen(QPen(RULE, s.line))
        gap = s.margin
        painter.drawLine(
            int(body.left() + split + gap / 2),
            int(body.top()),
            int(body.left() + split + gap / 2),
            int(body.bottom()),
        )
        self._paint_backlog(
            painter,
            QRectF(
                body.left() + split + gap * 1.5,
                body.top(),
                body.width() - split - gap * 1.5,
                body.height(),
            ),
            item,
        )
        painter.setFont(pixel_font(self.font(), s.small))
        painter.setPen(AMBER if self.problem else GREY)
        painter.drawText(
            QRectF(rect.left(), rect.bottom() - foot, rect.width(), foot),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            self.footer_text(),
        )

    def footer_text(self) -> str:
        """Which week, the target, "figures as of HH:MM" (and a failure, when the last failed)."""
        item = self.metrics
        if item is None:
            return self.problem
        week = f"{item.week_from:%a %d %b} 00:00 UTC"
        line = (
            f"This week: incidents opened since {week} · target {round(item.target * 100)} %"
            f" · figures as of {clock_text(item.computed_at)}"
        )
        return f"⚠ {self.problem} — {line}" if self.problem else line

    def cell_texts(self) -> list[tuple[str, str, str]]:
        """What each compliance row reads: (severity, response, resolution)."""
        item = self.metrics
        if item is None:
            return []
        return [
            (
                c.severity,
                compliance_text(c.response, item.target),
                compliance_text(c.resolution, item.target),
            )
            for c in item.compliance
        ]

    def _paint_compliance(self, painter: QPainter, rect: QRectF, item: WallMetrics) -> None:
        s = self.scale
        head = s.small * 1.6
        sev_w = rect.width() * 0.16
        col_w = (rect.width() - sev_w) / 2
        painter.setFont(pixel_font(self.font(), s.small, bold=True))
        painter.setPen(GREY)
        for n, heading in enumerate(("Response SLA", "Resolution SLA")):
            painter.drawText(
                QRectF(rect.left() + sev_w + n * col_w, rect.top(), col_w, head),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                heading,
            )
        row_h = min(s.row * 1.7, (rect.height() - head) / max(1, len(item.compliance)))
        for n, row in enumerate(item.compliance):
            top = rect.top() + head + n * row_h
            if n % 2 == 0:
                painter.fillRect(QRectF(rect.left(), top, rect.width(), row_h), TILE)
            painter.setFont(pixel_font(self.font(), s.row, bold=True))
            painter.setPen(WHITE)
            painter.drawText(
                QRectF(rect.left() + s.margin * 0.4, top, sev_w, row_h),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                row.severity,
            )
            for k, share in enumerate((row.response, row.resolution)):
                text = compliance_text(share, item.target)
                painter.setPen(share_colour(text))
                painter.setFont(pixel_font(self.font(), s.row, bold=share is not None))
                painter.drawText(
                    QRectF(rect.left() + sev_w + k * col_w, top, col_w, row_h),
                    Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                    text,
                )

    def _paint_backlog(self, painter: QPainter, rect: QRectF, item: WallMetrics) -> None:
        s = self.scale
        head = s.small * 1.6
        painter.setFont(pixel_font(self.font(), s.small, bold=True))
        painter.setPen(GREY)
        painter.drawText(
            QRectF(rect.left(), rect.top(), rect.width(), head),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            f"Open backlog by age · {item.open_total}",
        )
        rows = max(1, len(item.backlog))
        row_h = min(s.row * 1.45, (rect.height() - head) / rows)
        label_w = rect.width() * 0.42
        count_w = rect.width() * 0.2
        most = max((n for _, n in item.backlog), default=0)
        for n, (label, count) in enumerate(item.backlog):
            top = rect.top() + head + n * row_h
            painter.setFont(pixel_font(self.font(), s.row))
            painter.setPen(WHITE)
            painter.drawText(
                QRectF(rect.left(), top, label_w, row_h),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                label,
            )
            painter.setFont(pixel_font(self.font(), s.row, bold=True))
            painter.setPen(WHITE if count else DIM)
            painter.drawText(
                QRectF(rect.left() + label_w, top, count_w, row_h),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                str(count),
            )
            bar_x = rect.left() + label_w + count_w + s.margin
            room = rect.right() - bar_x
            if count and most and room > 0:
                bar_h = row_h * 0.45
                painter.fillRect(
                    QRectF(
                        bar_x, top + (row_h - bar_h) / 2, max(s.line, room * count / most), bar_h
                    ),
                    GREY,
                )


def attach(
    wall: QWidget, cache: object, clock: Callable[[], datetime]
) -> tuple[MetricsPanel, WallMetricsLoader] | None:
    """Add the metrics page to the wall's rotation and start its loader (a real cache only)."""
    if not isinstance(cache, Cache) or not isinstance(wall, WallWindow):
        return None
    panel = MetricsPanel(wall)
    loader = WallMetricsLoader(cache, clock=clock, delay_ms=CHANGE_DELAY_MS, parent=panel)
    loader.loaded.connect(panel.set_metrics)
    loader.failed.connect(panel.set_problem)
    wall.add_panel(Panel.METRICS, panel)
    wall.model.changed.connect(loader.request)
    panel.refresher.timeout.connect(loader.refresh_now)
    panel.refresher.start()
    panel.loader = loader
    wall.installEventFilter(panel)  # the wall closing stops the page's refreshes
    loader.refresh_now()
    return panel, loader
