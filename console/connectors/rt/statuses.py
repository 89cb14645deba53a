"""RT statuses ↔ console states: :class:`StatusMap` (``[rt.statuses]``, ``[rt.set_status]``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from console.domain.errors import DomainError
from console.domain.lifecycle import State

DEFAULT_STATES: Mapping[str, State] = {
    "new": State.NEW,
    "open": State.IN_PROGRESS,
    "stalled": State.ON_HOLD,
    "resolved": State.RESOLVED,
    "rejected": State.CANCELLED,
}
"""RT's default lifecycle → console states."""

DEFAULT_STATUSES: Mapping[State, str] = {
    State.NEW: "new",
    State.TRIAGED: "open",
    State.IN_PROGRESS: "open",
    State.ON_HOLD: "stalled",
    State.RESOLVED: "resolved",
    State.CLOSED: "resolved",
    State.REOPENED: "open",
    State.CANCELLED: "rejected",
}
"""Console states → RT's default lifecycle (RT has no triaged, closed or reopened)."""

STATUS_CLASSES = ("initial", "active", "inactive")


@dataclass(frozen=True)
class StatusMap:
    """RT statuses ↔ console states.

    ``states`` reads RT's status (lower case) as a console state; ``statuses``
    says which RT status a console state is written as. A status neither map
    knows (a custom lifecycle) is read by its class in RT's lifecycle, which
    the connector asks RT for: initial → new, active → in progress (new until
    the ticket was started), inactive → resolved.
    """

    states: Mapping[str, State] = field(default_factory=lambda: dict(DEFAULT_STATES))
    statuses: Mapping[State, str] = field(default_factory=lambda: dict(DEFAULT_STATUSES))

    @classmethod
    def from_settings(
        cls,
        states: Mapping[str, object] | None = None,
        statuses: Mapping[str, object] | None = None,
        where: str = "rt",
    ) -> StatusMap:
        """The defaults with a site's own entries on top. ValueError names the bad key.

        An RT status mapped to a state is also what that state is written as
        (the first one given wins), unless ``statuses`` says otherwise.
        """
        read = dict(DEFAULT_STATES)
        write = dict(DEFAULT_STATUSES)
        implied: dict[State, str] = {}
        for status, value in (states or {}).items():
            key = status.strip().lower()
            if not key:
                raise ValueError(f"{where}.statuses: an RT status name is empty")
            try:
                state = State.of(value)
            except DomainError as exc:
                raise ValueError(f"{where}.statuses.{status}: {exc}") from exc
            read[key] = state
            implied.setdefault(state, key)
        write.update(implied)
        for state_name, value in (statuses or {}).items():
            try:
                state = State.of(state_name)
            except DomainError as exc:
                raise ValueError(f"{where}.set_status.{state_name}: {exc}") from exc
            if not isinstance(value, str) or not value.strip():
                raise ValueError(
                    f"{where}.set_status.{state_name}: {value!r} is not an RT status name"
                )
            write[state] = value.strip().lower()
        return cls(read, write)

    def state_of(self, status: str, *, status_class: str | None = None, started: bool) -> State:
        """The console state of RT ``status`` (``status_class`` for one the map lacks)."""
        key = status.strip().lower()
        known = self.states.get(key)
        if known is not None:
            return known
        if status_class == "inactive":
            return State.RESOLVED
        if status_class == "initial" or not started:
            return State.NEW
        return State.IN_PROGRESS

    def knows(self, status: str) -> bool:
        return status.strip().lower() in self.states

    def status_for(self, state: State) -> str:
        """The RT status a console state is written as."""
        return self.statuses[state]

    def on_hold_statuses(self) -> frozenset[str]:
        """The RT statuses read as on hold (their periods pause the SLA clocks)."""
        return frozenset(s for s, state in self.states.items() if state is State.ON_HOLD)
