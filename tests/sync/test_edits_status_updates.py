"""Publishing a major incident's update from the console: outbox → a real server → another console.

The server is ``noc-console serve`` in a subprocess; each console is a real
cache file, the NOC connector and the sync engine. The update is queued while
the console cannot reach the server (offline), sent once when it can, and
appears in a second console's cache through the change feed.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from console.connectors.base import Unreachable
from console.connectors.noc import NocBackend
from console.domain.errors import InvalidValue
from console.domain.incident import TimelineKind
from console.store import Cache
from console.sync.edits import LocalEdits
from console.sync.engine import Backoff, SyncEngine
from tests.helpers.processes import ServerProcess, make_token
from tests.helpers.sync import Recorder

FAST = Backoff(base=0.2, cap=1.0)
SEV1 = {
    "title": "Checkout returns 502",
    "service": "checkout",
    "impact": "high",
    "urgency": "high",
    "major": True,
    "commander": "Iris",
}


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServerProcess, dict[str, str]]]:
    folder = tmp_path_factory.mktemp("status-server")
    process = ServerProcess(folder / "server.db", folder, heartbeat=0.5).start()
    try:
        tokens = {
            role: make_token(process.db_path, f"{role}-console", role)
            for role in ("commander", "dispatcher", "viewer")
        }
        yield process, tokens
    finally:
        process.kill()


def _closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _create(process: ServerProcess, token: str) -> str:
    response = requests.post(
        f"{process.url}/v1/incidents",
        json=SEV1,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    incident_id: str = response.json()["id"]
    return incident_id


def _updates(process: ServerProcess, token: str, incident_id: str) -> list[dict[str, Any]]:
    response = requests.get(
        f"{process.url}/v1/incidents/{incident_id}/status-updates",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_publish_offline_then_once_and_another_console_sees_it(
    server: tuple[ServerProcess, dict[str, str]], tmp_path: Path
) -> None:
    process, tokens = server
    incident_id = _create(process, tokens["commander"])

    # The commander's console, first offline (a port nobody listens on).
    cache = Cache.open(tmp_path / "a" / "cache.db")
    online = NocBackend(process.url, tokens["commander"])
    SyncEngine(cache, online, Recorder(), backoff=FAST, poll_interval=5.0).sync_once()
    edits = LocalEdits(cache, author="iris")
    local = edits.publish_status_update(
        incident_id, "internal", "investigating", "Looking at 502s."
    )
    assert local.kind is TimelineKind.STATUS_UPDATE
    assert local.data["audience"] == "internal"
    assert local in cache.timeline(incident_id)  # shown at once
    offline = NocBackend(f"http://127.0.0.1:{_closed_port()}", tokens["commander"])
    with pytest.raises(Unreachable):
        SyncEngine(cache, offline, Recorder(), backoff=FAST, poll_interval=5.0).sync_once()
    assert len(cache.pending_outbox()) == 1  # still queued
    assert _updates(process, tokens["commander"], incident_id) == []

    engine = SyncEngine(cache, online, Recorder(), backoff=FAST, poll_interval=5.0)
    engine.sync_once()
    engine.sync_once()
    assert cache.pending_outbox() == []
    published = _updates(process, tokens["commander"], incident_id)
    assert [u["text"] for u in published] == ["Looking at 502s."]  # exactly once
    shown = [e for e in cache.timeline(incident_id) if e.kind is TimelineKind.STATUS_UPDATE]
    assert [e.id for e in shown] == [published[0]["id"]]  # the server's entry replaced ours

    # Another console sees it through the feed, with its audience.
    other = Cache.open(tmp_path / "b" / "cache.db")
    viewer = NocBackend(process.url, tokens["viewer"])
    SyncEngine(other, viewer, Recorder(), backoff=FAST, poll_interval=5.0).sync_once()
    seen = [e for e in other.timeline(incident_id) if e.kind is TimelineKind.STATUS_UPDATE]
    assert [(e.body, e.data.get("audience")) for e in seen] == [("Looking at 502s.", "internal")]
    for closable in (online, offline, viewer):
        closable.close()
    cache.close()
    other.close()


def test_a_dispatcher_without_a_role_is_refused_and_told_why(
    server: tuple[ServerProcess, dict[str, str]], tmp_path: Path
) -> None:
    process, tokens = server
    incident_id = _create(process, tokens["commander"])
    cache = Cache.open(tmp_path / "cache.db")
    backend = NocBackend(process.url, tokens["dispatcher"])
    recorder = Recorder()
    engine = SyncEngine(cache, backend, recorder, backoff=FAST, poll_interval=5.0)
    engine.sync_once()
    edits = LocalEdits(cache, author="bo")
    with pytest.raises(InvalidValue):
        edits.publish_status_update(incident_id, "press", "investigating", "x")
    with pytest.raises(InvalidValue):
        edits.publish_status_update(incident_id, "internal", "investigating", "x" * 100_000)
    local = edits.publish_status_update(incident_id, "internal", "investigating", "Hello")
    engine.sync_once()
    (refusal,) = recorder.rejections
    assert refusal.status == 403
    assert "holds no role" in refusal.message
    assert all(e.id != local.id for e in cache.timeline(incident_id))  # stand-in retired
    backend.close()
    cache.close()
