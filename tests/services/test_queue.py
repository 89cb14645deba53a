"""The queue's Qt-free core: SLA plans agree with the policy, filters, order, saved views, ticks."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.domain.calendar import TWENTY_FOUR_SEVEN, BusinessCalendar, from_micros, to_micros
from console.domain.incident import HoldPeriod, Incident
from console.domain.lifecycle import HoldReason, State
from console.domain.severity import Severity
from console.domain.sla import SlaPolicy, SlaStatus
from console.models.incident_table import sort_key
from console.services.queue import (
    BUILT_IN_VIEWS,
    OPEN_QUEUE,
    DisplayNames,
    IncidentQueue,
    QueueFilter,
    SavedViews,
    SlaPlanner,
)
from tests.helpers.factories import NOW
from tests.helpers.factories import desk_incident as make_incident

BUSINESS = SlaPolicy.default(
    BusinessCalendar(time_zone="Europe/Madrid", holidays=frozenset({NOW.date()}))
)
ROUND_THE_CLOCK = SlaPolicy.default(TWENTY_FOUR_SEVEN)


def incidents_for_plans() -> st.SearchStrategy[Incident]:
    """Open incidents of every kind the planner meets: new, acknowledged, held, reopened."""

    @st.composite
    def build(draw: st.DrawFn) -> Incident:
        severity = draw(st.sampled_from(list(Severity)))
        age = draw(st.integers(min_value=0, max_value=60 * 24 * 12))
        acked = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=age)))
        state = draw(st.sampled_from([State.NEW, State.TRIAGED, State.IN_PROGRESS, State.REOPENED]))
        holds: tuple[HoldPeriod, ...] = ()
        hold_reason = None
        if draw(st.booleans()) and age > 2:
            start = NOW - timedelta(minutes=draw(st.integers(min_value=1, max_value=age - 1)))
            still = draw(st.booleans())
            if still:
                state, hold_reason = State.ON_HOLD, HoldReason.AWAITING_VENDOR
                holds = (HoldPeriod(start),)
            else:
                end = start + (NOW - start) / 2
                holds = (HoldPeriod(start, end),)
        if state is State.NEW:
            acked = None
        return make_incident(
            1,
            severity,
            age_min=age,
            state=state,
            acknowledged_at=None if acked is None else NOW - timedelta(minutes=acked),
            holds=holds,
            hold_reason=hold_reason,
        )

    return build()


@pytest.mark.parametrize("policy_name", ["round the clock", "business hours"])
@settings(max_examples=150, deadline=None)
@given(incident=incidents_for_plans(), later=st.integers(min_value=0, max_value=3 * 86400))
def test_the_plan_agrees_with_the_policy(policy_name: str, incident: Incident, later: int) -> None:
    """Due, warning and "at risk" from the plan are what the policy reads, now and later."""
    policy = BUSINESS if policy_name == "business hours" else ROUND_THE_CLOCK
    plan = SlaPlanner(policy).plan(incident, NOW, to_micros(NOW))
    assert plan is not None
    reading = policy.current(incident, NOW)
    assert plan.due_at(to_micros(NOW)) == to_micros(reading.due)
    assert plan.kind == reading.kind
    at = NOW + timedelta(seconds=later)
    reading_later = policy.current(incident, at)
    at_risk = reading_later.status in (SlaStatus.WARNING, SlaStatus.BREACHED)
    assert plan.is_at_risk(to_micros(at)) == at_risk, (reading_later, plan)
    assert abs(plan.due_at(to_micros(at)) - to_micros(reading_later.due)) <= 1
    if plan.warn_us is not None and plan.warn_us > to_micros(NOW):
        # A warning still to come is exact: a microsecond before it the clock reads ok.
        before = policy.current(incident, from_micros(plan.warn_us - 1))
        at_warning = policy.current(incident, from_micros(plan.warn_us))
        assert before.status is SlaStatus.OK
        assert at_warning.status in (SlaStatus.WARNING, SlaStatus.BREACHED)


def test_finished_work_has_no_plan(policy: SlaPolicy) -> None:
    resolved = make_incident(1, state=State.RESOLVED, resolved_at=NOW)
    assert SlaPlanner(policy).plan(resolved, NOW, to_micros(NOW)) is None


def mixed() -> list[Incident]:
    return [
        make_incident(1, Severity.SEV3, age_min=30),
        make_incident(2, Severity.SEV1, age_min=200),
        make_incident(3, Severity.SEV1, age_min=20, assignee="avogel"),
        make_incident(4, Severity.SEV4, age_min=60, service="checkout"),
        make_incident(5, Severity.SEV2, age_min=600, assignment_group="network"),
        make_incident(6, Severity.SEV2, age_min=5, state=State.NEW, acknowledged_at=None),
        make_incident(
            7,
            Severity.SEV1,
            age_min=300,
            state=State.RESOLVED,
            resolved_at=NOW - timedelta(hours=1),
        ),
        make_incident(
            8,
            Severity.SEV3,
            age_min=90,
            state=State.ON_HOLD,
            hold_reason=HoldReason.AWAITING_VENDOR,
            holds=(HoldPeriod(NOW - timedelta(minutes=30)),),
            title="Vendor replacing the PSU",
        ),
    ]


def ids(rows: list) -> list[str]:  # type: ignore[type-arg]
    return [row.id for row in rows]


def test_the_order_is_the_triage_order(policy: SlaPolicy) -> None:
    queue = IncidentQueue(policy, NOW)
    queue.load(mixed())
    expected = sorted(mixed(), key=lambda i: sort_key(i, policy.current(i, NOW)))
    assert ids(queue.ordered()) == [i.id for i in expected]


@settings(max_examples=40, deadline=None)
@given(ages=st.lists(st.integers(min_value=0, max_value=5000), min_size=1, max_size=30))
def test_live_updates_keep_the_same_order_as_a_fresh_load(ages: list[int]) -> None:
    policy = SlaPolicy.default()
    queue = IncidentQueue(policy, NOW)
    queue.load([])
    incidents = [
        make_incident(n, list(Severity)[n % 4], age_min=age) for n, age in enumerate(ages, 1)
    ]
    queue.upsert(incidents)
    queue.upsert([replace(i, severity=Severity.SEV1) for i in incidents[::3]])
    queue.upsert([replace(i, state=State.TRIAGED) for i in incidents[::5]])
    queue.upsert([replace(i, state=State.RESOLVED, resolved_at=NOW) for i in incidents[2::7]])
    queue.remove([i.id for i in incidents[1::4]])
    fresh = IncidentQueue(policy, NOW)
    fresh.load(queue.get(row.id) for row in queue.ordered())  # type: ignore[misc]
    assert ids(queue.ordered()) == ids(fresh.ordered())
    # The per-state lists the board columns start from stay in step too.
    for states in ({State.IN_PROGRESS}, {State.TRIAGED, State.IN_PROGRESS}, {State.RESOLVED}):
        wanted = QueueFilter(states=frozenset(states))
        assert ids(queue.matching(wanted)) == ids(fresh.matching(wanted))


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        (QueueFilter(), ["inc-2", "inc-3", "inc-5", "inc-6", "inc-8", "inc-1", "inc-4", "inc-7"]),
        (OPEN_QUEUE, ["inc-2", "inc-3", "inc-5", "inc-6", "inc-8", "inc-1", "inc-4"]),
        (QueueFilter(text="INC-000004"), ["inc-4"]),
        (QueueFilter(text="vendor psu"), ["inc-8"]),  # every word, any order
        (QueueFilter(text="PSU vendor"), ["inc-8"]),
        (QueueFilter(text="Check"), ["inc-4"]),  # the service's display name
        (QueueFilter(text="anja"), ["inc-3"]),  # the assignee's display name
        (QueueFilter(severities=frozenset({Severity.SEV2})), ["inc-5", "inc-6"]),
        (QueueFilter(states=frozenset({State.NEW, State.ON_HOLD})), ["inc-6", "inc-8"]),
        (QueueFilter(services=frozenset({"checkout"})), ["inc-4"]),
        (QueueFilter(groups=frozenset({"network"})), ["inc-5"]),
        (QueueFilter(mine=True), ["inc-3"]),
        (QueueFilter(at_risk=True), ["inc-2", "inc-5"]),
    ],
)
def test_filters(policy: SlaPolicy, wanted: QueueFilter, expected: list[str]) -> None:
    names = DisplayNames(services={"checkout": "Checkout"}, people={"avogel": "Anja Vogel"})
    queue = IncidentQueue(policy, NOW, names=names, operator="avogel")
    queue.load(mixed())
    assert ids(queue.matching(wanted)) == expected
    predicate = queue.predicate(wanted)
    assert [row.id for row in queue.ordered() if predicate(row)] == expected


def test_mine_matches_the_operator_by_id_or_name(policy: SlaPolicy) -> None:
    names = DisplayNames(people={"avogel": "Anja Vogel"})
    queue = IncidentQueue(policy, NOW, names=names, operator="anja vogel")
    queue.load(mixed())
    assert ids(queue.matching(QueueFilter(mine=True))) == ["inc-3"]
    queue.set_operator(None)
    assert queue.matching(QueueFilter(mine=True)) == []


def test_typing_on_narrows_the_last_result() -> None:
    assert QueueFilter(text="pay").narrows(QueueFilter(text="pa"))
    assert QueueFilter(text="pay api").narrows(QueueFilter(text="pay"))
    assert not QueueFilter(text="pa").narrows(QueueFilter(text="pay"))
    assert not QueueFilter(text="pay", mine=True).narrows(QueueFilter(text="pa"))


def test_at_risk_flips_on_the_tick_without_a_record_change(policy: SlaPolicy) -> None:
    queue = IncidentQueue(policy, NOW)
    queue.load(mixed())
    heard: list[list[str]] = []

    class Listener:
        def queue_reset(self) -> None: ...
        def row_changed(self, old: object, new: object) -> None: ...
        def rows_rekeyed(self, moved: object) -> None: ...
        def names_changed(self) -> None: ...
        def timelines_changed_for(self, incident_ids: object) -> None: ...
        def clocks_moved(self, newly_at_risk: list) -> None:  # type: ignore[type-arg]
            heard.append(ids(newly_at_risk))

    queue.subscribe(Listener())
    # inc-3 (SEV-1, 4 h target, 20 min old) reads warning from 3 h in.
    queue.tick(NOW + timedelta(hours=2, minutes=39))
    assert "inc-3" not in heard[-1]
    queue.tick(NOW + timedelta(hours=2, minutes=41))
    assert "inc-3" in heard[-1]
    assert "inc-3" in ids(queue.matching(QueueFilter(at_risk=True)))


def test_a_paused_clock_slides_later_as_time_passes(policy: SlaPolicy) -> None:
    queue = IncidentQueue(policy, NOW)
    queue.load(mixed())
    order = ids(queue.matching(OPEN_QUEUE))
    assert order.index("inc-8") < order.index("inc-1")  # 47 h paused vs 47 h 30 running
    queue.tick(NOW + timedelta(hours=1))
    order = ids(queue.matching(OPEN_QUEUE))
    assert order.index("inc-8") > order.index("inc-1")  # inc-1 now has 46 h 30 left


def test_saved_views_round_trip_and_protect_the_built_in_ones() -> None:
    stored: dict[str, str] = {}
    views = SavedViews(lambda: stored.get("v"), lambda text: stored.__setitem__("v", text))
    mine = QueueFilter(
        text="vpn", severities=frozenset({Severity.SEV1}), states=frozenset({State.NEW}), mine=True
    )
    views.save("  VPN mine ", mine)
    assert json.loads(stored["v"]) == {
        "VPN mine": {"text": "vpn", "severities": ["SEV-1"], "states": ["new"], "mine": True}
    }
    again = SavedViews(lambda: stored.get("v"))
    assert again["VPN mine"] == mine
    assert again.names() == [*BUILT_IN_VIEWS, "VPN mine"]
    with pytest.raises(ValueError, match="built-in"):
        again.save("Mine", mine)
    again.delete("VPN mine")
    assert "VPN mine" not in again.names()


def test_unreadable_saved_views_are_ignored() -> None:
    assert SavedViews(lambda: "{not json").names() == list(BUILT_IN_VIEWS)
    odd = json.dumps({"x": {"severities": ["SEV-9", "SEV-2"], "states": ["nope"]}, "y": 3})
    views = SavedViews(lambda: odd)
    assert views["x"] == QueueFilter(severities=frozenset({Severity.SEV2}))


def test_a_failing_store_is_a_clear_error() -> None:
    def fail(_text: str) -> None:
        raise OSError("disk full")

    with pytest.raises(ValueError, match="could not be saved: disk full"):
        SavedViews(store=fail).save("x", OPEN_QUEUE)


def test_sort_keys_hold_every_date_exactly() -> None:
    from console.services.queue import make_key

    early = make_incident(1, Severity.SEV4, opened_at=datetime(1, 1, 2, tzinfo=UTC))
    late = make_incident(2, Severity.SEV1, updated_at=datetime(9999, 12, 30, tzinfo=UTC))
    for incident, due in ((early, to_micros(early.opened_at)), (late, None)):
        head, _ = make_key(incident, due)
        assert head < 2**53  # a float holds it exactly
        assert head >= 0
