"""``GET /v1/metrics``: the service-desk metrics, computed in SQL (read-only).

One grouped statement over the window's incidents (found through the index on
``opened_at``) reads the ``incidents`` table alone: every incident row carries
its durations in whole seconds and its escalated, reopened and CSAT marks
(schema version 2, kept by the writes; see ``console.server.core.migrations``).
Grouped by the key and the source, it sums and counts every figure in SQL and
packs each group's durations into one text, which
:mod:`console.domain.metrics_packed` ranks (exact nearest-rank medians
and p90s) and measures in business hours on the SLA calendar. The definitions
and conventions are :mod:`console.domain.metrics`'s, which computes the same
answer over the console's cache; the two are tested against each other.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Select,
    String,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    select,
    text,
)
from sqlalchemy.orm import Session

from console.domain import metrics as m
from console.domain import metrics_packed as mp
from console.domain.calendar import DEFAULT_CALENDAR, BusinessCalendar
from console.domain.lifecycle import State
from console.server.core.tables import IncidentRow

_OPEN = [s.value for s in State if s.is_open]


def _group_key(window: m.Window, dialect: str) -> Any:
    """The group of an incident; periods numbered as ``mp.key_text`` reads them, or ``YYYY-MM``."""
    i = IncidentRow
    if window.group_by == "period":
        # Integer division on both databases (SQLAlchemy's / would be true division).
        if window.period == "day":
            return i.opened_s.op("/")(mp.DAY_S)
        if window.period == "week":
            return (i.opened_s + mp.WEEK_SHIFT_S).self_group().op("/")(mp.WEEK_S)
        if dialect == "postgresql":
            return func.to_char(func.timezone("UTC", i.opened_at), "YYYY-MM")
        return func.strftime("%Y-%m", i.opened_at)
    return {
        "severity": i.severity,
        "team": i.assignment_group,
        "service": i.service,
        "category": i.category,
        "source": i.source,
        "assignee": i.assignee,
    }[window.group_by]


def _packed(column: Any, dialect: str) -> Any:
    """A group's values as one ``"412,96,…"`` text (nulls left out)."""
    if dialect == "postgresql":
        return func.string_agg(cast(column, Text), ",")
    return func.group_concat(column)


def _one(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _statement(window: m.Window, dialect: str) -> Select[Any]:
    """Per group and source: the ``m.COUNT_FIELDS``, then the packed durations."""
    i = IncidentRow
    resolved = i.fix_s.is_not(None)
    key = _group_key(window, dialect).label("k")
    fixes = cast(i.opened_s, String).op("||")(literal(",")).op("||")(cast(i.fix_s, String))
    return (
        select(
            key,
            i.source,
            func.count(),
            func.count(i.ack_s),
            func.count(i.fix_s),
            func.count(i.response_met),
            func.sum(i.response_met),
            func.count(i.resolution_met),
            func.sum(i.resolution_met),
            _one(and_(resolved, i.escalated == 0)),
            _one(and_(resolved, i.reopened == 1)),
            func.count(i.csat),
            func.sum(i.csat),
            _one(i.severity == 1),
            _packed(i.ack_s, dialect),
            _packed(fixes, dialect),
        )
        .where(i.opened_at >= window.start, i.opened_at < window.end)
        .group_by(key, i.source)
    )


def _backlog(now: datetime, dialect: str) -> Select[Any]:
    """Open incidents by age bucket: an incident is in the oldest bucket its age reaches."""
    i = IncidentRow
    is_open: Any = i.state.in_(_OPEN)
    if dialect == "sqlite":
        # SQLite's statistics say a state holds a fifth of the incidents; open
        # ones are a few percent, so tell it to use the index (0.03 s, not 0.6).
        is_open = func.unlikely(is_open)
    now = now.astimezone(UTC).replace(microsecond=0)
    whens = []
    for index, (_, lower) in reversed(list(enumerate(m.BACKLOG_BUCKETS))):
        if lower == 0:
            continue
        # age_s >= lower, in whole seconds: opened_s <= now_s − lower.
        whens.append((i.opened_at < now - timedelta(seconds=lower - 1), index))
    bucket = case(*whens, else_=0).label("bucket")
    return select(bucket, func.count()).where(is_open).group_by(bucket)


def compute(
    session: Session,
    window: m.Window,
    *,
    now: datetime,
    sev1_threshold: float = m.DEFAULT_SEV1_THRESHOLD,
    calendar: BusinessCalendar = DEFAULT_CALENDAR,
) -> dict[str, Any]:
    """The answer of ``GET /v1/metrics`` (the shape :func:`console.domain.metrics.report` has)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # The packed texts of a quarter of a million incidents fit in memory
        # with a little more than the default; compiling the query (JIT) costs
        # more than it saves. For this transaction only.
        session.execute(text("SET LOCAL work_mem = '64MB'"))
        session.execute(text("SET LOCAL jit = off"))
    groups, sources = mp.gather(
        (mp.key_text(window, row[0]), row[1], mp.Packed.from_row(row, 2))
        for row in session.execute(_statement(window, dialect))
    )
    ages = [0] * len(m.BACKLOG_BUCKETS)
    for bucket, n in session.execute(_backlog(now, dialect)):
        ages[int(bucket)] += int(n)
    return mp.packed_report(
        window,
        groups,
        sources,
        table=mp.calendar_table(calendar, window, now),
        backlog_counts=ages,
        sev1_threshold=sev1_threshold,
    )
