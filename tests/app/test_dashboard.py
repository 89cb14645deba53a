"""The Metrics tab: built on first opening with the last good figures, recomputed only
while on screen (changes while hidden only mark the figures out of date)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtWidgets import QTabWidget, QWidget
from pytestqt.qtbot import QtBot

from bench._metrics_data import generate
from console.app.dashboard import DashboardTab
from console.domain.sla import SlaPolicy
from console.models.dashboard import DashboardLoader

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def host(qtbot: QtBot, tmp_path: Path) -> Iterator[tuple[QTabWidget, DashboardTab]]:
    from console.store import Cache

    cache = Cache.open(tmp_path / "cache.db")
    data = list(generate(600, end=NOW, days=100, seed=7))
    cache.upsert_incidents(g.incident for g in data)
    cache.upsert_timeline(e for g in data for e in g.timeline)
    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    tabs.addTab(QWidget(), "Queue")
    loader = DashboardLoader(cache, policy=SlaPolicy.default(), operator="ana", clock=lambda: NOW)
    tab = DashboardTab(loader, tabs)
    tabs.addTab(tab, "Metrics")
    tabs.show()
    yield tabs, tab
    loader.wait()
    cache.close()


def test_the_view_is_built_on_first_opening_with_the_last_good_figures(
    qtbot: QtBot, host: tuple[QTabWidget, DashboardTab]
) -> None:
    tabs, tab = host
    assert tab.view is None  # nothing built (no pyqtgraph plot) before the tab is opened
    with qtbot.waitSignal(tab.loader.loaded, timeout=20_000):
        tab.prepare()
    first = tab.loader.last
    assert first is not None
    tab.changed()  # hidden: no computation, only marked out of date
    assert not tab.loader.busy
    tabs.setCurrentWidget(tab)
    assert tab.view is not None
    assert tab.view.snapshot is first  # the last good figures at once…
    assert tab.view.status.text().startswith("⟳ updating…")  # …marked as being updated
    view = tab.view
    qtbot.waitUntil(lambda: view.snapshot is not first, timeout=20_000)
    assert view.snapshot is tab.loader.last
    assert "updating" not in view.status.text()
