"""The console syncing for real: the embedded default, a remote server process, a refused token.

The window is built the way ``run_gui`` builds it (same functions, same
order), without ``app.exec()`` so the test drives the event loop with
pytest-qt. Servers are real: the embedded one in this process, ``python -m
console serve`` in a subprocess. The keyring is the in-memory one from
``tests/conftest.py`` (the OS keyring cannot run here).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from console.app import gui as console_app
from console.cli.main import gui_parser
from console.config.credentials import SERVICE
from console.connectors.noc import NocBackend, normalise_url
from console.store import Cache
from console.sync.engine import SyncState
from console.views.main_window import MainWindow
from tests.helpers.env import MemoryKeyring
from tests.helpers.processes import ServerProcess, SwarmServer, make_token, seed_incidents

NEW = {"title": "Checkout returns 502", "service": "checkout", "impact": "high", "urgency": "low"}
SYNC_TIMEOUT_MS = 30_000


@dataclass
class OpenConsole:
    """One console as ``run_gui`` wires it: window, sync, cache and connection."""

    window: MainWindow
    sync: console_app.ConsoleSync
    cache: Cache
    connection: console_app.Connection

    @property
    def state(self) -> str:
        return self.sync.status.state

    @property
    def status_text(self) -> str:
        return self.window.connection_label.text()


@pytest.fixture
def open_console(
    qtbot: QtBot, qapp: object, tmp_path: Path
) -> Iterator[Callable[..., OpenConsole]]:
    """Open consoles with private data/config folders; each is stopped like ``run_gui`` does."""
    opened: list[OpenConsole] = []

    def make(*argv: str, interactive: bool = False, name: str = "console") -> OpenConsole:
        args = gui_parser().parse_args(
            [
                "--data-dir",
                str(tmp_path / name / "data"),
                "--config-dir",
                str(tmp_path / name / "config"),
                *argv,
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
        window.resize(*console_app.WINDOW_SIZE)
        sync = console_app.ConsoleSync(connection, window, cache, interactive=interactive)
        console = OpenConsole(window, sync, cache, connection)
        opened.append(console)
        window.show()
        sync.start()
        return console

    yield make
    for console in reversed(opened):
        # run_gui's order: the sync before the cache, the server after both.
        assert console.sync.stop()
        console.cache.close()
        console.connection.close()
        console.window.close()
        console.window.deleteLater()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    """``python -m console serve`` on a seeded SQLite file, port 0; killed afterwards."""
    folder = tmp_path / "server"
    folder.mkdir()
    db = folder / "server.db"
    seed_incidents(db, 12)
    process = ServerProcess(db, folder, heartbeat=0.5)
    process.start()
    yield process
    process.kill()


def wait_state(qtbot: QtBot, console: OpenConsole, state: SyncState) -> None:
    qtbot.waitUntil(lambda: console.state == state.value, timeout=SYNC_TIMEOUT_MS)


@pytest.mark.slow
def test_with_no_backend_the_embedded_server_goes_live_and_takes_an_edit(
    qtbot: QtBot, open_console: Callable[..., OpenConsole]
) -> None:
    console = open_console()
    assert console.connection.embedded is not None
    assert console.connection.url.startswith("http://127.0.0.1:")
    wait_state(qtbot, console, SyncState.LIVE)
    assert console.status_text.startswith("● Live")

    # Someone else logs an incident on the (embedded) server: it reaches the queue.
    other = NocBackend(console.connection.url, _embedded_token(console))
    try:
        created = other.create_incident(NEW, idempotency_key=uuid.uuid4().hex)
        qtbot.waitUntil(
            lambda: console.window.model.queue.get(created.id) is not None,
            timeout=SYNC_TIMEOUT_MS,
        )
        assert console.window.select_incident(created.id)
        assert console.window.current_incident() is not None

        # The operator acknowledges it through the window's action: it reaches the server.
        console.window.menu_actions.acknowledge.trigger()
        qtbot.waitUntil(
            lambda: other.get_incident(created.id).acknowledged_at is not None,
            timeout=SYNC_TIMEOUT_MS,
        )
        qtbot.waitUntil(lambda: not console.cache.pending_outbox(), timeout=SYNC_TIMEOUT_MS)
    finally:
        other.close()


def _embedded_token(console: OpenConsole) -> str:
    """Another client of the embedded server, with a token of its own."""
    from console.server.core import auth

    embedded = console.connection.embedded
    assert embedded is not None
    return embedded.server.issue_token(f"test-{uuid.uuid4().hex[:6]}", auth.Role.DISPATCHER)


@pytest.mark.slow
def test_backend_option_syncs_a_real_server_with_the_keyring_token(
    qtbot: QtBot,
    open_console: Callable[..., OpenConsole],
    server: ServerProcess,
    memory_keyring: MemoryKeyring,
) -> None:
    token = make_token(server.db_path, "desk-1", "dispatcher")
    memory_keyring.set_password(SERVICE, normalise_url(server.url), token)

    console = open_console("--backend", server.url)
    assert console.connection.token_origin == "keyring"
    wait_state(qtbot, console, SyncState.LIVE)
    console.sync.pacer.flush()
    assert len(console.window.model.queue) == 12
    assert console.status_text.startswith(f"● Live — {normalise_url(server.url)}")
    assert "(just now)" in console.window.age_label.text()


@pytest.mark.slow
def test_an_unknown_token_shows_sign_in_needed_keeps_the_edit_and_a_new_token_resumes(
    qtbot: QtBot,
    open_console: Callable[..., OpenConsole],
    server: ServerProcess,
    memory_keyring: MemoryKeyring,
) -> None:
    url = normalise_url(server.url)
    memory_keyring.set_password(SERVICE, url, "not-a-token-the-server-knows")
    console = open_console("--backend", server.url, interactive=True)

    wait_state(qtbot, console, SyncState.AUTH_FAILED)
    assert console.status_text.startswith("⚠ Sign-in needed")
    # In the operator's words, short enough not to be cut off; the server's detail in the tip.
    assert "did not accept the API token" in console.status_text
    assert "Authorization" not in console.status_text
    assert "unknown or revoked" in console.window.connection_label.toolTip()
    assert "1 edit" not in console.status_text

    # The operator logs an incident while sign-in is needed: it stays queued, and counted.
    placeholder = console.window.controller._edits.create(**NEW)  # the window's outbox writer
    assert "1 edit waiting to be sent" in console.status_text
    assert [r.incident_id for r in console.cache.pending_outbox()] == [placeholder.id]

    # Interactive: the token dialog is open (once), and a good token resumes the sync.
    dialog = console.sync.token_dialog
    assert dialog is not None
    assert dialog.isVisible()
    console.sync.ask_token()
    assert console.sync.token_dialog is dialog
    assert "did not accept this token" in dialog.message.text()
    # A wrong token typed in: the dialog comes back, saying so.
    dialog.field.setText("still-not-a-token")
    dialog.accept()
    qtbot.waitUntil(
        lambda: (
            console.sync.token_dialog is not dialog
            and console.sync.token_dialog is not None
            and console.sync.token_dialog.isVisible()
        ),
        timeout=SYNC_TIMEOUT_MS,
    )
    dialog = console.sync.token_dialog
    assert dialog is not None
    assert "did not accept this token" in dialog.message.text()
    good = make_token(server.db_path, "desk-2", "dispatcher")
    dialog.field.setText(good)
    dialog.accept()
    assert memory_keyring.get_password(SERVICE, url) == good  # kept in the keyring
    wait_state(qtbot, console, SyncState.LIVE)
    qtbot.waitUntil(lambda: not console.cache.pending_outbox(), timeout=SYNC_TIMEOUT_MS)
    console.sync.pacer.flush()
    sent = [i for i in console.cache.incidents() if i.title == NEW["title"]]
    assert len(sent) == 1
    assert sent[0].id != placeholder.id
    assert console.window.model.queue.get(sent[0].id) is not None


@pytest.mark.slow
def test_no_stored_token_offscreen_shows_sign_in_needed_without_a_dialog(
    qtbot: QtBot, open_console: Callable[..., OpenConsole], server: ServerProcess
) -> None:
    console = open_console("--backend", server.url)
    assert console.connection.token_origin is None
    wait_state(qtbot, console, SyncState.AUTH_FAILED)
    assert console.sync.token_dialog is None
    assert console.status_text.startswith("⚠ Sign-in needed")


def test_a_bad_backend_url_or_ca_bundle_is_a_startup_error(tmp_path: Path) -> None:
    from console.config.settings import Settings

    cache = Cache.open(tmp_path / "cache.db")
    try:
        for argv in (
            ["--backend", "noc.example.com"],
            ["--backend", "https://noc.example.com", "--ca-bundle", str(tmp_path / "nope.pem")],
        ):
            args = gui_parser().parse_args(argv)
            with pytest.raises(console_app.StartupError):
                console_app.connect_backend(args, Settings(), cache, tmp_path)
    finally:
        cache.close()


def test_an_empty_token_env_variable_is_a_startup_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from console.config.settings import Settings

    monkeypatch.delenv("NOC_TEST_TOKEN", raising=False)
    args = gui_parser().parse_args(
        ["--backend", "https://noc.example.com", "--token-env", "NOC_TEST_TOKEN"]
    )
    cache = Cache.open(tmp_path / "cache.db")
    try:
        with pytest.raises(console_app.StartupError, match="NOC_TEST_TOKEN"):
            console_app.connect_backend(args, Settings(), cache, tmp_path)
    finally:
        cache.close()


@pytest.mark.slow
def test_an_escalation_on_the_server_raises_an_alert_on_the_console(
    qtbot: QtBot,
    open_console: Callable[..., OpenConsole],
    swarm_server: SwarmServer,
    memory_keyring: MemoryKeyring,
) -> None:
    from console.views.alerts import AlertNotifier

    url = swarm_server.process.url
    memory_keyring.set_password(SERVICE, normalise_url(url), swarm_server.tokens["dispatcher"])
    console = open_console("--backend", url)
    wait_state(qtbot, console, SyncState.LIVE)
    notifier = console.window.findChild(AlertNotifier)
    assert notifier is not None
    incident_id = swarm_server.create()
    qtbot.waitUntil(
        lambda: console.window.model.queue.get(incident_id) is not None, timeout=SYNC_TIMEOUT_MS
    )
    titles: list[str] = []
    notifier.notified.connect(lambda title, body: titles.append(f"{title} {body}"))
    # A commander elsewhere pulls in L2 and L3 at once.
    response = swarm_server.request(
        "POST",
        f"/v1/incidents/{incident_id}/engage",
        role="commander",
        json={"tiers": [2, 3], "reason": "customer-wide outage"},
    )
    assert response.status_code == 201, response.text
    qtbot.waitUntil(lambda: any("Escalat" in t for t in titles), timeout=SYNC_TIMEOUT_MS)


@pytest.mark.slow
def test_a_commanders_own_swarm_does_not_alarm_their_own_console(
    qtbot: QtBot,
    open_console: Callable[..., OpenConsole],
    swarm_server: SwarmServer,
    memory_keyring: MemoryKeyring,
) -> None:
    """The console signed in as the commander hears of an admin's swarm, not of its own."""
    from console.views.alerts import AlertNotifier

    url = swarm_server.process.url
    memory_keyring.set_password(SERVICE, normalise_url(url), swarm_server.tokens["commander"])
    console = open_console("--backend", url)
    wait_state(qtbot, console, SyncState.LIVE)
    notifier = console.window.findChild(AlertNotifier)
    assert notifier is not None
    titles: list[str] = []
    notifier.notified.connect(lambda title, body: titles.append(f"{title} {body}"))

    def swarm(role: str, tiers: list[int]) -> str:
        incident_id = swarm_server.create()
        qtbot.waitUntil(
            lambda: console.window.model.queue.get(incident_id) is not None,
            timeout=SYNC_TIMEOUT_MS,
        )
        response = swarm_server.request(
            "POST",
            f"/v1/incidents/{incident_id}/engage",
            role=role,
            json={"tiers": tiers, "reason": "customer-wide outage"},
        )
        assert response.status_code == 201, response.text
        return incident_id

    own = swarm("commander", [2, 3])  # as this console's own account, from elsewhere
    qtbot.waitUntil(
        lambda: any("swarm" in e.body for e in console.cache.timeline(own)),
        timeout=SYNC_TIMEOUT_MS,
    )
    other = swarm("admin", [2])
    number = console.window.model.queue.get(other)
    assert number is not None
    qtbot.waitUntil(lambda: any("Escalat" in t for t in titles), timeout=SYNC_TIMEOUT_MS)
    own_incident = console.window.model.queue.get(own)
    assert own_incident is not None
    assert not any(own_incident.number in t for t in titles), titles
    assert any(number.number in t for t in titles)
