"""``/v1/problems``: problem records, and applying a known error's workaround to an incident."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response
from sqlalchemy.orm import Session

from console.server.core.errors import responses
from console.server.deps import Context, DispatcherWrite, ReadSession, Viewer
from console.server.routes.common import (
    Idempotent,
    IfMatch,
    WriteResult,
    json_response,
    parse_if_match,
    run_write,
    version_headers,
)
from console.server.routes.incidents import IncidentRef
from console.server.services import incidents as incident_service
from console.server.services import problems as service
from console.server.services.incidents import WriteScope
from console.wire import TimelineEntry
from console.wire.pir import Problem, ProblemCreate, ProblemPage, ProblemPatch, WorkaroundApplied

router = APIRouter(tags=["problems"])

ProblemRef = Annotated[
    str,
    Path(max_length=36, pattern=r"^[A-Za-z0-9-]+$", description="id or number (PRB-000001)"),
]


@router.post(
    "/v1/problems",
    status_code=201,
    response_model=Problem,
    summary="Open a problem",
    responses=responses(400, 401, 403, 409, 413, 422),
)
async def create_problem(
    body: ProblemCreate,
    context: Context,
    caller: DispatcherWrite,
    idempotent: Idempotent,
) -> Response:
    """Open a problem linking incidents (each incident links at most one problem: 409)."""

    def write(session: Session, scope: WriteScope) -> WriteResult:
        row = service.create_problem(session=session, body=body, scope=scope)
        return 201, service.record(session, row, scope), version_headers(row.version)

    return await run_write(context, caller, idempotent, body=body, write=write)


@router.get(
    "/v1/problems", response_model=ProblemPage, summary="List problems", responses=responses(401)
)
def list_problems(session: ReadSession, _principal: Viewer) -> Response:
    """Every problem, newest first."""
    return json_response(ProblemPage(items=service.list_problems(session=session)))


@router.get(
    "/v1/problems/{problem_id}",
    response_model=Problem,
    summary="Read one problem",
    responses=responses(400, 401, 404, 422),
)
def get_problem(problem_id: ProblemRef, session: ReadSession, _principal: Viewer) -> Response:
    row = service.find_problem(session=session, ref=problem_id)
    return json_response(service.problem_wire(row), headers=version_headers(row.version))


@router.patch(
    "/v1/problems/{problem_id}",
    response_model=Problem,
    summary="Change a problem",
    responses=responses(400, 401, 403, 404, 409, 412, 413, 422, 428),
)
async def patch_problem(
    problem_id: ProblemRef,
    body: ProblemPatch,
    context: Context,
    caller: DispatcherWrite,
    idempotent: Idempotent,
    if_match: IfMatch = None,
) -> Response:
    """Edit, link incidents, move open → investigating → known_error → resolved/closed.

    Entering ``known_error`` publishes the workaround as a known error (the triage
    wizard suggests it); resolving or closing withdraws it.
    """
    expected = parse_if_match(if_match, required=True)

    def write(session: Session, scope: WriteScope) -> WriteResult:
        row = service.find_problem(session=session, ref=problem_id)
        service.check_version(row, expected)
        row = service.patch_problem(session=session, row=row, body=body, scope=scope)
        return 200, service.record(session, row, scope), version_headers(row.version)

    return await run_write(context, caller, idempotent, body=body, write=write)


@router.get(
    "/v1/incidents/{incident_id}/problem-suggestion",
    summary="Whether to open or link a problem for this incident",
    responses=responses(400, 401, 404, 422),
)
def problem_suggestion(
    incident_id: IncidentRef, session: ReadSession, context: Context, _principal: Viewer
) -> Response:
    """``suggest`` is true when the review names an unknown root cause or the same service
    and category recur (3 incidents in 30 days); ``reasons`` say which."""
    row = incident_service.find_incident(session=session, ref=incident_id)
    return json_response(service.suggestion(session=session, row=row, now=context.clock()))


@router.post(
    "/v1/incidents/{incident_id}/workaround",
    status_code=201,
    response_model=TimelineEntry,
    summary="Record that a known error's workaround was applied",
    responses=responses(400, 401, 403, 404, 413, 422),
)
async def apply_workaround(
    incident_id: IncidentRef,
    body: WorkaroundApplied,
    context: Context,
    caller: DispatcherWrite,
    idempotent: Idempotent,
) -> Response:
    """A work note naming the known error and its problem (``data.workaround``)."""

    def write(session: Session, scope: WriteScope) -> WriteResult:
        row = incident_service.find_incident(session=session, ref=incident_id)
        entry = service.apply_workaround(session=session, row=row, body=body, scope=scope)
        return 201, incident_service.timeline_json(session, entry), {}

    return await run_write(context, caller, idempotent, body=body, write=write)
