"""Fixtures for the connector tests: our server on loopback, tokens, a connector."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from console.connectors.noc import NocBackend
from console.server.core.auth import Role
from console.server.core.settings import Settings, sqlite_url
from console.server.embedded import EmbeddedServer


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    """The reference server over real HTTP on 127.0.0.1 (port 0), stopped afterwards."""
    settings = Settings(
        db_url=sqlite_url(tmp_path / "server.db"),
        host="127.0.0.1",
        port=0,
        sse_heartbeat_s=0.3,
        feed_poll_s=0.5,
    )
    embedded = EmbeddedServer(settings).start()
    yield embedded
    embedded.stop()


@pytest.fixture
def backend(server: EmbeddedServer) -> Iterator[NocBackend]:
    """A connector with a dispatcher's token."""
    connector = NocBackend(server.url, server.issue_token("console-a", Role.DISPATCHER))
    yield connector
    connector.close()
