"""SLA targets and clocks: dues, pauses, warning, breach and met, in real zones."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import time as stopwatch
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.domain.calendar import DEFAULT_CALENDAR, TWENTY_FOUR_SEVEN, BusinessCalendar
from console.domain.errors import InvalidValue
from console.domain.incident import HoldPeriod, Incident, transition
from console.domain.lifecycle import HoldReason, State
from console.domain.severity import Severity
from console.domain.sla import (
    SlaPolicy,
    SlaReading,
    SlaStatus,
    Target,
    parse_target,
    sev1_share_warning,
)
from tests.helpers.factories import T0, make_incident

MADRID = ZoneInfo("Europe/Madrid")
NEW_YORK = ZoneInfo("America/New_York")
SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
MON_FRI = frozenset(range(5))
SEV1, SEV2, SEV3, SEV4 = Severity.SEV1, Severity.SEV2, Severity.SEV3, Severity.SEV4

POLICY = SlaPolicy.default()  # Mon–Fri 09:00–17:00 UTC
SPAIN = BusinessCalendar("Europe/Madrid", MON_FRI, time(9), time(17), {date(2024, 5, 1)})  # type: ignore[arg-type]
US_EAST = BusinessCalendar("America/New_York", MON_FRI, time(9), time(17), {date(2024, 7, 4)})  # type: ignore[arg-type]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def madrid(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MADRID)


def new_york(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


def sev(severity: Severity, **changes: object) -> Incident:
    return make_incident(severity=severity, **changes)


# ------------------------------------------------------------------ the default targets

# ITIL-NOTES targets, written out: (response, business?), (resolution, business?)
# with business amounts in working hours of an 8-hour day.
EXPECTED_DEFAULTS = {
    SEV1: ((15 * MINUTE, False), (4 * HOUR, False)),
    SEV2: ((30 * MINUTE, False), (8 * HOUR, False)),
    SEV3: ((4 * HOUR, False), (16 * HOUR, True)),
    SEV4: ((8 * HOUR, True), (40 * HOUR, True)),
}


@pytest.mark.parametrize("severity", list(Severity))
def test_default_targets(severity: Severity) -> None:
    response, resolution = EXPECTED_DEFAULTS[severity]
    assert POLICY.response[severity] == Target(*response)
    assert POLICY.resolution[severity] == Target(*resolution)
    assert POLICY.target(severity, "response") == Target(*response)
    assert POLICY.target(severity, "resolution") == Target(*resolution)


def test_business_days_follow_the_calendars_working_day() -> None:
    long_days = BusinessCalendar("UTC", MON_FRI, time(8), time(17, 30))
    policy = SlaPolicy.default(long_days)
    assert policy.calendar is long_days
    assert policy.response[SEV4] == Target(9.5 * HOUR, business=True)
    assert policy.resolution[SEV3] == Target(19 * HOUR, business=True)
    assert policy.resolution[SEV4] == Target(47.5 * HOUR, business=True)
    assert policy.resolution[SEV1] == Target(4 * HOUR)  # round the clock is unchanged


def test_default_policy_uses_office_hours_in_utc() -> None:
    assert POLICY.calendar == DEFAULT_CALENDAR
    assert POLICY.calendar_for(POLICY.response[SEV1]) is TWENTY_FOUR_SEVEN
    assert POLICY.calendar_for(POLICY.response[SEV4]) is POLICY.calendar
    assert POLICY.warning_at == 0.75


# ------------------------------------------------------------------ dues


SATURDAY_NIGHT = utc(2024, 6, 8, 23, 50)


@pytest.mark.parametrize(
    ("severity", "response_due", "resolution_due"),
    [
        # Round-the-clock targets ignore the weekend ...
        (SEV1, utc(2024, 6, 9, 0, 5), utc(2024, 6, 9, 3, 50)),
        (SEV2, utc(2024, 6, 9, 0, 20), utc(2024, 6, 9, 7, 50)),
        # ... business targets start on Monday 09:00.
        (SEV3, utc(2024, 6, 9, 3, 50), utc(2024, 6, 11, 17, 0)),
        (SEV4, utc(2024, 6, 10, 17, 0), utc(2024, 6, 14, 17, 0)),
    ],
)
def test_dues_for_an_incident_opened_on_saturday_night(
    severity: Severity, response_due: datetime, resolution_due: datetime
) -> None:
    incident = sev(severity, opened_at=SATURDAY_NIGHT)
    assert POLICY.response_due(incident, SATURDAY_NIGHT) == response_due
    assert POLICY.resolution_due(incident, SATURDAY_NIGHT) == resolution_due


def test_dues_are_utc_and_independent_of_when_asked_while_running() -> None:
    incident = sev(SEV3, opened_at=T0)
    first = POLICY.resolution_due(incident, T0)
    assert first.tzinfo is UTC
    assert POLICY.resolution_due(incident, T0 + 30 * HOUR) == first
    assert POLICY.resolution_due(incident) == first  # "now": no hold, so the same


def test_sev3_resolution_skips_a_madrid_holiday() -> None:
    """Tuesday 30 April 11:00 + 2 business days, with 1 May off: Friday 3 May 11:00 CEST."""
    policy = SlaPolicy.default(SPAIN)
    incident = sev(SEV3, opened_at=madrid(2024, 4, 30, 11))
    assert policy.resolution_due(incident, T0) == madrid(2024, 5, 3, 11) == utc(2024, 5, 3, 9)
    # The response target is round the clock: 4 h, holiday or not.
    assert policy.response_due(incident, T0) == madrid(2024, 4, 30, 15)


def test_sev4_resolution_skips_independence_day_in_new_york() -> None:
    policy = SlaPolicy.default(US_EAST)
    incident = sev(SEV4, opened_at=new_york(2024, 7, 3, 15))
    assert policy.resolution_due(incident, T0) == new_york(2024, 7, 11, 15)
    assert policy.response_due(incident, T0) == new_york(2024, 7, 5, 15)


@pytest.mark.parametrize(
    ("calendar", "opened", "due"),
    [
        (SPAIN, madrid(2024, 3, 29, 16), madrid(2024, 4, 1, 16)),  # spring forward
        (SPAIN, madrid(2024, 10, 25, 16), madrid(2024, 10, 28, 16)),  # fall back
        (US_EAST, new_york(2024, 3, 8, 16), new_york(2024, 3, 11, 16)),
        (US_EAST, new_york(2024, 11, 1, 16), new_york(2024, 11, 4, 16)),
    ],
)
def test_sev4_response_across_a_dst_weekend(
    calendar: BusinessCalendar, opened: datetime, due: datetime
) -> None:
    """One business day from Friday 16:00 is Monday 16:00 on the local wall clock."""
    policy = SlaPolicy.default(calendar)
    assert policy.response_due(sev(SEV4, opened_at=opened), opened) == due


def test_round_the_clock_target_over_spring_forward_counts_real_hours() -> None:
    """Opened 00:30 CET; 4 real hours later it is 05:30 CEST, not 04:30."""
    policy = SlaPolicy.default(SPAIN)
    incident = sev(SEV1, opened_at=madrid(2024, 3, 31, 0, 30), state=State.IN_PROGRESS)
    assert policy.resolution_due(incident, T0) == madrid(2024, 3, 31, 5, 30)
    # At 04:30 CEST the wall clock shows 4 h gone, but only 3 h have passed.
    reading = policy.reading(incident, "resolution", madrid(2024, 3, 31, 4, 30))
    assert reading.elapsed == 3 * HOUR
    assert reading.status is SlaStatus.WARNING


def test_round_the_clock_target_over_fall_back_counts_real_hours() -> None:
    """Opened 00:30 CEST; 4 real hours later it is 03:30 CET, only 3 h later on the wall."""
    policy = SlaPolicy.default(SPAIN)
    incident = sev(SEV1, opened_at=madrid(2024, 10, 27, 0, 30), state=State.IN_PROGRESS)
    assert policy.resolution_due(incident, T0) == madrid(2024, 10, 27, 3, 30)
    reading = policy.reading(incident, "resolution", madrid(2024, 10, 27, 3, 30))
    assert reading.elapsed == 4 * HOUR
    assert reading.status is SlaStatus.BREACHED


# ------------------------------------------------------------------ status


def test_warning_from_75_percent() -> None:
    """SEV-1 response is 15 min: 11 min 15 s is exactly 75 %."""
    incident = sev(SEV1)
    just_before = POLICY.reading(incident, "response", T0 + 11 * MINUTE + 15 * SECOND - SECOND)
    at_warning = POLICY.reading(incident, "response", T0 + 11 * MINUTE + 15 * SECOND)
    assert just_before.status is SlaStatus.OK
    assert at_warning.status is SlaStatus.WARNING
    assert at_warning.fraction == 0.75
    assert at_warning.percent == 75
    assert at_warning.remaining == 3 * MINUTE + 45 * SECOND


def test_warning_threshold_is_configurable() -> None:
    policy = dataclasses.replace(POLICY, warning_at=0.5)
    incident = sev(SEV1)
    assert policy.reading(incident, "response", T0 + 7 * MINUTE).status is SlaStatus.OK
    assert policy.reading(incident, "response", T0 + 8 * MINUTE).status is SlaStatus.WARNING


def test_breached_from_100_percent_with_negative_remaining() -> None:
    incident = sev(SEV1)
    at_due = POLICY.reading(incident, "response", T0 + 15 * MINUTE)
    assert at_due.status is SlaStatus.BREACHED
    assert at_due.remaining == timedelta(0)
    late = POLICY.reading(incident, "response", T0 + 25 * MINUTE)
    assert late.status is SlaStatus.BREACHED
    assert late.remaining == -10 * MINUTE
    assert late.fraction == pytest.approx(25 / 15)
    assert late.due == T0 + 15 * MINUTE
    assert late.stopped_at is None


def test_reading_fields_fit_together() -> None:
    incident = sev(SEV2)
    reading = POLICY.reading(incident, "resolution", T0 + 2 * HOUR)
    assert reading == SlaReading(
        kind="resolution",
        due=T0 + 8 * HOUR,
        elapsed=2 * HOUR,
        target=8 * HOUR,
        fraction=0.25,
        remaining=6 * HOUR,
        status=SlaStatus.OK,
    )


def test_response_met_when_acknowledged_in_time() -> None:
    incident = transition(sev(SEV1), State.TRIAGED, T0 + 10 * MINUTE)
    for at in (T0 + 10 * MINUTE, T0 + 5 * HOUR):
        reading = POLICY.reading(incident, "response", at)
        assert reading.status is SlaStatus.MET
        assert reading.elapsed == 10 * MINUTE
        assert reading.stopped_at == T0 + 10 * MINUTE
        assert reading.due == T0 + 15 * MINUTE
    # Before the acknowledgement happened, the clock was still running.
    assert POLICY.reading(incident, "response", T0 + 5 * MINUTE).status is SlaStatus.OK


def test_response_breached_when_acknowledged_late_stays_breached() -> None:
    incident = transition(sev(SEV1), State.TRIAGED, T0 + 20 * MINUTE)
    reading = POLICY.reading(incident, "response", T0 + 3 * HOUR)
    assert reading.status is SlaStatus.BREACHED
    assert reading.elapsed == 20 * MINUTE
    assert reading.remaining == -5 * MINUTE


def test_acknowledged_exactly_at_the_due_is_a_breach() -> None:
    """100 % is a breach, whether the clock is running or has just stopped."""
    incident = transition(sev(SEV1), State.TRIAGED, T0 + 15 * MINUTE)
    assert POLICY.reading(incident, "response", T0 + HOUR).status is SlaStatus.BREACHED


def test_resolution_met_and_breached() -> None:
    working = transition(sev(SEV2), State.IN_PROGRESS, T0 + 5 * MINUTE)
    in_time = transition(working, State.RESOLVED, T0 + 7 * HOUR)
    late = transition(working, State.RESOLVED, T0 + 9 * HOUR)
    assert POLICY.reading(in_time, "resolution", T0 + 2 * 24 * HOUR).status is SlaStatus.MET
    assert POLICY.reading(late, "resolution", T0 + 2 * 24 * HOUR).status is SlaStatus.BREACHED
    assert POLICY.reading(in_time, "resolution", T0 + 6 * HOUR).status is SlaStatus.WARNING


def test_current_shows_response_then_resolution() -> None:
    """The queue's live clock: response until acknowledged, then resolution."""
    new = sev(SEV2)
    assert POLICY.current(new, T0 + 5 * MINUTE).kind == "response"
    acked = transition(new, State.IN_PROGRESS, T0 + 12 * MINUTE)
    assert POLICY.current(acked, T0 + 5 * MINUTE).kind == "response"  # as it was then
    reading = POLICY.current(acked, T0 + HOUR)
    assert reading.kind == "resolution"
    assert reading.elapsed == HOUR  # resolution counts from opening, not from the ack
    assert reading.due == T0 + 8 * HOUR


def test_a_cancelled_incident_stops_its_clocks_at_cancellation() -> None:
    cancelled = transition(sev(SEV1), State.CANCELLED, T0 + 5 * MINUTE)
    reading = POLICY.current(cancelled, T0 + 3 * HOUR)
    assert reading.kind == "response"
    assert reading.status is SlaStatus.MET
    assert reading.elapsed == 5 * MINUTE


def test_reopened_incident_runs_its_resolution_clock_again() -> None:
    working = transition(sev(SEV2), State.IN_PROGRESS, T0 + 5 * MINUTE)
    resolved = transition(working, State.RESOLVED, T0 + HOUR)
    reopened = transition(resolved, State.REOPENED, T0 + 3 * HOUR)
    reading = POLICY.reading(reopened, "resolution", T0 + 4 * HOUR)
    assert reading.stopped_at is None
    assert reading.status is SlaStatus.OK
    assert reading.elapsed == 4 * HOUR


def test_reading_before_opening_is_zero() -> None:
    reading = POLICY.reading(sev(SEV1), "response", T0 - HOUR)
    assert reading.elapsed == timedelta(0)
    assert reading.status is SlaStatus.OK
    assert reading.due == T0 + 15 * MINUTE


def test_bad_kind_and_naive_instant_are_refused() -> None:
    with pytest.raises(InvalidValue, match="response, resolution"):
        POLICY.reading(sev(SEV1), "closure", T0)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="at"):
        POLICY.reading(sev(SEV1), "response", datetime(2024, 6, 3, 10))


# ------------------------------------------------------------------ pauses


def _hold(
    incident: Incident, start: datetime, end: datetime | None, reason: HoldReason
) -> Incident:
    held = transition(incident, State.ON_HOLD, start, reason)
    return held if end is None else transition(held, State.IN_PROGRESS, end)


def test_waiting_on_the_caller_pauses_and_shifts_the_due() -> None:
    """SEV-2 (8 h): 2 h waiting on the caller moves the resolution due 2 h later."""
    working = transition(sev(SEV2), State.IN_PROGRESS, T0 + 5 * MINUTE)
    held = transition(working, State.ON_HOLD, T0 + HOUR, HoldReason.AWAITING_CALLER)

    during = POLICY.reading(held, "resolution", T0 + 2 * HOUR)
    assert during.status is SlaStatus.PAUSED
    assert during.elapsed == HOUR  # the hour on hold does not count
    assert during.due == T0 + 2 * HOUR + 7 * HOUR  # projected as if work resumed now
    later = POLICY.reading(held, "resolution", T0 + 3 * HOUR)
    assert later.elapsed == HOUR
    assert later.due == T0 + 10 * HOUR  # the projection slides while waiting

    resumed = transition(held, State.IN_PROGRESS, T0 + 3 * HOUR)
    after = POLICY.reading(resumed, "resolution", T0 + 4 * HOUR)
    assert after.status is SlaStatus.OK
    assert after.elapsed == 2 * HOUR
    assert after.due == T0 + 10 * HOUR
    assert POLICY.resolution_due(resumed, T0 + 50 * HOUR) == T0 + 10 * HOUR


def test_waiting_on_a_vendor_pauses_too() -> None:
    working = transition(sev(SEV2), State.IN_PROGRESS, T0)
    resumed = _hold(working, T0 + HOUR, T0 + 4 * HOUR, HoldReason.AWAITING_VENDOR)
    assert POLICY.resolution_due(resumed, T0) == T0 + 11 * HOUR


def test_waiting_for_our_own_change_does_not_pause() -> None:
    working = transition(sev(SEV2), State.IN_PROGRESS, T0)
    held = transition(working, State.ON_HOLD, T0 + HOUR, HoldReason.AWAITING_CHANGE)
    reading = POLICY.reading(held, "resolution", T0 + 3 * HOUR)
    assert reading.status is SlaStatus.OK
    assert reading.elapsed == 3 * HOUR
    assert reading.due == T0 + 8 * HOUR


def test_several_holds_add_up() -> None:
    working = transition(sev(SEV2), State.IN_PROGRESS, T0)
    once = _hold(working, T0 + HOUR, T0 + 2 * HOUR, HoldReason.AWAITING_CALLER)
    twice = _hold(once, T0 + 3 * HOUR, T0 + 6 * HOUR, HoldReason.AWAITING_VENDOR)
    assert POLICY.resolution_due(twice, T0) == T0 + 12 * HOUR
    assert POLICY.reading(twice, "resolution", T0 + 7 * HOUR).elapsed == 3 * HOUR


def test_a_hold_on_business_hours_shifts_by_the_working_time_it_covered() -> None:
    """SEV-3 (2 business days) opened Monday 10:00; on hold Monday 15:00 to Tuesday 11:00.

    The hold covered 4 working hours (Monday 15–17, Tuesday 09–11), so the due
    moves from Wednesday 10:00 to Wednesday 14:00.
    """
    opened = utc(2024, 6, 3, 10)
    working = transition(sev(SEV3, opened_at=opened), State.IN_PROGRESS, opened + MINUTE)
    assert POLICY.resolution_due(working, opened) == utc(2024, 6, 5, 10)
    resumed = _hold(working, utc(2024, 6, 3, 15), utc(2024, 6, 4, 11), HoldReason.AWAITING_CALLER)
    assert POLICY.resolution_due(resumed, opened) == utc(2024, 6, 5, 14)
    # A pause entirely outside working hours changes nothing.
    night = _hold(working, utc(2024, 6, 3, 18), utc(2024, 6, 4, 8), HoldReason.AWAITING_CALLER)
    assert POLICY.resolution_due(night, opened) == utc(2024, 6, 5, 10)


def test_a_hold_in_madrid_across_the_spring_weekend() -> None:
    """On hold from Friday 15:00 CET to Monday 11:00 CEST: 4 working hours paused."""
    policy = SlaPolicy.default(SPAIN)
    opened = madrid(2024, 3, 28, 10)  # Thursday
    working = transition(sev(SEV3, opened_at=opened), State.IN_PROGRESS, opened)
    # Without the hold: Thu 7 h + Fri 8 h + Mon 1 h -> Monday 10:00 CEST.
    assert policy.resolution_due(working, opened) == madrid(2024, 4, 1, 10)
    held = _hold(
        working, madrid(2024, 3, 29, 15), madrid(2024, 4, 1, 11), HoldReason.AWAITING_VENDOR
    )
    assert policy.resolution_due(held, opened) == madrid(2024, 4, 1, 14)


def test_a_breach_outranks_a_pause() -> None:
    working = transition(sev(SEV1), State.IN_PROGRESS, T0 + MINUTE)
    held = transition(working, State.ON_HOLD, T0 + 5 * HOUR, HoldReason.AWAITING_CALLER)
    reading = POLICY.reading(held, "resolution", T0 + 6 * HOUR)
    assert reading.status is SlaStatus.BREACHED
    assert reading.elapsed == 5 * HOUR


def test_a_reading_in_the_past_knows_only_the_past() -> None:
    """Holds that started after the instant asked about do not count yet."""
    working = transition(sev(SEV2), State.IN_PROGRESS, T0)
    resumed = _hold(working, T0 + 2 * HOUR, T0 + 5 * HOUR, HoldReason.AWAITING_CALLER)
    before = POLICY.reading(resumed, "resolution", T0 + HOUR)
    assert before.status is SlaStatus.OK
    assert before.due == T0 + 8 * HOUR
    inside = POLICY.reading(resumed, "resolution", T0 + 3 * HOUR)
    assert inside.status is SlaStatus.PAUSED
    assert inside.elapsed == 2 * HOUR
    at_resume = POLICY.reading(resumed, "resolution", T0 + 5 * HOUR)
    assert at_resume.status is SlaStatus.OK
    assert at_resume.due == T0 + 11 * HOUR


def test_resolving_while_on_hold_is_met_not_paused() -> None:
    working = transition(sev(SEV2), State.IN_PROGRESS, T0)
    held = transition(working, State.ON_HOLD, T0 + HOUR, HoldReason.AWAITING_CALLER)
    resolved = transition(held, State.RESOLVED, T0 + 20 * HOUR)
    reading = POLICY.reading(resolved, "resolution", T0 + 30 * HOUR)
    assert reading.status is SlaStatus.MET
    assert reading.elapsed == HOUR


def test_overlapping_holds_are_not_subtracted_twice() -> None:
    """Imported records can carry overlapping periods; the paused time counts once."""
    incident = sev(
        SEV2,
        state=State.IN_PROGRESS,
        holds=(HoldPeriod(T0 + HOUR, T0 + 3 * HOUR), HoldPeriod(T0 + 2 * HOUR, T0 + 4 * HOUR)),
    )
    assert POLICY.resolution_due(incident, T0) == T0 + 11 * HOUR


# ------------------------------------------------------------------ configuration


FULL_CONFIG: dict[str, object] = {
    "calendar": {"time_zone": "Europe/Madrid", "holidays": ["2024-05-01"]},
    "warning_at": 0.8,
    "response": {"SEV-1": "10 min", "SEV-2": "20m", "SEV-3": "2 h", "SEV-4": "1 business day"},
    "resolution": {
        "sev1": "2 hours",
        "SEV-2": "1 day",
        "3": "12 business hours",
        "SEV 4": "3 working days",
    },
}


def test_policy_from_config() -> None:
    policy = SlaPolicy.from_mapping(FULL_CONFIG)
    assert policy.calendar == SPAIN
    assert policy.warning_at == 0.8
    assert policy.response == {
        SEV1: Target(10 * MINUTE),
        SEV2: Target(20 * MINUTE),
        SEV3: Target(2 * HOUR),
        SEV4: Target(8 * HOUR, business=True),
    }
    assert policy.resolution == {
        SEV1: Target(2 * HOUR),
        SEV2: Target(24 * HOUR),
        SEV3: Target(12 * HOUR, business=True),
        SEV4: Target(24 * HOUR, business=True),
    }


def test_missing_sections_take_the_defaults_on_the_configured_calendar() -> None:
    policy = SlaPolicy.from_mapping({"calendar": {"time_zone": "Europe/Madrid"}})
    assert policy == SlaPolicy.default(BusinessCalendar("Europe/Madrid"))
    assert SlaPolicy.from_mapping({}) == POLICY


@pytest.mark.parametrize(
    ("change", "field", "hint"),
    [
        ({"respones": {}}, "sla.respones", "calendar, warning_at, response, resolution"),
        ({"warning_at": 1.5}, "sla.warning_at", "between 0 and 1"),
        ({"warning_at": 0}, "sla.warning_at", "between 0 and 1"),
        ({"warning_at": True}, "sla.warning_at", "between 0 and 1"),
        ({"warning_at": "75%"}, "sla.warning_at", "between 0 and 1"),
        ({"calendar": {"time_zone": "Europe/Madird"}}, "sla.calendar.time_zone", "IANA"),
        ({"calendar": {"time_zone": "UTC", "day_end": "08:00"}}, "sla.calendar.day_end", "after"),
        ({"calendar": "Europe/Madrid"}, "sla.calendar", "calendar settings"),
        ({"response": "fast"}, "sla.response", "SEV-1 to SEV-4"),
        (
            {"response": {"SEV-1": "soon", "SEV-2": "1h", "SEV-3": "1h", "SEV-4": "1h"}},
            "sla.response.SEV-1",
            "'15 min', '4 h'",
        ),
        (
            {"response": {"SEV-1": "0 min", "SEV-2": "1h", "SEV-3": "1h", "SEV-4": "1h"}},
            "sla.response.SEV-1",
            "'15 min'",
        ),
        (
            {"response": {"SEV-1": "15", "SEV-2": "1h", "SEV-3": "1h", "SEV-4": "1h"}},
            "sla.response.SEV-1",
            "'15 min'",
        ),
        (
            {"resolution": {"SEV-1": "4 h", "SEV-2": "8 h", "SEV-3": "2 bd"}},
            "sla.resolution.SEV-4",
            "missing: SEV-4",
        ),
        (
            {"resolution": {"SEV-0": "4 h"}},
            "sla.resolution",
            "SEV-1, SEV-2, SEV-3, SEV-4",
        ),
        (
            {"resolution": {"SEV-1": "4 h", "sev1": "3 h"}},
            "sla.resolution",
            "each severity once",
        ),
    ],
)
def test_bad_policy_config_is_refused_naming_the_field(
    change: dict[str, object], field: str, hint: str
) -> None:
    with pytest.raises(InvalidValue) as info:
        SlaPolicy.from_mapping(change)
    assert info.value.field == field
    assert hint in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15 min", Target(15 * MINUTE)),
        ("90 minutes", Target(90 * MINUTE)),
        ("1.5 h", Target(90 * MINUTE)),
        ("4 HOURS", Target(4 * HOUR)),
        ("2 days", Target(48 * HOUR)),
        ("8 business hours", Target(8 * HOUR, business=True)),
        ("6 bh", Target(6 * HOUR, business=True)),
        ("2 business days", Target(16 * HOUR, business=True)),
        ("1 working day", Target(8 * HOUR, business=True)),
        ("0.5 bd", Target(4 * HOUR, business=True)),
        ("2  business   days", Target(16 * HOUR, business=True)),
    ],
)
def test_target_text(text: str, expected: Target) -> None:
    assert parse_target(text, DEFAULT_CALENDAR) == expected


@pytest.mark.parametrize("bad", ["", "soon", "-1 h", "1 fortnight", "h", "1e3 h", 15, None])
def test_bad_target_text_says_what_is_allowed(bad: object) -> None:
    with pytest.raises(InvalidValue, match="'2 business days'"):
        parse_target(bad, DEFAULT_CALENDAR, "sla.response.SEV-1")


@pytest.mark.parametrize(
    ("target", "text"),
    [
        (Target(15 * MINUTE), "15 min"),
        (Target(90 * MINUTE), "90 min"),
        (Target(4 * HOUR), "4 h"),
        (Target(8 * HOUR, business=True), "1 business day"),
        (Target(16 * HOUR, business=True), "2 business days"),
        (Target(6 * HOUR, business=True), "6 business hours"),
        (Target(HOUR, business=True), "1 business hour"),
    ],
)
def test_target_description(target: Target, text: str) -> None:
    assert target.describe(8 * HOUR) == text


@pytest.mark.parametrize("amount", [timedelta(0), -MINUTE])
def test_target_must_be_longer_than_zero(amount: timedelta) -> None:
    with pytest.raises(InvalidValue, match="longer than zero"):
        Target(amount)


def test_policy_needs_every_severity_and_keeps_its_own_copy() -> None:
    response = dict(POLICY.response)
    del response[SEV3]
    with pytest.raises(InvalidValue) as info:
        SlaPolicy(response, POLICY.resolution)
    assert info.value.field == "sla.response.SEV-3"
    complete = dict(POLICY.response)
    policy = SlaPolicy(complete, POLICY.resolution)
    complete[SEV1] = Target(HOUR)
    assert policy.response[SEV1] == Target(15 * MINUTE)
    assert POLICY.reading(sev(SEV1), "response", T0 + 20 * MINUTE).status is SlaStatus.BREACHED


def test_policy_refuses_a_bad_warning_threshold() -> None:
    with pytest.raises(InvalidValue, match=r"sla\.warning_at"):
        SlaPolicy(POLICY.response, POLICY.resolution, warning_at=1.0)


def test_status_values_are_lowercase_wire_strings() -> None:
    assert [s.value for s in SlaStatus] == ["ok", "warning", "breached", "paused", "met"]
    assert SlaStatus.of(" Breached ") is SlaStatus.BREACHED
    assert SlaStatus.BREACHED.label == "Breached"
    with pytest.raises(InvalidValue, match="ok, warning, breached, paused, met"):
        SlaStatus.of("late")


# ------------------------------------------------------------------ SEV-1 share


def test_sev1_share_warning() -> None:
    """More than 10 % SEV-1 asks for recalibration; at or under 10 % it does not."""
    assert sev1_share_warning({SEV1: 10, SEV2: 30, SEV3: 40, SEV4: 20}) is None  # exactly 10 %
    message = sev1_share_warning({SEV1: 11, SEV2: 30, SEV3: 40, SEV4: 19})
    assert message is not None
    assert "11%" in message
    assert "11 of 100" in message
    assert "recalibration" in message


def test_sev1_share_warning_needs_enough_incidents() -> None:
    assert sev1_share_warning({SEV1: 3, SEV3: 2}) is None  # 60 %, but only 5 incidents
    assert sev1_share_warning({SEV1: 3, SEV3: 2}, min_incidents=5) is not None
    assert sev1_share_warning({}) is None
    assert sev1_share_warning({SEV1: 0, SEV4: 0}, min_incidents=0) is None


def test_sev1_share_warning_limit_is_configurable() -> None:
    counts = {SEV1: 6, SEV3: 94}
    assert sev1_share_warning(counts) is None
    assert sev1_share_warning(counts, limit=0.05) is not None


def test_sev1_share_warning_refuses_negative_counts() -> None:
    with pytest.raises(InvalidValue, match="SEV-2"):
        sev1_share_warning({SEV1: 1, SEV2: -1})


# ------------------------------------------------------------------ speed


def test_thousands_of_live_clocks_per_second() -> None:
    """The queue reads every row's clock each second: 5 000 readings well under a second."""
    policy = SlaPolicy.default(SPAIN)
    rows = [
        sev(
            Severity(1 + i % 4),
            opened_at=T0 - (i % 400) * HOUR,
            state=State.IN_PROGRESS,
            holds=(HoldPeriod(T0 - 3 * HOUR, T0 - HOUR),) if i % 3 == 0 else (),
        )
        for i in range(5000)
    ]
    policy.current(rows[0], T0)  # build the calendar's year tables outside the timing
    began = stopwatch.perf_counter()
    readings = [policy.current(row, T0 + HOUR) for row in rows]
    assert stopwatch.perf_counter() - began < 1.0
    assert len({r.status for r in readings}) >= 3


# ------------------------------------------------------------------ properties

CALENDARS = [DEFAULT_CALENDAR, SPAIN, US_EAST, TWENTY_FOUR_SEVEN]
instants = st.integers(0, 60 * 24 * 60).map(lambda m: utc(2024, 2, 20) + m * MINUTE)
spans = st.integers(0, 5 * 24 * 60).map(lambda m: m * MINUTE)


@st.composite
def incidents_with_holds(draw: st.DrawFn) -> tuple[Incident, datetime]:
    """An incident with up to three closed holds (and maybe an open one), and a reading time."""
    opened = draw(instants)
    holds = []
    cursor = opened
    for _ in range(draw(st.integers(0, 3))):
        start = cursor + draw(spans)
        end = start + draw(spans)
        holds.append(HoldPeriod(start, end))
        cursor = end
    if draw(st.booleans()):
        holds.append(HoldPeriod(cursor + draw(spans)))
    incident = make_incident(
        opened_at=opened,
        severity=draw(st.sampled_from(list(Severity))),
        state=State.ON_HOLD if holds and holds[-1].ended is None else State.IN_PROGRESS,
        holds=tuple(holds),
    )
    at = opened + draw(st.integers(0, 20 * 24 * 60)) * MINUTE
    return incident, at


def _policy_with(target: Target, calendar: BusinessCalendar) -> SlaPolicy:
    table = dict.fromkeys(Severity, target)
    return SlaPolicy(table, table, calendar)


def _paused_work(incident: Incident, calendar: BusinessCalendar, at: datetime) -> timedelta:
    total = timedelta(0)
    for hold in incident.holds:
        start = max(hold.started, incident.opened_at)
        end = min(hold.ended or at, at)
        total += calendar.working_time_between(start, end)
    return total


@settings(max_examples=200, deadline=None)
@given(
    incidents_with_holds(),
    st.sampled_from(CALENDARS),
    st.booleans(),
    st.integers(1, 5 * 8 * 60),
    st.integers(1, 5 * 8 * 60),
)
def test_more_target_is_never_due_earlier(
    case: tuple[Incident, datetime],
    calendar: BusinessCalendar,
    business: bool,
    x: int,
    y: int,
) -> None:
    incident, at = case
    small, large = sorted((x, y))
    early = _policy_with(Target(small * MINUTE, business), calendar)
    late = _policy_with(Target(large * MINUTE, business), calendar)
    assert early.resolution_due(incident, at) <= late.resolution_due(incident, at)


@settings(max_examples=200, deadline=None)
@given(incidents_with_holds(), st.sampled_from(CALENDARS), st.integers(1, 5 * 8 * 60))
def test_paused_time_never_counts(
    case: tuple[Incident, datetime], calendar: BusinessCalendar, minutes: int
) -> None:
    """Elapsed = working time since opening minus working time on hold, to the minute."""
    incident, at = case
    policy = _policy_with(Target(minutes * MINUTE, business=True), calendar)
    reading = policy.reading(incident, "resolution", at)
    total = calendar.working_time_between(incident.opened_at, at)
    assert reading.elapsed == total - _paused_work(incident, calendar, at)
    no_holds = dataclasses.replace(incident, holds=(), state=State.IN_PROGRESS)
    assert reading.elapsed <= policy.reading(no_holds, "resolution", at).elapsed


@settings(max_examples=200, deadline=None)
@given(incidents_with_holds(), st.sampled_from(CALENDARS), st.integers(1, 5 * 8 * 60))
def test_the_due_is_where_unpaused_working_time_reaches_the_target(
    case: tuple[Incident, datetime], calendar: BusinessCalendar, minutes: int
) -> None:
    incident, at = case
    target = minutes * MINUTE
    policy = _policy_with(Target(target, business=True), calendar)
    reading = policy.reading(incident, "resolution", at)
    if reading.status is SlaStatus.PAUSED:
        return  # the due is a projection from ``at``; covered by the pause tests
    # Measured with what was known at ``at`` (an open hold counts up to ``at``),
    # the working time outside holds from opening to the due is the target.
    worked = calendar.working_time_between(incident.opened_at, reading.due)
    paused = _paused_work(incident, calendar, min(reading.due, at))
    assert worked - paused == target
    assert (reading.status is SlaStatus.BREACHED) == (reading.elapsed >= target)


@settings(max_examples=200, deadline=None)
@given(incidents_with_holds(), st.sampled_from(CALENDARS), spans)
def test_elapsed_never_goes_backwards(
    case: tuple[Incident, datetime], calendar: BusinessCalendar, step: timedelta
) -> None:
    incident, at = case
    policy = SlaPolicy.default(calendar)
    now = policy.reading(incident, "resolution", at)
    later = policy.reading(incident, "resolution", at + step)
    assert later.elapsed >= now.elapsed
    assert now.elapsed <= max(at - incident.opened_at, timedelta(0))


def test_policies_are_plain_values_that_copy_and_pickle() -> None:
    """Settings and worker threads may copy a policy; the caches must not get in the way."""
    policy = SlaPolicy.default(SPAIN)
    before = policy.current(sev(SEV4), T0 + HOUR)  # fills the calendar's caches
    for clone in (copy.deepcopy(policy), pickle.loads(pickle.dumps(policy))):
        assert clone == policy
        assert clone.current(sev(SEV4), T0 + HOUR) == before


def test_equal_policies_hash_alike() -> None:
    assert hash(SlaPolicy.default(SPAIN)) == hash(
        SlaPolicy.from_mapping(
            {"calendar": {"time_zone": "Europe/Madrid", "holidays": ["2024-05-01"]}}
        )
    )
    assert SlaPolicy.default(SPAIN) == SlaPolicy.default(SPAIN)
    assert SlaPolicy.default(SPAIN) != SlaPolicy.default()
