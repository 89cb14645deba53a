"""The connector registry: URL scheme → connector, lazily imported, one path for GUI and CLI.

The fake connector below is registered by this test alone (this module is its
entry module), and opened through the same functions the desktop console
(``console.app``) and ``noc-console sync`` use.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

import pytest

from console.cli import sync as cli_sync
from console.config.settings import Settings
from console.connectors import registry
from console.connectors.base import Backend, ChangeBatch, EventStream, OpenOptions
from console.domain.incident import Incident, TimelineEvent
from console.domain.roles import Caller
from console.store import Cache

FAKE = registry.Connector(
    name="Fake desk",
    schemes=("fake",),
    module=__name__,
    token_hint="the fake desk's token page",
)

# ------------------------------------------------------- the fake connector's entry module


def address(text: str) -> str:
    """Opener.address: ``fake://desk/`` → ``fake://desk``."""
    return text.strip().rstrip("/")


def open_backend(url: str, token: str | None, settings: Settings, options: OpenOptions) -> Backend:
    """Opener.open_backend."""
    return FakeBackend(url, token, options.queue)


def poll_interval(settings: Settings) -> timedelta:
    """Opener.poll_interval: its own, not the settings' default."""
    return timedelta(seconds=42)


class FakeBackend:
    """A backend with no incidents, enough for a sync and a connection test."""

    supports_events = False

    def __init__(self, url: str, token: str | None, queue: str | None) -> None:
        self.url = url
        self.key = f"{url}#{queue}"
        self.token = token
        self.closed = False

    @property
    def token_hint(self) -> str:
        return FAKE.token_hint

    def set_token(self, token: str) -> None:
        self.token = token

    def holdings(self) -> list[tuple[str, str]]:
        return [("Incidents", self.url)]

    def take_notices(self) -> list[str]:
        return []

    def close(self) -> None:
        self.closed = True

    def changes(self, after: int, limit: int = 100) -> ChangeBatch:
        return ChangeBatch(cursor=max(after, 7), more=False)

    def whoami(self) -> Caller | None:
        return Caller(name="fake-operator", role="dispatcher")

    def latest_cursor(self) -> int | None:
        return 7

    def open_events(self, last_seen: int | None) -> EventStream:
        raise NotImplementedError  # supports_events is False: never asked

    def get_incident(self, incident_id: str) -> Incident:
        raise KeyError(incident_id)

    def create_incident(self, fields: Mapping[str, object], *, idempotency_key: str) -> Incident:
        raise NotImplementedError

    def update_incident(
        self,
        incident_id: str,
        changes: Mapping[str, object],
        *,
        version: int,
        idempotency_key: str,
    ) -> Incident:
        raise NotImplementedError

    def add_timeline_entry(
        self, incident_id: str, kind: str, text: str, *, idempotency_key: str
    ) -> TimelineEvent:
        raise NotImplementedError


@pytest.fixture
def fake_registered(monkeypatch: pytest.MonkeyPatch) -> registry.Connector:
    """The fake connector registered for ``fake://`` for one test (the registry restored after)."""
    monkeypatch.setattr(registry, "CONNECTORS", dict(registry.CONNECTORS))
    registry.register(FAKE)
    return FAKE


# ------------------------------------------------------------------ tests


def test_a_fake_connector_registered_by_a_test_alone_is_opened_by_the_shared_path(
    fake_registered: registry.Connector,
) -> None:
    url = registry.backend_address("FAKE://desk.example/")
    assert url == "FAKE://desk.example"
    backend = registry.open_backend(url, "s3cret", Settings(), queue="ops")
    assert isinstance(backend, FakeBackend)
    assert (backend.key, backend.token) == ("FAKE://desk.example#ops", "s3cret")
    assert registry.poll_interval_for(url, Settings()) == 42
    assert registry.token_hint(url) == "the fake desk's token page"
    assert registry.needs_settings(url) is False


def test_the_gui_connects_to_the_fake_connector(fake_registered: registry.Connector) -> None:
    pytest.importorskip("PySide6")
    from console.app.settings import try_connection

    said = try_connection("fake://desk.example", "s3cret", Settings())
    assert said == "Connected to fake://desk.example as fake-operator (dispatcher)."


def test_noc_console_sync_syncs_with_the_fake_connector(
    fake_registered: registry.Connector, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TOKEN", "s3cret")
    args = argparse.Namespace(
        backend="fake://desk.example",
        once=True,
        token_env="FAKE_TOKEN",
        ca_bundle=None,
        queue="ops",
        insecure_http=False,
        data_dir=str(tmp_path / "data"),
        config_dir=str(tmp_path / "config"),
    )
    assert cli_sync.run(args) == cli_sync.EXIT_OK
    with Cache.open(tmp_path / "data" / cli_sync.CACHE_FILE) as cache:
        assert cache.incident_count() == 0


def test_the_token_prompt_names_the_connectors_own_token(
    fake_registered: registry.Connector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_sync, "resolve_token", lambda url, token_env=None: None)
    monkeypatch.setattr(cli_sync, "store_token", lambda url, secret: None)
    prompts: list[str] = []
    secret = cli_sync.token_for("fake://desk.example", None, ask=lambda p: prompts.append(p) or "t")
    assert secret == "t"
    assert prompts == ["API token for fake://desk.example (the fake desk's token page): "]


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://noc.example.com", "our server"),
        ("http://127.0.0.1:8080", "our server"),
        ("rt+https://rt.example.org", "Request Tracker"),
        ("RT+HTTPS://rt.example.org", "Request Tracker"),
        (" rt+http://localhost/rt ", "Request Tracker"),
    ],
)
def test_the_scheme_picks_the_connector(url: str, name: str) -> None:
    assert registry.connector_for(url).name == name


def test_the_rt_connector_has_its_settings_table_and_token_wording() -> None:
    rt = registry.connector_for("rt+https://rt.example.org")
    assert rt.settings_table == "rt"
    assert "RT auth token" in rt.token_hint
    assert registry.connector_for("https://noc.example.com").settings_table is None


@pytest.mark.parametrize("url", ["ftp://noc.example.com", "noc.example.com", "rt+ftp://rt.example"])
def test_an_unknown_scheme_says_which_schemes_exist(url: str) -> None:
    with pytest.raises(ValueError) as caught:
        registry.backend_address(url)
    message = str(caught.value)
    assert repr(url) in message
    assert "https://… or http://… (our server)" in message
    assert "rt+https://… or rt+http://… (Request Tracker)" in message


def test_choosing_a_backend_imports_no_connector() -> None:
    """Resolving a scheme loads nothing; our server's connector loads only when it is used."""
    code = (
        "import sys\n"
        "from console.connectors import registry\n"
        "registry.connector_for('rt+https://rt.example.org')\n"
        "registry.connector_for('https://noc.example.com')\n"
        "assert 'console.connectors.rt' not in sys.modules\n"
        "assert 'console.connectors.noc' not in sys.modules\n"
        "registry.backend_address('https://noc.example.com')\n"
        "assert 'console.connectors.noc' in sys.modules\n"
        "assert 'console.connectors.rt' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
