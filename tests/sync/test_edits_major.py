"""#19: declaring from the console (with why) and the incident's roles and due times, synced.

A real server process, real cache files, the NOC connector and the sync
engine: the declaration goes through the outbox like every edit, and every
console's cache holds the incident's ``roles`` and ``next_update_due`` from
the change feed, moving when an update is published.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from console.connectors.noc import NocBackend
from console.domain.errors import InvalidValue
from console.domain.incident import TimelineKind
from console.store import Cache
from console.sync.edits import LocalEdits
from console.sync.engine import Backoff, SyncEngine
from tests.helpers.processes import ServerProcess, make_token
from tests.helpers.sync import Recorder

FAST = Backoff(base=0.2, cap=1.0)


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServerProcess, dict[str, str]]]:
    folder = tmp_path_factory.mktemp("major-server")
    process = ServerProcess(folder / "server.db", folder, heartbeat=0.5).start()
    try:
        tokens = {
            role: make_token(process.db_path, f"{role}-console", role)
            for role in ("commander", "viewer")
        }
        yield process, tokens
    finally:
        process.kill()


def test_declare_with_why_then_every_console_has_roles_and_due_times(
    server: tuple[ServerProcess, dict[str, str]], tmp_path: Path
) -> None:
    process, tokens = server
    created = requests.post(
        f"{process.url}/v1/incidents",
        json={"title": "Login fails", "service": "auth", "impact": "high", "urgency": "medium"},
        headers={"Authorization": f"Bearer {tokens['commander']}"},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    incident_id = created.json()["id"]

    cache = Cache.open(tmp_path / "a" / "cache.db")
    backend = NocBackend(process.url, tokens["commander"])
    engine = SyncEngine(cache, backend, Recorder(), backoff=FAST, poll_interval=5.0)
    engine.sync_once()
    edits = LocalEdits(cache, author="iris")
    with pytest.raises(InvalidValue):
        edits.patch(incident_id, {"major_reason": "no flag"})  # why without what
    shown = edits.patch(incident_id, {"major": True, "major_reason": "criterion: SEV-2 security"})
    assert shown.major
    engine.sync_once()
    engine.sync_once()
    assert cache.pending_outbox() == []

    declared = [e for e in cache.timeline(incident_id) if e.kind is TimelineKind.ESCALATION]
    assert [e.data.get("reason") for e in declared] == ["criterion: SEV-2 security"]
    incident = cache.incident(incident_id)
    assert incident is not None
    assert incident.major
    due = dict(incident.next_update_due)
    assert set(due) == {"internal", "executive", "customer"}
    assert due["internal"] == declared[0].at + timedelta(minutes=30)  # SEV-2 cadence

    # Another console: the roles and the moved countdown arrive through the feed.
    for path, body in (
        (f"/v1/incidents/{incident_id}/roles/Incident Commander", {"person": "Iris"}),
        (
            f"/v1/incidents/{incident_id}/status-updates",
            {"audience": "internal", "status": "investigating", "text": "Looking."},
        ),
    ):
        method = "PUT" if "roles" in path else "POST"
        response = requests.request(
            method,
            f"{process.url}{path}",
            json=body,
            headers={"Authorization": f"Bearer {tokens['commander']}"},
            timeout=10,
        )
        assert response.status_code in (200, 201), response.text
    other = Cache.open(tmp_path / "b" / "cache.db")
    viewer = NocBackend(process.url, tokens["viewer"])
    SyncEngine(other, viewer, Recorder(), backoff=FAST, poll_interval=5.0).sync_once()
    seen = other.incident(incident_id)
    assert seen is not None
    assert dict(seen.roles) == {"Incident Commander": "Iris"}
    update = [e for e in other.timeline(incident_id) if e.kind is TimelineKind.STATUS_UPDATE][-1]
    assert dict(seen.next_update_due)["internal"] == update.at + timedelta(minutes=30)
    for closable in (backend, viewer):
        closable.close()
    cache.close()
    other.close()


def test_a_declaration_at_logging_carries_its_why_shown_at_once(tmp_path: Path) -> None:
    cache = Cache.open(tmp_path / "cache.db")
    edits = LocalEdits(cache, author="iris")
    with pytest.raises(InvalidValue):
        edits.create(
            title="x", service="auth", impact="low", urgency="low", major_reason="not major"
        )
    placeholder = edits.create(
        title="Core router down",
        service="network",
        impact="high",
        urgency="high",
        major=True,
        commander="Iris",
        major_reason="SEV-1: every critical incident is run as a major incident",
    )
    (record,) = cache.pending_outbox()
    assert record.payload["fields"]["major_reason"].startswith("SEV-1")
    (declared,) = cache.timeline(placeholder.id)
    assert declared.body.startswith("Declared a major incident: SEV-1")
    assert declared.data["reason"].startswith("SEV-1")
    cache.close()


def test_publishing_offline_clears_the_overdue_state_at_once(tmp_path: Path) -> None:
    from dataclasses import replace

    from console.domain.major import overdue_badge
    from console.domain.severity import Severity
    from tests.helpers.factories import NOW, FakeClock, desk_incident

    cache = Cache.open(tmp_path / "cache.db")
    late = replace(
        desk_incident(1, Severity.SEV1),
        major=True,
        next_update_due=(("internal", NOW - timedelta(minutes=4)), ("executive", None)),
    )
    cache.upsert_incidents([late])
    clock = FakeClock(NOW)
    LocalEdits(cache, author="iris", clock=clock).publish_status_update(
        "inc-1", "internal", "investigating", "Looking at it."
    )
    shown = cache.incident("inc-1")
    assert shown is not None
    assert shown.version == late.version  # the backend's next version replaces it
    assert dict(shown.next_update_due)["internal"] == NOW + timedelta(minutes=15)
    assert overdue_badge(shown.next_update_due, NOW) is None
    cache.close()
