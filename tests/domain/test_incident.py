"""The incident record: validation, numbers, acknowledgement and the hold periods."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.domain.errors import DomainError, InvalidValue
from console.domain.incident import (
    HoldPeriod,
    Source,
    TimelineEvent,
    TimelineKind,
    acknowledge,
    format_number,
    parse_number,
    transition,
)
from console.domain.lifecycle import HoldReason, IllegalTransition, State
from tests.helpers.factories import T0, make_incident

MINUTE = timedelta(minutes=1)


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize("title", ["", "   ", "\n\t"])
def test_empty_title_is_refused(title: str) -> None:
    with pytest.raises(InvalidValue) as info:
        make_incident(title=title)
    assert info.value.field == "title"


def test_empty_service_is_refused() -> None:
    with pytest.raises(InvalidValue) as info:
        make_incident(service=" ")
    assert info.value.field == "service"


@pytest.mark.parametrize(
    "name",
    ["opened_at", "updated_at", "acknowledged_at", "resolved_at", "closed_at", "response_due"],
)
def test_naive_timestamps_are_refused(name: str) -> None:
    with pytest.raises(InvalidValue) as info:
        make_incident(**{name: datetime(2024, 6, 3, 10, 0)})
    assert info.value.field == name
    assert "time zone" in str(info.value)


def test_a_date_is_not_a_timestamp() -> None:
    with pytest.raises(InvalidValue) as info:
        make_incident(opened_at=date(2024, 6, 3))
    assert info.value.field == "opened_at"


def test_any_zone_is_accepted() -> None:
    madrid = datetime(2024, 6, 3, 12, 0, tzinfo=ZoneInfo("Europe/Madrid"))
    offset = datetime(2024, 6, 3, 5, 0, tzinfo=timezone(timedelta(hours=-5)))
    incident = make_incident(opened_at=madrid, updated_at=offset)
    assert incident.opened_at == T0 == incident.updated_at


def test_version_starts_at_one() -> None:
    with pytest.raises(InvalidValue, match="version"):
        make_incident(version=0)


def test_hold_period_must_be_aware_and_forwards() -> None:
    with pytest.raises(InvalidValue, match="hold started"):
        HoldPeriod(datetime(2024, 6, 3, 10, 0))
    with pytest.raises(InvalidValue, match="hold ended"):
        HoldPeriod(T0, datetime(2024, 6, 3, 11, 0))
    with pytest.raises(InvalidValue, match="hold ended"):
        HoldPeriod(T0, T0 - MINUTE)
    assert HoldPeriod(T0, T0).ended == T0


# ------------------------------------------------------------------ numbers


@given(st.integers(min_value=1, max_value=10**9))
def test_number_round_trips(n: int) -> None:
    text = format_number(n)
    assert text.startswith("INC-")
    assert parse_number(text) == n
    assert parse_number(text.lower()) == n


def test_number_is_zero_padded_to_six_digits() -> None:
    assert format_number(42) == "INC-000042"
    assert format_number(1234567) == "INC-1234567"


@pytest.mark.parametrize("bad", [0, -1, True, 1.5])
def test_number_must_be_positive_whole(bad: object) -> None:
    with pytest.raises(InvalidValue, match="positive whole number"):
        format_number(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad", ["INC-42", "INC-000000", "42", "INC000042", "INC-00004a", "INC-٠٠٠٠٤٢", "CHG-000042"]
)
def test_bad_numbers_show_the_expected_form(bad: str) -> None:
    with pytest.raises(InvalidValue) as info:
        parse_number(bad)
    assert "INC-000042" in str(info.value)


def test_source_parsing_names_allowed_sources() -> None:
    assert Source.of("Monitoring") is Source.MONITORING
    with pytest.raises(InvalidValue, match="phone, email, chat, monitoring, portal"):
        Source.of("pigeon")


# ------------------------------------------------------------------ acknowledgement


@pytest.mark.parametrize("to", [State.TRIAGED, State.IN_PROGRESS, State.RESOLVED])
def test_leaving_new_records_the_acknowledgement(to: State) -> None:
    incident = make_incident()
    at = T0 + 7 * MINUTE
    moved = transition(incident, to, at)
    assert moved.acknowledged_at == at
    assert moved.acknowledged
    assert moved.updated_at == at
    assert moved.state is to


def test_cancelling_a_new_incident_is_not_an_acknowledgement() -> None:
    moved = transition(make_incident(), State.CANCELLED, T0 + MINUTE)
    assert moved.acknowledged_at is None


def test_an_earlier_acknowledgement_is_kept_on_leaving_new() -> None:
    acked = acknowledge(make_incident(), T0 + 2 * MINUTE)
    assert acked.state is State.NEW
    moved = transition(acked, State.TRIAGED, T0 + 9 * MINUTE)
    assert moved.acknowledged_at == T0 + 2 * MINUTE


def test_acknowledge_records_only_the_first_time() -> None:
    first = acknowledge(make_incident(), T0 + MINUTE)
    again = acknowledge(first, T0 + 5 * MINUTE)
    assert again.acknowledged_at == T0 + MINUTE
    assert again is first


def test_acknowledge_refuses_a_resolved_unacknowledged_incident() -> None:
    done = make_incident(state=State.CANCELLED)
    with pytest.raises(DomainError, match="only an open incident"):
        acknowledge(done, T0 + MINUTE)


def test_acknowledge_refuses_naive_time() -> None:
    with pytest.raises(InvalidValue, match="acknowledged_at"):
        acknowledge(make_incident(), datetime(2024, 6, 3, 10, 5))


# ------------------------------------------------------------------ transitions


def test_illegal_transition_is_refused_and_changes_nothing() -> None:
    incident = make_incident()
    with pytest.raises(IllegalTransition, match="from new to closed"):
        transition(incident, State.CLOSED, T0 + MINUTE)
    assert incident.state is State.NEW


def test_transition_refuses_naive_time() -> None:
    with pytest.raises(InvalidValue, match="at"):
        transition(make_incident(), State.TRIAGED, datetime(2024, 6, 3, 10, 5))


def test_going_on_hold_needs_a_reason_naming_the_choices() -> None:
    working = transition(make_incident(), State.IN_PROGRESS, T0 + MINUTE)
    with pytest.raises(InvalidValue) as info:
        transition(working, State.ON_HOLD, T0 + 2 * MINUTE)
    assert info.value.field == "hold_reason"
    assert "awaiting_caller" in str(info.value)


@pytest.mark.parametrize("reason", [HoldReason.AWAITING_CALLER, HoldReason.AWAITING_VENDOR])
def test_waiting_on_someone_outside_opens_and_closes_a_pause(reason: HoldReason) -> None:
    working = transition(make_incident(), State.IN_PROGRESS, T0 + MINUTE)
    held = transition(working, State.ON_HOLD, T0 + 10 * MINUTE, reason)
    assert held.hold_reason is reason
    assert held.holds == (HoldPeriod(T0 + 10 * MINUTE),)
    resumed = transition(held, State.IN_PROGRESS, T0 + 40 * MINUTE)
    assert resumed.hold_reason is None
    assert resumed.holds == (HoldPeriod(T0 + 10 * MINUTE, T0 + 40 * MINUTE),)
    again = transition(resumed, State.ON_HOLD, T0 + 50 * MINUTE, reason)
    resolved = transition(again, State.RESOLVED, T0 + 70 * MINUTE)
    assert resolved.holds == (
        HoldPeriod(T0 + 10 * MINUTE, T0 + 40 * MINUTE),
        HoldPeriod(T0 + 50 * MINUTE, T0 + 70 * MINUTE),
    )
    assert resolved.resolved_at == T0 + 70 * MINUTE


def test_waiting_for_our_own_change_does_not_pause() -> None:
    working = transition(make_incident(), State.IN_PROGRESS, T0 + MINUTE)
    held = transition(working, State.ON_HOLD, T0 + 10 * MINUTE, HoldReason.AWAITING_CHANGE)
    assert held.state is State.ON_HOLD
    assert held.hold_reason is HoldReason.AWAITING_CHANGE
    assert held.holds == ()
    assert transition(held, State.IN_PROGRESS, T0 + 20 * MINUTE).holds == ()


def test_resolve_close_and_reopen_keep_their_timestamps() -> None:
    working = transition(make_incident(), State.IN_PROGRESS, T0 + MINUTE)
    resolved = transition(working, State.RESOLVED, T0 + 60 * MINUTE)
    assert resolved.resolved_at == T0 + 60 * MINUTE
    assert not resolved.is_open
    reopened = transition(resolved, State.REOPENED, T0 + 90 * MINUTE)
    assert reopened.resolved_at is None
    assert reopened.is_open
    assert reopened.acknowledged_at == T0 + MINUTE
    closed = transition(
        transition(reopened, State.RESOLVED, T0 + 120 * MINUTE), State.CLOSED, T0 + 200 * MINUTE
    )
    assert closed.closed_at == T0 + 200 * MINUTE
    assert closed.resolved_at == T0 + 120 * MINUTE


# ------------------------------------------------------------------ timeline


def test_hand_written_timeline_entries_need_text() -> None:
    with pytest.raises(InvalidValue, match="body"):
        TimelineEvent("e1", "i1", TimelineKind.WORK_NOTE, T0, "ana", "  ")
    event = TimelineEvent("e1", "i1", TimelineKind.STATE_CHANGE, T0, "system", "")
    assert event.kind.label == "State change"


def test_timeline_kind_parse_names_allowed_kinds() -> None:
    assert TimelineKind.of("Work_Note") is TimelineKind.WORK_NOTE
    with pytest.raises(InvalidValue, match="work_note"):
        TimelineKind.of("gossip")


def test_timeline_event_refuses_naive_time() -> None:
    with pytest.raises(InvalidValue, match="at"):
        TimelineEvent("e1", "i1", TimelineKind.WORK_NOTE, datetime(2024, 1, 1), "ana", "x")
