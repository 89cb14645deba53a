"""``POST /v1/incidents/{id}/engage``: swarming, a commander engages several tiers at once."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy.orm import Session

from console.server.core.errors import responses
from console.server.deps import CommanderWrite, Context
from console.server.jobs import escalation_timer as escalation
from console.server.routes.common import Idempotent, WriteResult, run_write
from console.server.routes.incidents import IncidentRef
from console.server.services import incidents as service
from console.server.services.incident_rows import timeline_wire
from console.server.services.incidents import WriteScope
from console.wire import EngageRequest, EngageResult

router = APIRouter(prefix="/v1/incidents", tags=["escalation"])


@router.post(
    "/{incident_id}/engage",
    status_code=201,
    response_model=EngageResult,
    summary="Engage several tiers at once (swarming)",
    responses=responses(400, 401, 403, 404, 409, 413, 422),
)
async def engage(
    incident_id: IncidentRef,
    body: EngageRequest,
    context: Context,
    caller: CommanderWrite,
    idempotent: Idempotent,
) -> Response:
    """Pull the tiers in ``tiers`` in now instead of waiting for each in turn (commander and up).

    Writes one escalation entry per tier, naming who is on call, with the
    reason; the escalation timer then counts those tiers as engaged. 422 names
    the tiers the service's policy has when one is unknown. With
    ``Idempotency-Key`` a resend engages nobody twice: it gets the first response.
    """

    def write(session: Session, scope: WriteScope) -> WriteResult:
        row = service.find_incident(session=session, ref=incident_id)
        entries = escalation.engage(
            session=session,
            row=row,
            levels=list(body.tiers),
            reason=body.reason,
            now=scope.now,
            author=scope.principal.name,
            notify_channel=scope.notify_channel,
        )
        items = [timeline_wire(entry) for entry in entries]
        return 201, EngageResult(items=items).model_dump_json(), {}

    return await run_write(context, caller, idempotent, body=body, write=write)
