"""The service-desk metrics over the local cache (RT backend, offline, no server history).

:func:`compute` answers in one SQL statement over the cache's SQLite file, the
way the server does on SQLite: the window's incidents are read once (whole
seconds, SLA met flags, escalation, reopen and CSAT from the timeline, the
business-hours duration from the SLA calendar) and grouped into every group's
sums and counts and its durations as ``(seconds, how many)``;
:func:`console.domain.metrics.assemble` then gives the answer, the same shape
and numbers ``GET /v1/metrics`` gives for the same incidents. :func:`facts`
reads the same facts one row per incident, for the dashboard's charts and as
the plain-Python reference (:func:`console.domain.metrics.report`). Plain
Python and SQL: the CLI and the dashboard's worker thread both call these.
"""

from __future__ import annotations

import calendar
import sqlite3
from datetime import UTC, datetime
from typing import Any

from console.domain import metrics as m
from console.domain.calendar import DEFAULT_CALENDAR, BusinessCalendar
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

# One pass over the timeline entries that matter, rather than three look-ups
# per incident. The last CSAT score: the greatest "at || score" (times are UTC
# text that sorts in time order; a score is one digit).
_FLAGS_SQL = f"""
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
    FROM timeline NOT INDEXED  -- table order, sorted once: half the cost of an index walk
    WHERE kind IN ('escalation', 'assignment', 'state_change', 'csat')
    GROUP BY incident_id
"""

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
LEFT JOIN ({_FLAGS_SQL}) f ON f.incident_id = i.id
WHERE i.opened_at >= :start AND i.opened_at < :end
"""

_OPEN_SQL = f"""
SELECT {_EPOCH.format("opened_at")}
FROM incidents WHERE state IN ({_OPEN})
"""

_KEYS = {
    "severity": "CAST(i.severity AS TEXT)",
    "team": "i.assignment_group",
    "service": "i.service",
    "category": "i.category",
    "source": "i.source",
    "assignee": "i.assignee",
}
_PERIOD_KEYS = {
    "day": "date(substr(i.opened_at, 1, 19))",
    "week": "date(substr(i.opened_at, 1, 19), 'weekday 0', '-6 days')",
    "month": "strftime('%Y-%m', substr(i.opened_at, 1, 19))",
}


def _worked_before(cal: str, t: str) -> str:
    pieces = " + ".join(
        f"max(0, min({t}, {cal}.e{n}) - {cal}.s{n})" for n in range(1, m.DAY_SEGMENTS + 1)
    )
    return f"{cal}.before + {pieces}"


def _parts_sql(window: m.Window, business: BusinessCalendar, now: datetime) -> str:
    """One row per incident of the window: its group key and the figures' inputs."""
    key = _PERIOD_KEYS[window.period] if window.group_by == "period" else _KEYS[window.group_by]
    first = window.start_s // 86_400
    last = max(m.epoch_s(now), window.end_s) // 86_400 + 1
    days = ", ".join(
        "(" + ", ".join(str(int(x)) for x in row) + ")"
        for row in m.business_days(business, first, last)
    )
    cal_columns = ", ".join(
        ["day", "before"] + [f"{x}{n}" for n in range(1, m.DAY_SEGMENTS + 1) for x in "se"]
    )
    return f"""
WITH flags AS MATERIALIZED ({_FLAGS_SQL}),
cal({cal_columns}) AS MATERIALIZED (VALUES {days}),
base AS MATERIALIZED (
    SELECT
        {key} AS k, i.severity AS severity, i.source AS source,
        {_EPOCH.format("i.opened_at")} AS opened_s,
        {_EPOCH.format("i.acknowledged_at")} - {_EPOCH.format("i.opened_at")} AS ack,
        {_EPOCH.format("i.resolved_at")} AS resolved_s,
        i.acknowledged_at IS NOT NULL AND i.response_due IS NOT NULL AS resp_n,
        COALESCE(i.acknowledged_at <= i.response_due, 0) AS resp_met,
        i.resolved_at IS NOT NULL AND i.resolution_due IS NOT NULL AS res_n,
        COALESCE(i.resolved_at <= i.resolution_due, 0) AS res_met,
        i.resolved_at IS NOT NULL AND COALESCE(f.escalated, 0) = 0 AS fcr,
        i.resolved_at IS NOT NULL AND COALESCE(f.reopened, 0) = 1 AS reopened,
        f.csat AS csat
    FROM incidents i
    LEFT JOIN flags f ON f.incident_id = i.id
    WHERE i.opened_at >= :start AND i.opened_at < :end
),
facts AS (
    SELECT
        b.k, b.severity, b.source, b.ack, b.resolved_s - b.opened_s AS fix,
        CASE WHEN b.resolved_s IS NOT NULL THEN max(0,
            ({_worked_before("r", "b.resolved_s")}) - ({_worked_before("o", "b.opened_s")}))
        END AS fix_business,
        b.resp_n, b.resp_met, b.res_n, b.res_met, b.fcr, b.reopened, b.csat
    FROM base b
    LEFT JOIN cal o ON o.day = b.opened_s / 86400
    LEFT JOIN cal r ON b.resolved_s IS NOT NULL AND r.day = CASE
        WHEN b.resolved_s < {first * 86_400} THEN {first}
        WHEN b.resolved_s >= {(last + 1) * 86_400} THEN {last}
        ELSE b.resolved_s / 86400 END
)
SELECT k, severity, source, ack, fix, fix_business, resp_n, resp_met, res_n, res_met,
    fcr, reopened, csat
FROM facts
"""


def _tally(
    rows: list[tuple[Any, ...]],
) -> tuple[dict[Any, m.Tally], dict[str | None, int]]:
    """Every group's tally, and the incidents per source, from the rows of the window.

    A tight loop over plain tuples (the heavy lifting, times and the calendar,
    was done in SQL): 100k rows in a small fraction of the query's time.
    """
    tallies: dict[Any, m.Tally] = {}
    sources: dict[str | None, int] = {}
    names = m.COUNT_FIELDS
    sums: dict[Any, list[int]] = {}
    for k, sev, src, ack, fix, business, resp_n, resp_met, res_n, res_met, fcr, reo, csat in rows:
        tally = tallies.get(k)
        if tally is None:
            tally = tallies[k] = m.Tally.empty()
            sums[k] = [0] * len(names)
        c = sums[k]
        c[0] += 1
        c[11] += sev == 1
        sources[src] = sources.get(src, 0) + 1
        d = tally.durations
        if ack is not None:
            c[1] += 1
            h = d["ack"]
            h[ack] = h.get(ack, 0) + 1
        if fix is not None:
            c[2] += 1
            h = d["fix"]
            h[fix] = h.get(fix, 0) + 1
            h = d["fix_business"]
            h[business] = h.get(business, 0) + 1
        c[3] += resp_n
        c[4] += resp_met
        c[5] += res_n
        c[6] += res_met
        c[7] += fcr
        c[8] += reo
        if csat is not None:
            c[9] += 1
            c[10] += csat
    for k, tally in tallies.items():
        tally.counts = dict(zip(names, sums[k], strict=True))
    return tallies, sources


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
    business: BusinessCalendar = DEFAULT_CALENDAR,
) -> dict[str, Any]:
    """The metrics of ``window`` over the cached incidents (the shape of ``GET /v1/metrics``).

    ``business`` is the SLA calendar the business-hours MTTR is measured on.
    """
    now = now or datetime.now(UTC)
    rows = cache.read_rows(
        _parts_sql(window, business, now),
        {"start": ts_text(window.start), "end": ts_text(window.end)},
    )
    tallies, sources = _tally(rows)
    counts = [0] * len(m.BACKLOG_BUCKETS)
    for age in open_ages(cache, now):
        counts[m.bucket_index(age)] += 1
    keyed = {
        (m.severity_code(int(k)) if window.group_by == "severity" and k is not None else k): t
        for k, t in tallies.items()
    }
    return m.assemble(
        window,
        keyed,
        backlog_counts=counts,
        source_counts=sources,
        sev1_threshold=sev1_threshold,
    )
