"""``/v1/incidents``: log, list, read and change incidents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from console.server.core.errors import ApiError, responses
from console.server.core.settings import INCIDENTS_PAGE_MAX
from console.server.deps import (
    Context,
    DispatcherWrite,
    ReadSession,
    Viewer,
)
from console.server.routes.common import (
    Idempotent,
    IfMatch,
    IfNoneMatch,
    WriteResult,
    if_none_match_hits,
    json_response,
    parse_if_match,
    run_write,
    version_headers,
)
from console.server.services import incidents as service
from console.server.services.incident_rows import incident_wire
from console.server.services.incidents import WriteScope
from console.wire import (
    Incident,
    IncidentCreate,
    IncidentPage,
    IncidentPatch,
    SeverityWire,
    StateWire,
    etag,
)

router = APIRouter(prefix="/v1/incidents", tags=["incidents"])

IncidentRef = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        description="the incident's id (a UUID) or its number (INC-000042)",
    ),
]


@router.post(
    "",
    status_code=201,
    response_model=Incident,
    summary="Log an incident",
    responses=responses(400, 401, 403, 409, 413, 422),
)
async def create_incident(
    body: IncidentCreate,
    context: Context,
    caller: DispatcherWrite,
    idempotent: Idempotent,
) -> Response:
    """Log a new incident (dispatcher and up).

    The server sets the number, severity (impact × urgency), state ``new``, the
    SLA due times and the timestamps. With ``Idempotency-Key`` a resend returns
    the incident created the first time, never a second one.

    From the triage: ``assignment_group`` routes it to a team; ``severity``
    overrides the matrix (commander and up, 403 otherwise) and needs
    ``severity_reason``, which goes into the timeline; ``major: true`` declares a
    major incident, with ``commander`` naming the Incident Commander.
    """
    service.check_create_allowed(body=body, principal=caller.principal)

    def write(session: Session, scope: WriteScope) -> WriteResult:
        row = service.create_incident(session=session, body=body, scope=scope)
        headers = version_headers(row.version, Location=f"/v1/incidents/{row.id}")
        return 201, service.incident_json(session, row), headers

    return await run_write(context, caller, idempotent, body=body, write=write)


@router.get(
    "",
    response_model=IncidentPage,
    summary="List incidents",
    responses=responses(400, 401, 422),
)
def list_incidents(
    session: ReadSession,
    _principal: Viewer,
    state: Annotated[list[StateWire] | None, Query(description="any of these states")] = None,
    severity: Annotated[
        list[SeverityWire] | None, Query(description="any of these severities")
    ] = None,
    service_name: Annotated[
        str | None, Query(alias="service", max_length=120, pattern=r"^[^\x00]*$")
    ] = None,
    q: Annotated[
        str | None,
        Query(max_length=200, pattern=r"^[^\x00]*$", description="text in title or description"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=INCIDENTS_PAGE_MAX)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    """The queue, newest first, filtered by state, severity, service and text."""
    rows, total = service.list_incidents(
        session=session,
        states=list(state) if state else None,
        severities=list(severity) if severity else None,
        service=service_name,
        q=q,
        limit=limit,
        offset=offset,
    )
    page = IncidentPage(
        items=[incident_wire(row) for row in rows], total=total, limit=limit, offset=offset
    )
    return json_response(page)


@router.get(
    "/{incident_id}",
    response_model=Incident,
    summary="Read one incident",
    responses=responses(304, 400, 401, 404, 422),
)
def get_incident(
    incident_id: IncidentRef,
    session: ReadSession,
    _principal: Viewer,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """One incident; its ``version`` is also the ``ETag`` to send back as ``If-Match``."""
    row = service.find_incident(session=session, ref=incident_id)
    if if_none_match_hits(if_none_match, row.version):
        return Response(status_code=304, headers={"ETag": etag(row.version)})
    return json_response(incident_wire(row), headers=version_headers(row.version))


@router.patch(
    "/{incident_id}",
    response_model=Incident,
    summary="Change an incident",
    responses=responses(400, 401, 403, 404, 409, 412, 413, 422, 428),
)
async def patch_incident(
    incident_id: IncidentRef,
    body: IncidentPatch,
    context: Context,
    caller: DispatcherWrite,
    idempotent: Idempotent,
    if_match: IfMatch = None,
) -> Response:
    """Change fields, move through the lifecycle, assign, acknowledge (dispatcher and up).

    Requires ``If-Match`` with the version you edited: 428 without it, 412 when
    someone changed the incident since. An illegal state change is 409 naming
    the moves allowed from the current state. ``severity`` overrides the matrix
    (commander and up) and needs ``severity_reason``, which goes into the
    timeline.
    """
    service.check_patch_allowed(body=body, principal=caller.principal)
    expected = parse_if_match(if_match, required=True)

    def write(session: Session, scope: WriteScope) -> WriteResult:
        row = service.find_incident(session=session, ref=incident_id)
        if row.version != expected:
            raise ApiError(
                412,
                "stale_version",
                f"{incident_wire(row).number} is at version {row.version}, not "
                f"{expected}: someone changed it since you read it; re-read it, re-apply "
                "your edit and retry",
                {"ETag": etag(row.version)},
            )
        row, _entries = service.patch_incident(session=session, row=row, body=body, scope=scope)
        return 200, service.incident_json(session, row), version_headers(row.version)

    return await run_write(context, caller, idempotent, body=body, write=write)
