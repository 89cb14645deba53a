"""Conversions between the v1 wire and the domain: incidents, alerts, timeline entries, ETags."""

from __future__ import annotations

import re
from typing import Any

from console.domain.incident import AlertInfo as DomainAlertInfo
from console.domain.incident import HoldPeriod as DomainHoldPeriod
from console.domain.incident import Incident as DomainIncident
from console.domain.incident import Source, TimelineEvent, TimelineKind
from console.domain.lifecycle import HoldReason, State
from console.domain.severity import Impact, Severity, Urgency
from console.wire.incidents import Incident, IncidentAlert, TimelineEntry
from console.wire.types import SeverityWire

# --------------------------------------------------------------------------
# Conversions between the wire and the domain
# --------------------------------------------------------------------------


def severity_to_wire(severity: Severity) -> SeverityWire:
    """``Severity.SEV2`` → ``"SEV-2"``."""
    code: SeverityWire = severity.code  # type: ignore[assignment]
    return code


def incident_to_wire(incident: DomainIncident, *, severity_overridden: bool = False) -> Incident:
    """The domain record as the wire model (what ``GET /v1/incidents/{id}`` returns)."""
    return Incident.model_validate(
        {
            "id": incident.id,
            "number": incident.number,
            "title": incident.title,
            "service": incident.service,
            "impact": incident.impact.value,
            "urgency": incident.urgency.value,
            "severity": incident.severity.code,
            "severity_overridden": severity_overridden,
            "state": incident.state.value,
            "version": incident.version,
            "opened_at": incident.opened_at,
            "updated_at": incident.updated_at,
            "description": incident.description,
            "category": incident.category,
            "subcategory": incident.subcategory,
            "assignee": incident.assignee,
            "assignment_group": incident.assignment_group,
            "reporter": incident.reporter,
            "source": incident.source.value,
            "major": incident.major,
            "hold_reason": incident.hold_reason.value if incident.hold_reason else None,
            "holds": [{"started": h.started, "ended": h.ended} for h in incident.holds],
            "acknowledged_at": incident.acknowledged_at,
            "resolved_at": incident.resolved_at,
            "closed_at": incident.closed_at,
            "response_due": incident.response_due,
            "resolution_due": incident.resolution_due,
            "alert": alert_to_wire(incident.alert),
            "roles": dict(incident.roles),
            "next_update_due": dict(incident.next_update_due),
        }
    )


def alert_to_wire(alert: DomainAlertInfo | None) -> dict[str, Any] | None:
    """The domain's alert facts as the ``alert`` object of an incident (None stays None)."""
    if alert is None:
        return None
    return {
        "integration": alert.integration,
        "key": alert.key,
        "status": alert.status,
        "first_seen": alert.first_seen,
        "last_seen": alert.last_seen,
        "repeat_count": alert.repeat_count,
        "labels": dict(alert.labels),
        "generator_url": alert.generator_url,
        "monitor": alert.monitor,
        "flapping": alert.flapping,
    }


def alert_from_wire(alert: IncidentAlert | None) -> DomainAlertInfo | None:
    """The ``alert`` object of a wire incident as the domain's record."""
    if alert is None:
        return None
    return DomainAlertInfo(
        integration=alert.integration,
        key=alert.key,
        status=alert.status,
        first_seen=alert.first_seen,
        last_seen=alert.last_seen,
        repeat_count=alert.repeat_count,
        labels=tuple(sorted(alert.labels.items())),
        generator_url=alert.generator_url,
        monitor=alert.monitor,
        flapping=alert.flapping,
    )


def incident_from_wire(wire: Incident) -> DomainIncident:
    """The wire model as the domain record (raises ``DomainError`` on impossible values)."""
    return DomainIncident(
        id=wire.id,
        number=wire.number,
        title=wire.title,
        service=wire.service,
        impact=Impact.of(wire.impact),
        urgency=Urgency.of(wire.urgency),
        severity=Severity.of(wire.severity),
        state=State.of(wire.state),
        opened_at=wire.opened_at,
        updated_at=wire.updated_at,
        version=wire.version,
        description=wire.description,
        category=wire.category,
        subcategory=wire.subcategory,
        assignee=wire.assignee,
        assignment_group=wire.assignment_group,
        reporter=wire.reporter,
        source=Source.of(wire.source),
        major=wire.major,
        hold_reason=HoldReason.of(wire.hold_reason) if wire.hold_reason else None,
        holds=tuple(DomainHoldPeriod(h.started, h.ended) for h in wire.holds),
        acknowledged_at=wire.acknowledged_at,
        resolved_at=wire.resolved_at,
        closed_at=wire.closed_at,
        response_due=wire.response_due,
        resolution_due=wire.resolution_due,
        alert=alert_from_wire(wire.alert),
        roles=tuple(wire.roles.items()),
        next_update_due=tuple(wire.next_update_due.items()),
    )


def timeline_to_wire(event: TimelineEvent) -> TimelineEntry:
    """A domain timeline event as the wire model."""
    return TimelineEntry(
        id=event.id,
        incident_id=event.incident_id,
        kind=event.kind.value,
        at=event.at,
        author=event.author,
        body=event.body,
        data=dict(event.data),
    )


def timeline_from_wire(entry: TimelineEntry) -> TimelineEvent:
    """A wire timeline entry as the domain event."""
    return TimelineEvent(
        id=entry.id,
        incident_id=entry.incident_id,
        kind=TimelineKind.of(entry.kind),
        at=entry.at,
        author=entry.author,
        body=entry.body,
        data=dict(entry.data),
    )


_ETAG_RE = re.compile(r'^\s*(?:W/)?"?(\d{1,18})"?\s*$')


def etag(version: int) -> str:
    """The ETag header value for a version: ``"7"`` (quotes included)."""
    return f'"{version}"'


def parse_etag(value: str) -> int | None:
    """``"7"``, ``W/"7"`` or ``7`` → 7; anything else → None."""
    match = _ETAG_RE.match(value)
    return int(match.group(1)) if match else None
