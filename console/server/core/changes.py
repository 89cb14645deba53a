"""The change log behind ``GET /v1/changes``: appended in the writer's transaction.

The guarantee: a reader that follows the feed from 0 sees every committed
change exactly once, in seq order, and never skips one, however many writers
commit at once.

Why it holds: every write transaction is serialised from its first statement to
its commit (``BEGIN IMMEDIATE`` on SQLite, a transaction-scoped advisory lock
on PostgreSQL, see ``db.py``), and a transaction's seqs are drawn while it holds
that serialisation. So transactions commit in seq order: when a reader sees
seq N committed, every lower seq is either committed too or belongs to a
transaction that rolled back and will never appear. A reader that pages with
``after=<last seen seq>`` therefore never passes over a row that commits later.
Gaps in the numbers (from rollbacks) are normal; clients must not expect
consecutive seqs.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from console.server.core.db import FEED_SEQ_KEY
from console.server.core.tables import ChangeRow, table_of
from console.wire import ChangeKindWire, ChangeOpWire

_INSERT = insert(table_of(ChangeRow))


def append(
    *,
    session: Session,
    kind: ChangeKindWire,
    entity_id: str,
    op: ChangeOpWire,
    data: dict[str, Any] | str | None,
    at: datetime,
    notify_channel: str | None = None,
) -> int:
    """Record a change in the current write transaction; returns its seq.

    ``data`` is the entity's wire JSON after the change (None for a delete), as
    a dict or as ready-made JSON text. The newest seq of the transaction is
    noted in ``Session.info``; on PostgreSQL the write session sends one NOTIFY
    carrying it just before the commit (``Database``), which the database
    delivers to every listening server process when, and only if, the
    transaction commits. ``notify_channel`` is kept for callers that name it;
    the channel is the database's own.
    """
    result = session.connection().execute(
        _INSERT,
        {
            "kind": kind,
            "entity_id": entity_id,
            "op": op,
            "data": data
            if data is None or isinstance(data, str)
            else json.dumps(data, separators=(",", ":"), default=str),
            "written_at": at,
        },
    )
    inserted = result.inserted_primary_key
    assert inserted is not None
    seq = int(inserted[0])
    session.info[FEED_SEQ_KEY] = max(seq, int(session.info.get(FEED_SEQ_KEY, 0)))
    return seq


def latest_seq(*, session: Session) -> int:
    """The newest committed seq (0 when the log is empty)."""
    return int(session.scalar(select(func.coalesce(func.max(ChangeRow.seq), 0))) or 0)


def page_json(*, session: Session, after: int, limit: int) -> tuple[str, int]:
    """One page of the feed as ready-made JSON (the ``ChangesPage`` shape) and its cursor.

    Built by hand because the stored ``data`` is already JSON: decoding and
    re-encoding 100k entities would dominate the time a catch-up takes.
    """
    rows = session.execute(
        select(ChangeRow.seq, ChangeRow.kind, ChangeRow.entity_id, ChangeRow.op, ChangeRow.data)
        .where(ChangeRow.seq > after)
        .order_by(ChangeRow.seq)
        .limit(limit + 1)
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = int(rows[-1].seq) if rows else after
    parts = [
        f'{{"seq":{seq},"kind":{json.dumps(kind)},"id":{json.dumps(entity_id)},'
        f'"op":{json.dumps(op)},"data":{data or "null"}}}'
        for seq, kind, entity_id, op, data in rows
    ]
    body = (
        f'{{"changes":[{",".join(parts)}],"cursor":{cursor},"more":{"true" if more else "false"}}}'
    )
    return body, cursor
