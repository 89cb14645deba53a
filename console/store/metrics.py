"""The service-desk metrics over the local cache (RT backend, offline, no server history).

:func:`compute` answers in one grouped SQL statement over the cache's SQLite
file, the way the server does: each cached incident row carries its durations
in whole seconds, its SLA met flags and its escalated, reopened and CSAT marks
(kept by every write, see ``codec.METRIC_COLUMNS`` and ``codec.MARKS_SQL``),
so the statement reads one table, sums and counts per group, and packs each
group's durations into one text that :mod:`console.domain.metrics_packed`
ranks and measures in business hours. :func:`console.domain.metrics.assemble`
then gives the same shape and numbers ``GET /v1/metrics`` gives for the same
incidents. :func:`facts` derives the same facts one row per incident from the
record's times and the timeline itself, not from those columns: the
dashboard's charts and the plain-Python reference
(:func:`console.domain.metrics.report`) the tests hold both SQL paths to. Plain
Python and SQL: the CLI and the dashboard's worker thread both call these.
"""

from __future__ import annotations

import calendar
import sqlite3
from datetime import UTC, datetime
from typing import Any, NamedTuple

from console.domain import metrics as m
from console.domain import metrics_packed as mp
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
    "severity": "severity",
    "team": "assignment_group",
    "service": "service",
    "category": "category",
    "source": "source",
    "assignee": "assignee",
}
_PERIOD_KEYS = {
    # Whole days and (Monday) weeks since 1970, as the server counts them.
    "day": f"opened_s / {mp.DAY_S}",
    "week": f"(opened_s + {mp.WEEK_SHIFT_S}) / {mp.WEEK_S}",
    "month": "strftime('%Y-%m', substr(opened_at, 1, 19))",
}

# The ``m.COUNT_FIELDS`` and the packed durations of a group, from the columns
# every write keeps (``codec.METRIC_COLUMNS`` and the marks).
_FIGURES = """count(*), count(ack_s), count(fix_s),
    count(response_met), sum(response_met), count(resolution_met), sum(resolution_met),
    sum(fix_s IS NOT NULL AND escalated = 0), sum(fix_s IS NOT NULL AND reopened = 1),
    count(csat), sum(csat), sum(severity = 1),
    group_concat(ack_s), group_concat(opened_s || ',' || fix_s)"""
_WINDOW = "FROM incidents WHERE opened_at >= :start AND opened_at < :end"
# Per group and source.
_PACKED_SQL = f"SELECT {{key}}, source, {_FIGURES} {_WINDOW} GROUP BY 1, 2"
# Per week, severity, team, source and whether the operator holds it: every
# view of the dashboard adds some of these up (:func:`cells`).
_CELLS_SQL = f"""
SELECT {_PERIOD_KEYS["week"]}, severity, assignment_group, source, COALESCE(assignee = :me, 0),
    {_FIGURES} {_WINDOW} GROUP BY 1, 2, 3, 4, 5
"""


class Cell(NamedTuple):
    """The incidents of one week (its Monday), severity, team and source, and whether
    the operator holds them: their figures as :class:`console.domain.metrics_packed.Packed`."""

    week: str
    severity: str
    team: str | None
    source: str | None
    mine: bool
    packed: mp.Packed


def cells(cache: Cache, start: datetime, end: datetime, operator: str | None) -> list[Cell]:
    """The incidents opened in ``[start, end)``, one :class:`Cell` per combination."""
    rows = cache.read_rows(
        _CELLS_SQL, {"start": ts_text(start), "end": ts_text(end), "me": operator}
    )
    return [
        Cell(
            mp.period_number_text(int(r[0]), "week"),
            m.severity_code(int(r[1])),
            r[2],
            r[3],
            bool(r[4]),
            mp.Packed.from_row(r, 5),
        )
        for r in rows
    ]


def facts(cache: Cache, start: datetime, end: datetime) -> list[m.Facts]:
    """The facts of every cached incident opened in ``[start, end)``."""
    rows = cache.read_rows(_FACTS_SQL, {"start": ts_text(start), "end": ts_text(end)})
    make = m.Facts._make
    return [make(r) for r in rows]


def open_ages(cache: Cache, now: datetime) -> list[int]:
    """How long ago (whole seconds) each open incident was opened."""
    now_s = calendar.timegm(now.astimezone(UTC).utctimetuple())
    return [now_s - opened for (opened,) in cache.read_rows(_OPEN_SQL)]


def backlog_counts(cache: Cache, now: datetime) -> list[int]:
    """The open incidents per :data:`console.domain.metrics.BACKLOG_BUCKETS` bucket."""
    counts = [0] * len(m.BACKLOG_BUCKETS)
    for age in open_ages(cache, now):
        counts[m.bucket_index(age)] += 1
    return counts


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
    key = _PERIOD_KEYS[window.period] if window.group_by == "period" else _KEYS[window.group_by]
    rows = cache.read_rows(
        _PACKED_SQL.format(key=key), {"start": ts_text(window.start), "end": ts_text(window.end)}
    )
    groups, sources = mp.gather(
        (mp.key_text(window, row[0]), row[1], mp.Packed.from_row(row, 2)) for row in rows
    )
    return mp.packed_report(
        window,
        groups,
        sources,
        table=mp.calendar_table(business, window, now),
        backlog_counts=backlog_counts(cache, now),
        sev1_threshold=sev1_threshold,
    )
