"""Two consoles editing one incident through a real server process.

Different fields merge on their own; the same field becomes a conflict that
keeps both values until an operator chooses, and neither is lost meanwhile.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from console.sync.edits import LocalEdits
from tests.helpers.e2e import E2EConsole
from tests.helpers.processes import ServerProcess
from tests.helpers.sync import NEW

pytestmark = pytest.mark.slow  # real server processes, several seconds each


@pytest.mark.timeout(120)
def test_two_consoles_merge_different_fields_and_surface_a_real_conflict(
    server_factory: Callable[..., ServerProcess],
    console_for: Callable[..., E2EConsole],
) -> None:
    server = server_factory()
    alice = console_for(server, "alice")
    bob = console_for(server, "bob")
    incident = alice.backend.create_incident(NEW, idempotency_key=uuid.uuid4().hex)
    alice.engine.sync_once()
    bob.engine.sync_once()

    # Both edit version 1 while neither has heard of the other.
    LocalEdits(alice.cache, author="alice").patch(incident.id, {"title": "Checkout down in EU"})
    LocalEdits(bob.cache, author="bob").patch(incident.id, {"assignee": "bob"})
    alice.engine.sync_once()
    bob.engine.sync_once()  # 412, re-read, no overlap: sent again on the new version
    alice.engine.sync_once()
    merged = alice.backend.get_incident(incident.id)
    assert (merged.title, merged.assignee) == ("Checkout down in EU", "bob")
    for console in (alice, bob):
        shown = console.cache.incident(incident.id)
        assert shown is not None
        assert (shown.title, shown.assignee, shown.version) == (
            merged.title,
            merged.assignee,
            merged.version,
        )
    assert not alice.recorder.conflicts
    assert not bob.recorder.conflicts

    # Now both change the title.
    LocalEdits(alice.cache, author="alice").patch(incident.id, {"title": "Alice's title"})
    LocalEdits(bob.cache, author="bob").patch(incident.id, {"title": "Bob's title"})
    alice.engine.sync_once()
    bob.engine.sync_once()
    (conflict,) = bob.recorder.conflicts
    assert conflict.fields["title"].mine == "Bob's title"
    assert conflict.fields["title"].theirs == "Alice's title"
    # Neither value is lost: Alice's is on the server, Bob's is kept in his outbox.
    assert bob.backend.get_incident(incident.id).title == "Alice's title"
    (kept,) = bob.cache.outbox_records(status="conflict")
    assert kept.payload["fields"] == {"title": "Bob's title"}
    # It is not retried by itself.
    bob.engine.sync_once()
    assert bob.backend.get_incident(incident.id).title == "Alice's title"
    assert [c.record_id for c in bob.engine.conflicts()] == [conflict.record_id]

    # Bob keeps his; Alice's console follows.
    bob.engine.resolve_conflict(conflict.record_id, {"title": "mine"})
    bob.engine.sync_once()
    alice.engine.sync_once()
    assert bob.backend.get_incident(incident.id).title == "Bob's title"
    shown = alice.cache.incident(incident.id)
    assert shown is not None
    assert shown.title == "Bob's title"
    assert bob.engine.conflicts() == []
