"""A closure made on another console prompts for a problem here, once, for the incident's owner.

The console is built the way ``run_gui`` builds it, syncing with the embedded
server over loopback HTTP (real server, real cache file); "another console" is
a second client of that server with its own token. The keyring is the
in-memory one from ``tests/conftest.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytestqt.qtbot import QtBot

from console.app import gui as console_app
from console.cli.main import gui_parser
from console.server.core import auth
from console.sync.engine import SyncState

NEW = {"title": "Checkout returns 502", "service": "checkout", "impact": "high", "urgency": "low"}
TIMEOUT_MS = 30_000
OPERATOR = "Jo Kim"  # who this console's operator is (settings.toml)


@pytest.fixture
def opened(qtbot: QtBot, qapp: object, tmp_path: Path) -> Iterator[Any]:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "settings.toml").write_text(f'operator = "{OPERATOR}"\n')
    args = gui_parser().parse_args(
        ["--data-dir", str(tmp_path / "data"), "--config-dir", str(tmp_path / "config")]
    )
    settings = console_app._load_settings(args)
    folder = console_app._data_folder(args)
    cache = console_app._open_cache(folder)
    connection = console_app.connect_backend(args, settings, cache, folder)
    window = console_app._build_window(
        console_app._application(), settings, cache, demo=False, on_queued=connection.edit_queued
    )
    window.resize(1280, 720)
    sync = console_app.ConsoleSync(connection, window, cache, interactive=False)
    window.show()
    sync.start()
    try:
        yield window, sync, connection, cache
    finally:
        assert sync.stop()
        cache.close()
        connection.close()
        window.close()
        window.deleteLater()


def test_a_closure_from_another_console_prompts_its_owner_once(qtbot: QtBot, opened: Any) -> None:
    window, sync, connection, cache = opened
    qtbot.waitUntil(lambda: sync.status.state == SyncState.LIVE.value, timeout=TIMEOUT_MS)
    notices: list[str] = []
    shown = window.show_notice
    window.show_notice = lambda text: (notices.append(text), shown(text))
    token = connection.embedded.server.issue_token(f"other-{uuid.uuid4().hex[:6]}", auth.Role.ADMIN)
    with httpx.Client(
        base_url=connection.url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as other:

        def move(incident: dict[str, Any], **fields: Any) -> dict[str, Any]:
            response = other.patch(
                f"/v1/incidents/{incident['id']}",
                json=fields,
                headers={"If-Match": f'"{incident["version"]}"'},
            )
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            return body

        incident = other.post("/v1/incidents", json=NEW).json()
        incident = move(incident, state="triaged")
        incident = move(incident, state="in_progress", assignee=OPERATOR)
        incident = move(incident, state="resolved")
        pir = other.post("/v1/pirs", json={"incident_id": incident["id"]}).json()
        patched = other.patch(
            f"/v1/pirs/{pir['id']}",
            json={"root_cause_known": False},
            headers={"If-Match": f'"{pir["version"]}"'},
        )
        assert patched.status_code == 200, patched.text

        def seen_resolved() -> bool:
            row = window.model.queue.get(incident["id"])
            return row is not None and row.state.value == "resolved"

        qtbot.waitUntil(seen_resolved, timeout=TIMEOUT_MS)
        assert window.model.queue.is_mine(window.model.queue.get(incident["id"]))
        incident = move(incident, state="closed")
        qtbot.waitUntil(lambda: any("closed:" in n for n in notices), timeout=TIMEOUT_MS)
        [prompt] = [n for n in notices if "closed:" in n]
        assert prompt.startswith(f"{incident['number']} closed: the review names an unknown")
        assert "Ctrl+Shift+B" in prompt
        # More news of the same incident: not prompted again.
        note = other.post(
            f"/v1/incidents/{incident['id']}/timeline",
            json={"kind": "work_note", "body": "Closed after the vendor's fix"},
        )
        assert note.status_code == 201, note.text
        qtbot.waitUntil(
            lambda: any(
                e.body == "Closed after the vendor's fix" for e in cache.timeline(incident["id"])
            ),
            timeout=TIMEOUT_MS,
        )
    assert len([n for n in notices if "closed:" in n]) == 1
