"""The triage wizard against a real ``noc-console serve``: a commander's override reaches
the server's timeline with its reason, a dispatcher is told who can override.

The server is a subprocess on loopback with reference data put through its
admin API; each console syncs with its own token (made by ``noc-console token
create``) into its own cache file, learns its role from ``GET /v1/me``, and the
wizard is driven with key presses only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import requests
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from console.domain.incident import TimelineKind
from console.domain.severity import Severity
from console.services.demo import read_demo
from console.wire import CategoryIn, ServiceIn, TeamIn
from tests.helpers.e2e import E2EConsole
from tests.helpers.processes import ServerProcess, make_token
from tests.helpers.triage_keys import SEV2_CALL, Console, run_to_last_page

pytestmark = [
    pytest.mark.slow,  # real server processes, several seconds each
    pytest.mark.qt_log_ignore("This plugin does not support"),
]

Key = Qt.Key
REASON = "All EU card payments fail; the matrix undersells it"


def _put_reference(server: ServerProcess) -> None:
    """The demo's Payments team and service and the taxonomy, through the admin API."""
    token = make_token(server.db_path, "admin-1", "admin")
    demo = read_demo(datetime.now(UTC))
    wanted = {
        "teams": (TeamIn, {"payments-eng", "noc", "platform"}),
        "services": (ServiceIn, {"payments-api"}),
        "categories": (CategoryIn, None),
    }
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        for kind, (model, ids) in wanted.items():
            for doc in demo.reference[kind]:
                if ids is not None and doc["id"] not in ids:
                    continue
                body = {k: v for k, v in doc.items() if k in model.model_fields}
                reply = session.put(f"{server.url}/v1/{kind}/{doc['id']}", json=body, timeout=10)
                assert reply.status_code in (200, 201), reply.text


@pytest.mark.timeout(120)
def test_a_commanders_override_is_on_the_servers_timeline_and_a_dispatcher_is_refused(
    qtbot: QtBot,
    server_factory: Callable[..., ServerProcess],
    console_for: Callable[..., E2EConsole],
) -> None:
    server = server_factory()
    _put_reference(server)
    lead_sync = console_for(server, "shift-lead", role="commander")
    desk_sync = console_for(server, "desk-3", role="dispatcher")
    lead_sync.engine.sync_once()  # reference data, and who this console is
    desk_sync.engine.sync_once()
    now = datetime.now(UTC)

    # The dispatcher: the override is refused before anything is sent.
    desk = Console(qtbot, desk_sync.cache, None, now=now)
    wizard, keys = desk.press_n()
    run_to_last_page(keys, SEV2_CALL)
    keys.alt(Key.Key_B)
    keys.alt(Key.Key_O)
    assert not wizard.result_page.overriding
    note = wizard.result_page.override_note.text()
    assert "You are signed in as desk-3, a dispatcher" in note
    assert "Only a commander (or an admin) can override the severity" in note
    keys.press(Key.Key_Escape)
    keys.press(Key.Key_D)

    # The commander: SEV-2 by the matrix, overridden to SEV-1 with a reason.
    lead = Console(qtbot, lead_sync.cache, None, now=now)
    wizard, keys = lead.press_n()
    run_to_last_page(keys, SEV2_CALL)
    keys.alt(Key.Key_B)
    keys.alt(Key.Key_O)
    keys.answer("1")
    keys.type(REASON)
    keys.enter()
    keys.answer("n")  # SEV-1 meets the major-incident rules; not declared here
    keys.create()
    qtbot.waitUntil(lambda: not wizard.isVisible())
    [queued] = lead_sync.cache.pending_outbox()
    assert queued.payload["fields"]["severity"] == "SEV-1"  # type: ignore[index]

    lead_sync.engine.sync_once()  # sent, and the server's record pulled back
    assert lead_sync.cache.pending_outbox() == []
    [created] = lead_sync.cache.incidents()
    assert created.severity is Severity.SEV1
    assert created.assignment_group == "payments-eng"

    # Every console sees the reason on the timeline the server wrote.
    desk_sync.engine.sync_once()
    timeline = desk_sync.cache.timeline(created.id)
    changes = [e for e in timeline if e.kind is TimelineKind.SEVERITY_CHANGE]
    assert len(changes) == 1
    assert REASON in changes[0].body
    assert "SEV-2" in changes[0].body
    assert "SEV-1" in changes[0].body
    assert changes[0].author == "shift-lead"
