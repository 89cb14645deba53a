"""``POST /v1/incidents/{id}/engage``: swarming, a commander engages several tiers at once."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.server import escalation
from console.server.deps import Commander, Context, IdempotencyKey, WriteSession
from console.server.errors import responses
from console.server.routes.common import json_response, replayed
from console.server.routes.incidents import IncidentRef
from console.server.services import idempotency
from console.server.services import incidents as service
from console.wire import EngageRequest, EngageResult

router = APIRouter(prefix="/v1/incidents", tags=["escalation"])


@router.post(
    "/{incident_id}/engage",
    status_code=201,
    response_model=EngageResult,
    summary="Engage several tiers at once (swarming)",
    responses=responses(400, 401, 403, 404, 409, 413, 422),
)
def engage(
    incident_id: IncidentRef,
    body: EngageRequest,
    request: Request,
    session: WriteSession,
    context: Context,
    principal: Commander,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Pull the tiers in ``tiers`` in now instead of waiting for each in turn (commander and up).

    Writes one escalation entry per tier, naming who is on call, with the
    reason; the escalation timer then counts those tiers as engaged. 422 names
    the tiers the service's policy has when one is unknown. With
    ``Idempotency-Key`` a resend engages nobody twice: it gets the first response.
    """
    request_hash = idempotency.fingerprint("POST", request.url.path, body)
    replay = replayed(
        session=session, principal=principal, key=idempotency_key, request_hash=request_hash
    )
    if replay is not None:
        return replay
    now = context.clock()
    row = service.find_incident(session=session, ref=incident_id)
    entries = escalation.engage(
        session=session,
        row=row,
        levels=list(body.tiers),
        reason=body.reason,
        now=now,
        author=principal.name,
        notify_channel=context.notify_channel,
    )
    text = EngageResult(items=[service.timeline_wire(entry) for entry in entries]).model_dump_json()
    if idempotency_key is not None:
        idempotency.remember(
            session=session,
            client=principal.name,
            key=idempotency_key,
            request_hash=request_hash,
            status_code=201,
            response=text,
            headers={},
            now=now,
        )
    session.commit()
    return json_response(text, 201)
