"""The detail pane (every field, the timeline, live clocks), the filter bar and saved views."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QInputDialog
from pytestqt.qtbot import QtBot

from console.domain.incident import TimelineEvent, TimelineKind
from console.domain.severity import Severity
from console.services.queue import SAVED_VIEWS_META_KEY, SavedViews
from console.store import Cache
from console.views.filter_bar import CUSTOM_VIEW
from console.views.main_window import MainWindow
from tests.helpers.factories import NOW, FakeClock

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def test_the_detail_pane_shows_every_field(qtbot: QtBot, desk: MainWindow) -> None:
    desk.table.select_incident("inc-3")
    detail = desk.detail
    assert "INC-000003" in detail.number.text()
    assert "SEV-3" in detail.number.text()
    assert detail.title.text() == "Incident number 3"
    fields = {key: label.text() for key, label in detail.fields.items()}
    assert fields["state"] == "In progress"
    assert fields["service"] == "Checkout"
    assert fields["assignee"] == "Bora Kim"
    assert fields["priority"] == "SEV-3 Moderate from impact medium, urgency medium"
    assert fields["opened"] != "—"
    assert fields["acknowledged"] != "—"
    assert fields["resolved"] == "—"
    assert "version 1" in fields["updated"]
    assert set(fields) >= {
        "state",
        "service",
        "assignee",
        "group",
        "priority",
        "category",
        "source",
        "reporter",
        "opened",
        "acknowledged",
        "resolved",
        "closed",
        "updated",
        "response_due",
        "resolution_due",
        "holds",
        "description",
    }
    # Both clocks, with a text marker (never colour alone).
    assert detail.clocks["response"].text().startswith("Response met")
    assert detail.clocks["resolution"].text().startswith("Resolve in")


def test_the_detail_clocks_tick(qtbot: QtBot, desk: MainWindow) -> None:
    desk.table.select_incident("inc-1")  # SEV-1, new: respond within 15 min, opened 5 min ago
    assert desk.detail.clocks["response"].text().startswith("Respond in 10 min")
    clock = desk._clock
    assert isinstance(clock, FakeClock)
    clock.now = NOW + timedelta(minutes=11)
    desk.tick()
    text = desk.detail.clocks["response"].text()
    assert text.startswith("✖ Response overdue 1 min")
    assert desk.detail.clocks["response"].property("status") == "breached"


def test_the_timeline_shows_every_kind_newest_first(
    qtbot: QtBot, desk: MainWindow, desk_cache: Cache
) -> None:
    kinds = list(TimelineKind)
    desk_cache.upsert_timeline(
        TimelineEvent(
            f"e{n}",
            "inc-2",
            kind,
            NOW - timedelta(minutes=len(kinds) - n),
            "bkim",
            f"{kind.label} body",
        )
        for n, kind in enumerate(kinds)
    )
    desk.table.select_incident("inc-2")
    events = desk.detail.timeline.events()
    assert [e.kind for e in events] == list(reversed(kinds))
    heading = desk.detail.timeline.heading(events[0])
    assert "Severity change · Bora Kim" in heading
    # A change from the sync engine (another console's note) appears without reselecting.
    desk_cache.upsert_timeline(
        [TimelineEvent("e99", "inc-2", TimelineKind.STATUS_UPDATE, NOW, "cdiaz", "All clear")]
    )
    with qtbot.waitSignal(desk.detail.timeline.rowsInserted):
        desk.model.queue.note_timelines(["inc-2"])
    assert desk.detail.timeline.events()[0].body == "All clear"


def test_a_record_change_from_the_backend_shows_in_the_detail_pane(
    qtbot: QtBot, desk: MainWindow, desk_cache: Cache
) -> None:
    desk.table.select_incident("inc-3")
    current = desk_cache.incident("inc-3")
    assert current is not None
    changes = desk_cache.upsert_incidents([replace(current, assignee="cdiaz", version=2)])
    desk.model.apply_changes(changes, desk_cache.incident)
    assert desk.detail.fields["assignee"].text() == "Carla Díaz"


def test_severity_toggles_and_the_count(qtbot: QtBot, desk: MainWindow) -> None:
    desk.filter_bar.severity_buttons[Severity.SEV1].click()
    assert [i.id for i in desk.model.shown()] == ["inc-1"]
    assert desk.filter_bar.count.text() == "1 shown"
    assert desk.counts_label.text() == "1 shown · 4 open · 5 total"
    desk.menu_actions.show_board.trigger()  # the board follows the same filter
    assert [len(c.shown()) for c in desk.board_model.columns] == [1, 0, 0, 0, 0]
    desk.menu_actions.show_queue.trigger()
    desk.filter_bar.severity_buttons[Severity.SEV4].click()
    assert [i.id for i in desk.model.shown()] == ["inc-1", "inc-4"]


def test_state_service_and_team_menus(qtbot: QtBot, desk: MainWindow) -> None:
    bar = desk.filter_bar
    from console.domain.lifecycle import State

    bar.state_actions[State.NEW].setChecked(True)
    assert [i.id for i in desk.model.shown()] == ["inc-1"]
    assert bar.state_button.text() == "State (1)"
    bar.state_actions[State.NEW].setChecked(False)
    bar.service_menu.aboutToShow.emit()
    labels = {a.text(): a for a in bar.service_menu.actions()}
    assert set(labels) == {"Payments API", "Checkout"}
    labels["Checkout"].setChecked(True)
    assert [i.id for i in desk.model.shown()] == ["inc-3"]
    assert bar.service_button.text() == "Service (1)"
    labels["Checkout"].setChecked(False)
    bar.group_menu.aboutToShow.emit()
    teams = {a.text(): a for a in bar.group_menu.actions()}
    teams["NOC Operations"].setChecked(True)
    assert [i.id for i in desk.model.shown()] == ["inc-2"]


def test_saved_views_are_kept_in_the_cache(
    qtbot: QtBot, desk: MainWindow, desk_cache: Cache
) -> None:
    bar = desk.filter_bar
    bar.mine.setChecked(True)
    assert bar.view_choice.currentText() == "Mine"  # a built-in view matches
    bar.search.setText("number")
    assert bar.view_choice.currentText() == CUSTOM_VIEW
    desk.menu_actions.save_view.trigger()
    dialog = bar.findChildren(QInputDialog)[-1]
    dialog.setTextValue("My numbers")
    dialog.accept()
    assert bar.view_choice.currentText() == "My numbers"
    assert "My numbers" in (desk_cache.meta(SAVED_VIEWS_META_KEY) or "")
    # Another window (a restart) finds it.
    views = SavedViews(lambda: desk_cache.meta(SAVED_VIEWS_META_KEY))
    assert views["My numbers"] == bar.current_filter
    # Choosing a view applies it.
    desk.menu_actions.clear_filter.trigger()
    assert desk.model.rowCount() == 4
    bar.view_choice.setCurrentIndex(bar.view_choice.findText("My numbers"))
    bar.view_choice.activated.emit(bar.view_choice.currentIndex())
    assert [i.id for i in desk.model.shown()] == ["inc-4"]


def test_every_theme_renders_queue_board_and_detail(qtbot: QtBot, desk: MainWindow) -> None:
    from console.views.theme import THEMES, apply_theme

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    desk.table.select_incident("inc-1")
    try:
        for theme in THEMES:
            apply_theme(app, theme)
            for view in (desk.table, desk.board):
                desk.tabs.setCurrentWidget(view)
                image = desk.grab().toImage()
                colours = {
                    image.pixelColor(x, y).name().upper()
                    for y in range(0, image.height(), 3)
                    for x in range(0, image.width(), 3)
                }
                assert Severity.SEV1.style.colour in colours, (theme, view)
    finally:
        app.setStyleSheet("")


def test_the_operator_comes_from_settings(tmp_path: Path) -> None:
    """``operator`` in settings.toml is who "mine" and "take" mean; a typo is named."""
    from console.config.settings import SettingsError, parse_settings

    assert parse_settings({"operator": " avogel "}, tmp_path / "s.toml").operator == "avogel"
    assert parse_settings({}, tmp_path / "s.toml").operator is None
    with pytest.raises(SettingsError, match=r"key 'operator'.*your contact id or name"):
        parse_settings({"operator": 7}, tmp_path / "s.toml")
