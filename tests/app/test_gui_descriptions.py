"""The console loads the queue without descriptions and reads the one the detail pane shows.

At 100k incidents the descriptions are ~15 MB that no list shows, so the
window's records leave them out; the detail pane and the title tooltip read
the description of the incident they show from the cache (a real file here).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from console.app import gui as console_app
from console.models.incident_table import Column
from console.store import Cache
from tests.helpers.factories import desk_incident as make_incident

LONG = "Card payments in the EU stores fail with a 502 from the PSP gateway since 09:40."


def test_the_detail_pane_and_tooltip_read_the_description_from_the_cache(
    qtbot: QtBot, tmp_path: Path
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    with Cache.open(folder / "cache.db") as cache:
        cache.upsert_incidents(
            [replace(make_incident(1), description=LONG), make_incident(2, description="")]
        )
        assert [i.description for i in cache.incidents(descriptions=False)] == ["", ""]
        assert cache.description("inc-1") == LONG
        assert cache.description("no-such-incident") == ""
    args = argparse.Namespace(config_dir=str(tmp_path / "config"), data_dir=str(folder))
    cache = console_app._open_cache(console_app._data_folder(args))
    try:
        window = console_app._build_window(
            console_app._application(), console_app._load_settings(args), cache, demo=False
        )
        qtbot.addWidget(window)
        model = window.model
        loaded = model.queue.get("inc-1")
        assert loaded is not None
        assert loaded.description == ""  # not held by the queue
        window.select_incident("inc-1")
        assert window.detail.fields["description"].text() == LONG
        row = next(r for r in range(model.rowCount()) if model.incident_at(r).id == "inc-1")
        tooltip = model.index(row, list(Column).index(Column.TITLE)).data(
            Qt.ItemDataRole.ToolTipRole
        )
        assert tooltip == LONG
        window.select_incident("inc-2")
        assert window.detail.fields["description"].text() == "—"
    finally:
        cache.close()
