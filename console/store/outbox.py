"""The durable outbox: the operator's edits waiting to be sent to the backend.

An entry is written in the same SQLite transaction as the local change it
describes, so what the operator sees and what will be sent never disagree, and
a crash loses neither.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from console.store.codec import json_text
from console.store.errors import CacheError

# What the sync engine knows how to send.
OPERATIONS: tuple[str, ...] = (
    "create",
    "patch",
    "timeline",
    "engage",
    "status_update",
    # Post-incident reviews and problems (console/sync/review_edits.py).
    "record",
    "workaround",
)

# pending: waiting to be sent (also after a transient failure);
# sent: the backend accepted it; rejected: the backend refused it for good
# (kept so the operator can see what was refused, never retried);
# conflict: someone else changed the same fields first; the operator decides.
STATUSES: tuple[str, ...] = ("pending", "sent", "rejected", "conflict")

# Sent entries are kept a week: they tell what this console sent, e.g. when a
# later conflict or refusal is looked into. Older ones are purged a few at a
# time whenever another entry is marked sent (:meth:`Cache.mark_outbox_sent`).
# Age counts from when the edit was made (``created_at``). Pending, rejected
# and conflicting entries are never purged: they wait for the backend or the
# operator.
SENT_RETENTION = timedelta(days=7)

# At most this many old sent entries go per send, so marking an entry sent
# stays quick however many built up.
SENT_PURGE_BATCH = 100


def new_idempotency_key() -> str:
    """A fresh key, so a resend after a lost reply is not applied twice."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class OutboxEntry:
    """One edit to send: what to do, to which incident, from which version."""

    operation: str
    incident_id: str
    payload: dict[str, object]
    base_version: int | None
    idempotency_key: str = field(default_factory=new_idempotency_key)

    def __post_init__(self) -> None:
        if self.operation not in OPERATIONS:
            raise CacheError(
                f"outbox operation {self.operation!r} is not allowed; "
                f"use one of {', '.join(OPERATIONS)}"
            )
        if not isinstance(self.incident_id, str) or not self.incident_id:
            raise CacheError(f"outbox entry needs an incident id, got {self.incident_id!r}")
        if not isinstance(self.payload, dict):
            raise CacheError(
                f"outbox payload must be a dict of JSON values, got {type(self.payload).__name__}"
            )
        json_text(self.payload, "the outbox payload")
        if self.base_version is not None and (
            isinstance(self.base_version, bool)
            or not isinstance(self.base_version, int)
            or self.base_version < 1
        ):
            raise CacheError(
                f"outbox base_version {self.base_version!r} is not allowed; "
                "use None (for a create) or the incident version the edit started from (1 or more)"
            )
        if not isinstance(self.idempotency_key, str) or not self.idempotency_key:
            raise CacheError("outbox entry needs a non-empty idempotency key")


@dataclass(frozen=True)
class OutboxRecord:
    """An outbox entry as stored, with its delivery state."""

    id: int
    operation: str
    incident_id: str
    payload: dict[str, object]
    base_version: int | None
    idempotency_key: str
    created_at: datetime
    status: str
    attempts: int
    last_error: str | None

    @property
    def entry(self) -> OutboxEntry:
        """The entry as it was queued (for resending)."""
        return OutboxEntry(
            operation=self.operation,
            incident_id=self.incident_id,
            payload=self.payload,
            base_version=self.base_version,
            idempotency_key=self.idempotency_key,
        )
