"""``GET /v1/events``: the SSE stream that wakes clients when the feed grows."""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Header
from fastapi.responses import StreamingResponse

from console.server.core.errors import responses
from console.server.deps import Context, Viewer
from console.server.jobs.events import sse_stream

router = APIRouter(prefix="/v1", tags=["change feed"])


@router.get(
    "/events",
    summary="Server-sent events: wake up when there are new changes",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "an endless `text/event-stream`",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        **responses(401, 422),
    },
)
async def events(
    context: Context,
    _principal: Viewer,
    last_event_id: Annotated[
        int | None,
        Header(
            alias="Last-Event-ID",
            ge=0,
            le=2**63 - 1,
            description="the id of the last event you received (the newest seq you knew)",
        ),
    ] = None,
) -> StreamingResponse:
    """A ``change`` event (``id:`` = the newest seq, data ``{"seq": N}``) whenever the feed grows.

    The stream carries no changes itself: on each event, read ``GET
    /v1/changes?after=<your cursor>``. A new connection gets an event at once
    when the client is behind (``Last-Event-ID`` older than the newest seq, or
    absent), and a ``: heartbeat`` comment line comes at least every 15 s.
    """
    current = await anyio.to_thread.run_sync(context.latest_seq)
    context.broadcaster.publish(current)
    stream = sse_stream(
        context.broadcaster,
        current_seq=current,
        last_event_id=last_event_id,
        heartbeat_s=context.settings.sse_heartbeat_s,
    )
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
