"""The server's SQL and the console's cache path give the same numbers on the same data.

The same generated incidents (with escalations, reopens, CSAT scores and SLA
breaches) go into a server database (SQLite, and PostgreSQL where reachable)
and into a cache; every grouping and period is asked of both and compared
field by field, over HTTP from a real server process.
"""

from __future__ import annotations

from datetime import date, time
from pathlib import Path
from typing import Any

import pytest

from bench._metrics_data import Generated
from console.domain import metrics as m
from console.domain.calendar import DEFAULT_CALENDAR, BusinessCalendar
from console.server.core.db import Database
from console.server.services import metrics as service
from console.store import Cache
from console.store import metrics as cache_metrics
from tests.helpers.metrics import END, load_server

WINDOW = ("2026-09-01", "2026-11-30")
# Working hours across UTC midnight, a DST change (1 November) and a holiday.
LOS_ANGELES = BusinessCalendar(
    time_zone="America/Los_Angeles",
    day_start=time(9, 0),
    day_end=time(17, 0),
    holidays=frozenset({date(2026, 11, 26)}),
)


def _without_backlog(report: dict[str, Any]) -> dict[str, Any]:
    # The server's backlog is counted at its own clock's "now"; compared separately.
    return {k: v for k, v in report.items() if k != "backlog"}


def _check_parity(url: str, api: Any, cache: Cache) -> None:
    for group_by in m.GROUP_BYS:
        periods = m.PERIODS if group_by == "period" else ("week",)
        for period in periods:
            params = {"from": WINDOW[0], "to": WINDOW[1], "group_by": group_by, "period": period}
            response = api.request("GET", "/v1/metrics", role="viewer", params=params)
            assert response.status_code == 200, response.text
            window = m.make_window(WINDOW[0], WINDOW[1], group_by, period)
            local = cache_metrics.compute(cache, window, now=END)
            assert _without_backlog(response.json()) == _without_backlog(local), (group_by, period)
    # The backlog at one fixed "now", in process, against the cache's and the
    # plain-Python reference's; and the business-hours MTTR on another calendar.
    db = Database(url)
    try:
        for calendar in (DEFAULT_CALENDAR, LOS_ANGELES):
            for group_by in ("severity", "period"):
                window = m.make_window(*WINDOW, group_by)
                with db.read_session() as session:
                    server = service.compute(session, window, now=END, calendar=calendar)
                local = cache_metrics.compute(cache, window, now=END, business=calendar)
                reference = m.report(
                    window,
                    in_window=cache_metrics.facts(cache, window.start, window.end),
                    open_ages_s=cache_metrics.open_ages(cache, END),
                    calendar=calendar,
                )
                assert server == local == reference, (calendar.time_zone, group_by)
    finally:
        db.dispose()


def _check_realistic(report: dict[str, Any]) -> None:
    """The data exercise every figure: no share is trivially 0, 1 or null."""
    total = report["total"]
    assert total["count"] > 1000
    for name in ("response_sla_met", "resolution_sla_met", "fcr", "reopen_rate"):
        assert 0 < total[name] < 1, name
    assert 1 < total["csat"] < 5
    assert total["mtta_s"]["median"] <= total["mtta_s"]["p90"]
    # Business hours run a third of the week: well under wall-clock, never above.
    assert 0 < total["mttr_business_s"]["mean"] < total["mttr_s"]["mean"]
    assert total["mttr_business_s"]["p90"] <= total["mttr_s"]["p90"]
    assert sum(b["count"] for b in report["backlog"]) > 0


def test_sqlite_server_and_cache_agree(
    api_factory: Any, tmp_path: Path, generated: list[Generated], filled_cache: Cache
) -> None:
    url = f"sqlite:///{tmp_path / 'metrics.db'}"
    api = api_factory(url)
    load_server(url, generated)
    _check_realistic(cache_metrics.compute(filled_cache, m.make_window(*WINDOW), now=END))
    _check_parity(url, api, filled_cache)


@pytest.mark.postgres
def test_postgres_server_and_cache_agree(
    api_factory: Any, pg_url: str, generated: list[Generated], filled_cache: Cache
) -> None:
    api = api_factory(pg_url)
    load_server(pg_url, generated)
    _check_parity(pg_url, api, filled_cache)
