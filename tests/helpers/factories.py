"""The incident builders every test uses, one family over one set of defaults.

:func:`make_incident` is the base: a new SEV-3 incident opened at ``T0`` with
the changes applied. :func:`cached_incident` numbers incidents as the cache
tests want them (each call a new id and number, opened at ``CACHE_T0``);
:func:`desk_incident` builds incident ``n`` of a NOC desk, opened minutes
before ``NOW`` and acknowledged at once. :func:`desk_incidents` and the
reference data (``PEOPLE``, ``TEAMS``, ``SERVICES``) make the small NOC the
view tests look at; :func:`make_event` a timeline entry.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from console.domain.incident import Incident, TimelineEvent, TimelineKind, format_number
from console.domain.lifecycle import State
from console.domain.severity import DEFAULT_MATRIX, Impact, Severity, Urgency

T0 = datetime(2024, 6, 3, 10, 0, tzinfo=UTC)  # a Monday, inside working hours
CACHE_T0 = datetime(2026, 11, 23, 9, 15, 0, 123456, tzinfo=UTC)
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)  # a Wednesday morning

_numbers = itertools.count(1)

# Impact/urgency pairs the default matrix maps to each severity.
_PAIRS = {
    Severity.SEV1: (Impact.HIGH, Urgency.HIGH),
    Severity.SEV2: (Impact.HIGH, Urgency.MEDIUM),
    Severity.SEV3: (Impact.MEDIUM, Urgency.MEDIUM),
    Severity.SEV4: (Impact.LOW, Urgency.LOW),
}


def make_incident(**changes: Any) -> Incident:
    """A new SEV-3 incident opened at ``T0`` (or ``opened_at``), with ``changes`` applied."""
    opened = changes.pop("opened_at", T0)
    fields: dict[str, Any] = {
        "id": "7d1c0a52-0000-4000-8000-000000000001",
        "number": "INC-000001",
        "title": "Report generation slow",
        "service": "Reporting",
        "impact": Impact.MEDIUM,
        "urgency": Urgency.MEDIUM,
        "severity": Severity.SEV3,
        "state": State.NEW,
        "opened_at": opened,
        "updated_at": opened,
    }
    fields.update(changes)
    return Incident(**fields)


def cached_incident(incident_id: str | None = None, **changes: Any) -> Incident:
    """A valid minimal SEV-2 incident with the next number; keyword arguments override fields."""
    n = next(_numbers)
    base = make_incident(
        id=incident_id or f"inc-{n}",
        number=format_number(n),
        title=f"Checkout page times out ({n})",
        service="checkout",
        impact=Impact.MEDIUM,
        urgency=Urgency.HIGH,
        severity=Severity.SEV2,
        opened_at=CACHE_T0,
        updated_at=CACHE_T0,
    )
    return replace(base, **changes)


def desk_incident(
    n: int, severity: Severity = Severity.SEV3, *, age_min: int = 10, **changes: Any
) -> Incident:
    """Incident ``n``, opened ``age_min`` minutes before NOW and acknowledged at once."""
    impact, urgency = _PAIRS[severity]
    assert DEFAULT_MATRIX.severity(impact, urgency) is severity
    opened = NOW - timedelta(minutes=age_min)
    fields: dict[str, Any] = {
        "id": f"inc-{n}",
        "number": format_number(n),
        "title": f"Incident number {n}",
        "service": "payments-api",
        "impact": impact,
        "urgency": urgency,
        "severity": severity,
        "state": State.IN_PROGRESS,
        "opened_at": opened,
        "updated_at": opened,
        "acknowledged_at": opened,
    }
    fields.update(changes)
    return make_incident(**fields)


def make_event(
    incident_id: str, event_id: str, at: datetime = CACHE_T0, **changes: Any
) -> TimelineEvent:
    """A work note on ``incident_id``; keyword arguments override fields."""
    base = TimelineEvent(
        id=event_id,
        incident_id=incident_id,
        kind=TimelineKind.WORK_NOTE,
        at=at,
        author="ana",
        body=f"note {event_id}",
    )
    return replace(base, **changes)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


# --------------------------------------------------------------------------
# A small NOC desk: its operator, people, teams, services and incidents
# --------------------------------------------------------------------------

OPERATOR = "avogel"

PEOPLE = [
    {"id": "avogel", "name": "Anja Vogel"},
    {"id": "bkim", "name": "Bora Kim"},
    {"id": "cdiaz", "name": "Carla Díaz"},
]
TEAMS = [
    {"id": "noc", "name": "NOC Operations", "tier": "L1"},
    {"id": "network", "name": "Network Engineering", "tier": "L2"},
    {"id": "vendor", "name": "Vendor support", "tier": "L3"},
]
SERVICES = [
    {"id": "payments-api", "name": "Payments API"},
    {"id": "checkout", "name": "Checkout"},
]


def desk_incidents() -> list[Incident]:
    """A small NOC: every board column, every severity, one unacknowledged SEV-1."""
    return [
        desk_incident(
            1,
            Severity.SEV1,
            age_min=5,
            state=State.NEW,
            acknowledged_at=None,
            title="Payments down",
        ),
        desk_incident(2, Severity.SEV2, age_min=40, state=State.TRIAGED, assignment_group="noc"),
        desk_incident(3, Severity.SEV3, age_min=90, assignee="bkim", service="checkout"),
        desk_incident(4, Severity.SEV4, age_min=30, assignee=OPERATOR),
        desk_incident(
            5,
            Severity.SEV3,
            age_min=300,
            state=State.RESOLVED,
            resolved_at=NOW - timedelta(minutes=10),
        ),
    ]


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now
