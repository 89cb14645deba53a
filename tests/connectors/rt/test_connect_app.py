"""The desktop console on Request Tracker: the window wired as ``run_gui`` wires it.

A real RT (the ``rt`` fixture), the real connector and sync worker; the window
is driven with pytest-qt instead of ``app.exec()``. It shows which system
holds what, and says what the RT admin must add.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from console.app import gui as console_app
from console.cli.main import gui_parser
from console.sync.engine import SyncState
from tests.helpers.rtserver import RtInstance

pytestmark = pytest.mark.slow
TIMEOUT_MS = 60_000


@pytest.fixture
def open_console(
    qtbot: QtBot, qapp: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rt: RtInstance
) -> Iterator[Callable[[str], console_app.ConsoleSync]]:
    """Open the console on ``rt`` with the given settings.toml; stopped as run_gui does."""
    opened: list[tuple[console_app.ConsoleSync, object, console_app.Connection]] = []
    monkeypatch.setenv("RT_TOKEN", rt.token)

    def make(settings_text: str) -> console_app.ConsoleSync:
        config = tmp_path / "config"
        config.mkdir(exist_ok=True)
        (config / "settings.toml").write_text(settings_text, encoding="utf-8")
        args = gui_parser().parse_args(
            [
                *("--data-dir", str(tmp_path / "data"), "--config-dir", str(config)),
                *("--backend", f"rt+{rt.url}", "--queue", rt.queue, "--token-env", "RT_TOKEN"),
            ]
        )
        settings = console_app._load_settings(args)
        folder = console_app._data_folder(args)
        cache = console_app._open_cache(folder)
        connection = console_app.connect_backend(args, settings, cache, folder)
        window = console_app._build_window(
            console_app._application(),
            settings,
            cache,
            demo=False,
            on_queued=connection.edit_queued,
        )
        sync = console_app.ConsoleSync(connection, window, cache, interactive=False)
        opened.append((sync, cache, connection))
        window.show()
        sync.start()
        return sync

    yield make
    for sync, cache, connection in opened:
        assert sync.stop()
        cache.close()  # type: ignore[attr-defined]
        connection.close()
        sync.window.close()


def test_the_window_says_which_system_holds_what(
    qtbot: QtBot, rt: RtInstance, tmp_path: Path, open_console: Callable[..., object]
) -> None:
    ticket = rt.create_ticket(
        "Checkout returns 502", CustomFields={"Impact": "high", "Service": "checkout"}
    )
    directory = tmp_path / "directory.json"
    directory.write_text(
        json.dumps({"services": [{"id": "checkout", "name": "Checkout", "criticality": "high"}]}),
        encoding="utf-8",
    )
    sync = open_console(
        f'[rt]\ndirectory = "{directory}"\n[rt.custom_fields]\nsubcategory = "Subcategory"\n'
    )
    assert isinstance(sync, console_app.ConsoleSync)
    window = sync.window
    qtbot.waitUntil(lambda: sync.status.state == SyncState.LIVE.value, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.model.queue.get(f"rt-{ticket}") is not None, timeout=TIMEOUT_MS)

    holds = window.connection_label.toolTip()
    assert f"Request Tracker {rt.url}, queue {rt.queue}" in holds
    assert f"Escalation matrix, on-call, services, teams, contacts: file {directory}" in holds
    assert "checking every 10 s" in window.connection_label.text()
    matrix = window.matrix
    assert matrix is not None
    tab = window.tabs.tabToolTip(window.tabs.indexOf(matrix))
    assert f"Escalation matrix, on-call, services, teams, contacts: file {directory}" in tab
    header = matrix.matrix.horizontalHeader().toolTip()  # type: ignore[attr-defined]
    assert f"Request Tracker {rt.url}, queue {rt.queue}" in header
    # What the RT admin must add is said in the window, naming the guide.
    qtbot.waitUntil(lambda: "Subcategory" in window.notice_label.text(), timeout=TIMEOUT_MS)
    assert "docs/rt-setup.md" in window.notice_label.text()
    picture = tmp_path / "rt-console.png"
    assert window.grab().save(str(picture), "PNG")
