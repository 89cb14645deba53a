"""Editing reviews and problems from the keyboard: a real demo window, a real cache file.

The dialogs hand their form to LocalEdits: a refusal stays in the dialog with
the text typed; an accepted edit is shown at once and queued in the outbox.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from console.app import gui as console_app
from console.views.review_dialogs import (
    ActionItemDialog,
    ItemStateDialog,
    ProblemDialog,
    ReviewActions,
    ReviewDialog,
)
from console.views.reviews import ReviewsView


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


def _reviews(window: Any, qtbot: QtBot, *, with_items: bool = False) -> ReviewsView:
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_5, Qt.KeyboardModifier.ControlModifier)
    view = window.tabs.currentWidget()
    assert isinstance(view, ReviewsView)
    overdue = next(
        i
        for i, r in enumerate(view.review_model.rows)
        if (r.open_items > 0 if with_items else r.status == "overdue")
    )
    view.review_table.setCurrentIndex(view.review_model.index(overdue, 0))
    view.review_table.setFocus()
    return view


def test_an_action_item_due_in_the_past_is_refused_in_the_dialog_and_nothing_lost(
    qtbot: QtBot, tmp_path: Path
) -> None:
    window, cache = _window(qtbot, tmp_path)
    try:
        view = _reviews(window, qtbot)
        controller = view.review_actions
        assert isinstance(controller, ReviewActions)
        before = len(cache.pending_outbox())
        qtbot.keyClick(
            view.review_table,
            Qt.Key.Key_I,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
        )
        dialog = controller.dialog
        assert isinstance(dialog, ActionItemDialog)
        qtbot.waitExposed(dialog)
        dialog.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
        qtbot.keyClicks(dialog.title, "Add a canary stage to LB pushes")
        owner = dialog.owner.itemText(0)
        dialog.owner.setCurrentText(owner)
        dialog.due.setDateTime(dialog.due.dateTime().addDays(-30))
        dialog.grab().save(str(tmp_path / "item-dialog.png"))
        qtbot.keyClick(dialog.title, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        assert dialog.isVisible()
        assert "due date from now on" in dialog.error.text()
        assert dialog.title.text() == "Add a canary stage to LB pushes"
        assert len(cache.pending_outbox()) == before
        dialog.due.setDateTime(dialog.due.dateTime().addDays(60))
        qtbot.keyClick(dialog.title, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        assert not dialog.isVisible()
        [queued] = cache.pending_outbox()[before:]
        assert queued.payload["action"] == "pir_item"
        assert queued.payload["body"]["owner"] == owner
        shown = [i.title for i in view.item_model.rows]
        assert "Add a canary stage to LB pushes" in shown
    finally:
        cache.close()


def test_the_review_dialog_prompts_blameless_wording_and_queues_the_root_cause(
    qtbot: QtBot, tmp_path: Path
) -> None:
    window, cache = _window(qtbot, tmp_path)
    try:
        view = _reviews(window, qtbot, with_items=True)
        controller = view.review_actions
        assert isinstance(controller, ReviewActions)
        number = view.review_model.rows[view.review_table.currentIndex().row()].incident_number
        qtbot.keyClick(
            view.review_table,
            Qt.Key.Key_E,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
        )
        dialog = controller.dialog
        assert isinstance(dialog, ReviewDialog)
        assert "not the people" in dialog.heading.text()
        dialog.root_cause.setPlainText(
            "x" * 25_000
        )  # 1 MB: tests/sync (a text box lays it out slowly)
        dialog.accept()
        assert dialog.isVisible()
        assert "20,000 characters" in dialog.error.text()
        dialog.root_cause.setPlainText("The LB config push had no canary stage")
        dialog.resize(900, 640)
        dialog.grab().save("/tmp/pir20-review-dialog.png")
        dialog.accept()
        assert not dialog.isVisible()
        doc = next(d for d in cache.reference("pirs") if d["incident_number"] == number)
        assert doc["root_cause"] == "The LB config push had no canary stage"
        assert cache.pending_outbox()[-1].payload["action"] == "pir_patch"

        # Dropping an item needs the reason; Ctrl+Shift+U.
        qtbot.keyClick(
            view.review_table,
            Qt.Key.Key_U,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
        )
        items = controller.dialog
        assert isinstance(items, ItemStateDialog)
        items.state.setCurrentIndex(items.state.findData("dropped"))
        items.accept()
        assert "reason" in items.error.text()
        items.reason.setText("superseded by the LB rebuild")
        items.accept()
        assert not items.isVisible()

        # Ctrl+Shift+B: open a problem for this incident.
        qtbot.keyClick(
            view.review_table,
            Qt.Key.Key_B,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
        )
        problem = controller.dialog
        assert isinstance(problem, ProblemDialog)
        problem.statement.setText("LB config pushes break checkout")
        problem.accept()
        assert not problem.isVisible()
        assert any(
            p["statement"] == "LB config pushes break checkout" for p in cache.reference("problems")
        )
    finally:
        cache.close()
