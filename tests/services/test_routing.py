"""Routing and override contacts without Qt, over the demo NOC in a real cache."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from console.domain.severity import Severity
from console.domain.sla import SlaPolicy
from console.services.demo import load_demo
from console.services.directory import Directory
from console.services.routing import local_time, routing_for, who_can_override
from console.store import Cache
from tests.helpers.factories import NOW
from tests.helpers.factories import desk_incident as make_incident


@pytest.fixture
def directory(tmp_path: Path) -> Iterator[Directory]:
    with Cache.open(tmp_path / "cache.db") as cache:
        load_demo(cache, NOW)
        yield Directory.from_store(cache)


def test_a_new_incident_routes_to_the_owning_team(directory: Directory) -> None:
    incident = make_incident(1, Severity.SEV2, age_min=0, service="payments-api")
    routing = routing_for(directory, incident, NOW, sla=SlaPolicy.default())
    assert routing.team_id == "payments-eng"
    assert routing.problem == ""
    assert routing.engaged[0].phone
    assert any("the owning team" in e.when for e in routing.engaged)


def test_an_unknown_service_has_no_policy(directory: Directory) -> None:
    incident = make_incident(1, Severity.SEV2, age_min=0, service="no-such-service")
    routing = routing_for(directory, incident, NOW)
    assert routing.team_id is None
    assert routing.problem == "no escalation policy for this service"


def test_who_can_override_names_managers_on_call(directory: Directory) -> None:
    people = who_can_override(directory, "payments-api", NOW)
    assert people
    assert all(": " in line for line in people)
    assert who_can_override(directory, "no-such-service", NOW) == []


def test_local_time_is_short_today() -> None:
    assert len(local_time(NOW, NOW)) == 5
    assert len(local_time(NOW + timedelta(days=2), NOW)) > 5
