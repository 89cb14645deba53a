"""``GET /v1/me``: who the request's token belongs to, so a console knows what it may do."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from console.server.core.errors import responses
from console.server.deps import Viewer
from console.server.routes.common import json_response
from console.wire import Me

router = APIRouter(prefix="/v1", tags=["auth"])


@router.get("/me", response_model=Me, summary="Who am I", responses=responses(401))
def me(principal: Viewer) -> Response:
    """The token's name and role (any role).

    A console asks once per connection, e.g. to tell a dispatcher in advance
    that a severity override needs a commander.
    """
    return json_response(Me(name=principal.name, role=principal.role.wire))
