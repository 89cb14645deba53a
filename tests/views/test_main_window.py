"""The main window: menus, the queue, and a status bar saying where the data is from and its age."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from PySide6.QtGui import QAction, QImage
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from console.domain.severity import Severity
from console.domain.sla import SlaPolicy
from console.models.incident_table import Column, IncidentTableModel
from console.views.main_window import MainWindow
from console.views.theme import THEMES, apply_theme
from tests.helpers.factories import NOW
from tests.helpers.factories import desk_incident as make_incident

# Qt's offscreen platform warns when a shown main window propagates its size
# hints; it has no window manager to propagate them to. Nothing to fix here.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

THEME_LABELS = [("light", "Light"), ("dark", "Dark"), ("wall", "Wall display")]


class FakeClock:
    """A clock the test moves by hand (the window asks it once a second)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def window(qtbot: QtBot, policy: SlaPolicy, clock: FakeClock) -> MainWindow:
    incidents = [
        make_incident(1, Severity.SEV1, age_min=20),
        make_incident(2, Severity.SEV4, age_min=5),
        make_incident(3, Severity.SEV2, age_min=500),
    ]
    model = IncidentTableModel(policy, NOW, incidents)
    window = MainWindow(model, themes=THEME_LABELS, current_theme="light", clock=clock)
    window.ticker.stop()  # the test ticks by hand
    qtbot.addWidget(window)
    window.resize(1200, 500)
    return window


def menu_titles(window: MainWindow) -> dict[str, list[str]]:
    titles: dict[str, list[str]] = {}
    for action in window.menuBar().actions():
        menu = action.menu()
        if menu is not None:
            titles[action.text()] = [a.text() for a in menu.actions()]
    return titles


def test_menus(window: MainWindow) -> None:
    titles = menu_titles(window)
    assert list(titles) == [
        "&File",
        "&Incident",
        "&View",
        "&War room",
        "&Review",
        "&Connection",
        "&Alerts",
        "&Help",
    ]
    assert titles["&File"] == [
        "&New incident…",
        "&Settings…",
        "&Connect to backend…",
        "&Quit",
    ]
    assert titles["&Incident"] == [
        "&Open incident",
        "&Acknowledge",
        "&Take (assign to me)",
        "A&ssign…",
        "&Change state…",
        "&Resolve…",
        "&Escalate…",
        "Declare / stand down &major…",
        "Add &work note",
        "Post status &update",
        "Ca&ll on-call…",
        "Record &CSAT…",
    ]
    assert titles["&Connection"] == ["Enter API &token…", "&Reconnect now"]
    assert titles["&View"][-1] == "&Theme"
    assert titles["&Help"] == ["&Keyboard shortcuts", "&About NOC Console"]
    assert [a.text() for a in window.menu_actions.themes.values()] == [
        "Light",
        "Dark",
        "Wall display",
    ]
    assert window.menu_actions.themes["light"].isChecked()


def test_choosing_a_theme_is_announced(qtbot: QtBot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.menu_actions.theme_chosen) as blocker:
        window.menu_actions.themes["dark"].trigger()
    assert blocker.args == ["dark"]
    assert window.menu_actions.themes["dark"].isChecked()
    assert not window.menu_actions.themes["light"].isChecked()


def test_status_bar_says_where_the_data_is_from_and_how_old(
    window: MainWindow, clock: FakeClock
) -> None:
    window.set_connection_state("Demo data — not connected to a backend")
    assert window.connection_label.text() == "Demo data — not connected to a backend"
    assert window.age_label.text() == "no data yet"
    window.set_data_time(NOW)
    local = NOW.astimezone().strftime("%H:%M:%S")
    assert window.age_label.text() == f"data as of {local} (just now)"
    clock.now = NOW + timedelta(minutes=3, seconds=10)
    window.tick()
    assert window.age_label.text() == f"data as of {local} (3 min ago)"
    assert window.counts_label.text() == "3 open · 3 total"
    # Hours read as on the wall (console/domain/text.py's age_text).
    clock.now = NOW + timedelta(hours=2, minutes=5)
    window.tick()
    assert window.age_label.text() == f"data as of {local} (2 h 05 min ago)"


def test_the_tick_moves_the_sla_clocks(window: MainWindow, clock: FakeClock) -> None:
    model = window.model
    sla = model.index(0, Column.SLA)
    assert sla.data() == "Resolve in 3 h 40 min"
    clock.now = NOW + timedelta(minutes=40)
    window.tick()
    assert model.index(0, Column.SLA).data() == "Resolve in 3 h 00 min"


def test_a_notice_is_shown_without_blocking(window: MainWindow) -> None:
    window.show_notice("The cache was rebuilt.")
    assert not window.notice_label.isHidden()
    assert window.notice_label.text() == "The cache was rebuilt."


@pytest.mark.parametrize("theme", THEMES)
def test_every_theme_renders_the_queue(qtbot: QtBot, window: MainWindow, theme: str) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    try:
        apply_theme(app, theme)
        window.table.set_wall_layout(theme == "wall")
        window.show()
        qtbot.waitExposed(window)
        image: QImage = window.grab().toImage()
        reds = sum(
            1
            for y in range(0, image.height(), 2)
            for x in range(0, image.width(), 2)
            if image.pixelColor(x, y).name().upper() == Severity.SEV1.style.colour
        )
        assert reds > 20  # the SEV-1 badge, and the breached SLA cell
        assert window.table.isColumnHidden(Column.NUMBER) == (theme == "wall")
    finally:
        app.setStyleSheet("")


def test_quit_closes_the_window(qtbot: QtBot, window: MainWindow) -> None:
    window.show()
    qtbot.waitExposed(window)
    quit_action: QAction = window.menu_actions.quit
    quit_action.trigger()
    assert not window.isVisible()
