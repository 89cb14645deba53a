"""What the sync engine reports: its state, its status line, what changed, conflicts, refusals.

Plain data for the :class:`SyncListener` (the Qt worker turns the calls into
signals, the CLI prints them): :class:`SyncState` and the status bar's
:class:`SyncStatus`, :class:`SyncUpdate` (what a sync step changed),
:class:`Conflict` and :class:`Rejection` (edits that need the operator).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from console.domain.incident import Incident
from console.domain.text import clock_text
from console.store import ChangeSet
from console.sync.edits import FieldConflict


class SyncState(enum.Enum):
    """What the operator sees about the connection (values are the signal strings)."""

    SYNCING = "syncing"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"
    AUTH_FAILED = "auth_failed"
    STOPPED = "stopped"

    @property
    def label(self) -> str:
        return {
            "syncing": "Syncing",
            "live": "Live",
            "reconnecting": "Reconnecting",
            "offline": "Offline",
            "auth_failed": "Sign-in needed",
            "stopped": "Not syncing",
        }[self.value]


def _grouped(n: int) -> str:
    """``12400`` → ``12 400`` (the status bar's digit grouping)."""
    return f"{n:,}".replace(",", " ")


@dataclass(frozen=True)
class SyncStatus:
    """The engine's state for the status bar, as plain data.

    ``next_try_at`` (UTC) is when the next attempt is due while reconnecting,
    offline or rate limited; :meth:`text` counts down to it. ``data_as_of`` is
    when the cache last caught up with this backend.
    """

    state: SyncState
    backend: str
    reason: str = ""
    data_as_of: datetime | None = None
    next_try_at: datetime | None = None
    done: int = 0
    total: int = 0
    polling_every: float | None = None

    def text(self, now: datetime | None = None) -> str:
        """One line for the status bar (call again each second to count down)."""
        now = now or datetime.now(UTC)
        as_of = (
            f"data as of {clock_text(self.data_as_of, seconds=True)}"
            if self.data_as_of
            else "no data from it yet"
        )
        retry = ""
        if self.next_try_at is not None:
            seconds = max(0, round((self.next_try_at - now).total_seconds()))
            retry = f"next try in {seconds} s" if seconds else "trying now"
        if self.state is SyncState.SYNCING:
            if self.total:
                return f"Syncing {_grouped(self.done)} / {_grouped(self.total)}"
            if self.done:
                return f"Syncing {_grouped(self.done)}"
            return f"Syncing with {self.backend}…"
        if self.state is SyncState.LIVE:
            if self.polling_every:
                return f"Live — {self.backend} (checking every {self.polling_every:g} s)"
            return f"Live — {self.backend}"
        if self.state is SyncState.RECONNECTING:
            parts = [f"Reconnecting to {self.backend}", retry, self.reason]
            return " — ".join(p for p in parts if p)
        if self.state is SyncState.OFFLINE:
            parts = [f"Offline — {as_of}", retry, self.reason]
            return " — ".join(p for p in parts if p)
        if self.state is SyncState.AUTH_FAILED:
            return (
                f"Sign-in needed — {self.backend} refused the API token ({self.reason}). "
                "Enter a new token to reconnect; your edits are kept and sent afterwards."
            )
        return f"Not syncing — {as_of}"


@dataclass(frozen=True)
class SyncUpdate:
    """What a sync step changed in the cache, with the new records (no query needed).

    ``incidents`` holds the incidents as written, for every id inserted or
    updated in ``changes``; ``renamed`` maps a placeholder id to the backend's
    id once a create is acknowledged (the placeholder's removal and the new
    record's insertion are both in ``changes``). ``catching_up`` is true while
    a longer sync runs (a view may hold back animations).
    """

    changes: ChangeSet
    incidents: Mapping[str, Incident] = field(default_factory=dict)
    renamed: Mapping[str, str] = field(default_factory=dict)
    catching_up: bool = False

    def lookup(self, incident_id: str) -> Incident | None:
        """The new record of a changed incident (what ``IncidentTableModel.apply_changes`` asks)."""
        return self.incidents.get(incident_id)


@dataclass(frozen=True)
class Conflict:
    """An edit that clashed with someone else's: both values of each field, for a choice."""

    record_id: int
    incident_id: str
    number: str
    title: str
    fields: Mapping[str, FieldConflict]
    theirs_version: int
    kind: str = "incidents"
    """What was edited: ``incidents``, or the cached ``pirs`` / ``problems`` documents."""

    @property
    def message(self) -> str:
        names = ", ".join(name.replace("_", " ") for name in self.fields)
        return (
            f"{self.number}: someone else changed {names} while your edit was waiting; "
            "choose which value to keep"
        )


@dataclass(frozen=True)
class Rejection:
    """An edit the backend refused for good, with its reason (never retried)."""

    record_id: int
    operation: str
    incident_id: str
    status: int
    message: str
    payload: Mapping[str, Any]

    @property
    def text(self) -> str:
        what = {
            "create": "New incident",
            "patch": "Edit",
            "timeline": "Note",
            "engage": "Engaging teams",
            "status_update": "Publishing a status update",
        }.get(self.operation, "Edit")
        return f"{what} refused by the backend: {self.message}"


class SyncListener(Protocol):
    """What the engine reports. Calls come from the engine's thread."""

    def status_changed(self, status: SyncStatus) -> None: ...

    def progress(self, done: int, total: int) -> None: ...

    def changed(self, update: SyncUpdate) -> None: ...

    def conflict(self, conflict: Conflict) -> None: ...

    def rejected(self, rejection: Rejection) -> None: ...

    def outbox_changed(self, pending: int) -> None: ...


class NullListener:
    """A listener that ignores everything (the default)."""

    def status_changed(self, status: SyncStatus) -> None:
        pass

    def progress(self, done: int, total: int) -> None:
        pass

    def changed(self, update: SyncUpdate) -> None:
        pass

    def conflict(self, conflict: Conflict) -> None:
        pass

    def rejected(self, rejection: Rejection) -> None:
        pass

    def outbox_changed(self, pending: int) -> None:
        pass
