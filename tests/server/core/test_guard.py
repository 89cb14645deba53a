"""Before the routes: the token before the body, rate limits, deadlines, stream caps.

Real servers on loopback and raw sockets where a well-behaved HTTP client
cannot misbehave the way an attacker would (a body that never ends, headers
dripped a byte at a time).
"""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from console.server.core import auth
from console.server.core.guard import Buckets
from console.server.main import context_of
from tests.helpers.serve import ServeProcess, create_token
from tests.helpers.servers import Api, ApiFactory
from tests.helpers.sse import SseReader


def _connect(api_url: str) -> socket.socket:
    host, port = api_url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=5)
    return sock


def _head(method: str, path: str, token: str | None, length: int) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: test", "Content-Type: application/json"]
    if token is not None:
        lines.append(f"Authorization: Bearer {token}")
    lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _status(sock: socket.socket, timeout: float) -> int:
    sock.settimeout(timeout)
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed without an answer")
        data += chunk
    return int(data.split(b" ", 2)[1])


def _closed_within(sock: socket.socket, timeout: float) -> bool:
    """Whether the server closes ``sock`` within ``timeout`` (reading whatever it sends)."""
    sock.settimeout(timeout)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True


def test_the_token_is_checked_before_the_body_is_read(api: Api) -> None:
    for token in (None, "noc_not-a-real-token"):
        with _connect(api.url) as sock:
            sock.sendall(_head("POST", "/v1/incidents", token, 1_000_000) + b'{"title": "')
            # The body is far from complete, and the answer comes anyway.
            assert _status(sock, timeout=5) == 401
            assert _closed_within(sock, 5)


def test_a_body_that_stops_arriving_gets_408(api_factory: ApiFactory) -> None:
    api = api_factory(body_timeout_s=0.5)
    with _connect(api.url) as sock:
        sock.sendall(_head("POST", "/v1/incidents", api.tokens["dispatcher"], 100) + b"{")
        started = time.monotonic()
        assert _status(sock, timeout=5) == 408
        assert time.monotonic() - started < 3
        assert _closed_within(sock, 5)
    assert api.request("GET", "/v1/incidents").json()["total"] == 0


@pytest.mark.parametrize("parser", ["httptools", "h11"])
def test_headers_dripped_slowly_are_cut_off(
    api_factory: ApiFactory, monkeypatch: pytest.MonkeyPatch, parser: str
) -> None:
    # The server uses httptools (uvicorn[standard]) and falls back to h11: both keep the deadline.
    monkeypatch.setenv("NOC_HTTP_PARSER", parser)
    api = api_factory(header_timeout_s=0.5)
    expected = "HeaderDeadlineHttpTools" if parser == "httptools" else "HeaderDeadlineProtocol"
    assert expected in [c.__name__ for c in api.server._server.config.http.__mro__]  # type: ignore[union-attr]
    with _connect(api.url) as sock:
        sock.sendall(b"GET /v1/me HTTP/1.1\r\nHost: test\r\n")
        started = time.monotonic()
        closed = False
        while time.monotonic() - started < 4:
            try:
                sock.sendall(b"X")  # one byte now and then keeps uvicorn's own timer reset
            except OSError:
                closed = True
                break
            if _closed_within(sock, 0.2):
                closed = True
                break
        assert closed, "the connection was still open after 4 s of dripped headers"
        assert time.monotonic() - started < 3
    # A normal request on a new connection is unaffected.
    assert api.request("GET", "/v1/me").status_code == 200


def test_per_token_rate_limit_answers_429_with_retry_after(api_factory: ApiFactory) -> None:
    api = api_factory(rate_per_token=2, rate_burst_per_token=5)
    statuses = [api.request("GET", "/v1/me", role="viewer").status_code for _ in range(8)]
    assert statuses[:5] == [200] * 5
    assert 429 in statuses[5:]
    refused = api.request("GET", "/v1/me", role="viewer")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["error"]["code"] == "rate_limited"
    # Another token is not held back by this one.
    assert api.request("GET", "/v1/me", role="admin").status_code == 200


def test_per_address_rate_limit_covers_unauthenticated_requests(api_factory: ApiFactory) -> None:
    api = api_factory(rate_per_address=1, rate_burst_per_address=10)
    statuses = [api.client.get("/v1/health").status_code for _ in range(15)]
    assert statuses[:10] == [200] * 10
    assert statuses[-1] == 429


def test_guessing_tokens_is_slowed_to_a_few_per_second(api: Api) -> None:
    statuses = []
    started = time.monotonic()
    for n in range(300):
        response = api.client.get("/v1/me", headers={"Authorization": f"Bearer noc_guess{n}"})
        statuses.append(response.status_code)
    assert statuses[0] == 401
    assert statuses.count(429) > 100, statuses.count(429)
    assert time.monotonic() - started < 60
    assert "Retry-After" in response.headers


def test_one_token_holds_a_bounded_number_of_event_streams(api_factory: ApiFactory) -> None:
    api = api_factory(max_streams_per_token=2, sse_heartbeat_s=5)
    viewer = api.auth("viewer")
    with SseReader(api.url, viewer) as first, SseReader(api.url, viewer) as second:
        assert (first.status, second.status) == (200, 200)
        with SseReader(api.url, viewer) as third:
            assert third.status == 200
            first._thread.join(5)
            assert not first._thread.is_alive(), "the oldest stream was not closed"
            assert second._thread.is_alive()
            assert third._thread.is_alive()


def test_revoking_a_token_closes_its_open_streams_within_a_second(
    api_factory: ApiFactory,
) -> None:
    api = api_factory(sse_heartbeat_s=5)
    db = context_of(api.server.app).db
    with SseReader(api.url, api.auth("viewer")) as stream:
        assert stream.status == 200
        with db.write_session() as session:
            name = next(
                n for n in (t.name for t in auth.list_tokens(session=session)) if "viewer" in n
            )
            auth.revoke_token(session=session, name_or_id=name, now=datetime.now(UTC))
            session.commit()
        revoked_at = time.monotonic()
        stream._thread.join(3)
        assert not stream._thread.is_alive(), "the revoked token's stream stayed open"
        assert time.monotonic() - revoked_at < 1.0
    assert api.request("GET", "/v1/events", role="viewer").status_code == 401


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads RSS from /proc")
def test_unfinished_bodies_without_a_token_cost_no_memory(tmp_path: Path) -> None:
    db = str(tmp_path / "server.db")
    token = create_token(db, "viewer", "wall")
    with ServeProcess(db, tmp_path / "serve.log") as server:
        with server.client(token) as client:
            for _ in range(20):  # warm up: imports, pools, caches
                assert client.get("/v1/incidents").status_code == 200
        pid = server.proc.pid
        baseline = _rss_mb(pid)
        chunk = b"x" * (64 * 1024)
        socks = []
        answered = 0
        for _ in range(100):
            sock = _connect(server.url)
            socks.append(sock)
            try:
                sock.sendall(_head("POST", "/v1/incidents", "noc_bogus", 1_000_000))
                for _ in range(14):  # ~900 KB of a 1 MB body, never finished
                    sock.sendall(chunk)
            except OSError:
                pass  # the server answered 401 and closed: the point of the test
        for sock in socks:
            try:
                answered += _status(sock, timeout=5) in (401, 429)
            except (OSError, ConnectionError):
                answered += 1  # closed on us without reading the body
        during = _rss_mb(pid)
        for sock in socks:
            sock.close()
        time.sleep(1)
        after = _rss_mb(pid)
        with server.client(token) as client:
            assert client.get("/v1/incidents").status_code == 200
    print(f"RSS baseline {baseline:.1f} MB, 100 unfinished bodies {during:.1f}, after {after:.1f}")
    assert answered == 100
    assert during - baseline < 30, (baseline, during)
    assert after - baseline < 15, (baseline, after)


def test_buckets_refill_and_stay_bounded() -> None:
    now = [0.0]
    buckets = Buckets(2, 3, clock=lambda: now[0])
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(0.5)
    now[0] += 0.5
    assert buckets.take("a") == 0.0
    assert Buckets(0, 1).take("x") == 0.0  # off


def test_the_api_still_works_through_the_guard(api: Api) -> None:
    created = api.create()
    response = api.patch(created, title="Checkout returns 503")
    assert response.status_code == 200, response.text
    with httpx.Client(base_url=api.url) as anonymous:
        assert anonymous.get("/v1/health").status_code == 200
        assert anonymous.get("/openapi.json").status_code == 200
        assert anonymous.get("/v1/incidents").status_code == 401
