"""Outgoing webhooks against a real HTTP receiver on loopback.

The receiver is ``http.server`` on 127.0.0.1, port 0, in a thread; it checks
every signature with the shared secret, as a site's pager bridge would.
Escalations are produced by swarming (``POST /engage``) so the test controls
exactly which events exist; the server's own timer is off.
"""

from __future__ import annotations

import json
import socket
from typing import Any

from tests.helpers.servers import Api, ApiFactory
from tests.helpers.webhooks import (
    FAST_RETRIES,
    SECRET,
    Receiver,
    _deliveries,
    _seed,
    _swarm,
    _wait_for,
)


def _hook(api: Api, url: str) -> dict[str, Any]:
    response = api.request(
        "POST",
        "/v1/webhooks",
        json={"name": "pager bridge", "url": url, "secret": SECRET, "events": ["escalation"]},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


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
