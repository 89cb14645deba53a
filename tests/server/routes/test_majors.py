"""Major incidents over a real server: roles, status updates, countdowns, the public page."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from tests.helpers.majors import SEV1, _publish, _seed_service
from tests.helpers.servers import Api, ApiFactory
from tests.helpers.webhooks import SECRET, Receiver, _wait_for


def _name(api: Api, role: str) -> str:
    response = api.request("GET", "/v1/me", role=role)
    assert response.status_code == 200, response.text
    name: str = response.json()["name"]
    return name


def _assign(api: Api, incident: dict[str, Any], role_name: str, person: str, as_: str) -> Any:
    return api.request(
        "PUT",
        f"/v1/incidents/{incident['id']}/roles/{role_name}",
        role=as_,
        json={"person": person, "reason": "on call"},
    )


def _major(api: Api, incident: dict[str, Any]) -> dict[str, Any]:
    response = api.request("GET", f"/v1/incidents/{incident['id']}/major", role="viewer")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_roles_publish_permissions_and_hand_over(api: Api) -> None:
    _seed_service(api, customer_facing=False)
    incident = api.create(**SEV1)
    dispatcher = _name(api, "dispatcher")

    # A dispatcher holding no role, and a viewer, may not publish.
    assert _publish(api, incident, role="dispatcher").status_code == 403
    assert _publish(api, incident, role="viewer").status_code == 403
    # Only the commander gives roles; then the Communications Lead publishes.
    assert (
        _assign(api, incident, "Communications Lead", dispatcher, "dispatcher").status_code == 403
    )
    response = _assign(api, incident, "Communications Lead", dispatcher, "commander")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "Incident Commander": "Iris Commander",  # named when it was declared
        "Communications Lead": dispatcher,
    }
    published = _publish(api, incident, role="dispatcher", text="We are looking at 502s.")
    assert published.status_code == 201, published.text
    assert published.json()["audience"] == "internal"

    # Hand-over: a timeline entry from whom, to whom.
    assert _assign(api, incident, "Communications Lead", "Bo Lee", "commander").status_code == 200
    timeline = api.request("GET", f"/v1/incidents/{incident['id']}/timeline").json()["items"]
    hand_over = [e for e in timeline if e["data"].get("role") == "Communications Lead"][-1]
    assert hand_over["data"]["from"] == dispatcher
    assert hand_over["data"]["to"] == "Bo Lee"
    assert "Handed over" in hand_over["body"]
    # The dispatcher no longer holds a role.
    assert _publish(api, incident, role="dispatcher").status_code == 403
    assert _major(api, incident)["roles"] == {
        "Incident Commander": "Iris Commander",
        "Communications Lead": "Bo Lee",
    }


def test_countdowns_reset_on_publish(api: Api) -> None:
    _seed_service(api, customer_facing=False)
    incident = api.create(**SEV1)
    state = _major(api, incident)
    declared = datetime.fromisoformat(state["declared_at"])
    due = {
        k: (datetime.fromisoformat(v) if v else None) for k, v in state["next_update_due"].items()
    }
    assert due["internal"] == declared + timedelta(minutes=15)  # SEV-1 cadence
    assert due["executive"] == declared  # owed at the declaration
    assert due["customer"] is None  # not a customer-facing service
    assert state["overdue"] == []  # the executives get five minutes' grace

    first = _publish(api, incident).json()
    after = _major(api, incident)["next_update_due"]
    assert datetime.fromisoformat(after["internal"]) == datetime.fromisoformat(
        first["at"]
    ) + timedelta(minutes=15)
    assert _publish(api, incident, audience="executive").status_code == 201
    assert _major(api, incident)["next_update_due"]["executive"] is None
    # A milestone makes the executives owed again.
    milestone = _publish(api, incident, status="identified", text="Cause: a bad deploy.")
    owed = _major(api, incident)["next_update_due"]["executive"]
    assert datetime.fromisoformat(owed) == datetime.fromisoformat(milestone.json()["at"])


def test_bad_input_is_refused_and_nothing_is_lost(api: Api) -> None:
    _seed_service(api, customer_facing=False)
    incident = api.create(**SEV1)
    assert _publish(api, incident, text="First update.").status_code == 201

    unknown = _publish(api, incident, audience="press")
    assert unknown.status_code == 422
    assert "audience" in unknown.text
    huge = _publish(api, incident, text="x" * 100_000)
    assert huge.status_code in (413, 422), huge.text
    customer = _publish(api, incident, audience="customer")
    assert customer.status_code == 422
    assert "customer-facing" in customer.text
    not_major = api.create()
    assert _publish(api, not_major).status_code == 409

    listed = api.request("GET", f"/v1/incidents/{incident['id']}/status-updates", role="viewer")
    assert [u["text"] for u in listed.json()["items"]] == ["First update."]


def test_idempotency_key_publishes_once(api: Api) -> None:
    _seed_service(api, customer_facing=False)
    incident = api.create(**SEV1)
    key = str(uuid.uuid4())
    first = _publish(api, incident, key=key, text="Once.")
    again = _publish(api, incident, key=key, text="Once.")
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert first.json()["id"] == again.json()["id"]
    listed = api.request("GET", f"/v1/incidents/{incident['id']}/status-updates").json()["items"]
    assert len(listed) == 1


def test_public_status_shows_customer_updates_only(api: Api) -> None:
    _seed_service(api, customer_facing=True)
    incident = api.create(title="Checkout down: Iris +44 20 7946 0000 says DB", **SEV1)
    _publish(api, incident, text="INTERNAL: db-07 failed over, call Iris")
    _publish(api, incident, audience="executive", text="EXEC: revenue at risk")
    _publish(api, incident, audience="customer", text="We are investigating failed payments.")
    api.request(
        "POST",
        f"/v1/incidents/{incident['id']}/timeline",
        role="commander",
        json={"kind": "work_note", "body": "NOTE: restart db-07"},
    )

    public = api.client.get("/status.json")  # no token
    assert public.status_code == 200
    body = public.json()
    assert [i["service"] for i in body["incidents"]] == ["Checkout"]
    assert [u["text"] for u in body["incidents"][0]["updates"]] == [
        "We are investigating failed payments."
    ]
    page = api.client.get("/status")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    for text in (public.text, page.text):
        for secret in ("INTERNAL", "EXEC", "NOTE", "Iris", "7946", "db-07"):
            assert secret not in text
    assert "We are investigating failed payments." in page.text


def test_status_update_published_webhook(api_factory: ApiFactory, receiver: Receiver) -> None:
    api = api_factory(webhook_allow=("127.0.0.1",), webhook_poll_s=0.05, escalation_tick_s=0)
    _seed_service(api, customer_facing=False)
    hook = api.request(
        "POST",
        "/v1/webhooks",
        json={
            "name": "chat bridge",
            "url": receiver.url,
            "secret": SECRET,
            "events": ["status_update.published"],
        },
    )
    assert hook.status_code == 201, hook.text
    incident = api.create(**SEV1)
    assert _publish(api, incident, text="Signed and sent.").status_code == 201
    got = _wait_for(lambda: list(receiver.received))
    assert receiver.bad_signatures == 0
    assert got[0]["event"] == "status_update.published"
    assert got[0]["body"]["update"]["text"] == "Signed and sent."
    assert json.dumps(got[0]["body"]).count("Signed and sent.") == 1


def test_on_postgresql_roles_updates_and_the_public_page(
    api_factory: ApiFactory, pg_url: str
) -> None:
    """The same contract on PostgreSQL (the JSON ``data`` of timeline entries, the joins)."""
    api = api_factory(pg_url)
    _seed_service(api, customer_facing=True)
    incident = api.create(**SEV1)
    dispatcher = _name(api, "dispatcher")
    assert _assign(api, incident, "Communications Lead", dispatcher, "commander").status_code == 200
    key = str(uuid.uuid4())
    first = _publish(api, incident, role="dispatcher", key=key, audience="customer", text="Hi.")
    again = _publish(api, incident, role="dispatcher", key=key, audience="customer", text="Hi.")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert _publish(api, incident, text="INTERNAL only").status_code == 201
    state = _major(api, incident)
    assert state["roles"]["Communications Lead"] == dispatcher
    assert state["roles"]["Incident Commander"] == "Iris Commander"
    public = api.client.get("/status.json").json()
    assert [u["text"] for u in public["incidents"][0]["updates"]] == ["Hi."]


def test_war_room_bridge_and_responders(api: Api) -> None:
    _seed_service(api, customer_facing=False)
    incident = api.create(**SEV1)
    path = f"/v1/incidents/{incident['id']}"
    bridge = {"url": "https://meet.example.com/sev1", "dial_in": "+44 20 7946 0000", "pin": "4829#"}
    assert api.request("PUT", f"{path}/bridge", role="dispatcher", json=bridge).status_code == 403
    assert api.request("PUT", f"{path}/bridge", role="commander", json=bridge).status_code == 200
    bad = api.request("PUT", f"{path}/bridge", role="commander", json={"url": "javascript:x"})
    assert bad.status_code == 422
    empty = api.request("PUT", f"{path}/bridge", role="commander", json={})
    assert empty.status_code == 422
    for person, action in (("Ana Ruiz", "joined"), ("Bo Lee", "joined"), ("Ana Ruiz", "left")):
        response = api.request(
            "POST",
            f"{path}/responders",
            role="commander",
            json={"person": person, "action": action},
        )
        assert response.status_code == 201, response.text
    observer = api.request(
        "POST", f"{path}/responders", role="commander", json={"person": "X", "action": "observing"}
    )
    assert observer.status_code == 422  # observers are not listed as responders
    state = _major(api, incident)
    assert state["bridge"] == bridge
    assert {n: r["state"] for n, r in state["responders"].items()} == {
        "Ana Ruiz": "left",
        "Bo Lee": "joined",
    }
    assert "7946" not in api.client.get("/status").text
