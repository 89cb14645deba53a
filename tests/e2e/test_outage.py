"""Edits made while the server is down all arrive exactly once, in order, when it returns.

The server is a real subprocess killed with SIGKILL (no clean shutdown), and
killed again while the outbox is draining, so some requests are committed
without their answer reaching the console: the Idempotency-Key resend must
not apply them twice.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable

import pytest

from console.connectors.noc import NocBackend
from console.domain.incident import Incident, TimelineEvent
from console.sync.edits import LocalEdits
from console.sync.engine import SyncState
from tests.helpers.e2e import E2EConsole
from tests.helpers.processes import ServerProcess, make_token
from tests.helpers.sync import NEW, Running

pytestmark = pytest.mark.slow  # real server processes, several seconds each

EXISTING = 10
CREATES = 10
NOTES_PER_NEW = 4
PATCHES = 100
TOTAL_EDITS = 1000


def _feed(backend: NocBackend) -> tuple[list[Incident], list[TimelineEvent]]:
    incidents: dict[str, Incident] = {}
    notes: list[TimelineEvent] = []
    cursor, more = 0, True
    while more:
        batch = backend.changes(cursor, 1000)
        for incident in batch.incidents:
            incidents[incident.id] = incident
        notes.extend(batch.timeline)
        cursor, more = batch.cursor, batch.more
    return list(incidents.values()), notes


@pytest.mark.timeout(240)
def test_a_thousand_edits_made_offline_arrive_exactly_once(
    server_factory: Callable[..., ServerProcess],
    console_for: Callable[..., E2EConsole],
) -> None:
    server = server_factory()
    other = NocBackend(server.url, make_token(server.db_path, "checker", "viewer"))
    writer = NocBackend(server.url, make_token(server.db_path, "seeder", "dispatcher"))
    existing = [
        writer.create_incident({**NEW, "title": f"Existing {k}"}, idempotency_key=uuid.uuid4().hex)
        for k in range(EXISTING)
    ]
    console = console_for(server, "console-a")
    console.engine.sync_once()
    server.kill()

    edits = LocalEdits(console.cache, author="ana")
    made = 0
    for k in range(CREATES):
        placeholder = edits.create(title=f"New {k}", service="dns", impact="low", urgency="low")
        made += 1
        for n in range(NOTES_PER_NEW):
            edits.add_note(placeholder.id, f"new {k} note {n}")
            made += 1
    last_assignee: dict[str, str] = {}
    for k in range(PATCHES):
        incident = existing[k % EXISTING]
        assignee = f"person-{k}"
        edits.patch(incident.id, {"assignee": assignee})
        last_assignee[incident.id] = assignee
        made += 1
    note_bodies: list[str] = []
    while made < TOTAL_EDITS:
        body = f"offline note {made}"
        edits.add_note(existing[made % EXISTING].id, body)
        note_bodies.append(body)
        made += 1
    assert len(console.cache.pending_outbox()) == TOTAL_EDITS

    recorder = console.recorder
    with Running(console.engine):
        assert recorder.wait_for(lambda r: r.state is SyncState.OFFLINE, timeout=30)
        server.start()  # same port, same database
        # Kill it again half-way through the drain: answers get lost in flight.
        assert recorder.wait_for(
            lambda r: bool(r.pending) and r.pending[-1] < TOTAL_EDITS // 2, timeout=120
        )
        server.kill()
        server.start()
        assert recorder.wait_for(
            lambda r: r.state is SyncState.LIVE and not console.cache.pending_outbox(),
            timeout=150,
        )
    assert Counter(r.status for r in console.cache.outbox_records()) == {"sent": TOTAL_EDITS}

    incidents, notes = _feed(other)
    titles = Counter(i.title for i in incidents)
    assert all(titles[f"New {k}"] == 1 for k in range(CREATES))
    assert len(incidents) == EXISTING + CREATES
    bodies = Counter(n.body for n in notes)
    for body in note_bodies:
        assert bodies[body] == 1, f"{body!r} arrived {bodies[body]} times"
    for k in range(CREATES):
        new_id = next(i.id for i in incidents if i.title == f"New {k}")
        on_it = [n.body for n in notes if n.incident_id == new_id]
        # In the order they were written.
        assert on_it == [f"new {k} note {n}" for n in range(NOTES_PER_NEW)]
    for incident in incidents:
        wanted = last_assignee.get(incident.id)
        if wanted is not None:
            assert incident.assignee == wanted
    # The console shows what the server has: no placeholders, no duplicates.
    cached = console.cache.incidents()
    assert len(cached) == EXISTING + CREATES
    assert not [i for i in cached if i.number.startswith("(pending)")]
    other.close()
    writer.close()
