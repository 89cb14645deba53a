"""The escalation matrix: tier timing, the 75 % rule, managers, swarming, status updates.

Every evaluation takes the instant explicitly, so these tests drive a
controllable clock by passing ``at`` (and the SLA fractions) themselves.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.domain.errors import DomainError, InvalidValue
from console.domain.escalation import (
    NOTHING_ENGAGED,
    CommunicationRule,
    Engagement,
    EscalationPolicy,
    EscalationStep,
    EscalationTier,
    ManagementRule,
    StepKind,
    StepStatus,
    check_service,
    due_escalations,
    engage_teams,
    escalation_path,
    format_duration,
    next_status_update_due,
    render_path,
)
from console.domain.incident import Incident, acknowledge, transition
from console.domain.lifecycle import State
from console.domain.oncall import Override, Rotation, on_call_now
from console.domain.severity import Impact, Severity, Urgency
from console.domain.sla import SlaPolicy

T0 = datetime(2024, 5, 6, 2, 0, tzinfo=UTC)  # 2 a.m.
MIN = timedelta(minutes=1)
SEV1, SEV2, SEV3, SEV4 = Severity.SEV1, Severity.SEV2, Severity.SEV3, Severity.SEV4

ON_CALL = {"sd": "c-ana", "net": "c-ben", "dm": "c-carla"}
PEOPLE = {
    "c-ana": "Ana Ruiz +34 600 000 001",
    "c-ben": "Ben Okafor +34 600 000 002",
    "c-carla": "Carla Vidal +34 600 000 003",
    "c-vendor": "Acme support +1 800 555 0100",
    "c-cio": "Dana Ito +34 600 000 009",
}


def policy(**changes: object) -> EscalationPolicy:
    base = EscalationPolicy(
        service="payments",
        tiers=(
            EscalationTier(1, "L1 Service Desk", "Service Desk", "sd", timedelta(0)),
            EscalationTier(2, "L2 Network", "Network", "net", 10 * MIN),
            EscalationTier(3, "L3 Vendor", "Acme", None, 30 * MIN, contact_id="c-vendor"),
        ),
        management=(
            ManagementRule(
                "duty manager",
                frozenset({SEV1, SEV2}),
                after=30 * MIN,
                at_sla_fraction=0.8,
                rotation_id="dm",
            ),
            ManagementRule("c-cio", frozenset({SEV1}), after=timedelta(hours=2)),
        ),
        communication=(
            CommunicationRule("affected users", SEV1, every=15 * MIN),
            CommunicationRule("executives", SEV1, every=30 * MIN),
            CommunicationRule("affected users", SEV2, every=60 * MIN),
            CommunicationRule("affected users", SEV3, every=None),
        ),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def incident(severity: Severity = SEV1, **changes: object) -> Incident:
    base = Incident(
        id="i-1",
        number="INC-000001",
        title="Payments failing",
        service="payments",
        impact=Impact.HIGH,
        urgency=Urgency.HIGH,
        severity=severity,
        state=State.NEW,
        opened_at=T0,
        updated_at=T0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def due(
    inc: Incident,
    at: datetime,
    engagement: Engagement = NOTHING_ENGAGED,
    response: float | None = 0.0,
    sla: float | None = 0.0,
    pol: EscalationPolicy | None = None,
) -> list[tuple[str, str | None]]:
    steps = due_escalations(
        pol or policy(),
        inc,
        at,
        response_fraction=response,
        sla_fraction=sla,
        engagement=engagement,
        on_call=ON_CALL,
    )
    return [(s.label, s.who) for s in steps]


L1_ENGAGED = Engagement(frozenset({1}))


# ------------------------------------------------------------------ functional tiers by delay


def test_l1_is_due_as_soon_as_the_incident_opens() -> None:
    assert due(incident(), T0) == [("L1 Service Desk", "c-ana")]


def test_l2_is_due_when_its_delay_passes_unacknowledged() -> None:
    assert due(incident(), T0 + 10 * MIN - timedelta(seconds=1), L1_ENGAGED) == []
    assert due(incident(), T0 + 10 * MIN, L1_ENGAGED) == [("L2 Network", "c-ben")]


def test_every_tier_whose_delay_passed_is_due_if_the_timer_was_down() -> None:
    # The server's timer missed 40 minutes: catch up on every tier at once.
    assert due(incident(), T0 + 40 * MIN, L1_ENGAGED) == [
        ("L2 Network", "c-ben"),
        ("L3 Vendor", "c-vendor"),
        ("duty manager", "c-carla"),
    ]


def test_due_step_says_why() -> None:
    (step,) = due_escalations(
        policy(),
        incident(),
        T0 + 12 * MIN,
        response_fraction=0.0,
        sla_fraction=0.0,
        engagement=L1_ENGAGED,
    )
    assert step.reason == "unacknowledged after 10 min"
    assert step.due_at == T0 + 10 * MIN
    assert step.who is None  # no on-call lookup given


# ------------------------------------------------------------------ the 75 % response rule


def test_75_percent_of_the_response_target_brings_the_next_tier_forward() -> None:
    at = T0 + 4 * MIN
    assert due(incident(), at, L1_ENGAGED, response=0.74) == []
    assert due(incident(), at, L1_ENGAGED, response=0.75) == [("L2 Network", "c-ben")]
    (step,) = due_escalations(
        policy(), incident(), at, response_fraction=0.9, sla_fraction=0.0, engagement=L1_ENGAGED
    )
    assert "75 %" in step.reason


def test_75_percent_rule_does_not_cascade_through_every_tier() -> None:
    # Once L2 is engaged early, L3 still waits for its own delay.
    engaged = Engagement(frozenset({1, 2}))
    assert due(incident(), T0 + 5 * MIN, engaged, response=0.95) == []
    assert due(incident(), T0 + 30 * MIN, engaged, response=1.5, sla=0.0) == [
        ("L3 Vendor", "c-vendor"),
        ("duty manager", "c-carla"),
    ]


def test_75_percent_rule_skips_ahead_of_tiers_reached_by_time() -> None:
    # At 12 min L2 is due by delay; the response rule brings L3 forward as well.
    assert due(incident(), T0 + 12 * MIN, L1_ENGAGED, response=0.8) == [
        ("L2 Network", "c-ben"),
        ("L3 Vendor", "c-vendor"),
    ]


def test_with_the_real_sla_clock_l2_comes_at_75_percent_of_the_sev1_response() -> None:
    # SEV-1 must be answered in 15 min: 75 % is 11 min 15 s, before L2's own 20 min.
    sla = SlaPolicy.default()
    slow = policy(tiers=(tier(1, 0), tier(2, 20), tier(3, 40)))
    inc = incident()

    def due_at(at: datetime) -> list[tuple[str, str | None]]:
        response = sla.reading(inc, "response", at).fraction
        return due(inc, at, L1_ENGAGED, response, sla.current(inc, at).fraction, pol=slow)

    assert due_at(T0 + 11 * MIN) == []
    assert due_at(T0 + 11 * MIN + timedelta(seconds=15)) == [("L2", None)]


def test_policy_can_set_its_own_response_trigger() -> None:
    strict = policy(response_trigger=0.5)
    assert due(incident(), T0 + 4 * MIN, L1_ENGAGED, response=0.5, pol=strict) == [
        ("L2 Network", "c-ben")
    ]


def test_unknown_response_fraction_only_uses_delays() -> None:
    assert due(incident(), T0 + 4 * MIN, L1_ENGAGED, response=None, sla=None) == []


# ------------------------------------------------------------------ acknowledgement


def test_acknowledged_incident_does_not_escalate_further() -> None:
    acked = acknowledge(incident(), T0 + 2 * MIN)
    assert due(acked, T0 + 29 * MIN, L1_ENGAGED, response=0.9) == []
    path = escalation_path(
        policy(),
        acked,
        T0 + 29 * MIN,
        response_fraction=0.2,
        sla_fraction=0.3,
        on_call=ON_CALL,
        engagement=L1_ENGAGED,
    )
    l2 = path[1]
    assert (l2.status, l2.in_) == (StepStatus.PENDING, None)
    # Nobody is paged by the timer any more, but who is on call (and the number) stays shown.
    assert "L2 Network — Ben Okafor +34 600 000 002 (on request)" in render_path(path, PEOPLE.get)


def test_an_acknowledgement_later_than_the_clock_does_not_count_yet() -> None:
    # Replaying the timeline (e.g. for a review): at 10 min nobody had acknowledged.
    acked_late = acknowledge(incident(), T0 + 20 * MIN)
    assert due(acked_late, T0 + 10 * MIN, L1_ENGAGED) == [("L2 Network", "c-ben")]
    assert due(acked_late, T0 + 20 * MIN, L1_ENGAGED) == []


def test_management_is_still_told_about_an_acknowledged_sev1() -> None:
    acked = transition(incident(), State.IN_PROGRESS, T0 + MIN)
    assert acked.acknowledged
    assert due(acked, T0 + 30 * MIN, L1_ENGAGED) == [("duty manager", "c-carla")]


def test_resolved_incident_has_nothing_due() -> None:
    resolved = transition(incident(), State.RESOLVED, T0 + 5 * MIN)
    assert due(resolved, T0 + 3 * 60 * MIN, response=1.0, sla=1.0) == []


# ------------------------------------------------------------------ management rules


def test_management_rules_follow_severity() -> None:
    at = T0 + 31 * MIN
    engaged = Engagement(frozenset({1, 2, 3}))
    assert due(incident(SEV1), at, engaged) == [("duty manager", "c-carla")]
    assert due(incident(SEV2), at, engaged) == [("duty manager", "c-carla")]
    assert due(incident(SEV3), at, engaged) == []
    sev1_later = due(incident(SEV1), T0 + 2 * 60 * MIN, engaged)
    assert ("c-cio", "c-cio") in sev1_later
    assert ("c-cio", "c-cio") not in due(incident(SEV2), T0 + 2 * 60 * MIN, engaged)


def test_sla_share_tells_the_manager_before_the_delay() -> None:
    engaged = Engagement(frozenset({1, 2}))
    assert due(incident(SEV2), T0 + 20 * MIN, engaged, sla=0.79) == []
    steps = due_escalations(
        policy(),
        incident(SEV2),
        T0 + 20 * MIN,
        response_fraction=0.0,
        sla_fraction=0.8,
        engagement=engaged,
    )
    assert [(s.label, s.kind) for s in steps] == [("duty manager", StepKind.HIERARCHICAL)]
    assert steps[0].reason == "SEV-2 at 80 % of its SLA"


def test_a_manager_told_once_is_not_due_again() -> None:
    at = T0 + 31 * MIN
    first = due_escalations(
        policy(), incident(), at, response_fraction=0.0, sla_fraction=0.0, engagement=L1_ENGAGED
    )
    done = L1_ENGAGED.record(first)
    assert done.tiers == frozenset({1, 2, 3})
    assert done.informed == frozenset({"duty manager@SEV-1,SEV-2"})
    assert due(incident(), at, done) == []


def test_sla_only_rule_has_no_countdown() -> None:
    sla_only = policy(
        management=(ManagementRule("service owner", frozenset({SEV1}), at_sla_fraction=0.5),)
    )
    path = escalation_path(
        sla_only,
        incident(),
        T0,
        response_fraction=0.0,
        sla_fraction=0.1,
        on_call=ON_CALL,
    )
    assert (path[-1].status, path[-1].in_) == (StepStatus.PENDING, None)
    assert render_path(path, PEOPLE.get).endswith("service owner at 50 % of SLA")


# ------------------------------------------------------------------ the path and its text


def test_path_reads_like_the_issue_example() -> None:
    path = escalation_path(
        policy(),
        incident(SEV2),
        T0 + 4 * MIN,
        response_fraction=0.3,
        sla_fraction=0.1,
        on_call=ON_CALL,
        engagement=L1_ENGAGED,
    )
    assert [s.status for s in path] == [
        StepStatus.ENGAGED,
        StepStatus.PENDING,
        StepStatus.PENDING,
        StepStatus.PENDING,
    ]
    assert path[1].in_ == 6 * MIN
    assert render_path(path, PEOPLE.get) == (
        "L1 Service Desk — Ana Ruiz +34 600 000 001 (engaged)"
        " → L2 Network — Ben Okafor +34 600 000 002 (in 6 min)"
        " → L3 Vendor — Acme support +1 800 555 0100 (in 26 min)"
        " → duty manager — Carla Vidal +34 600 000 003 at 30 min or 80 % of SLA"
    )


def test_path_shows_due_and_informed_steps_and_contacts_by_name() -> None:
    engaged = Engagement(frozenset({1, 2, 3}), frozenset({"duty manager@SEV-1,SEV-2"}))
    path = escalation_path(
        policy(),
        incident(),
        T0 + 2 * 60 * MIN,
        response_fraction=1.0,
        sla_fraction=0.5,
        on_call=ON_CALL,
        engagement=engaged,
    )
    assert render_path(path, PEOPLE.get) == (
        "L1 Service Desk — Ana Ruiz +34 600 000 001 (engaged)"
        " → L2 Network — Ben Okafor +34 600 000 002 (engaged)"
        " → L3 Vendor — Acme support +1 800 555 0100 (engaged)"
        " → duty manager — Carla Vidal +34 600 000 003 (informed)"
        " → Dana Ito +34 600 000 009 (due now)"
    )


def test_nobody_on_call_is_said_plainly() -> None:
    path = escalation_path(
        policy(),
        incident(),
        T0,
        response_fraction=0.0,
        sla_fraction=0.0,
        on_call=lambda rotation_id: None,
    )
    assert path[0].who is None
    assert render_path(path[:1], PEOPLE.get) == "L1 Service Desk — nobody on call (due now)"


def test_on_call_comes_from_the_rotations() -> None:
    rota = Rotation(
        "net", "Network", "Europe/Madrid", 0, time(9), ("c-ben", "c-eve"), date(2024, 4, 29)
    )
    cover = Override("c-zoe", T0 - MIN, T0 + 60 * MIN)
    on_call = on_call_now([rota], {"net": [cover]}, T0 + 10 * MIN)
    (l2,) = due_escalations(
        policy(),
        incident(),
        T0 + 10 * MIN,
        response_fraction=0.0,
        sla_fraction=0.0,
        engagement=L1_ENGAGED,
        on_call=on_call,
    )
    assert l2.who == "c-zoe"


# ------------------------------------------------------------------ swarming


def test_swarming_engages_several_teams_at_once_and_they_are_never_due() -> None:
    swarm = engage_teams(policy(), NOTHING_ENGAGED, [1, 2, 3])
    assert swarm.tiers == frozenset({1, 2, 3})
    assert [
        s for s in due(incident(), T0 + 45 * MIN, swarm, response=1.0) if s[0].startswith("L")
    ] == []
    path = escalation_path(
        policy(),
        incident(),
        T0 + MIN,
        response_fraction=0.1,
        sla_fraction=0.1,
        on_call=ON_CALL,
        engagement=swarm,
    )
    assert [s.status for s in path if s.kind is StepKind.FUNCTIONAL] == [StepStatus.ENGAGED] * 3


def test_swarming_past_a_tier_leaves_the_75_percent_rule_nothing_to_skip_to() -> None:
    # L1 and L3 swarmed; at 12 min L2 is due by delay, and the tier the response
    # rule would bring forward (L3) is already engaged.
    swarm = engage_teams(policy(), NOTHING_ENGAGED, [1, 3])
    assert due(incident(), T0 + 12 * MIN, swarm, response=0.9) == [("L2 Network", "c-ben")]


def test_swarming_an_unknown_tier_is_refused() -> None:
    with pytest.raises(InvalidValue) as err:
        engage_teams(policy(), NOTHING_ENGAGED, [2, 7])
    assert err.value.field == "level"
    assert err.value.allowed == ("1", "2", "3")
    with pytest.raises(InvalidValue):
        engage_teams(policy(), NOTHING_ENGAGED, [])


# ------------------------------------------------------------------ communication cadence


def test_sev1_updates_every_15_minutes() -> None:
    assert next_status_update_due(policy(), incident(), None) == T0 + 15 * MIN
    assert next_status_update_due(policy(), incident(), T0 + 20 * MIN) == T0 + 35 * MIN


def test_sev2_updates_hourly_and_sev3_only_at_resolution() -> None:
    assert next_status_update_due(policy(), incident(SEV2), T0 + 5 * MIN) == T0 + 65 * MIN
    assert next_status_update_due(policy(), incident(SEV3), None) is None


def test_resolution_update_is_due_at_resolution_until_sent() -> None:
    resolved = transition(incident(SEV3), State.RESOLVED, T0 + 3 * 60 * MIN)
    assert next_status_update_due(policy(), resolved, None) == T0 + 3 * 60 * MIN
    assert next_status_update_due(policy(), resolved, T0 + 3 * 60 * MIN + MIN) is None
    closed = transition(resolved, State.CLOSED, T0 + 5 * 60 * MIN)
    assert next_status_update_due(policy(), closed, T0) == T0 + 3 * 60 * MIN


def test_no_updates_for_cancelled_or_uncovered_severities() -> None:
    cancelled = transition(incident(), State.CANCELLED, T0 + MIN)
    assert next_status_update_due(policy(), cancelled, None) is None
    assert next_status_update_due(policy(), incident(SEV4), None) is None


def test_cadence_follows_the_current_severity() -> None:
    raised = replace(incident(SEV3), severity=SEV1)
    assert next_status_update_due(policy(), raised, T0 + 40 * MIN) == T0 + 55 * MIN


# ------------------------------------------------------------------ validation


def tier(level: int, after: int) -> EscalationTier:
    return EscalationTier(level, f"L{level}", "Team", f"r{level}", after * MIN)


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: policy(tiers=()), "tiers"),
        (lambda: policy(tiers=(tier(1, 0), tier(1, 5))), "tiers"),
        (lambda: policy(tiers=(tier(1, 10), tier(2, 5))), "engage_after"),
        (lambda: policy(service=" "), "service"),
        (lambda: policy(response_trigger=1.5), "response_trigger"),
        (lambda: policy(response_trigger=0), "response_trigger"),
        (
            lambda: policy(
                management=(
                    ManagementRule("dm", frozenset({SEV1}), after=MIN, id="x"),
                    ManagementRule("cio", frozenset({SEV1}), after=MIN, id="x"),
                )
            ),
            "management",
        ),
        (
            lambda: policy(
                communication=(
                    CommunicationRule("users", SEV1, 15 * MIN),
                    CommunicationRule("users", SEV1, 30 * MIN),
                )
            ),
            "communication",
        ),
        (lambda: tier(0, 0), "level"),
        (lambda: tier(1, -1), "engage_after"),
        (lambda: EscalationTier(1, "", "T", "r", MIN), "name"),
        (lambda: EscalationTier(1, "L1", "T", "r", MIN, contact_id="c"), "contact_id"),
        (lambda: ManagementRule("dm", frozenset({SEV1})), "after"),
        (lambda: ManagementRule("dm", frozenset(), after=MIN), "severities"),
        (lambda: ManagementRule("dm", frozenset({SEV1}), at_sla_fraction=0.0), "at_sla_fraction"),
        (lambda: ManagementRule("dm", frozenset({SEV1}), after=-MIN), "after"),
        (lambda: ManagementRule("", frozenset({SEV1}), after=MIN), "who"),
        (lambda: ManagementRule("dm", frozenset({"SEV-9"}), after=MIN), "severity"),  # type: ignore[arg-type]
        (lambda: CommunicationRule("users", SEV1, timedelta(0)), "every"),
        (lambda: CommunicationRule("", SEV1, MIN), "stakeholder_group"),
    ],
)
def test_validation_names_the_field(build: object, field: str) -> None:
    with pytest.raises(InvalidValue) as err:
        build()  # type: ignore[operator]
    assert err.value.field == field


def test_tiers_are_sorted_and_equal_delays_are_a_swarm_by_policy() -> None:
    pol = policy(tiers=(tier(3, 20), tier(1, 0), tier(2, 20)))
    assert [t.level for t in pol.tiers] == [1, 2, 3]
    assert due(incident(), T0 + 20 * MIN, L1_ENGAGED, pol=pol, sla=None) == [
        ("L2", None),
        ("L3", None),
    ]


def test_rule_config_values_are_normalised() -> None:
    rule = ManagementRule("dm", ["SEV-1", 2], after=MIN)  # type: ignore[arg-type]
    assert rule.severities == frozenset({SEV1, SEV2})
    assert rule.id == "dm@SEV-1,SEV-2"
    assert CommunicationRule("users", "sev3").severity is SEV3  # type: ignore[arg-type]


def test_naive_clock_is_refused() -> None:
    with pytest.raises(InvalidValue) as err:
        due(incident(), datetime(2024, 5, 6, 2, 10))
    assert err.value.field == "at"


def test_policy_for_another_service_is_refused() -> None:
    with pytest.raises(DomainError, match="payments"):
        check_service(policy(service="email"), incident())
    check_service(policy(), incident())


@pytest.mark.parametrize(
    ("span", "text"),
    [
        (timedelta(seconds=45), "45 s"),
        (timedelta(minutes=5, seconds=1), "6 min"),
        (timedelta(minutes=6), "6 min"),
        (timedelta(minutes=90), "1 h 30 min"),
        (timedelta(hours=2), "2 h"),
        (timedelta(days=2, hours=3), "2 d 3 h"),
        (timedelta(days=1), "1 d"),
        (-timedelta(minutes=3), "-3 min"),
    ],
)
def test_format_duration(span: timedelta, text: str) -> None:
    assert format_duration(span) == text


# ------------------------------------------------------------------ properties

delays = st.lists(st.integers(0, 240), min_size=1, max_size=5).map(sorted)


@settings(max_examples=200, deadline=None)
@given(
    delays,
    st.integers(-10, 300),
    st.sets(st.integers(1, 5)),
    st.one_of(st.none(), st.floats(0, 2)),
    st.one_of(st.none(), st.floats(0, 2)),
    st.sampled_from(list(Severity)),
    st.booleans(),
)
def test_due_list_matches_the_path_and_the_rules(
    minutes: list[int],
    elapsed: int,
    engaged_levels: set[int],
    response: float | None,
    sla: float | None,
    severity: Severity,
    acknowledged: bool,
) -> None:
    pol = policy(tiers=tuple(tier(i + 1, m) for i, m in enumerate(minutes)))
    inc = incident(severity)
    if acknowledged:
        inc = acknowledge(inc, T0)
    at = T0 + elapsed * MIN
    engagement = Engagement(frozenset(lvl for lvl in engaged_levels if lvl <= len(minutes)))
    kwargs = {"response_fraction": response, "sla_fraction": sla, "engagement": engagement}
    path = escalation_path(pol, inc, at, on_call=ON_CALL, **kwargs)  # type: ignore[arg-type]
    now = due_escalations(pol, inc, at, on_call=ON_CALL, **kwargs)  # type: ignore[arg-type]
    assert now == [s for s in path if s.status is StepStatus.DUE]

    due_levels = {s.level for s in now if s.kind is StepKind.FUNCTIONAL}
    by_time = {t.level for t in pol.tiers if t.engage_after <= at - T0}
    assert not due_levels & engagement.tiers
    if acknowledged and at >= T0:  # an acknowledgement after ``at`` does not count yet
        assert due_levels == set()
    else:
        assert by_time - engagement.tiers <= due_levels
        # The response rule adds at most one tier, and only past the trigger.
        extra = due_levels - by_time
        assert len(extra) <= 1
        if extra:
            assert response is not None
            assert response >= pol.response_trigger
    # Done means done: recording what was due leaves nothing due.
    after = due_escalations(
        pol,
        inc,
        at,
        on_call=ON_CALL,
        **{**kwargs, "engagement": engagement.record(now)},  # type: ignore[arg-type]
    )
    assert after == []


@settings(max_examples=100, deadline=None)
@given(delays, st.integers(0, 300), st.integers(0, 300))
def test_waiting_longer_never_makes_a_tier_less_due(minutes: list[int], a: int, b: int) -> None:
    pol = policy(tiers=tuple(tier(i + 1, m) for i, m in enumerate(minutes)))
    early, late = sorted((a, b))

    def levels(elapsed: int) -> set[int | None]:
        steps = due_escalations(
            pol, incident(), T0 + elapsed * MIN, response_fraction=None, sla_fraction=None
        )
        return {s.level for s in steps}

    assert levels(early) <= levels(late)


def test_step_is_a_plain_value() -> None:
    step = EscalationStep(StepKind.FUNCTIONAL, "L1", None, StepStatus.PENDING, level=1)
    assert step.in_ is None


def test_the_next_tier_shows_when_the_response_trigger_will_bring_it_forward() -> None:
    # L2's delay is 10 min, but the response clock reaches 75 % in 3 min: the
    # timer engages L2 then, and the path says so. L3 keeps its own delay.
    path = escalation_path(
        policy(),
        incident(SEV1),
        T0 + 4 * MIN,
        response_fraction=0.5,
        sla_fraction=0.1,
        on_call=ON_CALL,
        engagement=L1_ENGAGED,
        trigger_in=3 * MIN,
    )
    assert path[1].in_ == 3 * MIN
    assert path[2].in_ == 26 * MIN
    # A trigger later than the delay changes nothing.
    later = escalation_path(
        policy(),
        incident(SEV1),
        T0 + 4 * MIN,
        response_fraction=0.1,
        sla_fraction=0.1,
        on_call=ON_CALL,
        engagement=L1_ENGAGED,
        trigger_in=20 * MIN,
    )
    assert later[1].in_ == 6 * MIN
