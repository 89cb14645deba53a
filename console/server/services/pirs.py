"""Post-incident review writes, reads and reminders (``pir.due``, ``action_item.overdue``).

Like every service: the session is passed in and never committed here; the
review, its change-log row and the idempotency record are one transaction.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, TypeDecorator, select, type_coerce
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from console.domain.errors import InvalidValue
from console.domain.incident import TimelineKind
from console.domain.lifecycle import State
from console.domain.pir import (
    ItemState,
    PirPolicy,
    PirStatus,
    check_action_item,
    check_item_state,
    draft_document_rows,
    item_overdue,
    pir_overdue,
)
from console.server.core import changes
from console.server.core.auth import Principal, Role
from console.server.core.errors import ApiError
from console.server.core.tables import IncidentRow, PirRow, ReferenceRow, TimelineRow
from console.server.jobs import webhooks
from console.server.services import incidents as incident_service
from console.server.services.incident_rows import incident_wire, to_domain
from console.server.services.incidents import WriteScope
from console.wire import etag
from console.wire.pir import ActionItemCreate, Pir, PirPage, PirPatch, PirSummary

DEFAULT_POLICY = PirPolicy()
PIR_DUE_EVENT = "pir.due"
ITEM_OVERDUE_EVENT = "action_item.overdue"
_DONE_STATES = (State.RESOLVED.value, State.CLOSED.value)


def _iso(value: datetime) -> str:
    return value.isoformat()


def _when(value: object) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def find_pir(*, session: Session, ref: str) -> PirRow:
    """The review with this id, or the review of this incident (id or INC number); 404."""
    row = session.get(PirRow, ref) if len(ref) == 36 else None
    if row is None:
        try:
            incident = incident_service.find_incident(session=session, ref=ref)
        except ApiError:
            incident = None
        if incident is not None:
            row = session.scalar(select(PirRow).where(PirRow.incident_id == incident.id))
    if row is None:
        raise ApiError(404, "not_found", f"no post-incident review {ref[:80]!r}")
    return row


def pir_wire(row: PirRow, now: datetime) -> Pir:
    """The stored review with the overdue flags worked out for ``now``."""
    data = dict(row.data)
    items = []
    for item in data.get("action_items", []):
        overdue = item_overdue(ItemState.of(item["state"]), _when(item["due"]), now)
        items.append({**item, "overdue": overdue})
    data["action_items"] = items
    data["overdue"] = pir_overdue(PirStatus.of(row.status), row.due_at, now)
    data["version"] = row.version
    data["status"] = row.status
    return Pir.model_validate(data)


def pir_json(row: PirRow, now: datetime) -> str:
    return pir_wire(row, now).model_dump_json()


def _record(session: Session, row: PirRow, scope: WriteScope) -> str:
    text = pir_json(row, scope.now)
    changes.append(
        session=session, kind="pir", entity_id=row.id, op="upsert", data=text, at=scope.now
    )
    return text


def build_draft(
    incident_row: IncidentRow, session: Session, now: datetime, policy: PirPolicy
) -> dict[str, Any]:
    """The draft's document: reconstructed timeline, prefilled impact and participants.

    The timeline is read as plain columns straight into domain events: 5,000
    entries through the ORM and the wire model would cost more than the draft.
    """
    incident = to_domain(incident_row)
    table = TimelineRow.__table__
    # Core, not the ORM: no per-row ORM bookkeeping. The instant is read as stored
    # (SQLite's text, PostgreSQL's timestamptz) and made aware here, once.
    rows = session.connection().execute(
        select(
            table.c.id,
            table.c.kind,
            type_coerce(table.c.at, _RawInstant()),
            table.c.author,
            table.c.body,
        )
        .where(table.c.incident_id == incident_row.id)
        .order_by(table.c.at, table.c.feed_seq)
    )
    kinds = {kind.value for kind in TimelineKind}
    entries = [
        (entry_id, kind, _aware(at), author, body)
        for entry_id, kind, at, author, body in rows
        if kind in kinds
    ]
    return draft_document_rows(incident, entries, now, policy)


class _RawInstant(TypeDecorator[object]):
    """The stored instant as the driver gives it (no result processing)."""

    impl = String
    cache_ok = True

    def process_result_value(self, value: object, dialect: Dialect) -> object:
        return value


def _aware(value: object) -> datetime:
    """A stored instant as an aware UTC datetime (SQLite text or a driver datetime)."""
    at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def create_pir(
    *, session: Session, ref: str, scope: WriteScope, policy: PirPolicy = DEFAULT_POLICY
) -> PirRow:
    """Draft the review of a resolved (or closed) incident; 409 if not resolved or drafted."""
    incident = incident_service.find_incident(session=session, ref=ref)
    number = incident_wire(incident).number
    if incident.state not in _DONE_STATES:
        raise ApiError(
            409,
            "not_resolved",
            f"{number} is {incident.state}: a review is drafted once the incident is resolved",
        )
    existing = session.scalar(select(PirRow.id).where(PirRow.incident_id == incident.id))
    if existing is not None:
        raise ApiError(
            409, "pir_exists", f"{number} already has a review ({existing}); open it instead"
        )
    doc = build_draft(incident, session, scope.now, policy)
    pir_id = str(uuid.uuid4())
    doc.update(id=pir_id, created_at=_iso(scope.now), updated_at=_iso(scope.now))
    row = PirRow(
        id=pir_id,
        incident_id=incident.id,
        version=1,
        status=PirStatus.DRAFT.value,
        due_at=_when(doc["due_at"]),
        created_at=scope.now,
        updated_at=scope.now,
        data=doc,
    )
    session.add(row)
    session.flush()
    return row


def record(session: Session, row: PirRow, scope: WriteScope) -> str:
    """Append the review's change-log row; its wire JSON."""
    return _record(session, row, scope)


def check_version(row: PirRow, expected: int | None) -> None:
    """412 when the review changed since the caller read it."""
    if expected is not None and expected != -1 and row.version != expected:
        raise ApiError(
            412,
            "stale_version",
            f"the review is at version {row.version}, not {expected}: someone changed it "
            "since you read it; re-read it, re-apply your edit and retry",
            {"ETag": etag(row.version)},
        )


def _refuse(exc: InvalidValue) -> ApiError:
    return ApiError(422, "invalid_value", str(exc))


def patch_pir(*, session: Session, row: PirRow, body: PirPatch, scope: WriteScope) -> PirRow:
    """Apply a PATCH: narrative fields, impact, timeline marks, item states, status."""
    doc = dict(row.data)
    for name in ("root_cause", "root_cause_known", "went_well", "could_improve"):
        value = getattr(body, name)
        if value is not None:
            doc[name] = value
    if body.contributing_factors is not None:
        doc["contributing_factors"] = [f for f in body.contributing_factors if f]
    if body.participants is not None:
        doc["participants"] = list(dict.fromkeys(body.participants))
    if body.impact is not None:
        doc["impact"] = {**doc["impact"], **body.impact.model_dump(exclude_none=True)}
    if body.timeline_marks:
        by_id = {entry["source_id"]: dict(entry) for entry in doc["timeline"]}
        for mark in body.timeline_marks:
            entry = by_id.get(mark.source_id)
            if entry is None:
                raise ApiError(
                    422,
                    "invalid_value",
                    f"the review's timeline has no entry {mark.source_id!r}; mark one it lists",
                )
            for name in ("key", "hidden", "note"):
                value = getattr(mark, name)
                if value is not None:
                    entry[name] = value
        doc["timeline"] = [by_id[entry["source_id"]] for entry in doc["timeline"]]
    if body.action_items:
        items = {item["id"]: dict(item) for item in doc["action_items"]}
        for update in body.action_items:
            item = items.get(update.id)
            if item is None:
                raise ApiError(422, "invalid_value", f"the review has no action item {update.id!r}")
            state = ItemState.of(update.state)
            try:
                check_item_state(state, update.reason)
            except InvalidValue as exc:
                raise _refuse(exc) from None
            item.update(state=state.value, reason=update.reason)
        doc["action_items"] = [items[item["id"]] for item in doc["action_items"]]
    if body.held_at is not None:
        doc["held_at"] = _iso(body.held_at)
    if body.status is not None:
        _change_status(row, doc, PirStatus.of(body.status), scope)
    doc["updated_at"] = _iso(scope.now)
    row.data = doc
    row.version += 1
    row.updated_at = scope.now
    return row


def _change_status(row: PirRow, doc: dict[str, Any], status: PirStatus, scope: WriteScope) -> None:
    principal: Principal = scope.principal
    if status is PirStatus.APPROVED and principal.role < Role.COMMANDER:
        raise ApiError(
            403,
            "forbidden",
            "approving a review needs the commander role or higher; ask a commander "
            f"(your token {principal.name!r} is {principal.role.wire})",
        )
    if status is PirStatus.APPROVED and not str(doc.get("root_cause", "")).strip():
        raise ApiError(
            409,
            "root_cause_missing",
            "a review is approved with its root cause written down (or marked unknown "
            "with what is known so far)",
        )
    if status is not PirStatus.DRAFT and doc.get("held_at") is None:
        doc["held_at"] = _iso(scope.now)
    if status is PirStatus.APPROVED:
        doc["approved_by"] = principal.name
    row.status = status.value


def directory(session: Session) -> frozenset[str]:
    """The ids and names of the directory's contacts: who may own an action item."""
    names: set[str] = set()
    for item_id, data in session.execute(
        select(ReferenceRow.id, ReferenceRow.data).where(ReferenceRow.kind == "contact")
    ):
        names.add(item_id)
        if isinstance(data, dict) and isinstance(data.get("name"), str):
            names.add(data["name"])
    return frozenset(names)


def add_action_item(
    *, session: Session, row: PirRow, body: ActionItemCreate, scope: WriteScope
) -> dict[str, Any]:
    """Add an item owned by someone in the directory, due from now on."""
    try:
        check_action_item(
            owner=body.owner, due=body.due, now=scope.now, directory=directory(session)
        )
    except InvalidValue as exc:
        raise _refuse(exc) from None
    item = {
        "id": str(uuid.uuid4()),
        "title": body.title,
        "owner": body.owner,
        "due": _iso(body.due),
        "state": ItemState.OPEN.value,
        "reason": None,
        "tracker_url": None if body.tracker_url is None else str(body.tracker_url),
        "sent_overdue": False,
    }
    doc = dict(row.data)
    doc["action_items"] = [*doc.get("action_items", []), item]
    doc["updated_at"] = _iso(scope.now)
    row.data = doc
    row.version += 1
    row.updated_at = scope.now
    return item


def list_pirs(*, session: Session, now: datetime, status: str | None = None) -> PirPage:
    """Every review (newest due first), with the counts the Reviews view shows."""
    query = select(PirRow).order_by(PirRow.due_at.desc())
    if status is not None:
        query = query.where(PirRow.status == status)
    out = []
    for row in session.scalars(query):
        wire = pir_wire(row, now)
        out.append(
            PirSummary(
                id=wire.id,
                incident_id=wire.incident_id,
                incident_number=wire.incident_number,
                title=wire.title,
                status=wire.status,
                due_at=wire.due_at,
                overdue=wire.overdue,
                open_items=sum(1 for i in wire.action_items if i.state == "open"),
                overdue_items=sum(1 for i in wire.action_items if i.overdue),
                version=row.version,
            )
        )
    return PirPage(items=out)


def send_reminders(*, session: Session, now: datetime) -> int:
    """Queue ``pir.due`` once per overdue review and ``action_item.overdue`` once per item.

    Run by the server's timer. Overdue is judged by the server's (incident)
    clock; deliveries are timed by the real clock like every webhook. The "sent"
    marks live in the same transaction as the queued deliveries, so a reminder
    is neither lost nor doubled.
    """
    subscribers = webhooks.Subscribers(session)
    sent = 0
    for row in session.scalars(select(PirRow).where(PirRow.status == PirStatus.DRAFT.value)):
        doc = dict(row.data)
        changed = False
        if row.due_sent_at is None and now > row.due_at:
            webhooks.enqueue(
                session=session,
                event=PIR_DUE_EVENT,
                payload={
                    "pir_id": row.id,
                    "incident_id": row.incident_id,
                    "incident_number": doc.get("incident_number"),
                    "due_at": _iso(row.due_at),
                },
                subscribers=subscribers,
            )
            row.due_sent_at = now
            sent += 1
        items = []
        for item in doc.get("action_items", []):
            if not item.get("sent_overdue") and item_overdue(
                ItemState.of(item["state"]), _when(item["due"]), now
            ):
                webhooks.enqueue(
                    session=session,
                    event=ITEM_OVERDUE_EVENT,
                    payload={
                        "pir_id": row.id,
                        "incident_number": doc.get("incident_number"),
                        "item": {k: v for k, v in item.items() if k != "sent_overdue"},
                    },
                    subscribers=subscribers,
                )
                item = {**item, "sent_overdue": True}
                changed = True
                sent += 1
            items.append(item)
        if changed:
            doc["action_items"] = items
            row.data = doc
    return sent
