"""Role offers from the escalation matrix, templates per severity, the executive summary."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from console.domain.incident import TimelineEvent, TimelineKind
from console.domain.severity import Severity
from console.services.directory import Directory
from console.services.major import (
    DEFAULT_TEMPLATES,
    TemplateRefused,
    check_template,
    check_templates,
    executive_summary,
    next_role_offer,
    role_candidates,
    role_names,
    snapshot,
    template_for,
)
from console.store import Cache
from tests.helpers.escalation import CONTACTS, POLICY, TEAMS
from tests.helpers.factories import T0, make_incident


def _directory() -> Directory:
    fixed = {**POLICY, "service": "payments"}
    fixed["tiers"] = [
        {**POLICY["tiers"][0]},
        {**POLICY["tiers"][1], "rotation_id": None, "contact_id": "jo"},
        {**POLICY["tiers"][2]},
    ]
    fixed["management"] = []
    return Directory.from_reference(
        services=[{"id": "payments", "name": "Payments", "owner_team": "network"}],
        teams=[{"id": k, **v} for k, v in TEAMS.items()],
        contacts=[{"id": k, **v} for k, v in CONTACTS.items()]
        + [{"id": "zed", "name": "Zed Adams", "role": "Duty manager"}],
        policies=[fixed],
    )


def test_the_owning_teams_on_call_person_is_offered_first_then_the_chain_then_everyone() -> None:
    directory = _directory()
    assert not directory.problems, directory.problems
    offered = role_candidates(directory, "payments", T0)
    assert [c.name for c in offered] == ["Jo Kim", "Ana Ruiz", "Acme hotline", "Zed Adams"]
    first = offered[0]
    assert first.on_call
    assert first.phone == "+44 7400 123456"
    assert "Network Engineering (L2)" in first.why
    assert not offered[-1].on_call
    # The holder is not offered the role they hold.
    assert "Jo Kim" not in [
        c.name for c in role_candidates(directory, "payments", T0, exclude="Jo Kim")
    ]
    names = role_names(("Scribe",))
    assert names[-1] == "Scribe"
    assert next_role_offer({"Incident Commander": "Iris"}, names, offered) == (
        "Technical Lead",
        first,
    )
    full = dict.fromkeys(names, "x")
    assert next_role_offer(full, names, offered) is None


def test_templates_per_severity_fall_back_to_default_then_built_in_and_bad_ones_are_named() -> None:
    templates = {"SEV-1": {"internal": "S1 {{ service }}"}, "default": {"executive": "D"}}
    assert template_for(templates, 1, "internal") == (
        "S1 {{ service }}",
        "major.templates.SEV-1.internal",
    )
    assert template_for(templates, 2, "executive") == ("D", "major.templates.default.executive")
    assert template_for(templates, 2, "customer") == (DEFAULT_TEMPLATES["customer"], "built-in")
    with pytest.raises(TemplateRefused, match="unknown field 'password'"):
        check_template("{{ password }}")
    with pytest.raises(TemplateRefused, match="loops"):
        check_template("{% for x in service %}{{ x }}{% endfor %}")
    problems = check_templates({"SEV-2": {"customer": "{{ secret }}", "internal": "ok"}})
    assert list(problems) == ["major.templates.SEV-2.customer"]


def test_the_executive_summary_says_what_impact_status_eta_roles_and_next_updates(
    tmp_path: Path,
) -> None:
    cache = Cache.open(tmp_path / "cache.db")
    incident = make_incident(
        id="i1", severity=Severity.SEV1, major=True, title="Card payments fail", service="payments"
    )
    cache.upsert_incidents([incident])

    def event(n: int, kind: TimelineKind, body: str, **data: object) -> TimelineEvent:
        return TimelineEvent(f"e{n}", "i1", kind, T0 + timedelta(minutes=n), "iris", body, data)

    cache.upsert_timeline(
        [
            event(1, TimelineKind.ESCALATION, "Declared", major=True, commander="Iris Lane"),
            event(2, TimelineKind.ASSIGNMENT, "Assigned", role="Technical Lead", to="Jo Kim"),
            event(3, TimelineKind.WORK_NOTE, "Failing over the card gateway. ETA 14:30 UTC"),
            event(
                4,
                TimelineKind.STATUS_UPDATE,
                "Cause found: gateway certificate.",
                audience="executive",
                status="identified",
            ),
        ]
    )
    snap = snapshot(cache, incident, {"payments"}, cadence={1: 10})
    assert snap.eta == "14:30 UTC"
    now = T0 + timedelta(minutes=20)
    summary = executive_summary(
        snap, now, service_name="Payments", phones={"Iris Lane": "+442079460000"}
    )
    text = summary.text()
    for expected in (
        "SEV-1 major incident",
        "Card payments fail",
        "Payments · impact",
        "customer-facing",
        "identified",
        "Cause found: gateway certificate.",
        "Incident Commander: Iris Lane (+442079460000)",
        "Technical Lead: Jo Kim",
        # Internal on a 10-minute cadence from the declaration at +1 min.
        f"internal: {T0 + timedelta(minutes=11):%H:%M} UTC (OVERDUE 9:00)",
    ):
        assert expected in text, (expected, text)
    assert ("ETA", "14:30 UTC") in summary.rows
    assert text.index("Incident Commander") < text.index("Technical Lead")
    cache.close()
