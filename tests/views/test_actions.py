"""One registry: the menu bar, the command palette (Ctrl+K) and the cheat sheet (?) agree.

Built the way ``noc-console --demo`` builds the window (the Alerts, CSAT and
Metrics actions are connected by the composition root), and once more with a
sync (the Connection actions), each list is read from the widget the operator
sees: every action in a menu or submenu (the theme choices excepted), every
row of the palette, every action the cheat sheet names.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QMenu

from console.app.gui import _build_window
from console.config.settings import load_settings
from console.store import Cache
from console.views.actions import plain_text
from console.views.cheat_sheet import CheatSheet
from console.views.command_palette import CommandPalette
from console.views.main_window import MainWindow


@pytest.fixture
def demo_window(tmp_path: Path) -> Iterator[MainWindow]:
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    cache = Cache.open(tmp_path / "cache.db")
    window = _build_window(app, load_settings(tmp_path / "settings.toml"), cache, demo=True)
    yield window
    window.close()
    window.deleteLater()
    cache.close()


def _menu_actions(menu: QMenu) -> list[QAction]:
    found: list[QAction] = []
    for action in menu.actions():
        submenu = action.menu()
        if isinstance(submenu, QMenu):
            if submenu.title() != "&Theme":  # choices, not commands (MainWindowActions)
                found += _menu_actions(submenu)
        elif not action.isSeparator():
            found.append(action)
    return found


def menu_bar_names(window: MainWindow) -> list[str]:
    names: list[str] = []
    for action in window.menuBar().actions():
        menu = action.menu()
        assert isinstance(menu, QMenu)
        names += [plain_text(a) for a in _menu_actions(menu)]
    return names


def palette_names(window: MainWindow) -> list[str]:
    palette = CommandPalette(window.menu_actions, window)
    return [text for text, _keys, _enabled in palette.entries()]


def test_menus_palette_and_cheat_sheet_list_the_same_actions(demo_window: MainWindow) -> None:
    in_menus = menu_bar_names(demo_window)
    assert len(in_menus) == len(set(in_menus))
    assert sorted(palette_names(demo_window)) == sorted(in_menus)
    sheet = CheatSheet(demo_window.menu_actions, demo_window)
    assert sorted(sheet.entries()) == sorted(name.rstrip("…") for name in in_menus)
    for name in (
        "Enter API token…",
        "Reconnect now",
        "Acknowledge all alarms",
        "Mute SEV-1 Critical sound",
        "Snooze SEV-2 for 15 min",
        "Resume all snoozed alerts",
        "Record CSAT…",
        "Metrics dashboard",
    ):
        assert name in in_menus
    # The cheat sheet's text names them too, not only its list.
    assert "Reconnect now" in sheet.text.text()
    assert "Snooze SEV-2 for 15 min" in sheet.text.text()


def test_the_menu_bar_is_built_from_the_groups(demo_window: MainWindow) -> None:
    titles = [a.text() for a in demo_window.menuBar().actions()]
    assert titles == [f"&{g.title}" for g in demo_window.menu_actions.groups()]
    assert titles == [
        "&File",
        "&Incident",
        "&View",
        "&War room",
        "&Review",
        "&Connection",
        "&Alerts",
        "&Help",
    ]


def test_the_alert_actions_drive_the_notifier(demo_window: MainWindow) -> None:
    from console.domain.severity import Severity
    from console.views.alerts import AlertNotifier

    notifier = demo_window.findChild(AlertNotifier)
    assert isinstance(notifier, AlertNotifier)
    actions = demo_window.menu_actions
    actions.mute_alerts[Severity.SEV1].trigger()
    assert notifier.tracker.is_muted(Severity.SEV1)
    snooze = next(iter(actions.snooze_alerts))
    actions.snooze_alerts[snooze].trigger()
    assert "snoozed until" in notifier.silence_text()
    actions.resume_alerts.trigger()
    assert "snoozed" not in notifier.silence_text()


def test_the_connection_actions_wait_for_a_backend(demo_window: MainWindow) -> None:
    # The demo syncs with nothing: the actions are listed, greyed.
    actions = demo_window.menu_actions
    assert not actions.enter_token.isEnabled()
    assert not actions.reconnect.isEnabled()


def test_no_two_actions_share_a_shortcut(demo_window: MainWindow) -> None:
    # Two actions on one key make Qt fire neither ("ambiguous shortcut"): the key silently dies.
    seen: dict[str, str] = {}
    clashes: list[str] = []
    for group in demo_window.menu_actions.groups():
        for action in group.actions:
            for shortcut in action.shortcuts():
                key = shortcut.toString()
                if key in seen and seen[key] != action.text():
                    clashes.append(f"{key}: {seen[key]!r} and {action.text()!r}")
                seen.setdefault(key, action.text())
    assert not clashes
