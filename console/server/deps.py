"""FastAPI dependencies: the server context, database sessions, the caller and its role."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from console.domain.sla import SlaPolicy
from console.server import auth, changes
from console.server.auth import Principal, Role
from console.server.db import Database
from console.server.errors import ApiError
from console.server.events import ChangeBroadcaster
from console.server.guard import PRINCIPAL_KEY
from console.server.settings import Settings


def utc_now() -> datetime:
    """The server's clock."""
    return datetime.now(UTC)


@dataclass
class ServerContext:
    """What every request may need: settings, the database, the SSE fan-out, the clock."""

    settings: Settings
    db: Database
    broadcaster: ChangeBroadcaster = field(default_factory=ChangeBroadcaster)
    clock: Callable[[], datetime] = utc_now
    sla: SlaPolicy = field(default_factory=SlaPolicy.default)

    @property
    def notify_channel(self) -> str | None:
        """The NOTIFY channel on PostgreSQL; None on SQLite (one process only)."""
        return self.db.notify_channel if self.db.dialect == "postgresql" else None

    def latest_seq(self) -> int:
        """The newest committed seq (blocking: call from a worker thread)."""
        with self.db.read_session() as session:
            return changes.latest_seq(session=session)


async def get_context(request: Request) -> ServerContext:
    """The server context stored on the app by ``create_app``.

    Cheap dependencies are ``async`` so FastAPI does not hand each one to the
    thread pool (a measurable share of a request's time on a small machine).
    """
    context: ServerContext = request.app.state.context
    return context


Context = Annotated[ServerContext, Depends(get_context)]


def read_session(context: Context) -> Iterator[Session]:
    """A read-only session for the request."""
    session = context.db.new_read_session()
    try:
        yield session
    finally:
        session.close()


def write_session(context: Context) -> Iterator[Session]:
    """A write session for the request, serialised against other writers.

    The route commits; anything not committed when the request ends is rolled
    back.
    """
    session = context.db.new_write_session()
    try:
        yield session
    finally:
        session.close()


ReadSession = Annotated[Session, Depends(read_session)]
WriteSession = Annotated[Session, Depends(write_session)]

_bearer = HTTPBearer(
    auto_error=False,
    description="an API token from `noc-console token create`; roles: "
    "viewer < dispatcher < commander < admin",
)


def current_principal(
    request: Request,
    context: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, from ``Authorization: Bearer <token>``; 401 when missing or unknown.

    The request guard (``guard.py``) has usually checked the token already,
    before the body was read, and left the principal in the scope. Otherwise
    it is checked on a short read session of its own, so an unauthenticated
    request never waits for (or holds) the write lock.
    """
    checked = request.scope.get("state", {}).get(PRINCIPAL_KEY)
    if isinstance(checked, Principal):
        return checked
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None or not credentials.credentials:
        raise ApiError(
            401,
            "unauthenticated",
            "send an API token as 'Authorization: Bearer <token>'; "
            "an admin creates one with `noc-console token create`",
            challenge,
        )
    secret = credentials.credentials
    if len(secret) > 200:
        principal = None
    else:
        with context.db.read_session() as session:
            principal = auth.authenticate(session=session, secret=secret)
    if principal is None:
        raise ApiError(
            401,
            "invalid_token",
            "the API token is unknown or revoked; ask an admin for a new one",
            challenge,
        )
    return principal


def require(role: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets through callers with ``role`` or higher (else 403)."""

    async def dependency(
        principal: Annotated[Principal, Depends(current_principal)],
    ) -> Principal:
        if not principal.at_least(role):
            raise ApiError(
                403,
                "forbidden",
                f"this needs the {role.wire} role or higher; your token "
                f"{principal.name!r} is {principal.role.wire}",
            )
        return principal

    return dependency


Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Dispatcher = Annotated[Principal, Depends(require(Role.DISPATCHER))]
Commander = Annotated[Principal, Depends(require(Role.COMMANDER))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="any unique string (e.g. a UUID); a resend with the same key and body "
        "returns the first response instead of doing the write again",
    ),
]


_query_names: dict[int, frozenset[str]] = {}


def _declared_query(dependant: Dependant) -> set[str]:
    names = {field.alias for field in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _declared_query(sub)
    return names


async def reject_unknown_query(request: Request) -> None:
    """422 for a query parameter the route does not take.

    A misspelt filter (``?stat=new``) would otherwise be ignored and return the
    whole queue, which looks like a result but is not the one asked for.
    """
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    known = _query_names.get(id(route))
    if known is None:
        known = _query_names[id(route)] = frozenset(_declared_query(route.dependant))
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        allowed = ", ".join(sorted(known)) or "none"
        raise ApiError(
            422,
            "invalid_request",
            f"query.{unknown[0][:40]}: is not a parameter of this endpoint; it takes: {allowed}",
        )
