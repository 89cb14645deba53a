"""The NOC connector against our real server on loopback: data in, typed errors out."""

from __future__ import annotations

import http.server
import json
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from console.connectors.base import (
    AuthFailed,
    BackendError,
    Caller,
    ChangeBatch,
    RateLimited,
    Rejected,
    Stale,
    TlsFailed,
    Unreachable,
    field_value,
)
from console.connectors.http import parse_retry_after
from console.connectors.noc import NocBackend, incident_from_json
from console.domain.incident import Incident, TimelineKind
from console.domain.lifecycle import State
from console.server.core.auth import Role
from console.server.core.settings import Settings, sqlite_url
from console.server.embedded import EmbeddedServer
from console.wire import incident_to_wire
from tests.helpers.processes import make_incidents, wire_dict

NEW = {"title": "Checkout returns 502", "service": "checkout", "impact": "high", "urgency": "low"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _all_changes(backend: NocBackend, cursor: int = 0, page: int = 1000) -> list[ChangeBatch]:
    """Every page of the feed after ``cursor``."""
    out: list[ChangeBatch] = []
    more = True
    while more:
        batch = backend.changes(cursor, page)
        out.append(batch)
        cursor, more = batch.cursor, batch.more
    return out


def test_the_change_feed_arrives_as_domain_records_page_by_page(
    backend: NocBackend, server: EmbeddedServer
) -> None:
    created = [backend.create_incident(NEW, idempotency_key=f"k{n}") for n in range(3)]
    backend.update_incident(created[0].id, {"assignee": "ana"}, version=1, idempotency_key="edit-1")
    backend.add_timeline_entry(created[1].id, "work_note", "Rebooted lb-2", idempotency_key="n1")
    requests.put(
        f"{server.url}/v1/teams/network",
        json={"name": "Network Engineering", "tier": "L2"},
        headers={"Authorization": f"Bearer {server.issue_token('admin-a', Role.ADMIN)}"},
        timeout=10,
    ).raise_for_status()

    first = backend.changes(0, 2)
    assert first.more
    assert first.count == 2
    batches = [first, *_all_changes(backend, first.cursor, 2)]
    assert not batches[-1].more
    incidents = {i.id: i for b in batches for i in b.incidents}
    assert set(incidents) == {i.id for i in created}
    assert all(isinstance(i, Incident) for i in incidents.values())
    assert incidents[created[0].id].assignee == "ana"
    assert incidents[created[0].id].version == 2
    notes = [e for b in batches for e in b.timeline if e.kind is TimelineKind.WORK_NOTE]
    assert [n.body for n in notes] == ["Rebooted lb-2"]
    teams = [doc for b in batches for doc in b.reference.get("teams", ())]
    assert [t["name"] for t in teams] == ["Network Engineering"]
    # The last page's cursor is where the next sync starts: nothing after it.
    tail = backend.changes(batches[-1].cursor, 100)
    assert tail.count == 0
    assert tail.cursor == batches[-1].cursor


def test_a_resent_create_with_the_same_idempotency_key_is_not_a_second_incident(
    backend: NocBackend,
) -> None:
    first = backend.create_incident(NEW, idempotency_key="outbox-1")
    again = backend.create_incident(NEW, idempotency_key="outbox-1")
    assert again.id == first.id
    created = [i for b in _all_changes(backend) for i in b.incidents]
    assert len(created) == 1


def test_a_stale_edit_raises_stale_with_the_backends_current_incident(
    backend: NocBackend, server: EmbeddedServer
) -> None:
    incident = backend.create_incident(NEW, idempotency_key="c1")
    other = NocBackend(server.url, server.issue_token("console-b", Role.DISPATCHER))
    other.update_incident(incident.id, {"assignee": "bo"}, version=1, idempotency_key="b1")
    with pytest.raises(Stale) as caught:
        backend.update_incident(incident.id, {"title": "Mine"}, version=1, idempotency_key="a1")
    assert caught.value.current.version == 2
    assert caught.value.current.assignee == "bo"
    assert caught.value.current.title == NEW["title"]
    other.close()


def test_refusals_are_typed_and_carry_the_servers_message(
    backend: NocBackend, server: EmbeddedServer
) -> None:
    incident = backend.create_incident(NEW, idempotency_key="c1")
    with pytest.raises(Rejected) as illegal:
        backend.update_incident(incident.id, {"state": "closed"}, version=1, idempotency_key="x1")
    assert illegal.value.status == 409
    assert "allowed from new" in illegal.value.message

    with pytest.raises(Rejected) as forbidden:
        backend.update_incident(
            incident.id,
            {"severity": "SEV-1", "severity_reason": "exec escalation"},
            version=1,
            idempotency_key="x2",
        )
    assert forbidden.value.status == 403
    assert "commander" in forbidden.value.message

    with pytest.raises(Rejected) as invalid:
        backend.update_incident(incident.id, {"impact": "huge"}, version=1, idempotency_key="x3")
    assert invalid.value.status == 422
    assert "impact" in invalid.value.message

    with pytest.raises(Rejected) as missing:
        backend.get_incident("INC-999999")
    assert missing.value.status == 404

    stranger = NocBackend(server.url, "not-a-token")
    with pytest.raises(AuthFailed) as refused:
        stranger.changes(0, 10)
    assert "unknown or revoked" in refused.value.message
    stranger.close()


def test_an_unreachable_backend_says_so_plainly() -> None:
    backend = NocBackend(f"http://127.0.0.1:{_free_port()}", "t", connect_timeout=2)
    with pytest.raises(Unreachable) as caught:
        backend.changes(0, 10)
    assert "connection refused" in str(caught.value)
    backend.close()


class _Throttling(http.server.BaseHTTPRequestHandler):
    """Answers every request with the status and headers the test sets on the server."""

    def do_GET(self) -> None:
        status, headers = self.server.reply  # type: ignore[attr-defined]
        body = json.dumps({"error": {"code": "slow_down", "message": "too many requests"}})
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def throttling() -> Iterator[http.server.HTTPServer]:
    """A stand-in server that only throttles.

    Our server never sends 429 or 503-with-Retry-After (a proxy or load
    balancer in front of it would), so this small HTTP server plays that part.
    """
    stub = http.server.HTTPServer(("127.0.0.1", 0), _Throttling)
    thread = threading.Thread(target=stub.serve_forever, daemon=True)
    thread.start()
    yield stub
    stub.shutdown()
    stub.server_close()


def test_429_is_rate_limited_with_the_servers_retry_after(
    throttling: http.server.HTTPServer,
) -> None:
    backend = NocBackend(f"http://127.0.0.1:{throttling.server_address[1]}", "t")
    throttling.reply = (429, {"Retry-After": "7"})  # type: ignore[attr-defined]
    with pytest.raises(RateLimited) as seconds:
        backend.changes(0, 10)
    assert seconds.value.retry_after == 7

    when = (datetime.now(UTC) + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    throttling.reply = (429, {"Retry-After": when})  # type: ignore[attr-defined]
    with pytest.raises(RateLimited) as date:
        backend.changes(0, 10)
    assert 25 <= date.value.retry_after <= 31

    throttling.reply = (503, {"Retry-After": "2"})  # type: ignore[attr-defined]
    with pytest.raises(Unreachable) as busy:
        backend.changes(0, 10)
    assert busy.value.retry_after == 2
    backend.close()


def test_retry_after_parsing() -> None:
    assert parse_retry_after("120", None) == 120
    assert parse_retry_after(None, 5.0) == 5.0
    assert parse_retry_after("soon", 5.0) == 5.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1.0) == 0.0  # in the past


def test_the_event_stream_wakes_on_each_change_and_closes_promptly(
    backend: NocBackend,
) -> None:
    stream = backend.open_events(None)
    seqs = iter(stream)
    first = next(seqs)  # a fresh stream says at once where the feed is
    received: list[int] = []
    done = threading.Event()

    def read() -> None:
        for seq in seqs:
            received.append(seq)
            if len(received) == 1:
                done.set()
        done.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    backend.create_incident(NEW, idempotency_key="wake-1")
    assert done.wait(10), "no wake-up within 10 s of a change"
    assert received[0] > first
    started = time.monotonic()
    stream.close()  # from another thread, while the reader blocks between heartbeats
    reader.join(5)
    assert not reader.is_alive()
    assert time.monotonic() - started < 2


def test_latest_cursor_reads_the_newest_seq(backend: NocBackend) -> None:
    assert backend.latest_cursor() == 0
    backend.create_incident(NEW, idempotency_key="c1")
    backend.create_incident(NEW, idempotency_key="c2")
    assert backend.latest_cursor() == backend.changes(0, 100).cursor


def test_incident_json_round_trips_and_bad_values_name_the_problem() -> None:
    for incident in make_incidents(300):
        wire = wire_dict(incident)
        assert incident_from_json(wire) == incident
        # The server's own serialisation reads the same.
        served = json.loads(incident_to_wire(incident).model_dump_json())
        assert incident_from_json(served) == incident
    sample = make_incidents(1)[0]
    assert field_value(replace(sample, state=State.ON_HOLD), "state") == "on_hold"
    with pytest.raises(BackendError, match="impact"):
        incident_from_json({**wire_dict(sample), "impact": "enormous"})


def _make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A private CA and a server certificate for 127.0.0.1 signed by it (openssl)."""
    ca_key, ca_pem = folder / "ca.key", folder / "ca.pem"
    key, csr, cert = folder / "server.key", folder / "server.csr", folder / "server.pem"
    ext = folder / "ext.cnf"
    ext.write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    commands = [
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key),
         "-out", str(ca_pem), "-days", "2", "-subj", "/CN=NOC test CA"],
        ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
         str(csr), "-subj", "/CN=127.0.0.1"],
        ["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca_pem), "-CAkey", str(ca_key),
         "-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(ext)],
    ]  # fmt: skip
    for command in commands:
        subprocess.run(command, check=True, capture_output=True, timeout=60)
    return ca_pem, cert, key


def test_tls_is_verified_and_a_private_ca_bundle_is_accepted(tmp_path: Path) -> None:
    try:
        ca, cert, key = _make_certificates(tmp_path)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"openssl is not usable here: {exc}")
    settings = Settings(
        db_url=sqlite_url(tmp_path / "server.db"),
        host="127.0.0.1",
        port=0,
        tls_cert=cert,
        tls_key=key,
        sse_heartbeat_s=0.3,
    )
    with EmbeddedServer(settings) as server:
        assert server.url.startswith("https://")
        token = server.issue_token("tls-client", Role.DISPATCHER)
        untrusted = NocBackend(server.url, token)
        with pytest.raises(TlsFailed) as refused:
            untrusted.changes(0, 10)
        assert "--ca-bundle" in str(refused.value)
        untrusted.close()
        trusted = NocBackend(server.url, token, ca_bundle=ca)
        assert trusted.changes(0, 10).count == 0
        trusted.close()
    with pytest.raises(ValueError, match="does not exist"):
        NocBackend("https://noc.example.com", "t", ca_bundle=tmp_path / "missing.pem")


@pytest.mark.parametrize("role", [role for role in Role if role is not Role.INTAKE])
def test_whoami_names_the_token_and_its_role(server: EmbeddedServer, role: Role) -> None:
    with NocBackend(server.url, server.issue_token(f"desk-{role.wire}", role)) as backend:
        assert backend.whoami() == Caller(f"desk-{role.wire}", role.wire)


def test_a_monitors_intake_token_is_no_console_token(server: EmbeddedServer) -> None:
    """An ``intake`` token (for Alertmanager) may only post alerts: a console is told so."""
    with (
        NocBackend(server.url, server.issue_token("alertmanager", Role.INTAKE)) as backend,
        pytest.raises(Rejected, match=r"needs the viewer role or higher.*is intake"),
    ):
        backend.whoami()


def test_whoami_without_a_valid_token_is_auth_failed(server: EmbeddedServer) -> None:
    with NocBackend(server.url, "noc_not-a-token") as backend, pytest.raises(AuthFailed):
        backend.whoami()


def test_whoami_from_a_server_without_it_cannot_say(server: EmbeddedServer) -> None:
    """A server from before ``/v1/me`` answers 404 there, like this unknown path prefix."""
    token = server.issue_token("desk", Role.DISPATCHER)
    with NocBackend(f"{server.url}/older", token) as backend:
        assert backend.whoami() is None


def test_create_sends_the_triage_fields(server: EmbeddedServer) -> None:
    token = server.issue_token("lead", Role.COMMANDER)
    with NocBackend(server.url, token) as backend:
        created = backend.create_incident(
            {
                **NEW,
                "assignment_group": "payments-eng",
                "severity": "SEV-1",
                "severity_reason": "all payments fail",
                "major": True,
                "commander": "Ana Ruiz",
            },
            idempotency_key="triage-1",
        )
    assert created.severity.code == "SEV-1"
    assert created.major is True
    assert created.assignment_group == "payments-eng"
