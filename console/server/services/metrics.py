"""``GET /v1/metrics``: the service-desk metrics, computed in SQL (read-only).

Every figure is a grouped query over the window's incidents (found through the
index on ``opened_at``); nothing loads the incidents into Python. The
definitions and the conventions (whole seconds, nearest-rank percentiles,
rounding) are :mod:`console.domain.metrics`'s, which also computes the same
answer over the console's cache; the two are tested against each other.

The medians and p90s use ``ROW_NUMBER()`` over the durations of each group
(and over all of them, for the total) in one pass; means are sums and counts
divided here, the same division the cache path does.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
)
from sqlalchemy.orm import Session

from console.domain import metrics as m
from console.domain.lifecycle import State
from console.server.core.tables import IncidentRow, TimelineRow

_OPEN = [s.value for s in State if s.is_open]
# unixepoch() (SQLite 3.38+) is about twice as fast as strftime('%s') and the same.
_UNIXEPOCH = sqlite3.sqlite_version_info >= (3, 38)
# SQLite would otherwise walk the severity index to save the GROUP BY's sort,
# reading every incident rather than the window's.
_BY_OPENED = "INDEXED BY ix_incidents_opened_at"


def _epoch(column: Any, dialect: str) -> ColumnElement[int]:
    """Whole UTC seconds since 1970 of a timestamp column."""
    if dialect == "postgresql":
        return cast(func.extract("epoch", func.date_trunc("second", column)), BigInteger)
    # SQLite keeps times as text and rounds fractions to the millisecond when it
    # parses them (…:59.9996 would count as the next second): cut the text to
    # its whole second first. Stored text is UTC, "YYYY-MM-DD HH:MM:SS.ffffff".
    if _UNIXEPOCH:
        return func.unixepoch(func.substr(column, 1, 19))
    return cast(func.strftime("%s", func.substr(column, 1, 19)), Integer)


def _group_key(window: m.Window, dialect: str) -> Any:
    i = IncidentRow
    if window.group_by == "severity":
        return i.severity
    if window.group_by == "period":
        if dialect == "postgresql":
            utc = func.timezone("UTC", i.opened_at)
            if window.period == "month":
                return func.to_char(utc, "YYYY-MM")
            return func.to_char(func.date_trunc(window.period, utc), "YYYY-MM-DD")
        if window.period == "month":
            return func.strftime("%Y-%m", i.opened_at)
        if window.period == "week":
            return func.date(i.opened_at, "weekday 0", "-6 days")
        return func.date(i.opened_at)
    column = {
        "team": i.assignment_group,
        "service": i.service,
        "category": i.category,
        "source": i.source,
        "assignee": i.assignee,
    }[window.group_by]
    return column


def _in_window(window: m.Window) -> ColumnElement[bool]:
    return and_(IncidentRow.opened_at >= window.start, IncidentRow.opened_at < window.end)


def _csat_key(dialect: str) -> Any:
    """A CSAT entry as fixed-width UTC time text followed by its one-digit score.

    The greatest is the last score (two at the same instant: the higher), the
    same rule the cache path applies to its own text times.
    """
    t = TimelineRow
    score = t.data["score"].as_string()
    if dialect == "postgresql":
        at: Any = func.to_char(func.timezone("UTC", t.at), "YYYY-MM-DD HH24:MI:SS.US")
    else:
        # Stored as "YYYY-MM-DD HH:MM:SS.ffffff" (UTC), always the same width.
        at = cast(t.at, String)
    return func.max(case((t.kind == "csat", at.op("||", return_type=String())(score))))


def _flags(window: m.Window, dialect: str) -> Any:
    """Per incident of the window with such entries: escalated, reopened (0/1), the CSAT key.

    One grouped pass over the timeline entries of the window's incidents
    (through the index on ``(incident_id, kind)``) instead of two look-ups per
    incident.
    """
    t = TimelineRow
    escalated = or_(
        t.kind == "escalation",
        and_(t.kind == "assignment", t.data[("assignment_group", "from")].as_string().is_not(None)),
    )
    reopened = and_(t.kind == "state_change", t.data["to"].as_string() == State.REOPENED.value)
    return (
        select(
            t.incident_id.label("incident_id"),
            func.max(case((escalated, 1), else_=0)).label("escalated"),
            func.max(case((reopened, 1), else_=0)).label("reopened"),
            _csat_key(dialect).label("csat_key"),
        )
        .join(IncidentRow, IncidentRow.id == t.incident_id)
        .where(_in_window(window), t.kind.in_(("escalation", "assignment", "state_change", "csat")))
        .group_by(t.incident_id)
        .subquery()
    )


def _counts(window: m.Window, dialect: str) -> Select[Any]:
    i = IncidentRow
    resolved = i.resolved_at.is_not(None)
    acked = i.acknowledged_at.is_not(None)
    flags = _flags(window, dialect)
    last = flags.c.csat_key
    last_digit = func.right(last, 1) if dialect == "postgresql" else func.substr(last, -1)
    facts = (
        select(
            _group_key(window, dialect).label("k"),
            i.severity.label("severity"),
            i.acknowledged_at,
            i.resolved_at,
            case((and_(acked, i.response_due.is_not(None)), 1), else_=0).label("resp_n"),
            case((and_(acked, i.acknowledged_at <= i.response_due), 1), else_=0).label("resp_met"),
            case((and_(resolved, i.resolution_due.is_not(None)), 1), else_=0).label("res_n"),
            case((and_(resolved, i.resolved_at <= i.resolution_due), 1), else_=0).label("res_met"),
            case((and_(resolved, func.coalesce(flags.c.escalated, 0) == 0), 1), else_=0).label(
                "fcr"
            ),
            case((and_(resolved, flags.c.reopened == 1), 1), else_=0).label("reopened"),
            cast(last_digit, Integer).label("csat"),
        )
        .outerjoin(flags, flags.c.incident_id == i.id)
        .where(_in_window(window))
        .with_hint(i, _BY_OPENED, "sqlite")
        .cte("facts")
        .prefix_with("MATERIALIZED")
    )
    f = facts.c
    return select(
        f.k,
        func.count().label("count"),
        func.count(f.acknowledged_at).label("acknowledged"),
        func.count(f.resolved_at).label("resolved"),
        func.sum(f.resp_n).label("resp_n"),
        func.sum(f.resp_met).label("resp_met"),
        func.sum(f.res_n).label("res_n"),
        func.sum(f.res_met).label("res_met"),
        func.sum(f.fcr).label("fcr"),
        func.sum(f.reopened).label("reopened"),
        func.count(f.csat).label("csat_n"),
        func.sum(f.csat).label("csat_sum"),
        func.sum(case((f.severity == 1, 1), else_=0)).label("sev1"),
    ).group_by(f.k)


def _durations(window: m.Window, dialect: str, end: Any) -> Select[Any]:
    """Per group: the sum, median and p90 of ``end − opened_at``, and the total's too."""
    i = IncidentRow
    d = (_epoch(end, dialect) - _epoch(i.opened_at, dialect)).label("d")
    key = _group_key(window, dialect).label("k")
    ranked = (
        select(
            key,
            d,
            func.row_number().over(partition_by=key, order_by=d).label("rn"),
            func.count().over(partition_by=key).label("n"),
            func.row_number().over(order_by=d).label("rn_all"),
            func.count().over().label("n_all"),
        )
        .where(_in_window(window), end.is_not(None))
        .with_hint(i, _BY_OPENED, "sqlite")
        .subquery()
    )
    r = ranked.c
    return select(
        r.k,
        func.sum(r.d).label("total"),
        func.max(case((r.rn == (r.n + 1) // 2, r.d))).label("median"),
        func.max(case((r.rn == (9 * r.n + 9) // 10, r.d))).label("p90"),
        func.max(case((r.rn_all == (r.n_all + 1) // 2, r.d))).label("all_median"),
        func.max(case((r.rn_all == (9 * r.n_all + 9) // 10, r.d))).label("all_p90"),
    ).group_by(r.k)


def _sources(window: m.Window) -> Any:
    stmt = (
        select(IncidentRow.source, func.count())
        .where(_in_window(window))
        .group_by(IncidentRow.source)
    )
    return stmt


def _backlog(now: datetime) -> Select[Any]:
    """Open incidents by age bucket: an incident is in the oldest bucket its age reaches."""
    i = IncidentRow
    now = now.astimezone(UTC).replace(microsecond=0)
    whens = []
    for index, (_, lower) in reversed(list(enumerate(m.BACKLOG_BUCKETS))):
        if lower == 0:
            continue
        # age_s >= lower, in whole seconds: opened_s <= now_s − lower.
        whens.append((i.opened_at < now - timedelta(seconds=lower - 1), index))
    bucket = case(*whens, else_=0).label("bucket")
    return select(bucket, func.count()).where(i.state.in_(_OPEN)).group_by(bucket)


def _key_text(window: m.Window, key: Any) -> str | None:
    if key is None:
        return None
    if window.group_by == "severity":
        return m.severity_code(int(key))
    return str(key)


def _stats(total: Any, n: int, median: Any, p90: Any) -> dict[str, Any]:
    return {
        "mean": m.mean(int(total or 0), n),
        "median": None if median is None else int(median),
        "p90": None if p90 is None else int(p90),
    }


def compute(
    session: Session,
    window: m.Window,
    *,
    now: datetime,
    sev1_threshold: float = m.DEFAULT_SEV1_THRESHOLD,
) -> dict[str, Any]:
    """The answer of ``GET /v1/metrics`` (the shape :func:`console.domain.metrics.report` has)."""
    bind = session.get_bind()
    dialect = bind.dialect.name
    counts = session.execute(_counts(window, dialect)).all()
    acks = {
        row.k: row
        for row in session.execute(_durations(window, dialect, IncidentRow.acknowledged_at))
    }
    fixes = {
        row.k: row for row in session.execute(_durations(window, dialect, IncidentRow.resolved_at))
    }

    def group(key: Any, c: Any, ack: Any, fix: Any, *, whole: bool) -> dict[str, Any]:
        med, p90 = ("all_median", "all_p90") if whole else ("median", "p90")
        return {
            "key": _key_text(window, key),
            "count": int(c["count"]),
            "acknowledged": int(c["acknowledged"]),
            "resolved": int(c["resolved"]),
            "mtta_s": _stats(c["ack_total"], int(c["acknowledged"]), ack.get(med), ack.get(p90)),
            "mttr_s": _stats(c["fix_total"], int(c["resolved"]), fix.get(med), fix.get(p90)),
            "response_sla_met": m.share(int(c["resp_met"]), int(c["resp_n"])),
            "resolution_sla_met": m.share(int(c["res_met"]), int(c["res_n"])),
            "fcr": m.share(int(c["fcr"]), int(c["resolved"])),
            "reopen_rate": m.share(int(c["reopened"]), int(c["resolved"])),
            "csat": None
            if int(c["csat_n"]) == 0
            else round(int(c["csat_sum"]) / int(c["csat_n"]), 2),
        }

    fields = (
        "count", "acknowledged", "resolved", "resp_n", "resp_met", "res_n", "res_met",
        "fcr", "reopened", "csat_n", "csat_sum", "sev1",
    )  # fmt: skip
    totals: dict[str, Any] = dict.fromkeys((*fields, "ack_total", "fix_total"), 0)
    total_ack: dict[str, Any] = {}
    total_fix: dict[str, Any] = {}
    groups = []
    for row in counts:
        c = {name: int(getattr(row, name) or 0) for name in fields}
        ack, fix = acks.get(row.k), fixes.get(row.k)
        c["ack_total"] = int(ack.total) if ack is not None else 0
        c["fix_total"] = int(fix.total) if fix is not None else 0
        for name, value in c.items():
            totals[name] += value
        ack_map = ack._asdict() if ack is not None else {}
        fix_map = fix._asdict() if fix is not None else {}
        for target, source in ((total_ack, ack_map), (total_fix, fix_map)):
            for name in ("all_median", "all_p90"):
                if source.get(name) is not None:
                    target[name] = source[name]
        groups.append(group(row.k, c, ack_map, fix_map, whole=False))
    total = group(None, totals, total_ack, total_fix, whole=True)
    total.pop("key")

    ages = [0] * len(m.BACKLOG_BUCKETS)
    for row in session.execute(_backlog(now)):
        ages[int(row[0])] += int(row[1])
    sources = {row[0]: int(row[1]) for row in session.execute(_sources(window))}
    return {
        "from": window.start.isoformat().replace("+00:00", "Z"),
        "to": window.end.isoformat().replace("+00:00", "Z"),
        "group_by": window.group_by,
        "period": window.period,
        "groups": m.sort_groups(groups),
        "total": total,
        "backlog": [
            {"bucket": label, "count": n}
            for (label, _), n in zip(m.BACKLOG_BUCKETS, ages, strict=True)
        ],
        "sources": m.sources_summary(sources),
        "warnings": m.warnings_for(total, int(totals["sev1"]), sev1_threshold),
    }


__all__ = ["compute", "literal", "null"]
