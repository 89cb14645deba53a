"""Alert rules: what alarms, re-alarms until acknowledged, mute and snooze per severity.

Real SLA readings from the default policy (round the clock), at controlled
instants: SEV-1 responds in 15 min (warning from 11 min 15 s), SEV-3 in 4 h
(warning from 3 h).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from console.config.settings import SettingsError, load_settings
from console.domain.alerts import (
    Alert,
    AlertReason,
    AlertRules,
    AlertTracker,
    EscalationWatch,
    readings_for,
)
from console.domain.calendar import TWENTY_FOUR_SEVEN
from console.domain.errors import InvalidValue
from console.domain.incident import Incident, TimelineEvent, TimelineKind, format_number
from console.domain.lifecycle import State
from console.domain.severity import DEFAULT_MATRIX, Impact, Severity, Urgency
from console.domain.sla import SlaPolicy

T0 = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
POLICY = SlaPolicy.default(TWENTY_FOUR_SEVEN)

_PAIRS = {
    Severity.SEV1: (Impact.HIGH, Urgency.HIGH),
    Severity.SEV2: (Impact.HIGH, Urgency.MEDIUM),
    Severity.SEV3: (Impact.MEDIUM, Urgency.MEDIUM),
    Severity.SEV4: (Impact.LOW, Urgency.LOW),
}


def incident(n: int, severity: Severity, *, opened: datetime = T0, **changes: Any) -> Incident:
    """Incident ``n``, new and unacknowledged, opened at ``opened``."""
    impact, urgency = _PAIRS[severity]
    assert DEFAULT_MATRIX.severity(impact, urgency) is severity
    fields: dict[str, Any] = {
        "id": f"inc-{n}",
        "number": format_number(n),
        "title": f"Incident number {n}",
        "service": "payments-api",
        "impact": impact,
        "urgency": urgency,
        "severity": severity,
        "state": State.NEW,
        "opened_at": opened,
        "updated_at": opened,
    }
    fields.update(changes)
    return Incident(**fields)


def evaluate(tracker: AlertTracker, incidents: Iterable[Incident], at: datetime) -> list[Alert]:
    incidents = list(incidents)
    return tracker.evaluate(incidents, readings_for(incidents, POLICY, at), at)


def reasons(alerts: list[Alert]) -> list[tuple[str, AlertReason]]:
    return [(a.number, a.reason) for a in alerts]


# ------------------------------------------------------------------ new incidents


def test_a_new_sev1_alarms_and_a_new_sev3_does_not_by_default() -> None:
    tracker = AlertTracker()
    sev1, sev3 = incident(1, Severity.SEV1), incident(3, Severity.SEV3)
    alerts = evaluate(tracker, [sev1, sev3], T0 + timedelta(minutes=1))
    assert reasons(alerts) == [("INC-000001", AlertReason.NEW_INCIDENT)]
    alert = alerts[0]
    assert alert.severity is Severity.SEV1
    assert alert.incident_id == "inc-1"
    assert alert.title == "Incident number 1"
    assert alert.sound
    assert not alert.repeat
    assert alert.headline == "SEV-1 INC-000001 · New incident"
    assert "not acknowledged yet" in alert.text


def test_a_new_sev2_alarms_and_the_severities_are_configurable() -> None:
    at = T0 + timedelta(minutes=1)
    default = evaluate(AlertTracker(), [incident(2, Severity.SEV2)], at)
    assert reasons(default) == [("INC-000002", AlertReason.NEW_INCIDENT)]
    only_sev3 = AlertTracker(AlertRules(new_incident=frozenset({Severity.SEV3})))
    alerts = evaluate(only_sev3, [incident(2, Severity.SEV2), incident(3, Severity.SEV3)], at)
    assert reasons(alerts) == [("INC-000003", AlertReason.NEW_INCIDENT)]


def test_an_incident_is_new_only_once() -> None:
    tracker = AlertTracker(AlertRules(repeat_every={}))
    sev1 = incident(1, Severity.SEV1)
    assert evaluate(tracker, [sev1], T0)
    assert evaluate(tracker, [sev1], T0 + timedelta(minutes=1)) == []


def test_priming_takes_in_the_history_without_alarming() -> None:
    tracker = AlertTracker()
    old = [incident(1, Severity.SEV1), incident(2, Severity.SEV2, opened=T0 - timedelta(hours=9))]
    tracker.prime(old, readings_for(old, POLICY, T0), T0)
    assert evaluate(tracker, old, T0 + timedelta(minutes=5)) == []
    fresh = incident(9, Severity.SEV1, opened=T0 + timedelta(minutes=5))
    alerts = evaluate(tracker, [*old, fresh], T0 + timedelta(minutes=5))
    assert reasons(alerts) == [("INC-000009", AlertReason.NEW_INCIDENT)]


def test_raising_the_severity_into_an_alarming_one_alarms() -> None:
    tracker = AlertTracker()
    sev3 = incident(3, Severity.SEV3)
    assert evaluate(tracker, [sev3], T0) == []
    impact, urgency = _PAIRS[Severity.SEV1]
    raised = replace(sev3, severity=Severity.SEV1, impact=impact, urgency=urgency)
    alerts = evaluate(tracker, [raised], T0 + timedelta(minutes=2))
    assert reasons(alerts) == [("INC-000003", AlertReason.SEVERITY_RAISED)]
    assert alerts[0].text == "Severity raised from SEV-3 to SEV-1"


def test_a_new_incident_that_arrives_acknowledged_is_told_once() -> None:
    tracker = AlertTracker()
    taken = incident(1, Severity.SEV1, state=State.IN_PROGRESS, acknowledged_at=T0)
    alerts = evaluate(tracker, [taken], T0 + timedelta(minutes=1))
    assert reasons(alerts) == [("INC-000001", AlertReason.NEW_INCIDENT)]
    assert "not acknowledged" not in alerts[0].text
    assert tracker.alarms() == []  # nothing left to re-alarm
    assert evaluate(tracker, [taken], T0 + timedelta(minutes=5)) == []


# ------------------------------------------------------------------ SLA clocks


def test_sla_warning_and_breach_transitions_alarm_once_each() -> None:
    tracker = AlertTracker()
    sev3 = incident(3, Severity.SEV3)  # 4 h response target, warning from 3 h
    assert evaluate(tracker, [sev3], T0 + timedelta(hours=2)) == []
    warned = evaluate(tracker, [sev3], T0 + timedelta(hours=3, minutes=1))
    assert reasons(warned) == [("INC-000003", AlertReason.SLA_WARNING)]
    assert warned[0].text == "Response target at 75 % — due in 59 min"
    assert evaluate(tracker, [sev3], T0 + timedelta(hours=3, minutes=30)) == []
    breached = evaluate(tracker, [sev3], T0 + timedelta(hours=4, minutes=2))
    assert reasons(breached) == [("INC-000003", AlertReason.SLA_BREACHED)]
    assert breached[0].text == "Response target breached — overdue 2 min"
    # SEV-3 has no re-alarm interval: a breach is told once.
    assert evaluate(tracker, [sev3], T0 + timedelta(hours=6)) == []


def test_a_clock_first_seen_in_breach_alarms_as_a_breach() -> None:
    tracker = AlertTracker()
    late = incident(4, Severity.SEV4, opened=T0 - timedelta(days=30))
    alerts = evaluate(tracker, [late], T0)
    assert reasons(alerts) == [("INC-000004", AlertReason.SLA_BREACHED)]


def test_sla_alarms_follow_the_configured_severities() -> None:
    rules = AlertRules(sla_warning=frozenset(), sla_breach=frozenset({Severity.SEV1}))
    tracker = AlertTracker(rules)
    sev3 = incident(3, Severity.SEV3)
    for hours in (2, 3.5, 5):
        assert evaluate(tracker, [sev3], T0 + timedelta(hours=hours)) == []


def test_an_sla_alarm_ends_when_the_clock_is_no_longer_at_risk() -> None:
    tracker = AlertTracker(AlertRules(repeat_every={Severity.SEV3: timedelta(minutes=1)}))
    sev3 = incident(3, Severity.SEV3)
    at = T0 + timedelta(hours=3, minutes=1)
    assert reasons(evaluate(tracker, [sev3], at)) == [("INC-000003", AlertReason.SLA_WARNING)]
    # Acknowledged in time: the response clock stops and the resolution clock is fine.
    picked_up = replace(sev3, state=State.IN_PROGRESS, acknowledged_at=at)
    assert evaluate(tracker, [picked_up], at + timedelta(minutes=5)) == []
    assert tracker.alarms() == []


# ------------------------------------------------------------------ re-alarming


def test_a_sev1_re_alarms_every_minute_until_acknowledged() -> None:
    tracker = AlertTracker()
    sev1 = incident(1, Severity.SEV1)
    assert len(evaluate(tracker, [sev1], T0)) == 1
    assert evaluate(tracker, [sev1], T0 + timedelta(seconds=30)) == []
    again = evaluate(tracker, [sev1], T0 + timedelta(seconds=61))
    assert reasons(again) == [("INC-000001", AlertReason.NEW_INCIDENT)]
    assert again[0].repeat
    assert again[0].headline.startswith("Still unacknowledged: SEV-1 INC-000001")
    assert [a.number for a in tracker.alarms()] == ["INC-000001"]

    assert tracker.acknowledge("inc-1")
    assert not tracker.acknowledge("inc-1")  # already acknowledged
    assert evaluate(tracker, [sev1], T0 + timedelta(minutes=5)) == []
    assert tracker.alarms() == []


def test_a_sev2_re_alarms_every_five_minutes() -> None:
    tracker = AlertTracker()
    sev2 = incident(2, Severity.SEV2)
    times = [T0 + timedelta(minutes=m) for m in (0, 1, 4, 5, 6, 10)]
    # Stay clear of SLA transitions: SEV-2 responds in 30 min (warning from 22 min 30 s).
    counts = [len(evaluate(tracker, [sev2], at)) for at in times]
    assert counts == [1, 0, 0, 1, 0, 1]


def test_acknowledging_the_incident_stops_the_new_incident_alarm() -> None:
    tracker = AlertTracker()
    sev1 = incident(1, Severity.SEV1)
    evaluate(tracker, [sev1], T0)
    taken = replace(sev1, state=State.TRIAGED, acknowledged_at=T0 + timedelta(seconds=40))
    assert evaluate(tracker, [taken], T0 + timedelta(minutes=2)) == []
    assert tracker.alarms() == []


def test_a_graver_condition_takes_over_the_alarm() -> None:
    tracker = AlertTracker()
    sev1 = incident(1, Severity.SEV1)
    evaluate(tracker, [sev1], T0)
    tracker.acknowledge("inc-1")
    # Nobody picked it up: at 11 min 15 s the response clock warns, at 15 min it breaches.
    warned = evaluate(tracker, [sev1], T0 + timedelta(minutes=12))
    assert reasons(warned) == [("INC-000001", AlertReason.SLA_WARNING)]
    assert not warned[0].repeat
    breached = evaluate(tracker, [sev1], T0 + timedelta(minutes=16))
    assert reasons(breached) == [("INC-000001", AlertReason.SLA_BREACHED)]
    assert tracker.alarms()[0].reason is AlertReason.SLA_BREACHED


def test_acknowledge_all_by_severity() -> None:
    tracker = AlertTracker()
    incidents = [incident(1, Severity.SEV1), incident(2, Severity.SEV2)]
    evaluate(tracker, incidents, T0)
    assert tracker.acknowledge_all(Severity.SEV2) == 1
    assert [a.number for a in tracker.alarms()] == ["INC-000001"]
    assert tracker.acknowledge_all() == 1
    assert tracker.alarms() == []


def test_closed_or_vanished_incidents_lose_their_alarm() -> None:
    tracker = AlertTracker()
    sev1, sev2 = incident(1, Severity.SEV1), incident(2, Severity.SEV2)
    evaluate(tracker, [sev1, sev2], T0)
    cancelled = replace(sev1, state=State.CANCELLED, closed_at=T0 + timedelta(seconds=20))
    assert evaluate(tracker, [cancelled], T0 + timedelta(minutes=10)) == []
    assert tracker.alarms() == []


# ------------------------------------------------------------------ mute and snooze


def test_a_muted_severity_notifies_without_sound() -> None:
    tracker = AlertTracker()
    tracker.mute(Severity.SEV1)
    assert tracker.is_muted(Severity.SEV1)
    alerts = evaluate(tracker, [incident(1, Severity.SEV1), incident(2, Severity.SEV2)], T0)
    assert [(a.number, a.sound) for a in alerts] == [("INC-000001", False), ("INC-000002", True)]
    tracker.unmute(Severity.SEV1)
    again = evaluate(tracker, [incident(1, Severity.SEV1)], T0 + timedelta(minutes=1))
    assert [(a.number, a.sound) for a in again] == [("INC-000001", True)]


def test_muted_severities_and_sound_off_come_from_the_rules() -> None:
    muted = AlertTracker(AlertRules(muted=frozenset({Severity.SEV2})))
    assert [a.sound for a in evaluate(muted, [incident(2, Severity.SEV2)], T0)] == [False]
    silent = AlertTracker(AlertRules(sound=False))
    assert [a.sound for a in evaluate(silent, [incident(1, Severity.SEV1)], T0)] == [False]


def test_a_snooze_postpones_alarms_until_it_expires() -> None:
    tracker = AlertTracker()
    until = T0 + timedelta(minutes=10)
    tracker.snooze(Severity.SEV1, until)
    sev1, sev2 = incident(1, Severity.SEV1), incident(2, Severity.SEV2)
    alerts = evaluate(tracker, [sev1, sev2], T0)
    assert [a.number for a in alerts] == ["INC-000002"]  # only SEV-1 is snoozed
    assert tracker.snoozed_until(Severity.SEV1, T0 + timedelta(minutes=5)) == until
    assert evaluate(tracker, [sev1], T0 + timedelta(minutes=5)) == []
    # Expired: the SEV-1 nobody acknowledged sounds now.
    after = evaluate(tracker, [sev1], until)
    assert reasons(after) == [("INC-000001", AlertReason.NEW_INCIDENT)]
    assert tracker.snoozed_until(Severity.SEV1, until) is None


def test_unsnooze_ends_a_snooze_at_once() -> None:
    tracker = AlertTracker()
    tracker.snooze(Severity.SEV1, T0 + timedelta(hours=1))
    sev1 = incident(1, Severity.SEV1)
    assert evaluate(tracker, [sev1], T0) == []
    tracker.unsnooze(Severity.SEV1)
    assert len(evaluate(tracker, [sev1], T0 + timedelta(seconds=1))) == 1


def test_disabled_rules_raise_nothing_but_keep_track() -> None:
    tracker = AlertTracker(AlertRules(enabled=False))
    sev1 = incident(1, Severity.SEV1)
    assert evaluate(tracker, [sev1], T0) == []
    tracker.set_rules(AlertRules())
    # Already seen while disabled: not new any more, but its alarm stands and re-alarms.
    assert len(evaluate(tracker, [sev1], T0 + timedelta(minutes=1))) == 1


def test_alerts_come_most_severe_first() -> None:
    tracker = AlertTracker()
    incidents = [incident(2, Severity.SEV2), incident(4, Severity.SEV1)]
    assert [a.severity for a in evaluate(tracker, incidents, T0)] == [
        Severity.SEV1,
        Severity.SEV2,
    ]


def test_naive_instants_are_refused() -> None:
    with pytest.raises(InvalidValue):
        AlertTracker().evaluate([], {}, datetime(2026, 1, 1))


# ------------------------------------------------------------------ configuration


def test_rules_from_a_settings_table() -> None:
    rules = AlertRules.from_mapping(
        {
            "sound": False,
            "new_incident": ["SEV-1"],
            "sla_warning": ["sev-1", "2"],
            "muted": ["SEV-4"],
            "repeat_seconds": {"SEV-1": 30, "SEV-2": 0, "SEV-3": 900},
        }
    )
    assert rules.enabled
    assert not rules.sound
    assert rules.notify
    assert rules.new_incident == {Severity.SEV1}
    assert rules.sla_warning == {Severity.SEV1, Severity.SEV2}
    assert rules.sla_breach == set(Severity)  # the default
    assert rules.muted == {Severity.SEV4}
    assert rules.repeat_interval(Severity.SEV1) == timedelta(seconds=30)
    assert rules.repeat_interval(Severity.SEV2) is None  # 0: alarm once
    assert rules.repeat_interval(Severity.SEV3) == timedelta(minutes=15)
    assert AlertRules.from_mapping({}) == AlertRules()
    assert hash(AlertRules.from_mapping({})) == hash(AlertRules())


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        pytest.param({"sounds": True}, "alerts.sounds", ["muted", "repeat_seconds"], id="key"),
        pytest.param({"sound": "yes"}, "alerts.sound", ["true", "false"], id="flag"),
        pytest.param({"new_incident": ["SEV-5"]}, "alerts.new_incident", ["SEV-1"], id="sev"),
        pytest.param({"muted": "SEV-1"}, "alerts.muted", ["a list of severities"], id="list"),
        pytest.param(
            {"repeat_seconds": {"SEV-1": 5}}, "alerts.repeat_seconds.SEV-1", ["from 10"], id="fast"
        ),
        pytest.param(
            {"repeat_seconds": {"P1": 60}}, "alerts.repeat_seconds.P1", ["SEV-1"], id="sev-key"
        ),
        pytest.param({"repeat_seconds": 60}, "alerts.repeat_seconds", ["SEV-1 = 60"], id="table"),
    ],
)
def test_a_typo_names_the_key_and_the_allowed_values(
    raw: dict[str, object], field: str, words: list[str]
) -> None:
    with pytest.raises(InvalidValue) as caught:
        AlertRules.from_mapping(raw)
    assert caught.value.field == field
    for word in words:
        assert word in str(caught.value), str(caught.value)


# ------------------------------------------------------------------ settings.toml

ALERTS_TOML = """\
[alerts]
sound = false
new_incident = ["SEV-1"]
muted = ["SEV-3", "SEV-4"]

[alerts.repeat_seconds]
SEV-1 = 120
"""


def test_settings_toml_carries_the_alert_rules(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(ALERTS_TOML, encoding="utf-8")
    rules = load_settings(path).alerts
    assert not rules.sound
    assert rules.new_incident == {Severity.SEV1}
    assert rules.muted == {Severity.SEV3, Severity.SEV4}
    assert rules.repeat_interval(Severity.SEV1) == timedelta(minutes=2)
    assert rules.repeat_interval(Severity.SEV2) is None  # the table replaces the defaults
    assert load_settings(tmp_path / "missing.toml").alerts == AlertRules()


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        pytest.param("[alerts]\nsonud = false", "alerts.sonud", ["unknown key", "sound"], id="key"),
        pytest.param(
            '[alerts]\nmuted = ["SEV-9"]', "alerts.muted", ["'SEV-9'", "SEV-1, SEV-2"], id="sev"
        ),
        pytest.param(
            "[alerts.repeat_seconds]\nSEV-1 = 1",
            "alerts.repeat_seconds.SEV-1",
            ["1 is not allowed", "from 10"],
            id="repeat",
        ),
        pytest.param(
            "[alerts.repeat_seconds]\nP1 = 60",
            "alerts.repeat_seconds.P1",
            ["unknown key", "SEV-1"],
            id="repeat-key",
        ),
        pytest.param('alerts = "loud"', "alerts", ["not a table"], id="table"),
    ],
)
def test_an_alerts_typo_in_settings_names_file_key_and_allowed_values(
    tmp_path: Path, text: str, key: str, words: list[str]
) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(text + "\n", encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert caught.value.key == key
    assert str(path) in message
    for word in words:
        assert word in message, message


# ------------------------------------------------------------ escalations


def escalation(
    event_id: str, incident_id: str = "inc-1", *, at: datetime = T0, author: str = "escalation"
) -> TimelineEvent:
    return TimelineEvent(
        id=event_id,
        incident_id=incident_id,
        kind=TimelineKind.ESCALATION,
        at=at,
        author=author,
        body="Escalated to L2 Network: Jo Kim",
    )


def test_each_new_escalation_entry_alerts_once() -> None:
    known = {"inc-1": incident(1, Severity.SEV2)}
    watch = EscalationWatch(since=T0 - timedelta(minutes=1))
    (alert,) = watch.new_entries([escalation("e1")], known.get)
    assert alert.reason is AlertReason.ESCALATED
    assert alert.text == "Escalated: INC-000001 — Escalated to L2 Network: Jo Kim"
    assert alert.severity is Severity.SEV2
    assert alert.headline == "SEV-2 INC-000001 · Escalated"
    # The same entry again (the next sync update re-reads the timeline): nothing.
    assert watch.new_entries([escalation("e1")], known.get) == []
    (second,) = watch.new_entries([escalation("e1"), escalation("e2")], known.get)
    assert second.at == T0


def test_old_own_local_other_kinds_and_closed_incidents_never_alert() -> None:
    closed = incident(2, Severity.SEV1, state=State.CLOSED, resolved_at=T0, closed_at=T0)
    known = {"inc-1": incident(1, Severity.SEV1), "inc-2": closed}
    watch = EscalationWatch(since=T0, own_authors=["ana"])
    watch.prime([escalation("primed")])
    note = replace(escalation("n1"), kind=TimelineKind.WORK_NOTE)
    events = [
        escalation("primed"),
        escalation("old", at=T0 - timedelta(hours=1)),
        escalation("local-1234"),
        escalation("mine", author="ana"),
        escalation("closed", "inc-2"),
        escalation("unknown", "inc-9"),
        note,
    ]
    assert watch.new_entries(events, known.get) == []
