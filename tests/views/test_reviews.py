"""The Reviews (Ctrl+5) and Problems (Ctrl+7) views over the demo's cache: a real window,
a real cache file, keys pressed as an operator would, the PDF rendered by poppler."""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from console.app import gui as console_app
from console.views.command_palette import CommandPalette
from console.views.reviews import ProblemsView, ReviewsView


def _window(qtbot: QtBot, tmp_path: Path) -> tuple[console_app.MainWindow, object]:
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


def test_ctrl5_shows_reviews_due_overdue_held_and_filters_as_you_type(
    qtbot: QtBot, tmp_path: Path
) -> None:
    window, cache = _window(qtbot, tmp_path)
    try:
        window.resize(1280, 720)
        window.show()
        window.table.setFocus()
        qtbot.keyClick(window.table, Qt.Key.Key_5, Qt.KeyboardModifier.ControlModifier)
        view = window.tabs.currentWidget()
        assert isinstance(view, ReviewsView)
        statuses = [r.status for r in view.review_model.rows]
        assert statuses[0] == "overdue"
        assert {"held", "approved", "due"} <= set(statuses)
        assert any(i.overdue for i in view.item_model.rows)
        assert "overdue: 1 reviews" in view.summary.text()
        window.grab().save(str(tmp_path / "reviews-1280.png"))
        # Keyboard: / to filter, 3 for the overdue bucket.
        qtbot.keyClick(view.review_table, Qt.Key.Key_Slash)
        assert view.search.hasFocus()
        number = view.review_model.rows[-1].incident_number
        qtbot.keyClicks(view.search, number.lower())
        assert [r.incident_number for r in view.review_model.rows] == [number]
        view.search.clear()
        view.review_table.setFocus()
        qtbot.keyClick(view.review_table, Qt.Key.Key_3)
        assert {r.status for r in view.review_model.rows} == {"overdue"}
        window.resize(1920, 1080)
        window.grab().save(str(tmp_path / "reviews-1920.png"))
        # Ctrl+7: the problems, one a known error.
        qtbot.keyClick(view.review_table, Qt.Key.Key_7, Qt.KeyboardModifier.ControlModifier)
        problems = window.tabs.currentWidget()
        assert isinstance(problems, ProblemsView)
        states = {p["state"] for p in problems.model.rows}
        assert states == {"known_error", "investigating"}
        assert "Linked incidents" in problems.detail.toPlainText()
        window.grab().save(str(tmp_path / "problems-1280.png"))
        # In the command palette and the menus (the cheat sheet lists the same actions).
        names = [a.text() for a in window.menu_actions.all_actions()]
        assert "Re&views" in names
        assert "Pro&blems" in names
        palette = window.findChild(CommandPalette)
        assert palette is None or isinstance(palette, CommandPalette)
    finally:
        cache.close()  # type: ignore[attr-defined]
    shutil.copy(tmp_path / "reviews-1280.png", "/tmp/pir20-reviews-1280.png")
    shutil.copy(tmp_path / "reviews-1920.png", "/tmp/pir20-reviews-1920.png")
    shutil.copy(tmp_path / "problems-1280.png", "/tmp/pir20-problems-1280.png")


def test_ctrl_p_prints_the_selected_review_to_pdf(qtbot: QtBot, tmp_path: Path) -> None:
    window, cache = _window(qtbot, tmp_path)
    try:
        view = next(v for v in window.side_views if isinstance(v, ReviewsView))
        out = tmp_path / "review.pdf"
        view._choose_pdf = lambda _suggested: str(out)
        held = next(i for i, r in enumerate(view.review_model.rows) if r.status == "held")
        view.review_table.setCurrentIndex(view.review_model.index(held, 0))
        number = view.review_model.rows[held].incident_number
        window.show()
        window.menu_actions.show_reviews.trigger()
        view.review_table.setFocus()
        qtbot.keyClick(view.review_table, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
        assert out.exists()
        if shutil.which("pdftotext"):
            text = subprocess.run(
                ["pdftotext", str(out), "-"], capture_output=True, text=True, check=True
            ).stdout
            assert f"Post-incident review: {number}" in text
            assert "canary" in text
    finally:
        cache.close()  # type: ignore[attr-defined]


def test_the_wizard_can_suggest_the_known_error_of_a_problem(qtbot: QtBot, tmp_path: Path) -> None:
    from console.domain.triage import KnownError, search_known_errors

    window, cache = _window(qtbot, tmp_path)
    try:
        rows = cache.reference("known_errors")  # type: ignore[attr-defined]
        known = [KnownError.from_mapping(r) for r in rows]
        [problem] = [k for k in known if k.id == "problem-1"]
        matches = search_known_errors(known, text="batch loads hang", service=problem.services[0])
        assert matches[0].known_error.id == "problem-1"
        assert "PRB-000001" in (matches[0].known_error.article or "")
        assert isinstance(window.menu_actions.show_reviews, QAction)
    finally:
        cache.close()  # type: ignore[attr-defined]
