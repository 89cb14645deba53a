"""A triaged incident logged while the server is down arrives with its override, its
major-incident declaration and its routing once the server is back, and every
console sees the reason. The role the console acts as is known offline.

The server is a real ``noc-console serve`` subprocess, killed with SIGKILL.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from console.connectors.base import Caller
from console.domain.errors import DomainError
from console.domain.severity import Severity
from console.sync.edits import LocalEdits, is_local_id
from tests.helpers.e2e import E2EConsole
from tests.helpers.processes import ServerProcess
from tests.helpers.sync import NEW

pytestmark = pytest.mark.slow  # real server processes, several seconds each

TRIAGE = {
    **NEW,  # SEV-3 by the matrix
    "assignment_group": "payments-eng",
    "severity": "SEV-1",
    "severity_reason": "all EU card payments fail",
    "major": True,
    "commander": "Lucía Fernández",
}


@pytest.mark.timeout(120)
def test_a_triage_logged_offline_arrives_with_override_major_and_routing(
    server_factory: Callable[..., ServerProcess],
    console_for: Callable[..., E2EConsole],
) -> None:
    server = server_factory()
    lead = console_for(server, "shift-lead", role="commander")
    desk = console_for(server, "desk-3", role="dispatcher")
    lead.engine.sync_once()
    desk.engine.sync_once()
    server.kill()

    # Offline: both consoles still know their roles from the last connection.
    lead_edits, desk_edits = LocalEdits(lead.cache), LocalEdits(desk.cache)
    assert lead_edits.caller() == Caller("shift-lead", "commander")
    assert desk_edits.caller() == Caller("desk-3", "dispatcher")
    with pytest.raises(DomainError, match="commander or admin"):
        desk_edits.create(**TRIAGE)  # type: ignore[arg-type]
    assert desk.cache.pending_outbox() == []

    shown = lead_edits.create(**TRIAGE)  # type: ignore[arg-type]
    assert is_local_id(shown.id)
    assert (shown.severity, shown.major) == (Severity.SEV1, True)
    assert len(lead.cache.pending_outbox()) == 1

    server.start()
    lead.engine.sync_once()
    assert lead.cache.pending_outbox() == []
    [created] = lead.cache.incidents()
    assert (created.severity, created.major, created.assignment_group) == (
        Severity.SEV1,
        True,
        "payments-eng",
    )

    desk.engine.sync_once()
    [seen] = desk.cache.incidents()
    assert seen.id == created.id
    bodies = [e.body for e in desk.cache.timeline(seen.id)]
    assert "Severity SEV-3 → SEV-1 by override: all EU card payments fail" in bodies
    assert "Declared a major incident; Incident Commander: Lucía Fernández" in bodies
    assert "Routed to payments-eng" in bodies
    authors = {e.author for e in desk.cache.timeline(seen.id)}
    assert authors == {"shift-lead"}
