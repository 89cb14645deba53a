"""``GET /v1/changes``: the change feed, the truth every client syncs from."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from console.server.core import changes
from console.server.core.errors import responses
from console.server.core.settings import CHANGES_PAGE_MAX
from console.server.deps import ReadSession, Viewer
from console.server.routes.common import json_response
from console.wire import ChangesPage

router = APIRouter(prefix="/v1", tags=["change feed"])

MAX_SEQ = 2**63 - 1


@router.get(
    "/changes",
    response_model=ChangesPage,
    summary="Changes after a cursor",
    responses=responses(401, 422),
)
def get_changes(
    session: ReadSession,
    _principal: Viewer,
    after: Annotated[int, Query(ge=0, le=MAX_SEQ, description="the cursor of your last page")] = 0,
    limit: Annotated[int, Query(ge=1, le=CHANGES_PAGE_MAX)] = 500,
) -> Response:
    """Every committed change with ``seq > after``, oldest first, at most ``limit``.

    Each entry carries the entity's full state after that change (``op:
    upsert``) or a tombstone (``op: delete``, ``data: null``). Ask again with
    ``after=cursor`` while ``more`` is true. Following the feed from 0 yields
    every committed change exactly once, in seq order, without gaps that later
    fill in, however many writers commit at once. Seqs are increasing but not
    necessarily consecutive.
    """
    body, _cursor = changes.page_json(session=session, after=after, limit=limit)
    return json_response(body)
