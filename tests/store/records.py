"""Incident and timeline records for the cache tests."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from console.domain.incident import Incident, TimelineEvent, TimelineKind, format_number
from console.domain.lifecycle import State
from console.domain.severity import Impact, Severity, Urgency

T0 = datetime(2026, 11, 23, 9, 15, 0, 123456, tzinfo=UTC)
_numbers = itertools.count(1)


def make_incident(incident_id: str | None = None, **changes: Any) -> Incident:
    """A valid minimal incident; keyword arguments override fields."""
    n = next(_numbers)
    base = Incident(
        id=incident_id or f"inc-{n}",
        number=format_number(n),
        title=f"Checkout page times out ({n})",
        service="checkout",
        impact=Impact.MEDIUM,
        urgency=Urgency.HIGH,
        severity=Severity.SEV2,
        state=State.NEW,
        opened_at=T0,
        updated_at=T0,
    )
    return replace(base, **changes)


def make_event(incident_id: str, event_id: str, at: datetime = T0, **changes: Any) -> TimelineEvent:
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
