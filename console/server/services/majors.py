"""Major incidents on the server: roles, published status updates, the public status page.

Everything is kept on the incident's timeline, so it reaches every console
through the change feed like any other entry and the history is the record:

* a role assignment or hand-over is an ``assignment`` entry with
  ``data = {"role": ..., "from": ..., "to": ..., "reason": ...}``;
* a published update is a ``status_update`` entry with
  ``data = {"audience": ..., "status": ...}`` and the text as its body.

The current holders and the countdowns are derived from those entries (see
``console/domain/major.py`` for the cadence rules).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.domain.incident import TimelineKind
from console.domain.major import PUBLIC_RECENT, next_update_due, overdue, war_room_from_timeline
from console.server.core.auth import Principal, Role
from console.server.core.db import UPDATE_CADENCE_KEY
from console.server.core.errors import ApiError
from console.server.core.tables import IncidentRow, ReferenceRow, TimelineRow
from console.server.jobs import webhooks
from console.server.services import incidents as service
from console.server.services.incidents import WriteScope
from console.wire.major import (
    BridgeSet,
    MajorState,
    ResponderChange,
    RoleAssign,
    StatusUpdate,
    StatusUpdateCreate,
)

EVENT = "status_update.published"
OPEN_STATES = ("new", "triaged", "in_progress", "on_hold", "reopened")


def _severity_number(row: IncidentRow) -> int:
    return int(row.severity)


def update_of(entry: TimelineRow) -> StatusUpdate | None:
    """The published update an entry records, None for a plain stakeholder note."""
    data = entry.data or {}
    if entry.kind != TimelineKind.STATUS_UPDATE.value or "audience" not in data:
        return None
    return StatusUpdate(
        id=entry.id,
        incident_id=entry.incident_id,
        audience=data["audience"],
        status=data.get("status", "investigating"),
        text=entry.body,
        at=entry.at,
        author=entry.author,
    )


def roles_of(entries: list[TimelineRow]) -> dict[str, str]:
    """Who holds each role now (the newest assignment of each role wins)."""
    roles: dict[str, str] = {}
    for entry in entries:
        data = entry.data or {}
        if entry.kind == TimelineKind.ESCALATION.value and data.get("commander"):
            # Declared with a commander (``POST /v1/incidents`` with major + commander).
            roles["Incident Commander"] = str(data["commander"])
        if entry.kind == TimelineKind.ASSIGNMENT.value and "role" in data:
            if data.get("to"):
                roles[str(data["role"])] = str(data["to"])
            else:
                roles.pop(str(data["role"]), None)
    return roles


def declared_at(row: IncidentRow, entries: list[TimelineRow]) -> datetime | None:
    """When the incident was (last) declared major; None while it is not major."""
    if not row.major:
        return None
    found = None
    for entry in entries:
        if entry.kind == TimelineKind.ESCALATION.value and (entry.data or {}).get("major"):
            found = entry.at
    return found or row.opened_at


def customer_facing(session: Session, service_id: str) -> bool:
    data = session.scalar(
        select(ReferenceRow.data).where(
            ReferenceRow.kind == "service", ReferenceRow.id == service_id
        )
    )
    return bool(data and data.get("customer_facing"))


def state_of(session: Session, row: IncidentRow, now: datetime) -> MajorState:
    """Roles, countdowns and published updates of one incident."""
    entries = service.list_timeline(session=session, incident_id=row.id)
    updates = [u for u in (update_of(e) for e in entries) if u is not None]
    declared = declared_at(row, entries)
    facing = customer_facing(session, row.service)
    due: dict[str, datetime | None] = {"internal": None, "executive": None, "customer": None}
    if declared is not None:
        due = next_update_due(
            severity=_severity_number(row),
            declared_at=declared,
            updates=updates,
            customer_facing=facing,
            resolved=row.state in ("resolved", "closed", "cancelled"),
            cadence=session.info.get(UPDATE_CADENCE_KEY),
        )
    bridge, responders = war_room_from_timeline(entries)
    return MajorState(
        bridge=bridge,
        responders={n: {"state": s, "at": at} for n, (s, at) in responders.items()},
        incident_id=row.id,
        major=row.major,
        declared_at=declared,
        roles=roles_of(entries),
        next_update_due=due,
        overdue=overdue(due, now),
        customer_facing=facing,
        updates=updates,
    )


def _check_may_publish(principal: Principal, roles: dict[str, str]) -> None:
    if principal.at_least(Role.COMMANDER):
        return
    if principal.name not in roles.values():
        raise ApiError(
            403,
            "no_role_on_incident",
            f"{principal.name} holds no role on this major incident; ask the Incident "
            "Commander to give you one (e.g. Communications Lead), or a commander to publish",
        )


def publish(
    *, session: Session, row: IncidentRow, body: StatusUpdateCreate, scope: WriteScope
) -> StatusUpdate:
    """Record a published update on the timeline and queue its webhook event."""
    if not row.major:
        raise ApiError(
            409,
            "not_major",
            "status updates are published for major incidents; declare it major first",
        )
    entries = service.list_timeline(session=session, incident_id=row.id)
    _check_may_publish(scope.principal, roles_of(entries))
    if body.audience == "customer" and not customer_facing(session, row.service):
        raise ApiError(
            422,
            "not_customer_facing",
            f"service {row.service!r} is not customer-facing, so it has no customer audience; "
            "mark the service customer-facing in the directory first",
        )
    entry = service.add_system_entry(
        session=session,
        row=row,
        kind=TimelineKind.STATUS_UPDATE,
        body=body.text,
        scope=scope,
        data={"audience": body.audience, "status": body.status},
    )
    # The incident's next_update_due moved: a new version carries it through the feed.
    service.record_incident_touch(session=session, row=row, scope=scope)
    update = update_of(entry)
    assert update is not None
    payload: dict[str, Any] = {
        "incident": {"id": row.id, "number": row.number, "service": row.service},
        "update": update.model_dump(mode="json"),
    }
    webhooks.enqueue(session=session, event=EVENT, payload=payload, now=scope.now)
    return update


def assign_role(
    *, session: Session, row: IncidentRow, role: str, body: RoleAssign, scope: WriteScope
) -> dict[str, str]:
    """Give ``role`` to ``body.person`` (a hand-over if someone held it); the roles after."""
    entries = service.list_timeline(session=session, incident_id=row.id)
    roles = roles_of(entries)
    principal = scope.principal
    commander = roles.get("Incident Commander")
    if not principal.at_least(Role.COMMANDER) and principal.name != commander:
        raise ApiError(
            403,
            "not_incident_commander",
            "only the Incident Commander of this incident (or a commander) assigns its roles",
        )
    before = roles.get(role)
    if before == body.person:
        return roles
    text = (f"{role}: {before} → {body.person}" if before else f"{role}: {body.person}") + (
        f" ({body.reason})" if body.reason else ""
    )
    service.add_system_entry(
        session=session,
        row=row,
        kind=TimelineKind.ASSIGNMENT,
        body=("Handed over " if before else "Assigned ") + text,
        scope=scope,
        data={"role": role, "from": before, "to": body.person, "reason": body.reason},
    )
    service.record_incident_touch(session=session, row=row, scope=scope)  # its roles changed
    roles[role] = body.person
    return roles


def _check_on_incident(principal: Principal, roles: dict[str, str], what: str) -> None:
    if not principal.at_least(Role.COMMANDER) and principal.name not in roles.values():
        raise ApiError(
            403,
            "no_role_on_incident",
            f"only the incident's role holders (or a commander) {what}",
        )


def set_bridge(
    *, session: Session, row: IncidentRow, body: BridgeSet, scope: WriteScope
) -> dict[str, Any]:
    """Record the war room's bridge (a timeline entry); the bridge as stored."""
    if body.url is None and body.dial_in is None:
        raise ApiError(422, "no_bridge", "give a conference url, or a dial_in (with pin)")
    entries = service.list_timeline(session=session, incident_id=row.id)
    _check_on_incident(scope.principal, roles_of(entries), "set the bridge")
    bridge = body.model_dump(exclude_none=True)
    shown = " · ".join(str(v) for v in bridge.values())
    service.add_system_entry(
        session=session,
        row=row,
        kind=TimelineKind.WORK_NOTE,
        body=f"Bridge: {shown}",
        scope=scope,
        data={"bridge": bridge},
    )
    return bridge


def change_responder(
    *, session: Session, row: IncidentRow, body: ResponderChange, scope: WriteScope
) -> None:
    """Someone joined or left the bridge: a timeline entry with who, what and when."""
    entries = service.list_timeline(session=session, incident_id=row.id)
    _check_on_incident(scope.principal, roles_of(entries), "record who is on the bridge")
    service.add_system_entry(
        session=session,
        row=row,
        kind=TimelineKind.ASSIGNMENT,
        body=f"{body.person} {body.action} the bridge",
        scope=scope,
        data={"responder": body.person, "action": body.action},
    )


# -- the public status page ---------------------------------------------------


def public_status(session: Session, now: datetime) -> dict[str, Any]:
    """Open and recently resolved incidents of customer-facing services, customer updates only.

    Only the service's name, the incident's number, state and the customer
    updates' status, text and time are shown: never the title, description,
    people, phones, work notes or any internal or executive update.
    """
    services = {
        item_id: data
        for item_id, data in session.execute(
            select(ReferenceRow.id, ReferenceRow.data).where(ReferenceRow.kind == "service")
        )
        if data and data.get("customer_facing")
    }
    incidents: list[dict[str, Any]] = []
    if services:
        rows = session.scalars(
            select(IncidentRow)
            .where(IncidentRow.service.in_(list(services)))
            .order_by(IncidentRow.opened_at.desc())
            .limit(200)
        )
        for row in rows:
            recent = row.resolved_at is not None and now - row.resolved_at <= PUBLIC_RECENT
            if row.state not in OPEN_STATES and not recent:
                continue
            entries = service.list_timeline(session=session, incident_id=row.id)
            updates = [
                u
                for u in (update_of(e) for e in entries)
                if u is not None and u.audience == "customer"
            ]
            if not updates:
                continue
            incidents.append(
                {
                    "number": row.number,
                    "service": str(services[row.service].get("name", row.service)),
                    "status": updates[-1].status,
                    "resolved": row.state not in OPEN_STATES,
                    "updates": [
                        {"status": u.status, "text": u.text, "at": u.at.isoformat()}
                        for u in reversed(updates)
                    ],
                }
            )
    return {"generated_at": now.isoformat(), "incidents": incidents}
