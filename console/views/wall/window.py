"""The NOC wall display: ``noc-console --wall``.

Full screen, black, read-only, sized from the screen height so it reads from
5 m on a 1080p or a 4K screen. Always on screen: the open-incident counters
per severity (badge shape + number + label), a big clock, and, whenever the
data is not live, a banner saying so and how old the data is. Below them,
panels take turns on a timer: SEV-1 and major incidents, SLA at risk, and who
is on call now for the key services (only when the cache holds on-call data),
and, with ``[wall] metrics = true``, this week's SLA compliance and the backlog
by age (:mod:`console.views.wall.metrics`).
A list longer than the screen pages within its panel, so nothing is cut off.

The wall never asks anything: there are no edit actions, and while it is
shown a guard closes any dialog that would cover it (a message box on a wall
would sit there unseen until someone walks up with a keyboard). It keeps
ticking and repainting whatever the backend does; the sync worker reconnects
by itself and reports through :meth:`WallWindow.set_connection`.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Slot
from PySide6.QtGui import (
    QCloseEvent,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QHideEvent,
    QKeyEvent,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLayout,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from console.config.resources import ResourceMissing, read_text
from console.config.settings import Settings
from console.domain.clock import utc_now
from console.domain.severity import Severity
from console.domain.sla import SlaPolicy
from console.domain.text import age_text, clock_text
from console.models.wall import Update, WallModel, WallSnapshot, WallSource
from console.views.wall.widgets import (
    IncidentListPanel,
    OnCallPanel,
    PagedPanel,
    SeverityCounter,
    WallScale,
)

TICK_MS = 1000
"""The clock and the banner's data age move once a second."""
REFRESH_MS = 5000
"""SLA countdowns and lists are worked out again every 5 s (they count in minutes; a
snapshot of 10 000 open incidents takes about a quarter of a second on two cores, so
once a second would stall the wall). A sync update refreshes them at once."""
DEFAULT_ROTATE_SECONDS = 15
COALESCE_MS = 250
"""A burst of sync updates repaints the wall once, not once per update."""


class Panel(enum.Enum):
    """The rotating panels, in the order they are shown."""

    MAJOR = "major"
    AT_RISK = "at_risk"
    ON_CALL = "on_call"
    METRICS = "metrics"  # only with [wall] metrics = true (console.views.wall.metrics)

    @property
    def title(self) -> str:
        return _PANEL_TITLES[self]


_PANEL_TITLES = {
    Panel.MAJOR: "SEV-1 & major incidents",
    Panel.AT_RISK: "SLA at risk",
    Panel.ON_CALL: "On call now",
    Panel.METRICS: "SLA this week & backlog",
}


@dataclass(frozen=True)
class ConnectionLook:
    """How the wall shows a connection state: a banner (level, headline) or a pill."""

    banner_level: str | None  # None: live, no banner; else "info" | "warning" | "error"
    headline: str
    pill: str = ""
    show_age: bool = True  # the data's age (pointless for a demo loaded at start)


CONNECTION_LOOKS: dict[str, ConnectionLook] = {
    "live": ConnectionLook(None, "", "● LIVE"),
    "syncing": ConnectionLook(None, "", "● SYNCING"),
    "reconnecting": ConnectionLook("warning", "RECONNECTING TO THE BACKEND"),
    "offline": ConnectionLook("error", "BACKEND UNREACHABLE"),
    "auth_failed": ConnectionLook("error", "TOKEN REFUSED BY THE BACKEND"),
    "stopped": ConnectionLook("error", "NOT SYNCING"),
    "demo": ConnectionLook("info", "DEMO DATA — NOT CONNECTED TO A BACKEND", show_age=False),
    "local": ConnectionLook("warning", "NOT CONNECTED — SHOWING THE LOCAL CACHE"),
}
"""Keyed by the sync worker's state strings, plus ``demo`` and ``local`` (no backend)."""


def _while(state: str, headline: str) -> str:
    """``the backend is unreachable`` … for the stale-list message."""
    return {
        "reconnecting": "reconnecting to the backend",
        "offline": "the backend is unreachable",
        "auth_failed": "the backend refuses the token",
        "stopped": "not syncing",
        "local": "not connected to a backend",
    }.get(state, headline)


class SyncStatusLike(Protocol):
    """What the wall reads from ``console.sync.engine.SyncStatus`` (``status_changed``)."""

    @property
    def state(self) -> enum.Enum: ...

    @property
    def data_as_of(self) -> datetime | None: ...

    @property
    def next_try_at(self) -> datetime | None: ...


class DialogGuard(QObject):
    """Closes every dialog that opens while the wall is up, and says so on stderr.

    Installed on the application while the wall is shown. A dialog's ``exec``
    returns as rejected, so the code that opened it carries on.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.closed: list[str] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Show and isinstance(watched, QDialog):
            text = watched.windowTitle() or type(watched).__name__
            self.closed.append(text)
            print(
                f"noc-console wall: closed a dialog that would block the wall: {text}",
                file=sys.stderr,
            )
            # After the show completes, so exec() has started and returns at once.
            QTimer.singleShot(0, watched.reject)
        return False


class PanelStack(QStackedWidget):
    """A stack that keeps every panel at its own size, shown or not.

    Qt's stack only sizes the panel on top; the wall needs each panel's true
    height to count its pages before the panel comes up in the rotation.
    """

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        for index in range(self.count()):
            page = self.widget(index)
            if page is not None and page is not self.currentWidget():
                page.resize(event.size())


class WallWindow(QWidget):
    """The wall display window (see the module docstring). Read-only."""

    def __init__(
        self,
        model: WallModel,
        *,
        rotate_seconds: int = DEFAULT_ROTATE_SECONDS,
        clock: Callable[[], datetime] = utc_now,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("wall")
        self.setWindowTitle("NOC Console — wall display")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        # Nobody points at a wall; a cursor parked in the middle only hides data.
        self.setCursor(Qt.CursorShape.BlankCursor)
        self.model = model
        self._clock = clock
        self._state = "local"
        self._last_synced: datetime | None = None
        self._next_try: datetime | None = None
        self._snapshot: WallSnapshot | None = None
        self._scale = WallScale(1080)
        self._base_sheet = _base_style_sheet()
        self.guard = DialogGuard(self)

        self._build()
        self._panel_order: list[Panel] = [p for p in Panel if p is not Panel.METRICS]
        self._panel = Panel.MAJOR

        self.ticker = QTimer(self)
        self.ticker.setInterval(TICK_MS)
        self.ticker.timeout.connect(self.tick)
        self.refresher = QTimer(self)
        self.refresher.setInterval(REFRESH_MS)
        self.refresher.timeout.connect(self.refresh)
        self.rotator = QTimer(self)
        self.rotator.setInterval(max(1, rotate_seconds) * 1000)
        self.rotator.timeout.connect(self.rotate)
        self._coalesce = QTimer(self)
        self._coalesce.setSingleShot(True)
        self._coalesce.setInterval(COALESCE_MS)
        self._coalesce.timeout.connect(self.refresh)
        model.changed.connect(self._coalesce.start)

        self._apply_scale(WallScale(max(self.height(), 480)))
        self.refresh()
        self.ticker.start()
        self.refresher.start()
        self.rotator.start()

    # ----------------------------------------------------------------- layout

    def _build(self) -> None:
        self.summary_label = QLabel(self)
        self.summary_label.setObjectName("wallSummary")
        self.detail_label = QLabel(self)
        self.detail_label.setObjectName("wallDetail")
        self.pill_label = QLabel(self)
        self.pill_label.setObjectName("wallPill")
        self.clock_label = QLabel(self)
        self.clock_label.setObjectName("wallClock")
        self.clock_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.date_label = QLabel(self)
        self.date_label.setObjectName("wallDate")
        self.date_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        left = QVBoxLayout()
        left.setSpacing(0)
        left.addWidget(self.summary_label)
        left.addWidget(self.detail_label)
        right = QVBoxLayout()
        right.setSpacing(0)
        right.addWidget(self.clock_label)
        right.addWidget(self.date_label)
        self._header = QHBoxLayout()
        self._header.addLayout(left, 1)
        self._header.addWidget(self.pill_label, 0, Qt.AlignmentFlag.AlignVCenter)
        self._header.addLayout(right)

        self.banner = QLabel(self)
        self.banner.setObjectName("wallBanner")
        self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.banner.setWordWrap(True)
        self.banner.hide()

        self.counters = {severity: SeverityCounter(severity, self) for severity in Severity}
        self._counter_row = QHBoxLayout()
        for counter in self.counters.values():
            self._counter_row.addWidget(counter)

        self.panel_title = QLabel(self)
        self.panel_title.setObjectName("wallPanelTitle")
        self.major_panel = IncidentListPanel("No SEV-1 or major incident open", self)
        self.at_risk_panel = IncidentListPanel("No SLA clock at risk", self)
        self.on_call_panel = OnCallPanel(self)
        self.panels: dict[Panel, PagedPanel[Any]] = {
            Panel.MAJOR: self.major_panel,
            Panel.AT_RISK: self.at_risk_panel,
            Panel.ON_CALL: self.on_call_panel,
        }
        self.stack = PanelStack(self)
        for panel in self.panels.values():
            self.stack.addWidget(panel)
            panel.paging_changed.connect(self._show_panel_title)

        self.pages_label = QLabel(self)
        self.pages_label.setObjectName("wallPages")
        self.age_label = QLabel(self)
        self.age_label.setObjectName("wallAge")
        self.age_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        footer = QHBoxLayout()
        footer.addWidget(self.pages_label, 1)
        footer.addWidget(self.age_label)

        self._layout = QVBoxLayout(self)
        # The wall sizes itself from the screen; a minimum size from the layout
        # would only fight full-screen mode.
        self._layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self._layout.addLayout(self._header)
        self._layout.addWidget(self.banner)
        self._layout.addLayout(self._counter_row)
        self._layout.addWidget(self.panel_title)
        self._layout.addWidget(self.stack, 1)
        self._layout.addLayout(footer)

    def _apply_scale(self, scale: WallScale) -> None:
        """Size every font and gap from the screen height (fonts in px: exact on any DPI)."""
        self._scale = scale
        m = scale.margin
        gap = round(m * 0.6)  # every pixel of height is a row more on the panel
        self._layout.setContentsMargins(m * 2, gap, m * 2, gap)
        self._layout.setSpacing(gap)
        self._header.setSpacing(m * 2)
        self._counter_row.setSpacing(m)
        for counter in self.counters.values():
            counter.set_scale(scale)
        for panel in self.panels.values():
            panel.set_scale(scale)
        sizes = f"""
            #wallSummary {{ font-size: {scale.title}px; font-weight: bold; }}
            #wallDetail {{ font-size: {scale.small}px; }}
            #wallPill {{ font-size: {scale.small}px; font-weight: bold; }}
            #wallClock {{ font-size: {scale.clock}px; font-weight: bold; }}
            #wallDate {{ font-size: {scale.small}px; }}
            #wallBanner {{ font-size: {scale.banner}px; font-weight: bold;
                           padding: {m // 2}px {m}px; border-radius: {m // 2}px; }}
            #wallPanelTitle {{ font-size: {scale.title}px; font-weight: bold;
                               padding-bottom: {m // 3}px;
                               border-bottom: {scale.line}px solid #FFFFFF; }}
            #wallPages, #wallAge {{ font-size: {scale.small}px; }}
        """
        self.setStyleSheet(self._base_sheet + sizes)

    # ------------------------------------------------------------ connection

    @Slot(str, object)
    def set_connection(
        self, state: str, last_synced: datetime | None, next_try_at: datetime | None = None
    ) -> None:
        """Where the data comes from and how old it is.

        ``state`` is a sync state (``live``, ``syncing``, ``reconnecting``,
        ``offline``, ``auth_failed``, ``stopped``) or ``demo``/``local`` when
        no backend is configured; ``last_synced`` is when the data was last
        fresh (None: never); ``next_try_at`` when the next reconnect is due.
        """
        self._state = state
        self._last_synced = last_synced
        self._next_try = next_try_at
        self._show_connection()

    @Slot(object)
    def on_sync_status(self, status: SyncStatusLike) -> None:
        """Follow the sync worker's ``status_changed`` (state, data age, next try)."""
        self.set_connection(str(status.state.value), status.data_as_of, status.next_try_at)

    @Slot(str, str)
    def on_state_changed(self, state: str, _text: str) -> None:
        """Follow the sync worker's ``state_changed`` (keeps the last known data age)."""
        self.set_connection(state, self._last_synced, None)

    @property
    def connection_state(self) -> str:
        return self._state

    def banner_text(self) -> str:
        """The banner's text now ('' when the data is live)."""
        look = CONNECTION_LOOKS.get(self._state) or ConnectionLook("error", self._state.upper())
        if look.banner_level is None:
            return ""
        if not look.show_age:
            return f"⚠ {look.headline}"
        now = self._clock()
        if self._last_synced is None:
            age = "no data received yet"
        else:
            local = clock_text(self._last_synced, seconds=True)
            ago = age_text((now - self._last_synced).total_seconds())
            age = f"data as of {local} ({ago})"
        return f"⚠ {look.headline} — {age}"

    def footer_text(self) -> str:
        """When the data was last fresh and, while reconnecting, when the next try is."""
        parts = []
        if self._last_synced is not None:
            parts.append(f"updated {clock_text(self._last_synced, seconds=True)}")
        if self._next_try is not None and self._state not in ("live", "syncing"):
            seconds = max(0, round((self._next_try - self._clock()).total_seconds()))
            parts.append(f"next try in {seconds} s" if seconds else "trying now")
        return " · ".join(parts)

    def _show_connection(self) -> None:
        look = CONNECTION_LOOKS.get(self._state) or ConnectionLook("error", self._state.upper())
        text = self.banner_text()
        if text != self.banner.text():
            self.banner.setText(text)
            self._fit_banner()
        self.banner.setVisible(bool(text))
        _set_style_property(self.banner, "level", look.banner_level or "")
        # Under a warning or error banner an empty list proves nothing: no all-clear.
        stale = look.headline.lower() if look.banner_level in ("warning", "error") else None
        for panel in (self.major_panel, self.at_risk_panel):
            panel.set_stale(stale and _while(self._state, stale))
        self.pill_label.setText(look.pill)
        _set_style_property(self.pill_label, "state", self._state)
        self.age_label.setText(self.footer_text())

    def _fit_banner(self) -> None:
        """One line if at all possible: shrink the banner's text (down to 3 % of the height)."""
        scale = self._scale
        width = self.width() - self._layout.contentsMargins().left() * 2 - scale.margin * 2
        size = scale.banner
        font = QFont(self.font())
        font.setBold(True)
        while size > scale.small:
            font.setPixelSize(size)
            if QFontMetricsF(font).horizontalAdvance(self.banner.text()) <= width:
                break
            size -= max(1, scale.height // 540)
        # The label's own sheet outranks the window's, so only this label re-polishes.
        self.banner.setStyleSheet(f"font-size: {size}px;")

    # ---------------------------------------------------------------- data

    @property
    def snapshot(self) -> WallSnapshot | None:
        """The data on screen now."""
        return self._snapshot

    @Slot(object)
    def apply_update(self, update: Update) -> None:
        """A sync update (``SyncWorker.changed``): the model changes, the wall repaints soon."""
        self.model.apply_update(update)

    def tick(self) -> None:
        """Once a second: the clock and the banner's data age."""
        self._show_clock()
        self._show_connection()

    def refresh(self) -> None:
        """Take a fresh snapshot from the model and show it."""
        now = self._clock()
        snapshot = self.model.snapshot(now)
        self._snapshot = snapshot
        for severity, counter in self.counters.items():
            counter.set_count(snapshot.counts[severity])
        incidents = "incident" if snapshot.open_total == 1 else "incidents"
        self.summary_label.setText(f"{snapshot.open_total} open {incidents}")
        details = [
            f"{snapshot.unacknowledged} not acknowledged",
            f"{snapshot.breached} SLA breached",
        ]
        if snapshot.monitoring:
            details.append(f"{snapshot.monitoring} from monitoring")
        self.detail_label.setText(" · ".join(details))
        _set_style_property(
            self.detail_label, "alert", bool(snapshot.unacknowledged or snapshot.breached)
        )
        self.major_panel.set_items(snapshot.major)
        self.at_risk_panel.set_items(snapshot.at_risk)
        self.on_call_panel.set_board(snapshot.on_call, now)
        if self._panel not in self.available_panels():
            self.show_panel(Panel.MAJOR)
        self._show_clock()
        self._show_panel_title()

    def _show_clock(self) -> None:
        local = self._clock().astimezone()
        self.clock_label.setText(f"{local:%H:%M:%S}")
        self.date_label.setText(f"{local:%a %d %b %Y} · {local:%Z}")

    # --------------------------------------------------------------- panels

    def available_panels(self) -> list[Panel]:
        """The panels in the rotation: on call only when the cache has on-call data."""
        has_on_call = self._snapshot is not None and self._snapshot.on_call is not None
        return [p for p in self._panel_order if p is not Panel.ON_CALL or has_on_call]

    def add_panel(self, panel: Panel, widget: PagedPanel[Any]) -> None:
        """Put an optional panel (the metrics page) at the end of the rotation."""
        self.panels[panel] = widget
        self.stack.addWidget(widget)
        widget.set_scale(self._scale)
        widget.paging_changed.connect(self._show_panel_title)
        if panel not in self._panel_order:
            self._panel_order.append(panel)
        self._show_panel_title()

    @property
    def current_panel(self) -> Panel:
        return self._panel

    def show_panel(self, panel: Panel, page: int = 0) -> None:
        self._panel = panel
        widget = self.panels[panel]
        self.stack.setCurrentWidget(widget)
        widget.set_page(page)
        self._show_panel_title()

    def rotate(self, step: int = 1) -> None:
        """Next page of this panel, or the next panel (``step`` -1: back)."""
        widget = self.panels[self._panel]
        page = widget.page + step
        if 0 <= page < widget.page_count:
            widget.set_page(page)
            self._show_panel_title()
            return
        panels = self.available_panels()
        index = panels.index(self._panel) if self._panel in panels else 0
        following = panels[(index + step) % len(panels)]
        target = self.panels[following]
        self.show_panel(following, 0 if step > 0 else target.page_count - 1)

    def _show_panel_title(self) -> None:
        widget = self.panels[self._panel]
        count = len(widget.items)
        title = self._panel.title
        if self._panel not in (Panel.ON_CALL, Panel.METRICS):
            title += f" · {count}"
        if widget.page_count > 1:
            title += f"   (page {widget.page + 1} of {widget.page_count})"
        self.panel_title.setText(title)
        names = []
        for panel in self._panel_order:
            if panel in self.available_panels():
                names.append(("■ " if panel is self._panel else "□ ") + panel.title)
            else:
                names.append(f"□ {panel.title}: no on-call data")
        self.pages_label.setText("    ".join(names))

    # ---------------------------------------------------------------- events

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().height() != event.oldSize().height():
            self._apply_scale(WallScale(max(event.size().height(), 480)))
            self._show_panel_title()
        self._fit_banner()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # The style sheet's font sizes reach the labels on polish, which asks for a
        # new layout later; settle it now so the first frame (and the page counts)
        # are already right.
        self._layout.activate()
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.guard)

    def hideEvent(self, event: QHideEvent) -> None:
        self._remove_guard()
        super().hideEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.ticker.stop()
        self.refresher.stop()
        self.rotator.stop()
        self._remove_guard()
        super().closeEvent(event)

    def _remove_guard(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.guard)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Right/Space: next panel; Left: previous; F11: full screen on/off; Ctrl+Q: quit."""
        key = event.key()
        if key in (Qt.Key.Key_Right, Qt.Key.Key_Space):
            self.rotate(1)
            self.rotator.start()  # a full interval on the panel just chosen
        elif key == Qt.Key.Key_Left:
            self.rotate(-1)
            self.rotator.start()
        elif key == Qt.Key.Key_F11:
            if self.isFullScreen():
                self.showNormal()
            else:
                self.showFullScreen()
        elif key == Qt.Key.Key_Q and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.close()
        else:
            super().keyPressEvent(event)


def _set_style_property(widget: QWidget, name: str, value: object) -> None:
    """Set a property the style sheet selects on, and re-polish so the look follows."""
    if widget.property(name) == value:
        return
    widget.setProperty(name, value)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def _base_style_sheet() -> str:
    try:
        return read_text("styles", "wall.qss")
    except ResourceMissing:
        # The wall must come up even from a damaged install: plain white on black.
        return "#wall, #wall QWidget { background-color: #000000; color: #FFFFFF; }"


def open_wall(
    cache: WallSource,
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utc_now,
    show: bool = True,
) -> WallWindow:
    """Build the wall over ``cache`` with ``settings`` and show it full screen.

    ``cache`` is the console's :class:`~console.store.Cache`, ``settings`` its
    :class:`~console.config.settings.Settings`. Raises ``CacheError`` when the cache
    cannot be read and ``DomainError`` when the SLA calendar is unusable (the
    app reports both before anything is shown). The caller connects the sync
    worker: ``status_changed → on_sync_status``, ``changed → apply_update``.
    """
    policy = SlaPolicy.default(settings.sla_calendar)
    model = WallModel.from_cache(cache, policy, key_services=settings.wall.services)
    wall = WallWindow(model, rotate_seconds=settings.wall.rotate_seconds, clock=clock)
    model.setParent(wall)
    # #19: the major incidents' commander and countdowns, under the counters.
    from console.views.wall import majors as wall_majors

    # A child of the wall: findChild(WallMajors).
    wall_majors.attach(wall, cache, clock, settings.major.cadence_minutes)
    if settings.wall.metrics:
        from console.views.wall import metrics as wall_metrics

        wall_metrics.attach(wall, cache, clock)  # findChild(MetricsPanel)
    if show:
        screen = QGuiApplication.primaryScreen()
        if screen is not None:
            wall.setGeometry(screen.geometry())
        wall.showFullScreen()
    return wall
