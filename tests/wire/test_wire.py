"""The wire schema: in step with the domain, strict on input, loss-free conversions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, get_args

import pytest
from pydantic import ValidationError

from console import wire
from console.domain.incident import HoldPeriod, Incident, Source, TimelineKind
from console.domain.lifecycle import HoldReason, State
from console.domain.severity import Impact, Severity, Urgency

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("literal", "values"),
    [
        (wire.ImpactWire, [m.value for m in Impact]),
        (wire.UrgencyWire, [m.value for m in Urgency]),
        (wire.SeverityWire, [m.code for m in Severity]),
        (wire.StateWire, [m.value for m in State]),
        (wire.HoldReasonWire, [m.value for m in HoldReason]),
        (wire.SourceWire, [m.value for m in Source]),
        (wire.TimelineKindWire, [m.value for m in TimelineKind]),
    ],
)
def test_wire_enums_match_the_domain(literal: Any, values: list[str]) -> None:
    assert list(get_args(literal)) == values


def _incident(**changes: Any) -> Incident:
    fields: dict[str, Any] = {
        "id": "5b0e7f0e-0000-4000-8000-000000000001",
        "number": "INC-000042",
        "title": "Payments failing",
        "service": "payments-api",
        "impact": Impact.HIGH,
        "urgency": Urgency.HIGH,
        "severity": Severity.SEV1,
        "state": State.ON_HOLD,
        "opened_at": T0,
        "updated_at": T0 + timedelta(minutes=5),
        "version": 3,
        "category": "software",
        "assignee": "Ana Ruiz",
        "source": Source.MONITORING,
        "major": True,
        "hold_reason": HoldReason.AWAITING_VENDOR,
        "holds": (HoldPeriod(T0 + timedelta(minutes=4)),),
        "acknowledged_at": T0 + timedelta(minutes=1),
        "response_due": T0 + timedelta(minutes=15),
        "resolution_due": T0 + timedelta(hours=4),
    }
    fields.update(changes)
    return Incident(**fields)


def test_incident_round_trips_through_the_wire() -> None:
    incident = _incident()
    on_wire = wire.incident_to_wire(incident, severity_overridden=True)
    assert on_wire.severity == "SEV-1"
    assert on_wire.severity_overridden is True
    as_json = on_wire.model_dump_json()
    back = wire.incident_from_wire(wire.Incident.model_validate_json(as_json))
    assert back == incident


def test_incident_out_ignores_fields_from_a_newer_server() -> None:
    data = wire.incident_to_wire(_incident()).model_dump(mode="json")
    data["escalation_level"] = 2
    assert wire.Incident.model_validate(data).number == "INC-000042"


def test_inputs_refuse_unknown_fields_and_strip_text() -> None:
    body = wire.IncidentCreate.model_validate(
        {"title": "  Disk full  ", "service": "db", "impact": "low", "urgency": "low"}
    )
    assert body.title == "Disk full"
    with pytest.raises(ValidationError, match="Extra inputs"):
        wire.IncidentCreate.model_validate(
            {"title": "x", "service": "db", "impact": "low", "urgency": "low", "sev": 1}
        )


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"hold_reason": "awaiting_caller"}, 'hold_reason goes only with state "on_hold"'),
        ({"severity": "SEV-1"}, "severity_reason is required"),
        ({"severity_reason": "why"}, "severity_reason goes only with severity"),
        ({"impact": None}, "impact cannot be null"),
    ],
)
def test_patch_consistency_rules(patch: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        wire.IncidentPatch.model_validate(patch)


def test_patch_knows_which_fields_were_sent() -> None:
    patch = wire.IncidentPatch.model_validate({"assignee": None, "state": "triaged"})
    assert patch.model_fields_set == {"assignee", "state"}


def test_timeline_round_trip() -> None:
    entry = wire.TimelineEntry(
        id="e1",
        incident_id="i1",
        kind="state_change",
        at=T0,
        author="ana",
        body="State New → Triaged",
        data={"from": "new", "to": "triaged"},
    )
    assert wire.timeline_to_wire(wire.timeline_from_wire(entry)) == entry


@pytest.mark.parametrize(
    ("text", "e164"),
    [("+44 20 7946 0958", "+442079460958"), ("+1 (650) 253-0000", "+16502530000")],
)
def test_phones_are_normalised_to_e164(text: str, e164: str) -> None:
    assert wire.normalise_phone(text) == e164


def test_change_data_parses_into_the_entity_model() -> None:
    incident = wire.incident_to_wire(_incident()).model_dump(mode="json")
    entry = wire.ChangeEntry(seq=7, kind="incident", id=incident["id"], op="upsert", data=incident)
    parsed = wire.parse_change_data(entry)
    assert isinstance(parsed, wire.Incident)
    tombstone = wire.ChangeEntry(seq=8, kind="team", id="noc", op="delete")
    assert wire.parse_change_data(tombstone) is None


def test_policy_and_rotation_convert_to_the_domain() -> None:
    policy = wire.EscalationPolicyIn.model_validate(
        {
            "service": "vpn",
            "tiers": [
                {"level": 1, "name": "L1", "team": "desk", "engage_after_minutes": 0},
                {"level": 2, "name": "L2", "team": "net", "engage_after_minutes": 15},
            ],
            "management": [
                {"who": "duty manager", "severities": ["SEV-1"], "at_sla_fraction": 0.8}
            ],
            "communication": [
                {"stakeholder_group": "Execs", "severity": "SEV-1", "every_minutes": 15}
            ],
        }
    )
    domain = wire.policy_to_domain(policy)
    assert [t.engage_after for t in domain.tiers] == [timedelta(0), timedelta(minutes=15)]
    assert domain.management[0].severities == frozenset({Severity.SEV1})
    assert domain.communication[0].every == timedelta(minutes=15)

    rotation = wire.OnCallRotationIn.model_validate(
        {
            "name": "Net",
            "team": "net",
            "time_zone": "Europe/Madrid",
            "start": "2026-01-05",
            "members": ["ana", "tom"],
        }
    )
    domain_rotation, overrides = wire.rotation_to_domain("net-weekly", rotation)
    assert domain_rotation.handoff_weekday == 0
    assert domain_rotation.first_handoff == datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    assert overrides == ()


def test_etag_parsing() -> None:
    assert wire.etag(7) == '"7"'
    assert wire.parse_etag('"7"') == wire.parse_etag('W/"7"') == wire.parse_etag("7") == 7
    assert wire.parse_etag("seven") is None
    assert wire.parse_etag('"' + "9" * 30 + '"') is None
