"""The RT connector on an account as real RT deployments have them, against a real RT 5.

The account is the fixture's ``operator``: exactly SeeQueue, ShowTicket,
ShowTicketComments, SeeCustomField, ModifyTicket, CommentOnTicket,
ReplyToTicket, OwnTicket and TakeTicket on the queue, not ShowOutgoingEmail.
Its tickets have requestors, so RT has written autoreply EmailRecord
transactions the account may not see; RT drops those rows from a search page
*after* paging, so pages come back short with more after them.
"""

from __future__ import annotations

import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from console.config.settings import parse_settings
from console.connectors.base import BackendError, Unreachable
from console.connectors.rt import PAGE_MAX, RtBackend
from console.connectors.rt.mapping import RtMapping, incident_id
from console.connectors.rt.settings import rt_settings
from console.connectors.rt.statuses import StatusMap
from console.domain.incident import TimelineKind
from console.domain.lifecycle import State
from console.store import Cache
from console.sync.edits import LocalEdits
from console.sync.engine import SyncEngine
from tests.helpers.rt import NOTE, REPLY, lossy_proxy, versions_seen_by_operator
from tests.helpers.rtserver import LIFECYCLE, WATCHER, RtInstance

pytestmark = pytest.mark.slow


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    with Cache.open(tmp_path / "cache.db") as opened:
        yield opened


@pytest.fixture
def operator(rt: RtInstance) -> RtInstance:
    return rt.as_user()


def connector(rt: RtInstance, url: str | None = None, **options: Any) -> RtBackend:
    mapping = options.pop("mapping", None) or RtMapping(queue=rt.queue)
    return RtBackend(f"rt+{url or rt.url}", rt.token, mapping=mapping, **options)


def notes_by_incident(cache: Cache, ids: list[str], kind: TimelineKind) -> dict[str, list[str]]:
    return {i: [e.body for e in cache.timeline(i) if e.kind is kind] for i in ids}


def old_search(
    self: RtBackend, path: str, params: Any, per_page: int = PAGE_MAX
) -> Iterator[tuple[list[dict[str, Any]], Any]]:
    """The connector's paging before issue #14: a short page was taken for the end."""
    page = 1
    while True:
        answer = self._call("GET", path, params=[*params, ("per_page", per_page), ("page", page)])
        items = answer.data["items"]
        yield items, answer.server_time
        if len(items) < per_page:
            return
        page += 1


def test_the_fixture_is_a_real_deployment(rt: RtInstance, operator: RtInstance) -> None:
    """Not an admin; RT hides the autoreplies from it; its pages come back short."""
    tickets = rt.seed_history(45)
    me = operator.api("GET", "user/operator", as_root=False).json()
    assert "Memberships" in me  # its own user record...
    assert "Memberships" not in operator.api("GET", "user/Nobody", as_root=False).json()
    queue_id = rt.api("GET", f"queue/{rt.queue}").json()["id"]
    sql = f"ObjectType = 'RT::Ticket' AND TicketQueue = {queue_id}"
    query = {"query": sql, "fields": "Type", "per_page": 100}
    seen = operator.api("GET", "transactions", params=query, as_root=False).json()
    everything = rt.api("GET", "transactions", params=query).json()
    assert everything["total"] > 300  # more than one page, several EmailRecords among them
    assert "EmailRecord" in {t["Type"] for t in everything["items"]}
    assert "EmailRecord" not in {t["Type"] for t in seen["items"]}
    assert 0 < seen["count"] < 100  # short...
    assert seen["total"] is None  # ... and RT does not say how many there are
    second = operator.api("GET", "transactions", params={**query, "page": 2}, as_root=False)
    assert second.json()["count"] > 0  # ... yet not the end
    # Not a dispatcher: it may not create tickets in the queue.
    assert operator.api("POST", "ticket", json={"Queue": rt.queue, "Subject": "x"},
                        as_root=False).status_code in (400, 403)  # fmt: skip
    assert len(tickets) == 45


def test_the_old_paging_loses_history_and_the_new_reads_all_of_it(
    rt: RtInstance, operator: RtInstance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tickets = rt.seed_history(150)
    ids = [incident_id(t) for t in tickets]
    expected = versions_seen_by_operator(rt, tickets)

    with Cache.open(tmp_path / "old.db") as old_cache:
        with monkeypatch.context() as patched:
            patched.setattr(RtBackend, "_search", old_search)
            with connector(operator) as backend:
                SyncEngine(old_cache, backend, poll_interval=1).sync_once()
        notes = notes_by_incident(old_cache, ids, TimelineKind.WORK_NOTE)
        missing = [i for i in ids if notes[i] != [NOTE]]
        assert len(missing) > 50  # most of the history beyond the first page is dropped
        wrong = [i for i in ids if (old_cache.incident(i) or i).version != expected[i]]  # type: ignore[union-attr]
        assert wrong  # and versions of tickets read half-way are old

    with Cache.open(tmp_path / "new.db") as cache, connector(operator) as backend:
        SyncEngine(cache, backend, poll_interval=1).sync_once()
        assert notes_by_incident(cache, ids, TimelineKind.WORK_NOTE) == {i: [NOTE] for i in ids}
        assert notes_by_incident(cache, ids, TimelineKind.STATUS_UPDATE) == {
            i: [REPLY] for i in ids
        }
        shown = {i.id: i for i in cache.incidents()}
        assert {i: shown[i].version for i in ids} == expected
        assert all(shown[i].description.startswith("Customers behind") for i in ids)
        assert cache.cursor(backend.key) == max(expected.values())


def test_an_idle_poll_is_one_search(rt: RtInstance, operator: RtInstance, cache: Cache) -> None:
    rt.seed_history(120)
    time.sleep(2.2)  # the seeded tickets lie outside the overlap of the newest one
    rt.create_ticket("Newest", Requestor="caller@customers.noc-console.test")
    calls: list[str] = []
    with connector(operator, overlap=1, tombstone_every=3600) as backend:
        engine = SyncEngine(cache, backend, poll_interval=1)
        engine.sync_once()
        time.sleep(2.2)  # past the overlap: the newest ticket settles at the next poll
        engine.sync_once()
        real_call = backend._call

        def counting(method: str, path: str, **kwargs: Any) -> Any:
            calls.append(f"{method} {path}")
            return real_call(method, path, **kwargs)

        backend._call = counting  # type: ignore[method-assign]
        batch = backend.changes(cache.cursor(backend.key), 100)  # what the engine's poll asks
    assert batch.incidents == ()
    assert not batch.more
    assert calls == ["GET tickets"]  # RT reports a ticket search's total: no page more


def test_a_ticket_moved_where_the_operator_cannot_see_it_leaves_the_cache(
    rt: RtInstance, operator: RtInstance, cache: Cache
) -> None:
    visible = rt.server.take_spare_queue()  # set up like NOC: the operator sees it
    kept, hidden, moved, deleted, merged = (
        rt.create_ticket(subject, Requestor="caller@customers.noc-console.test")
        for subject in ("Kept", "Moved to General", "Moved to a visible queue", "Deleted", "Dup")
    )

    def known() -> list[str]:
        return [i.id for i in cache.incidents(descriptions=False)]

    with connector(operator, tombstone_every=0, known_incidents=known) as backend:
        SyncEngine(cache, backend, poll_interval=1).sync_once()
        assert len(cache.incidents()) == 5
        assert operator.api("GET", "queue/General", as_root=False).status_code == 403
        assert rt.api("PUT", f"ticket/{hidden}", json={"Queue": "General"}).ok
        assert rt.api("PUT", f"ticket/{moved}", json={"Queue": visible}).ok
        assert rt.api("DELETE", f"ticket/{deleted}").status_code == 204
        assert rt.api("PUT", f"ticket/{merged}", json={"MergeInto": kept}).ok
        SyncEngine(cache, backend, poll_interval=1).sync_once()
    assert [i.id for i in cache.incidents()] == [incident_id(kept)]


def lifecycle_map() -> StatusMap:
    """The custom lifecycle of tests/rt/seed/91-noc-console-lifecycle.pm, mapped in
    settings.toml as docs/rt.md shows it (the TOML is taken from that page)."""
    page = (Path(__file__).parents[3] / "docs" / "rt.md").read_text(encoding="utf-8")
    block = page.split("**A custom lifecycle.**", 1)[1].split("```toml", 1)[1].split("```", 1)[0]
    settings = parse_settings(tomllib.loads(f'[rt]\nqueue = "NOC"\n{block}'), Path("settings.toml"))
    return rt_settings(settings).statuses


def test_a_custom_lifecycle_reads_moves_and_refuses_as_rt_says(
    rt: RtInstance, cache: Cache
) -> None:
    queue = rt.server.take_spare_queue(LIFECYCLE)
    operator = rt.with_queue(queue).as_user()
    ticket = rt.with_queue(queue).create_ticket("BGP session down", Requestor="noc@example.org")
    elsewhere = rt.with_queue(queue).create_ticket("Fibre cut", Status="triage")
    assert rt.api("PUT", f"ticket/{elsewhere}", json={"Status": "investigating"}).ok
    ref = incident_id(ticket)
    mapping = RtMapping(queue=queue, statuses=lifecycle_map())
    with connector(operator, mapping=mapping, overlap=1) as backend:
        engine = SyncEngine(cache, backend, poll_interval=1)
        engine.sync_once()
        assert cache.incident(ref).state is State.NEW  # type: ignore[union-attr]
        assert cache.incident(incident_id(elsewhere)).state is State.IN_PROGRESS  # type: ignore[union-attr]
        assert not [n for n in backend.take_notices() if "status map" in n]

        edits = LocalEdits(cache, author="operator")
        edits.patch(ref, {"state": "triaged"})  # RT allows new -> triage
        engine.sync_once()
        assert rt.ticket(ticket)["Status"] == "triage"
        assert engine.rejections() == []

        # The console allows triaged -> resolved; RT's lifecycle does not (triage ->
        # mitigated). RT answers 200 with its reason; the console shows it, keeps the
        # refused edit, and shows RT's state again.
        edits.patch(ref, {"state": "resolved"})
        engine.sync_once()
        [rejection] = engine.rejections()
        assert "You can't change status from 'triage' to 'mitigated'" in rejection.message
        assert rt.ticket(ticket)["Status"] == "triage"
        assert cache.incident(ref).state is State.TRIAGED  # type: ignore[union-attr]
        assert len(cache.outbox_records(status="rejected")) == 1  # kept, not lost

        for state, status in (("in_progress", "investigating"), ("resolved", "mitigated")):
            edits.patch(ref, {"state": state})
            engine.sync_once()
            assert rt.ticket(ticket)["Status"] == status
        assert cache.incident(ref).state is State.RESOLVED  # type: ignore[union-attr]
        assert len(engine.rejections()) == 1


def test_rt_failing_mid_catch_up_loses_nothing_and_the_next_poll_resumes(
    rt: RtInstance, operator: RtInstance, cache: Cache
) -> None:
    tickets = rt.seed_history(150)
    ids = [incident_id(t) for t in tickets]
    with lossy_proxy(rt.url) as proxy, connector(operator, url=proxy.url) as backend:
        engine = SyncEngine(cache, backend, poll_interval=1)
        # A 502 from a proxy in front of RT after the first two pages of transactions.
        proxy.fail("GET", "/transactions", status=502, skip=14, times=1)
        with pytest.raises(Unreachable, match="not available right now"):
            engine.sync_once()
        assert cache.cursor(backend.key) > 0  # the first page of tickets is kept
        # The next page of tickets as malformed JSON (a proxy's error page cut short).
        proxy.fail("GET", "/tickets", status=200, body=b'{"items": [{"id": "1"')
        with pytest.raises(BackendError, match="did not answer in JSON"):
            engine.sync_once()
        stored = cache.cursor(backend.key)
        assert stored < max(versions_seen_by_operator(rt, tickets).values())
        engine.sync_once()
    with connector(operator) as fresh:  # a new process would resume from the stored cursor
        SyncEngine(cache, fresh, poll_interval=1).sync_once()
    assert notes_by_incident(cache, ids, TimelineKind.WORK_NOTE) == {i: [NOTE] for i in ids}
    assert notes_by_incident(cache, ids, TimelineKind.STATUS_UPDATE) == {i: [REPLY] for i in ids}
    assert {i.id: i.version for i in cache.incidents()} == versions_seen_by_operator(rt, tickets)


def test_missing_rights_are_said_once_and_clearly(rt: RtInstance, cache: Cache) -> None:
    watcher = rt.as_user(WATCHER)
    ticket = rt.create_ticket("Packet loss on VLAN 20", Requestor="caller@example.org")
    with connector(watcher) as backend:
        engine = SyncEngine(cache, backend, poll_interval=1)
        engine.sync_once()
        said = backend.take_notices()
        assert [n for n in said if "may not create tickets" in n and "CreateTicket" in n]
        assert [n for n in said if "status updates" in n and "ReplyToTicket" in n]
        assert not [n for n in said if "CommentOnTicket" in n]  # it may comment
        LocalEdits(cache, author=WATCHER).add_note(incident_id(ticket), "Seen on the wall")
        LocalEdits(cache, author=WATCHER).add_note(incident_id(ticket), "Still there")
        engine.sync_once()
        later = backend.take_notices()
        assert len([n for n in later if "ShowTicketComments" in n]) == 1
        engine.sync_once()
        assert backend.take_notices() == []  # said once
