"""``Idempotency-Key``: a resent write returns the first response instead of writing again.

The key, a fingerprint of the request and the response are stored in the same
transaction as the write itself, so either both are committed or neither is.
Lookups run inside the serialised write transaction, so two concurrent sends
with one key cannot both miss and both write.

Keys are kept for ``Settings.idempotency_retention_s`` (7 days by default), so
a console that was offline for days still gets its first answers back when it
resends its queue, and then purged (:func:`purge_if_due`, run by the server's
timer) so the table does not grow for ever.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.orm import Session

from console.server.core.db import IDEMPOTENCY_KEY, Database, defer_insert
from console.server.core.errors import ApiError
from console.server.core.tables import IdempotencyRow, table_of

log = logging.getLogger(__name__)

PURGE_BATCH = 500
"""Keys deleted per write transaction: a writer waits for one batch at most."""

PURGE_EVERY = timedelta(hours=1)
"""How often :func:`purge_if_due` looks for expired keys (finding them reads the table)."""

# When each open database was last purged, in this process.
_last_purge: weakref.WeakKeyDictionary[Database, datetime] = weakref.WeakKeyDictionary()
_last_purge_lock = threading.Lock()


def fingerprint(method: str, path: str, body: BaseModel | None) -> str:
    """A hash of what the request asks for: method, path and the parsed body.

    The parsed body (defaults filled in, keys sorted) rather than the raw bytes,
    so whitespace or key order in a resend do not count as a different request.
    """
    payload = body.model_dump(mode="json") if body is not None else None
    canonical = json.dumps([method, path, payload], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class StoredResponse:
    """The first response to a key: what a resend gets back."""

    request_hash: str
    status_code: int
    response: str
    headers: dict[str, str]


_FIND = select(
    IdempotencyRow.request_hash,
    IdempotencyRow.status_code,
    IdempotencyRow.response,
    IdempotencyRow.headers,
).where(IdempotencyRow.client == bindparam("client"), IdempotencyRow.key == bindparam("key"))


_FIND_MANY = select(
    IdempotencyRow.key,
    IdempotencyRow.request_hash,
    IdempotencyRow.status_code,
    IdempotencyRow.response,
    IdempotencyRow.headers,
).where(
    IdempotencyRow.client == bindparam("client"),
    IdempotencyRow.key.in_(bindparam("keys", expanding=True)),
)


def _stored(found: Any) -> StoredResponse:
    return StoredResponse(
        request_hash=found.request_hash,
        status_code=int(found.status_code),
        response=found.response,
        headers=dict(found.headers or {}),
    )


def prefetch(session: Session, wanted: list[tuple[str, str]]) -> None:
    """Look up the ``(client, key)`` pairs of a batch of writes at once (the group
    writer's ``prepare``): one primary-key ``IN`` query per client instead of one
    query per request; :func:`replay` then answers from what was read."""
    by_client: dict[str, set[str]] = {}
    for client, key in wanted:
        by_client.setdefault(client, set()).add(key)
    known: dict[tuple[str, str], StoredResponse | None] = dict(
        session.info.get(IDEMPOTENCY_KEY, {})
    )
    connection = session.connection()
    for client, keys in by_client.items():
        for key in keys:
            known.setdefault((client, key), None)
        for found in connection.execute(_FIND_MANY, {"client": client, "keys": sorted(keys)}):
            known[(client, found.key)] = _stored(found)
    session.info[IDEMPOTENCY_KEY] = known


def replay(*, session: Session, client: str, key: str, request_hash: str) -> StoredResponse | None:
    """The stored response for this key, or None if the key is new.

    The same key with a different request is refused: the client reused a key
    by mistake, and silently returning the other response would hide that.
    Answered from what this transaction already read or stored for the key
    (:func:`prefetch`, :func:`remember`), else by one query.
    """
    known: dict[tuple[str, str], StoredResponse | None] = session.info.get(IDEMPOTENCY_KEY, {})
    if (client, key) in known:
        row = known[(client, key)]
    else:
        found = session.connection().execute(_FIND, {"client": client, "key": key}).first()
        row = None if found is None else _stored(found)
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


_INSERT = insert(table_of(IdempotencyRow))


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
    """Store the response for this key, in the write's own transaction.

    The row is inserted when the transaction commits, with those of the rest of
    its batch (:func:`~console.server.core.db.defer_insert`); a resend later in
    the same batch finds the answer in the transaction's own record of keys.
    """
    known: dict[tuple[str, str], StoredResponse | None] = session.info.get(IDEMPOTENCY_KEY, {})
    # A new dict, not changed in place: a request rolled back to its savepoint
    # gets the transaction's record back as it was (``GroupWriter``).
    session.info[IDEMPOTENCY_KEY] = {
        **known,
        (client, key): StoredResponse(request_hash, status_code, response, dict(headers)),
    }
    defer_insert(
        session,
        _INSERT,
        {
            "client": client,
            "key": key,
            "request_hash": request_hash,
            "status_code": status_code,
            "response": response,
            "headers": headers,
            "created_at": now,
        },
    )


_DELETE_ONE = delete(IdempotencyRow).where(
    IdempotencyRow.client == bindparam("c"),
    IdempotencyRow.key == bindparam("k"),
    IdempotencyRow.created_at < bindparam("before"),
)


def purge_expired(*, db: Database, before: datetime, batch_size: int = PURGE_BATCH) -> int:
    """Delete every key stored before ``before``; how many were deleted.

    Expired keys are found by a read on the ``created_at`` index, which never
    blocks writers, and deleted
    by primary key in batches of ``batch_size``, each its own short write
    transaction, so requests keep being served between batches. A key stored
    again (a new request with that key) between the read and the delete is
    younger than ``before`` and is kept. Blocking: call from a worker thread.
    """
    purged = 0
    while True:
        with db.read_session() as session:
            found = [
                (client, key)
                for client, key in session.execute(
                    select(IdempotencyRow.client, IdempotencyRow.key)
                    .where(IdempotencyRow.created_at < before)
                    .limit(batch_size)
                )
            ]
        if not found:
            return purged
        with db.write_session() as session:
            # One primary-key delete per key (an executemany): each is an index
            # lookup, so the writer lock is held for the batch's keys only and
            # never for a scan of the whole table.
            result = session.connection().execute(
                _DELETE_ONE, [{"c": client, "k": key, "before": before} for client, key in found]
            )
            session.commit()
        purged += result.rowcount
        if len(found) < batch_size:
            return purged


def purge_if_due(*, db: Database, now: datetime, retention_s: float) -> int:
    """Purge keys older than ``retention_s`` if this process has not done so for
    :data:`PURGE_EVERY`; how many were deleted (0 when not due).

    ``retention_s`` 0 (or less) keeps keys forever. Several ``serve`` processes
    on one database may each purge; the deletes are idempotent. A failed purge
    is not counted as done, so the next call tries again.
    """
    if retention_s <= 0:
        return 0
    with _last_purge_lock:
        last = _last_purge.get(db)
    # A clock set back (a test, an NTP step) must not stop purging for long.
    if last is not None and last <= now < last + PURGE_EVERY:
        return 0
    purged = purge_expired(db=db, before=now - timedelta(seconds=retention_s))
    with _last_purge_lock:
        _last_purge[db] = now
    if purged:
        log.info("purged %d expired Idempotency-Key(s)", purged)
    return purged
