"""Qt fixtures: a round-the-clock SLA policy and the whole console window over the desk's cache."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from console.domain.calendar import TWENTY_FOUR_SEVEN
from console.domain.sla import SlaPolicy
from console.models.incident_table import IncidentTableModel
from console.services.queue import SAVED_VIEWS_META_KEY, DisplayNames, SavedViews
from console.store import Cache
from console.sync.edits import LocalEdits
from console.views.main_window import MainWindow
from tests.helpers.factories import (
    NOW,
    OPERATOR,
    PEOPLE,
    SERVICES,
    TEAMS,
    FakeClock,
    desk_incidents,
)


@pytest.fixture
def policy() -> SlaPolicy:
    """The default targets, round the clock, so the figures do not depend on the weekday."""
    return SlaPolicy.default(TWENTY_FOUR_SEVEN)


# --------------------------------------------------------------------------
# A whole console window over a real SQLite cache and the real outbox writer
# --------------------------------------------------------------------------


@pytest.fixture
def desk_cache(tmp_path: Path) -> Iterator[Cache]:
    """A real cache file with the desk incidents and their reference data."""
    cache = Cache.open(tmp_path / "cache.db")
    cache.upsert_incidents(desk_incidents())
    cache.upsert_reference("contacts", PEOPLE)
    cache.upsert_reference("teams", TEAMS)
    cache.upsert_reference("services", SERVICES)
    yield cache
    cache.close()


@pytest.fixture
def desk(qtbot: QtBot, policy: SlaPolicy, desk_cache: Cache) -> MainWindow:
    """The console window as the app builds it: real cache, real outbox writer, shown and active."""
    names = DisplayNames.from_reference(SERVICES, PEOPLE, TEAMS)
    model = IncidentTableModel(policy, NOW, desk_cache.incidents(), names=names)
    clock = FakeClock(NOW)  # edits and SLA clocks on the same (test) time
    window = MainWindow(
        model,
        themes=[("light", "Light"), ("dark", "Dark"), ("wall", "Wall display")],
        current_theme="light",
        clock=clock,
        edits=LocalEdits(desk_cache, author=OPERATOR, clock=clock),
        timeline_source=desk_cache.timeline,
        saved_views=SavedViews(
            lambda: desk_cache.meta(SAVED_VIEWS_META_KEY),
            lambda text: desk_cache.set_meta(SAVED_VIEWS_META_KEY, text),
        ),
        operator=OPERATOR,
    )
    window.ticker.stop()  # the tests tick by hand
    qtbot.addWidget(window)
    window.resize(1400, 800)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    window.table.setFocus()
    return window
