"""A Qt model showing a filtered, ordered slice of an :class:`IncidentQueue`.

The queue (Qt-free) holds every incident as a precomputed :class:`Row`; each
projection keeps the rows its filter accepts, in triage order, and turns the
queue's notifications into the fine-grained Qt signals a live board needs:

- a record inserted, changed or removed → ``rowsInserted`` / ``dataChanged`` /
  ``rowsMoved`` / ``rowsRemoved`` for that one row;
- a filter change or a re-sort (a paused clock sliding past another row) →
  one ``layoutChanged`` whose persistent indexes follow their incidents, so
  the selection and the current row survive;
- the one-second tick → one ``dataChanged`` over the clock columns only.

Never a model reset, except :meth:`IncidentQueue.load` (the first load).
New and changed rows carry :data:`FLASH_ROLE` for a few ticks so the views
can highlight them briefly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from console.domain.incident import Incident
from console.domain.sla import SlaReading
from console.services.queue import IncidentQueue, OrderedRows, QueueFilter, Row

Index = QModelIndex | QPersistentModelIndex

INCIDENT_ROLE = Qt.ItemDataRole.UserRole + 2
"""The row's :class:`~console.domain.incident.Incident`."""
SLA_ROLE = Qt.ItemDataRole.UserRole + 3
"""The row's current :class:`~console.domain.sla.SlaReading`."""
FLASH_ROLE = Qt.ItemDataRole.UserRole + 4
"""True while a new or changed row is highlighted (a few seconds)."""
ID_ROLE = Qt.ItemDataRole.UserRole + 5
"""The row's incident id."""

FLASH_TICKS = 3
"""How many one-second ticks a new or changed row stays highlighted."""


class Changes(Protocol):
    """What a projection needs from a store ``ChangeSet``: incident ids by kind of change."""

    @property
    def inserted(self) -> frozenset[str]: ...

    @property
    def updated(self) -> frozenset[str]: ...

    @property
    def removed(self) -> frozenset[str]: ...


class ProjectionModel(QAbstractTableModel):
    """The rows of ``queue`` that ``wanted`` accepts, in triage order (see the module doc).

    Subclasses say how many columns there are, which of them show the SLA
    clock (:meth:`clock_columns`) and what ``data()`` returns.
    """

    incident_changed = Signal(str)
    """An incident was inserted, changed or removed (its id), whether shown here or not."""
    timelines_changed = Signal(object)
    """The timelines of these incident ids changed (a frozenset)."""
    filter_changed = Signal(object)
    """The filter changed (the new :class:`QueueFilter`)."""

    def __init__(
        self,
        queue: IncidentQueue,
        wanted: QueueFilter | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._queue = queue
        self._filter = wanted or QueueFilter()
        self._accepts = queue.predicate(self._filter)
        self._list = OrderedRows(queue.matching(self._filter))
        # Readings for the current tick, filled as views ask for rows.
        self._readings: dict[str, SlaReading] = {}
        self._ticks = 0
        self._flash: dict[str, int] = {}  # incident id → tick at which the highlight ends
        # The filters typed on the way to this one, with their rows, so a
        # backspace is answered without a search. Any live change clears it.
        self._typed: list[tuple[QueueFilter, list[Row]]] = []
        queue.subscribe(self)
        # A projection deleted with its window (the board's columns) must stop
        # listening, or the next live update would reach a deleted Qt object.
        self.destroyed.connect(lambda *_: queue.unsubscribe(self))

    # ------------------------------------------------------------ Qt basics

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._list)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def clock_columns(self) -> tuple[int, int]:
        """The first and last column that show the SLA clock (repainted each tick)."""
        raise NotImplementedError

    def common_data(self, row: Row, role: int) -> Any:
        """The roles every projection answers the same way (None: not one of them)."""
        if role == INCIDENT_ROLE:
            return row.incident
        if role == SLA_ROLE:
            return self.reading(row.incident)
        if role == FLASH_ROLE:
            return row.id in self._flash
        if role == ID_ROLE:
            return row.id
        return None

    # -------------------------------------------------------------- reading

    @property
    def queue(self) -> IncidentQueue:
        return self._queue

    @property
    def now(self) -> datetime:
        """The instant the SLA clocks show."""
        return self._queue.now

    @property
    def current_filter(self) -> QueueFilter:
        return self._filter

    @property
    def open_count(self) -> int:
        """How many open incidents are loaded (all of them, not only the shown ones)."""
        return self._queue.open_count

    def row_at(self, row: int) -> Row:
        return self._list.rows[row]

    def incident_at(self, row: int) -> Incident:
        """The incident shown in ``row``."""
        return self._list.rows[row].incident

    def incidents(self) -> list[Incident]:
        """Every loaded incident in triage order, shown or filtered out (a copy)."""
        return [row.incident for row in self._queue.ordered()]

    def shown(self) -> list[Incident]:
        """The incidents this projection shows, in display order."""
        return [row.incident for row in self._list.rows]

    def row_of(self, incident_id: str) -> int | None:
        """The row showing ``incident_id``, or None (not loaded or filtered out)."""
        row = self._queue.row(incident_id)
        return None if row is None else self._list.find(row.key)

    def reading(self, incident: Incident) -> SlaReading:
        """The incident's SLA clock at :attr:`now` (cached until the next tick)."""
        reading = self._readings.get(incident.id)
        if reading is None:
            reading = self._queue.policy.current(incident, self._queue.now)
            self._readings[incident.id] = reading
        return reading

    def is_flashing(self, incident_id: str) -> bool:
        return incident_id in self._flash

    # ------------------------------------------------------------- updates

    def set_incidents(self, incidents: Iterable[Incident]) -> None:
        """Replace every row of the queue (the first load; live updates use :meth:`upsert`)."""
        self._queue.load(incidents)

    def upsert(self, incidents: Iterable[Incident]) -> None:
        """Insert new incidents and update known ones, in the queue and every projection."""
        self._queue.upsert(incidents)

    def remove(self, incident_ids: Iterable[str]) -> None:
        """Remove these incidents (unknown ids are ignored)."""
        self._queue.remove(incident_ids)

    def apply_changes(self, changes: Changes, lookup: Callable[[str], Incident | None]) -> None:
        """Apply a store ChangeSet: fetch new and changed incidents with ``lookup``."""
        self._queue.remove(changes.removed)
        fresh: list[Incident] = []
        gone: list[str] = []
        for incident_id in sorted(changes.inserted | changes.updated):
            incident = lookup(incident_id)
            if incident is None:
                gone.append(incident_id)  # deleted again before we asked
            else:
                fresh.append(incident)
        self._queue.remove(gone)
        self._queue.upsert(fresh)
        timelines: frozenset[str] = getattr(changes, "timeline_of", frozenset())
        if timelines:
            self._queue.note_timelines(timelines)

    def tick(self, now: datetime) -> None:
        """Move the SLA clocks to ``now`` (for every projection of the queue)."""
        self._queue.tick(now)

    def set_filter(self, wanted: QueueFilter) -> None:
        """Show what ``wanted`` accepts: one ``layoutChanged``, the selection kept where it can be.

        While the operator types on (the new text contains the old), only the
        rows shown now are searched again.
        """
        if wanted == self._filter:
            return
        rows = self._earlier_result(wanted)
        if rows is None:
            if wanted.narrows(self._filter):
                self._typed.append((self._filter, self._list.rows))
                rows = self._queue.matching(wanted, self._list.rows)
            else:
                self._typed.clear()
                rows = self._queue.matching(wanted)
        self._filter = wanted
        self._accepts = self._queue.predicate(wanted)
        self._relayout(OrderedRows(rows))
        self.filter_changed.emit(wanted)

    def _earlier_result(self, wanted: QueueFilter) -> list[Row] | None:
        """The rows of ``wanted`` if it is a filter typed earlier in this run (a backspace)."""
        for position in range(len(self._typed) - 1, -1, -1):
            if self._typed[position][0] == wanted:
                rows = self._typed[position][1]
                del self._typed[position:]
                return rows
        return None

    # --------------------------------------------------- queue notifications

    def queue_reset(self) -> None:
        self._typed.clear()
        self.beginResetModel()
        self._readings.clear()
        self._flash.clear()
        self._list = OrderedRows(self._queue.matching(self._filter))
        self.endResetModel()

    def row_changed(self, old: Row | None, new: Row | None) -> None:
        self._typed.clear()
        incident_id = (new or old).id  # type: ignore[union-attr]
        self._readings.pop(incident_id, None)
        pos = None if old is None else self._list.find(old.key)
        keep = new is not None and self._accepts(new)
        if pos is not None and new is not None and keep:
            self._move_or_update(pos, new)
        elif pos is not None:
            self.beginRemoveRows(QModelIndex(), pos, pos)
            self._list.pop(pos)
            self._flash.pop(incident_id, None)
            self.endRemoveRows()
        elif new is not None and keep:
            place = self._list.place_for(new.key)
            self.beginInsertRows(QModelIndex(), place, place)
            self._list.insert(place, new)
            self._flash[new.id] = self._ticks + FLASH_TICKS
            self.endInsertRows()
        self.incident_changed.emit(incident_id)

    def rows_rekeyed(self, moved: Sequence[tuple[Row, Row]]) -> None:
        # Swap in the slid rows, then re-sort (one layout change) only if one
        # of them now sits out of order; usually none does.
        self._typed.clear()  # the lists kept there hold the rows before the slide
        positions = self._list.replace_all(moved)
        if all(self._list.in_order_at(pos) for pos in positions):
            return
        rows = OrderedRows(self._list.rows)
        rows.resort()
        self._relayout(rows)

    def clocks_moved(self, newly_at_risk: Sequence[Row]) -> None:
        self._ticks += 1
        self._readings.clear()
        if self._filter.at_risk and newly_at_risk:
            self._typed.clear()
            for row in newly_at_risk:
                if self._list.find(row.key) is None and self._accepts(row):
                    place = self._list.place_for(row.key)
                    self.beginInsertRows(QModelIndex(), place, place)
                    self._list.insert(place, row)
                    self.endInsertRows()
        ended = [key for key, until in self._flash.items() if until <= self._ticks]
        for incident_id in ended:
            del self._flash[incident_id]
            pos = self.row_of(incident_id)
            if pos is not None:
                self.dataChanged.emit(
                    self.index(pos, 0), self.index(pos, self.columnCount() - 1), [FLASH_ROLE]
                )
        if self._list:
            first, last = self.clock_columns()
            self.dataChanged.emit(
                self.index(0, first), self.index(len(self._list) - 1, last), self.clock_roles()
            )
        # #19: rows whose update-overdue badge appeared, moved on a minute or ended (few).
        for incident_id in self._queue.overdue_moved():
            pos = self.row_of(incident_id)
            if pos is not None:
                self.dataChanged.emit(self.index(pos, 0), self.index(pos, self.columnCount() - 1))

    def clock_roles(self) -> list[int]:
        """The roles a tick changes (views repaint only those cells)."""
        return [
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.ToolTipRole,
            Qt.ItemDataRole.BackgroundRole,
            Qt.ItemDataRole.ForegroundRole,
            Qt.ItemDataRole.FontRole,
            SLA_ROLE,
        ]

    def names_changed(self) -> None:
        self._typed.clear()
        if self._list:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._list) - 1, self.columnCount() - 1)
            )

    def timelines_changed_for(self, incident_ids: frozenset[str]) -> None:
        self.timelines_changed.emit(incident_ids)

    # ------------------------------------------------------------ internals

    def _move_or_update(self, pos: int, new: Row) -> None:
        target = self._list.place_after_removal(pos, new.key)
        if target != pos:
            # Qt counts the destination before the move: one past the target when moving down.
            destination = target + 1 if target > pos else target
            self.beginMoveRows(QModelIndex(), pos, pos, QModelIndex(), destination)
            self._list.pop(pos)
            self._list.insert(target, new)
            self.endMoveRows()
        else:
            self._list.put(pos, new)
        self._flash[new.id] = self._ticks + FLASH_TICKS
        self.dataChanged.emit(self.index(target, 0), self.index(target, self.columnCount() - 1))

    def _relayout(self, rows: OrderedRows) -> None:
        """Swap in a new row list with one layout change; persistent indexes follow their rows."""
        self.layoutAboutToBeChanged.emit()
        old = self._list.rows
        persistent = self.persistentIndexList()
        ids = [old[p.row()].id if 0 <= p.row() < len(old) else None for p in persistent]
        self._list = rows
        moved_to: list[QModelIndex] = []
        for index, incident_id in zip(persistent, ids, strict=True):
            row = None if incident_id is None else self._queue.row(incident_id)
            pos = None if row is None else rows.find(row.key)
            moved_to.append(QModelIndex() if pos is None else self.index(pos, index.column()))
        self.changePersistentIndexList(persistent, moved_to)
        self.layoutChanged.emit()
