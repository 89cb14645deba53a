"""``/v1/incidents/{id}/timeline``: work notes, status updates and the system's entries."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.server.deps import (
    Context,
    Dispatcher,
    IdempotencyKey,
    ReadSession,
    Viewer,
    WriteSession,
)
from console.server.errors import responses
from console.server.routes.common import json_response, replayed, write_scope
from console.server.routes.incidents import IncidentRef
from console.server.services import idempotency
from console.server.services import incidents as service
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
    return json_response(TimelinePage(items=[service.timeline_wire(e) for e in entries]))


@router.post(
    "/{incident_id}/timeline",
    status_code=201,
    response_model=TimelineEntry,
    summary="Add a work note or a status update",
    responses=responses(400, 401, 403, 404, 409, 413, 422),
)
def add_timeline_entry(
    incident_id: IncidentRef,
    body: TimelineEntryCreate,
    request: Request,
    session: WriteSession,
    context: Context,
    principal: Dispatcher,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Add a ``work_note`` (for responders) or a ``status_update`` (for stakeholders).

    State changes, assignments and escalations write their own entries; they
    cannot be posted here. With ``Idempotency-Key`` a resend adds nothing new.
    """
    request_hash = idempotency.fingerprint("POST", request.url.path, body)
    replay = replayed(
        session=session, principal=principal, key=idempotency_key, request_hash=request_hash
    )
    if replay is not None:
        return replay
    row = service.find_incident(session=session, ref=incident_id)
    scope = write_scope(context, principal)
    entry = service.add_timeline_entry(session=session, row=row, body=body, scope=scope)
    text = service.timeline_wire(entry).model_dump_json()
    if idempotency_key is not None:
        idempotency.remember(
            session=session,
            client=principal.name,
            key=idempotency_key,
            request_hash=request_hash,
            status_code=201,
            response=text,
            headers={},
            now=scope.now,
        )
    session.commit()
    return json_response(text, 201)
