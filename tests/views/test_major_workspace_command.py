"""The workspace's command: settings, the executive summary, the registry's War room menu.

Real cache file, the real outbox writer (LocalEdits), the real dialogs; only
the phone app is replaced (``open_url``) so a test dials nobody.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMainWindow, QTabWidget
from pytestqt.qtbot import QtBot

from console.config.settings import MajorSettings
from console.store import Cache
from console.sync.edits import LocalEdits
from console.views.actions import MainWindowActions
from console.views.major_summary import SummaryDialog
from console.views.major_workspace import install
from tests.helpers.war_room import command_view, seed_command


def test_templates_cadence_and_roles_come_from_settings(qtbot: QtBot, tmp_path: Path) -> None:
    cache = Cache.open(tmp_path / "cache.db")
    seed_command(cache)
    major = MajorSettings(
        cadence_minutes={1: 60, 2: 30},
        templates={
            "SEV-1": {"internal": "Ours: {{ service }} / {{ status }}"},
            "default": {"executive": "{{ password }}"},  # hand-edited, bad
        },
    )
    view, _ = command_view(qtbot, cache, major=major)
    view.audience.setCurrentText("internal")
    assert view.draft.toPlainText() == "Ours: Payments API / investigating"
    # 60-minute cadence from the declaration 40 min ago: 20 minutes left.
    assert "20:00" in view.countdowns["internal"].text()
    view.audience.setCurrentText("executive")
    assert "major.templates.default.executive" in view.message.text()
    assert "unknown field 'password'" in view.message.text()
    assert "major incident on Payments API" in view.draft.toPlainText()  # the built-in one
    cache.close()


def test_the_executive_summary_is_one_screen_copied_as_text_and_printed(
    qtbot: QtBot, tmp_path: Path
) -> None:
    cache = Cache.open(tmp_path / "cache.db")
    seed_command(cache)
    view, _ = command_view(qtbot, cache)
    dialog = view.show_summary()
    assert isinstance(dialog, SummaryDialog)
    qtbot.addWidget(dialog)
    shown = dialog.view.toPlainText()
    for words in ("Payments down", "Payments API", "11:30 UTC", "Iris Lane", "internal:"):
        assert words in shown, (words, shown)
    dialog.copy_text()
    copied = QGuiApplication.clipboard().text()
    assert copied == dialog.summary.text()
    assert "ETA" in copied
    assert "Incident Commander: Iris Lane (+442079460000)" in copied
    pdf = dialog.print_pdf(tmp_path / "summary.pdf")
    assert pdf is not None
    assert pdf.read_bytes().startswith(b"%PDF")
    cache.close()


def test_install_wires_the_major_menu_of_the_registry(qtbot: QtBot, tmp_path: Path) -> None:
    cache = Cache.open(tmp_path / "cache.db")
    seed_command(cache)
    window = QMainWindow()
    qtbot.addWidget(window)
    tabs = QTabWidget(window)
    window.setCentralWidget(tabs)
    actions = MainWindowActions([("light", "Light")], "light", window)
    assert not actions.major_summary.isEnabled()  # until a workspace is installed
    window.menu_actions = actions  # type: ignore[attr-defined]
    workspace = install(window, tabs, cache, LocalEdits(cache, author="Iris Lane"))
    assert all(a.isEnabled() for a in actions.major_actions)
    tabs.addTab(QMainWindow(), "other")
    tabs.setCurrentIndex(1)
    actions.major_accept_role.trigger()
    assert tabs.currentWidget() is workspace  # the workspace is shown first
    assert cache.pending_outbox()[0].payload["command"] == "role"
    read_only = MainWindowActions([("light", "Light")], "light", window)
    other = QMainWindow()
    qtbot.addWidget(other)
    other.menu_actions = read_only  # type: ignore[attr-defined]
    install(other, QTabWidget(other), cache, None)
    assert read_only.major_summary.isEnabled()
    assert not read_only.major_accept_role.isEnabled()  # the demo shows, never edits
    cache.close()
