"""``/v1/pirs``: post-incident reviews (dispatchers draft, commanders approve, viewers read)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from console.domain.pir import PirPolicy
from console.server.core.errors import responses
from console.server.deps import Context, DispatcherWrite, ReadSession, Viewer
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
from console.server.services import pirs as service
from console.server.services.incidents import WriteScope
from console.wire import etag
from console.wire.pir import ActionItem, ActionItemCreate, Pir, PirCreate, PirPage, PirPatch

router = APIRouter(prefix="/v1/pirs", tags=["post-incident reviews"])

PirRef = Annotated[
    str,
    Path(
        max_length=36,
        pattern=r"^[A-Za-z0-9-]+$",
        description="the review's id, or its incident's id or number (INC-000042)",
    ),
]


@router.post(
    "",
    status_code=201,
    response_model=Pir,
    summary="Draft the review of a resolved incident",
    responses=responses(400, 401, 403, 404, 409, 413, 422),
)
async def create_pir(
    body: PirCreate,
    context: Context,
    caller: DispatcherWrite,
    idempotent: Idempotent,
) -> Response:
    """Draft a review (dispatcher and up): the timeline is reconstructed from the incident's
    and the impact prefilled. 409 when the incident is not resolved or already has one."""
    settings = context.settings
    policy = PirPolicy(
        sev3_required=settings.pir_sev3_required,
        scheduled_after=timedelta(hours=settings.pir_scheduled_after_h),
        due_after=timedelta(hours=settings.pir_due_after_h),
    )

    def write(session: Session, scope: WriteScope) -> WriteResult:
        row = service.create_pir(session=session, ref=body.incident_id, scope=scope, policy=policy)
        text = service.record(session, row, scope)
        return 201, text, version_headers(row.version, Location=f"/v1/pirs/{row.id}")

    return await run_write(context, caller, idempotent, body=body, write=write)


@router.get(
    "",
    response_model=PirPage,
    summary="List the reviews",
    responses=responses(400, 401, 422),
)
def list_pirs(
    session: ReadSession,
    context: Context,
    _principal: Viewer,
    status: Annotated[str | None, Query(pattern=r"^(draft|held|approved)$")] = None,
) -> Response:
    """Every review with its due time, overdue flag and open/overdue action items."""
    return json_response(service.list_pirs(session=session, now=context.clock(), status=status))


@router.get(
    "/{pir_id}",
    response_model=Pir,
    summary="Read one review",
    responses=responses(304, 400, 401, 404, 422),
)
def get_pir(
    pir_id: PirRef,
    session: ReadSession,
    context: Context,
    _principal: Viewer,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """One review; its ``version`` is the ``ETag`` to send back as ``If-Match``."""
    row = service.find_pir(session=session, ref=pir_id)
    if if_none_match_hits(if_none_match, row.version):
        return Response(status_code=304, headers={"ETag": etag(row.version)})
    return json_response(
        service.pir_json(row, context.clock()), headers=version_headers(row.version)
    )


@router.patch(
    "/{pir_id}",
    response_model=Pir,
    summary="Change a review",
    responses=responses(400, 401, 403, 404, 409, 412, 413, 422, 428),
)
async def patch_pir(
    pir_id: PirRef,
    body: PirPatch,
    context: Context,
    caller: DispatcherWrite,
    idempotent: Idempotent,
    if_match: IfMatch = None,
) -> Response:
    """Edit the review (dispatcher and up); ``status: approved`` needs a commander.

    Requires ``If-Match``: 428 without it, 412 when someone changed it since.
    """
    expected = parse_if_match(if_match, required=True)

    def write(session: Session, scope: WriteScope) -> WriteResult:
        row = service.find_pir(session=session, ref=pir_id)
        service.check_version(row, expected)
        row = service.patch_pir(session=session, row=row, body=body, scope=scope)
        return 200, service.record(session, row, scope), version_headers(row.version)

    return await run_write(context, caller, idempotent, body=body, write=write)


@router.post(
    "/{pir_id}/action-items",
    status_code=201,
    response_model=ActionItem,
    summary="Add an action item",
    responses=responses(400, 401, 403, 404, 412, 413, 422),
)
async def add_action_item(
    pir_id: PirRef,
    body: ActionItemCreate,
    context: Context,
    caller: DispatcherWrite,
    idempotent: Idempotent,
) -> Response:
    """Add an item (dispatcher and up): the owner must be in the directory, the due date
    from now on. With ``Idempotency-Key`` a resend adds nothing new."""

    def write(session: Session, scope: WriteScope) -> WriteResult:
        row = service.find_pir(session=session, ref=pir_id)
        item = service.add_action_item(session=session, row=row, body=body, scope=scope)
        service.record(session, row, scope)
        return 201, ActionItem.model_validate(item).model_dump_json(), {}

    return await run_write(context, caller, idempotent, body=body, write=write)
