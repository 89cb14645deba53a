"""Fixtures and helpers for tests against a real Request Tracker 5 (``tests/helpers/rtserver.py``).

``rt_server`` starts one ``rt-server`` per test session on a free loopback port
over a fresh SQLite copy of the seeded template database; ``rt`` hands each test
that same server through a queue of its own (set up like NOC: same custom
fields, same rights), so tests never see each other's tickets.

Without RT installed the tests skip, naming ``.ci/install-rt``;
``NOC_REQUIRE_RT=1`` (as CI sets) turns the skip into a failure.

The fixtures are registered once in ``tests/conftest.py``. The helpers: the
:class:`LossyProxy` that loses RT's answers, running ``noc-console`` against
the test RT, and what the fixture's operator account can see.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from console.connectors.rt.mapping import incident_id
from tests.helpers.env import require_or_skip
from tests.helpers.rtserver import (
    RtInstance,
    RtServer,
    RtUnavailable,
    rt_unavailable_reason,
)


def require_rt() -> None:
    """Skip (or, with NOC_REQUIRE_RT=1, fail) the test when RT cannot run here."""
    reason = rt_unavailable_reason()
    require_or_skip(reason is None, reason or "", "NOC_REQUIRE_RT")


@pytest.fixture(scope="session")
def rt_server() -> Iterator[RtInstance]:
    """A running RT seeded with queue NOC, its five custom fields, the console user
    with a dispatcher's rights, and that user's auth token."""
    require_rt()
    server = RtServer()
    try:
        server.start()
    except RtUnavailable as exc:
        require_or_skip(False, str(exc), "NOC_REQUIRE_RT")
    try:
        yield server.instance()
    finally:
        server.stop()


@pytest.fixture
def rt(rt_server: RtInstance) -> Iterator[RtInstance]:
    """The session's RT seen through a fresh queue set up like NOC (its ``queue``).

    Tokens the test revokes (the console's too) work again for the next test.
    """
    yield rt_server.with_queue(rt_server.server.take_spare_queue())
    rt_server.server.restore_tokens()


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


def run(
    rt: RtInstance, tmp_path: Path, *argv: str, token: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "RT_TOKEN": token or rt.token,
        "NOC_CONSOLE_DATA_DIR": str(tmp_path / "data"),
        "NOC_CONSOLE_CONFIG_DIR": str(tmp_path / "config"),
        "QT_QPA_PLATFORM": "offscreen",
    }
    return subprocess.run(
        [sys.executable, "-m", "console", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def connection(rt: RtInstance) -> list[str]:
    return ["--backend", f"rt+{rt.url}", "--queue", rt.queue, "--token-env", "RT_TOKEN"]


NOTE = "Line card 3 logs CRC errors."  # the seeded tickets' comment


REPLY = "On it."  # and their correspondence


def versions_seen_by_operator(rt: RtInstance, tickets: list[int]) -> dict[str, int]:
    """Each ticket's newest transaction the operator may see (its ETag for that account),
    from RT's tables: everything but the outgoing mail records."""
    with contextlib.closing(rt.server.connect()) as db:
        rows = db.execute(
            "SELECT ObjectId, MAX(id) FROM Transactions WHERE ObjectType = 'RT::Ticket' "
            "AND Type NOT IN ('EmailRecord', 'CommentEmailRecord') "
            f"AND ObjectId IN ({', '.join(map(str, tickets))}) GROUP BY ObjectId"
        ).fetchall()
    return {incident_id(int(ticket)): int(top) for ticket, top in rows}
