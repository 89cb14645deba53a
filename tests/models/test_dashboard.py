"""The dashboard's snapshot: the reference figures in every view, on the site's SLA
calendar, and a computation that does not stall the GUI thread with garbage collections."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bench._metrics_data import generate
from console.domain import metrics as m
from console.domain.calendar import TWENTY_FOUR_SEVEN
from console.domain.sla import SlaPolicy
from console.models import dashboard as dashboard_model
from console.store import Cache
from console.store import metrics as cache_metrics

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    opened = Cache.open(tmp_path / "cache.db")
    data = list(generate(600, end=NOW, days=100, seed=11))
    opened.upsert_incidents(g.incident for g in data)
    opened.upsert_timeline(e for g in data for e in g.timeline)
    yield opened
    opened.close()


@pytest.mark.parametrize("operator", ["ana", None])
def test_every_view_is_the_reference_computation(cache: Cache, operator: str | None) -> None:
    # The cells path (one statement, views added up) against the plain-Python
    # definitions over each incident's facts, view by view.
    policy = SlaPolicy.default()
    snapshot = dashboard_model.build_snapshot(cache, now=NOW, operator=operator, policy=policy)
    first = dashboard_model.week_start(NOW.date()) - timedelta(weeks=dashboard_model.WEEKS - 1)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    end = datetime(2026, 12, 1, tzinfo=UTC)
    rows = cache_metrics.facts(cache, start, end)
    ages = cache_metrics.open_ages(cache, NOW)

    def reference(group_by: str, subset: list[m.Facts], backlog: bool = True) -> dict[str, Any]:
        window = m.make_window(start, end, group_by, "week")
        return m.report(
            window, in_window=subset, open_ages_s=ages if backlog else (), calendar=policy.calendar
        )

    assert snapshot.by_severity == reference("severity", rows)
    assert snapshot.by_team == reference("team", rows)
    assert snapshot.by_source == reference("source", rows)
    weekly = {g["key"]: g for g in reference("period", rows, backlog=False)["groups"]}
    assert {w["key"]: w for w in snapshot.weekly if w["count"]} == weekly
    sev2 = [f for f in rows if f.severity == 2]
    by_week = {g["key"]: g for g in reference("period", sev2, backlog=False)["groups"]}
    assert {w["key"]: w for w in snapshot.weekly_by_severity["SEV-2"] if w["count"]} == by_week
    mine = [f for f in rows if f.assignee == operator]
    if operator is None:
        assert snapshot.mine is None
        assert not any(w["count"] for w in snapshot.mine_weekly)
    else:
        assert mine
        assert snapshot.mine == reference("severity", mine)


def test_business_hours_mttr_follows_the_policys_calendar(cache: Cache) -> None:
    office = dashboard_model.build_snapshot(
        cache, now=NOW, operator=None, policy=SlaPolicy.default()
    )
    always = dashboard_model.build_snapshot(
        cache, now=NOW, operator=None, policy=SlaPolicy.default(TWENTY_FOUR_SEVEN)
    )
    wall = always.by_severity["total"]["mttr_s"]["mean"]
    assert wall is not None
    # On a 24/7 calendar working time is wall-clock time; on office hours it is less.
    assert always.by_severity["total"]["mttr_business_s"]["mean"] == pytest.approx(wall, abs=1)
    assert office.by_severity["total"]["mttr_business_s"]["mean"] < wall


def test_the_collector_is_paused_while_computing_and_restored(
    cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    real = cache_metrics.cells

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cache_metrics, "cells", spy)
    assert gc.isenabled()
    dashboard_model.build_snapshot(cache, now=NOW, operator=None, policy=SlaPolicy.default())
    assert seen == [False]
    assert gc.isenabled()


def test_the_snapshot_counts_the_reviews_due_and_overdue(tmp_path: Path) -> None:
    """The demo's reviews (one unheld past its due date, action items overdue)."""
    from console.services.demo import load_demo
    from console.services.reviews import ReviewRows

    demo = Cache.open(tmp_path / "demo.db")
    try:
        load_demo(demo, NOW)
        snapshot = dashboard_model.build_snapshot(
            demo, now=NOW, operator=None, policy=SlaPolicy.default()
        )
        rows = ReviewRows(demo.reference("pirs"), NOW)
    finally:
        demo.close()
    assert snapshot.reviews_overdue == rows.overdue_counts[0] == 1
    assert snapshot.action_items_overdue == rows.overdue_counts[1] > 0
    assert snapshot.reviews_due == sum(r.status in ("due", "overdue") for r in rows.reviews)
    assert snapshot.reviews_due > snapshot.reviews_overdue
