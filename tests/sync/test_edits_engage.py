"""Swarming from the console: ``LocalEdits.engage`` → outbox → a real server subprocess.

The server is ``noc-console serve`` in a subprocess (``tests.helpers.processes``),
with tokens made by its CLI, and an escalation policy for ``vpn`` put through
its API; the console side is a real cache file and the real sync engine.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from console.connectors.noc import NocBackend
from console.domain.errors import DomainError, InvalidValue
from console.domain.incident import Incident, TimelineKind
from console.domain.lifecycle import State
from console.store import Cache
from console.sync.edits import LocalEdits
from console.sync.engine import Backoff, SyncEngine
from tests.helpers.processes import SwarmServer, make_incidents
from tests.helpers.sync import Recorder

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
FAST = Backoff(base=0.2, cap=1.0)

# --------------------------------------------------------------- local only


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    opened = Cache.open(tmp_path / "cache.db")
    yield opened
    opened.close()


@pytest.fixture
def incident(cache: Cache) -> Incident:
    record = replace(make_incidents(1)[0], state=State.NEW, acknowledged_at=None, holds=())
    record = replace(record, hold_reason=None, resolved_at=None, closed_at=None)
    cache.upsert_incidents([record])
    return record


def test_engage_shows_a_local_entry_and_queues_the_request_together(
    cache: Cache, incident: Incident
) -> None:
    queued: list[int] = []
    edits = LocalEdits(cache, author="ana", clock=lambda: NOW, on_queued=lambda: queued.append(1))
    event = edits.engage(incident.id, [2, 3], "  payments down in three regions ")

    assert event.kind is TimelineKind.ESCALATION
    assert event.body == "Engaging L2, L3: payments down in three regions (waiting to be sent)"
    assert cache.timeline(incident.id) == [event]
    (record,) = cache.pending_outbox()
    assert record.operation == "engage"
    assert record.incident_id == incident.id
    assert record.payload["tiers"] == [2, 3]
    assert record.payload["reason"] == "payments down in three regions"
    assert record.payload["local_event_id"] == event.id
    assert record.base_version is None
    assert queued == [1]


@pytest.mark.parametrize(
    ("tiers", "reason"),
    [([], "why"), (["2"], "why"), ([True], "why"), ([0], "why"), ([2], "   ")],
)
def test_engage_refuses_bad_tiers_or_a_missing_reason_and_queues_nothing(
    cache: Cache, incident: Incident, tiers: list[Any], reason: str
) -> None:
    edits = LocalEdits(cache, clock=lambda: NOW)
    with pytest.raises(InvalidValue):
        edits.engage(incident.id, tiers, reason)
    assert cache.pending_outbox() == []
    assert cache.timeline(incident.id) == []


def test_engage_on_an_unknown_incident_writes_nothing(cache: Cache) -> None:
    with pytest.raises(DomainError, match="not in the local cache"):
        LocalEdits(cache).engage("nope", [2], "why")
    assert cache.pending_outbox() == []


# ------------------------------------------------------ against the server


@dataclass
class Side:
    """One console against the swarm server: cache, connector, engine, recorder, edits."""

    cache: Cache
    backend: NocBackend
    engine: SyncEngine
    recorder: Recorder
    edits: LocalEdits


@pytest.fixture
def side_for(swarm_server: SwarmServer, tmp_path: Path) -> Iterator[Any]:  # a factory: role -> Side
    made: list[Side] = []

    def make(role: str) -> Side:
        cache = Cache.open(tmp_path / role / "cache.db")
        backend = NocBackend(swarm_server.process.url, swarm_server.tokens[role])
        recorder = Recorder()
        engine = SyncEngine(cache, backend, recorder, backoff=FAST, poll_interval=5.0)
        side = Side(cache, backend, engine, recorder, LocalEdits(cache, author=f"{role}-op"))
        made.append(side)
        return side

    yield make
    for side in made:
        side.engine.stop()
        side.backend.close()
        side.cache.close()


def test_a_commander_swarms_through_the_outbox_and_the_server_writes_one_entry_per_tier(
    swarm_server: SwarmServer, side_for: Any
) -> None:
    incident_id = swarm_server.create()
    side: Side = side_for("commander")
    side.engine.sync_once()
    local = side.edits.engage(incident_id, [2, 3], "payments down in three regions")
    assert local in side.cache.timeline(incident_id)

    side.engine.sync_once()

    assert side.cache.pending_outbox() == []
    assert side.recorder.rejections == []
    entries = swarm_server.swarm_entries(incident_id)
    assert [e["data"]["tier"] for e in entries] == [2, 3]
    assert all("payments down in three regions" in e["body"] for e in entries)
    # The console shows the server's entries in place of its local stand-in.
    shown = side.cache.timeline(incident_id)
    assert all(e.id != local.id for e in shown)
    assert {e["id"] for e in entries} <= {e.id for e in shown}
    side.engine.sync_once()
    assert len(swarm_server.swarm_entries(incident_id)) == 2  # sent once


def test_a_dispatcher_is_told_only_commanders_can_swarm(
    swarm_server: SwarmServer, side_for: Any
) -> None:
    incident_id = swarm_server.create()
    side: Side = side_for("dispatcher")
    side.engine.sync_once()
    local = side.edits.engage(incident_id, [2], "all hands")
    side.engine.sync_once()

    (refusal,) = side.recorder.rejections
    assert refusal.status == 403
    assert refusal.operation == "engage"
    assert "only commanders can engage several teams at once" in refusal.message
    assert refusal.text.startswith("Engaging teams refused by the backend: ")
    assert side.cache.pending_outbox() == []
    assert all(e.id != local.id for e in side.cache.timeline(incident_id))  # stand-in retired
    assert swarm_server.swarm_entries(incident_id) == []


def test_a_resend_with_the_same_key_engages_nobody_twice(
    swarm_server: SwarmServer, side_for: Any
) -> None:
    incident_id = swarm_server.create()
    side: Side = side_for("commander")
    key = uuid.uuid4().hex
    first = side.backend.engage(incident_id, [2, 3], "bridge open", idempotency_key=key)
    again = side.backend.engage(incident_id, [2, 3], "bridge open", idempotency_key=key)
    assert [e.id for e in again] == [e.id for e in first]
    assert len(swarm_server.swarm_entries(incident_id)) == 2
