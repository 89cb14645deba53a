"""Service-desk metrics: their exact definitions, and the computation over incident facts.

The words in :data:`DEFINITIONS` are the definitions; docs/metrics.md quotes
them and the dashboard shows them as tooltips. Two paths compute the same
numbers: the server in SQL (``console.server.services.metrics``) and the
console over its local cache (``console.store.metrics``). Both reduce each
group to a :class:`Tally` (sums, counts, and the durations' figures) and
:func:`assemble` turns tallies into the answer; :func:`report`
does the whole computation in plain Python over :class:`Facts`, the
reference. ``tests/server/services/test_metrics_parity.py`` runs all three on
the same incidents and compares the answers field by field.

Conventions both paths share, so they agree to the second:

* Durations are whole seconds: each timestamp is cut to its second (UTC)
  before subtracting.
* Median and p90 are *nearest-rank* percentiles: of ``n`` sorted values, the
  median is value number ``ceil(n/2)`` and p90 value number ``ceil(0.9·n)``
  (1-based). Means are rounded to 0.1 s, shares to 4 decimals.
* Periods are UTC calendar days, ISO weeks (keyed by their Monday,
  ``2026-11-30``) and months (``2026-11``).

How the SQL paths stay fast (≤ 1 s over a quarter of a million incidents):
each incident row carries its durations in whole seconds and the three
timeline facts (escalated, reopened, last CSAT score; :func:`entry_marks`),
kept up to date by the writes that change them, so one grouped statement
reads one table. It sums and counts in SQL and hands each group's durations
back as one packed text (``"412,96,…"``); :mod:`console.domain.metrics_packed` ranks them and
counts the business hours with numpy. A database sort per duration
(``GROUP BY`` the seconds) costs SQLite about 0.5 µs a row, three times the
whole statement.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple

from console.domain.calendar import DEFAULT_CALENDAR, BusinessCalendar

GROUP_BYS = ("severity", "team", "service", "category", "source", "assignee", "period")
PERIODS = ("day", "week", "month")
# The longest window one request may ask for: a year and a day covers a yearly
# review across a leap year; anything longer is almost always a typo.
MAX_WINDOW = timedelta(days=366)
DEFAULT_SEV1_THRESHOLD = 0.10
# Sources a person reported (the rest were detected by monitoring).
MONITORING_SOURCES = frozenset({"monitoring"})
# Open-backlog age buckets: (label, lower bound inclusive in seconds).
BACKLOG_BUCKETS: tuple[tuple[str, int], ...] = (
    ("< 1 day", 0),
    ("1–3 days", 86_400),
    ("3–7 days", 3 * 86_400),
    ("7–30 days", 7 * 86_400),
    ("> 30 days", 30 * 86_400),
)

DEFINITIONS: Mapping[str, str] = {
    "window": (
        "The window selects incidents by when they were opened: opened_at in [from, to), "
        "in UTC. Every figure except the backlog is over the incidents in the window."
    ),
    "count": "Incidents opened in the window.",
    "acknowledged": "Incidents in the window with an acknowledgement (acknowledged_at set).",
    "resolved": (
        "Incidents in the window that are resolved or closed (resolved_at set); a reopened "
        "incident counts again only once it is resolved again."
    ),
    "mtta_s": (
        "Mean time to acknowledge: acknowledged_at − opened_at in seconds over the acknowledged "
        "incidents; mean, median and p90 (nearest rank), wall-clock."
    ),
    "mttr_s": (
        "Mean time to resolve: resolved_at − opened_at in seconds over the resolved incidents; "
        "mean, median and p90 (nearest rank), wall-clock (time on hold included)."
    ),
    "mttr_business_s": (
        "Mean time to resolve in business hours: the working time of the SLA calendar (its "
        "working days, hours, holidays and time zone) between opened_at and resolved_at, in "
        "seconds, over the resolved incidents; mean, median and p90 (nearest rank), time on "
        "hold included."
    ),
    "response_sla_met": (
        "Response SLA compliance: share of acknowledged incidents that have a response due time "
        "and were acknowledged at or before it, as the SLA clock computed it (its business "
        "hours and holds included)."
    ),
    "resolution_sla_met": (
        "Resolution SLA compliance: share of resolved incidents that have a resolution due time "
        "and were resolved at or before it, as the SLA clock computed it (its business hours "
        "and paused time on hold included)."
    ),
    "fcr": (
        "First-contact resolution: share of resolved incidents never escalated to another "
        "group or tier — no escalation on the timeline (functional, hierarchical, major) and "
        "no reassignment away from a group that already held it."
    ),
    "reopen_rate": "Share of resolved incidents that were reopened at least once.",
    "csat": (
        "Customer satisfaction: mean score (1–5) of the incidents in the window that have one; "
        "an incident's score is the last one recorded on it (at resolution or closure)."
    ),
    "backlog": (
        "Open incidents now (any state before resolved, whenever opened), by how long ago "
        "they were opened."
    ),
    "sources": (
        "User-reported (phone, e-mail, chat, portal) against monitoring-detected incidents in "
        "the window; ratio = user-reported ÷ monitoring-detected."
    ),
    "sev1_share": (
        "Share of the window's incidents at SEV-1. Above the threshold (default 10 %) the "
        "severity definitions probably need recalibrating."
    ),
}


class MetricsInputError(ValueError):
    """A metrics request that cannot be answered (the message says what to change)."""


@dataclass(frozen=True)
class Window:
    """A checked request: the window, the grouping and the period."""

    start: datetime
    end: datetime
    group_by: str
    period: str

    @property
    def start_s(self) -> int:
        return epoch_s(self.start)

    @property
    def end_s(self) -> int:
        return epoch_s(self.end)


def parse_instant(name: str, text: str) -> datetime:
    """A date (midnight UTC) or an ISO timestamp (UTC when it names no zone)."""
    value = text.strip()
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(), UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MetricsInputError(
            f"{name}: {text!r} is not a date; use YYYY-MM-DD or an ISO timestamp"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def make_window(
    start: datetime | str,
    end: datetime | str,
    group_by: str = "severity",
    period: str = "week",
) -> Window:
    """Check a request; :class:`MetricsInputError` names what is wrong."""
    first = parse_instant("from", start) if isinstance(start, str) else start.astimezone(UTC)
    last = parse_instant("to", end) if isinstance(end, str) else end.astimezone(UTC)
    if group_by not in GROUP_BYS:
        raise MetricsInputError(
            f"group_by: {group_by!r} is not known; choose one of {', '.join(GROUP_BYS)}"
        )
    if period not in PERIODS:
        raise MetricsInputError(f"period: {period!r} is not known; choose one of day, week, month")
    if first >= last:
        raise MetricsInputError("from must be before to (the window is [from, to))")
    if last - first > MAX_WINDOW:
        raise MetricsInputError(
            f"the window is {(last - first).days} days; at most {MAX_WINDOW.days} days per request"
        )
    if first.year < 1971 or last.year > 9998:
        raise MetricsInputError("from and to must be between 1971 and 9998")
    return Window(first, last, group_by, period)


def epoch_s(value: datetime) -> int:
    """Whole UTC seconds since 1970 (the timestamp cut to its second)."""
    return calendar.timegm(value.astimezone(UTC).utctimetuple())


def period_key(opened_s: int, period: str) -> str:
    """The period an instant falls in: ``2026-11-30`` (day or week's Monday) or ``2026-11``."""
    day = datetime.fromtimestamp(opened_s, UTC).date()
    if period == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if period == "week":
        day -= timedelta(days=day.weekday())
    return day.isoformat()


class Facts(NamedTuple):
    """What the metrics need of one incident (timestamps as whole UTC seconds).

    A named tuple, so a cache row becomes one with no conversion
    (``Facts._make(row)``): at 100k incidents that is most of the cost.
    The flags are 1 / 0 (``response_met`` and ``resolution_met`` None when
    there is no due time, or the incident is not acknowledged / resolved).
    """

    severity: int
    team: str | None
    service: str | None
    category: str | None
    source: str | None
    assignee: str | None
    opened_s: int
    acknowledged_s: int | None
    resolved_s: int | None
    response_met: int | None
    resolution_met: int | None
    escalated: int
    reopened: int
    csat: int | None
    is_open: int


def severity_code(value: int) -> str:
    return f"SEV-{value}"


def _key(facts: Facts, window: Window) -> str | None:
    if window.group_by == "severity":
        return severity_code(facts.severity)
    if window.group_by == "period":
        return period_key(facts.opened_s, window.period)
    value: str | None = getattr(facts, window.group_by)
    return value


def nearest_rank(sorted_values: Sequence[int], p: float) -> int | None:
    """The nearest-rank percentile: value number ceil(p·n) of the sorted values (1-based)."""
    if not sorted_values:
        return None
    return sorted_values[rank(len(sorted_values), p) - 1]


def share(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def mean(total: float, n: int) -> float | None:
    return None if n == 0 else round(total / n, 1)


def stats(durations: list[int]) -> dict[str, float | int | None]:
    durations.sort()
    return {
        "mean": mean(sum(durations), len(durations)),
        "median": nearest_rank(durations, 0.5),
        "p90": nearest_rank(durations, 0.9),
    }


def rank(n: int, p: float) -> int:
    """The nearest rank of ``p`` among ``n`` sorted values: ceil(p·n), 1-based."""
    return max(1, math.ceil(round(p * n, 9)))


# The sums and counts a group's figures are made of (the SQL paths' column names).
COUNT_FIELDS = (
    "count", "acknowledged", "resolved", "resp_n", "resp_met", "res_n", "res_met",
    "fcr", "reopened", "csat_n", "csat_sum", "sev1",
)  # fmt: skip
DURATIONS = ("ack", "fix", "fix_business")


@dataclass
class Tally:
    """One group's sums and counts, and its durations as ``{seconds: how many}``.

    The plain-Python reference (:func:`tally_facts`) counts durations so;
    :func:`figures` turns a tally into the group's answer and :func:`merge`
    adds groups up for the total, so the total's medians are exact too.
    """

    counts: dict[str, int]
    durations: dict[str, dict[int, int]]
    # Or the figures themselves, as the SQL paths rank them from their packed
    # durations (``metrics_packed.packed_tally``): {"ack": {"mean", "median", "p90"}, …}.
    stats: dict[str, dict[str, float | int | None]] | None = None

    @classmethod
    def empty(cls) -> Tally:
        return cls(dict.fromkeys(COUNT_FIELDS, 0), {name: {} for name in DURATIONS})

    def add_duration(self, name: str, seconds: int, n: int = 1) -> None:
        histogram = self.durations[name]
        histogram[seconds] = histogram.get(seconds, 0) + n


def merge(tallies: Iterable[Tally]) -> Tally:
    """The tally of several groups together."""
    whole = Tally.empty()
    for tally in tallies:
        for name, value in tally.counts.items():
            whole.counts[name] += value
        for name, histogram in tally.durations.items():
            target = whole.durations[name]
            for seconds, n in histogram.items():
                target[seconds] = target.get(seconds, 0) + n
    return whole


def figures(key: str | None, tally: Tally) -> dict[str, Any]:
    """A group's answer (the ``groups`` entries of ``GET /v1/metrics``) from its tally."""
    c = tally.counts
    if tally.stats is None:
        ack, fix, business = (histogram_stats(tally.durations[name]) for name in DURATIONS)
    else:
        ack, fix, business = (tally.stats[name] for name in DURATIONS)
    return {
        "key": key,
        "count": c["count"],
        "acknowledged": c["acknowledged"],
        "resolved": c["resolved"],
        "mtta_s": ack,
        "mttr_s": fix,
        "mttr_business_s": business,
        "response_sla_met": share(c["resp_met"], c["resp_n"]),
        "resolution_sla_met": share(c["res_met"], c["res_n"]),
        "fcr": share(c["fcr"], c["resolved"]),
        "reopen_rate": share(c["reopened"], c["resolved"]),
        "csat": None if c["csat_n"] == 0 else round(c["csat_sum"] / c["csat_n"], 2),
    }


def business_seconds(calendar: BusinessCalendar, start_s: int, end_s: int) -> int:
    """Working time of ``calendar`` from ``start_s`` to ``end_s``, whole seconds (0 if before)."""
    return calendar.work_between(start_s * 1_000_000, end_s * 1_000_000) // 1_000_000


# Working-time pieces per UTC day in the SQL calendar table (a UTC day meets
# at most three local working days: a short local day between two others).
DAY_SEGMENTS = 3


def business_days(
    calendar: BusinessCalendar, first_day: int, last_day: int
) -> list[tuple[int, ...]]:
    """The calendar as a table the SQL paths join on, one row per UTC day.

    Rows are ``(day, before, s1, e1, s2, e2, s3, e3)`` for the UTC days
    ``first_day``…``last_day`` (days since 1970): ``before`` is the working
    time from the start of ``first_day`` to the start of this day, and
    ``s``–``e`` the day's working hours in epoch seconds (unused pieces
    ``0, 0``). The working time before an instant ``t`` of the day is then
    ``before + Σ max(0, min(t, e) − s)``, and an incident's business-hours
    duration the difference of two such values: plain arithmetic SQL can do.
    """
    pieces: dict[int, list[tuple[int, int]]] = {}
    local = datetime.fromtimestamp(first_day * 86_400, UTC).date() - timedelta(days=1)
    last_local = datetime.fromtimestamp(last_day * 86_400, UTC).date() + timedelta(days=1)
    while local <= last_local:
        hours = calendar.working_hours(local)
        local += timedelta(days=1)
        if hours is None:
            continue
        start, end = epoch_s(hours[0]), epoch_s(hours[1])
        while start < end:
            day = start // 86_400
            cut = min(end, (day + 1) * 86_400)
            if first_day <= day <= last_day:
                pieces.setdefault(day, []).append((start, cut))
            start = cut
    rows: list[tuple[int, ...]] = []
    before = 0
    for day in range(first_day, last_day + 1):
        found = pieces.get(day, [])
        if len(found) > DAY_SEGMENTS:  # pragma: no cover - impossible for day-long hours
            raise ValueError(f"UTC day {day} has {len(found)} working periods")
        flat = [x for piece in found for x in piece]
        flat += [0] * (2 * DAY_SEGMENTS - len(flat))
        rows.append((day, before, *flat))
        before += sum(e - s for s, e in found)
    return rows


def entry_marks(kind: str, data: Mapping[str, Any] | None) -> tuple[bool, bool, int | None]:
    """What one timeline entry means for the metrics: (escalated, reopened, CSAT score).

    Escalated: an escalation entry (functional, hierarchical, a major incident
    declared) or a reassignment away from a group (``assignment_group.from``
    set; routing a new incident is not one). Reopened: a state change to
    reopened. The score of a ``csat`` entry. The rows' ``escalated``,
    ``reopened`` and ``csat`` columns keep these (the last score by time, the
    higher of two at the same instant).
    """
    data = data or {}
    if kind == "escalation":
        return True, False, None
    if kind == "assignment":
        moved = data.get("assignment_group")
        return isinstance(moved, Mapping) and moved.get("from") is not None, False, None
    if kind == "state_change":
        return False, data.get("to") == "reopened", None
    if kind == "csat":
        score = data.get("score")
        return False, False, score if isinstance(score, int) and 1 <= score <= 5 else None
    return False, False, None


# Kinds :func:`entry_marks` reads (the rest never mark an incident).
MARKING_KINDS = ("escalation", "assignment", "state_change", "csat")


def histogram_stats(histogram: Mapping[int, int]) -> dict[str, float | int | None]:
    """Mean, median and p90 of durations given as ``{seconds: how many}`` (exact).

    The same nearest-rank figures :func:`stats` gives over the list of values:
    durations are whole seconds, so counting each distinct second loses nothing.
    """
    n = sum(histogram.values())
    if n == 0:
        return {"mean": None, "median": None, "p90": None}
    total = sum(d * c for d, c in histogram.items())
    r50, r90 = rank(n, 0.5), rank(n, 0.9)
    median: int | None = None
    p90: int | None = None
    seen = 0
    for d in sorted(histogram):
        seen += histogram[d]
        if median is None and seen >= r50:
            median = d
        if seen >= r90:
            p90 = d
            break
    return {"mean": mean(total, n), "median": median, "p90": p90}


def sort_groups(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Groups in key order; the group without a key (unassigned, no category) last."""
    return sorted(groups, key=lambda g: (g["key"] is None, g["key"] or ""))


def bucket_index(age_s: int) -> int:
    """The oldest backlog bucket an age (in seconds) reaches."""
    index = 0
    for i, (_, lower) in enumerate(BACKLOG_BUCKETS):
        if age_s >= lower:
            index = i
    return index


def backlog(open_ages_s: Iterable[int]) -> list[dict[str, Any]]:
    """Open incidents by age bucket (every bucket, empty ones with 0)."""
    counts = [0] * len(BACKLOG_BUCKETS)
    for age in open_ages_s:
        counts[bucket_index(age)] += 1
    return [
        {"bucket": label, "count": n} for (label, _), n in zip(BACKLOG_BUCKETS, counts, strict=True)
    ]


def sources_summary(source_counts: Mapping[str | None, int]) -> dict[str, Any]:
    monitoring = sum(n for s, n in source_counts.items() if s in MONITORING_SOURCES)
    user = sum(n for s, n in source_counts.items() if s not in MONITORING_SOURCES)
    return {
        "user_reported": user,
        "monitoring": monitoring,
        "ratio": None if monitoring == 0 else round(user / monitoring, 4),
    }


def warnings_for(total: Mapping[str, Any], sev1: int, threshold: float) -> list[dict[str, Any]]:
    """The health checks: today, the SEV-1 share against its threshold."""
    count = int(total["count"])
    if count == 0:
        return []
    value = sev1 / count
    if value <= threshold:
        return []
    return [
        {
            "code": "sev1_share",
            "value": round(value, 4),
            "threshold": threshold,
            "message": (
                f"{value:.1%} of the incidents in the window are SEV-1 (threshold "
                f"{threshold:.0%}): the severity definitions probably need recalibrating"
            ),
        }
    ]


def tally_facts(rows: Iterable[Facts], calendar: BusinessCalendar | None) -> Tally:
    """The tally of some incidents' facts, in plain Python (the reference of the SQL paths).

    The business-hours durations only with a ``calendar`` (they cost a calendar
    look-up per resolved incident); without one ``mttr_business_s`` is null.
    """
    t = Tally.empty()
    c = t.counts
    for f in rows:
        c["count"] += 1
        c["sev1"] += f.severity == 1
        if f.acknowledged_s is not None:
            c["acknowledged"] += 1
            t.add_duration("ack", f.acknowledged_s - f.opened_s)
            if f.response_met is not None:
                c["resp_n"] += 1
                c["resp_met"] += f.response_met
        if f.resolved_s is not None:
            c["resolved"] += 1
            t.add_duration("fix", f.resolved_s - f.opened_s)
            if calendar is not None:
                t.add_duration("fix_business", business_seconds(calendar, f.opened_s, f.resolved_s))
            if f.resolution_met is not None:
                c["res_n"] += 1
                c["res_met"] += f.resolution_met
            c["fcr"] += not f.escalated
            c["reopened"] += f.reopened
        if f.csat is not None:
            c["csat_n"] += 1
            c["csat_sum"] += f.csat
    return t


def assemble(
    window: Window,
    tallies: Mapping[str | None, Tally],
    *,
    backlog_counts: Sequence[int],
    source_counts: Mapping[str | None, int],
    sev1_threshold: float = DEFAULT_SEV1_THRESHOLD,
    whole: Tally | None = None,
) -> dict[str, Any]:
    """The full answer (the shape ``GET /v1/metrics`` returns) from the groups' tallies.

    ``whole`` is the tally of every group together (by default the groups merged).
    """
    if whole is None:
        whole = merge(tallies.values())
    total = figures(None, whole)
    total.pop("key")
    return {
        "from": window.start.isoformat().replace("+00:00", "Z"),
        "to": window.end.isoformat().replace("+00:00", "Z"),
        "group_by": window.group_by,
        "period": window.period,
        "groups": sort_groups([figures(k, t) for k, t in tallies.items()]),
        "total": total,
        "backlog": [
            {"bucket": label, "count": n}
            for (label, _), n in zip(BACKLOG_BUCKETS, backlog_counts, strict=True)
        ],
        "sources": sources_summary(source_counts),
        "warnings": warnings_for(total, whole.counts["sev1"], sev1_threshold),
    }


def report(
    window: Window,
    *,
    in_window: Iterable[Facts],
    open_ages_s: Iterable[int],
    sev1_threshold: float = DEFAULT_SEV1_THRESHOLD,
    calendar: BusinessCalendar | None = DEFAULT_CALENDAR,
) -> dict[str, Any]:
    """The full answer from the facts of the window, in plain Python (the reference).

    ``calendar``: the SLA calendar of the business-hours MTTR (the default
    calendar unless given; None leaves the figure null and skips its cost).
    """
    by_key: dict[str | None, list[Facts]] = {}
    sources: dict[str | None, int] = {}
    for f in in_window:
        by_key.setdefault(_key(f, window), []).append(f)
        sources[f.source] = sources.get(f.source, 0) + 1
    counts = [0] * len(BACKLOG_BUCKETS)
    for age in open_ages_s:
        counts[bucket_index(age)] += 1
    return assemble(
        window,
        {k: tally_facts(v, calendar) for k, v in by_key.items()},
        backlog_counts=counts,
        source_counts=sources,
        sev1_threshold=sev1_threshold,
    )
