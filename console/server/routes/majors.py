"""Major incidents: ``status-updates``, ``roles`` and ``major`` under ``/v1/incidents/{id}``."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response
from sqlalchemy.orm import Session

from console.server.core.errors import responses
from console.server.deps import Context, DispatcherWrite, ReadSession, Viewer
from console.server.routes.common import Idempotent, WriteResult, json_response, run_write
from console.server.routes.incidents import IncidentRef
from console.server.services import incidents as service
from console.server.services import majors
from console.server.services.incidents import WriteScope
from console.wire.major import (
    BridgeSet,
    MajorState,
    ResponderChange,
    RoleAssign,
    StatusUpdate,
    StatusUpdateCreate,
    StatusUpdatePage,
)

router = APIRouter(prefix="/v1/incidents", tags=["major incidents"])

RoleName = Annotated[
    str,
    Path(
        min_length=1,
        max_length=60,
        pattern=r"^[A-Za-z][A-Za-z ]{0,59}$",
        description='e.g. "Incident Commander", "Technical Lead", "Scribe"',
    ),
]


@router.get(
    "/{incident_id}/status-updates",
    response_model=StatusUpdatePage,
    summary="Read the status updates published for a major incident",
    responses=responses(400, 401, 404, 422),
)
def list_status_updates(
    incident_id: IncidentRef, session: ReadSession, _principal: Viewer
) -> Response:
    """Every published update, oldest first, each with its audience and status."""
    row = service.find_incident(session=session, ref=incident_id)
    entries = service.list_timeline(session=session, incident_id=row.id)
    items = [u for u in (majors.update_of(e) for e in entries) if u is not None]
    return json_response(StatusUpdatePage(items=items))


@router.post(
    "/{incident_id}/status-updates",
    status_code=201,
    response_model=StatusUpdate,
    summary="Publish a status update to one audience",
    responses=responses(400, 401, 403, 404, 409, 413, 422),
)
async def publish_status_update(
    incident_id: IncidentRef,
    body: StatusUpdateCreate,
    context: Context,
    caller: DispatcherWrite,
    idempotent: Idempotent,
) -> Response:
    """Publish to ``internal``, ``executive`` or ``customer`` (at most 10 000 characters).

    Dispatchers must hold a role on the incident; commanders and admins may
    always publish. The update is a timeline entry (so every console sees it
    through the change feed), resets that audience's countdown and emits the
    signed webhook event ``status_update.published``. With ``Idempotency-Key``
    a resend publishes nothing new.
    """

    def write(session: Session, scope: WriteScope) -> WriteResult:
        row = service.find_incident(session=session, ref=incident_id)
        update = majors.publish(session=session, row=row, body=body, scope=scope)
        return 201, update.model_dump_json(), {}

    return await run_write(context, caller, idempotent, body=body, write=write)


@router.put(
    "/{incident_id}/roles/{role}",
    response_model=dict[str, str],
    summary="Assign or hand over a role on a major incident",
    responses=responses(400, 401, 403, 404, 413, 422),
)
async def assign_role(
    incident_id: IncidentRef,
    role: RoleName,
    body: RoleAssign,
    context: Context,
    caller: DispatcherWrite,
    idempotent: Idempotent,
) -> Response:
    """The Incident Commander (or a commander) gives a role; a hand-over is a timeline entry."""

    def write(session: Session, scope: WriteScope) -> WriteResult:
        row = service.find_incident(session=session, ref=incident_id)
        roles = majors.assign_role(session=session, row=row, role=role, body=body, scope=scope)
        return 200, json.dumps(roles, separators=(",", ":")), {}

    return await run_write(context, caller, idempotent, body=body, write=write)


@router.put(
    "/{incident_id}/bridge",
    summary="Set the war room's bridge (conference URL, or dial-in with PIN)",
    responses=responses(400, 401, 403, 404, 413, 422),
)
async def set_bridge(
    incident_id: IncidentRef,
    body: BridgeSet,
    context: Context,
    caller: DispatcherWrite,
    idempotent: Idempotent,
) -> Response:
    """Role holders (or a commander) set it; it is a timeline entry."""

    def write(session: Session, scope: WriteScope) -> WriteResult:
        row = service.find_incident(session=session, ref=incident_id)
        bridge = majors.set_bridge(session=session, row=row, body=body, scope=scope)
        return 200, json.dumps(bridge, separators=(",", ":")), {}

    return await run_write(context, caller, idempotent, body=body, write=write)


@router.post(
    "/{incident_id}/responders",
    status_code=201,
    summary="Record that a responder joined or left the bridge",
    responses=responses(400, 401, 403, 404, 413, 422),
)
async def change_responder(
    incident_id: IncidentRef,
    body: ResponderChange,
    context: Context,
    caller: DispatcherWrite,
    idempotent: Idempotent,
) -> Response:
    """Responders only: observers get updates through the Communications Lead, unlisted."""

    def write(session: Session, scope: WriteScope) -> WriteResult:
        row = service.find_incident(session=session, ref=incident_id)
        majors.change_responder(session=session, row=row, body=body, scope=scope)
        return 201, json.dumps({"person": body.person, "action": body.action}), {}

    return await run_write(context, caller, idempotent, body=body, write=write)


@router.get(
    "/{incident_id}/major",
    response_model=MajorState,
    summary="Roles, next update due per audience, overdue audiences, updates",
    responses=responses(400, 401, 404, 422),
)
def get_major(
    incident_id: IncidentRef, session: ReadSession, context: Context, _principal: Viewer
) -> Response:
    """The command view of one incident: ``roles`` and ``next_update_due`` per audience."""
    row = service.find_incident(session=session, ref=incident_id)
    return json_response(majors.state_of(session, row, context.clock()))
