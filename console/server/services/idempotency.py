"""``Idempotency-Key``: a resent write returns the first response instead of writing again.

The key, a fingerprint of the request and the response are stored in the same
transaction as the write itself, so either both are committed or neither is.
Lookups run inside the serialised write transaction, so two concurrent sends
with one key cannot both miss and both write.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy.orm import Session

from console.server.errors import ApiError
from console.server.tables import IdempotencyRow


def fingerprint(method: str, path: str, body: BaseModel | None) -> str:
    """A hash of what the request asks for: method, path and the parsed body.

    The parsed body (defaults filled in, keys sorted) rather than the raw bytes,
    so whitespace or key order in a resend do not count as a different request.
    """
    payload = body.model_dump(mode="json") if body is not None else None
    canonical = json.dumps([method, path, payload], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def replay(*, session: Session, client: str, key: str, request_hash: str) -> IdempotencyRow | None:
    """The stored response for this key, or None if the key is new.

    The same key with a different request is refused: the client reused a key
    by mistake, and silently returning the other response would hide that.
    """
    row = session.get(IdempotencyRow, (client, key))
    if row is None:
        return None
    if row.request_hash != request_hash:
        raise ApiError(
            409,
            "idempotency_key_reused",
            f"Idempotency-Key {key!r} was already used for a different request; "
            "send a new key for a new request",
        )
    return row


def remember(
    *,
    session: Session,
    client: str,
    key: str,
    request_hash: str,
    status_code: int,
    response: str,
    headers: dict[str, str],
    now: datetime,
) -> None:
    """Store the response for this key, in the write's own transaction."""
    session.add(
        IdempotencyRow(
            client=client,
            key=key,
            request_hash=request_hash,
            status_code=status_code,
            response=response,
            headers=headers,
            created_at=now,
        )
    )
