"""The board: one list model per lifecycle column (new, triaged, in progress, on hold, resolved).

Each column is a projection of the shared :class:`IncidentQueue` (the same
rows, keys and filter as the queue, plus "this column's states"), so a
record that changes state leaves one column and enters another with
``rowsRemoved``/``rowsInserted``, never a reset. Cards are dragged as an
incident id (:data:`INCIDENT_MIME`); a drop does not change anything itself:
the column emits :attr:`BoardColumnModel.drop_requested` and the actions
controller performs the state change through the lifecycle rules and the
outbox (or refuses it, with the reason).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import (
    QByteArray,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from console.domain.lifecycle import State
from console.domain.severity import Severity
from console.domain.sla import SlaStatus
from console.models.incident_table import SEVERITY_ROLE, sla_text
from console.models.projection import ProjectionModel
from console.services.queue import IncidentQueue, QueueFilter, Row

Index = QModelIndex | QPersistentModelIndex

INCIDENT_MIME = "application/x-noc-incident-id"
"""The drag payload: the dragged incident's id, UTF-8."""

CARD_ROLE = Qt.ItemDataRole.UserRole + 20
"""The row's :class:`Card` (what the card delegate paints)."""


@dataclass(frozen=True)
class BoardColumn:
    """One board column: the state a drop moves to, its title, the states it shows."""

    state: State
    title: str
    states: frozenset[State]


BOARD_COLUMNS: tuple[BoardColumn, ...] = (
    BoardColumn(State.NEW, "New", frozenset({State.NEW})),
    BoardColumn(State.TRIAGED, "Triaged", frozenset({State.TRIAGED})),
    # Reopened work is work in progress again; the card says "Reopened".
    BoardColumn(State.IN_PROGRESS, "In progress", frozenset({State.IN_PROGRESS, State.REOPENED})),
    BoardColumn(State.ON_HOLD, "On hold", frozenset({State.ON_HOLD})),
    BoardColumn(State.RESOLVED, "Resolved", frozenset({State.RESOLVED})),
)


def column_filter(column: BoardColumn, wanted: QueueFilter) -> QueueFilter:
    """The queue's filter as one board column applies it: its own states, nothing else."""
    return replace(wanted.without_states(), states=column.states)


@dataclass(frozen=True)
class Card:
    """What one card shows: plain text and enums, no Qt."""

    incident_id: str
    number: str
    title: str
    service: str
    severity: Severity
    owner: str  # the assignee, else the team whose queue it waits in, else "Unassigned"
    assigned: bool  # a person has it (else ``owner`` is a team or "Unassigned")
    state: str  # the state label, with the hold reason or "Reopened" where it matters
    sla: str
    sla_status: SlaStatus
    major: bool
    flashing: bool
    # #19: ``◷ update overdue (internal 4 min)`` while a major owes a late update (the queue's).
    update_overdue: str | None = None


class BoardColumnModel(ProjectionModel):
    """The cards of one board column, in triage order, with drag and drop of incident ids."""

    drop_requested = Signal(str, object)
    """A card was dropped here: (incident id, the column's :class:`State`)."""

    def __init__(
        self,
        queue: IncidentQueue,
        column: BoardColumn,
        wanted: QueueFilter | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(queue, column_filter(column, wanted or QueueFilter()), parent)
        self.column = column

    def set_board_filter(self, wanted: QueueFilter) -> None:
        """Apply the queue's filter (its state choices are ignored: the column decides)."""
        self.set_filter(column_filter(self.column, wanted))

    # ------------------------------------------------------------ Qt basics

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 1

    def clock_columns(self) -> tuple[int, int]:
        return (0, 0)

    def clock_roles(self) -> list[int]:
        return [*super().clock_roles(), CARD_ROLE]

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if section == 0 and role == Qt.ItemDataRole.DisplayRole:
            return self.column.title
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        # Cards take drops too: a drop on a card is a drop on its column.
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled
        return super().flags(index) | Qt.ItemFlag.ItemIsDragEnabled | Qt.ItemFlag.ItemIsDropEnabled

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < self.rowCount() or index.column() != 0:
            return None
        row = self.row_at(index.row())
        incident = row.incident
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{incident.number} {incident.title}"
        if role == CARD_ROLE:
            return self.card(row)
        if role == SEVERITY_ROLE:
            return incident.severity
        common = self.common_data(row, role)
        if common is not None:
            return common
        if role == Qt.ItemDataRole.ToolTipRole:
            card = self.card(row)
            late = (
                f"\n{card.update_overdue}: publish it from the major incident workspace (Ctrl+4)"
                if card.update_overdue
                else ""
            )
            return (
                f"{card.number} · {incident.severity.code} {incident.severity.label}\n"
                f"{incident.title}\n{card.service} · {card.owner}\n{card.state} · {card.sla}" + late
            )
        if role == Qt.ItemDataRole.AccessibleTextRole:
            card = self.card(row)
            late = f", {card.update_overdue}" if card.update_overdue else ""
            return (
                f"{card.number}, {incident.severity.code} {incident.severity.label}, "
                f"{card.sla}{late}"
            )
        return None

    def card(self, row: Row) -> Card:
        """The card of ``row`` at the current tick."""
        incident = row.incident
        names = self._queue.names
        if incident.assignee:
            owner, assigned = names.person(incident.assignee), True
        elif incident.assignment_group:
            owner, assigned = names.team(incident.assignment_group), False
        else:
            owner, assigned = "Unassigned", False
        state = incident.state.label
        if incident.hold_reason is not None:
            state = f"{state} · {incident.hold_reason.value.split('_', 1)[1]}"
        reading = self.reading(incident)
        return Card(
            incident_id=incident.id,
            number=incident.number,
            title=incident.title,
            service=names.service(incident.service),
            severity=incident.severity,
            owner=owner,
            assigned=assigned,
            state=state,
            sla=sla_text(reading),
            sla_status=reading.status,
            major=incident.major and incident.is_open,
            flashing=self.is_flashing(incident.id),
            update_overdue=self._queue.update_overdue(incident.id) if incident.major else None,
        )

    # -------------------------------------------------------- drag and drop

    def mimeTypes(self) -> list[str]:
        return [INCIDENT_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        data = QMimeData()
        ids = [self.row_at(i.row()).id for i in indexes if i.isValid()]
        if ids:
            data.setData(INCIDENT_MIME, QByteArray(ids[0].encode("utf-8")))
            data.setText(self.row_at(indexes[0].row()).incident.number)
        return data

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction | Qt.DropAction.CopyAction

    def canDropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index
    ) -> bool:
        return data.hasFormat(INCIDENT_MIME)

    def dropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index
    ) -> bool:
        """Ask for the state change; the rows move when the edit is applied (or not at all)."""
        if not data.hasFormat(INCIDENT_MIME):
            return False
        incident_id = bytes(data.data(INCIDENT_MIME).data()).decode("utf-8")
        if incident_id:
            self.drop_requested.emit(incident_id, self.column.state)
        # False: nothing here changed, so the view must not remove the dragged row.
        return False


class BoardModel(QObject):
    """The five column models over one queue, filtered together."""

    drop_requested = Signal(str, object)
    """A card was dropped on a column: (incident id, target :class:`State`)."""

    def __init__(
        self,
        queue: IncidentQueue,
        wanted: QueueFilter | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.queue = queue
        self.columns: list[BoardColumnModel] = []
        for column in BOARD_COLUMNS:
            model = BoardColumnModel(queue, column, wanted, self)
            model.drop_requested.connect(self.drop_requested)
            self.columns.append(model)

    def set_filter(self, wanted: QueueFilter) -> None:
        for model in self.columns:
            model.set_board_filter(wanted)

    def column_of(self, incident_id: str) -> tuple[int, int] | None:
        """(column, row) of the card for ``incident_id``, or None when no column shows it."""
        for number, model in enumerate(self.columns):
            row = model.row_of(incident_id)
            if row is not None:
                return number, row
        return None
