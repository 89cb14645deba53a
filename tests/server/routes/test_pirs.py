"""Post-incident reviews over HTTP: a real server on loopback, a real SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.helpers.escalation import CONTACTS, TEAMS
from tests.helpers.reviews import draft, patch, resolved_incident
from tests.helpers.servers import Api
from tests.helpers.webhooks import FAST_RETRIES, _deliveries, _wait_for


def seed_directory(api: Api) -> None:
    for kind, items in (("teams", TEAMS), ("contacts", CONTACTS)):
        for item_id, item in items.items():
            assert api.request("PUT", f"/v1/{kind}/{item_id}", json=item).status_code == 201


def test_a_draft_reconstructs_the_timeline_and_prefills_the_impact(api: Api) -> None:
    incident = resolved_incident(api)
    pir = draft(api, incident)

    kinds = [entry["kind"] for entry in pir["timeline"]]
    assert kinds[0] == "detected"
    assert kinds.count("state_change") == 3
    assert "work_note" in kinds
    assert pir["timeline"][0]["since_previous_s"] is None
    assert all(e["since_previous_s"] >= 0 for e in pir["timeline"][1:])
    assert [e["key"] for e in pir["timeline"] if e["kind"] == "state_change"] == [True] * 3
    assert pir["impact"]["services"] == ["checkout"]
    assert pir["impact"]["customer_facing"] is True
    assert pir["status"] == "draft"
    assert "Jo Kim" in pir["participants"]
    assert "not the people" in pir["blameless_prompt"]
    resolved = datetime.fromisoformat(
        api.request("GET", f"/v1/incidents/{incident['id']}").json()["resolved_at"]
    )
    assert datetime.fromisoformat(pir["due_at"]) - resolved == timedelta(hours=72)
    assert datetime.fromisoformat(pir["scheduled_at"]) - resolved == timedelta(hours=48)
    # In the change feed, so every console sees it.
    feed = [c for c in api.all_changes() if c["kind"] == "pir"]
    assert feed[-1]["id"] == pir["id"]
    assert feed[-1]["data"]["incident_number"] == incident["number"]
    # The same review by its incident's number.
    again = api.request("GET", f"/v1/pirs/{incident['number']}", role="viewer")
    assert again.json()["id"] == pir["id"]


def test_a_second_draft_or_an_unresolved_incident_is_409(api: Api) -> None:
    incident = resolved_incident(api)
    draft(api, incident)
    twice = api.request("POST", "/v1/pirs", role="dispatcher", json={"incident_id": incident["id"]})
    assert twice.status_code == 409
    assert "already has a review" in twice.json()["error"]["message"]
    open_one = api.create()
    early = api.request("POST", "/v1/pirs", role="dispatcher", json={"incident_id": open_one["id"]})
    assert early.status_code == 409
    assert "resolved" in early.json()["error"]["message"]


def test_roles_viewers_read_dispatchers_draft_commanders_approve(api: Api) -> None:
    incident = resolved_incident(api)
    refused = api.request("POST", "/v1/pirs", role="viewer", json={"incident_id": incident["id"]})
    assert refused.status_code == 403
    pir = draft(api, incident)
    pir = patch(api, pir, root_cause="A config push without a canary").json()
    approve = patch(api, pir, status="approved")
    assert approve.status_code == 403
    assert "commander" in approve.json()["error"]["message"]
    approved = patch(api, pir, role="commander", status="approved")
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["status"] == "approved"
    assert body["held_at"] is not None
    assert body["approved_by"].startswith("commander")


def test_if_match_and_idempotency_key_work_like_incidents(api: Api) -> None:
    incident = resolved_incident(api)
    pir = draft(api, incident)
    no_etag = api.request("PATCH", f"/v1/pirs/{pir['id']}", role="dispatcher", json={})
    assert no_etag.status_code == 428
    first = patch(api, pir, went_well="Paging worked")
    assert first.status_code == 200
    stale = patch(api, pir, went_well="overwrites?")
    assert stale.status_code == 412
    assert api.request("GET", f"/v1/pirs/{pir['id']}").json()["went_well"] == "Paging worked"
    seed_directory(api)
    item = {"title": "Add a canary stage", "owner": "jo", "due": _future(7)}
    headers = {"Idempotency-Key": "pir-item-1"}
    path = f"/v1/pirs/{pir['id']}/action-items"
    one = api.request("POST", path, role="dispatcher", json=item, headers=headers)
    two = api.request("POST", path, role="dispatcher", json=item, headers=headers)
    assert one.status_code == two.status_code == 201
    assert two.headers["Idempotent-Replayed"] == "true"
    assert len(api.request("GET", f"/v1/pirs/{pir['id']}").json()["action_items"]) == 1


def _future(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def test_bad_input_is_refused_clearly_and_loses_nothing(api: Api) -> None:
    seed_directory(api)
    incident = resolved_incident(api)
    pir = draft(api, incident)
    path = f"/v1/pirs/{pir['id']}/action-items"
    past = api.request(
        "POST", path, role="dispatcher", json={"title": "x", "owner": "jo", "due": _future(-1)}
    )
    assert past.status_code == 422
    assert "has passed" in past.json()["error"]["message"]
    stranger = api.request(
        "POST", path, role="dispatcher", json={"title": "x", "owner": "zed", "due": _future(3)}
    )
    assert stranger.status_code == 422
    assert "directory" in stranger.json()["error"]["message"]
    huge = patch(api, pir, root_cause="x" * 1_000_000)
    assert huge.status_code in (413, 422)
    unknown_mark = patch(api, pir, timeline_marks=[{"source_id": "nope", "key": True}])
    assert unknown_mark.status_code == 422
    after = api.request("GET", f"/v1/pirs/{pir['id']}").json()
    assert after["version"] == pir["version"]
    assert after["action_items"] == []
    assert after["root_cause"] == ""


def test_timeline_marks_items_and_dropping_needs_a_reason(api: Api) -> None:
    seed_directory(api)
    pir = draft(api, resolved_incident(api))
    note = next(e for e in pir["timeline"] if e["kind"] == "work_note")
    marked = patch(
        api,
        pir,
        timeline_marks=[{"source_id": note["source_id"], "key": True, "note": "the fix"}],
        root_cause_known=False,
        contributing_factors=["no canary", "alert threshold too high"],
    ).json()
    entry = next(e for e in marked["timeline"] if e["source_id"] == note["source_id"])
    assert entry["key"] is True
    assert entry["note"] == "the fix"
    item = api.request(
        "POST",
        f"/v1/pirs/{pir['id']}/action-items",
        role="dispatcher",
        json={
            "title": "Canary",
            "owner": "Jo Kim",
            "due": _future(5),
            "tracker_url": "https://tracker.example/T-1",
        },
    ).json()
    assert item["state"] == "open"
    assert item["tracker_url"] == "https://tracker.example/T-1"
    current = api.request("GET", f"/v1/pirs/{pir['id']}").json()
    no_reason = patch(api, current, action_items=[{"id": item["id"], "state": "dropped"}])
    assert no_reason.status_code == 422
    dropped = patch(
        api,
        current,
        action_items=[{"id": item["id"], "state": "dropped", "reason": "superseded by CHG-9"}],
    ).json()
    assert dropped["action_items"][0]["state"] == "dropped"
    summary = api.request("GET", "/v1/pirs", role="viewer").json()["items"]
    assert summary[0]["id"] == pir["id"]
    assert summary[0]["open_items"] == 0


def test_overdue_reviews_and_items_send_webhooks_once(api_factory: Any, receiver: Any) -> None:
    if True:
        api = api_factory(**FAST_RETRIES)
        seed_directory(api)
        pir = draft(api, resolved_incident(api))
        api.request(
            "POST",
            f"/v1/pirs/{pir['id']}/action-items",
            role="dispatcher",
            json={"title": "Canary", "owner": "jo", "due": _future(1)},
        )
        hook = api.request(
            "POST",
            "/v1/webhooks",
            json={
                "name": "reviews",
                "url": receiver.url,
                "secret": "s" * 32,
                "events": ["pir.due", "action_item.overdue"],
            },
        ).json()
        from console.server.jobs import escalation_timer as escalation

        context = api.server._context
        later = datetime.now(UTC) + timedelta(days=4)
        context.clock = lambda: later
        escalation.tick(context)
        escalation.tick(context)  # a second run sends nothing new
        both = _deliveries(api, hook, "delivered")
        delivered = _wait_for(lambda: found if len(found := both()) >= 2 else [])
        events = sorted(d["event"] for d in delivered)
        assert events == ["action_item.overdue", "pir.due"]
        shown = api.request("GET", f"/v1/pirs/{pir['id']}").json()
        assert shown["overdue"] is True
        assert shown["action_items"][0]["overdue"] is True


def test_a_review_is_drafted_approved_and_fed_on_postgresql(api_factory: Any, pg_url: str) -> None:
    api = api_factory(pg_url)
    seed_directory(api)
    pir = draft(api, resolved_incident(api))
    item = api.request(
        "POST",
        f"/v1/pirs/{pir['id']}/action-items",
        role="dispatcher",
        json={"title": "Canary", "owner": "jo", "due": _future(3)},
    )
    assert item.status_code == 201, item.text
    current = api.request("GET", f"/v1/pirs/{pir['id']}").json()
    approved = patch(api, current, role="commander", root_cause="No canary", status="approved")
    assert approved.status_code == 200, approved.text
    assert [c["data"]["version"] for c in api.all_changes() if c["kind"] == "pir"] == [1, 2, 3]
