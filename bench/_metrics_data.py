"""Incidents with realistic metric distributions, for the metrics bench and parity tests.

Seeded and deterministic: the same ``seed`` gives the same incidents. Severity,
source, acknowledgement and resolution times follow the shapes a NOC sees
(most incidents SEV-3/4, a third detected by monitoring, log-normal times,
a few SLA breaches, some escalations and reopens, CSAT on a third of the
resolved). Rows come as domain records (for the cache) or as plain dicts of
the server's ``incidents`` and ``timeline`` columns (for bulk inserts).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from console.domain.incident import Incident, Source, TimelineEvent, TimelineKind, format_number
from console.domain.lifecycle import State
from console.domain.severity import Impact, Severity, Urgency

SEVERITIES = (1, 2, 3, 4)
SEVERITY_WEIGHTS = (4, 16, 50, 30)
SOURCES = ("phone", "email", "chat", "monitoring", "portal")
SOURCE_WEIGHTS = (30, 20, 10, 35, 5)
TEAMS = ("Service Desk", "Network", "Database", "Platform", "Applications")
SERVICES = ("checkout", "payments", "e-mail", "vpn", "wifi", "erp", "crm", "storage")
CATEGORIES = ("Network", "Software", "Hardware", "Access", None)
ASSIGNEES = ("ana", "bo", "chen", "dara", "eli", "femi", None)
# Target minutes per severity: (respond, resolve), as a default SLA policy gives.
TARGETS = {1: (15, 240), 2: (30, 480), 3: (120, 1440), 4: (480, 4320)}
CSAT_SCORES = (1, 2, 3, 4, 5)
CSAT_WEIGHTS = (6, 7, 12, 30, 45)
_IMPACT = {1: Impact.HIGH, 2: Impact.HIGH, 3: Impact.MEDIUM, 4: Impact.LOW}
_URGENCY = {1: Urgency.HIGH, 2: Urgency.MEDIUM, 3: Urgency.MEDIUM, 4: Urgency.LOW}


@dataclass(frozen=True)
class Generated:
    """One incident and its metric-relevant timeline entries."""

    incident: Incident
    timeline: tuple[TimelineEvent, ...]


def _minutes(rng: random.Random, median: float, sigma: float = 0.9) -> timedelta:
    return timedelta(seconds=rng.lognormvariate(0, sigma) * median * 60)


def generate(n: int, *, end: datetime, days: int, seed: int = 21) -> Iterator[Generated]:
    """``n`` incidents opened over the ``days`` before ``end`` (oldest first)."""
    rng = random.Random(seed)
    span = days * 86_400
    starts = sorted(rng.random() * span for _ in range(n))
    for number, offset in enumerate(starts, start=1):
        opened = end - timedelta(seconds=span - offset, microseconds=rng.randrange(1_000_000))
        sev = rng.choices(SEVERITIES, SEVERITY_WEIGHTS)[0]
        respond, resolve = TARGETS[sev]
        incident_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        age = end - opened
        # Response: mostly within target (about 8 % late).
        ack_delay = _minutes(rng, respond * 0.35, 0.8)
        acknowledged = opened + ack_delay if ack_delay < age and rng.random() < 0.98 else None
        fix_delay = _minutes(rng, resolve * 0.4, 0.8)
        resolved = opened + fix_delay if acknowledged and fix_delay < age * 0.9 else None
        events: list[TimelineEvent] = []

        def event(
            kind: TimelineKind,
            at: datetime,
            body: str,
            data: dict[str, object],
            events: list[TimelineEvent] = events,
            incident_id: str = incident_id,
        ) -> None:
            events.append(
                TimelineEvent(
                    str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    incident_id,
                    kind,
                    at,
                    "metrics-data",
                    body,
                    data,
                )
            )

        team = rng.choice(TEAMS)
        anchor = acknowledged or opened
        if rng.random() < 0.12:
            event(TimelineKind.ESCALATION, anchor + timedelta(minutes=5), "Engaged L2", {"tier": 2})
        elif rng.random() < 0.08:
            other = rng.choice([t for t in TEAMS if t != team])
            moved = {"assignment_group": {"from": other, "to": team}}
            event(TimelineKind.ASSIGNMENT, anchor + timedelta(minutes=3), "Reassigned", moved)
        state = State.IN_PROGRESS if acknowledged else State.NEW
        if resolved is not None:
            state = State.CLOSED if (end - resolved).days > 3 else State.RESOLVED
            if rng.random() < 0.05:
                # Reopened once, then resolved again a little later.
                event(
                    TimelineKind.STATE_CHANGE,
                    resolved,
                    "State Resolved → Reopened",
                    {"from": "resolved", "to": "reopened", "hold_reason": None},
                )
                resolved = resolved + _minutes(rng, 60)
                if resolved >= end:
                    resolved, state = None, State.REOPENED
            if resolved is not None and rng.random() < 0.33:
                score = rng.choices(CSAT_SCORES, CSAT_WEIGHTS)[0]
                event(TimelineKind.CSAT, resolved, f"CSAT {score}/5", {"score": score})
        incident = Incident(
            id=incident_id,
            number=format_number(number),
            title=f"Generated incident {number}",
            service=rng.choice(SERVICES),
            impact=_IMPACT[sev],
            urgency=_URGENCY[sev],
            severity=Severity(sev),
            state=state,
            opened_at=opened,
            updated_at=resolved or acknowledged or opened,
            category=rng.choice(CATEGORIES),
            assignee=rng.choice(ASSIGNEES),
            assignment_group=team,
            source=Source(rng.choices(SOURCES, SOURCE_WEIGHTS)[0]),
            acknowledged_at=acknowledged,
            resolved_at=resolved,
            closed_at=resolved if state is State.CLOSED else None,
            response_due=opened + timedelta(minutes=respond),
            resolution_due=opened + timedelta(minutes=resolve),
        )
        yield Generated(incident, tuple(events))


def server_incident_row(
    incident: Incident, number: int, timeline: Sequence[TimelineEvent] = ()
) -> dict[str, Any]:
    """The server's ``incidents`` columns of a record (for a bulk insert).

    Made by the writer's own ``store_incident`` and ``note_entries``, so the
    metrics columns are what the API's writes would have stored.
    """
    from console.server.core.tables import IncidentRow, TimelineRow
    from console.server.services.incident_rows import note_entries, store_incident

    row = IncidentRow(number=number, severity_overridden=False, escalated=0, reopened=0)
    store_incident(row, incident)
    note_entries(row, [TimelineRow(**server_timeline_row(e)) for e in timeline])
    return {column.key: getattr(row, column.key) for column in IncidentRow.__table__.columns}


def server_timeline_row(event: TimelineEvent) -> dict[str, Any]:
    """The server's ``timeline`` columns of an entry (for a bulk insert)."""
    return {
        "id": event.id,
        "incident_id": event.incident_id,
        "kind": event.kind.value,
        "at": event.at,
        "author": event.author,
        "body": event.body,
        "data": dict(event.data),
        "feed_seq": None,
    }
