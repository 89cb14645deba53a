"""The incident queue as a Qt table model: a thin adapter over the shared :class:`IncidentQueue`.

Rows are kept in triage order: open incidents first, then by severity, then by
when the next SLA target falls due (most urgent first). The model never decides
SLA or severity itself; it asks the :class:`~console.domain.sla.SlaPolicy`.

Filtering and sorting happen in :mod:`console.services.queue` over precomputed
keys (never a stock proxy model over ``data()``); live updates touch only what
changed (see :mod:`console.models.projection`), so the operator's selection
and scroll position survive; only the first load resets. ``tick(now)`` moves
the SLA clocks and repaints only the SLA column. SLA readings are computed
lazily for the rows a view asks about, so a tick costs the same with 100 or
100 000 incidents.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont

from console.domain.incident import Incident
from console.domain.lifecycle import HoldReason
from console.domain.sla import SlaClock, SlaPolicy, SlaReading, SlaStatus, duration_text
from console.models.projection import (
    FLASH_ROLE,
    ID_ROLE,
    INCIDENT_ROLE,
    SLA_ROLE,
    Changes,
    ProjectionModel,
)
from console.services.queue import DisplayNames, IncidentQueue, QueueFilter

__all__ = [
    "FLASH_ROLE",
    "ID_ROLE",
    "INCIDENT_ROLE",
    "OVERDUE_ROLE",
    "SEVERITY_ROLE",
    "SLA_ROLE",
    "Changes",
    "Column",
    "DisplayNames",
    "IncidentTableModel",
    "SlaClock",
    "duration_text",
    "opened_text",
    "sla_text",
    "sort_key",
]

Index = QModelIndex | QPersistentModelIndex


class Column(enum.IntEnum):
    """The table's columns, left to right."""

    SEVERITY = 0
    NUMBER = 1
    TITLE = 2
    SERVICE = 3
    STATE = 4
    ASSIGNEE = 5
    SLA = 6
    OPENED = 7

    @property
    def header(self) -> str:
        return _HEADERS[self]


_COLUMNS = tuple(Column)

_HEADERS = {
    Column.SEVERITY: "Severity",
    Column.NUMBER: "Number",
    Column.TITLE: "Title",
    Column.SERVICE: "Service",
    Column.STATE: "State",
    Column.ASSIGNEE: "Assignee",
    Column.SLA: "SLA",
    Column.OPENED: "Opened",
}

SEVERITY_ROLE = Qt.ItemDataRole.UserRole + 1
"""The row's :class:`~console.domain.severity.Severity` (for the severity delegate)."""
OVERDUE_ROLE = Qt.ItemDataRole.UserRole + 10
"""#19: the title cell's overdue badge (``◷ update overdue (internal 4 min)``) or None."""

# SLA cell colours: a filled cell plus a text marker, never colour alone.
SLA_STYLE: dict[SlaStatus, tuple[str, str] | None] = {
    SlaStatus.BREACHED: ("#C62828", "#FFFFFF"),
    SlaStatus.WARNING: ("#F9A825", "#000000"),
    SlaStatus.PAUSED: ("#9E9E9E", "#000000"),
    SlaStatus.OK: None,
    SlaStatus.MET: None,
}

# New and changed rows: a translucent amber wash, readable on light and dark themes.
FLASH_COLOUR = QColor(255, 193, 7, 90)

_HOLD_SHORT = {
    HoldReason.AWAITING_CALLER: "caller",
    HoldReason.AWAITING_VENDOR: "vendor",
    HoldReason.AWAITING_CHANGE: "change",
}


SortKey = tuple[int, int, float, str]


def sort_key(incident: Incident, reading: SlaReading) -> SortKey:
    """Where an incident belongs in the queue (smaller is higher up).

    The same order :mod:`console.services.queue` keeps with integer keys: open
    work first, then severity, then the moment the next target falls due;
    finished work most recently changed first within each severity.
    """
    if incident.is_open:
        return (0, incident.severity.value, reading.due.timestamp(), incident.id)
    return (1, incident.severity.value, -incident.updated_at.timestamp(), incident.id)


class IncidentTableModel(ProjectionModel):
    """Incidents in triage order, one row each, for the queue and the wall display.

    Built from a policy and incidents (it then owns its :class:`IncidentQueue`),
    or with :meth:`for_queue` as one more projection of a shared queue.
    """

    def __init__(
        self,
        clock: SlaPolicy,
        now: datetime,
        incidents: Iterable[Incident] = (),
        *,
        names: DisplayNames | None = None,
        wanted: QueueFilter | None = None,
        queue: IncidentQueue | None = None,
        describe: Callable[[str], str] | None = None,
        parent: QObject | None = None,
    ) -> None:
        if queue is None:
            queue = IncidentQueue(clock, now, names=names, describe=describe)
            queue.load(incidents)
        super().__init__(queue, wanted, parent)
        self._bold = QFont()
        self._bold.setBold(True)
        self._italic = QFont()
        self._italic.setItalic(True)

    @classmethod
    def for_queue(
        cls, queue: IncidentQueue, wanted: QueueFilter | None = None, parent: QObject | None = None
    ) -> IncidentTableModel:
        """Another table over a shared queue."""
        return cls(queue.policy, queue.now, queue=queue, wanted=wanted, parent=parent)

    # ------------------------------------------------------------ Qt interface

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def clock_columns(self) -> tuple[int, int]:
        return (int(Column.SLA), int(Column.SLA))

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(Column):
            if role == Qt.ItemDataRole.DisplayRole:
                return Column(section).header
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        rows = self._list.rows
        if not index.isValid() or not 0 <= index.row() < len(rows):
            return None
        row = rows[index.row()]
        incident = row.incident
        column = _COLUMNS[index.column()]  # a tuple lookup: Column(n) costs a call per cell
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(incident, column)
        if role == SEVERITY_ROLE:
            return incident.severity
        if role == OVERDUE_ROLE:
            return self._queue.update_overdue(incident.id) if incident.major else None
        common = self.common_data(row, role)
        if common is not None:
            return common
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(incident, column)
        if column is Column.SEVERITY:
            if role == Qt.ItemDataRole.DecorationRole:
                return QColor(incident.severity.style.colour)
            return None
        if column is Column.SLA and role in (
            Qt.ItemDataRole.BackgroundRole,
            Qt.ItemDataRole.ForegroundRole,
        ):
            style = SLA_STYLE[self.reading(incident).status]
            if style is None:
                return self._flash_background(row.id, role)
            return QColor(style[0] if role == Qt.ItemDataRole.BackgroundRole else style[1])
        if role == Qt.ItemDataRole.BackgroundRole:
            return self._flash_background(row.id, role)
        if role == Qt.ItemDataRole.FontRole:
            if (column is Column.TITLE and incident.major) or (
                column is Column.SLA and self.reading(incident).status is SlaStatus.BREACHED
            ):
                return self._bold
            if column is Column.ASSIGNEE and not incident.assignee:
                return self._italic
        return None

    def set_names(self, names: DisplayNames) -> None:
        """Show new service/people/team names (after reference data changed)."""
        self._queue.set_names(names)

    # ---------------------------------------------------------------- internals

    def _flash_background(self, incident_id: str, role: int) -> QColor | None:
        if role == Qt.ItemDataRole.BackgroundRole and self.is_flashing(incident_id):
            return FLASH_COLOUR
        return None

    def _text(self, incident: Incident, column: Column) -> str:
        if column is Column.SEVERITY:
            return f"{incident.severity.code} {incident.severity.label}"
        if column is Column.NUMBER:
            return incident.number
        if column is Column.TITLE:
            if not (incident.major and incident.is_open):
                return incident.title
            # #19: a late stakeholder update reads in words and a shape, not colour alone.
            late = self._queue.update_overdue(incident.id)
            return f"MAJOR · {late} · {incident.title}" if late else f"MAJOR · {incident.title}"
        if column is Column.SERVICE:
            return self._queue.names.services.get(incident.service, incident.service)
        if column is Column.STATE:
            if incident.hold_reason is not None:
                return f"{incident.state.label} · {_HOLD_SHORT[incident.hold_reason]}"
            return incident.state.label
        if column is Column.ASSIGNEE:
            if incident.assignee:
                return self._queue.names.people.get(incident.assignee, incident.assignee)
            if incident.assignment_group:
                # Nobody picked it up yet: show whose queue it waits in (in italics).
                return self._queue.names.team(incident.assignment_group)
            return "Unassigned"
        if column is Column.SLA:
            return sla_text(self.reading(incident))
        if column is Column.OPENED:
            return opened_text(incident.opened_at, self._queue.now)
        return ""

    def _tooltip(self, incident: Incident, column: Column) -> str | None:
        if column is Column.SEVERITY:
            return (
                f"{incident.severity.code} {incident.severity.label}: "
                f"impact {incident.impact.value}, urgency {incident.urgency.value}"
            )
        if column is Column.TITLE:
            text = self._queue.description(incident) or incident.title
            late = self._queue.update_overdue(incident.id) if incident.major else None
            return (
                f"{late}: publish it from the major incident workspace (Ctrl+4)\n\n{text}"
                if late
                else text
            )
        if column is Column.STATE and incident.hold_reason is not None:
            return f"On hold: {incident.hold_reason.value.replace('_', ' ')}"
        if column is Column.ASSIGNEE and not incident.assignee:
            if incident.assignment_group:
                group = self._queue.names.team(incident.assignment_group)
                return f"Not assigned to a person yet; waiting in the {group} queue"
            return "Not assigned to a team or a person yet"
        if column is Column.SLA:
            reading = self.reading(incident)
            due = reading.due.astimezone().strftime("%a %d %b %H:%M")
            kind = reading.kind.capitalize()
            return (
                f"{kind} target {duration_text(reading.target)}, due {due} — {reading.status.label}"
            )
        if column is Column.OPENED:
            return incident.opened_at.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
        return None


def sla_text(reading: SlaReading) -> str:
    """The SLA cell: what is due and when, with a marker that reads without colour."""
    verb = "Respond" if reading.kind == "response" else "Resolve"
    noun = "Response" if reading.kind == "response" else "Resolution"
    status = reading.status
    if status is SlaStatus.MET:
        return f"{noun} met"
    if status is SlaStatus.BREACHED:
        if reading.stopped_at is not None:
            return f"✖ {noun} missed"
        return f"✖ {noun} overdue {duration_text(-reading.remaining)}"
    if status is SlaStatus.PAUSED:
        return f"Paused · {duration_text(reading.remaining)} left"
    marker = "⚠ " if status is SlaStatus.WARNING else ""
    return f"{marker}{verb} in {duration_text(reading.remaining)}"


def opened_text(opened: datetime, now: datetime) -> str:
    """``14:03`` today, ``Mon 14:03`` this week, ``21 Nov 14:03`` before."""
    local = opened.astimezone()
    today = now.astimezone().date()
    if local.date() == today:
        return local.strftime("%H:%M")
    if (today - local.date()).days < 7:
        return local.strftime("%a %H:%M")
    return local.strftime("%d %b %H:%M")


_duration = duration_text  # the old private name, for callers that used it
