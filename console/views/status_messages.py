"""The main window's messages: the banner above the queue and the status bar.

:class:`StatusMessages` is the part of :class:`~console.views.main_window.MainWindow`
that tells the operator things: where the data comes from and how old it is,
a refusal above the queue (for a while), and the status bar's ONE message slot
(the latest confirmation, else a standing alarm, else the standing notice), so
two messages are never drawn over each other.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QMainWindow

from console.domain.text import age_text, clock_text

BANNER_MS = 12_000
"""How long a refusal stays above the queue (it also goes when the next action succeeds)."""
DONE_MS = 6_000
"""How long a confirmation ("INC-004282 acknowledged; queued to send") stays in the status bar."""


class StatusMessages(QMainWindow):
    """The banner and the status bar of the main window (see the module docstring)."""

    # Set by the window's constructor.
    _clock: Callable[[], datetime]
    _data_time: datetime | None

    def _build_status(self) -> None:
        """Make the banner (the window lays it out) and fill the status bar."""
        self.banner = QLabel(self)
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        self._banner_timer = QTimer(self)
        self._banner_timer.setSingleShot(True)
        self._banner_timer.timeout.connect(self.banner.hide)

        self.connection_label = QLabel(self)
        self.connection_label.setObjectName("connectionState")
        self.notice_label = QLabel(self)
        self.notice_label.setObjectName("notice")
        self.notice_label.setVisible(False)
        self._notice = ""
        self._flash = ""
        self._alarm: tuple[str, str] | None = None
        self._flash_timer = QTimer(self)
        self._flash_timer.setSingleShot(True)
        self._flash_timer.timeout.connect(self._end_flash)
        self.counts_label = QLabel(self)
        self.counts_label.setObjectName("counts")
        self.age_label = QLabel(self)
        self.age_label.setObjectName("dataAge")
        bar = self.statusBar()
        bar.setSizeGripEnabled(False)
        bar.addWidget(self.connection_label)
        bar.addWidget(self.notice_label, 1)
        bar.addPermanentWidget(self.counts_label)
        bar.addPermanentWidget(self.age_label)

    def set_connection_state(self, text: str, *, offline: bool = True) -> None:
        """Say where the data comes from (``Demo data — not connected to a backend``)."""
        self.connection_label.setText(text)
        self.connection_label.setProperty("offline", offline)
        # Re-polish so the style sheet's [offline="true"] rule follows the property.
        self.connection_label.style().unpolish(self.connection_label)
        self.connection_label.style().polish(self.connection_label)

    def mark_demo(self) -> None:
        """Say DEMO in the title and, in a badge, at the left of the status bar."""
        self.setWindowTitle("DEMO — NOC Console")
        badge = QLabel("DEMO", self)
        badge.setObjectName("demoBadge")
        badge.setToolTip("Made-up data in its own folder: nothing here is ever sent to a backend")
        self.statusBar().insertWidget(0, badge)
        self.demo_badge = badge

    def set_data_time(self, when: datetime | None) -> None:
        """When the shown data was last loaded or synced (None: never)."""
        self._data_time = when
        self.refresh_age()

    def show_notice(self, text: str) -> None:
        """Show something the operator should know (a rebuilt cache) without blocking them."""
        self._notice = text
        self._show_message()

    def show_alarm(self, incident_id: str, text: str) -> None:
        """Say a standing alarm (no tray to show it); it goes when :meth:`end_alarms` says so."""
        self._alarm = (incident_id, text)
        self._show_message()

    def end_alarms(self, standing: Collection[str]) -> None:
        """Drop the alarm shown unless its incident is among ``standing`` (still alarming)."""
        if self._alarm is not None and self._alarm[0] not in standing:
            self._alarm = None
            self._show_message()

    def current_message(self) -> str:
        """What the status bar's one message slot says now ("" when empty)."""
        return self.notice_label.text() if self.notice_label.isVisibleTo(self) else ""

    def _show_message(self) -> None:
        """The status bar has ONE message slot, so two messages are never drawn over each
        other: the latest confirmation (for a few seconds), else a standing alarm, else
        the standing notice."""
        text = self._flash or (self._alarm[1] if self._alarm else "") or self._notice
        self.notice_label.setText(text)
        self.notice_label.setToolTip(text)
        self.notice_label.setVisible(bool(text))

    def show_refusal(self, text: str) -> None:
        """Say above the queue why an action was refused (hidden again after a while)."""
        self.banner.setText(text)
        self.banner.show()
        self._banner_timer.start(BANNER_MS)

    def show_done(self, text: str) -> None:
        """Confirm an action in the message slot for a few seconds."""
        self.banner.hide()
        self._flash = text
        self._flash_timer.start(DONE_MS)
        self._show_message()

    def _end_flash(self) -> None:
        self._flash = ""
        self._show_message()

    def refresh_age(self) -> None:
        if self._data_time is None:
            self.age_label.setText("no data yet")
            return
        local = clock_text(self._data_time, seconds=True)
        age = age_text((self._clock() - self._data_time).total_seconds())
        self.age_label.setText(f"data as of {local} ({age})")
