"""What the console opens on: the running major incident while one is open, else the top row.

The window as ``noc-console`` builds it (``_build_window``) over a real cache
file: the demo's, and a seeded one whose top row is not a major incident.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from console.app.gui import _build_window
from console.config.settings import load_settings
from console.domain.lifecycle import State
from console.domain.severity import Severity
from console.store import Cache
from console.views.main_window import MainWindow
from console.views.major_workspace import MajorWorkspace
from tests.helpers.factories import desk_incident


def _window(qtbot: QtBot, tmp_path: Path, cache: Cache, *, demo: bool) -> MainWindow:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    window = _build_window(app, load_settings(tmp_path / "settings.toml"), cache, demo=demo)
    qtbot.addWidget(window)
    return window


def test_the_demo_opens_on_its_most_severe_oldest_open_major(qtbot: QtBot, tmp_path: Path) -> None:
    cache = Cache.open(tmp_path / "cache.db")
    window = _window(qtbot, tmp_path, cache, demo=True)
    majors = [i for i in window.model.shown() if i.major and i.is_open]
    assert majors  # the demo runs several
    expected = min(majors, key=lambda i: (int(i.severity), i.opened_at))
    current = window.current_incident()
    assert current is not None
    assert current.number == expected.number
    assert window.table.selected_incident() == current  # selected in the queue, detail shown
    shown = window.detail.incident
    assert shown is not None
    assert shown.id == current.id
    # The major incident workspace lists the same one on top.
    workspace = window.findChild(MajorWorkspace)
    assert isinstance(workspace, MajorWorkspace)
    workspace.refresh()
    workspace.majors.setCurrentRow(0)
    top = workspace.current()
    assert top is not None
    assert top.incident.id == current.id
    cache.close()


def test_the_running_major_is_chosen_over_a_more_urgent_top_row(
    qtbot: QtBot, tmp_path: Path
) -> None:
    cache = Cache.open(tmp_path / "cache.db")
    cache.upsert_incidents(
        [
            # Unacknowledged, old and breaching: the top of the queue, not a major one.
            desk_incident(1, Severity.SEV1, age_min=600, state=State.NEW, acknowledged_at=None),
            desk_incident(2, Severity.SEV2, age_min=900, major=True),  # older, less severe
            desk_incident(3, Severity.SEV1, age_min=30, major=True),  # the newer SEV-1 major
            desk_incident(4, Severity.SEV1, age_min=90, major=True),  # the one being run
            desk_incident(5, Severity.SEV1, age_min=800, major=True, state=State.RESOLVED),
        ]
    )
    window = _window(qtbot, tmp_path, cache, demo=False)
    assert window.model.shown()[0].id == "inc-1"
    current = window.current_incident()
    assert current is not None
    assert current.id == "inc-4"
    cache.close()


def test_without_an_open_major_the_top_row_is_selected(qtbot: QtBot, tmp_path: Path) -> None:
    cache = Cache.open(tmp_path / "cache.db")
    cache.upsert_incidents(
        [
            desk_incident(1, Severity.SEV2, age_min=20),
            desk_incident(2, Severity.SEV1, age_min=5, major=True, state=State.CLOSED),
            desk_incident(3, Severity.SEV3, age_min=200),
        ]
    )
    window = _window(qtbot, tmp_path, cache, demo=False)
    current = window.current_incident()
    assert current is not None
    assert current.id == window.model.shown()[0].id
    cache.close()
