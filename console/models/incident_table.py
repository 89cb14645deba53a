"""The incident queue as a Qt table model: a thin adapter over domain Incidents.

Rows are kept in triage order: open incidents first, then by severity, then by
when the next SLA target falls due (most urgent first). The model never decides
SLA or severity itself; it asks the :class:`~console.domain.sla.SlaPolicy`.

Live updates touch only what changed (``rowsInserted``, ``rowsMoved``,
``dataChanged``, ``rowsRemoved``) so the operator's selection and scroll
position survive; only :meth:`IncidentTableModel.set_incidents` resets.
``tick(now)`` moves the SLA clocks and repaints only the SLA column. SLA
readings are computed lazily for the rows a view asks about, so a tick costs
the same with 100 or 100 000 incidents.
"""

from __future__ import annotations

import enum
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont

from console.domain.incident import Incident
from console.domain.lifecycle import HoldReason
from console.domain.sla import SlaReading, SlaStatus

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
INCIDENT_ROLE = Qt.ItemDataRole.UserRole + 2
"""The row's :class:`~console.domain.incident.Incident`."""
SLA_ROLE = Qt.ItemDataRole.UserRole + 3
"""The row's current :class:`~console.domain.sla.SlaReading`."""

# SLA cell colours: a filled cell plus a text marker, never colour alone.
_SLA_STYLE: dict[SlaStatus, tuple[str, str] | None] = {
    SlaStatus.BREACHED: ("#C62828", "#FFFFFF"),
    SlaStatus.WARNING: ("#F9A825", "#000000"),
    SlaStatus.PAUSED: ("#9E9E9E", "#000000"),
    SlaStatus.OK: None,
    SlaStatus.MET: None,
}


_HOLD_SHORT = {
    HoldReason.AWAITING_CALLER: "caller",
    HoldReason.AWAITING_VENDOR: "vendor",
    HoldReason.AWAITING_CHANGE: "change",
}


class SlaClock(Protocol):
    """What the model needs from an SLA policy (``SlaPolicy`` satisfies it)."""

    def current(self, incident: Incident, at: datetime) -> SlaReading: ...


class Changes(Protocol):
    """What the model needs from a store ``ChangeSet``: incident ids by kind of change."""

    @property
    def inserted(self) -> frozenset[str]: ...

    @property
    def updated(self) -> frozenset[str]: ...

    @property
    def removed(self) -> frozenset[str]: ...


@dataclass(frozen=True)
class DisplayNames:
    """Names to show instead of ids (services, people, teams); unknown ids show as they are."""

    services: Mapping[str, str] = field(default_factory=dict)
    people: Mapping[str, str] = field(default_factory=dict)
    teams: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_reference(
        cls,
        services: Iterable[Mapping[str, Any]] = (),
        contacts: Iterable[Mapping[str, Any]] = (),
        teams: Iterable[Mapping[str, Any]] = (),
    ) -> DisplayNames:
        """Build from reference items (each with ``id`` and ``name``)."""

        def names(items: Iterable[Mapping[str, Any]]) -> dict[str, str]:
            return {str(i["id"]): str(i.get("name") or i["id"]) for i in items if "id" in i}

        return cls(names(services), names(contacts), names(teams))


# Open work first, then severity, then the moment the next target falls due.
# The due is a fixed instant while a clock runs, so the order stays right as
# time passes without re-sorting on every tick. The id breaks ties, which makes
# the order total (bisect finds every row) and stable across reloads.
SortKey = tuple[int, int, float, str]


def sort_key(incident: Incident, reading: SlaReading) -> SortKey:
    """Where an incident belongs in the queue (smaller is higher up)."""
    if incident.is_open:
        return (0, incident.severity.value, reading.due.timestamp(), incident.id)
    # Finished work: most recently changed first within each severity.
    return (1, incident.severity.value, -incident.updated_at.timestamp(), incident.id)


class IncidentTableModel(QAbstractTableModel):
    """Incidents in triage order, one row each, for the queue and the wall display."""

    def __init__(
        self,
        clock: SlaClock,
        now: datetime,
        incidents: Iterable[Incident] = (),
        *,
        names: DisplayNames | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._clock = clock
        self._now = now
        self._names = names or DisplayNames()
        self._rows: list[Incident] = []
        self._keys: list[SortKey] = []
        self._key_of: dict[str, SortKey] = {}
        # Readings for the current tick, filled as views ask for rows.
        self._readings: dict[str, SlaReading] = {}
        self._open_count = 0
        self._bold = QFont()
        self._bold.setBold(True)
        self._italic = QFont()
        self._italic.setItalic(True)
        if incidents:
            self.set_incidents(incidents)

    # ------------------------------------------------------------ Qt interface

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(Column):
            if role == Qt.ItemDataRole.DisplayRole:
                return Column(section).header
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        incident = self._rows[index.row()]
        column = Column(index.column())
        if role == INCIDENT_ROLE:
            return incident
        if role == SEVERITY_ROLE:
            return incident.severity
        if role == SLA_ROLE:
            return self.reading(incident)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(incident, column)
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
            style = _SLA_STYLE[self.reading(incident).status]
            if style is None:
                return None
            return QColor(style[0] if role == Qt.ItemDataRole.BackgroundRole else style[1])
        if role == Qt.ItemDataRole.FontRole:
            if (column is Column.TITLE and incident.major) or (
                column is Column.SLA and self.reading(incident).status is SlaStatus.BREACHED
            ):
                return self._bold
            if column is Column.ASSIGNEE and not incident.assignee:
                return self._italic
        return None

    # ------------------------------------------------------------- reading rows

    @property
    def now(self) -> datetime:
        """The instant the SLA column shows."""
        return self._now

    def incident_at(self, row: int) -> Incident:
        """The incident shown in ``row``."""
        return self._rows[row]

    @property
    def open_count(self) -> int:
        """How many rows are open incidents (kept up to date, so asking is free)."""
        return self._open_count

    def incidents(self) -> list[Incident]:
        """All incidents, in display order."""
        return list(self._rows)

    def row_of(self, incident_id: str) -> int | None:
        """The row showing ``incident_id``, or None."""
        key = self._key_of.get(incident_id)
        if key is None:
            return None
        return bisect_left(self._keys, key)

    def reading(self, incident: Incident) -> SlaReading:
        """The incident's SLA clock at :attr:`now` (cached until the next tick)."""
        reading = self._readings.get(incident.id)
        if reading is None:
            reading = self._clock.current(incident, self._now)
            self._readings[incident.id] = reading
        return reading

    # ----------------------------------------------------------------- updates

    def set_incidents(self, incidents: Iterable[Incident]) -> None:
        """Replace every row (the first load; live updates use :meth:`upsert`)."""
        self.beginResetModel()
        self._readings.clear()
        pairs = sorted((self._key(i), i) for i in {i.id: i for i in incidents}.values())
        self._keys = [k for k, _ in pairs]
        self._rows = [i for _, i in pairs]
        self._key_of = {i.id: k for k, i in pairs}
        self._open_count = sum(1 for i in self._rows if i.is_open)
        self.endResetModel()

    def upsert(self, incidents: Iterable[Incident]) -> None:
        """Insert new incidents; update known ones in place, moving rows whose order changed."""
        for incident in incidents:
            if incident.id in self._key_of:
                self._update(incident)
            else:
                self._insert(incident)

    def remove(self, incident_ids: Iterable[str]) -> None:
        """Remove rows for these ids (unknown ids are ignored)."""
        for incident_id in incident_ids:
            row = self.row_of(incident_id)
            if row is None:
                continue
            self.beginRemoveRows(QModelIndex(), row, row)
            self._open_count -= self._rows[row].is_open
            del self._rows[row]
            del self._keys[row]
            del self._key_of[incident_id]
            self._readings.pop(incident_id, None)
            self.endRemoveRows()

    def apply_changes(self, changes: Changes, lookup: Callable[[str], Incident | None]) -> None:
        """Apply a store ChangeSet: fetch new and changed incidents with ``lookup``."""
        self.remove(changes.removed)
        fresh: list[Incident] = []
        gone: list[str] = []
        for incident_id in sorted(changes.inserted | changes.updated):
            incident = lookup(incident_id)
            if incident is None:
                gone.append(incident_id)  # deleted again before we asked
            else:
                fresh.append(incident)
        self.remove(gone)
        self.upsert(fresh)

    def tick(self, now: datetime) -> None:
        """Move the SLA clocks to ``now``; only the SLA column is repainted."""
        self._now = now
        self._readings.clear()
        if self._rows:
            column = int(Column.SLA)
            self.dataChanged.emit(
                self.index(0, column),
                self.index(len(self._rows) - 1, column),
                [
                    Qt.ItemDataRole.DisplayRole,
                    Qt.ItemDataRole.ToolTipRole,
                    Qt.ItemDataRole.BackgroundRole,
                    Qt.ItemDataRole.ForegroundRole,
                    Qt.ItemDataRole.FontRole,
                    SLA_ROLE,
                ],
            )

    def set_names(self, names: DisplayNames) -> None:
        """Show new service/people/team names (after reference data changed)."""
        self._names = names
        if self._rows:
            last = len(self._rows) - 1
            self.dataChanged.emit(self.index(0, Column.SERVICE), self.index(last, Column.ASSIGNEE))

    # ---------------------------------------------------------------- internals

    def _key(self, incident: Incident) -> SortKey:
        reading = self._clock.current(incident, self._now)
        self._readings[incident.id] = reading
        return sort_key(incident, reading)

    def _insert(self, incident: Incident) -> None:
        key = self._key(incident)
        row = bisect_left(self._keys, key)
        self.beginInsertRows(QModelIndex(), row, row)
        self._open_count += incident.is_open
        self._rows.insert(row, incident)
        self._keys.insert(row, key)
        self._key_of[incident.id] = key
        self.endInsertRows()

    def _update(self, incident: Incident) -> None:
        old_row = self.row_of(incident.id)
        assert old_row is not None
        self._open_count += incident.is_open - self._rows[old_row].is_open
        self._readings.pop(incident.id, None)
        key = self._key(incident)
        # Where the row goes once taken out of its old place.
        others = self._keys[:old_row] + self._keys[old_row + 1 :]
        new_row = bisect_left(others, key)
        if new_row != old_row:
            # Qt's destination is counted before the move: one past the target when moving down.
            destination = new_row + 1 if new_row > old_row else new_row
            self.beginMoveRows(QModelIndex(), old_row, old_row, QModelIndex(), destination)
            del self._rows[old_row]
            del self._keys[old_row]
            self._rows.insert(new_row, incident)
            self._keys.insert(new_row, key)
            self._key_of[incident.id] = key
            self.endMoveRows()
        else:
            self._rows[new_row] = incident
            self._keys[new_row] = key
            self._key_of[incident.id] = key
        self.dataChanged.emit(self.index(new_row, 0), self.index(new_row, len(Column) - 1))

    def _text(self, incident: Incident, column: Column) -> str:
        if column is Column.SEVERITY:
            return f"{incident.severity.code} {incident.severity.label}"
        if column is Column.NUMBER:
            return incident.number
        if column is Column.TITLE:
            return ("MAJOR · " if incident.major and incident.is_open else "") + incident.title
        if column is Column.SERVICE:
            return self._names.services.get(incident.service, incident.service)
        if column is Column.STATE:
            if incident.hold_reason is not None:
                return f"{incident.state.label} · {_HOLD_SHORT[incident.hold_reason]}"
            return incident.state.label
        if column is Column.ASSIGNEE:
            if incident.assignee:
                return self._names.people.get(incident.assignee, incident.assignee)
            if incident.assignment_group:
                # Nobody picked it up yet: show whose queue it waits in (in italics).
                return self._names.teams.get(incident.assignment_group, incident.assignment_group)
            return "Unassigned"
        if column is Column.SLA:
            return sla_text(self.reading(incident))
        if column is Column.OPENED:
            return opened_text(incident.opened_at, self._now)
        return ""

    def _tooltip(self, incident: Incident, column: Column) -> str | None:
        if column is Column.SEVERITY:
            return (
                f"{incident.severity.code} {incident.severity.label}: "
                f"impact {incident.impact.value}, urgency {incident.urgency.value}"
            )
        if column is Column.TITLE:
            return incident.description or incident.title
        if column is Column.STATE and incident.hold_reason is not None:
            return f"On hold: {incident.hold_reason.value.replace('_', ' ')}"
        if column is Column.ASSIGNEE and not incident.assignee:
            if incident.assignment_group:
                group = self._names.teams.get(incident.assignment_group, incident.assignment_group)
                return f"Not assigned to a person yet; waiting in the {group} queue"
            return "Not assigned to a team or a person yet"
        if column is Column.SLA:
            reading = self.reading(incident)
            due = reading.due.astimezone().strftime("%a %d %b %H:%M")
            kind = reading.kind.capitalize()
            return f"{kind} target {_duration(reading.target)}, due {due} — {reading.status.label}"
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
        return f"✖ {noun} overdue {_duration(-reading.remaining)}"
    if status is SlaStatus.PAUSED:
        return f"Paused · {_duration(reading.remaining)} left"
    marker = "⚠ " if status is SlaStatus.WARNING else ""
    return f"{marker}{verb} in {_duration(reading.remaining)}"


def opened_text(opened: datetime, now: datetime) -> str:
    """``14:03`` today, ``Mon 14:03`` this week, ``21 Nov 14:03`` before."""
    local = opened.astimezone()
    today = now.astimezone().date()
    if local.date() == today:
        return local.strftime("%H:%M")
    if (today - local.date()).days < 7:
        return local.strftime("%a %H:%M")
    return local.strftime("%d %b %H:%M")


def _duration(amount: timedelta) -> str:
    """``45 min``, ``3 h 05 min``, ``2 d 4 h`` (rounded down to the minute)."""
    minutes = max(0, int(amount.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"
