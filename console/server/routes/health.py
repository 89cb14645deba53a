"""``GET /v1/health``: is the server up and its database reachable? No token needed."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import text

from console import __version__
from console.server.core.errors import responses
from console.server.deps import Context, ReadSession
from console.server.routes.common import json_response
from console.wire import Health

router = APIRouter(prefix="/v1", tags=["health"])


@router.get("/health", response_model=Health, summary="Health check", responses=responses(503))
def health(session: ReadSession, context: Context) -> Response:
    """200 when the server answers and its database does; for load balancers and the console."""
    session.execute(text("SELECT 1"))
    return json_response(Health(version=__version__, database=context.db.dialect))
