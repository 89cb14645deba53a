"""Review and problem edits that clash: two consoles change one field, the second chooses.

Real server on loopback (``EmbeddedServer`` over HTTP), two consoles each with
their own cache file and token, like two operators on the NOC floor. A clash
is kept as a conflict (both values) for the conflict dialog's mine or theirs,
exactly like an incident edit's; nothing is overwritten and nothing is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from console.server.embedded import EmbeddedServer
from console.sync.edits import LocalEdits
from tests.helpers.reviews import clash_on_root_cause, drafted, stored
from tests.helpers.sync import Console


@pytest.fixture
def pair(console_factory: Callable[..., Console]) -> tuple[Console, Console]:
    return console_factory("console-a"), console_factory("console-b")


def test_a_clash_is_a_conflict_with_both_values_and_theirs_shown(
    server: EmbeddedServer, pair: tuple[Console, Console]
) -> None:
    a, b = pair
    pir = clash_on_root_cause(server, a, b)
    [conflict] = a.recorder.conflicts
    assert a.recorder.rejections == []
    assert conflict.kind == "pirs"
    assert conflict.number == f"Review of {pir['incident_number']}"
    assert set(conflict.fields) == {"root_cause"}
    clash = conflict.fields["root_cause"]
    assert clash.mine == "Config pushes skip the canary stage"
    assert clash.theirs == "A vendor firmware bug"
    assert clash.base == ""
    # Nothing overwritten on the server; the console shows theirs meanwhile.
    assert stored(server, f"/v1/pirs/{pir['id']}")["root_cause"] == "A vendor firmware bug"
    [cached] = a.cache.reference("pirs")
    assert cached["root_cause"] == "A vendor firmware bug"
    # Kept across restarts like an incident's conflict.
    assert [c.record_id for c in a.engine.conflicts()] == [conflict.record_id]
    assert a.engine.conflicts()[0].fields["root_cause"].mine == clash.mine


def test_choosing_mine_sends_my_value_and_the_untouched_fields_on_their_version(
    server: EmbeddedServer, pair: tuple[Console, Console]
) -> None:
    a, b = pair
    pir = clash_on_root_cause(server, a, b)
    [conflict] = a.recorder.conflicts
    assert a.engine.resolve_conflict(conflict.record_id, {"root_cause": "mine"}) is None
    [shown] = a.cache.reference("pirs")
    assert shown["root_cause"] == "Config pushes skip the canary stage"  # at once
    assert shown["pending"] is True
    a.engine.sync_once()
    on_server = stored(server, f"/v1/pirs/{pir['id']}")
    assert on_server["root_cause"] == "Config pushes skip the canary stage"
    assert on_server["went_well"] == "Paged fast"
    assert a.engine.conflicts() == []
    assert a.cache.pending_outbox() == []
    [cached] = a.cache.reference("pirs")
    assert "pending" not in cached
    b.engine.sync_once()
    assert b.cache.reference("pirs")[0]["root_cause"] == "Config pushes skip the canary stage"


def test_choosing_theirs_keeps_theirs_and_still_sends_what_did_not_clash(
    server: EmbeddedServer, pair: tuple[Console, Console]
) -> None:
    a, b = pair
    pir = clash_on_root_cause(server, a, b)
    [conflict] = a.recorder.conflicts
    with pytest.raises(ValueError, match="root_cause"):
        a.engine.resolve_conflict(conflict.record_id, {})
    a.engine.resolve_conflict(conflict.record_id, {"root_cause": "theirs"})
    a.engine.sync_once()
    on_server = stored(server, f"/v1/pirs/{pir['id']}")
    assert on_server["root_cause"] == "A vendor firmware bug"
    assert on_server["went_well"] == "Paged fast"
    assert a.engine.conflicts() == []
    assert a.recorder.rejections == []


def test_a_problem_clash_is_a_conflict_too(
    server: EmbeddedServer, pair: tuple[Console, Console]
) -> None:
    a, b = pair
    pir = drafted(server)
    a.engine.sync_once()
    LocalEdits(a.cache).open_problem("LB pushes break checkout", [pir["incident_id"]])
    a.engine.sync_once()
    b.engine.sync_once()
    [problem] = a.cache.reference("problems")
    LocalEdits(a.cache).edit_problem(problem["id"], workaround="Roll back the LB config")
    LocalEdits(b.cache).edit_problem(problem["id"], workaround="Fail over to the standby LB")
    b.engine.sync_once()
    a.engine.sync_once()
    [conflict] = a.recorder.conflicts
    assert conflict.kind == "problems"
    assert conflict.number == problem["number"]
    assert conflict.fields["workaround"].theirs == "Fail over to the standby LB"
    a.engine.resolve_conflict(conflict.record_id, {"workaround": "mine"})
    a.engine.sync_once()
    on_server = stored(server, f"/v1/problems/{problem['id']}")
    assert on_server["workaround"] == "Roll back the LB config"


def test_an_unsent_edit_stays_shown_over_a_newer_version_from_the_feed(
    server: EmbeddedServer, pair: tuple[Console, Console]
) -> None:
    a, b = pair
    pir = drafted(server)
    a.engine.sync_once()
    b.engine.sync_once()
    edits = LocalEdits(a.cache)
    edits.edit_review(pir["incident_id"], root_cause="Config pushes skip the canary stage")
    owner = "Ana Ruiz"  # in the directory (seeded on the server, synced to the cache)
    edits.add_action_item(
        pir["incident_id"],
        title="Add a canary stage",
        owner=owner,
        due=datetime.now(UTC) + timedelta(days=7),
    )
    LocalEdits(b.cache).edit_review(pir["incident_id"], went_well="Paged in 2 minutes")
    b.engine.sync_once()
    # The feed's page arrives while A's edits wait (the pull alone: the engine
    # pushes first, so this is an edit made while it pulls, or one held back).
    a.engine._pull(catching_up=False)
    [shown] = a.cache.reference("pirs")
    assert shown["version"] == 2
    assert shown["went_well"] == "Paged in 2 minutes"  # theirs, from the feed
    assert shown["root_cause"] == "Config pushes skip the canary stage"  # mine, unsent
    assert [i["title"] for i in shown["action_items"]] == ["Add a canary stage"]
    assert shown["pending"] is True
    a.engine.sync_once()
    [sent] = a.cache.reference("pirs")
    assert "pending" not in sent
    assert sent["root_cause"] == "Config pushes skip the canary stage"
    assert sent["went_well"] == "Paged in 2 minutes"
    assert a.recorder.rejections == []
    assert [i["title"] for i in sent["action_items"]] == ["Add a canary stage"]


def test_a_second_unsent_edit_stays_shown_when_the_first_is_sent(
    server: EmbeddedServer, console: Console
) -> None:
    pir = drafted(server)
    console.engine.sync_once()
    edits = LocalEdits(console.cache)
    edits.edit_review(pir["incident_id"], root_cause="No canary stage")
    edits.edit_review(pir["incident_id"], went_well="Paged in 2 minutes")
    seen: list[dict[str, Any]] = []
    recorded = console.recorder.changed

    def snapshot(update: Any) -> None:
        seen.extend(console.cache.reference("pirs"))
        recorded(update)

    console.recorder.changed = snapshot  # type: ignore[method-assign]
    console.engine.sync_once()
    first_sent = next(d for d in seen if d["version"] == 2)
    assert first_sent["root_cause"] == "No canary stage"
    assert first_sent["went_well"] == "Paged in 2 minutes"  # still waiting, still shown
    assert first_sent["pending"] is True
    assert "pending" not in seen[-1]
