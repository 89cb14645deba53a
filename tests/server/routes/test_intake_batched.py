"""Alert intake through the group writer: notifications that arrive together share a commit.

A real server on loopback; the writer is held on a gate (as in
``test_group_commit.py``) so the notifications are certain to land in one
batch, then the outcome is read back over HTTP.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from console.server.core import auth
from console.server.main import intake_publish_pending
from console.server.services.intake_rules import config_from_table
from tests.helpers.intake import am_alert, am_body, intake_server, monitoring_incidents
from tests.helpers.servers import Api, ApiFactory
from tests.helpers.writer import _send_all

ALERTMANAGER = "/v1/intake/alertmanager"
EVENTS = "/v1/intake/events"


def _api(api_factory: ApiFactory, tmp_path: Path, **settings: Any) -> Api:
    # No default service: an alert without a service label is a 422 inside the write.
    return intake_server(api_factory, tmp_path, config_from_table(settings))


def _incident_changes(api: Api, incident_id: str) -> list[dict[str, Any]]:
    return [
        c["data"]
        for c in api.all_changes()
        if c["kind"] == "incident" and c["data"]["id"] == incident_id
    ]


def test_copies_of_one_alert_in_one_batch_open_one_incident(
    api_factory: ApiFactory, tmp_path: Path
) -> None:
    """Alertmanager's resend and a second Alertmanager of an HA pair, in the same batch."""
    api = _api(api_factory, tmp_path, repeat_publish_seconds=0)
    intake = api.auth("intake")
    twice = am_body(am_alert(fingerprint="dup1", service="vpn"))
    other = am_body(am_alert("DiskFull", fingerprint="other1", service="core"))
    event = {"dedup_key": "ev-1", "action": "trigger", "summary": "Link down", "service": "vpn"}
    requests = [
        ("POST", ALERTMANAGER, twice, intake),
        ("POST", ALERTMANAGER, twice, intake),
        ("POST", EVENTS, event, intake),
        ("POST", ALERTMANAGER, other, intake),
        ("POST", ALERTMANAGER, twice, intake),
        ("POST", EVENTS, event, intake),
    ]
    responses = _send_all(api, requests)
    assert [r.status_code for r in responses] == [200, 200, 202, 200, 200, 202]
    bodies = [r.json() for r in responses]
    # The threads queue in any order: whichever copy came first opened, the rest counted.
    copies = [bodies[0], bodies[1], bodies[4]]
    opened = [n for b in copies for n in b["opened"]]
    assert len(opened) == 1
    assert sorted(n for b in copies for n in b["updated"]) == [opened[0]] * 2
    events = [bodies[2], bodies[5]]
    assert sum(len(b["opened"]) for b in events) == 1
    assert events[0]["incident"] == events[1]["incident"]

    incidents = monitoring_incidents(api)
    keys = sorted(i["alert"]["key"] for i in incidents)
    assert keys == ["dup1", "ev-1", "other1"]  # one incident per alert, none doubled
    (dup,) = [i for i in incidents if i["alert"]["key"] == "dup1"]
    assert dup["alert"]["repeat_count"] == 3
    # Published at once (repeat_publish_seconds = 0): each version on the feed once, in order.
    versions = [data["version"] for data in _incident_changes(api, dup["id"])]
    assert versions == sorted(set(versions))
    assert versions[-1] == dup["version"]
    got = api.request("GET", f"/v1/incidents/{dup['id']}", role="viewer").json()
    assert got["version"] == dup["version"]  # the feed's version is the stored one


def test_repeats_in_one_batch_keep_the_publish_throttle(
    api_factory: ApiFactory, tmp_path: Path
) -> None:
    api = _api(api_factory, tmp_path, repeat_publish_seconds=60)
    intake = api.auth("intake")
    body = am_body(am_alert(fingerprint="storm", service="vpn"))
    responses = _send_all(api, [("POST", ALERTMANAGER, body, intake)] * 12)
    assert [r.status_code for r in responses] == [200] * 12
    assert sum(len(r.json()["opened"]) for r in responses) == 1
    (incident,) = monitoring_incidents(api)
    # The create and the version carrying its alert record; the 11 repeats are counted
    # (repeat_count in the database) and wait for the publisher, not one feed row each.
    assert [d["version"] for d in _incident_changes(api, incident["id"])] == [1, 2]
    context = api.server.app.state.context
    later = datetime.now(UTC) + timedelta(seconds=90)
    context.clock = lambda: later  # the window has passed: the publisher's run is due
    assert intake_publish_pending(context) == 1
    latest = _incident_changes(api, incident["id"])[-1]
    assert latest["alert"]["repeat_count"] == 12


def test_the_publisher_puts_a_storms_repeats_out_in_short_transactions(
    api_factory: ApiFactory, tmp_path: Path
) -> None:
    """60 incidents with repeats waiting: all published, at most PUBLISH_CHUNK per commit, so a
    new alert waits for one short transaction rather than for all of them."""
    from console.server.services.intake import PUBLISH_CHUNK

    api = _api(api_factory, tmp_path, repeat_publish_seconds=60)
    intake = api.auth("intake")
    bodies = [am_body(am_alert(fingerprint=f"fp{n:02d}", service="vpn")) for n in range(60)]
    for body in bodies * 2:  # each opens, then repeats once (counted, not yet published)
        response = api.request("POST", ALERTMANAGER, json=body, headers=intake)
        assert response.status_code == 200, response.text
    context = api.server.app.state.context
    commits: list[int] = []
    context.db.on_commit(commits.append)
    later = datetime.now(UTC) + timedelta(seconds=90)
    context.clock = lambda: later
    assert intake_publish_pending(context) == 60
    assert len(commits) == -(-60 // PUBLISH_CHUNK)  # 25 + 25 + 10
    incidents = monitoring_incidents(api)
    assert len(incidents) == 60
    assert {i["alert"]["repeat_count"] for i in incidents} == {2}
    for incident in incidents:  # each one's latest feed version carries its repeats
        assert _incident_changes(api, incident["id"])[-1]["alert"]["repeat_count"] == 2
    assert intake_publish_pending(context) == 0  # nothing left: no empty transactions


def test_a_bad_notification_in_a_batch_fails_alone_and_leaves_nothing(
    api_factory: ApiFactory, tmp_path: Path
) -> None:
    api = _api(api_factory, tmp_path, repeat_publish_seconds=0)
    intake = api.auth("intake")
    # The first alert maps, the second names no service: the whole notification is refused.
    half = am_body(
        am_alert(fingerprint="half-good", service="vpn"),
        am_alert("Orphan", fingerprint="half-bad", instance="x"),
    )
    good = am_body(am_alert(fingerprint="good1", service="vpn"))
    good2 = am_body(am_alert(fingerprint="good2", service="core"))
    responses = _send_all(
        api,
        [
            ("POST", ALERTMANAGER, good, intake),
            ("POST", ALERTMANAGER, half, intake),
            ("POST", ALERTMANAGER, good2, intake),
        ],
    )
    assert [r.status_code for r in responses] == [200, 422, 200]
    assert responses[1].json()["error"]["code"] == "unmapped_service"
    keys = sorted(i["alert"]["key"] for i in monitoring_incidents(api))
    assert keys == ["good1", "good2"]  # nothing of the refused notification
    numbers = sorted(i["number"] for i in monitoring_incidents(api))
    assert numbers == ["INC-000001", "INC-000002"]  # and no number skipped for it
    # Sent again once fixed, it opens its incidents (no dedup record was left behind).
    fixed = am_body(
        am_alert(fingerprint="half-good", service="vpn"),
        am_alert("Orphan", fingerprint="half-bad", instance="x", service="core"),
    )
    again = api.request("POST", ALERTMANAGER, role="intake", json=fixed)
    assert again.status_code == 200
    assert len(again.json()["opened"]) == 2


@pytest.mark.parametrize("role", ["viewer", "dispatcher", "commander"])
def test_other_roles_are_refused_before_the_writer(
    api_factory: ApiFactory, tmp_path: Path, role: str
) -> None:
    api = _api(api_factory, tmp_path)
    writer = api.server.app.state.context.writer
    before = writer.stats.requests
    refused = api.request(
        "POST", ALERTMANAGER, role=role, json=am_body(am_alert(fingerprint="r", service="vpn"))
    )
    assert refused.status_code == 403
    assert "--role intake" in refused.json()["error"]["message"]
    assert writer.stats.requests == before
    assert monitoring_incidents(api) == []


def test_an_intake_token_revoked_after_the_early_check_writes_nothing(
    api_factory: ApiFactory, tmp_path: Path
) -> None:
    api = _api(api_factory, tmp_path)
    first = am_body(am_alert(fingerprint="before", service="vpn"))
    assert api.request("POST", ALERTMANAGER, role="intake", json=first).status_code == 200
    context = api.server.app.state.context  # the token is now in the early-check cache
    with context.db.write_session() as session:
        found = auth.authenticate(session=session, secret=api.tokens["intake"])
        assert found is not None
        auth.revoke_token(session=session, name_or_id=found.name, now=datetime.now(UTC))
        session.commit()
    late = am_body(am_alert(fingerprint="after", service="vpn"))
    refused = api.request("POST", ALERTMANAGER, role="intake", json=late)
    assert refused.status_code == 401
    assert [i["alert"]["key"] for i in monitoring_incidents(api)] == ["before"]
