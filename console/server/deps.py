"""FastAPI dependencies: the server context, database sessions, the caller and its role."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

import anyio.to_thread
from fastapi import Depends, Header, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from console.domain.clock import utc_now
from console.domain.sla import SlaPolicy
from console.server.core import auth, changes
from console.server.core.auth import Principal, Role
from console.server.core.db import TOKENS_KEY, Database
from console.server.core.errors import ApiError
from console.server.core.guard import PRINCIPAL_KEY
from console.server.core.settings import Settings
from console.server.core.writer import GroupWriter
from console.server.jobs.events import ChangeBroadcaster
from console.server.services import idempotency


@dataclass
class ServerContext:
    """What every request may need: settings, the database, the SSE fan-out, the clock."""

    settings: Settings
    db: Database
    broadcaster: ChangeBroadcaster = field(default_factory=ChangeBroadcaster)
    clock: Callable[[], datetime] = utc_now
    sla: SlaPolicy = field(default_factory=SlaPolicy.default)
    tokens: auth.TokenCache = field(default_factory=auth.TokenCache)
    writer: GroupWriter = field(init=False)

    def __post_init__(self) -> None:
        # A batch's Idempotency-Keys are looked up with one query (run_write's hint).
        self.writer = GroupWriter(self.db, prepare=idempotency.prefetch)

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


_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def _secret_of(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or not credentials.credentials:
        raise ApiError(
            401,
            "unauthenticated",
            "send an API token as 'Authorization: Bearer <token>'; "
            "an admin creates one with `noc-console token create`",
            _CHALLENGE,
        )
    return credentials.credentials


def _unknown_token() -> ApiError:
    return ApiError(
        401,
        "invalid_token",
        "the API token is unknown or revoked; ask an admin for a new one",
        _CHALLENGE,
    )


def _forbidden(principal: Principal, role: Role) -> ApiError:
    return ApiError(
        403,
        "forbidden",
        f"this needs the {role.wire} role or higher; your token "
        f"{principal.name!r} is {principal.role.wire}",
    )


def _lookup(context: ServerContext, secret: str) -> Principal | None:
    if len(secret) > 200:
        return None
    with context.db.read_session() as session:
        return auth.authenticate(session=session, secret=secret)


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
    principal = _lookup(context, _secret_of(credentials))
    if principal is None:
        raise _unknown_token()
    return principal


@dataclass(frozen=True)
class WriteCaller:
    """The caller of a write route, checked early and checked again in the write.

    The early check (in the event loop, from :class:`auth.TokenCache` when the
    token was seen live in the last seconds, else one read) answers 401/403
    before the body is validated, as for every other route. :meth:`confirm`
    re-reads the token inside the write transaction, so a token revoked since
    the early check never writes.
    """

    secret: str
    principal: Principal
    role: Role
    tokens: auth.TokenCache

    def confirm(self, session: Session) -> Principal:
        """The caller as the write transaction sees it: 401 if revoked, 403 if below the role.

        Read once per transaction: a batch of requests with one token shares the
        read (nothing can revoke it while the transaction holds the writer lock).
        """
        read: dict[str, Principal | None] = session.info.setdefault(TOKENS_KEY, {})
        if self.secret in read:
            principal = read[self.secret]
        else:
            principal = read[self.secret] = auth.authenticate(session=session, secret=self.secret)
        if principal is None:
            self.tokens.forget(self.secret)
            raise _unknown_token()
        if not principal.at_least(self.role):
            raise _forbidden(principal, self.role)
        return principal


def write_caller(role: Role) -> Callable[..., Awaitable[WriteCaller]]:
    """A dependency for write routes that need ``role`` or higher (see :class:`WriteCaller`)."""

    async def dependency(
        context: Context,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> WriteCaller:
        secret = _secret_of(credentials)
        principal = context.tokens.get(secret)
        if principal is None:
            principal = await anyio.to_thread.run_sync(_lookup, context, secret)
            if principal is None:
                raise _unknown_token()
            context.tokens.put(secret, principal)
        if not principal.at_least(role):
            raise _forbidden(principal, role)
        return WriteCaller(secret, principal, role, context.tokens)

    return dependency


def require(role: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets through callers with ``role`` or higher (else 403)."""

    async def dependency(
        principal: Annotated[Principal, Depends(current_principal)],
    ) -> Principal:
        if not principal.at_least(role):
            raise _forbidden(principal, role)
        return principal

    return dependency


Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Dispatcher = Annotated[Principal, Depends(require(Role.DISPATCHER))]
Commander = Annotated[Principal, Depends(require(Role.COMMANDER))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
DispatcherWrite = Annotated[WriteCaller, Depends(write_caller(Role.DISPATCHER))]
CommanderWrite = Annotated[WriteCaller, Depends(write_caller(Role.COMMANDER))]

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
