"""The detail pane's review line and the queue's review:overdue term, over the demo's cache."""

from __future__ import annotations

import argparse
from pathlib import Path

from pytestqt.qtbot import QtBot

from console.app import gui as console_app


def test_an_overdue_review_shows_on_the_detail_and_in_the_review_overdue_filter(
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
        [late] = [
            d
            for d in cache.reference("pirs")
            if d["status"] == "draft" and d["due_at"] < window.model.queue.now.isoformat()
        ]
        window.detail.show_incident(late["incident_id"])
        assert window.detail.review_line.isVisible()
        assert window.detail.review_line.text().startswith("Review overdue since")
        window.filter_bar.search.setText("review:overdue")

        def shown() -> set[str]:
            return {window.model.incident_at(r).id for r in range(window.model.rowCount())}

        qtbot.waitUntil(lambda: late["incident_id"] in shown())
        assert shown() <= window.model.queue.review_overdue
        window.grab().save(str(tmp_path / "overdue.png"))
    finally:
        cache.close()
