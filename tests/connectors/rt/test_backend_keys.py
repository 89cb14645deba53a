"""Lost answers: what the console sends to Request Tracker arrives once, never twice.

RT has no idempotency keys. When RT commits a request but its answer never
reaches the console (a timeout, the network gone, the console killed), the
outbox sends the request again. These tests lose real answers: the connector
talks to a real RT 5 through :class:`LossyProxy`, a proxy on loopback that
forwards a request to RT, lets RT finish it, and then drops the answer.
"Restarted" means a new connector (and engine) over the same cache, as after
the console was killed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from console.connectors.base import Unreachable
from console.connectors.rt import RtBackend
from console.connectors.rt.fields import CustomFieldNames
from console.connectors.rt.mapping import RtMapping, incident_id
from console.store import Cache
from console.sync.edits import LocalEdits
from console.sync.engine import SyncEngine
from tests.helpers.rt import LossyProxy, lossy_proxy
from tests.helpers.rtserver import RtInstance

pytestmark = pytest.mark.slow


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    with Cache.open(tmp_path / "cache.db") as opened:
        yield opened


@pytest.fixture
def proxy(rt: RtInstance) -> Iterator[LossyProxy]:
    with lossy_proxy(rt.url) as running:
        yield running


def connector(rt: RtInstance, proxy: LossyProxy, **fields: str) -> RtBackend:
    mapping = RtMapping(queue=rt.queue, fields=CustomFieldNames(**fields))
    return RtBackend(f"rt+{proxy.url}", rt.token, mapping=mapping, overlap=1)


def tickets(rt: RtInstance) -> list[dict[str, Any]]:
    reply = rt.api(
        "GET",
        "tickets",
        params={"query": f"Queue = '{rt.queue}'", "fields": "Subject", "per_page": 100},
    )
    items: list[dict[str, Any]] = reply.json()["items"]
    return items


def messages(rt: RtInstance, ticket: int, kind: str) -> list[str]:
    """The text of the ticket's comments (``Comment``) or correspondence (``Correspond``)."""
    history = rt.api(
        "GET", f"ticket/{ticket}/history", params={"fields": "Type", "per_page": 100}
    ).json()["items"]
    out = []
    for txn in history:
        if txn["Type"] != kind:
            continue
        parts = rt.api(
            "GET",
            f"transaction/{txn['id']}/attachments",
            params={"fields": "Content,ContentType"},
        ).json()["items"]
        out += [p["Content"] for p in parts if p.get("ContentType") == "text/plain"]
    return out


NEW_INCIDENT: dict[str, Any] = {
    "title": "Core router CPU at 100%",
    "service": "core-network",
    "impact": "high",
    "urgency": "high",
    "description": "cr-1 stopped answering BGP keepalives",
}


# ---------------------------------------------------------------------- creates


def test_a_create_whose_answer_was_lost_is_not_made_again_after_a_restart(
    rt: RtInstance, proxy: LossyProxy, cache: Cache
) -> None:
    placeholder = LocalEdits(cache, author="noc-console").create(**NEW_INCIDENT)
    proxy.drop("POST", "/ticket")
    with connector(rt, proxy) as backend, pytest.raises(Unreachable):
        SyncEngine(cache, backend, poll_interval=1).sync_once()
    assert len(tickets(rt)) == 1  # RT made it; the console never heard

    with connector(rt, proxy) as restarted:
        engine = SyncEngine(cache, restarted, poll_interval=1)
        engine.sync_once()

    [made] = tickets(rt)
    assert engine.rejections() == []
    assert cache.incident(placeholder.id) is None
    assert [i.id for i in cache.incidents()] == [incident_id(int(made["id"]))]
    assert [c for c in proxy.seen if c == ("POST", "/ticket")] == [("POST", "/ticket")] * 1


def test_the_request_key_is_written_on_the_new_ticket(rt: RtInstance, proxy: LossyProxy) -> None:
    with connector(rt, proxy) as backend:
        made = backend.create_incident(NEW_INCIDENT, idempotency_key="0f1e2d3c")
        assert backend.take_notices() == []
    ticket = rt.ticket(int(made.id.removeprefix("rt-")))
    values = {cf["name"]: cf["values"] for cf in ticket["CustomFields"]}
    assert values["NOC Request Key"] == ["0f1e2d3c"]


def test_without_the_request_key_field_the_console_says_a_resend_may_double(
    rt: RtInstance, proxy: LossyProxy
) -> None:
    with connector(rt, proxy, request_key="No Such Key Field") as backend:
        proxy.drop("POST", "/ticket")
        with pytest.raises(Unreachable):
            backend.create_incident(NEW_INCIDENT, idempotency_key="k-1")
        again = backend.create_incident(NEW_INCIDENT, idempotency_key="k-1")
        notices = backend.take_notices()
        backend.create_incident({**NEW_INCIDENT, "title": "Other"}, idempotency_key="k-2")
        assert backend.take_notices() == []  # said once
    # While the console runs it still recognises its own ticket.
    assert [int(t["id"]) for t in tickets(rt) if t["Subject"] == NEW_INCIDENT["title"]] == [
        int(again.id.removeprefix("rt-"))
    ]
    [notice] = [n for n in notices if "No Such Key Field" in n]
    assert "twice" in notice
    assert "docs/rt-setup.md" in notice


def test_a_note_made_with_a_new_ticket_is_added_once_when_its_answer_was_lost(
    rt: RtInstance, proxy: LossyProxy
) -> None:
    """A caller's name is kept as a comment on the new ticket. That comment's answer is
    lost: the create is sent again, finds its ticket, and adds no second comment."""
    fields = {**NEW_INCIDENT, "reporter": "Dana on the service desk"}
    with connector(rt, proxy) as backend:
        proxy.drop("POST", r"/ticket/\d+/comment")
        with pytest.raises(Unreachable):
            backend.create_incident(fields, idempotency_key="with-note")
    with connector(rt, proxy) as restarted:
        made = restarted.create_incident(fields, idempotency_key="with-note")
    number = int(made.id.removeprefix("rt-"))
    assert len(tickets(rt)) == 1
    assert messages(rt, number, "Comment") == ["Reported by: Dana on the service desk"]


def test_a_note_made_with_a_new_ticket_is_not_lost_when_rt_was_away(
    rt: RtInstance, proxy: LossyProxy
) -> None:
    fields = {**NEW_INCIDENT, "reporter": "Dana on the service desk"}
    with connector(rt, proxy) as backend:
        proxy.fail("POST", r"/ticket/\d+/comment", status=503)
        with pytest.raises(Unreachable):
            backend.create_incident(fields, idempotency_key="note-later")
        made = backend.create_incident(fields, idempotency_key="note-later")
    number = int(made.id.removeprefix("rt-"))
    assert len(tickets(rt)) == 1
    assert messages(rt, number, "Comment") == ["Reported by: Dana on the service desk"]


# ---------------------------------------------------------------------- notes


def test_a_note_whose_answer_was_lost_is_not_added_again_after_a_restart(
    rt: RtInstance, proxy: LossyProxy, cache: Cache
) -> None:
    ticket = rt.create_ticket("Packet loss on uplink 2", CustomFields={"Service": "wan"})
    with connector(rt, proxy) as backend:
        SyncEngine(cache, backend, poll_interval=1).sync_once()
        edits = LocalEdits(cache, author="noc-console")
        edits.add_note(incident_id(ticket), "Rerouted via uplink 1")
        edits.add_note(incident_id(ticket), "Carrier ticket opened", kind="status_update")
        proxy.drop("POST", rf"/ticket/{ticket}/comment")
        proxy.drop("POST", rf"/ticket/{ticket}/correspond")
        engine = SyncEngine(cache, backend, poll_interval=1)
        with pytest.raises(Unreachable):
            engine.sync_once()  # the comment is in RT, its answer lost
        with pytest.raises(Unreachable):
            engine.sync_once()  # the same for the correspondence
    with connector(rt, proxy) as restarted:
        engine = SyncEngine(cache, restarted, poll_interval=1)
        engine.sync_once()
        assert engine.rejections() == []
    assert messages(rt, ticket, "Comment") == ["Rerouted via uplink 1"]
    assert messages(rt, ticket, "Correspond") == ["Carrier ticket opened"]
    bodies = [e.body for e in cache.timeline(incident_id(ticket))]
    assert bodies.count("Rerouted via uplink 1") == 1
    assert bodies.count("Carrier ticket opened") == 1


def test_without_the_key_field_a_lost_note_is_recognised_while_the_console_runs(
    rt: RtInstance, proxy: LossyProxy
) -> None:
    """Two identical notes are two notes; only a resend of the same one is recognised."""
    ticket = rt.create_ticket("Packet loss on uplink 3", CustomFields={"Service": "wan"})
    with connector(rt, proxy, request_key="") as backend:
        backend.add_timeline_entry(
            incident_id(ticket), "work_note", "Still investigating", idempotency_key="n-1"
        )
        proxy.drop("POST", rf"/ticket/{ticket}/comment")
        with pytest.raises(Unreachable):
            backend.add_timeline_entry(
                incident_id(ticket), "work_note", "Still investigating", idempotency_key="n-2"
            )
        event = backend.add_timeline_entry(
            incident_id(ticket), "work_note", "Still investigating", idempotency_key="n-2"
        )
    assert messages(rt, ticket, "Comment") == ["Still investigating"] * 2
    assert event.body == "Still investigating"
    assert event.data["rt_type"] == "Comment"


# ---------------------------------------------------------------------- edits


def test_the_comment_of_an_edit_is_kept_when_the_edits_answer_was_lost(
    rt: RtInstance, proxy: LossyProxy, cache: Cache
) -> None:
    """On hold with a reason: RT keeps the reason as a comment after the status change.
    The change's answer is lost; the resend meets 412 (the ticket has moved on, by the
    console's own change), sees its change applied, and adds the comment once."""
    ticket = rt.create_ticket("Leased line down", Status="open", CustomFields={"Service": "wan"})
    with connector(rt, proxy) as backend:
        engine = SyncEngine(cache, backend, poll_interval=1)
        engine.sync_once()
        LocalEdits(cache, author="noc-console").patch(
            incident_id(ticket), {"state": "on_hold", "hold_reason": "awaiting_vendor"}
        )
        proxy.drop("PUT", f"/ticket/{ticket}")
        with pytest.raises(Unreachable):
            engine.sync_once()
        assert rt.ticket(ticket)["Status"] == "stalled"
        engine.sync_once()
        assert engine.rejections() == []
        assert engine.conflicts() == []
    assert messages(rt, ticket, "Comment") == ["On hold: awaiting vendor"]
