"""Outgoing webhooks against a real HTTP receiver on loopback.

The receiver is ``http.server`` on 127.0.0.1, port 0, in a thread; it checks
every signature with the shared secret, as a site's pager bridge would.
Escalations are produced by swarming (``POST /engage``) so the test controls
exactly which events exist; the server's own timer is off.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from console.server.jobs.webhooks import verify
from tests.server.conftest import Api, ApiFactory
from tests.server.test_escalation import CONTACTS, POLICY, ROTATION, SEV2, TEAMS

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


def _hook(api: Api, url: str) -> dict[str, Any]:
    response = api.request(
        "POST",
        "/v1/webhooks",
        json={"name": "pager bridge", "url": url, "secret": SECRET, "events": ["escalation"]},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


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


def test_an_escalation_is_posted_signed_and_retried_until_accepted(
    api_factory: ApiFactory, receiver: Receiver
) -> None:
    api = api_factory(**FAST_RETRIES)
    incident = _seed(api)
    hook = _hook(api, receiver.url)
    receiver.statuses = [500, 500]

    _swarm(api, incident)
    [delivery] = _wait_for(_deliveries(api, hook, "delivered"))

    assert delivery["attempts"] == 3
    assert delivery["last_status_code"] == 200
    assert delivery["last_error"] is None
    assert receiver.bad_signatures == 0
    assert len(receiver.received) == 3
    # Every retry is the same delivery with the same bytes, so a receiver can de-duplicate.
    assert {r["delivery"] for r in receiver.received} == {delivery["id"]}
    sent = receiver.received[-1]
    assert sent["event"] == "escalation"
    assert sent["body"]["entry"]["body"] == (
        "Engaged L2 Network (swarm): Jo Kim +44 7400 123456 (customers cannot connect)"
    )
    assert sent["body"]["incident"]["number"] == incident["number"]


def test_a_receiver_that_is_down_ends_in_failed_deliveries_admins_can_see(
    api_factory: ApiFactory,
) -> None:
    with socket.socket() as probe:  # a port nobody listens on any more
        probe.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{probe.getsockname()[1]}/hook"
    api = api_factory(**FAST_RETRIES)
    incident = _seed(api)
    hook = _hook(api, down)

    _swarm(api, incident)
    [delivery] = _wait_for(_deliveries(api, hook, "failed"))

    assert delivery["attempts"] == 3
    assert delivery["last_status_code"] is None
    assert "ConnectError" in delivery["last_error"]
    assert delivery["payload"]["entry"]["data"]["tier"] == 2
    for role in ("viewer", "dispatcher", "commander"):
        path = f"/v1/webhooks/{hook['id']}/deliveries"
        assert api.request("GET", path, role=role).status_code == 403
        assert api.request("GET", "/v1/webhooks", role=role).status_code == 403


def test_webhook_crud_never_shows_the_secret(api_factory: ApiFactory) -> None:
    api = api_factory(escalation_tick_s=0)
    hook = _hook(api, "https://pager.example/hook")
    assert hook["secret_hint"] == "…idge"
    assert SECRET not in json.dumps(hook)

    listed = api.request("GET", "/v1/webhooks").json()["items"]
    assert [h["id"] for h in listed] == [hook["id"]]
    assert SECRET not in api.request("GET", f"/v1/webhooks/{hook['id']}").text

    body = {"name": "chat", "url": "https://chat.example/in", "secret": "x" * 20, "events": []}
    assert api.request("PUT", f"/v1/webhooks/{hook['id']}", json=body).status_code == 422
    body["events"] = ["escalation"]
    replaced = api.request("PUT", f"/v1/webhooks/{hook['id']}", json={**body, "active": False})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["active"] is False

    bad_url = api.request("POST", "/v1/webhooks", json={**body, "url": "ftp://files.example/x"})
    assert bad_url.status_code == 422
    short = api.request("POST", "/v1/webhooks", json={**body, "secret": "short"})
    assert short.status_code == 422

    assert api.request("DELETE", f"/v1/webhooks/{hook['id']}").status_code == 204
    assert api.request("GET", f"/v1/webhooks/{hook['id']}").status_code == 404
