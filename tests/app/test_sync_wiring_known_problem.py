"""In the triage wizard, Alt+L opens the Problems view on the suggested known error's problem.

The window as ``run_gui`` builds it over the demo's cache file (a real SQLite file);
the wizard opened as N opens it, keys pressed on it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from console.app import gui as console_app
from console.domain.triage import KnownError, KnownErrorMatch
from console.views.reviews import ProblemsView
from console.views.triage.wizard import TriageWizard


def test_alt_l_in_the_wizard_opens_the_known_errors_problem_and_keeps_the_call(
    qtbot: QtBot, tmp_path: Path
) -> None:
    args = argparse.Namespace(config_dir=str(tmp_path / "config"), data_dir=str(tmp_path / "d"))
    cache = console_app._open_cache(console_app._data_folder(args))
    try:
        window = console_app._build_window(
            console_app._application(), console_app._load_settings(args), cache, demo=True
        )
        qtbot.addWidget(window)
        window.ticker.stop()
        window.resize(1280, 720)
        window.show()
        qtbot.waitExposed(window)
        [problem] = [p for p in cache.reference("problems") if p.get("known_error_id")]
        [raw] = [k for k in cache.reference("known_errors") if k["id"] == problem["known_error_id"]]
        known = KnownError.from_mapping(raw)
        assert window.menu_actions.show_known_problem.shortcut().toString() == "Alt+L"

        window.controller.ask_new()  # N
        wizard = window.controller.dialog
        assert isinstance(wizard, TriageWizard)
        qtbot.waitExposed(wizard)
        wizard.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is wizard)
        # The last page's suggestion, as the triage makes it for a matching call.
        wizard.before.set_known_errors([KnownErrorMatch(known, 0.95, ("same symptoms",))], "")
        assert problem["number"] in wizard.before.workaround.text()
        assert "Alt+L" in wizard.before.workaround.text()
        wizard.intake.details.setPlainText("Batch loads hang since 02:00")

        qtbot.keyClick(wizard, Qt.Key.Key_L, Qt.KeyboardModifier.AltModifier)
        qtbot.waitUntil(lambda: not wizard.isVisible())
        view = window.tabs.currentWidget()
        assert isinstance(view, ProblemsView)
        selected = view.selected_problem()
        assert selected is not None
        assert selected["number"] == problem["number"]
        # The call waits as a draft: N offers it back.
        drafts = wizard.context.drafts
        assert drafts is not None
        draft = drafts.load()
        assert draft is not None
        assert "Batch loads hang" in draft.text("details")
    finally:
        cache.close()
