"""The v1 wire's own bodies: errors, health, and who a token belongs to (for the CLI and admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from console.wire.types import API_VERSION, RoleWire, WireOut

# --------------------------------------------------------------------------
# Errors and health
# --------------------------------------------------------------------------


class ErrorDetail(WireOut):
    """What went wrong, as a stable code and a sentence a person can act on."""

    code: str = Field(description="stable machine code, e.g. `invalid_request`, `stale_version`")
    message: str = Field(description="what happened and what to do about it")


class ErrorBody(WireOut):
    """Every error response: ``{"error": {"code": "...", "message": "..."}}``."""

    error: ErrorDetail


class Health(WireOut):
    """``GET /v1/health``: the server is up and can reach its database."""

    status: Literal["ok"] = "ok"
    version: str
    api: str = API_VERSION
    database: Literal["sqlite", "postgresql"]


# --------------------------------------------------------------------------
# Tokens (for the CLI and admin tooling)
# --------------------------------------------------------------------------


class Me(WireOut):
    """``GET /v1/me``: who the request's token belongs to, and its role."""

    name: str
    role: RoleWire


class TokenInfo(WireOut):
    """An API token's public facts; the secret itself is shown only once, at creation."""

    id: str
    name: str
    role: RoleWire
    created_at: datetime
    revoked_at: datetime | None = None
