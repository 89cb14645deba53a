"""``GET /v1/metrics``: the service-desk metrics, computed in SQL (read-only).

Every figure is a grouped query over the window's incidents (found through the
index on ``opened_at``); nothing loads the incidents into Python. The
definitions and the conventions (whole seconds, nearest-rank percentiles,
rounding) are :mod:`console.domain.metrics`'s, which also computes the same
answer over the console's cache; the two are tested against each other.

One statement reads the window once (a materialized CTE of each incident's
durations and 0/1 flags, the business-hours duration from the SLA calendar
as a per-UTC-day table) and groups it. The medians and p90s stay exact: on
PostgreSQL ``percentile_disc`` (the nearest rank) per group and, through
``GROUPING SETS``, for the total; on SQLite, which has no percentile
function, each group's durations counted per distinct second, read off in
:func:`console.domain.metrics.histogram_stats`.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    column,
    func,
    literal,
    null,
    or_,
    select,
    text,
    tuple_,
    union_all,
    values,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from console.domain import metrics as m
from console.domain.calendar import DEFAULT_CALENDAR, BusinessCalendar
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
        # date_part is double precision (EXTRACT is numeric, several times
        # slower); a whole second is exact in a double.
        return cast(func.date_part("epoch", func.date_trunc("second", column)), BigInteger)
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

    One grouped pass over the entries of those kinds written since the window
    began, joined to the window's incidents afterwards (rather than a look-up
    per incident, which on SQLite costs more than the pass). The server writes
    every entry at or after its incident's ``opened_at``; the day of slack
    covers a clock set back.
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
        .where(
            t.at >= window.start - timedelta(days=1),
            t.kind.in_(("escalation", "assignment", "state_change", "csat")),
        )
        .group_by(t.incident_id)
        .cte("flags")
        .prefix_with("MATERIALIZED")
    )


def _least(dialect: str, *args: Any) -> Any:
    return func.least(*args) if dialect == "postgresql" else func.min(*args)


def _greatest(dialect: str, *args: Any) -> Any:
    return func.greatest(*args) if dialect == "postgresql" else func.max(*args)


def _calendar_table(
    calendar: BusinessCalendar, window: m.Window, now: datetime
) -> tuple[Any, int, int]:
    """The SLA calendar per UTC day from the window's start to now (see ``m.business_days``)."""
    first = window.start_s // 86_400
    last = max(m.epoch_s(now), window.end_s) // 86_400 + 1
    names = ("day", "before", *(f"{x}{n}" for n in range(1, m.DAY_SEGMENTS + 1) for x in "se"))
    table = (
        values(*(column(name, BigInteger) for name in names), name="cal", literal_binds=True)
        .data(m.business_days(calendar, first, last))
        .cte("cal")
    )
    return table, first, last


def _worked_before(cal: Any, t: Any, dialect: str) -> Any:
    """Working time from the calendar table's first day to instant ``t`` (the row of its day)."""
    total = cal.c.before
    for n in range(1, m.DAY_SEGMENTS + 1):
        start, end = cal.c[f"s{n}"], cal.c[f"e{n}"]
        total = total + _greatest(dialect, literal(0), _least(dialect, t, end) - start)
    return total


def _facts(window: m.Window, dialect: str, calendar: BusinessCalendar, now: datetime) -> Any:
    """The window's incidents, one row each: group key, durations and 0/1 flags (a CTE).

    Gathered once (materialized) and then grouped several ways in the same
    statement, so the window is read once.
    """
    i = IncidentRow
    resolved = i.resolved_at.is_not(None)
    acked = i.acknowledged_at.is_not(None)
    flags = _flags(window, dialect)
    last = flags.c.csat_key
    last_digit = func.right(last, 1) if dialect == "postgresql" else func.substr(last, -1)
    opened_s = _epoch(i.opened_at, dialect)
    base = (
        select(
            cast(_group_key(window, dialect), String).label("k"),
            i.severity.label("severity"),
            i.source.label("source"),
            opened_s.label("opened_s"),
            (_epoch(i.acknowledged_at, dialect) - opened_s).label("ack"),
            _epoch(i.resolved_at, dialect).label("resolved_s"),
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
        .cte("base")
        # Each epoch once: PostgreSQL would otherwise inline it, once per use.
        .prefix_with("MATERIALIZED")
    )
    b = base.c
    cal, first, last_day = _calendar_table(calendar, window, now)
    at_open, at_fix = cal.alias("at_open"), cal.alias("at_fix")
    fix_day = case(
        (b.resolved_s < first * 86_400, first),
        (b.resolved_s >= (last_day + 1) * 86_400, last_day),
        else_=b.resolved_s.op("/")(86_400),
    )
    fix_s = b.resolved_s - b.opened_s
    worked = _worked_before(at_fix, b.resolved_s, dialect)
    business = case(
        # PostgreSQL's GREATEST skips nulls: say "not resolved" outright.
        (
            b.resolved_s.is_not(None),
            _greatest(dialect, literal(0), worked - _worked_before(at_open, b.opened_s, dialect)),
        ),
        else_=null(),
    )
    facts = (
        select(
            b.k,
            b.severity,
            b.source,
            b.ack,
            fix_s.label("fix"),
            business.label("fix_business"),
            b.resp_n,
            b.resp_met,
            b.res_n,
            b.res_met,
            b.fcr,
            b.reopened,
            b.csat,
        )
        .select_from(base)
        .outerjoin(at_open, at_open.c.day == b.opened_s.op("/")(86_400))
        .outerjoin(at_fix, and_(b.resolved_s.is_not(None), at_fix.c.day == fix_day))
        .cte("facts")
        .prefix_with("MATERIALIZED")
    )
    return facts


def _count_columns(f: Any) -> list[Any]:
    """The sums and counts of ``m.COUNT_FIELDS``, in that order."""
    return [
        func.count().label("count"),
        func.count(f.ack).label("acknowledged"),
        func.count(f.fix).label("resolved"),
        *(func.sum(f[name]).label(name) for name in m.COUNT_FIELDS[3:9]),
        func.count(f.csat).label("csat_n"),
        func.sum(f.csat).label("csat_sum"),
        func.sum(case((f.severity == 1, 1), else_=0)).label("sev1"),
    ]


def _sqlite_rows(facts: Any) -> Select[Any]:
    """The facts grouped four ways: ``part`` 0 the sums and counts per group, 1–3 the
    MTTA, MTTR and business-hours MTTR durations per group as ``(seconds, how many)``
    (SQLite has no percentile function; the medians are read off these), 4 the sources.
    """
    f = facts.c
    nothing = [null().label(name) for name in m.COUNT_FIELDS[1:]]
    counts = select(
        literal(0).label("part"),
        f.k,
        null().label("d"),
        *_count_columns(f),
    ).group_by(f.k)
    parts: list[Any] = [counts]
    for part, name in enumerate(m.DURATIONS, start=1):
        parts.append(
            select(literal(part), f.k, f[name], func.count(), *nothing)
            .where(f[name].is_not(None))
            .group_by(f.k, f[name])
        )
    parts.append(select(literal(4), f.source, null(), func.count(), *nothing).group_by(f.source))
    return union_all(*parts)  # type: ignore[return-value]


def _postgres_rows(facts: Any) -> Select[Any]:
    """The facts grouped per group, in total and per source, in one pass.

    ``percentile_disc`` is the nearest rank: the first value whose cumulative
    share reaches p, i.e. value number ceil(p·n) (in the same float arithmetic
    as :func:`console.domain.metrics.nearest_rank`, which agrees to 2·10⁶).
    """
    f = facts.c
    figures = []
    for name in m.DURATIONS:
        # Both percentiles from one sort.
        ranks = func.percentile_disc(postgresql.array([0.5, 0.9]), type_=ARRAY(BigInteger))
        figures += [
            func.sum(f[name]).label(f"{name}_sum"),
            ranks.within_group(f[name]).label(f"{name}_ranks"),
        ]
    return select(
        func.grouping(f.k).label("all_keys"),
        func.grouping(f.source).label("all_sources"),
        f.k,
        f.source,
        *_count_columns(f),
        *figures,
    ).group_by(func.grouping_sets(f.k, tuple_(), f.source))


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


def _sqlite_tallies(
    session: Session, facts: Any
) -> tuple[dict[Any, m.Tally], dict[str | None, int], m.Tally | None]:
    tallies, sources = m.read_parts(session.execute(_sqlite_rows(facts)))
    return tallies, sources, None


def _postgres_tallies(
    session: Session, facts: Any
) -> tuple[dict[Any, m.Tally], dict[str | None, int], m.Tally | None]:
    tallies: dict[Any, m.Tally] = {}
    sources: dict[str | None, int] = {}
    whole: m.Tally | None = None
    for row in session.execute(_postgres_rows(facts)):
        values = row._mapping
        if values["all_sources"] == 0:
            sources[values["source"]] = int(values["count"])
            continue
        counts = {name: int(values[name] or 0) for name in m.COUNT_FIELDS}
        stats: dict[str, dict[str, float | int | None]] = {}
        for name, n in zip(m.DURATIONS, ("acknowledged", "resolved", "resolved"), strict=True):
            median, p90 = values[f"{name}_ranks"] or (None, None)
            stats[name] = {
                "mean": m.mean(int(values[f"{name}_sum"] or 0), counts[n]),
                "median": None if median is None else int(median),
                "p90": None if p90 is None else int(p90),
            }
        tally = m.Tally(counts, {}, stats)
        if values["all_keys"] == 1:
            whole = tally
        else:
            tallies[values["k"]] = tally
    return tallies, sources, whole


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
    facts = _facts(window, dialect, calendar, now)
    if dialect == "postgresql":
        # One query over a quarter of a million rows: its sorts fit in memory
        # with a little more than the default, and compiling it (JIT) costs
        # more than it saves. For this transaction only.
        session.execute(text("SET LOCAL work_mem = '64MB'"))
        session.execute(text("SET LOCAL jit = off"))
    read = _postgres_tallies if dialect == "postgresql" else _sqlite_tallies
    tallies, sources, whole = read(session, facts)
    ages = [0] * len(m.BACKLOG_BUCKETS)
    for row in session.execute(_backlog(now)):
        ages[int(row[0])] += int(row[1])
    return m.assemble(
        window,
        {_key_text(window, k): t for k, t in tallies.items()},
        backlog_counts=ages,
        source_counts=sources,
        sev1_threshold=sev1_threshold,
        whole=whole,
    )
