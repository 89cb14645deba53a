"""API tokens and roles.

A token is a random secret shown once, at creation; the server keeps only its
SHA-256. Roles are ordered: viewer (the wall display) < dispatcher < commander
< admin, and a route names the lowest role it accepts. ``intake`` (a monitor
such as Alertmanager) sits below viewer: it may post alerts to the intake
endpoints and do nothing else, not even read the queue.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from console.domain import roles
from console.server.core.tables import TokenRow
from console.wire import TokenInfo

TOKEN_PREFIX = "noc_"


class Role(enum.IntEnum):
    """What a token may do; a higher role may do everything a lower one may.

    The members are :data:`console.domain.roles.ROLES` as an enum: each value is
    the role's :func:`~console.domain.roles.rank` and each wire name its entry on
    the ladder, so the server's order is the console's. ``INTAKE`` is below
    every other role, so no route that names a role lets it through; only the
    intake endpoints accept it (and admin, for trying them by hand).
    """

    INTAKE = roles.rank("intake")
    VIEWER = roles.rank("viewer")
    DISPATCHER = roles.rank("dispatcher")
    COMMANDER = roles.rank("commander")
    ADMIN = roles.rank("admin")

    @property
    def wire(self) -> roles.Role:
        return roles.ROLES[self.value]

    @classmethod
    def of(cls, value: str) -> Role:
        """Parse ``intake``, ``viewer`` … ``admin``; the error names the roles."""
        try:
            return cls(roles.rank(value.strip().lower()))
        except ValueError:
            allowed = ", ".join(roles.ROLES)
            raise ValueError(f"unknown role {value!r}; use one of {allowed}") from None


if [role.wire for role in Role] != list(roles.ROLES):
    raise ImportError("console.server.core.auth.Role does not cover console.domain.roles.ROLES")


@dataclass(frozen=True)
class Principal:
    """Who sent the request: the token's id, name and role."""

    token_id: str
    name: str
    role: Role

    def at_least(self, role: Role) -> bool:
        return self.role >= role


def hash_token(secret: str) -> str:
    """The stored form of a token: hex SHA-256."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class TokenError(ValueError):
    """A token command that cannot be done; the message says why."""


def create_token(*, session: Session, name: str, role: Role, now: datetime) -> tuple[str, TokenRow]:
    """Make a new token; returns the secret (to show once) and the stored row."""
    name = name.strip()
    if not name or len(name) > 120:
        raise TokenError("a token needs a name of 1 to 120 characters (e.g. the console's host)")
    existing = session.scalar(
        select(TokenRow).where(TokenRow.name == name, TokenRow.revoked_at.is_(None))
    )
    if existing is not None:
        raise TokenError(
            f"a live token named {name!r} exists; revoke it first or pick another name"
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = TokenRow(
        id=str(uuid.uuid4()),
        name=name,
        role=role.wire,
        token_hash=hash_token(secret),
        created_at=now,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise TokenError(f"a live token named {name!r} exists; pick another name") from None
    return secret, row


_LIVE_TOKEN = select(TokenRow.id, TokenRow.name, TokenRow.role, TokenRow.token_hash).where(
    TokenRow.token_hash == bindparam("digest"), TokenRow.revoked_at.is_(None)
)


def authenticate(*, session: Session, secret: str) -> Principal | None:
    """The principal for a presented secret, or None if it is unknown or revoked."""
    digest = hash_token(secret)
    row = session.connection().execute(_LIVE_TOKEN, {"digest": digest}).first()
    # The lookup is by hash, so timing reveals nothing about the secret; the
    # constant-time comparison keeps it so should the lookup ever change.
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    return Principal(token_id=row.id, name=row.name, role=Role.of(row.role))


class TokenCache:
    """Tokens recently found live, so a write's early check needs no database read.

    The request guard and the write routes' early check share one cache, so a
    busy console costs one token read a second, not one per request. A token
    revoked from another process is refused by reads within ``ttl_s`` (one
    second, the same bound as its open event streams), and by writes at once:
    every write re-reads its token inside its own write transaction
    (:func:`authenticate` on the writer's session), so a token revoked a moment
    ago never writes. The early check only decides, without a thread hop, that a
    request looks authorised before its body is validated and it is queued for
    the writer, the same order of 401/403 before 422 as a full check. Entries
    live ``ttl_s`` seconds; the cache holds at most ``size`` tokens, keyed by
    their hash (no secret is kept).
    """

    def __init__(self, *, ttl_s: float = 1.0, size: int = 10_000) -> None:
        self._ttl_s = ttl_s
        self._size = size
        self._entries: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def get(self, secret: str) -> Principal | None:
        """The principal if this secret was found live within the last ``ttl_s``."""
        with self._lock:
            entry = self._entries.get(hash_token(secret))
        if entry is None or time.monotonic() - entry[1] > self._ttl_s:
            return None
        return entry[0]

    def put(self, secret: str, principal: Principal) -> None:
        with self._lock:
            if len(self._entries) >= self._size:
                self._entries.clear()
            self._entries[hash_token(secret)] = (principal, time.monotonic())

    def forget(self, secret: str) -> None:
        with self._lock:
            self._entries.pop(hash_token(secret), None)

    def forget_ids(self, token_ids: Iterable[str]) -> None:
        """Drop the tokens with these ids (found revoked), whatever their secret."""
        gone = set(token_ids)
        with self._lock:
            for key in [k for k, (p, _) in self._entries.items() if p.token_id in gone]:
                del self._entries[key]


def list_tokens(*, session: Session) -> list[TokenInfo]:
    """Every token, live and revoked, oldest first (never the secrets)."""
    rows = session.scalars(select(TokenRow).order_by(TokenRow.created_at, TokenRow.name)).all()
    return [token_info(row) for row in rows]


def token_info(row: TokenRow) -> TokenInfo:
    """A stored token's public facts."""
    return TokenInfo.model_validate(
        {
            "id": row.id,
            "name": row.name,
            "role": row.role,
            "created_at": row.created_at,
            "revoked_at": row.revoked_at,
        }
    )


def revoke_token(*, session: Session, name_or_id: str, now: datetime) -> TokenRow:
    """Revoke the live token with this name or id; it stops working at once."""
    row = session.scalar(
        select(TokenRow).where(
            or_(TokenRow.id == name_or_id, TokenRow.name == name_or_id),
            TokenRow.revoked_at.is_(None),
        )
    )
    if row is None:
        raise TokenError(f"no live token named or with id {name_or_id!r}; see `token list`")
    row.revoked_at = now
    return row
