"""The conflict dialog settles a review conflict like an incident's: two consoles on a real
server (loopback HTTP, their own cache files) change one review's root cause."""

from __future__ import annotations

from collections.abc import Callable

from pytestqt.qtbot import QtBot

from console.server.embedded import EmbeddedServer
from console.views.sync_dialogs import ConflictDialog
from tests.helpers.reviews import clash_on_root_cause, stored
from tests.helpers.sync import Console


def test_the_conflict_dialog_offers_both_root_causes_and_mine_reaches_the_server(
    qtbot: QtBot, server: EmbeddedServer, console_factory: Callable[..., Console]
) -> None:
    a, b = console_factory("console-a"), console_factory("console-b")
    pir = clash_on_root_cause(server, a, b)
    [conflict] = a.engine.conflicts()  # as listed at the next start, too
    dialog = ConflictDialog(conflict)
    qtbot.addWidget(dialog)
    dialog.resolved.connect(a.engine.resolve_conflict)
    # (A demo window opened earlier in the session prefixes "DEMO — ".)
    assert dialog.windowTitle().endswith(f"Conflict on Review of {pir['incident_number']}")
    assert dialog.mine["root_cause"].text() == "Config pushes skip the canary stage"
    assert dialog.theirs["root_cause"].text() == "A vendor firmware bug"
    assert not dialog.keep.isEnabled()
    dialog.choose("root_cause", "mine")
    with qtbot.waitSignal(dialog.resolved):
        dialog.keep.click()
    a.engine.sync_once()
    assert stored(server, f"/v1/pirs/{pir['id']}")["root_cause"] == (
        "Config pushes skip the canary stage"
    )
    assert a.engine.conflicts() == []
