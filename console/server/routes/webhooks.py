"""``/v1/webhooks``: outgoing webhooks and their deliveries (admin only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from console.domain.clock import utc_now
from console.server.core.egress import EgressPolicy
from console.server.core.errors import responses
from console.server.deps import Admin, ReadSession, WriteSession
from console.server.jobs import webhooks as service
from console.server.routes.common import json_response
from console.wire import (
    Webhook,
    WebhookDeliveryPage,
    WebhookIn,
    WebhookPage,
    WebhookStatusWire,
)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


async def _egress(request: Request) -> EgressPolicy:
    """The app's egress policy (``create_app`` keeps it on ``app.state``)."""
    policy: EgressPolicy = request.app.state.egress
    return policy


Egress = Annotated[EgressPolicy, Depends(_egress)]

WebhookRef = Annotated[str, Path(min_length=1, max_length=64, description="the webhook's id")]


@router.get("", response_model=WebhookPage, summary="List webhooks", responses=responses(401, 403))
def list_webhooks(session: ReadSession, _principal: Admin) -> Response:
    """Every webhook, by name; secrets are shown only as a hint."""
    rows = service.list_webhooks(session=session)
    return json_response(WebhookPage(items=[service.webhook_wire(row) for row in rows]))


@router.post(
    "",
    status_code=201,
    response_model=Webhook,
    summary="Add a webhook",
    responses=responses(400, 401, 403, 413, 422),
)
def create_webhook(
    body: WebhookIn, session: WriteSession, _principal: Admin, policy: Egress
) -> Response:
    """Send ``events`` to ``url``, each POST signed with ``secret`` (``X-NOC-Signature``).

    ``url`` must be ``https://`` to a public address unless the server's
    operator allow-listed it (``serve --webhook-allow``); 422 otherwise.
    """
    row = service.create_webhook(session=session, body=body, now=utc_now(), policy=policy)
    wire = service.webhook_wire(row)
    session.commit()
    return json_response(wire, 201, {"Location": f"/v1/webhooks/{row.id}"})


@router.get(
    "/{webhook_id}",
    response_model=Webhook,
    summary="Read a webhook",
    responses=responses(401, 403, 404, 422),
)
def get_webhook(webhook_id: WebhookRef, session: ReadSession, _principal: Admin) -> Response:
    """One webhook (the secret as a hint)."""
    return json_response(
        service.webhook_wire(service.find_webhook(session=session, webhook_id=webhook_id))
    )


@router.put(
    "/{webhook_id}",
    response_model=Webhook,
    summary="Replace a webhook",
    responses=responses(400, 401, 403, 404, 413, 422),
)
def replace_webhook(
    webhook_id: WebhookRef,
    body: WebhookIn,
    session: WriteSession,
    _principal: Admin,
    policy: Egress,
) -> Response:
    """Change a webhook's URL, secret, events or whether it is active (same URL rules)."""
    row = service.find_webhook(session=session, webhook_id=webhook_id)
    service.replace_webhook(session=session, row=row, body=body, now=utc_now(), policy=policy)
    wire = service.webhook_wire(row)
    session.commit()
    return json_response(wire)


@router.delete(
    "/{webhook_id}",
    status_code=204,
    summary="Delete a webhook",
    responses=responses(401, 403, 404, 422),
)
def delete_webhook(webhook_id: WebhookRef, session: WriteSession, _principal: Admin) -> Response:
    """Remove the webhook and its delivery history; nothing more is sent to it."""
    row = service.find_webhook(session=session, webhook_id=webhook_id)
    service.delete_webhook(session=session, row=row)
    session.commit()
    return Response(status_code=204)


@router.get(
    "/{webhook_id}/deliveries",
    response_model=WebhookDeliveryPage,
    summary="A webhook's deliveries",
    responses=responses(401, 403, 404, 422),
)
def list_deliveries(
    webhook_id: WebhookRef,
    session: ReadSession,
    _principal: Admin,
    status: Annotated[WebhookStatusWire | None, Query(description="only this status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Response:
    """Deliveries newest first, with attempts, last error and status code (failed ones too)."""
    row = service.find_webhook(session=session, webhook_id=webhook_id)
    rows = service.list_deliveries(session=session, webhook_id=row.id, status=status, limit=limit)
    return json_response(WebhookDeliveryPage(items=[service.delivery_wire(r) for r in rows]))
