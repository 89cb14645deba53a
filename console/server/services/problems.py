"""Problem records: incidents linked to a cause, and the known errors they publish.

A problem in state ``known_error`` publishes its workaround as a reference
item of kind ``known_error`` (id ``problem-<number>``), which the triage
wizard already suggests for matching calls; resolving or closing the problem
withdraws it. Applying a workaround is a work note on the incident that names
the known error and the problem (``data.workaround``).
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from console.domain.incident import TimelineKind
from console.domain.pir import PROBLEM_MOVES, RECUR_COUNT, RECUR_WINDOW
from console.server.core import changes
from console.server.core.errors import ApiError
from console.server.core.tables import IncidentRow, ProblemLinkRow, ProblemRow, ReferenceRow
from console.server.services import incidents as incident_service
from console.server.services.incident_rows import incident_wire
from console.server.services.incidents import WriteScope
from console.wire import REF_ID_PATTERN, KnownError, etag
from console.wire.pir import Problem, ProblemCreate, ProblemPatch, WorkaroundApplied

# Where each state may go next (the domain's rule, kept under its old name).
MOVES = PROBLEM_MOVES
_REF_ID = re.compile(REF_ID_PATTERN)


def format_number(number: int) -> str:
    return f"PRB-{number:06d}"


def known_error_id(row: ProblemRow) -> str:
    return f"problem-{row.number}"


def find_problem(*, session: Session, ref: str) -> ProblemRow:
    """The problem with this id or number (``PRB-000001``); 404 otherwise."""
    row: ProblemRow | None = None
    if ref.upper().startswith("PRB-") and ref[4:].isdigit():
        row = session.scalar(select(ProblemRow).where(ProblemRow.number == int(ref[4:])))
    elif len(ref) == 36:
        row = session.get(ProblemRow, ref)
    if row is None:
        raise ApiError(
            404,
            "not_found",
            f"no problem {ref[:80]!r}; list them with GET /v1/problems (ids or PRB numbers)",
        )
    return row


def problem_wire(row: ProblemRow) -> Problem:
    return Problem.model_validate({**row.data, "version": row.version, "state": row.state})


def _record(session: Session, row: ProblemRow, scope: WriteScope) -> str:
    text = problem_wire(row).model_dump_json()
    changes.append(
        session=session, kind="problem", entity_id=row.id, op="upsert", data=text, at=scope.now
    )
    return text


def _link(session: Session, row: ProblemRow, refs: list[str]) -> list[IncidentRow]:
    linked: list[IncidentRow] = []
    for ref in refs:
        try:
            incident = incident_service.find_incident(session=session, ref=ref)
        except ApiError:
            raise ApiError(
                422,
                "invalid_value",
                f"incident {ref[:80]!r} does not exist; link incidents by id or INC number",
            ) from None
        link = session.get(ProblemLinkRow, incident.id)
        number = incident_wire(incident).number
        if link is not None and link.problem_id != row.id:
            other = session.get(ProblemRow, link.problem_id)
            shown = format_number(other.number) if other is not None else link.problem_id
            raise ApiError(
                409,
                "already_linked",
                f"{number} is linked to {shown} already; an incident links one problem",
            )
        if link is None:
            session.add(ProblemLinkRow(incident_id=incident.id, problem_id=row.id))
        linked.append(incident)
    doc = dict(row.data)
    numbers = list(doc.get("incidents", []))
    for incident in linked:
        number = incident_wire(incident).number
        if number not in numbers:
            numbers.append(number)
    doc["incidents"] = numbers
    if linked and not doc.get("service"):
        doc["service"] = linked[0].service
        doc["category"] = linked[0].category
    row.data = doc
    return linked


def create_problem(*, session: Session, body: ProblemCreate, scope: WriteScope) -> ProblemRow:
    number = int(session.scalar(select(func.coalesce(func.max(ProblemRow.number), 0))) or 0) + 1
    problem_id = str(uuid.uuid4())
    now = scope.now.isoformat()
    row = ProblemRow(
        id=problem_id,
        number=number,
        version=1,
        state="open",
        created_at=scope.now,
        updated_at=scope.now,
        data={
            "id": problem_id,
            "number": format_number(number),
            "statement": body.statement,
            "incidents": [],
            "service": None,
            "category": None,
            "root_cause": body.root_cause,
            "workaround": body.workaround,
            "permanent_fix": "",
            "change_ref": "",
            "known_error_id": None,
            "created_at": now,
            "updated_at": now,
        },
    )
    session.add(row)
    session.flush()
    _link(session, row, body.incidents)
    return row


def check_version(row: ProblemRow, expected: int | None) -> None:
    if expected is not None and row.version != expected:
        raise ApiError(
            412,
            "stale_version",
            f"{format_number(row.number)} is at version {row.version}, not {expected}: "
            "re-read it, re-apply your edit and retry",
            {"ETag": etag(row.version)},
        )


def patch_problem(
    *, session: Session, row: ProblemRow, body: ProblemPatch, scope: WriteScope
) -> ProblemRow:
    doc = dict(row.data)
    for name in ("statement", "root_cause", "workaround", "permanent_fix", "change_ref"):
        value = getattr(body, name)
        if value is not None:
            doc[name] = value
    row.data = doc
    if body.link_incidents:
        _link(session, row, body.link_incidents)
    doc = dict(row.data)
    if body.state is not None and body.state != row.state:
        if body.state not in MOVES[row.state]:
            allowed = ", ".join(MOVES[row.state]) or "none (closed is final)"
            raise ApiError(
                409,
                "illegal_transition",
                f"{format_number(row.number)} cannot go from {row.state} to {body.state}; "
                f"allowed: {allowed}",
            )
        if body.state == "known_error" and not str(doc.get("workaround", "")).strip():
            raise ApiError(
                409,
                "workaround_missing",
                "a known error publishes its workaround: write the workaround first",
            )
        row.state = body.state
    doc["updated_at"] = scope.now.isoformat()
    row.data = doc
    _publish(session, row, scope)
    row.version += 1
    return row


def _ref(value: object) -> str | None:
    """A service or category as a reference id (``Network`` → ``network``); None if not one."""
    if not isinstance(value, str):
        return None
    slug = value.strip().lower().replace(" ", "-")
    return slug if _REF_ID.match(slug) else None


def _publish(session: Session, row: ProblemRow, scope: WriteScope) -> None:
    """Publish, refresh or withdraw the known error of this problem."""
    ke_id = known_error_id(row)
    existing = session.get(ReferenceRow, ("known_error", ke_id))
    doc = dict(row.data)
    if row.state == "known_error":
        version = 1 if existing is None else existing.version + 1
        known = KnownError(
            id=ke_id,
            version=version,
            updated_at=scope.now,
            title=f"{doc['number']}: {doc['statement'][:180]}",
            symptoms=doc["statement"],
            workaround=doc["workaround"],
            services=[service] if (service := _ref(doc.get("service"))) else [],
            category=_ref(doc.get("category")),
            article=f"problem {doc['number']}",
        )
        data = known.model_dump(mode="json")
        if existing is None:
            session.add(
                ReferenceRow(
                    kind="known_error", id=ke_id, version=1, updated_at=scope.now, data=data
                )
            )
        else:
            existing.version, existing.updated_at, existing.data = version, scope.now, data
        changes.append(
            session=session,
            kind="known_error",
            entity_id=ke_id,
            op="upsert",
            data=data,
            at=scope.now,
        )
        doc["known_error_id"] = ke_id
    elif existing is not None and row.state in ("resolved", "closed"):
        session.delete(existing)
        changes.append(
            session=session,
            kind="known_error",
            entity_id=ke_id,
            op="delete",
            data=None,
            at=scope.now,
        )
        doc["known_error_id"] = None
    row.data = doc
    row.updated_at = scope.now


def record(session: Session, row: ProblemRow, scope: WriteScope) -> str:
    return _record(session, row, scope)


def list_problems(*, session: Session) -> list[Problem]:
    rows = session.scalars(select(ProblemRow).order_by(ProblemRow.number.desc()))
    return [problem_wire(row) for row in rows]


def recurring(*, session: Session, row: IncidentRow, now: datetime) -> int:
    """How many incidents of this service and category opened in the last 30 days."""
    since = now - RECUR_WINDOW
    query = select(func.count()).where(
        IncidentRow.service == row.service,
        IncidentRow.category == row.category,
        IncidentRow.opened_at >= since,
    )
    return int(session.scalar(query) or 0)


def suggestion(*, session: Session, row: IncidentRow, now: datetime) -> dict[str, Any]:
    """Whether to suggest a problem for this incident, and why (unknown cause, recurrence)."""
    from console.server.core.tables import PirRow

    link = session.get(ProblemLinkRow, row.id)
    if link is not None:
        linked = session.get(ProblemRow, link.problem_id)
        return {
            "suggest": False,
            "linked": None if linked is None else format_number(linked.number),
            "reasons": [],
        }
    reasons = []
    pir = session.scalar(select(PirRow).where(PirRow.incident_id == row.id))
    if pir is not None and not pir.data.get("root_cause_known", True):
        reasons.append("the review names an unknown root cause")
    count = recurring(session=session, row=row, now=now)
    if row.category and count >= RECUR_COUNT:
        reasons.append(f"{count} incidents of {row.service} / {row.category} in the last 30 days")
    return {"suggest": bool(reasons), "linked": None, "reasons": reasons}


def apply_workaround(
    *, session: Session, row: IncidentRow, body: WorkaroundApplied, scope: WriteScope
) -> Any:
    """Record on the incident that a known error's workaround was applied."""
    known = session.get(ReferenceRow, ("known_error", body.known_error_id))
    if known is None:
        raise ApiError(
            422,
            "invalid_value",
            f"no known error {body.known_error_id!r}; pick one the triage wizard suggests",
        )
    title = str(known.data.get("title", body.known_error_id))
    problem = None
    if body.known_error_id.startswith("problem-") and body.known_error_id[8:].isdigit():
        problem = format_number(int(body.known_error_id[8:]))
    text = f"Workaround applied from known error {title}"
    if body.note:
        text += f": {body.note}"
    entry = incident_service.add_system_entry(
        session=session,
        row=row,
        kind=TimelineKind.WORK_NOTE,
        body=text,
        data={"workaround": body.known_error_id, "problem": problem},
        scope=scope,
    )
    return entry


def new_id() -> str:
    return str(uuid.uuid4())
