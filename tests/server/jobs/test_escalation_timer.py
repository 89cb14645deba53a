"""The server's escalation timer and swarming, against a real SQLite file and a fixed clock.

A real server on loopback (the conftest's ``api_factory``) whose context clock
the test replaces, so the tests decide what time it is and run the timer with
``escalation.tick``; one test lets the lifespan's own timer task do the work.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from console.server.jobs import escalation_timer as escalation
from console.server.main import context_of
from tests.helpers.escalation import CONTACTS, POLICY, ROTATION, SEV2, TEAMS
from tests.helpers.servers import Api, ApiFactory

T0 = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)  # a Wednesday morning


@dataclass
class Clock:
    """The server's clock, moved by the test."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Desk:
    """A real server on loopback whose clock the test sets, and a token per role."""

    api: Api
    clock: Clock

    def request(self, method: str, path: str, role: str = "admin", **kwargs: Any) -> Any:
        return self.api.request(method, path, role=role, **kwargs)

    def tick(self, at: datetime) -> int:
        """Move the clock to ``at`` and run the escalation timer once."""
        self.clock.now = at
        return escalation.tick(context_of(self.api.server.app))

    def escalations(self, incident_id: str) -> list[dict[str, Any]]:
        response = self.request("GET", f"/v1/incidents/{incident_id}/timeline", role="viewer")
        assert response.status_code == 200, response.text
        return [e for e in response.json()["items"] if e["kind"] == "escalation"]


def _start(api_factory: ApiFactory, policy: dict[str, Any], tick_s: float = 0) -> Desk:
    api = api_factory(escalation_tick_s=tick_s)
    clock = Clock()
    context_of(api.server.app).clock = clock
    desk = Desk(api, clock)
    for kind, items in (("teams", TEAMS), ("contacts", CONTACTS)):
        for item_id, item in items.items():
            response = desk.request("PUT", f"/v1/{kind}/{item_id}", json=item)
            assert response.status_code == 201, response.text
    service = {"name": "Corporate VPN", "owner_team": "network", "criticality": "high"}
    for path, body in (
        ("/v1/services/vpn", service),
        ("/v1/shifts/network-weekly", ROTATION),
        ("/v1/policies/vpn", policy),
    ):
        response = desk.request("PUT", path, json=body)
        assert response.status_code == 201, response.text
    return desk


@pytest.fixture
def desk(api_factory: ApiFactory) -> Desk:
    """A server whose escalation timer only runs when the test ticks it."""
    return _start(api_factory, POLICY)


def _create(desk: Desk, **fields: Any) -> dict[str, Any]:
    response = desk.request("POST", "/v1/incidents", role="dispatcher", json={**SEV2, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _acknowledge(desk: Desk, incident: dict[str, Any], *, at: datetime) -> None:
    """A dispatcher acknowledges ``incident`` (as created) at ``at``."""
    desk.clock.now = at
    response = desk.request(
        "PATCH",
        f"/v1/incidents/{incident['id']}",
        role="dispatcher",
        json={"acknowledged": True},
        headers={"If-Match": f'"{incident["version"]}"'},
    )
    assert response.status_code == 200, response.text


def test_an_unacknowledged_incident_climbs_the_tiers_and_management_is_told(desk: Desk) -> None:
    incident = _create(desk)

    assert desk.tick(T0) == 1
    assert desk.tick(T0) == 0, "a second run at the same instant must add nothing"
    assert desk.tick(T0 + timedelta(minutes=10)) == 0
    assert desk.tick(T0 + timedelta(minutes=15)) == 1
    # 23 of the SEV-2's 30 response minutes used (> 75 %): L3 is brought forward.
    assert desk.tick(T0 + timedelta(minutes=23)) == 1
    assert desk.tick(T0 + timedelta(minutes=30)) == 1
    assert desk.tick(T0 + timedelta(minutes=90)) == 0

    entries = desk.escalations(incident["id"])
    assert [e["body"] for e in entries] == [
        "Escalated to L1 Service Desk: Ana Ruiz +34 612 34 56 78 (unacknowledged after 0 s)",
        "Escalated to L2 Network: Jo Kim +44 7400 123456 (unacknowledged after 15 min)",
        "Escalated to L3 Vendor: Acme hotline +1 650-253-0000 "
        "(unacknowledged with 75 % of the response target used)",
        "Informed duty manager (SEV-2 open for 30 min)",
    ]
    assert [e["data"].get("tier") for e in entries] == [1, 2, 3, None]
    assert entries[1]["data"]["phone"] == "+447400123456"
    assert entries[3]["data"]["rule_id"] == "duty"
    assert {e["author"] for e in entries} == {escalation.TIMER_AUTHOR}

    # Every console learns of each step through the change feed.
    feed = desk.request("GET", "/v1/changes?after=0&limit=1000", role="viewer").json()["changes"]
    fed = [c["id"] for c in feed if c["kind"] == "timeline"]
    assert [e["id"] for e in entries] == [i for i in fed if i in {e["id"] for e in entries}]


def test_once_acknowledged_only_management_rules_still_fire(desk: Desk) -> None:
    incident = _create(desk)
    desk.tick(T0)
    _acknowledge(desk, incident, at=T0 + timedelta(minutes=5))

    assert desk.tick(T0 + timedelta(minutes=20)) == 0  # L2's delay passed, but someone owns it
    assert desk.tick(T0 + timedelta(minutes=31)) == 1
    assert desk.escalations(incident["id"])[-1]["body"].startswith("Informed duty manager")


def test_a_policy_without_auto_escalate_is_left_alone(api_factory: ApiFactory) -> None:
    desk = _start(api_factory, {**POLICY, "auto_escalate": False})
    _create(desk)
    assert desk.tick(T0 + timedelta(hours=2)) == 0


def test_a_resolved_incident_is_left_alone(desk: Desk) -> None:
    incident = _create(desk)
    response = desk.request(
        "PATCH",
        f"/v1/incidents/{incident['id']}",
        role="dispatcher",
        json={"state": "resolved"},
        headers={"If-Match": f'"{incident["version"]}"'},
    )
    assert response.status_code == 200, response.text
    assert desk.tick(T0 + timedelta(hours=2)) == 0


def test_the_lifespan_timer_runs_by_itself(api_factory: ApiFactory) -> None:
    desk = _start(api_factory, POLICY, tick_s=0.05)
    incident = _create(desk)
    deadline = time.monotonic() + 10
    while not desk.escalations(incident["id"]):
        assert time.monotonic() < deadline, "the timer never escalated"
        time.sleep(0.05)
    time.sleep(0.3)  # several more ticks at the same instant
    assert len(desk.escalations(incident["id"])) == 1


def test_a_commander_swarms_several_tiers_at_once(desk: Desk) -> None:
    incident = _create(desk)
    response = desk.request(
        "POST",
        f"/v1/incidents/{incident['number']}/engage",
        role="commander",
        json={"tiers": [2, 3], "reason": "payments down in three regions"},
    )
    assert response.status_code == 201, response.text
    items = response.json()["items"]
    assert [e["body"] for e in items] == [
        "Engaged L2 Network (swarm): Jo Kim +44 7400 123456 (payments down in three regions)",
        "Engaged L3 Vendor (swarm): Acme hotline +1 650-253-0000 (payments down in three regions)",
    ]
    assert all(e["data"]["swarm"] for e in items)
    assert [e["data"]["tier"] for e in items] == [2, 3]

    # The timer counts swarmed tiers as engaged: only L1 is left for it.
    assert desk.tick(T0 + timedelta(minutes=70)) == 2  # L1, and the duty manager at 30 min
    bodies = [e["body"] for e in desk.escalations(incident["id"])]
    assert not any(b.startswith(("Escalated to L2", "Escalated to L3")) for b in bodies)


def test_swarming_needs_a_commander_and_known_tiers(desk: Desk) -> None:
    incident = _create(desk)
    path = f"/v1/incidents/{incident['id']}/engage"
    body = {"tiers": [2], "reason": "all hands"}
    forbidden = desk.request("POST", path, role="dispatcher", json=body)
    assert forbidden.status_code == 403
    assert "commander" in forbidden.json()["error"]["message"]

    unknown = desk.request("POST", path, role="commander", json={**body, "tiers": [2, 7]})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["message"] == (
        "tiers: 7 not in the escalation policy of 'vpn'; its tiers are 1, 2, 3"
    )
    assert desk.escalations(incident["id"]) == []

    # A service the directory knows, without an escalation policy.
    email = {"name": "Email", "owner_team": "network"}
    assert desk.request("PUT", "/v1/services/email", json=email).status_code == 201
    other = _create(desk, service="email")
    no_policy = desk.request(
        "POST", f"/v1/incidents/{other['id']}/engage", role="commander", json=body
    )
    assert no_policy.status_code == 422
    assert "no escalation policy" in no_policy.json()["error"]["message"]


def test_a_floor_of_due_incidents_is_escalated_in_short_transactions(desk: Desk) -> None:
    """60 unacknowledged incidents due at once: all escalated, TICK_CHUNK per commit, so an
    interactive write waits for one short transaction rather than for the whole scan."""
    incidents = [_create(desk, title=f"VPN down at site {n}") for n in range(60)]
    commits: list[int] = []
    context_of(desk.api.server.app).db.on_commit(commits.append)
    assert desk.tick(T0) == 60
    assert len(commits) == -(-60 // escalation.TICK_CHUNK)  # 50 + 10
    assert all(len(desk.escalations(i["id"])) == 1 for i in incidents)
    assert desk.tick(T0) == 0  # nothing twice across the chunks
    # One acknowledged before the next tier is due is left alone.
    first = incidents[0]
    _acknowledge(desk, first, at=T0 + timedelta(minutes=5))
    assert desk.tick(T0 + timedelta(minutes=15)) == 59
    assert len(desk.escalations(first["id"])) == 1
