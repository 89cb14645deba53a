"""What the server checks before a request reaches the routes: who, how often, how long.

:class:`RequestGuard` is ASGI middleware, mounted by the app factory outside
the body-size limit, so that for every request but the public ones
(``/v1/health``, ``/openapi.json``, ``/docs``):

1. **Per-address rate limit** (every request, public ones too): a token bucket
   per client address; over it, ``429`` with ``Retry-After``.
2. **Failed-authentication limit**: each unknown or revoked token costs the
   address a token of a small bucket; when it is empty the address gets
   ``429`` before its next token is even looked up, so guessing tokens runs at
   a few per second, not hundreds.
3. **The token, before the body**: ``Authorization: Bearer`` is checked (401
   otherwise) before a byte of the body is read, so unauthenticated clients
   cannot make the server buffer request bodies. The principal read from the
   database is handed to the routes in the ASGI scope (``PRINCIPAL_KEY``) so
   it is looked up once. A write whose token was seen live within the last
   second passes on the shared :class:`auth.TokenCache` instead: it is
   checked again where it writes.
4. **Per-token rate limit**: a bucket per token; ``429`` with ``Retry-After``.
   An ``intake`` token (one Alertmanager's or monitor's notifications) has its
   own, higher limit (``rate_per_intake_token``), above what the server can
   take, since Alertmanager drops a notification answered with a 4xx.
5. **Body timeout**: the body must arrive within ``body_timeout_s``, else
   ``408`` and the connection is closed (the header timeout is in
   ``protocol.py``: the app is not called before the headers are complete).
6. **Event streams**: a token holds at most ``max_streams_per_token`` open
   ``GET /v1/events`` streams; opening one more closes its oldest. Every
   ``stream_recheck_s`` the guard looks up the tokens that hold streams and
   closes the streams of a revoked one, so revocation also ends live streams
   within a second.

Every refusal here answers with ``Connection: close``: a client that keeps
sending a body nobody will read is disconnected rather than held open.

Limits are per ``serve`` process and per client address as the server sees
it: behind a reverse proxy every client is the proxy, so the proxy should
limit per address and the per-address limit here be raised or switched off
(``--rate-per-address 0``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import anyio
import anyio.to_thread
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from console.server.core import auth
from console.server.core.auth import Principal, Role
from console.server.core.db import Database
from console.server.core.settings import Settings
from console.server.core.tables import TokenRow

log = logging.getLogger(__name__)

PRINCIPAL_KEY = "noc_principal"
"""Where the guard leaves the authenticated :class:`Principal` in ``scope["state"]``."""

PUBLIC_PATHS = frozenset(
    {"/v1/health", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/status", "/status.json"}
)
EVENTS_PATH = "/v1/events"
# Buckets kept at most (least recently used dropped first), so a flood of
# addresses or tokens cannot grow memory without bound.
MAX_BUCKETS = 50_000
MAX_TOKEN_LENGTH = 200


class Buckets:
    """Token buckets by key: ``rate`` per second, up to ``burst`` saved up."""

    def __init__(
        self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self._clock = clock
        self._state: OrderedDict[str, tuple[float, float]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def __len__(self) -> int:
        return len(self._state)

    def _level(self, key: str, now: float) -> float:
        level, at = self._state.get(key, (float(self.burst), now))
        return min(float(self.burst), level + (now - at) * self.rate)

    def wait(self, key: str) -> float:
        """Seconds until ``key`` may go (0 when it may now), without spending."""
        if not self.enabled:
            return 0.0
        level = self._level(key, self._clock())
        return 0.0 if level >= 1 else (1 - level) / self.rate

    def take(self, key: str) -> float:
        """Spend one for ``key``: 0 when allowed, else the seconds until it would be."""
        if not self.enabled:
            return 0.0
        now = self._clock()
        level = self._level(key, now)
        if level < 1:
            self._state[key] = (level, now)
            self._state.move_to_end(key)
            return (1 - level) / self.rate
        self._state[key] = (level - 1, now)
        self._state.move_to_end(key)
        while len(self._state) > MAX_BUCKETS:
            self._state.popitem(last=False)
        return 0.0


@dataclass(eq=False)
class _Stream:
    token_id: str
    opened: float
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    reason: str = ""


class StreamRegistry:
    """The open event streams by token: the cap, and closing a revoked token's streams."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._by_token: dict[str, list[_Stream]] = {}

    def __len__(self) -> int:
        return sum(len(streams) for streams in self._by_token.values())

    def tokens(self) -> list[str]:
        return list(self._by_token)

    def open(self, token_id: str) -> _Stream:
        stream = _Stream(token_id, time.monotonic())
        streams = self._by_token.setdefault(token_id, [])
        streams.append(stream)
        while self.limit > 0 and len(streams) > self.limit:
            oldest = streams.pop(0)
            oldest.reason = f"more than {self.limit} streams for one token"
            oldest.scope.cancel()
        return stream

    def close(self, stream: _Stream) -> None:
        streams = self._by_token.get(stream.token_id, [])
        if stream in streams:
            streams.remove(stream)
        if not streams:
            self._by_token.pop(stream.token_id, None)

    def end_token(self, token_id: str, reason: str) -> int:
        """Close every stream of ``token_id``; how many."""
        streams = self._by_token.pop(token_id, [])
        for stream in streams:
            stream.reason = reason
            stream.scope.cancel()
        return len(streams)


def _refusal(status: int, code: str, message: str, headers: dict[str, str]) -> list[Message]:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *((name.lower().encode(), value.encode()) for name, value in headers.items()),
    ]
    return [
        {"type": "http.response.start", "status": status, "headers": raw},
        {"type": "http.response.body", "body": body},
    ]


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and credentials.strip():
                return credentials.strip()
            return None
    return None


class RequestGuard:
    """ASGI middleware: rate limits, the token before the body, body timeout, stream caps."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        settings: Settings,
        db: Database,
        tokens: auth.TokenCache | None = None,
    ) -> None:
        self.app = app
        self.settings = settings
        self.db = db
        # Shared with the write routes' early check (deps.write_caller): a token
        # seen live a moment ago costs no thread hop and no read.
        self.tokens = tokens if tokens is not None else auth.TokenCache()
        self.per_address = Buckets(settings.rate_per_address, settings.rate_burst_per_address)
        self.per_token = Buckets(settings.rate_per_token, settings.rate_burst_per_token)
        self.per_intake_token = Buckets(
            settings.rate_per_intake_token, settings.rate_burst_per_intake_token
        )
        bad_rate = settings.bad_token_rate_per_address
        self.bad_tokens = Buckets(bad_rate, max(1, int(bad_rate * 10)))
        self.streams = StreamRegistry(settings.max_streams_per_token)
        self._watcher: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = str(client[0]) if client else "-"
        wait = self.per_address.take(address)
        if wait:
            await self._too_many(send, wait, "from your address")
            return
        if scope.get("path") in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        wait = self.bad_tokens.wait(address)
        if wait:
            await self._too_many(send, wait, "with unknown tokens from your address")
            return
        principal = await self._authenticate(scope, address, send)
        if principal is None:
            return
        buckets = self.per_intake_token if principal.role is Role.INTAKE else self.per_token
        wait = buckets.take(principal.token_id)
        if wait:
            await self._too_many(send, wait, f"with the token {principal.name!r}")
            return
        if scope["method"] == "GET" and scope.get("path") == EVENTS_PATH:
            await self._stream(scope, receive, send, principal)
            return
        await self._with_body_timeout(scope, receive, send)

    # -- authentication ------------------------------------------------------

    async def _authenticate(self, scope: Scope, address: str, send: Send) -> Principal | None:
        challenge = {"WWW-Authenticate": "Bearer"}
        secret = _bearer(scope)
        if secret is None:
            await self._send(
                send,
                _refusal(
                    401,
                    "unauthenticated",
                    "send an API token as 'Authorization: Bearer <token>'; "
                    "an admin creates one with `noc-console token create`",
                    challenge,
                ),
            )
            return None
        # A write may pass this check on a token seen live within the last second
        # (no thread hop, no read): the write re-reads its token inside its own
        # transaction (deps.WriteCaller), or the route's dependency reads it
        # (deps.current_principal). Reads and event streams are checked here,
        # against the database, so a revoked token stops reading at once.
        cached = None
        if scope["method"] not in ("GET", "HEAD") and len(secret) <= MAX_TOKEN_LENGTH:
            cached = self.tokens.get(secret)
        if cached is not None:
            return cached
        principal = None
        if len(secret) <= MAX_TOKEN_LENGTH:
            try:
                principal = await anyio.to_thread.run_sync(self._lookup, secret)
            except (OperationalError, PoolTimeoutError) as exc:
                # As the routes answer it (errors.py): not the client's fault, retry.
                log.warning("database unavailable: %s", exc)
                await self._send(
                    send,
                    _refusal(
                        503,
                        "database_unavailable",
                        "the server cannot reach its database right now; retry in a few seconds",
                        {"Retry-After": "2"},
                    ),
                )
                return None
        if principal is not None:
            scope.setdefault("state", {})[PRINCIPAL_KEY] = principal
        if principal is None:
            self.bad_tokens.take(address)
            await self._send(
                send,
                _refusal(
                    401,
                    "invalid_token",
                    "the API token is unknown or revoked; ask an admin for a new one",
                    challenge,
                ),
            )
        return principal

    def _lookup(self, secret: str) -> Principal | None:
        with self.db.read_session() as session:
            principal = auth.authenticate(session=session, secret=secret)
        if principal is not None:
            self.tokens.put(secret, principal)
        return principal

    # -- refusals --------------------------------------------------------------

    async def _too_many(self, send: Send, wait: float, what: str) -> None:
        seconds = max(1, math.ceil(wait))
        await self._send(
            send,
            _refusal(
                429,
                "rate_limited",
                f"too many requests {what}; retry after {seconds} s",
                {"Retry-After": str(seconds)},
            ),
        )

    @staticmethod
    async def _send(send: Send, messages: list[Message]) -> None:
        for message in messages:
            await send(message)

    # -- the body timeout --------------------------------------------------------

    async def _with_body_timeout(self, scope: Scope, receive: Receive, send: Send) -> None:
        deadline = time.monotonic() + self.settings.body_timeout_s
        complete = False
        timed_out = False
        started = False

        async def timed_receive() -> Message:
            nonlocal complete, timed_out
            if complete:
                return await receive()
            remaining = deadline - time.monotonic()
            try:
                message = await asyncio.wait_for(receive(), max(0.0, remaining))
            except TimeoutError:
                timed_out = True
                return {"type": "http.disconnect"}
            if message["type"] != "http.request" or not message.get("more_body", False):
                complete = True
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, timed_receive, tracking_send)
        if timed_out and not started:
            seconds = self.settings.body_timeout_s
            await self._send(
                send,
                _refusal(
                    408,
                    "request_timeout",
                    f"the request body did not arrive within {seconds:g} s; send it at once",
                    {},
                ),
            )

    # -- event streams -----------------------------------------------------------

    async def _stream(
        self, scope: Scope, receive: Receive, send: Send, principal: Principal
    ) -> None:
        stream = self.streams.open(principal.token_id)
        self._watch()
        started = False
        ended = False

        async def tracking_send(message: Message) -> None:
            nonlocal started, ended
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                ended = True
            await send(message)

        try:
            with stream.scope:
                await self.app(scope, receive, tracking_send)
        finally:
            self.streams.close(stream)
        if stream.scope.cancelled_caught:
            log.info("closed an event stream of %r: %s", principal.name, stream.reason)
            if started and not ended:
                # End the chunked body cleanly; the client reconnects (and a
                # revoked token then gets its 401).
                await send({"type": "http.response.body", "body": b"", "more_body": False})

    def _watch(self) -> None:
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.get_running_loop().create_task(self._watch_revocations())

    async def _watch_revocations(self) -> None:
        """While streams are open: close those whose token was revoked."""
        while len(self.streams):
            await asyncio.sleep(self.settings.stream_recheck_s)
            tokens = self.streams.tokens()
            if not tokens:
                continue
            try:
                revoked = await anyio.to_thread.run_sync(self._revoked, tokens)
            except Exception as exc:  # the database may be briefly away; look again soon
                log.warning("cannot check the tokens of open event streams: %s", exc)
                continue
            if revoked:
                self.tokens.forget_ids(revoked)
            for token_id in revoked:
                self.streams.end_token(token_id, "its token was revoked")

    def _revoked(self, token_ids: list[str]) -> list[str]:
        with self.db.read_session() as session:
            live = set(
                session.scalars(
                    select(TokenRow.id).where(
                        TokenRow.id.in_(token_ids), TokenRow.revoked_at.is_(None)
                    )
                )
            )
        return [token_id for token_id in token_ids if token_id not in live]
