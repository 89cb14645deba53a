"""The lifecycle table: every allowed and every refused move, and what the refusal says."""

from __future__ import annotations

import pytest

from console.domain.errors import DomainError, InvalidValue
from console.domain.lifecycle import (
    HoldReason,
    IllegalTransition,
    State,
    can_transition,
    check_transition,
)

# The allowed moves, written out by hand (not read from ALLOWED), so that a
# change to the lifecycle table must be made in two places on purpose.
EXPECTED_MOVES: dict[str, set[str]] = {
    "new": {"triaged", "in_progress", "resolved", "cancelled"},
    "triaged": {"in_progress", "on_hold", "resolved", "cancelled"},
    "in_progress": {"on_hold", "resolved", "cancelled"},
    "on_hold": {"in_progress", "resolved", "cancelled"},
    "resolved": {"closed", "reopened"},
    "reopened": {"in_progress", "on_hold", "resolved", "cancelled"},
    "closed": set(),
    "cancelled": set(),
}

ALL_PAIRS = [(a, b) for a in State for b in State]


def test_expected_table_names_every_state() -> None:
    assert set(EXPECTED_MOVES) == {s.value for s in State}


@pytest.mark.parametrize(("current", "requested"), ALL_PAIRS, ids=lambda s: s.value)
def test_every_pair_of_states(current: State, requested: State) -> None:
    """All 64 pairs: allowed ones pass, every other one is refused with a helpful message."""
    allowed = requested.value in EXPECTED_MOVES[current.value]
    assert can_transition(current, requested) is allowed
    if allowed:
        check_transition(current, requested)
        return
    with pytest.raises(IllegalTransition) as info:
        check_transition(current, requested)
    error = info.value
    assert error.current is current
    assert error.requested is requested
    message = str(error)
    assert f"from {current.value} to {requested.value}" in message
    expected_allowed = [s for s in State if s.value in EXPECTED_MOVES[current.value]]
    assert error.allowed == expected_allowed
    if expected_allowed:
        assert f"allowed from {current.value}: " in message
        listed = message.split(f"allowed from {current.value}: ", 1)[1]
        assert listed == ", ".join(s.value for s in expected_allowed)
    else:
        assert f"{current.value} is final" in message


def test_no_state_moves_to_itself() -> None:
    assert not any(can_transition(s, s) for s in State)


def test_refusal_is_a_domain_error_with_exact_wording() -> None:
    with pytest.raises(DomainError) as info:
        check_transition(State.NEW, State.CLOSED)
    assert str(info.value) == (
        "cannot move an incident from new to closed; "
        "allowed from new: triaged, in_progress, resolved, cancelled"
    )


def test_final_states_say_they_are_final() -> None:
    with pytest.raises(IllegalTransition) as info:
        check_transition(State.CLOSED, State.REOPENED)
    assert str(info.value) == (
        "cannot move an incident from closed to reopened; "
        "closed is final; no further state changes are allowed"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("new", State.NEW),
        ("In progress", State.IN_PROGRESS),
        ("in-progress", State.IN_PROGRESS),
        (" ON_HOLD ", State.ON_HOLD),
        (State.CLOSED, State.CLOSED),
    ],
)
def test_state_parses_wire_and_display_names(text: object, expected: State) -> None:
    assert State.of(text) is expected


@pytest.mark.parametrize("bad", ["open", "done", "", None, 3])
def test_state_parse_error_names_allowed_states(bad: object) -> None:
    with pytest.raises(InvalidValue) as info:
        State.of(bad)
    assert info.value.field == "state"
    assert info.value.allowed == tuple(s.value for s in State)
    for state in State:
        assert state.value in str(info.value)


@pytest.mark.parametrize("state", list(State))
def test_label_parses_back_to_the_state(state: State) -> None:
    assert State.of(state.label) is state


def test_open_states() -> None:
    """Open incidents stay on the queue with clocks running; the rest do not."""
    closed = {State.RESOLVED, State.CLOSED, State.CANCELLED}
    for state in State:
        assert state.is_open is (state not in closed)


def test_only_waiting_on_someone_outside_pauses_the_sla() -> None:
    assert HoldReason.AWAITING_CALLER.pauses_sla
    assert HoldReason.AWAITING_VENDOR.pauses_sla
    assert not HoldReason.AWAITING_CHANGE.pauses_sla


def test_hold_reason_parse_error_names_allowed_reasons() -> None:
    assert HoldReason.of(" Awaiting_Vendor") is HoldReason.AWAITING_VENDOR
    with pytest.raises(InvalidValue) as info:
        HoldReason.of("lunch")
    assert info.value.field == "hold_reason"
    assert "awaiting_caller, awaiting_vendor, awaiting_change" in str(info.value)
