"""The directory: who is on call for every service and tier, read from a real cache.

Also the demo's escalation data (rotations.json, policies.json): complete,
spread over several countries, and refused whole with a precise message
when a record is wrong.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from console.domain.escalation import escalation_path, render_path
from console.domain.incident import Incident
from console.domain.lifecycle import State
from console.domain.oncall import OverrideKind, on_call_now
from console.domain.phones import region_of
from console.domain.severity import Impact, Severity, Urgency
from console.services.demo import DemoDataError, demo_root, load_demo, read_demo
from console.services.directory import Directory, Source, fold
from console.store import Cache

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)  # Wednesday 16:00 in Madrid


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    cache = Cache.open(tmp_path / "cache.db")
    yield cache
    cache.close()


@pytest.fixture
def directory(cache: Cache) -> Directory:
    load_demo(cache, NOW)
    return Directory.from_store(cache)


# ------------------------------------------------------------ the demo's data


def test_the_demo_has_a_policy_per_service_and_a_rotation_per_team(cache: Cache) -> None:
    summary = load_demo(cache, NOW)
    assert summary.escalation == {"shifts": 11, "policies": 15}
    assert "15 escalation policies" in summary.describe()
    directory = Directory.from_store(cache)
    assert directory.problems == ()
    assert {s.id for s in directory.services} == set(directory.policies)
    for entry in directory.policies.values():
        assert [t.level for t in entry.policy.tiers] == [1, 2, 3]
        assert {rule.id for rule in entry.policy.management} >= {
            "duty-manager-sev1",
            "head-of-it-ops",
        }
        cadence = {(u.severity, u.every) for u in entry.updates}
        assert any(sev is Severity.SEV1 and every is not None for sev, every in cadence)
        assert any(sev is Severity.SEV3 and every is None for sev, every in cadence)
    rota_teams = {s.rotation.team for s in directory.schedules.values()}
    assert rota_teams == set(directory.teams)
    # Members come from their own team (the duty-manager rota draws on leads).
    for schedule in directory.schedules.values():
        if schedule.id != "rot-duty-manager":
            assert {directory.contacts[m].team for m in schedule.rotation.members} == {
                schedule.rotation.team
            }


def test_the_demo_spans_countries_and_time_zones(directory: Directory) -> None:
    zones = {s.rotation.time_zone for s in directory.schedules.values()}
    assert {"Europe/Madrid", "Europe/London", "Europe/Berlin", "America/New_York"} <= zones
    on_call = {
        line.on_call.contact_id
        for chain in directory.chains(NOW)
        for line in chain.tiers
        if line.on_call.contact_id
    }
    countries = {region_of(directory.contacts[c].primary_phone or "") for c in on_call}
    assert len(countries) >= 3


def test_a_cover_and_a_swap_are_in_force_whenever_the_demo_is_loaded(cache: Cache) -> None:
    for now in (NOW, NOW + timedelta(days=40, hours=7), datetime(2027, 3, 28, 1, 30, tzinfo=UTC)):
        load_demo(cache, now)
        directory = Directory.from_store(cache)
        network = directory.on_call("rot-network", now)
        assert network.contact_id == "mlee"
        assert network.via is OverrideKind.COVER
        assert "hospital appointment" in network.note
        payments = directory.on_call("rot-payments", now)
        assert payments.via is OverrideKind.SWAP
        rota_says = payments.schedule.rotation.scheduled(  # type: ignore[union-attr]
            payments.schedule.rotation.week_of(now)  # type: ignore[union-attr]
        )
        assert payments.contact_id != rota_says
        # The other half of the swap: next week the rota's holder takes this week's.
        assert payments.next_contact_id == rota_says
        assert payments.next_shift is not None
        assert payments.next_shift.override_kind is OverrideKind.SWAP


def _set_override(index: int, field: str, value: object) -> Callable[[list[dict[str, Any]]], None]:
    def change(records: list[dict[str, Any]]) -> None:
        records[index]["overrides"][0][field] = value

    return change


def _set(
    index: int, path: tuple[Any, ...], value: object
) -> Callable[[list[dict[str, Any]]], None]:
    def change(records: list[dict[str, Any]]) -> None:
        target: Any = records[index]
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return change


TYPOS = [
    pytest.param(
        "rotations.json",
        _set(2, ("members", 1), "ddevris"),
        ["rotations.json[2] (id rot-network)", "'members[1]'", "not a known contact id"],
        id="unknown-member",
    ),
    pytest.param(
        "rotations.json",
        _set(0, ("start",), "2025-01-07"),
        ["rotations.json[0] (id rot-noc): start 2025-01-07 is a tuesday; it must be a monday"],
        id="start-not-on-handoff-day",
    ),
    pytest.param(
        "rotations.json",
        _set(3, ("time_zone",), "America/New_Yrok"),
        ["rotations.json[3]", "'time_zone'", "IANA time zone"],
        id="time-zone",
    ),
    pytest.param(
        "rotations.json",
        _set(1, ("handoff_time",), "9am"),
        ["rotations.json[1]", "'handoff_time'"],
        id="handoff-time",
    ),
    pytest.param(
        "rotations.json",
        _set_override(2, "duration_minutes", 0),
        ["rotations.json[2]", "'overrides[0].duration_minutes'", "≥ 1"],
        id="cover-length",
    ),
    pytest.param(
        "rotations.json",
        _set_override(5, "weeks_from_now", [1, 1]),
        ["rotations.json[5]", "'overrides[0].weeks_from_now'", "two different rota weeks"],
        id="swap-same-week",
    ),
    pytest.param(
        "rotations.json",
        _set_override(5, "kind", "trade"),
        ["rotations.json[5]", "'overrides[0].kind'", "allowed: cover, swap"],
        id="override-kind",
    ),
    pytest.param(
        "policies.json",
        _set(0, ("tiers", 1, "rotation_id"), "rot-platfrom"),
        ["policies.json[0] (id pol-payments-api)", "'tiers[1].rotation_id'", "rot-platform"],
        id="unknown-rotation",
    ),
    pytest.param(
        "policies.json",
        _set(4, ("tiers", 2, "engage_after_minutes"), 5),
        ["policies.json[4]", "'engage_after'", "no earlier than"],
        id="tier-engaged-before-the-one-below",
    ),
    pytest.param(
        "policies.json",
        _set(2, ("management", 0, "severities"), ["SEV-9"]),
        ["policies.json[2]", "'management[0].severities[0]'"],
        id="severity",
    ),
    pytest.param(
        "policies.json",
        _set(6, ("service",), "checkout"),
        ["policies.json[6]", "'service'", "already has the policy at [1]"],
        id="second-policy-for-a-service",
    ),
    pytest.param(
        "policies.json",
        _set(3, ("communication", 0, "channel"), "pigeon"),
        ["policies.json[3]", "'communication[0].channel'"],
        id="channel",
    ),
]


@pytest.mark.parametrize(("file", "change", "expected"), TYPOS)
def test_a_typo_in_the_escalation_data_names_it_and_writes_nothing(
    cache: Cache,
    tmp_path: Path,
    file: str,
    change: Callable[[list[dict[str, Any]]], None],
    expected: list[str],
) -> None:
    folder = tmp_path / "demo"
    shutil.copytree(demo_root(), folder)
    path = folder / file
    records = json.loads(path.read_text(encoding="utf-8"))
    change(records)
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(DemoDataError) as caught:
        load_demo(cache, NOW, root=folder)
    message = str(caught.value)
    for words in expected:
        assert words in message, message
    assert caught.value.file == file
    for kind in ("policies", "shifts", "contacts", "services"):
        assert cache.reference(kind) == []


def test_the_demo_documents_are_what_the_server_accepts() -> None:
    """Every stored rotation and policy parses with the wire's models (one shape everywhere)."""
    from console.wire import EscalationPolicyIn, OnCallRotationIn

    data = read_demo(NOW)
    for doc in data.escalation["shifts"]:
        OnCallRotationIn.model_validate({k: v for k, v in doc.items() if k != "id"})
    for doc in data.escalation["policies"]:
        EscalationPolicyIn.model_validate({k: v for k, v in doc.items() if k != "id"})


# ------------------------------------------------------------- on call, chains


def test_the_chain_of_a_service_at_a_fixed_instant(directory: Directory) -> None:
    chain = directory.chain("dc-network", NOW)
    assert chain.service.name == "Data-centre network"
    assert chain.owner is not None
    assert chain.owner.name == "Network Engineering"
    l1, l2, l3 = chain.tiers
    # NOC rota, Monday 08:00 Madrid from 2025-01-06: week 97 → members[97 % 3].
    assert l1.on_call.contact_id == "jmorales"
    assert l1.on_call.until == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    assert l1.on_call.next_contact_id == "praman"
    # The cover: Marcus Lee until 23:00 UTC, then the rota's Daan de Vries.
    assert l2.on_call.contact_id == "mlee"
    assert l2.on_call.via is OverrideKind.COVER
    assert l2.on_call.until == NOW + timedelta(hours=8)
    assert l2.on_call.next_contact_id == "ddevries"
    # A fixed contact: no rota, no hand-over.
    assert l3.on_call.source == Source.CONTACT
    assert l3.on_call.contact_id == "sbecker"
    assert l3.on_call.until is None
    assert l3.tier.engage_after == timedelta(minutes=30)
    managers = {m.rule.id: m.on_call for m in chain.managers}
    assert managers["duty-manager-sev1"].source == Source.ROTATION
    assert managers["service-owner"].contact_id == "sbecker"
    assert managers["head-of-it-ops"].source == Source.ROLE
    assert [u.group for u in chain.updates if u.severity is Severity.SEV1] == [
        "Affected customers",
        "Customer support",
        "Executives",
    ]


def test_after_the_cover_the_rota_holder_is_back(directory: Directory) -> None:
    later = NOW + timedelta(hours=8)
    network = directory.on_call("rot-network", later)
    assert network.contact_id == "ddevries"
    assert network.via is None


def test_a_hand_off_changes_who_is_on_call(directory: Directory) -> None:
    handoff = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # Monday 08:00 in Madrid
    before = directory.on_call("rot-noc", handoff - timedelta(seconds=1))
    after = directory.on_call("rot-noc", handoff)
    assert (before.contact_id, after.contact_id) == ("jmorales", "praman")


def test_the_directory_feeds_the_domain_escalation_path(directory: Directory) -> None:
    """The matrix and the escalation evaluator agree on who is called."""
    policy = directory.policies["dc-network"].policy
    incident = Incident(
        id="inc-1",
        number="INC-000001",
        title="Core switch down",
        service="dc-network",
        impact=Impact.HIGH,
        urgency=Urgency.HIGH,
        severity=Severity.SEV1,
        state=State.NEW,
        opened_at=NOW - timedelta(minutes=20),
        updated_at=NOW - timedelta(minutes=20),
    )
    lookup = on_call_now(
        [s.rotation for s in directory.schedules.values()],
        {k: s.overrides for k, s in directory.schedules.items()},
        NOW,
    )
    steps = escalation_path(
        policy, incident, NOW, response_fraction=None, sla_fraction=None, on_call=lookup
    )
    text = render_path(steps, directory.describer("ES"))
    assert "L2 Network — Marcus Lee +1 773-555-0131 (due now)" in text
    assert "L1 NOC — Javier Morales 637 91 56 68 (due now)" in text


# --------------------------------------------------------------------- search


# Every service whose chain includes the network rota Anja Vogel is on.
ANJA_SERVICES = {
    "dc-network",
    "corporate-vpn",
    "office-network",
    "web-storefront",
    "k8s-prod",
    "contact-centre",
}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("payments", {"payments-api", "checkout"}),
        ("Krüger", {"orders-db", "data-warehouse"}),
        ("kruger", {"orders-db", "data-warehouse"}),  # no accent needed
        ("SAP", {"erp"}),
        ("network engineering vpn", {"corporate-vpn"}),  # every word must match
        ("+49 1516", ANJA_SERVICES),  # Anja Vogel's mobile, international
        ("0151 6639", ANJA_SERVICES),  # the same, as dialled in Germany
        ("nobody-by-this-name", set()),
    ],
)
def test_search_by_person_team_service_or_number(
    directory: Directory, query: str, expected: set[str]
) -> None:
    found = {s.id for s in directory.services if directory.matches(s.id, query)}
    assert found == expected


def test_contact_search(directory: Directory) -> None:
    def people(query: str) -> set[str]:
        return {c for c in directory.contacts if directory.contact_matches(c, query)}

    assert people("lucia") == {"lfernandez"}
    assert people("dba") == {"viyer", "hschmidt", "jholloway"}
    assert people("+81 90-7782") == {"ytanaka"}
    assert people("identity") >= {"nrahman", "dalonso", "agupta", "mchen"}
    assert fold("Sofía Marín") == "sofia marin"


# -------------------------------------------------------------- bad documents


def test_damaged_documents_are_left_out_and_named() -> None:
    directory = Directory.from_reference(
        services=[
            {"id": "svc-a", "name": "A", "owner_team": "team-a", "criticality": "high"},
            {"id": "svc-b", "name": "B", "owner_team": "team-a"},
            {"name": "no id"},
        ],
        teams=[{"id": "team-a", "name": "Team A", "tier": "L2"}],
        contacts=[{"id": "ana", "name": "Ana", "team": "team-a", "primary_phone": "+34612345678"}],
        policies=[
            {
                "id": "pol-a",
                "service": "svc-a",
                "version": 3,  # server metadata is ignored, not refused
                "tiers": [
                    {
                        "level": 1,
                        "name": "L1",
                        "team": "team-a",
                        "rotation_id": "rot-gone",
                        "engage_after_minutes": 0,
                    },
                    {
                        "level": 2,
                        "name": "L2",
                        "team": "team-a",
                        "contact_id": "ghost",
                        "engage_after_minutes": 10,
                    },
                ],
            },
            {"id": "pol-b", "service": "svc-b", "tiers": []},
        ],
        shifts=[
            {
                "id": "rot-bad",
                "name": "Bad",
                "team": "team-a",
                "time_zone": "Mars/Olympus",
                "start": "2025-01-06",
                "members": ["ana"],
            },
        ],
    )
    assert [s.id for s in directory.services] == ["svc-a", "svc-b"]
    problems = "\n".join(directory.problems)
    assert "a service without an id" in problems
    assert "escalation policy pol-b (svc-b) was left out: tiers" in problems
    # The wire's own words, without pydantic's "Value error," (console/wire/errors.py).
    assert (
        "on-call rotation rot-bad was left out: time_zone: 'Mars/Olympus' is not an IANA time "
        "zone name; use a name like Europe/Berlin or UTC"
    ) in directory.problems
    chain = directory.chain("svc-a", NOW)
    assert chain.tiers[0].on_call.problem == "rotation 'rot-gone' is not in the directory"
    assert chain.tiers[1].on_call.problem == "contact 'ghost' is not in the directory"
    assert directory.chain("svc-b", NOW).problem == "no escalation policy for this service"


def test_a_rotation_not_started_yet_says_so() -> None:
    directory = Directory.from_reference(
        contacts=[{"id": "ana", "name": "Ana"}],
        shifts=[
            {
                "id": "rot",
                "name": "Future",
                "team": "t",
                "time_zone": "Europe/Madrid",
                "handoff_weekday": "monday",
                "start": "2030-01-07",
                "members": ["ana"],
            },
        ],
    )
    who = directory.on_call("rot", NOW)
    assert who.contact is None
    assert "nobody is scheduled before then" in who.problem
    assert who.next_contact_id == "ana"


@pytest.mark.parametrize(
    ("rotation_id", "handoff"),
    [
        # London left summer time on Sunday 25 October 2026: 09:00 is 09:00 UTC again.
        ("rot-service-desk", datetime(2026, 10, 26, 9, 0, tzinfo=UTC)),
        ("rot-service-desk", datetime(2026, 10, 19, 8, 0, tzinfo=UTC)),  # still BST
        # New York left daylight time a week later: 10:00 EST is 15:00 UTC.
        ("rot-platform", datetime(2026, 11, 2, 15, 0, tzinfo=UTC)),
        ("rot-platform", datetime(2026, 10, 26, 14, 0, tzinfo=UTC)),  # still EDT
    ],
)
def test_hand_offs_keep_the_local_wall_clock_across_dst(
    directory: Directory, rotation_id: str, handoff: datetime
) -> None:
    before = directory.on_call(rotation_id, handoff - timedelta(minutes=1))
    after = directory.on_call(rotation_id, handoff)
    assert before.contact_id != after.contact_id
    assert before.until == handoff
    assert after.shift is not None
    assert after.shift.start == handoff
