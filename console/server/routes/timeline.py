"""``/v1/incidents/{id}/timeline``: work notes, status updates and the system's entries."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy.orm import Session

from console.server.core.errors import responses
from console.server.deps import (
    Context,
    DispatcherWrite,
    ReadSession,
    Viewer,
)
from console.server.routes.common import Idempotent, WriteResult, json_response, run_write
from console.server.routes.incidents import IncidentRef
from console.server.services import incidents as service
from console.server.services.incident_rows import timeline_wire
from console.server.services.incidents import WriteScope
from console.wire import TimelineEntry, TimelineEntryCreate, TimelinePage

router = APIRouter(prefix="/v1/incidents", tags=["timeline"])


@router.get(
    "/{incident_id}/timeline",
    response_model=TimelinePage,
    summary="Read an incident's timeline",
    responses=responses(400, 401, 404, 422),
)
def get_timeline(incident_id: IncidentRef, session: ReadSession, _principal: Viewer) -> Response:
    """Every entry, oldest first: notes, status updates, state changes, assignments."""
    row = service.find_incident(session=session, ref=incident_id)
    entries = service.list_timeline(session=session, incident_id=row.id)
    return json_response(TimelinePage(items=[timeline_wire(e) for e in entries]))


@router.post(
    "/{incident_id}/timeline",
    status_code=201,
    response_model=TimelineEntry,
    summary="Add a work note or a status update",
    responses=responses(400, 401, 403, 404, 409, 413, 422),
)
async def add_timeline_entry(
    incident_id: IncidentRef,
    body: TimelineEntryCreate,
    context: Context,
    caller: DispatcherWrite,
    idempotent: Idempotent,
) -> Response:
    """Add a ``work_note`` (for responders) or a ``status_update`` (for stakeholders).

    State changes, assignments and escalations write their own entries; they
    cannot be posted here. With ``Idempotency-Key`` a resend adds nothing new.
    """

    def write(session: Session, scope: WriteScope) -> WriteResult:
        row = service.find_incident(session=session, ref=incident_id)
        entry = service.add_timeline_entry(session=session, row=row, body=body, scope=scope)
        return 201, service.timeline_json(session, entry), {}

    return await run_write(context, caller, idempotent, body=body, write=write)
