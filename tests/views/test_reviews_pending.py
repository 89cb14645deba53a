"""An edit made offline shows at once in the Reviews and Problems views and the review form,
marked as waiting to be sent. A real window over the demo's cache file (no backend: the
edits stay in the outbox, as offline)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from console.app import gui as console_app
from console.app.sync_wiring import reload_reviews
from console.views.review_dialogs import ReviewActions, ReviewDialog
from console.views.reviews import ProblemsView, ReviewsView

CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def _window(qtbot: QtBot, tmp_path: Path) -> tuple[Any, Any]:
    args = argparse.Namespace(config_dir=str(tmp_path / "config"), data_dir=str(tmp_path / "d"))
    cache = console_app._open_cache(console_app._data_folder(args))
    window = console_app._build_window(
        console_app._application(), console_app._load_settings(args), cache, demo=True
    )
    qtbot.addWidget(window)
    window.ticker.stop()
    window.resize(1280, 720)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    return window, cache


def test_a_queued_review_edit_is_shown_at_once_and_marked_waiting(
    qtbot: QtBot, tmp_path: Path
) -> None:
    window, cache = _window(qtbot, tmp_path)
    try:
        window.table.setFocus()
        qtbot.keyClick(window.table, Qt.Key.Key_5, Qt.KeyboardModifier.ControlModifier)
        view = window.tabs.currentWidget()
        assert isinstance(view, ReviewsView)
        row = view.review_table.currentIndex().row()
        number = view.review_model.rows[row].incident_number
        assert "unsent" not in view.review_model.index(row, 3).data()
        view.review_table.setFocus()
        qtbot.keyClick(view.review_table, Qt.Key.Key_E, CTRL_SHIFT)
        controller = view.review_actions
        assert isinstance(controller, ReviewActions)
        dialog = controller.dialog
        assert isinstance(dialog, ReviewDialog)
        assert "waiting to be sent" not in dialog.heading.text()
        dialog.root_cause.setPlainText("Config pushes skip the canary stage")
        dialog.accept()

        row = next(i for i, r in enumerate(view.review_model.rows) if r.incident_number == number)
        status = view.review_model.index(row, 3)
        assert status.data().endswith(" · unsent")
        assert status.data(Qt.ItemDataRole.FontRole).italic()
        assert "waiting to be sent" in status.data(Qt.ItemDataRole.ToolTipRole)
        assert "waiting to be sent" in view.preview.toPlainText()
        assert "Config pushes skip the canary stage" in view.preview.toPlainText()
        view.grab().save(str(tmp_path / "reviews-pending.png"))
        # The form opened again shows the unsent text and says it waits.
        view.review_table.setCurrentIndex(view.review_model.index(row, 0))
        qtbot.keyClick(view.review_table, Qt.Key.Key_E, CTRL_SHIFT)
        again = controller.dialog
        assert isinstance(again, ReviewDialog)
        assert "waiting to be sent" in again.heading.text()
        assert again.root_cause.toPlainText() == "Config pushes skip the canary stage"
        again.reject()
        assert cache.pending_outbox()[-1].payload["action"] == "pir_patch"
    finally:
        window.close()
        cache.close()


def test_a_queued_problem_edit_is_marked_waiting_in_the_problems_view(
    qtbot: QtBot, tmp_path: Path
) -> None:
    window, cache = _window(qtbot, tmp_path)
    try:
        window.table.setFocus()
        qtbot.keyClick(window.table, Qt.Key.Key_7, Qt.KeyboardModifier.ControlModifier)
        view = window.tabs.currentWidget()
        assert isinstance(view, ProblemsView)
        problem = view.selected_problem()
        assert problem is not None
        assert not view.model.index(0, 1).data().endswith("unsent")
        reviews = next(v for v in window.side_views if isinstance(v, ReviewsView))
        assert isinstance(reviews.review_actions, ReviewActions)
        reviews.review_actions._edits.edit_problem(str(problem["id"]), change_ref="CHG-4711")
        reload_reviews(window, cache)  # what the Review menu's actions do after an edit
        row = next(i for i, p in enumerate(view.model.rows) if p["id"] == problem["id"])
        assert view.model.index(row, 1).data().endswith(" · unsent")
        assert view.model.index(row, 5).data() == "CHG-4711"
        view.table.setCurrentIndex(view.model.index(row, 0))
        assert "waiting to be sent" in view.detail.toPlainText()
    finally:
        window.close()
        cache.close()
