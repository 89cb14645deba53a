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

import contextlib
import http.client
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from console.connectors.base import Unreachable
from console.connectors.rt import RtBackend
from console.connectors.rt.fields import CustomFieldNames
from console.connectors.rt.mapping import RtMapping, incident_id
from console.store import Cache
from console.sync.edits import LocalEdits
from console.sync.engine import SyncEngine
from tests.rt.rtserver import RtInstance

pytestmark = pytest.mark.slow

API = "/REST/2.0"
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "te", "upgrade"}
)


@dataclass
class _Rule:
    method: str
    path: re.Pattern[str]
    status: int  # 0: forward to RT, then drop the answer
    times: int
    skip: int = 0  # matching requests let through before the rule applies
    body: bytes = b'{"message":"failed by the test proxy"}'


class LossyProxy:
    """An HTTP proxy on 127.0.0.1 in front of RT that can lose answers or fail requests.

    ``drop(method, path)``: the next matching request reaches RT and RT finishes
    it, but the connection is closed before the answer is sent (the console
    sees the connection broken). ``fail(method, path, status)``: matching
    requests are answered with ``status`` (and ``body``: malformed JSON, say)
    and never reach RT, after the first ``skip`` of them. ``path`` is a
    regular expression matched against the REST2 path (``/ticket``,
    ``/ticket/12/comment``) to its end. ``seen`` lists ``(method, path)`` of
    every request.
    """

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()
        self.seen: list[tuple[str, str]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def drop(self, method: str, path: str, times: int = 1) -> None:
        self._add(method, path, 0, times)

    def fail(
        self,
        method: str,
        path: str,
        *,
        status: int,
        times: int = 1,
        skip: int = 0,
        body: bytes | None = None,
    ) -> None:
        self._add(method, path, status, times, skip=skip, body=body)

    def heal(self) -> None:
        with self._lock:
            self._rules.clear()

    def _add(
        self,
        method: str,
        path: str,
        status: int,
        times: int,
        *,
        skip: int = 0,
        body: bytes | None = None,
    ) -> None:
        rule = _Rule(method, re.compile(path + "$"), status, times, skip)
        if body is not None:
            rule.body = body
        with self._lock:
            self._rules.append(rule)

    def _take(self, method: str, path: str) -> _Rule | None:
        with self._lock:
            self.seen.append((method, path))
            for rule in self._rules:
                if rule.times > 0 and rule.method == method and rule.path.match(path):
                    if rule.skip > 0:
                        rule.skip -= 1
                        continue
                    rule.times -= 1
                    return rule
        return None

    def start(self) -> LossyProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = urlsplit(self.path).path.removeprefix(API)
                rule = proxy._take(self.command, path)
                if rule is not None and rule.status:
                    text = rule.body
                    self.send_response(rule.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(text)))
                    self.end_headers()
                    self.wfile.write(text)
                    return
                upstream = http.client.HTTPConnection(*proxy._upstream, timeout=60)
                try:
                    headers = {
                        k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP
                    }
                    upstream.request(self.command, self.path, body=body or None, headers=headers)
                    answer = upstream.getresponse()
                    content = answer.read()  # RT has finished the request
                finally:
                    upstream.close()
                if rule is not None:
                    self.close_connection = True  # the answer is lost
                    return
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in _HOP_BY_HOP and key.lower() != "date":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            # http.server calls do_<METHOD>.
            do_GET = do_POST = do_PUT = do_DELETE = _relay  # noqa: N815

        return Handler


@contextlib.contextmanager
def lossy_proxy(upstream: str) -> Iterator[LossyProxy]:
    """A running :class:`LossyProxy` in front of ``upstream``, stopped afterwards."""
    proxy = LossyProxy(upstream).start()
    try:
        yield proxy
    finally:
        proxy.stop()


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
