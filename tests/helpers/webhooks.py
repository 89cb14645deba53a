"""Webhook helpers for the server tests: a signature-checking receiver on loopback,
swarming an incident, waiting for deliveries."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from console.server.jobs.webhooks import verify
from tests.helpers.escalation import CONTACTS, POLICY, ROTATION, SEV2, TEAMS
from tests.helpers.servers import Api

SECRET = "s3cret-for-the-pager-bridge"


@dataclass
class Receiver:
    """A webhook receiver: answers with ``statuses`` in turn (then 200), records what came."""

    statuses: list[int] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0
    url: str = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real local HTTP receiver; stopped after the test, even when it fails."""
    state = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                if not verify(SECRET, body, self.headers.get("X-NOC-Signature", "")):
                    state.bad_signatures += 1
                state.received.append(
                    {
                        "body": json.loads(body),
                        "delivery": self.headers.get("X-NOC-Delivery"),
                        "event": self.headers.get("X-NOC-Event"),
                    }
                )
                status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"no" if status >= 300 else b"ok")

        def log_message(self, *_args: Any) -> None:  # keep the test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _seed(api: Api) -> dict[str, Any]:
    for kind, items in (("teams", TEAMS), ("contacts", CONTACTS)):
        for item_id, item in items.items():
            assert api.request("PUT", f"/v1/{kind}/{item_id}", json=item).status_code == 201
    service = {"name": "Corporate VPN", "owner_team": "network", "criticality": "high"}
    for path, body in (
        ("/v1/services/vpn", service),
        ("/v1/shifts/network-weekly", ROTATION),
        ("/v1/policies/vpn", POLICY),
    ):
        response = api.request("PUT", path, json=body)
        assert response.status_code == 201, response.text
    return api.create(**SEV2)


def _swarm(api: Api, incident: dict[str, Any]) -> None:
    response = api.request(
        "POST",
        f"/v1/incidents/{incident['id']}/engage",
        role="commander",
        json={"tiers": [2], "reason": "customers cannot connect"},
    )
    assert response.status_code == 201, response.text


def _wait_for(check: Callable[[], list[dict[str, Any]]], timeout: float = 15) -> list[Any]:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, "timed out waiting for the delivery"
        time.sleep(0.05)


def _deliveries(api: Api, hook: dict[str, Any], status: str) -> Callable[[], list[Any]]:
    def check() -> list[Any]:
        response = api.request("GET", f"/v1/webhooks/{hook['id']}/deliveries?status={status}")
        assert response.status_code == 200, response.text
        items: list[Any] = response.json()["items"]
        return items

    return check


FAST_RETRIES: dict[str, Any] = {
    # The loopback receivers are allowed explicitly: by default only public
    # https:// destinations are (tests/server/test_egress.py).
    "webhook_allow": ("127.0.0.1",),
    "escalation_tick_s": 0,
    "webhook_poll_s": 0.05,
    "webhook_retry_base_s": 0.05,
    "webhook_max_attempts": 3,
}
