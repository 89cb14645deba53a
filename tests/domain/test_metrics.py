"""The metric definitions on small hand-made cases (console.domain.metrics)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time

import pytest

from console.domain import metrics as m
from console.domain.calendar import DEFAULT_CALENDAR, TWENTY_FOUR_SEVEN, BusinessCalendar

T0 = int(datetime(2026, 11, 2, 9, 0, tzinfo=UTC).timestamp())  # a Monday


def facts(**changes: object) -> m.Facts:
    base: dict[str, object] = {
        "severity": 3, "team": "network", "service": "vpn", "category": None, "source": "phone",
        "assignee": None, "opened_s": T0, "acknowledged_s": None, "resolved_s": None,
        "response_met": None, "resolution_met": None, "escalated": 0, "reopened": 0,
        "csat": None, "is_open": 1,
    }  # fmt: skip
    base.update(changes)
    return m.Facts(**base)  # type: ignore[arg-type]


WINDOW = m.make_window("2026-11-01", "2026-12-01")


def test_nearest_rank_percentiles() -> None:
    values = list(range(1, 11))
    assert m.nearest_rank(values, 0.5) == 5
    assert m.nearest_rank(values, 0.9) == 9
    assert m.nearest_rank([7], 0.9) == 7
    assert m.nearest_rank([], 0.5) is None
    assert m.nearest_rank(list(range(1, 12)), 0.9) == 10  # ceil(9.9)


def test_shares_count_only_what_can_be_measured() -> None:
    rows = [
        facts(acknowledged_s=T0 + 60, response_met=1, resolved_s=T0 + 600, resolution_met=1),
        facts(
            acknowledged_s=T0 + 120,
            response_met=0,
            resolved_s=T0 + 7200,
            resolution_met=0,
            escalated=1,
            reopened=1,
            csat=2,
        ),
        # Acknowledged, no due time: in MTTA, not in the response share.
        facts(acknowledged_s=T0 + 30),
        facts(),
    ]
    total = m.report(WINDOW, in_window=rows, open_ages_s=())["total"]
    assert total["count"] == 4
    assert total["acknowledged"] == 3
    assert total["resolved"] == 2
    assert total["mtta_s"] == {"mean": 70.0, "median": 60, "p90": 120}
    assert total["mttr_s"] == {"mean": 3900.0, "median": 600, "p90": 7200}
    assert total["response_sla_met"] == 0.5
    assert total["resolution_sla_met"] == 0.5
    assert total["fcr"] == 0.5
    assert total["reopen_rate"] == 0.5
    assert total["csat"] == 2


def test_nothing_to_measure_is_null() -> None:
    total = m.report(WINDOW, in_window=[facts()], open_ages_s=())["total"]
    assert total["mtta_s"] == {"mean": None, "median": None, "p90": None}
    assert total["fcr"] is None
    assert total["csat"] is None


def test_groups_periods_and_the_unset_group_last() -> None:
    rows = [facts(severity=1), facts(severity=4, opened_s=T0 + 8 * 86400), facts(team=None)]
    by_sev = m.report(WINDOW, in_window=rows, open_ages_s=())
    assert [g["key"] for g in by_sev["groups"]] == ["SEV-1", "SEV-3", "SEV-4"]
    by_team = m.report(m.make_window("2026-11-01", "2026-12-01", "team"), in_window=rows,
                       open_ages_s=())  # fmt: skip
    assert [g["key"] for g in by_team["groups"]] == ["network", None]
    weeks = m.report(m.make_window("2026-11-01", "2026-12-01", "period", "week"),
                     in_window=rows, open_ages_s=())  # fmt: skip
    assert [g["key"] for g in weeks["groups"]] == ["2026-11-02", "2026-11-09"]
    assert m.period_key(T0, "month") == "2026-11"
    assert m.period_key(T0 - 86400, "week") == "2026-10-26"  # a Sunday belongs to its Monday


def test_backlog_buckets_and_sources() -> None:
    ages = [0, 86_399, 86_400, 3 * 86_400, 8 * 86_400, 31 * 86_400]
    assert [b["count"] for b in m.backlog(ages)] == [2, 1, 1, 1, 1]
    assert m.sources_summary({"phone": 3, "monitoring": 2, "email": 1}) == {
        "user_reported": 4,
        "monitoring": 2,
        "ratio": 2.0,
    }
    assert m.sources_summary({"phone": 1})["ratio"] is None


def test_sev1_share_warning_above_the_threshold() -> None:
    rows = [facts(severity=1)] + [facts() for _ in range(9)]
    assert m.report(WINDOW, in_window=rows, open_ages_s=())["warnings"] == []  # 10 %: not above
    rows.append(facts(severity=1))
    (warning,) = m.report(WINDOW, in_window=rows, open_ages_s=())["warnings"]
    assert warning["code"] == "sev1_share"
    assert warning["value"] == pytest.approx(2 / 11, abs=1e-4)
    assert m.report(WINDOW, in_window=rows, open_ages_s=(), sev1_threshold=0.2)["warnings"] == []


@pytest.mark.parametrize(
    ("start", "end", "group_by", "period", "message"),
    [
        ("2026-12-01", "2026-11-01", "severity", "week", "from must be before to"),
        ("2026-11-01", "2026-11-01", "severity", "week", "from must be before to"),
        ("2026-11-01", "2026-12-01", "colour", "week", "group_by"),
        ("2026-11-01", "2026-12-01", "period", "fortnight", "period"),
        ("1926-11-01", "2026-12-01", "severity", "week", "at most 366 days"),
        ("soon", "2026-12-01", "severity", "week", "is not a date"),
        ("2026-13-01", "2026-12-01", "severity", "week", "is not a date"),
    ],
)
def test_bad_requests_say_what_to_change(
    start: str, end: str, group_by: str, period: str, message: str
) -> None:
    with pytest.raises(m.MetricsInputError, match=message):
        m.make_window(start, end, group_by, period)


def test_instants_dates_and_zones() -> None:
    assert m.parse_instant("from", "2026-11-01") == datetime(2026, 11, 1, tzinfo=UTC)
    assert m.parse_instant("from", "2026-11-01T10:00:00+01:00") == datetime(
        2026, 11, 1, 9, tzinfo=UTC
    )
    assert m.parse_instant("from", "2026-11-01T10:00:00Z").hour == 10
    assert m.epoch_s(datetime(2026, 11, 1, 0, 0, 59, 999_999, tzinfo=UTC)) == int(
        datetime(2026, 11, 1, 0, 0, 59, tzinfo=UTC).timestamp()
    )


def test_duration_counts_give_the_same_figures_as_the_values() -> None:
    rng = random.Random(21)
    for n in (1, 2, 3, 9, 10, 11, 99, 1000):
        values = [int(rng.lognormvariate(6, 1.2)) for _ in range(n)]
        counts: dict[int, int] = {}
        for v in values:
            counts[v] = counts.get(v, 0) + 1
        assert m.histogram_stats(counts) == m.stats(list(values)), n
    assert m.histogram_stats({}) == {"mean": None, "median": None, "p90": None}
    # Ten values of which nine are 5: the median and p90 are 5, the mean 14.5.
    assert m.histogram_stats({5: 9, 100: 1}) == {"mean": 14.5, "median": 5, "p90": 5}


BUSINESS = BusinessCalendar(
    time_zone="America/Los_Angeles",  # 09:00–17:00 there runs across UTC midnight
    weekdays=frozenset({0, 1, 2, 3, 4}),
    day_start=time(9, 0),
    day_end=time(17, 0),
    holidays=frozenset({date(2026, 11, 26)}),  # Thanksgiving
)


@pytest.mark.parametrize("calendar", [DEFAULT_CALENDAR, BUSINESS, TWENTY_FOUR_SEVEN])
def test_the_business_day_table_gives_the_calendars_working_time(
    calendar: BusinessCalendar,
) -> None:
    """The per-UTC-day table the SQL paths join on agrees with the calendar, across a DST
    change (1 November in Los Angeles), a holiday and weekends, to the second."""
    first = int(datetime(2026, 10, 20, tzinfo=UTC).timestamp()) // 86_400
    last = first + 50
    rows = {row[0]: row for row in m.business_days(calendar, first, last)}

    def worked_before(t: int) -> int:
        _day, before, *pieces = rows[t // 86_400]
        return before + sum(
            max(0, min(t, pieces[2 * n + 1]) - pieces[2 * n]) for n in range(m.DAY_SEGMENTS)
        )

    rng = random.Random(5)
    lo, hi = first * 86_400, (last + 1) * 86_400 - 1
    for _ in range(3000):
        a = rng.randrange(lo, hi)
        b = min(hi, a + int(rng.lognormvariate(9, 1.5)))
        assert worked_before(b) - worked_before(a) == m.business_seconds(calendar, a, b), (a, b)


def test_business_hours_mttr_beside_wall_clock() -> None:
    # Opened Friday 16:00 UTC, resolved Monday 10:00: 66 h wall-clock, 2 h of business hours.
    friday = int(datetime(2026, 11, 6, 16, 0, tzinfo=UTC).timestamp())
    monday = int(datetime(2026, 11, 9, 10, 0, tzinfo=UTC).timestamp())
    rows = [facts(opened_s=friday, acknowledged_s=friday + 60, resolved_s=monday)]
    total = m.report(WINDOW, in_window=rows, open_ages_s=(), calendar=DEFAULT_CALENDAR)["total"]
    assert total["mttr_s"]["median"] == 66 * 3600
    assert total["mttr_business_s"] == {"mean": 7200.0, "median": 7200, "p90": 7200}
    # With calendar=None the figure is not computed.
    bare = m.report(WINDOW, in_window=rows, open_ages_s=(), calendar=None)["total"]
    assert bare["mttr_business_s"] == {"mean": None, "median": None, "p90": None}
