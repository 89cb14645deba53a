"""The metrics dashboard: computed off the GUI thread, the same numbers as the cache
path, every chart also a table with CSV / PNG / clipboard export, live refresh, and the
definitions as tooltips."""

from __future__ import annotations

import csv
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication, QImage
from pytestqt.qtbot import QtBot

from bench._metrics_data import generate
from console.domain import metrics as m
from console.domain.sla import SlaPolicy
from console.models import dashboard as dashboard_model
from console.models.dashboard import DashboardLoader, DashboardSnapshot
from console.store import Cache
from console.store import metrics as cache_metrics
from console.views.dashboard import DashboardView

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    opened = Cache.open(tmp_path / "cache.db")
    data = list(generate(1500, end=NOW, days=100, seed=5))
    opened.upsert_incidents(g.incident for g in data)
    opened.upsert_timeline(e for g in data for e in g.timeline)
    yield opened
    opened.close()


def _loaded(
    qtbot: QtBot, cache: Cache, clock: datetime = NOW
) -> tuple[DashboardLoader, DashboardSnapshot]:
    loader = DashboardLoader(cache, policy=SlaPolicy.default(), operator="ana", clock=lambda: clock)
    with qtbot.waitSignal(loader.loaded, timeout=20_000) as blocker:
        loader.refresh_now()
    snapshot = blocker.args[0]
    assert isinstance(snapshot, DashboardSnapshot)
    return loader, snapshot


def test_the_snapshot_is_computed_off_the_gui_thread(
    qtbot: QtBot, cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    real = dashboard_model.build_snapshot

    def spy(*args: object, **kwargs: object) -> DashboardSnapshot:
        if args[0] is cache:  # not a loader an earlier test left computing on a busy machine
            threads.append(threading.current_thread().name)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(dashboard_model, "build_snapshot", spy)
    _loaded(qtbot, cache)
    assert threads == ["dashboard-metrics"]
    assert threading.current_thread() is threading.main_thread()


def test_the_view_shows_the_cache_paths_numbers(qtbot: QtBot, cache: Cache) -> None:
    _, snapshot = _loaded(qtbot, cache)
    view = DashboardView()
    qtbot.addWidget(view)
    view.show_snapshot(snapshot)
    start = datetime.fromisoformat(snapshot.weeks[0]).replace(tzinfo=UTC)
    expected = cache_metrics.compute(
        cache, m.make_window(start, NOW.replace(hour=0) + timedelta(days=1)), now=NOW
    )
    assert snapshot.by_severity["total"] == expected["total"]
    total = expected["total"]
    assert view.kpis.values["count"].text() == str(total["count"])
    assert view.kpis.values["fcr"].text() == f"{total['fcr']:.1%}"
    # The weekly volume table adds up to the window's count.
    assert sum(row[-1] for row in view.volume.rows) == total["count"]
    # The definitions are the tooltips.
    assert view.kpis.values["mttr_s"].toolTip() == m.DEFINITIONS["mttr_s"]
    assert view.backlog.plot.toolTip() == m.DEFINITIONS["backlog"]
    assert [b["count"] for b in expected["backlog"]] == [r[1] for r in view.backlog.rows]


def test_the_executive_tab_says_how_the_reviews_stand(qtbot: QtBot, cache: Cache) -> None:
    _, snapshot = _loaded(qtbot, cache)
    view = DashboardView()
    qtbot.addWidget(view)
    view.show_snapshot(replace(snapshot, reviews_due=7, reviews_overdue=1, action_items_overdue=4))
    assert view.reviews.text() == (
        "Post-incident reviews: 7 due, ⚠ 1 overdue · action items: ⚠ 4 overdue"
    )
    assert "overdue once its due date passed" in view.reviews.toolTip()
    view.show_snapshot(replace(snapshot, reviews_due=0, reviews_overdue=0, action_items_overdue=0))
    assert view.reviews.text() == "Post-incident reviews: none due · action items: none overdue"


def test_every_chart_exports_csv_png_and_copies(qtbot: QtBot, cache: Cache, tmp_path: Path) -> None:
    _, snapshot = _loaded(qtbot, cache)
    view = DashboardView()
    qtbot.addWidget(view)
    view.resize(1280, 720)
    view.show()
    view.show_snapshot(snapshot)
    for card in view.cards():
        assert card.columns, card.title
        assert card.rows, card.title
        path = tmp_path / "out.csv"
        card.save_csv(path)
        with path.open(encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        assert rows[0] == card.columns
        assert len(rows) == len(card.rows) + 1
        card.toggle.setChecked(True)
        assert card.stack.currentWidget() is card.table
        assert card.table.rowCount() == len(card.rows)
        card.toggle.setChecked(False)
    png = tmp_path / "mtta.png"
    assert view.mtta.save_png(png)
    assert not QImage(str(png)).isNull()
    view.sla.copy()
    clipboard = QGuiApplication.clipboard()
    assert clipboard is not None
    assert clipboard.text().splitlines()[0] == "\t".join(view.sla.columns)


def test_a_change_refreshes_the_dashboard(qtbot: QtBot, cache: Cache) -> None:
    loader, first = _loaded(qtbot, cache)
    newest = max(cache.incidents(), key=lambda i: i.opened_at)
    added = replace(
        newest, id="metrics-new", number="INC-999999", opened_at=NOW - timedelta(hours=1)
    )
    cache.upsert_incidents([added])
    with qtbot.waitSignal(loader.loaded, timeout=20_000) as blocker:
        loader.request()
        loader.request()  # a burst is folded into one computation
    second = blocker.args[0]
    assert second.by_severity["total"]["count"] == first.by_severity["total"]["count"] + 1
    loader.wait()


def test_only_the_tab_on_screen_is_drawn_and_unchanged_charts_stay(
    qtbot: QtBot, cache: Cache
) -> None:
    _, snapshot = _loaded(qtbot, cache)
    view = DashboardView()
    qtbot.addWidget(view)
    view.resize(1280, 720)
    view.show()
    with qtbot.waitSignal(view.charts_drawn, timeout=20_000):
        view.show_snapshot(snapshot)
    # The figures and tables are there at once; the team tab's charts wait for their tab.
    assert view.team_sla.rows
    assert view.team_sla.pending
    assert not view.pending_charts()
    drawn = view.mtta.plot.listDataItems()
    view.show_snapshot(snapshot)  # the same figures again: nothing to redraw
    assert not view.mtta.pending
    assert view.mtta.plot.listDataItems() == drawn
    with qtbot.waitSignal(view.charts_drawn, timeout=20_000):
        view.tabs.setCurrentIndex(1)
    assert not view.team_sla.pending


def test_the_status_says_when_the_figures_are_being_updated(qtbot: QtBot, cache: Cache) -> None:
    _, snapshot = _loaded(qtbot, cache)
    view = DashboardView()
    qtbot.addWidget(view)
    view.show_snapshot(snapshot)
    assert f"figures as of {snapshot.computed_at:%H:%M:%S} UTC" in view.status.text()
    assert "updating" not in view.status.text()
    view.set_updating(True)
    assert view.status.text().startswith("⟳ updating…")
    assert f"{snapshot.computed_at:%H:%M:%S}" in view.status.text()


def test_building_the_view_makes_no_chart(qtbot: QtBot, cache: Cache) -> None:
    # Opening the tab before start-up prepared it shows the frame at once: no
    # card may make its plot (which imports the chart library on the GUI thread)
    # until a snapshot is drawn; the volume legend's four columns come with it.
    view = DashboardView()
    qtbot.addWidget(view)
    assert all(card._plot is None for card in view.cards())
    _, snapshot = _loaded(qtbot, cache)
    view.resize(1280, 720)
    view.show()
    with qtbot.waitSignal(view.charts_drawn, timeout=20_000):
        view.show_snapshot(snapshot)
    assert view.volume.legend.columnCount == 4
