"""The incident record and its timeline, as every part of the console sees them.

Records are immutable values: a change makes a new record (``dataclasses.replace``
or the helpers here), which keeps the sync engine's field-by-field merge and the
store's change detection simple.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field, replace
from datetime import datetime

from console.domain.errors import DomainError, InvalidValue, parse_enum
from console.domain.lifecycle import HoldReason, State, check_transition
from console.domain.severity import DEFAULT_MATRIX, Impact, PriorityMatrix, Severity, Urgency

NUMBER_PREFIX = "INC-"
# ASCII digits only: \d would also take Arabic-Indic and other digits.
_NUMBER_RE = re.compile(r"^INC-([0-9]{6,})$")


def format_number(n: int) -> str:
    """``42`` → ``INC-000042``."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise InvalidValue("number", n, "a positive whole number")
    return f"{NUMBER_PREFIX}{n:06d}"


def parse_number(text: str) -> int:
    """``INC-000042`` → ``42``; the error shows the expected form."""
    match = _NUMBER_RE.match(text.strip().upper())
    if not match or int(match.group(1)) < 1:
        raise InvalidValue("number", text, "the form INC-000042")
    return int(match.group(1))


class Source(enum.Enum):
    """How the incident reached the NOC."""

    PHONE = "phone"
    EMAIL = "email"
    CHAT = "chat"
    MONITORING = "monitoring"
    PORTAL = "portal"

    @classmethod
    def of(cls, value: object) -> Source:
        return parse_enum(cls, value, "source")


def require_aware(name: str, value: datetime) -> datetime:
    """Refuse naive datetimes: every instant in the console carries its zone."""
    if not isinstance(value, datetime):
        # A date or a string from the wire would otherwise fail later with an
        # AttributeError far from the field that was wrong.
        raise InvalidValue(name, value, "a timestamp with a time zone")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidValue(name, value.isoformat(), "a timestamp with a time zone")
    return value


@dataclass(frozen=True, slots=True)
class HoldPeriod:
    """A stretch of time on hold that pauses the SLA clocks (``ended`` None: still on hold)."""

    started: datetime
    ended: datetime | None = None

    def __post_init__(self) -> None:
        # The SLA clocks subtract these from other instants: a naive or
        # backwards period would crash or credit negative pause time.
        require_aware("hold started", self.started)
        if self.ended is not None:
            require_aware("hold ended", self.ended)
            if self.ended < self.started:
                raise InvalidValue(
                    "hold ended", self.ended.isoformat(), f"a time from {self.started.isoformat()}"
                )


@dataclass(frozen=True, slots=True)
class AlertInfo:
    """What monitoring said about an incident that alert intake opened.

    ``integration`` is the intake endpoint (``alertmanager`` or ``events``),
    ``key`` what deduplicates its notifications (the alert's fingerprint, the
    group key, or an event's ``dedup_key``). ``repeat_count`` counts every
    notification folded into the incident, the first included; ``flapping``
    marks an alert that fired and resolved too often to open an incident each
    time.
    """

    integration: str
    key: str
    status: str
    first_seen: datetime
    last_seen: datetime
    repeat_count: int = 1
    labels: tuple[tuple[str, str], ...] = ()
    generator_url: str | None = None
    monitor: str | None = None
    flapping: bool = False

    def __post_init__(self) -> None:
        require_aware("alert first_seen", self.first_seen)
        require_aware("alert last_seen", self.last_seen)
        if self.repeat_count < 1:
            raise InvalidValue("repeat_count", self.repeat_count, "a whole number from 1")

    def label(self, name: str) -> str | None:
        """The value of one label, or None."""
        for key, value in self.labels:
            if key == name:
                return value
        return None


# slots: a big board holds 100k of these; without a per-instance __dict__ each
# record is about a kilobyte smaller.
@dataclass(frozen=True, slots=True)
class Incident:
    """One incident, as the server holds it and the console caches it."""

    id: str
    number: str
    title: str
    service: str
    impact: Impact
    urgency: Urgency
    severity: Severity
    state: State
    opened_at: datetime
    updated_at: datetime
    version: int = 1
    description: str = ""
    category: str | None = None
    subcategory: str | None = None
    assignee: str | None = None
    assignment_group: str | None = None
    reporter: str | None = None
    source: Source = Source.PHONE
    major: bool = False
    hold_reason: HoldReason | None = None
    holds: tuple[HoldPeriod, ...] = ()
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    response_due: datetime | None = None
    resolution_due: datetime | None = None
    # Set on incidents opened by alert intake (source monitoring), else None.
    alert: AlertInfo | None = None
    # #19: a major incident's role holders, ((role, person), ...), and when each
    # audience is next owed a status update, ((audience, due or None), ...), as
    # the server derives them from the timeline. Empty for an incident not major.
    roles: tuple[tuple[str, str], ...] = ()
    next_update_due: tuple[tuple[str, datetime | None], ...] = ()

    def __post_init__(self) -> None:
        if not self.title.strip():
            raise InvalidValue("title", self.title, "a short description of what is broken")
        if not self.service.strip():
            raise InvalidValue("service", self.service, "the name of the affected service")
        require_aware("opened_at", self.opened_at)
        require_aware("updated_at", self.updated_at)
        for name in (
            "acknowledged_at",
            "resolved_at",
            "closed_at",
            "response_due",
            "resolution_due",
        ):
            value = getattr(self, name)
            if value is not None:
                require_aware(name, value)
        if self.version < 1:
            raise InvalidValue("version", self.version, "a whole number from 1")

    @property
    def is_open(self) -> bool:
        return self.state.is_open

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None


def compute_severity(
    impact: Impact, urgency: Urgency, matrix: PriorityMatrix = DEFAULT_MATRIX
) -> Severity:
    """The matrix's severity; kept as a function so callers need not hold a matrix."""
    return matrix.severity(impact, urgency)


def acknowledge(incident: Incident, at: datetime) -> Incident:
    """Record the first acknowledgement (for MTTA); later ones change nothing."""
    if incident.acknowledged_at is not None:
        return incident
    if not incident.is_open:
        raise DomainError(
            f"{incident.number} is {incident.state.value}; "
            "only an open incident can be acknowledged"
        )
    require_aware("acknowledged_at", at)
    return replace(incident, acknowledged_at=at, updated_at=at)


def transition(
    incident: Incident, to: State, at: datetime, hold_reason: HoldReason | None = None
) -> Incident:
    """Move the incident to ``to`` under the lifecycle rules, keeping the timestamps right.

    Leaving *new* counts as the acknowledgement if none was recorded. Going on
    hold needs a reason; waiting on the caller or a vendor pauses the SLA clocks
    until the incident leaves *on hold*.
    """
    require_aware("at", at)
    check_transition(incident.state, to)
    changes: dict[str, object] = {"state": to, "updated_at": at}
    if (
        incident.state is State.NEW
        and incident.acknowledged_at is None
        and to is not State.CANCELLED
    ):
        changes["acknowledged_at"] = at
    holds = list(incident.holds)
    if incident.state is State.ON_HOLD:
        changes["hold_reason"] = None
        if holds and holds[-1].ended is None:
            holds[-1] = HoldPeriod(holds[-1].started, at)
    if to is State.ON_HOLD:
        if hold_reason is None:
            raise InvalidValue("hold_reason", None, [r.value for r in HoldReason])
        changes["hold_reason"] = hold_reason
        if hold_reason.pauses_sla:
            holds.append(HoldPeriod(at))
    changes["holds"] = tuple(holds)
    if to is State.RESOLVED:
        changes["resolved_at"] = at
    elif to is State.CLOSED:
        changes["closed_at"] = at
    elif to is State.REOPENED:
        changes["resolved_at"] = None
    return replace(incident, **changes)  # type: ignore[arg-type]


class TimelineKind(enum.Enum):
    """What a timeline entry records."""

    WORK_NOTE = "work_note"
    STATUS_UPDATE = "status_update"
    STATE_CHANGE = "state_change"
    ASSIGNMENT = "assignment"
    ESCALATION = "escalation"
    # The caller's satisfaction (1–5) recorded at resolution or closure; the
    # score is in ``data["score"]`` (docs/metrics.md).
    CSAT = "csat"
    SEVERITY_CHANGE = "severity_change"

    @property
    def label(self) -> str:
        if self is TimelineKind.CSAT:
            return "CSAT score"
        return self.value.replace("_", " ").capitalize()

    @classmethod
    def of(cls, value: object) -> TimelineKind:
        return parse_enum(cls, value, "kind")


# Entries a person writes by hand; the others are written by the system as a
# side effect of a state change, an assignment or an escalation.
USER_TIMELINE_KINDS = frozenset({TimelineKind.WORK_NOTE, TimelineKind.STATUS_UPDATE})


@dataclass(frozen=True)
class TimelineEvent:
    """One entry on an incident's timeline."""

    id: str
    incident_id: str
    kind: TimelineKind
    at: datetime
    author: str
    body: str
    data: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require_aware("at", self.at)
        if self.kind in USER_TIMELINE_KINDS and not self.body.strip():
            raise InvalidValue("body", self.body, "some text for the note")
