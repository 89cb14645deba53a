"""``c`` from an incident: who is on call now along its service's escalation path.

The window as ``noc-console --demo`` builds it (real cache file, the demo's
rotations and policies); the key is pressed on the queue like an operator would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from console.app.gui import _build_window
from console.config.settings import load_settings
from console.store import Cache
from console.views.main_window import MainWindow
from console.views.on_call_dialog import NUMBER_ROLE, OnCallDialog


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path) -> Iterator[MainWindow]:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    cache = Cache.open(tmp_path / "cache.db")
    built = _build_window(app, load_settings(tmp_path / "settings.toml"), cache, demo=True)
    qtbot.addWidget(built)
    built.resize(1280, 720)
    built.show()
    yield built
    cache.close()


def test_c_shows_who_is_on_call_with_numbers_and_their_local_time(
    qtbot: QtBot, window: MainWindow
) -> None:
    incident = window.current_incident()
    assert incident is not None
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_C)  # one key from the queue
    dialog = window.on_call_dialog
    assert isinstance(dialog, OnCallDialog)
    assert dialog.isVisible()
    assert incident.number in dialog.windowTitle()
    rows = [dialog.people.item(i).text() for i in range(dialog.people.count())]
    assert rows[0].startswith("L1 ")
    assert any(r.startswith("L2 ") for r in rows)
    assert all("☎ +" in r for r in rows if "nobody" not in r)
    assert any("their time" in r for r in rows)
    html = dialog.chain.toHtml()
    assert 'href="tel:+' in html

    # Ctrl+C copies the selected person's number in E.164; Enter calls (or copies and says so).
    number = dialog.people.currentItem().data(NUMBER_ROLE)
    assert isinstance(number, str)
    assert number.startswith("+")
    QGuiApplication.clipboard().clear()
    qtbot.keyClick(dialog.people, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == number
    assert dialog.copy(None) == number


def test_c_without_on_call_data_says_what_is_missing(qtbot: QtBot, tmp_path: Path) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    cache = Cache.open(tmp_path / "cache.db")
    try:
        from console.sync.edits import LocalEdits

        LocalEdits(cache, author="op").create(
            title="Printer on fire", service="printers", impact="low", urgency="low"
        )
        built = _build_window(app, load_settings(tmp_path / "s.toml"), cache, demo=False)
        qtbot.addWidget(built)
        built.show()
        built.table.move_selection(1)
        built.menu_actions.call_on_call.trigger()
        assert built.on_call_dialog is None
        assert "No on-call data" in built.banner.text()
    finally:
        cache.close()
