"""One incident's timeline as a list model, newest entry first.

Work notes, status updates, state changes, assignments, escalations and
severity changes, each with when, who and what. A note the operator just
added is shown at once (it is in the cache before it is sent) and marked as
waiting to be sent until the backend's copy replaces it.

Showing another incident resets the model (it is a different list); new
entries of the same incident arrive with ``rowsInserted`` so the operator's
place in a long timeline is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)

from console.domain.incident import TimelineEvent, TimelineKind
from console.services.queue import DisplayNames

Index = QModelIndex | QPersistentModelIndex

EVENT_ROLE = Qt.ItemDataRole.UserRole + 30
"""The row's :class:`~console.domain.incident.TimelineEvent`."""
KIND_ROLE = Qt.ItemDataRole.UserRole + 31
"""The row's :class:`~console.domain.incident.TimelineKind`."""
HEADING_ROLE = Qt.ItemDataRole.UserRole + 32
"""The first line of an entry: kind, time and author."""
PENDING_ROLE = Qt.ItemDataRole.UserRole + 33
"""True for an entry written here and not yet accepted by the backend."""

LOCAL_PREFIX = "local-"
"""Ids of entries written on this console and not yet sent (see console.sync.edits)."""


def kind_label(kind: TimelineKind) -> str:
    """``Work note``, ``Status update``, ``State change``…"""
    return kind.label


class TimelineModel(QAbstractListModel):
    """The entries of one incident, newest first."""

    def __init__(self, names: DisplayNames | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._names = names or DisplayNames()
        self._incident_id: str | None = None
        self._events: list[TimelineEvent] = []

    @property
    def incident_id(self) -> str | None:
        return self._incident_id

    def set_names(self, names: DisplayNames) -> None:
        self._names = names
        if self._events:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._events) - 1, 0))

    def show(self, incident_id: str | None, events: Sequence[TimelineEvent]) -> None:
        """Show ``events`` (in any order) of ``incident_id``.

        The same incident again: entries new at the top are inserted, the rest
        updated in place, so a long timeline does not jump; anything else
        (another incident, an entry gone) replaces the list.
        """
        ordered = sorted(events, key=lambda e: (e.at, e.id), reverse=True)
        if incident_id != self._incident_id or not self._grows_to(ordered):
            self.beginResetModel()
            self._incident_id = incident_id
            self._events = ordered
            self.endResetModel()
            return
        added = len(ordered) - len(self._events)
        if added:
            self.beginInsertRows(QModelIndex(), 0, added - 1)
            self._events = ordered
            self.endInsertRows()
        else:
            self._events = ordered
        if self._events:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._events) - 1, 0))

    def _grows_to(self, ordered: Sequence[TimelineEvent]) -> bool:
        """Whether ``ordered`` is the current list with new entries on top."""
        added = len(ordered) - len(self._events)
        if added < 0:
            return False
        return [e.id for e in ordered[added:]] == [e.id for e in self._events]

    def events(self) -> list[TimelineEvent]:
        """The shown entries, newest first."""
        return list(self._events)

    # ------------------------------------------------------------ Qt basics

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._events)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._events):
            return None
        event = self._events[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{self.heading(event)}\n{event.body}"
        if role == HEADING_ROLE:
            return self.heading(event)
        if role == EVENT_ROLE:
            return event
        if role == KIND_ROLE:
            return event.kind
        if role == PENDING_ROLE:
            return event.id.startswith(LOCAL_PREFIX)
        if role == Qt.ItemDataRole.ToolTipRole:
            return event.at.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
        return None

    def heading(self, event: TimelineEvent) -> str:
        """``14:03 · Work note · Anja Vogel`` (with the date when not today)."""
        local = event.at.astimezone()
        today = datetime.now(local.tzinfo).date()
        when = local.strftime("%H:%M") if local.date() == today else local.strftime("%d %b %H:%M")
        author = self._names.person(event.author) if event.author else "system"
        text = f"{when} · {kind_label(event.kind)} · {author}"
        if event.id.startswith(LOCAL_PREFIX):
            text += " · waiting to be sent"
        return text
