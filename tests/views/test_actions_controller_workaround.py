"""Applying a known error's workaround in the triage is recorded on the new incident."""

from __future__ import annotations

import argparse
from pathlib import Path

from pytestqt.qtbot import QtBot

from console.app import gui as console_app
from console.services.triage_context import NewIncident


def test_a_workaround_applied_in_the_triage_is_a_work_note_naming_the_problem(
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
        [problem] = [p for p in cache.reference("problems") if p.get("known_error_id")]
        known = str(problem["known_error_id"])
        fields: dict[str, object] = {
            "title": "Batch loads hang again",
            "service": cache.reference("services")[0]["id"],
            "impact": "medium",
            "urgency": "medium",
        }
        assert window.controller.perform_triage(NewIncident(fields, workaround=known)) is None
        queued = cache.pending_outbox()
        assert [e.operation for e in queued[-2:]] == ["create", "workaround"]
        local_id = queued[-1].incident_id
        [note] = [e for e in cache.timeline(local_id) if e.data.get("workaround") == known]
        assert problem["number"] in note.body
        assert note.data["problem"] == problem["number"]
    finally:
        cache.close()
