"""The request log: nothing a client sends can forge a line or leak a token into it.

A real ``serve`` process writing its log to a file, and raw sockets for what
a polite HTTP client would not send.
"""

from __future__ import annotations

import logging
import socket
import time
from pathlib import Path

from console.server.core.middleware import SafeFormatter, log_safe, redact_url
from tests.helpers.serve import ServeProcess, create_token


def _raw(url: str, request: bytes, *, read: bool = True) -> None:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request)
        if read:
            sock.recv(65536)


def test_the_request_log_escapes_and_redacts(tmp_path: Path) -> None:
    db = str(tmp_path / "server.db")
    token = create_token(db, "dispatcher", "console-1")
    forged = '/v1/x%0a2026-12-06 10:00:00,000 INFO console.server.access: 10.0.0.9:1 "DELETE'
    with ServeProcess(db, tmp_path / "serve.log") as server:
        with server.client(token) as client:
            client.get(forged + '%20/v1/incidents/INC-000001" 204 1.0ms')
            client.get("/v1/incidents/%1b[2J%1b[31mred%00%0d")
            client.get(f"/v1/incidents?access_token={token}&limit=5")
            client.get(f"/v1/me/{token}")
            client.get("/v1/incidents/\u202eevil")
        # A client that gives up halfway through its upload.
        head = (
            "POST /v1/incidents HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {token}\r\nContent-Length: 5000\r\n\r\n"
        )
        _raw(server.url, head.encode() + b'{"title": "half', read=False)
        time.sleep(0.5)
        server.stop()
    log = server.log_text()
    lines = log.splitlines()
    access = [line for line in lines if "console.server.access" in line]
    # Every access line is one of ours: none starts with a forged prefix.
    assert not any(line.startswith("2026-12-06 10:00:00") for line in lines)
    [forging] = [line for line in access if "10.0.0.9:1" in line]
    assert '"GET /v1/x%0a2026-12-06' in forging  # the attempt, kept on the line it came in
    assert not any("DELETE" in line and "GET" not in line for line in access)
    assert "\x1b" not in log
    assert "\x00" not in log
    assert "\r" not in log
    assert "\u202e" not in log
    assert token not in log
    assert "access_token=[redacted]&limit=5" in log
    assert "/v1/me/noc_[redacted]" in log
    abandoned = [line for line in access if '"POST /v1/incidents"' in line]
    assert len(abandoned) == 1
    assert "abandoned" in abandoned[0]
    assert " 500 " not in abandoned[0]


def test_log_safe_escapes_every_control_character() -> None:
    assert log_safe("a\nb\rc\x1b[0m\x00\x7f\x85\u200b\u2028\\") == (
        "a\\x0ab\\x0dc\\x1b[0m\\x00\\x7f\\x85\\u200b\\u2028\\\\"
    )
    assert log_safe("Grüße, 東京") == "Grüße, 東京"


def test_redact_url_hides_credentials_in_any_spelling() -> None:
    assert redact_url("/v1/x", "Access_Token=abc&api-key=k&q=vpn") == (
        "/v1/x?Access_Token=[redacted]&api-key=[redacted]&q=vpn"
    )
    assert redact_url("/v1/x", "q=noc_" + "A" * 43) == "/v1/x?q=noc_[redacted]"


def test_the_serve_formatter_escapes_messages_but_keeps_tracebacks() -> None:
    formatter = SafeFormatter("%(message)s")
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "user %s", ("x\ny",), None)
    assert formatter.format(record) == "user x\\x0ay"
