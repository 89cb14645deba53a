"""The wall's major-incident strip: commander, time since declaration, each audience's countdown.

One line per open major incident (at most two: those with a commander
first, then the most severe, then the newest; the panel below lists them
all), sized
from the wall's height so it reads at 5 m. A late audience shows
``⚠ OVERDUE m:ss`` (words and a shape) and the line gets a thick frame. The
countdowns are relabelled once a second; the incidents and timelines are
re-read from the cache every few seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from functools import partial

from PySide6.QtCore import QTimer
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from console.domain.major import AUDIENCES, countdown_text, overdue
from console.services.major import MajorSnapshot, snapshot
from console.store import Cache, CacheError

SHOWN = 1
SHORT = {"internal": "Internal", "executive": "Exec", "customer": "Customer"}
TINY = {"internal": "Int", "executive": "Exec", "customer": "Cust"}


def strip_line(
    snap: MajorSnapshot, now: datetime, *, compact: bool = False, service: bool = True
) -> str:
    """One major's line: number, service, commander, time since declaration, countdowns.

    ``compact`` is the form for a line that would not fit (the full one is
    wider than a 1080p wall at its 5-m font): the age without words, short
    audience names; ``service=False`` leaves the service out as well.
    """
    inc = snap.incident
    minutes = max(0, int((now - snap.declared_at).total_seconds() // 60))
    commander = snap.roles.get("Incident Commander", "no commander")
    age = f"{minutes // 60}h{minutes % 60:02d}m"
    parts = [
        f"{inc.number} SEV-{int(inc.severity)}" + (f" {inc.service}" if service else ""),
        f"IC {commander}",
        age if compact else f"declared {age} ago",
    ]
    for audience in AUDIENCES:
        due = snap.due.get(audience)
        if due is None:
            continue
        text = countdown_text(due, now, audience)
        mark = "⚠ " if text.startswith("OVERDUE") else ""
        name = (TINY if compact else SHORT)[audience]
        parts.append(f"{name} {mark}{text}")
    return (" · " if compact else "  ·  ").join(parts)


def fitted_line(snap: MajorSnapshot, now: datetime, fits: Callable[[str], bool]) -> str:
    """The fullest form of the line that ``fits``, else the shortest (every countdown kept)."""
    forms = (
        strip_line(snap, now),
        strip_line(snap, now, compact=True),
        strip_line(snap, now, compact=True, service=False),
    )
    return next((form for form in forms if fits(form)), forms[-1])


def _fits(label: QLabel, text: str) -> bool:
    return label.fontMetrics().horizontalAdvance(text) <= label.contentsRect().width()


class WallMajors(QWidget):
    """The strip; ``refresh()`` re-reads the cache, ``tick()`` relabels."""

    def __init__(
        self,
        cache: Cache,
        clock: Callable[[], datetime],
        parent: QWidget | None = None,
        *,
        cadence: Mapping[int, int] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("wallMajors")
        self._cache = cache
        self._clock = clock
        self._cadence = cadence
        self._snaps: list[MajorSnapshot] = []
        self._size = 0
        self.lines = [QLabel(self) for _ in range(SHOWN)]
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for label in self.lines:
            label.setObjectName("wallMajorLine")
            label.setWordWrap(False)  # one line a major: the on-call page keeps its rows
            layout.addWidget(label)
        self._ticker = QTimer(self)
        self._ticker.setInterval(1_000)
        self._ticker.timeout.connect(self.tick)
        self._ticker.start()
        self._refresher = QTimer(self)
        self._refresher.setInterval(5_000)
        self._refresher.timeout.connect(self.refresh)
        self._refresher.start()
        self.refresh()

    def refresh(self) -> None:
        try:
            self._read()
        except CacheError:
            self._ticker.stop()  # the cache closed under the wall (it is shutting down)
            self._refresher.stop()
            return
        self.tick()

    def _read(self) -> None:
        services = self._cache.reference("services")
        facing = {str(d.get("id")) for d in services if d.get("customer_facing")}
        majors = self._cache.open_major_incidents()
        # The backend's reckoning (``next_update_due``, what the queue's pill reads) where
        # the incident carries one; worked out from the timeline on the settings'
        # cadence for a backend that does not.
        snaps = [
            replace(snap, due=dict(i.next_update_due)) if i.next_update_due else snap
            for i in majors
            for snap in (snapshot(self._cache, i, facing, self._cadence),)
        ]
        # Commanded first (being run now), then the most severe, then the newest.
        snaps.sort(
            key=lambda s: (
                "Incident Commander" not in s.roles,
                int(s.incident.severity),
                -s.declared_at.timestamp(),
            )
        )
        self._snaps = snaps[:SHOWN]

    def tick(self) -> None:
        now = self._clock()
        for n, label in enumerate(self.lines):
            if n >= len(self._snaps):
                label.hide()
                continue
            snap = self._snaps[n]
            late = bool(overdue(snap.due, now))
            label.setText(fitted_line(snap, now, partial(_fits, label)))
            label.setFrameShape(QFrame.Shape.Box if late else QFrame.Shape.NoFrame)
            label.setLineWidth(4 if late else 0)
            label.show()
        self.setVisible(bool(self._snaps))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        window = self.window()
        # Legible at 5 m on a 1080p wall: ~1/28 of the screen's height.
        size = max(18, window.height() // 28)
        if size != self._size:
            # A style sheet, as the wall's theme sizes its text by style sheet too.
            self._size = size
            self.setStyleSheet(
                f"QLabel#wallMajorLine {{ font-size: {size}px; font-weight: bold; "
                "border-color: white; padding: 2px 8px; }"
            )
        self.tick()  # the line's form follows the new width and font


def attach(
    wall: QWidget,
    cache: object,
    clock: Callable[[], datetime],
    cadence: Mapping[int, int] | None = None,
) -> WallMajors | None:
    """Put the strip under the wall's counters (only over a real cache).

    ``cadence`` is ``[major.cadence_minutes]``, for incidents whose backend sends
    no ``next_update_due`` of its own.
    """
    layout = wall.layout()
    if not isinstance(cache, Cache) or not isinstance(layout, QVBoxLayout):
        return None
    strip = WallMajors(cache, clock, wall, cadence=cadence)
    layout.insertWidget(3, strip)
    return strip
