"""The service-desk metrics over the local cache (RT backend, offline, no server history).

This module reads the facts each metric needs straight from the cache's
SQLite file in one pass (whole seconds, SLA met flags, escalation, reopen and
CSAT from the timeline); :func:`console.domain.metrics.report` then computes
the answer, the same shape and numbers ``GET /v1/metrics`` gives for the same
incidents. Plain Python and SQL: the CLI and the dashboard's worker thread
both call :func:`compute`.
"""

from __future__ import annotations

import calendar
import sqlite3
from datetime import UTC, datetime
from typing import Any

from console.domain import metrics as m
from console.domain.lifecycle import State
from console.store.cache import Cache
from console.store.codec import ts_text

# unixepoch() (SQLite 3.38+) is about twice as fast as strftime('%s') and the same.
_EPOCH = (
    "unixepoch(substr({}, 1, 19))"
    if sqlite3.sqlite_version_info >= (3, 38)
    else "CAST(strftime('%s', substr({}, 1, 19)) AS INTEGER)"
)
_OPEN = ", ".join(f"'{s.value}'" for s in State if s.is_open)

# Times are cut to their whole second as text (the cache writes UTC,
# "YYYY-MM-DD HH:MM:SS[.ffffff]+00:00"): SQLite would round a fraction to the
# millisecond when parsing it, and …:59.9996 would count as the next second.
_FACTS_SQL = f"""
SELECT
    i.severity, i.assignment_group, i.service, i.category, i.source, i.assignee,
    {_EPOCH.format("i.opened_at")},
    {_EPOCH.format("i.acknowledged_at")},
    {_EPOCH.format("i.resolved_at")},
    CASE WHEN i.acknowledged_at IS NULL OR i.response_due IS NULL THEN NULL
         ELSE i.acknowledged_at <= i.response_due END,
    CASE WHEN i.resolved_at IS NULL OR i.resolution_due IS NULL THEN NULL
         ELSE i.resolved_at <= i.resolution_due END,
    COALESCE(f.escalated, 0),
    COALESCE(f.reopened, 0),
    f.csat,
    i.state IN ({_OPEN})
FROM incidents i
LEFT JOIN (
    -- One pass over the timeline entries that matter, rather than three
    -- look-ups per incident. The last CSAT score: the greatest "at || score"
    -- (times are UTC text that sorts in time order; a score is one digit).
    SELECT
        incident_id,
        MAX(kind = 'escalation' OR (
            kind = 'assignment'
            AND json_extract(data, '$.assignment_group.from') IS NOT NULL
        )) AS escalated,
        MAX(kind = 'state_change'
            AND json_extract(data, '$.to') = '{State.REOPENED.value}') AS reopened,
        CAST(substr(MAX(CASE WHEN kind = 'csat'
            THEN at || json_extract(data, '$.score') END), -1) AS INTEGER) AS csat
    FROM timeline
    WHERE kind IN ('escalation', 'assignment', 'state_change', 'csat')
    GROUP BY incident_id
) f ON f.incident_id = i.id
WHERE i.opened_at >= :start AND i.opened_at < :end
"""

_OPEN_SQL = f"""
SELECT {_EPOCH.format("opened_at")}
FROM incidents WHERE state IN ({_OPEN})
"""


def facts(cache: Cache, start: datetime, end: datetime) -> list[m.Facts]:
    """The facts of every cached incident opened in ``[start, end)``."""
    rows = cache.read_rows(_FACTS_SQL, {"start": ts_text(start), "end": ts_text(end)})
    make = m.Facts._make
    return [make(r) for r in rows]


def open_ages(cache: Cache, now: datetime) -> list[int]:
    """How long ago (whole seconds) each open incident was opened."""
    now_s = calendar.timegm(now.astimezone(UTC).utctimetuple())
    return [now_s - opened for (opened,) in cache.read_rows(_OPEN_SQL)]


def compute(
    cache: Cache,
    window: m.Window,
    *,
    now: datetime | None = None,
    sev1_threshold: float = m.DEFAULT_SEV1_THRESHOLD,
) -> dict[str, Any]:
    """The metrics of ``window`` over the cached incidents (the shape of ``GET /v1/metrics``)."""
    return m.report(
        window,
        in_window=facts(cache, window.start, window.end),
        open_ages_s=open_ages(cache, now or datetime.now(UTC)),
        sev1_threshold=sev1_threshold,
    )
