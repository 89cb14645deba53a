"""The wall's figures and lists at a controlled instant, on-call from reference data, updates.

Incidents come from ``make_incident`` (opened ``age_min`` before NOW, a
Wednesday 10:00 UTC) with the default targets round the clock: SEV-1 responds
in 15 min and resolves in 4 h, SEV-2 in 30 min / 8 h, SEV-3 in 4 h (response).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from console.config.settings import SettingsError, load_settings
from console.domain.incident import HoldPeriod, Incident
from console.domain.lifecycle import HoldReason, State
from console.domain.severity import Severity
from console.domain.sla import SlaPolicy, SlaStatus
from console.models.wall import (
    WallModel,
    WallReference,
    build_snapshot,
    on_call_board,
    wall_sla_text,
)
from console.services.demo import load_demo
from console.store import Cache, ChangeSet
from tests.helpers.factories import NOW
from tests.helpers.factories import desk_incident as make_incident

# ------------------------------------------------------------------ reference data

TEAMS = (
    {"id": "noc", "name": "NOC Operations", "tier": "L1"},
    {"id": "network", "name": "Network Engineering", "tier": "L2"},
)
SERVICES = (
    {
        "id": "payments-api",
        "name": "Payments API",
        "owner_team": "network",
        "criticality": "critical",
    },
    {"id": "checkout", "name": "Checkout", "owner_team": "noc", "criticality": "critical"},
    {"id": "wifi", "name": "Office Wi-Fi", "owner_team": "network", "criticality": "low"},
)
CONTACTS = (
    {"id": "ana", "name": "Ana Ruiz", "team": "noc", "primary_phone": "+34912345678"},
    {"id": "ben", "name": "Ben Okafor", "team": "network", "primary_phone": "+442079460000"},
    {"id": "cy", "name": "Cy Park", "team": "network", "primary_phone": "+14155550100"},
)
# Weekly rotas from Monday 2 Nov 2026 09:00 UTC: NOW (Wed 18 Nov) is in week 2.
SHIFTS = (
    {
        "id": "rot-noc",
        "name": "NOC on call",
        "team": "noc",
        "time_zone": "UTC",
        "handoff_weekday": "monday",
        "handoff_time": "09:00",
        "start": "2026-11-02",
        "members": ["ana", "ben"],  # week 2: ana
        "overrides": [],
    },
    {
        "id": "rot-net",
        "name": "Network on call",
        "team": "network",
        "time_zone": "UTC",
        "handoff_weekday": "monday",
        "handoff_time": "09:00",
        "start": "2026-11-02",
        "members": ["ben", "cy"],  # week 2: ben, but cy covers around NOW
        "overrides": [
            {
                "kind": "cover",
                "contact_id": "cy",
                "start": (NOW - timedelta(hours=1)).isoformat(),
                "end": (NOW + timedelta(hours=1)).isoformat(),
                "note": "Ben at the dentist",
            }
        ],
    },
)
POLICIES = (
    {
        "id": "pol-payments",
        "service": "payments-api",
        "tiers": [
            {
                "level": 2,
                "name": "L2 Network",
                "team": "network",
                "rotation_id": "rot-net",
                "engage_after_minutes": 15,
            },
            {
                "level": 1,
                "name": "L1 NOC",
                "team": "noc",
                "rotation_id": "rot-noc",
                "engage_after_minutes": 0,
            },
            {
                "level": 3,
                "name": "L3 Vendor",
                "team": "network",
                "contact_id": "ben",
                "engage_after_minutes": 30,
            },
        ],
    },
)
FULL = WallReference(
    services=SERVICES, contacts=CONTACTS, teams=TEAMS, policies=POLICIES, shifts=SHIFTS
)


# ------------------------------------------------------------------ counts and lists


def test_counts_per_severity_of_open_incidents_only(policy: SlaPolicy) -> None:
    incidents = [
        make_incident(1, Severity.SEV1),
        make_incident(2, Severity.SEV2),
        make_incident(3, Severity.SEV2),
        make_incident(4, Severity.SEV3, state=State.NEW, acknowledged_at=None),
        make_incident(5, Severity.SEV1, state=State.RESOLVED, resolved_at=NOW),
        make_incident(6, Severity.SEV4, state=State.CANCELLED, closed_at=NOW),
    ]
    snapshot = build_snapshot(incidents, policy, NOW)
    assert snapshot.at == NOW
    assert dict(snapshot.counts) == {
        Severity.SEV1: 1,
        Severity.SEV2: 2,
        Severity.SEV3: 1,
        Severity.SEV4: 0,
    }
    assert snapshot.open_total == 4
    assert snapshot.unacknowledged == 1
    assert snapshot.breached == 0


def test_sev1_and_major_incidents_most_pressing_first(policy: SlaPolicy) -> None:
    incidents = [
        make_incident(1, Severity.SEV1, age_min=10),  # resolution due in 3 h 50
        make_incident(2, Severity.SEV1, age_min=100),  # resolution due in 2 h 20
        make_incident(3, Severity.SEV1, age_min=2, state=State.NEW, acknowledged_at=None),
        make_incident(4, Severity.SEV2, major=True),
        make_incident(5, Severity.SEV2),  # neither SEV-1 nor major: not listed
    ]
    snapshot = build_snapshot(incidents, policy, NOW)
    # SEV-1 first, the one nobody acknowledged before the others, then soonest due.
    assert [row.number for row in snapshot.major] == [
        "INC-000003",
        "INC-000002",
        "INC-000001",
        "INC-000004",
    ]
    assert not snapshot.major[0].acknowledged
    assert snapshot.major[3].major


def test_sla_at_risk_soonest_due_first(policy: SlaPolicy) -> None:
    incidents = [
        # SEV-1 unacknowledged 12 min: response clock at 80 %, due in 3 min.
        make_incident(1, Severity.SEV1, age_min=12, state=State.NEW, acknowledged_at=None),
        # SEV-2 resolving for 7 h of 8: warning, due in 1 h.
        make_incident(2, Severity.SEV2, age_min=7 * 60),
        # SEV-1 resolving for 5 h of 4: breached an hour ago.
        make_incident(3, Severity.SEV1, age_min=5 * 60),
        # SEV-2 on hold waiting for the caller: paused, not listed.
        make_incident(
            4,
            Severity.SEV2,
            age_min=7 * 60,
            state=State.ON_HOLD,
            hold_reason=HoldReason.AWAITING_CALLER,
            holds=(HoldPeriod(NOW - timedelta(minutes=30)),),
        ),
        make_incident(5, Severity.SEV3),  # fine
    ]
    snapshot = build_snapshot(incidents, policy, NOW)
    assert [(row.number, row.reading.status) for row in snapshot.at_risk] == [
        ("INC-000003", SlaStatus.BREACHED),
        ("INC-000001", SlaStatus.WARNING),
        ("INC-000002", SlaStatus.WARNING),
    ]
    assert [row.sla for row in snapshot.at_risk] == [
        "✖ 1 h 00 overdue",
        "⚠ due in 3 min",
        "⚠ due in 1 h 00",
    ]
    assert snapshot.breached == 1


def test_sla_at_risk_most_severe_first_then_least_time_left(policy: SlaPolicy) -> None:
    incidents = [
        # SEV-4 resolving past its target: breached long ago, yet below every SEV-1.
        make_incident(10, Severity.SEV4, age_min=5 * 24 * 60),
        # SEV-1 unacknowledged 12 min: response due in 3 min.
        make_incident(11, Severity.SEV1, age_min=12, state=State.NEW, acknowledged_at=None),
        # SEV-1 resolving for 5 h of 4: breached an hour ago.
        make_incident(12, Severity.SEV1, age_min=5 * 60),
        make_incident(13, Severity.SEV2, age_min=7 * 60),
    ]
    snapshot = build_snapshot(incidents, policy, NOW)
    assert [row.number for row in snapshot.at_risk] == [
        "INC-000012",
        "INC-000011",
        "INC-000013",
        "INC-000010",
    ]


def test_rows_use_display_names(policy: SlaPolicy) -> None:
    incidents = [
        make_incident(1, Severity.SEV1, assignee="ana"),
        make_incident(2, Severity.SEV1, assignee=None, assignment_group="network"),
        make_incident(3, Severity.SEV1, assignee=None),
    ]
    snapshot = build_snapshot(incidents, policy, NOW, names=FULL.names)
    assert {row.number: (row.service, row.owner) for row in snapshot.major} == {
        "INC-000001": ("Payments API", "Ana Ruiz"),
        "INC-000002": ("Payments API", "Network Engineering"),
        "INC-000003": ("Payments API", "Unassigned"),
    }


def test_wall_sla_wording_counts_clock_time(policy: SlaPolicy) -> None:
    def text(incident: Incident) -> str:
        return wall_sla_text(policy.current(incident, NOW), NOW)

    assert text(
        make_incident(1, Severity.SEV3, age_min=60, state=State.NEW, acknowledged_at=None)
    ) == ("due in 3 h 00")
    # Far away: the due time itself reads better than a long countdown.
    sev4 = make_incident(4, Severity.SEV4, age_min=60)
    due = policy.current(sev4, NOW).due.astimezone()
    assert text(sev4) == f"due {due:%a %H:%M}"
    # Long overdue: since when.
    old = make_incident(5, Severity.SEV1, age_min=3 * 24 * 60)
    old_due = policy.current(old, NOW).due.astimezone()
    assert text(old) == f"✖ overdue since {old_due:%a %H:%M}"
    waiting = make_incident(
        6,
        Severity.SEV2,
        age_min=60,
        state=State.ON_HOLD,
        hold_reason=HoldReason.AWAITING_VENDOR,
        holds=(HoldPeriod(NOW - timedelta(minutes=30)),),
    )
    assert text(waiting) == "paused · 7 h 30 left"


# ------------------------------------------------------------------ on call


def test_no_on_call_data_is_said_not_faked(policy: SlaPolicy) -> None:
    reference = WallReference(services=SERVICES, contacts=CONTACTS, teams=TEAMS)
    assert on_call_board(reference.directory(), NOW) is None
    model = WallModel(policy, [make_incident(1)], reference=reference)
    assert model.snapshot(NOW).on_call is None


def test_on_call_now_for_the_critical_services(policy: SlaPolicy) -> None:
    board = on_call_board(FULL.directory(), NOW)
    assert board is not None
    assert board.problems == ()
    # The critical services by name; Office Wi-Fi is not key.
    assert [row.service for row in board.rows] == ["Checkout", "Payments API"]
    checkout, payments = board.rows
    assert checkout.tiers == ()
    assert checkout.note == "no escalation policy for this service"
    assert [(t.level, t.label, t.contact) for t in payments.tiers] == [
        (1, "L1 NOC", "Ana Ruiz"),
        (2, "L2 Network", "Cy Park"),  # covering for Ben
        (3, "L3 Vendor", "Ben Okafor"),  # a fixed contact
    ]
    l1, l2, l3 = payments.tiers
    assert l1.phone == "+34 912 34 56 78"
    assert l1.until == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert not l1.via_override
    assert l2.via_override
    assert l2.via == "cover"
    assert l2.until == NOW + timedelta(hours=1)
    assert l3.until is None


def test_key_services_come_from_the_settings_in_their_order(policy: SlaPolicy) -> None:
    board = on_call_board(FULL.directory(), NOW, ["wifi", "payments-api", "nope"])
    assert board is not None
    assert [(row.service, row.note) for row in board.rows] == [
        ("Office Wi-Fi", "no escalation policy for this service"),
        ("Payments API", ""),
        ("nope", "not a known service"),
    ]


def test_a_broken_rota_is_reported_and_the_rest_still_shows(policy: SlaPolicy) -> None:
    broken = {**SHIFTS[0], "handoff_weekday": "funday"}
    reference = WallReference(
        services=SERVICES,
        contacts=CONTACTS,
        teams=TEAMS,
        policies=POLICIES,
        shifts=(broken, SHIFTS[1]),
    )
    board = on_call_board(reference.directory(), NOW)
    assert board is not None
    assert any("rot-noc" in problem for problem in board.problems)
    payments = board.rows[1]
    assert payments.tiers[0].contact is None
    assert "rot-noc" in payments.tiers[0].note
    assert payments.tiers[1].contact == "Cy Park"


# ------------------------------------------------------------------ the model


@dataclass
class Update:
    """A sync update as the worker emits it: the changes and the new records."""

    changes: ChangeSet
    incidents: dict[str, Incident] = field(default_factory=dict)

    def lookup(self, incident_id: str) -> Incident | None:
        return self.incidents.get(incident_id)


def test_the_model_follows_sync_updates(qtbot: QtBot, policy: SlaPolicy) -> None:
    model = WallModel(policy, [make_incident(1, Severity.SEV2), make_incident(2)])
    fresh = make_incident(3, Severity.SEV1)
    raised = make_incident(1, Severity.SEV1, version=2)
    resolved = make_incident(2, state=State.RESOLVED, resolved_at=NOW, version=2)
    update = Update(
        ChangeSet(inserted=frozenset({"inc-3"}), updated=frozenset({"inc-1", "inc-2"})),
        {"inc-1": raised, "inc-2": resolved, "inc-3": fresh},
    )
    with qtbot.waitSignal(model.changed):
        model.apply_update(update)
    snapshot = model.snapshot(NOW)
    assert snapshot.counts[Severity.SEV1] == 2
    assert snapshot.open_total == 2
    with qtbot.waitSignal(model.changed):
        model.apply_changes(ChangeSet(removed=frozenset({"inc-3"})), update.lookup)
    assert model.open_count == 1


def test_reference_changes_are_re_read(qtbot: QtBot, policy: SlaPolicy) -> None:
    sources: list[WallReference] = [WallReference(), FULL]
    model = WallModel(
        policy,
        [make_incident(1, Severity.SEV1, assignee="ana")],
        reference=sources[0],
        reference_source=lambda: sources[-1],
    )
    assert model.snapshot(NOW).on_call is None
    assert model.snapshot(NOW).major[0].owner == "ana"
    model.apply_changes(ChangeSet(reference_kinds=frozenset({"shifts"})), lambda _: None)
    snapshot = model.snapshot(NOW)
    assert snapshot.on_call is not None
    assert snapshot.major[0].owner == "Ana Ruiz"


def test_the_on_call_board_is_reused_for_a_while(policy: SlaPolicy) -> None:
    model = WallModel(policy, reference=FULL)
    first = model.snapshot(NOW).on_call
    assert model.snapshot(NOW + timedelta(seconds=10)).on_call is first
    assert model.snapshot(NOW + timedelta(seconds=31)).on_call is not first


def test_the_model_loads_the_demo_from_a_cache(tmp_path: Path, policy: SlaPolicy) -> None:
    with Cache.open(tmp_path / "cache.db") as cache:
        load_demo(cache, NOW, policy=policy)
        model = WallModel.from_cache(cache, policy)
        open_incidents = cache.incidents(open_only=True)
    snapshot = model.snapshot(NOW)
    assert snapshot.open_total == len(open_incidents) > 0
    assert sum(snapshot.counts.values()) == snapshot.open_total
    assert snapshot.major  # the demo has SEV-1s
    assert snapshot.on_call is not None  # the demo has rotations and policies
    assert snapshot.on_call.rows


# ------------------------------------------------------------------ settings.toml


def write_settings(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_wall_settings(tmp_path: Path) -> None:
    path = write_settings(
        tmp_path,
        '[wall]\nrotate_seconds = 20\nservices = ["checkout", " payments-api "]\nmetrics = true\n',
    )
    wall = load_settings(path).wall
    assert wall.rotate_seconds == 20
    assert wall.services == ("checkout", "payments-api")
    assert wall.metrics is True
    defaults = load_settings(tmp_path / "missing.toml").wall
    assert (defaults.rotate_seconds, defaults.services, defaults.metrics) == (15, (), False)


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        pytest.param(
            "[wall]\nrotate = 10", "wall.rotate", ["unknown key", "rotate_seconds"], id="key"
        ),
        pytest.param(
            "[wall]\nrotate_seconds = 1", "wall.rotate_seconds", ["from 5 to 600"], id="fast"
        ),
        pytest.param('[wall]\nrotate_seconds = "15"', "wall.rotate_seconds", ["'15'"], id="type"),
        pytest.param(
            '[wall]\nservices = "checkout"', "wall.services", ["a list of service ids"], id="list"
        ),
        pytest.param('wall = "big"', "wall", ["not a table"], id="table"),
        pytest.param(
            '[wall]\nmetrics = "yes"', "wall.metrics", ["'yes'", "true", "false"], id="metrics"
        ),
    ],
)
def test_a_wall_typo_names_the_key(tmp_path: Path, text: str, key: str, words: list[str]) -> None:
    path = write_settings(tmp_path, text + "\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(path)
    assert caught.value.key == key
    for word in words:
        assert word in str(caught.value), str(caught.value)
