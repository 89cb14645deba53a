"""The incident lifecycle as one explicit table of allowed moves.

new → triaged → in progress → on hold → resolved → closed, plus reopened and
cancelled. Anything not in ``ALLOWED`` is refused with an error that names the
current state, the requested one and the moves that are allowed from here.
"""

from __future__ import annotations

import enum

from console.domain.errors import DomainError, parse_enum


def _state_key(text: str) -> str:
    # "In progress", "in-progress" and "IN_PROGRESS" all mean in_progress.
    return text.strip().lower().replace(" ", "_").replace("-", "_")


class State(enum.Enum):
    """Where an incident is in its life. Values are the wire names."""

    NEW = "new"
    TRIAGED = "triaged"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def is_open(self) -> bool:
        """Still needs work: on the queue and the board, with SLA clocks running."""
        return self not in (State.RESOLVED, State.CLOSED, State.CANCELLED)

    @classmethod
    def of(cls, value: object) -> State:
        """Parse a wire or display value; the error names the allowed values."""
        return parse_enum(cls, value, "state", normalise=_state_key)


_LABELS = {
    State.NEW: "New",
    State.TRIAGED: "Triaged",
    State.IN_PROGRESS: "In progress",
    State.ON_HOLD: "On hold",
    State.RESOLVED: "Resolved",
    State.CLOSED: "Closed",
    State.REOPENED: "Reopened",
    State.CANCELLED: "Cancelled",
}


class HoldReason(enum.Enum):
    """Why an incident is on hold. Only waiting on someone outside pauses the SLA."""

    AWAITING_CALLER = "awaiting_caller"
    AWAITING_VENDOR = "awaiting_vendor"
    AWAITING_CHANGE = "awaiting_change"

    @property
    def pauses_sla(self) -> bool:
        # Waiting for our own change window is our delay, not the customer's.
        return self in (HoldReason.AWAITING_CALLER, HoldReason.AWAITING_VENDOR)

    @classmethod
    def of(cls, value: object) -> HoldReason:
        return parse_enum(cls, value, "hold_reason")


S = State
ALLOWED: dict[State, frozenset[State]] = {
    S.NEW: frozenset({S.TRIAGED, S.IN_PROGRESS, S.RESOLVED, S.CANCELLED}),
    S.TRIAGED: frozenset({S.IN_PROGRESS, S.ON_HOLD, S.RESOLVED, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.ON_HOLD, S.RESOLVED, S.CANCELLED}),
    S.ON_HOLD: frozenset({S.IN_PROGRESS, S.RESOLVED, S.CANCELLED}),
    S.RESOLVED: frozenset({S.CLOSED, S.REOPENED}),
    S.REOPENED: frozenset({S.IN_PROGRESS, S.ON_HOLD, S.RESOLVED, S.CANCELLED}),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}
del S


class IllegalTransition(DomainError):
    """A state change the lifecycle does not allow."""

    def __init__(self, current: State, requested: State) -> None:
        self.current = current
        self.requested = requested
        self.allowed = sorted(ALLOWED[current], key=lambda s: list(State).index(s))
        if self.allowed:
            moves = ", ".join(s.value for s in self.allowed)
            hint = f"allowed from {current.value}: {moves}"
        else:
            hint = f"{current.value} is final; no further state changes are allowed"
        super().__init__(
            f"cannot move an incident from {current.value} to {requested.value}; {hint}"
        )


def can_transition(current: State, requested: State) -> bool:
    """Whether the lifecycle allows moving from ``current`` to ``requested``."""
    return requested in ALLOWED[current]


def check_transition(current: State, requested: State) -> None:
    """Raise :class:`IllegalTransition` unless the move is allowed."""
    if not can_transition(current, requested):
        raise IllegalTransition(current, requested)
