"""``/v1/intake``: monitoring alerts in, incidents out (see docs/intake.md).

``POST /v1/intake/alertmanager`` is a Prometheus Alertmanager webhook
receiver; ``POST /v1/intake/events`` takes one generic event. Both take a
token with the ``intake`` role (or admin), deduplicate, and answer with what
they did. A notification is applied whole or not at all: any 4xx leaves
nothing behind, so Alertmanager (which does not retry a 4xx) loses nothing
it could have delivered, and a 5xx (retried by Alertmanager) doubles nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy.orm import Session

from console.server.core.auth import Principal, Role
from console.server.core.errors import ApiError, responses
from console.server.core.writer import WriterStopped
from console.server.deps import Context, ServerContext, WriteCaller, write_caller
from console.server.routes.common import json_response, write_scope
from console.server.services import intake as service
from console.server.services import intake_payloads as payloads
from console.server.services.intake import IntakeScope, Outcome
from console.server.services.intake_payloads import AlertmanagerPayload, IntakeEvent, Notification

router = APIRouter(prefix="/v1/intake", tags=["alert intake"])


def _refuse(principal: Principal) -> ApiError:
    return ApiError(
        403,
        "forbidden",
        f"alert intake needs a token with the intake role; your token {principal.name!r} "
        f"is {principal.role.wire}. Create one with "
        "`noc-console token create --role intake --name alertmanager`",
    )


_INTAKE_ROLES = (Role.INTAKE, Role.ADMIN)


async def intake_caller(
    caller: Annotated[WriteCaller, Depends(write_caller(Role.INTAKE))],
) -> WriteCaller:
    """Lets through ``intake`` tokens (and admins, for trying it by hand); 403 for the rest.

    Checked early (before the body is read, from the token cache) and again
    inside the write transaction (:func:`_apply`), like every write route.
    """
    if caller.principal.role not in _INTAKE_ROLES:
        raise _refuse(caller.principal)
    return caller


IntakeCaller = Annotated[WriteCaller, Depends(intake_caller)]


async def _apply(
    context: ServerContext, caller: WriteCaller, notifications: list[Notification]
) -> Outcome:
    """Apply the notifications in the group writer's next batch; the outcome once committed.

    Concurrent notifications share one transaction and one COMMIT (one fsync),
    each in its own savepoint (``writer.py``): one that fails (a 422 for an
    unmapped alert, say) is rolled back alone, whole, and its neighbours are
    committed. Nobody is answered before the commit returned.
    """

    def work(session: Session) -> Outcome:
        # ``confirm`` re-reads the token in the transaction (401 if revoked since the
        # early check); ``at_least(INTAKE)`` holds for every role, so the role is
        # checked here as well.
        principal = caller.confirm(session)
        if principal.role not in _INTAKE_ROLES:
            raise _refuse(principal)
        scope = IntakeScope(
            write=write_scope(context, principal),
            config=context.settings.intake,
            session=session,
        )
        return service.apply(session=session, notifications=notifications, scope=scope)

    try:
        return await context.writer.run(work)
    except WriterStopped:
        raise ApiError(
            503, "shutting_down", "the server is shutting down; retry in a moment"
        ) from None


@router.post(
    "/alertmanager",
    summary="Receive an Alertmanager webhook notification",
    responses=responses(400, 401, 403, 413, 422),
)
async def alertmanager(
    body: AlertmanagerPayload,
    context: Context,
    caller: IntakeCaller,
) -> Response:
    """Each firing alert (or group, per the ``grouping`` setting) opens an incident with
    ``source: monitoring``, or counts a repeat on the open incident with the same
    fingerprint (group key). A resolved alert adds a timeline entry and, unless a person
    worked on the incident, resolves it (setting ``auto_resolve``).
    """
    config = context.settings.intake
    if len(body.alerts) > config.max_alerts:
        raise ApiError(
            413,
            "too_many_alerts",
            f"the notification carries {len(body.alerts)} alerts, more than the "
            f"{config.max_alerts} this server takes in one body; set "
            f"max_alerts: {config.max_alerts} in the receiver's webhook_config so "
            "Alertmanager sends no more",
        )
    notifications = payloads.from_alertmanager(body, config)
    outcome = await _apply(context, caller, notifications)
    result = outcome.as_json()
    result["truncated_alerts"] = body.truncatedAlerts
    return json_response(result)


@router.post(
    "/events",
    status_code=202,
    summary="Receive one monitoring event (trigger, acknowledge, resolve)",
    responses=responses(400, 401, 403, 413, 422),
)
async def events(
    body: IntakeEvent,
    context: Context,
    caller: IntakeCaller,
) -> Response:
    """``trigger`` opens an incident (or counts a repeat on the open one with the same
    ``dedup_key``), ``acknowledge`` acknowledges it, ``resolve`` resolves it unless a
    person worked on it. A trigger without ``dedup_key`` gets one, returned in the answer.
    """
    problem = body.problem()
    if problem is not None:
        raise ApiError(422, "invalid_request", problem)
    notification = payloads.from_event(body)
    outcome = await _apply(context, caller, [notification])
    result = outcome.as_json()
    result["dedup_key"] = notification.key
    numbers = (
        outcome.opened
        + outcome.updated
        + outcome.reopened
        + outcome.resolved
        + outcome.acknowledged
    )
    result["incident"] = numbers[0] if numbers else None
    return json_response(result, 202)
