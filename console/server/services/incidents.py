"""Incident and timeline writes and reads: the lifecycle rules applied on the server.

Service functions take the session as a keyword argument and never commit: the
route commits once, so the incident, its timeline entries, the change-log rows
and the idempotency record are one transaction. The row ↔ domain ↔ wire
conversions are in :mod:`console.server.services.incident_rows`.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select
from sqlalchemy.orm import Session

from console.domain.incident import Incident as DomainIncident
from console.domain.incident import (
    Source,
    TimelineKind,
    acknowledge,
    format_number,
    parse_number,
    transition,
)
from console.domain.lifecycle import HoldReason, State
from console.domain.roles import OVERRIDE_ROLE, ROLES, may_override
from console.domain.severity import DEFAULT_MATRIX, Impact, PriorityMatrix, Severity, Urgency
from console.domain.sla import SlaPolicy
from console.server.core import changes
from console.server.core.auth import Principal
from console.server.core.db import NEXT_NUMBER_KEY, READ_ONCE_KEY, SCRATCH_KEY
from console.server.core.errors import ApiError
from console.server.core.tables import (
    IncidentRow,
    ReferenceRow,
    TimelineRow,
    table_of,
)
from console.server.services.incident_rows import (
    incident_wire,
    major_facts,
    note_entries,
    store_incident,
    timeline_wire,
    to_domain,
)
from console.wire import (
    IncidentCreate,
    IncidentPatch,
    TimelineEntryCreate,
    incident_to_wire,
)

_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_NUMBER_RE = re.compile(r"^INC-[0-9]{6,9}$", re.IGNORECASE)


@dataclass(frozen=True)
class WriteScope:
    """Who writes, when, and under which rules: what every write needs besides the session."""

    principal: Principal
    now: datetime
    sla: SlaPolicy
    matrix: PriorityMatrix = DEFAULT_MATRIX
    # The PostgreSQL NOTIFY channel (None on SQLite).
    notify_channel: str | None = None
    # Settings.free_text_services: accept services the directory does not list.
    free_text_services: bool = False


# -- reads ----------------------------------------------------------------


def find_incident(*, session: Session, ref: str) -> IncidentRow:
    """The incident with this id (a UUID) or number (``INC-000042``); 404 otherwise."""
    row: IncidentRow | None = None
    if _UUID_RE.match(ref):
        row = session.get(IncidentRow, ref)
    elif _NUMBER_RE.match(ref):
        row = session.scalar(select(IncidentRow).where(IncidentRow.number == parse_number(ref)))
    else:
        raise ApiError(
            404,
            "not_found",
            f"{ref[:80]!r} is not an incident id; use the id (a UUID) or the number "
            "(e.g. INC-000042)",
        )
    if row is None:
        raise ApiError(404, "not_found", f"no incident {ref}; it may be on another server")
    return row


def list_incidents(
    *,
    session: Session,
    states: list[str] | None,
    severities: list[str] | None,
    service: str | None,
    q: str | None,
    limit: int,
    offset: int,
) -> tuple[list[IncidentRow], int]:
    """One page of incidents matching the filters, newest first, and the total count."""
    query = select(IncidentRow)
    if states:
        query = query.where(IncidentRow.state.in_(states))
    if severities:
        query = query.where(IncidentRow.severity.in_([int(Severity.of(s)) for s in severities]))
    if service:
        query = query.where(IncidentRow.service == service)
    if q:
        needle = q.strip().lower()
        conditions = [
            func.lower(IncidentRow.title).contains(needle, autoescape=True),
            func.lower(IncidentRow.description).contains(needle, autoescape=True),
        ]
        if _NUMBER_RE.match(needle):
            conditions.append(IncidentRow.number == parse_number(needle))
        query = query.where(or_(*conditions))
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = session.scalars(
        query.order_by(IncidentRow.number.desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), total


def list_timeline(*, session: Session, incident_id: str) -> list[TimelineRow]:
    """The incident's timeline, oldest first."""
    return list(
        session.scalars(
            select(TimelineRow)
            .where(TimelineRow.incident_id == incident_id)
            .order_by(TimelineRow.at, TimelineRow.feed_seq)
        ).all()
    )


# -- writes ---------------------------------------------------------------


def _with_due_times(incident: DomainIncident, scope: WriteScope) -> DomainIncident:
    return replace(
        incident,
        response_due=scope.sla.response_due(incident, scope.now),
        resolution_due=scope.sla.resolution_due(incident, scope.now),
    )


# The request's scratch in ``Session.info`` holds {(kind, id): wire JSON} of the
# entities it recorded in the change log, so the response reuses the text the
# feed row got instead of converting the row a second time.


def _remember_json(session: Session, kind: str, entity_id: str, text: str) -> None:
    session.info.setdefault(SCRATCH_KEY, {})[(kind, entity_id)] = text


def incident_json(session: Session, row: IncidentRow) -> str:
    """The incident's wire JSON: the text its change-log row got in this transaction,
    or a fresh conversion when it was not written here."""
    text = session.info.get(SCRATCH_KEY, {}).get(("incident", row.id))
    return text if text is not None else incident_wire(row).model_dump_json()


def timeline_json(session: Session, row: TimelineRow) -> str:
    """The entry's wire JSON (as :func:`incident_json`)."""
    text = session.info.get(SCRATCH_KEY, {}).get(("timeline", row.id))
    return text if text is not None else timeline_wire(row).model_dump_json()


def _record_incident(
    session: Session,
    row: IncidentRow,
    scope: WriteScope,
    incident: DomainIncident | None = None,
    pending: list[TimelineRow] | None = None,
) -> None:
    """Append the incident's change-log row; ``incident`` is the row's domain record when
    the caller has it at hand (it is then not rebuilt from the row). A major incident's
    roles and update cadence (#19) are read with this write's ``pending`` entries."""
    if incident is None:
        incident = to_domain(row)
    if row.major or incident.roles or incident.next_update_due:
        roles, due = major_facts(row, session, pending or ())
        incident = replace(incident, roles=roles, next_update_due=due)
    wire = incident_to_wire(incident, severity_overridden=row.severity_overridden)
    text = wire.model_dump_json()
    _remember_json(session, "incident", row.id, text)
    changes.append(
        session=session,
        kind="incident",
        entity_id=row.id,
        op="upsert",
        data=text,
        at=scope.now,
        notify_channel=scope.notify_channel,
    )


_INCIDENT_COLUMNS = tuple(column.key for column in IncidentRow.__table__.columns)
_TIMELINE_COLUMNS = tuple(column.key for column in TimelineRow.__table__.columns)
_INSERT_INCIDENT = insert(table_of(IncidentRow))
_INSERT_TIMELINE = insert(table_of(TimelineRow))
_MAX_NUMBER = select(func.coalesce(func.max(IncidentRow.number), 0))


def _insert_entries(session: Session, entries: list[TimelineRow], scope: WriteScope) -> None:
    """Record the new entries in the change log, then insert them with their seqs.

    Core inserts: the entries are written once, with ``feed_seq`` already
    known, and are not tracked by the session (nothing reads them back).
    """
    if not entries:
        return
    for entry in entries:
        _record_timeline(session, entry, scope)
    session.connection().execute(
        _INSERT_TIMELINE,
        [{key: getattr(entry, key) for key in _TIMELINE_COLUMNS} for entry in entries],
    )


def _next_number(session: Session) -> int:
    """The next incident number: read once per write transaction, then counted on."""
    number = session.info.get(NEXT_NUMBER_KEY)
    if number is None:
        number = int(session.connection().execute(_MAX_NUMBER).scalar() or 0) + 1
    session.info[NEXT_NUMBER_KEY] = number + 1
    return int(number)


def _record_timeline(session: Session, row: TimelineRow, scope: WriteScope) -> None:
    text = timeline_wire(row).model_dump_json()
    _remember_json(session, "timeline", row.id, text)
    row.feed_seq = changes.append(
        session=session,
        kind="timeline",
        entity_id=row.id,
        op="upsert",
        data=text,
        at=scope.now,
        notify_channel=scope.notify_channel,
    )


def create_incident(*, session: Session, body: IncidentCreate, scope: WriteScope) -> IncidentRow:
    """Log a new incident: number, severity, SLA due times and state ``new`` by the server.

    The next number is read inside the serialised write transaction, so
    concurrent creates get consecutive, unique numbers on both databases.

    The returned row is not tracked by the session: it is written with one
    Core insert (a later read in the same transaction finds it in the database).
    """
    check_create_allowed(body=body, principal=scope.principal)
    routed = check_service_known(
        session=session, service=body.service, free_text=scope.free_text_services
    )
    number = _next_number(session)
    impact, urgency = Impact.of(body.impact), Urgency.of(body.urgency)
    computed = scope.matrix.severity(impact, urgency)
    overridden = body.severity is not None
    severity = Severity.of(body.severity) if body.severity is not None else computed
    incident = DomainIncident(
        id=str(uuid.uuid4()),
        number=format_number(number),
        title=body.title,
        service=body.service,
        impact=impact,
        urgency=urgency,
        severity=severity,
        state=State.NEW,
        opened_at=scope.now,
        updated_at=scope.now,
        version=1,
        description=body.description,
        category=body.category,
        subcategory=body.subcategory,
        reporter=body.reporter,
        source=Source.of(body.source),
        assignment_group=body.assignment_group,
        major=body.major,
    )
    incident = _with_due_times(incident, scope)
    row = IncidentRow(number=number, severity_overridden=overridden, escalated=0, reopened=0)
    store_incident(row, incident)
    entries: list[TimelineRow] = []
    if not routed:
        entries.append(unrouted_entry(incident, scope))
    if body.assignment_group is not None:
        entries.append(
            _entry(
                incident,
                TimelineKind.ASSIGNMENT,
                f"Routed to {body.assignment_group}",
                scope,
                {"assignment_group": {"from": None, "to": body.assignment_group}},
            )
        )
    if overridden:
        if severity == computed:
            text = f"Severity kept at {severity.code} by override"
        else:
            text = f"Severity {computed.code} → {severity.code} by override"
        entries.append(
            _entry(
                incident,
                TimelineKind.SEVERITY_CHANGE,
                f"{text}: {body.severity_reason}",
                scope,
                {
                    "from": computed.code,
                    "to": severity.code,
                    "reason": body.severity_reason,
                    "override": True,
                },
            )
        )
    if body.major:
        text = "Declared a major incident"
        if body.major_reason:
            text += f": {body.major_reason}"
        if body.commander is not None:
            text += f"; Incident Commander: {body.commander}"
        entries.append(
            _entry(
                incident,
                TimelineKind.ESCALATION,
                text,
                scope,
                _with_reason({"major": True, "commander": body.commander}, body.major_reason),
            )
        )
    note_entries(row, entries)
    session.connection().execute(
        _INSERT_INCIDENT, {key: getattr(row, key) for key in _INCIDENT_COLUMNS}
    )
    _record_incident(session, row, scope, incident, entries)
    _insert_entries(session, entries, scope)
    return row


def _with_reason(data: dict[str, Any], reason: str | None) -> dict[str, Any]:
    """A declaration's entry data, with ``reason`` only when one was given."""
    return {**data, "reason": reason} if reason else data


def _entry(
    incident: DomainIncident,
    kind: TimelineKind,
    body: str,
    scope: WriteScope,
    data: dict[str, Any] | None = None,
) -> TimelineRow:
    return TimelineRow(
        id=str(uuid.uuid4()),
        incident_id=incident.id,
        kind=kind.value,
        at=scope.now,
        author=scope.principal.name,
        body=body,
        data=data or {},
    )


def _shown(value: object) -> str:
    return "nobody" if value is None else str(value)


def _override_refused(principal: Principal, instead: str) -> ApiError:
    allowed = " or ".join(role for role in ROLES if may_override(role))
    return ApiError(
        403,
        "forbidden",
        f"overriding the severity needs the {OVERRIDE_ROLE} role or higher ({allowed}); {instead} "
        f"(your token {principal.name!r} is {principal.role.wire})",
    )


def check_patch_allowed(*, body: IncidentPatch, principal: Principal) -> None:
    """403 when the PATCH needs a higher role than the caller's (a severity override)."""
    if body.severity is not None and not may_override(principal.role.wire):
        raise _override_refused(principal, "change impact or urgency instead")


def check_create_allowed(*, body: IncidentCreate, principal: Principal) -> None:
    """403 when the new incident sets its own severity and the caller is below commander."""
    if body.severity is not None and not may_override(principal.role.wire):
        raise _override_refused(
            principal,
            "log it with the computed severity and ask a commander to override it",
        )


_SERVICE_BY_ID = select(ReferenceRow.id).where(
    ReferenceRow.kind == "service", ReferenceRow.id == bindparam("service")
)
_SERVICES = select(ReferenceRow.id, ReferenceRow.data).where(ReferenceRow.kind == "service")


def _service_listed(session: Session, service: str) -> bool:
    """Whether the directory has ``service`` (by id or name), or lists no service at all."""
    connection = session.connection()
    if connection.execute(_SERVICE_BY_ID, {"service": service}).first() is not None:
        return True
    rows = connection.execute(_SERVICES).all()
    wanted = service.casefold()
    return not rows or any(
        str((data or {}).get("name", "")).casefold() == wanted for _, data in rows
    )


def check_service_known(*, session: Session, service: str, free_text: bool) -> bool:
    """Whether ``service`` is in the directory; 422 listing the known ones when it must be.

    An incident naming an unknown service would have no escalation policy
    and nobody would be paged. Accepted are a service's id or its name;
    anything goes while the directory lists no service at all (routing not set
    up yet). Where the site allows free text (``Settings.free_text_services``)
    an unknown service is accepted and False returned: the incident is
    *unrouted* (:func:`unrouted_entry` says so on its timeline).
    """
    # Asked once per write transaction and service: a batch of creates for one
    # service shares the answer (reference data is written in transactions of
    # its own, never inside a batch).
    known: dict[str, bool] = session.info.setdefault(READ_ONCE_KEY, {}).setdefault(
        "service_known", {}
    )
    answer = known.get(service)
    if answer is None:
        answer = known[service] = _service_listed(session, service)
    if answer or free_text:
        return answer
    rows = session.execute(_SERVICES).all()
    listed = sorted(item_id for item_id, _ in rows)
    shown = ", ".join(listed[:30]) + (f" and {len(listed) - 30} more" if len(listed) > 30 else "")
    raise ApiError(
        422,
        "unknown_service",
        f"service: {service[:80]!r} is not in the service directory, so nothing would route "
        f"or escalate it; use one of: {shown} (GET /v1/services lists them), or ask an admin "
        "to add it",
    )


def unrouted_entry(incident: DomainIncident, scope: WriteScope) -> TimelineRow:
    """The timeline note of an incident whose service the directory does not know."""
    return _entry(
        incident,
        TimelineKind.WORK_NOTE,
        f"Unrouted: the service {incident.service!r} is not in the service directory, so no "
        "escalation policy applies; assign it by hand",
        scope,
        {"unrouted": True, "service": incident.service},
    )


def patch_incident(
    *,
    session: Session,
    row: IncidentRow,
    body: IncidentPatch,
    scope: WriteScope,
) -> tuple[IncidentRow, list[TimelineRow]]:
    """Apply a PATCH under the lifecycle rules; returns the row and the new timeline entries.

    A PATCH that changes nothing (every field already holds the value sent)
    leaves the version alone, so a resent edit does not churn the feed.
    """
    fields = body.model_fields_set
    check_patch_allowed(body=body, principal=scope.principal)
    before = to_domain(row)
    incident = before
    entries: list[TimelineRow] = []

    plain: dict[str, Any] = {
        name: getattr(body, name)
        for name in ("title", "description", "category", "subcategory")
        if name in fields
    }
    if "impact" in fields and body.impact is not None:
        plain["impact"] = Impact.of(body.impact)
    if "urgency" in fields and body.urgency is not None:
        plain["urgency"] = Urgency.of(body.urgency)
    incident = replace(incident, **plain)

    # Assignment: one entry naming what moved.
    moved: dict[str, dict[str, str | None]] = {}
    for name in ("assignee", "assignment_group"):
        if name in fields and getattr(body, name) != getattr(incident, name):
            moved[name] = {"from": getattr(incident, name), "to": getattr(body, name)}
    if moved:
        assigned: dict[str, Any] = {name: change["to"] for name, change in moved.items()}
        incident = replace(incident, **assigned)
        text = "; ".join(
            f"{name.replace('_', ' ')} {_shown(c['from'])} → {_shown(c['to'])}"
            for name, c in moved.items()
        )
        entries.append(_entry(incident, TimelineKind.ASSIGNMENT, f"Assigned: {text}", scope, moved))

    # Major incident: declaring one is hierarchical escalation.
    if body.major is not None and body.major != incident.major:
        incident = replace(incident, major=body.major)
        text = "Declared a major incident" if body.major else "Major incident stood down"
        if body.major_reason:
            text += f": {body.major_reason}"
        entries.append(
            _entry(
                incident,
                TimelineKind.ESCALATION,
                text,
                scope,
                _with_reason({"major": body.major}, body.major_reason),
            )
        )

    # Severity: a commander's override sticks; otherwise the matrix decides.
    overridden = row.severity_overridden
    new_severity = incident.severity
    reason: str | None = None
    if body.severity is not None:
        new_severity = Severity.of(body.severity)
        reason = body.severity_reason
        overridden = True
    elif not overridden and ("impact" in plain or "urgency" in plain):
        new_severity = scope.matrix.severity(incident.impact, incident.urgency)
        if new_severity != incident.severity:
            reason = f"impact {incident.impact.value}, urgency {incident.urgency.value}"
    if new_severity != incident.severity or overridden != row.severity_overridden:
        text = f"Severity {incident.severity.code} → {new_severity.code}"
        if new_severity == incident.severity:
            text = f"Severity kept at {new_severity.code} by override"
        if reason:
            text += f": {reason}"
        entries.append(
            _entry(
                incident,
                TimelineKind.SEVERITY_CHANGE,
                text,
                scope,
                {
                    "from": incident.severity.code,
                    "to": new_severity.code,
                    "reason": reason,
                    "override": body.severity is not None,
                },
            )
        )
        incident = replace(incident, severity=new_severity)

    if body.acknowledged is True:
        incident = acknowledge(incident, scope.now)
    elif body.acknowledged is False and incident.acknowledged:
        raise ApiError(
            422,
            "invalid_request",
            "acknowledged: an acknowledgement cannot be withdrawn (it is the MTTA record)",
        )

    if body.state is not None:
        target = State.of(body.state)
        hold = HoldReason.of(body.hold_reason) if body.hold_reason else None
        if target is not incident.state or (hold is not None and hold is not incident.hold_reason):
            previous = incident.state
            incident = transition(incident, target, scope.now, hold_reason=hold)
            text = f"State {previous.label} → {target.label}"
            if hold is not None:
                text += f" ({hold.value.replace('_', ' ')})"
            entries.append(
                _entry(
                    incident,
                    TimelineKind.STATE_CHANGE,
                    text,
                    scope,
                    {
                        "from": previous.value,
                        "to": target.value,
                        "hold_reason": hold.value if hold else None,
                    },
                )
            )

    if incident == before and overridden == row.severity_overridden:
        return row, []
    incident = replace(incident, version=before.version + 1, updated_at=scope.now)
    incident = _with_due_times(incident, scope)
    store_incident(row, incident)
    note_entries(row, entries)
    row.severity_overridden = overridden
    session.flush()
    _record_incident(session, row, scope, incident, entries)
    _insert_entries(session, entries, scope)
    return row, entries


def record_incident_touch(*, session: Session, row: IncidentRow, scope: WriteScope) -> None:
    """A new version of an incident whose own fields did not change (its alert record did).

    Alert intake calls this after counting a repeat, so the change feed (and
    every console's cache, which keeps only newer versions) carries it.
    """
    row.version += 1
    row.updated_at = scope.now
    session.flush()
    _record_incident(session, row, scope)


def add_timeline_entry(
    *, session: Session, row: IncidentRow, body: TimelineEntryCreate, scope: WriteScope
) -> TimelineRow:
    """Add a work note, a status update or a CSAT score (resolved or closed only)."""
    kind = TimelineKind.of(body.kind)
    data: dict[str, Any] = {}
    if kind is TimelineKind.CSAT:
        if row.state not in (State.RESOLVED.value, State.CLOSED.value):
            raise ApiError(
                422,
                "invalid_request",
                f"a CSAT score is recorded at resolution or closure; this incident is {row.state}",
            )
        data = {"score": body.score}
    entry = _entry(to_domain(row), kind, body.body, scope, data or None)
    note_entries(row, [entry])
    _insert_entries(session, [entry], scope)
    return entry


def add_system_entry(
    *,
    session: Session,
    row: IncidentRow,
    kind: TimelineKind,
    body: str,
    scope: WriteScope,
    data: dict[str, Any],
) -> TimelineRow:
    """Add an entry with structured ``data``: a role hand-over, a published status
    update, a workaround applied."""
    entry = _entry(to_domain(row), kind, body, scope, data)
    note_entries(row, [entry])
    _insert_entries(session, [entry], scope)
    return entry
