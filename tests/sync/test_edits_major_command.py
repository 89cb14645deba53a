"""Roles, the bridge and the responders of a major incident: outbox → a real server → the feed.

The server is ``noc-console serve`` in a subprocess; the console is a real
cache file, the NOC connector and the sync engine. Each edit shows at once,
is queued while offline, is sent once, and the server's timeline entry
(from whom, to whom, when) replaces the console's stand-in.
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
from console.domain.errors import DomainError, InvalidValue
from console.domain.major import roles_from_timeline, war_room_from_timeline
from console.store import Cache
from console.sync.edits import LocalEdits
from console.sync.engine import Backoff, SyncEngine
from tests.helpers.processes import ServerProcess, make_token
from tests.helpers.sync import Recorder

FAST = Backoff(base=0.2, cap=1.0)
SEV1 = {
    "title": "Payments down",
    "service": "payments",
    "impact": "high",
    "urgency": "high",
    "major": True,
    "commander": "commander-console",
}


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServerProcess, dict[str, str]]]:
    folder = tmp_path_factory.mktemp("command-server")
    process = ServerProcess(folder / "server.db", folder, heartbeat=0.5).start()
    try:
        tokens = {
            role: make_token(process.db_path, f"{role}-console", role)
            for role in ("commander", "dispatcher")
        }
        yield process, tokens
    finally:
        process.kill()


def _closed_port() -> int:
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


def _timeline(process: ServerProcess, token: str, incident_id: str) -> list[dict[str, Any]]:
    response = requests.get(
        f"{process.url}/v1/incidents/{incident_id}/timeline",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    items: list[dict[str, Any]] = body["items"] if isinstance(body, dict) else body
    return items


def test_roles_bridge_and_responders_go_once_and_the_hand_over_is_on_the_timeline(
    server: tuple[ServerProcess, dict[str, str]], tmp_path: Path
) -> None:
    process, tokens = server
    incident_id = _create(process, tokens["commander"])
    cache = Cache.open(tmp_path / "cache.db")
    online = NocBackend(process.url, tokens["commander"])
    SyncEngine(cache, online, Recorder(), backoff=FAST, poll_interval=5.0).sync_once()
    edits = LocalEdits(cache, author="commander-console")

    edits.assign_role(incident_id, "Technical Lead", "Bo Chen")
    edits.assign_role(incident_id, "Scribe", "Dee")
    edits.set_bridge(
        incident_id, url="https://meet.example.com/sev1", dial_in="+44 20 7946 0000", pin="482913"
    )
    edits.change_responder(incident_id, "Bo Chen", "joined")
    # Shown at once, offline too.
    events = cache.timeline(incident_id)
    assert roles_from_timeline(events)["Technical Lead"] == "Bo Chen"
    bridge, responders = war_room_from_timeline(events)
    assert bridge["pin"] == "482913"
    assert responders["Bo Chen"][0] == "joined"

    offline = NocBackend(f"http://127.0.0.1:{_closed_port()}", tokens["commander"])
    with pytest.raises(Unreachable):
        SyncEngine(cache, offline, Recorder(), backoff=FAST, poll_interval=5.0).sync_once()
    assert len(cache.pending_outbox()) == 4

    engine = SyncEngine(cache, online, Recorder(), backoff=FAST, poll_interval=5.0)
    engine.sync_once()
    engine.sync_once()
    assert cache.pending_outbox() == []
    # A hand-over: from whom, to whom, when.
    edits.assign_role(incident_id, "Technical Lead", "Ann Ode", reason="Bo's shift ended")
    engine.sync_once()
    engine.sync_once()

    served = _timeline(process, tokens["commander"], incident_id)
    handed = [e for e in served if (e.get("data") or {}).get("role") == "Technical Lead"]
    assert [(e["data"]["from"], e["data"]["to"]) for e in handed] == [
        (None, "Bo Chen"),
        ("Bo Chen", "Ann Ode"),
    ]  # each sent exactly once
    assert "Bo Chen → Ann Ode" in handed[1]["body"]
    assert sum(1 for e in served if (e.get("data") or {}).get("bridge")) == 1
    assert sum(1 for e in served if (e.get("data") or {}).get("responder")) == 1

    shown = cache.timeline(incident_id)
    assert not any(e.id.startswith("local-") for e in shown)  # stand-ins replaced
    roles = roles_from_timeline(shown)
    assert roles["Technical Lead"] == "Ann Ode"
    assert roles["Scribe"] == "Dee"
    bridge, responders = war_room_from_timeline(shown)
    assert bridge == {
        "url": "https://meet.example.com/sev1",
        "dial_in": "+44 20 7946 0000",
        "pin": "482913",
    }
    assert list(responders) == ["Bo Chen"]
    for closable in (online, offline):
        closable.close()
    cache.close()


def test_bad_command_edits_are_refused_at_once_and_a_dispatcher_is_told_why(
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
    with pytest.raises(InvalidValue, match="role"):
        edits.assign_role(incident_id, "Lead; DROP", "Bo")
    with pytest.raises(InvalidValue, match="person"):
        edits.assign_role(incident_id, "Scribe", " ")
    with pytest.raises(InvalidValue, match="url"):
        edits.set_bridge(incident_id, url="http://insecure.example.com")
    with pytest.raises(InvalidValue, match="pin"):
        edits.set_bridge(incident_id, dial_in="+44 20 7946 0000", pin="12ab")
    with pytest.raises(InvalidValue, match="url"):
        edits.set_bridge(incident_id)  # neither a URL nor a dial-in
    with pytest.raises(InvalidValue, match="action"):
        edits.change_responder(incident_id, "Bo", "watching")
    with pytest.raises(DomainError, match="already holds"):
        edits.assign_role(incident_id, "Incident Commander", "commander-console")
    assert cache.pending_outbox() == []  # nothing queued by a refusal

    local = edits.assign_role(incident_id, "Scribe", "Bo")
    engine.sync_once()
    (refusal,) = recorder.rejections
    assert refusal.status == 403
    assert "Incident Commander" in refusal.message
    assert all(e.id != local.id for e in cache.timeline(incident_id))  # stand-in retired
    backend.close()
    cache.close()
