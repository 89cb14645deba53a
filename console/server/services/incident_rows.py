"""Incident and timeline rows as the domain's records and the wire's models, and back.

The conversions the incident services, the routes and the escalation timer
share: a stored row as a domain :class:`~console.domain.incident.Incident`
(with its alert intake facts) or a wire ``Incident``, a domain record copied
back onto its row, and a stored timeline entry as a wire ``TimelineEntry``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from console.domain.incident import AlertInfo, HoldPeriod, Source, TimelineKind, format_number
from console.domain.incident import Incident as DomainIncident
from console.domain.lifecycle import HoldReason, State
from console.domain.major import (
    AUDIENCES,
    UPDATE_STATUSES,
    declared_from_timeline,
    next_update_due,
    roles_from_timeline,
)
from console.domain.metrics import MARKING_KINDS, entry_marks, epoch_s
from console.domain.severity import Impact, Severity, Urgency
from console.server.core.db import UPDATE_CADENCE_KEY
from console.server.core.tables import IncidentRow, IntakeAlertRow, ReferenceRow, TimelineRow
from console.wire import Incident, TimelineEntry, incident_to_wire


@dataclass(frozen=True, slots=True)
class _Published:
    """What the cadence reads of a published update (``domain.major.PublishedUpdate``)."""

    audience: str
    status: str
    at: datetime


_FINISHED = (State.RESOLVED.value, State.CLOSED.value, State.CANCELLED.value)
MajorFacts = tuple[tuple[tuple[str, str], ...], tuple[tuple[str, datetime | None], ...]]


def major_facts(
    row: IncidentRow, session: Session | None = None, pending: Sequence[TimelineRow] = ()
) -> MajorFacts:
    """A major incident's role holders and each audience's next update due (#19).

    Derived from its timeline as ``GET /v1/incidents/{id}/major`` derives them,
    so the incident resource, the change feed and ``/major`` agree.
    ``pending`` are entries of this write not inserted yet (the declaration
    itself). An incident that is not major (or a row outside a session) has
    neither: no query is made for the common case.
    """
    if not row.major:
        return (), ()
    session = session or object_session(row)
    if session is None:
        return (), ()
    entries = list(
        session.scalars(
            select(TimelineRow)
            .where(TimelineRow.incident_id == row.id)
            .order_by(TimelineRow.at, TimelineRow.feed_seq)
        ).all()
    )
    stored = {e.id for e in entries}
    entries += [e for e in pending if e.id not in stored]
    updates = [
        _Published(
            str(e.data["audience"]),
            str(e.data["status"]) if e.data.get("status") in UPDATE_STATUSES else "investigating",
            e.at,
        )
        for e in entries
        if e.kind == TimelineKind.STATUS_UPDATE.value
        and (e.data or {}).get("audience") in AUDIENCES
    ]
    service = session.scalar(
        select(ReferenceRow.data).where(
            ReferenceRow.kind == "service", ReferenceRow.id == row.service
        )
    )
    due = next_update_due(
        severity=int(row.severity),
        declared_at=declared_from_timeline(entries, row.opened_at),
        updates=updates,
        customer_facing=bool(service and service.get("customer_facing")),
        resolved=row.state in _FINISHED,
        cadence=session.info.get(UPDATE_CADENCE_KEY),
    )
    roles = roles_from_timeline(entries)
    return tuple(roles.items()), tuple((a, due[a]) for a in AUDIENCES)


def to_domain(row: IncidentRow) -> DomainIncident:
    """The stored row as the domain record (a major one with its roles and update cadence)."""
    roles, due = major_facts(row)
    return DomainIncident(
        id=row.id,
        number=format_number(row.number),
        title=row.title,
        service=row.service,
        impact=Impact.of(row.impact),
        urgency=Urgency.of(row.urgency),
        severity=Severity.of(row.severity),
        state=State.of(row.state),
        opened_at=row.opened_at,
        updated_at=row.updated_at,
        version=row.version,
        description=row.description,
        category=row.category,
        subcategory=row.subcategory,
        assignee=row.assignee,
        assignment_group=row.assignment_group,
        reporter=row.reporter,
        source=Source.of(row.source),
        major=row.major,
        hold_reason=HoldReason.of(row.hold_reason) if row.hold_reason else None,
        holds=tuple(
            HoldPeriod(
                datetime.fromisoformat(started), datetime.fromisoformat(ended) if ended else None
            )
            for started, ended in row.holds or ()
        ),
        acknowledged_at=row.acknowledged_at,
        resolved_at=row.resolved_at,
        closed_at=row.closed_at,
        response_due=row.response_due,
        resolution_due=row.resolution_due,
        alert=alert_info(row.alert),
        roles=roles,
        next_update_due=due,
    )


def alert_info(row: IntakeAlertRow | None) -> AlertInfo | None:
    """The alert intake record of an incident as the domain's facts (None: logged by a person)."""
    if row is None:
        return None
    return AlertInfo(
        integration=row.integration,
        key=row.dedup_key,
        status=row.status,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        repeat_count=max(1, row.repeat_count),
        labels=tuple(sorted((str(k), str(v)) for k, v in (row.labels or {}).items())),
        generator_url=row.generator_url,
        monitor=row.monitor,
        flapping=row.flapping,
    )


def store_incident(row: IncidentRow, incident: DomainIncident) -> None:
    """Copy the domain record onto the row (the number is fixed at creation)."""
    row.id = incident.id
    row.title = incident.title
    row.service = incident.service
    row.impact = incident.impact.value
    row.urgency = incident.urgency.value
    row.severity = int(incident.severity)
    row.state = incident.state.value
    row.version = incident.version
    row.opened_at = incident.opened_at
    row.updated_at = incident.updated_at
    row.description = incident.description
    row.category = incident.category
    row.subcategory = incident.subcategory
    row.assignee = incident.assignee
    row.assignment_group = incident.assignment_group
    row.reporter = incident.reporter
    row.source = incident.source.value
    row.major = incident.major
    row.hold_reason = incident.hold_reason.value if incident.hold_reason else None
    row.holds = [
        [h.started.isoformat(), h.ended.isoformat() if h.ended else None] for h in incident.holds
    ]
    row.acknowledged_at = incident.acknowledged_at
    row.resolved_at = incident.resolved_at
    row.closed_at = incident.closed_at
    row.response_due = incident.response_due
    row.resolution_due = incident.resolution_due
    opened = epoch_s(incident.opened_at)
    row.opened_s = opened
    row.ack_s = (
        None if incident.acknowledged_at is None else epoch_s(incident.acknowledged_at) - opened
    )
    row.fix_s = None if incident.resolved_at is None else epoch_s(incident.resolved_at) - opened
    row.response_met = _met(incident.acknowledged_at, incident.response_due)
    row.resolution_met = _met(incident.resolved_at, incident.resolution_due)


def _met(done: datetime | None, due: datetime | None) -> int | None:
    """1 if done by its due time, 0 if after; None without both (the metrics' SLA met)."""
    return None if done is None or due is None else int(done <= due)


def note_entries(row: IncidentRow, entries: Iterable[TimelineRow]) -> None:
    """Mark the row with what new timeline entries mean for the metrics.

    Escalated and reopened only ever turn on; the CSAT score is the last by
    time (the higher of two at the same instant). Every write that adds
    entries calls this before the row is written (``domain.metrics.entry_marks``;
    the schema step that added the columns derives the same from old timelines).
    """
    for entry in entries:
        if entry.kind not in MARKING_KINDS:
            continue
        escalated, reopened, score = entry_marks(entry.kind, entry.data)
        if escalated and not row.escalated:
            row.escalated = 1
        if reopened and not row.reopened:
            row.reopened = 1
        if score is not None and (
            row.csat_at is None
            or entry.at > row.csat_at
            or (entry.at == row.csat_at and score > (row.csat or 0))
        ):
            row.csat, row.csat_at = score, entry.at


def incident_wire(row: IncidentRow) -> Incident:
    """The stored row as the wire model."""
    return incident_to_wire(to_domain(row), severity_overridden=row.severity_overridden)


def timeline_wire(row: TimelineRow) -> TimelineEntry:
    """A stored timeline entry as the wire model."""
    return TimelineEntry.model_validate(
        {
            "id": row.id,
            "incident_id": row.incident_id,
            "kind": row.kind,
            "at": row.at,
            "author": row.author,
            "body": row.body,
            "data": row.data or {},
        }
    )
