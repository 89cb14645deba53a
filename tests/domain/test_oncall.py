"""On-call rotations: who holds the pager, across DST changes, covers and swaps."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from console.domain.errors import DomainError, InvalidValue
from console.domain.oncall import (
    NotScheduledError,
    OnCallShift,
    Override,
    OverrideKind,
    Rotation,
    local_instant,
    next_on_call,
    on_call_at,
    on_call_now,
    shifts_between,
    swap_weeks,
    validate_overrides,
)

MADRID = ZoneInfo("Europe/Madrid")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = timedelta(hours=1)


def local(
    zone: ZoneInfo,
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    *,
    fold: int = 0,
) -> datetime:
    """An aware datetime on ``zone``'s wall clock."""
    return datetime(year, month, day, hour, minute, tzinfo=zone, fold=fold)


def madrid_rota(members: tuple[str, ...] = ("ana", "ben", "cy")) -> Rotation:
    # Monday 09:00 hand-offs; weeks start 18 Mar 2024, so ben's week
    # (25 Mar → 1 Apr) contains the spring-forward Sunday (31 Mar).
    return Rotation("net", "Network", "Europe/Madrid", 0, time(9), members, date(2024, 3, 18))


def new_york_rota() -> Rotation:
    # Monday 09:00 in New York; the 4 Mar 2024 week contains 10 Mar (spring
    # forward), the 28 Oct week contains 3 Nov (fall back).
    return Rotation(
        "db", "Database", "America/New_York", 0, time(9), ("kim", "lee"), date(2024, 3, 4)
    )


# ------------------------------------------------------------------ DST hand-offs


@pytest.mark.parametrize(
    ("rota", "inside", "hours"),
    [
        (madrid_rota(), local(MADRID, 2024, 3, 28, 12), 167),  # spring forward 31 Mar
        (madrid_rota(), local(MADRID, 2024, 10, 24, 12), 169),  # fall back 27 Oct
        (new_york_rota(), local(NEW_YORK, 2024, 3, 7, 12), 167),  # spring forward 10 Mar
        (new_york_rota(), local(NEW_YORK, 2024, 10, 31, 12), 169),  # fall back 3 Nov
        (madrid_rota(), local(MADRID, 2024, 5, 15, 12), 168),  # an ordinary week
    ],
)
def test_week_containing_a_dst_change_is_167_or_169_hours(
    rota: Rotation, inside: datetime, hours: int
) -> None:
    shift = on_call_at(rota, [], inside)
    assert shift.end - shift.start == timedelta(hours=hours)
    for edge in (shift.start, shift.end):
        wall = edge.astimezone(rota.zone)
        assert (wall.weekday(), wall.time()) == (0, time(9))


def test_madrid_spring_forward_hands_off_at_nine_local() -> None:
    rota = madrid_rota()
    # 1 Apr 09:00 CEST is 07:00 UTC; a 168-hour week would hand off at 08:00 UTC (10:00 local).
    handoff = local(MADRID, 2024, 4, 1, 9)
    assert handoff.astimezone(UTC) == datetime(2024, 4, 1, 7, tzinfo=UTC)
    assert on_call_at(rota, [], handoff - timedelta(seconds=1)).contact_id == "ben"
    assert on_call_at(rota, [], handoff).contact_id == "cy"
    assert on_call_at(rota, [], handoff).start == handoff


def test_madrid_fall_back_hands_off_at_nine_local() -> None:
    rota = madrid_rota()
    handoff = local(MADRID, 2024, 10, 28, 9)  # CET: 08:00 UTC
    week = on_call_at(rota, [], handoff)
    assert week.start == datetime(2024, 10, 28, 8, tzinfo=UTC)
    before = on_call_at(rota, [], handoff - timedelta(seconds=1))
    assert before.contact_id != week.contact_id
    assert before.end == week.start


def test_new_york_hand_offs_around_both_changes() -> None:
    rota = new_york_rota()
    spring = on_call_at(rota, [], local(NEW_YORK, 2024, 3, 10, 3, 30))
    assert spring.contact_id == "kim"
    assert spring.start == datetime(2024, 3, 4, 14, tzinfo=UTC)  # 09:00 EST
    assert spring.end == datetime(2024, 3, 11, 13, tzinfo=UTC)  # 09:00 EDT
    fall = on_call_at(rota, [], local(NEW_YORK, 2024, 11, 3, 1, 30, fold=1))
    assert fall.start == datetime(2024, 10, 28, 13, tzinfo=UTC)  # 09:00 EDT
    assert fall.end == datetime(2024, 11, 4, 14, tzinfo=UTC)  # 09:00 EST


def test_hand_off_a_year_later_is_still_at_nine_local() -> None:
    rota = madrid_rota()
    shift = on_call_at(rota, [], local(MADRID, 2025, 3, 19, 12))
    assert shift.start.astimezone(MADRID).replace(tzinfo=None) == datetime(2025, 3, 17, 9)


def test_shifts_are_returned_in_utc() -> None:
    # Subtracting two datetimes sharing a ZoneInfo uses wall time (168 h);
    # UTC results make the 167-hour week visible to any caller.
    shift = on_call_at(madrid_rota(), [], local(MADRID, 2024, 3, 28, 12))
    assert shift.start.tzinfo is UTC
    assert shift.end.tzinfo is UTC


# ------------------------------------------------------------------ gaps and overlaps


def test_hand_off_in_the_spring_gap_is_shifted_forward_by_the_gap() -> None:
    # Sunday 02:30 does not exist on 31 Mar 2024 in Madrid (02:00 → 03:00).
    rota = Rotation("x", "X", "Europe/Madrid", 6, time(2, 30), ("a", "b"), date(2024, 3, 24))
    gap_day = rota.handoff(1)
    assert gap_day == datetime(2024, 3, 31, 1, 30, tzinfo=UTC)
    assert gap_day.astimezone(MADRID).time() == time(3, 30)
    assert on_call_at(rota, [], gap_day).contact_id == "b"
    assert on_call_at(rota, [], gap_day - timedelta(seconds=1)).contact_id == "a"
    # The following week is back at 02:30 local.
    assert rota.handoff(2).astimezone(MADRID).time() == time(2, 30)


def test_hand_off_in_the_new_york_gap() -> None:
    rota = Rotation("x", "X", "America/New_York", 6, time(2, 30), ("a",), date(2024, 3, 3))
    assert rota.handoff(1) == datetime(2024, 3, 10, 7, 30, tzinfo=UTC)  # 03:30 EDT


def test_ambiguous_hand_off_takes_the_first_occurrence() -> None:
    rota = Rotation("x", "X", "America/New_York", 6, time(1, 30), ("a",), date(2024, 10, 27))
    assert rota.handoff(1) == datetime(2024, 11, 3, 5, 30, tzinfo=UTC)  # 01:30 EDT, not EST
    madrid = Rotation("y", "Y", "Europe/Madrid", 6, time(2, 30), ("a",), date(2024, 10, 20))
    assert madrid.handoff(1) == datetime(2024, 10, 27, 0, 30, tzinfo=UTC)  # 02:30 CEST


def test_local_instant_matches_the_documented_rule() -> None:
    assert local_instant(date(2024, 3, 31), time(2, 0), MADRID) == datetime(
        2024, 3, 31, 1, tzinfo=UTC
    )
    assert local_instant(date(2024, 7, 1), time(9), MADRID) == datetime(2024, 7, 1, 7, tzinfo=UTC)


# ------------------------------------------------------------------ overrides


def test_cover_puts_someone_else_on_call_for_the_period_only() -> None:
    rota = madrid_rota()
    cover = Override("dan", local(MADRID, 2024, 3, 26, 10), local(MADRID, 2024, 3, 26, 12))
    during = on_call_at(rota, [cover], local(MADRID, 2024, 3, 26, 11))
    assert (during.contact_id, during.via_override, during.override_kind) == (
        "dan",
        True,
        OverrideKind.COVER,
    )
    after = on_call_at(rota, [cover], local(MADRID, 2024, 3, 26, 12))
    assert (after.contact_id, after.via_override) == ("ben", False)
    assert after.start == local(MADRID, 2024, 3, 26, 12)
    assert after.end == local(MADRID, 2024, 4, 1, 9)
    week = shifts_between(
        rota, [cover], local(MADRID, 2024, 3, 25, 9), local(MADRID, 2024, 4, 1, 9)
    )
    assert [(s.contact_id, s.start.astimezone(MADRID).hour) for s in week] == [
        ("ben", 9),
        ("dan", 10),
        ("ben", 12),
    ]


def test_cover_across_a_hand_off_and_a_dst_change_is_one_shift() -> None:
    rota = madrid_rota()
    cover = Override("dan", local(MADRID, 2024, 3, 30, 18), local(MADRID, 2024, 4, 2, 9))
    shift = on_call_at(rota, [cover], local(MADRID, 2024, 4, 1, 9))
    assert shift.contact_id == "dan"
    assert shift.start == local(MADRID, 2024, 3, 30, 18)
    assert shift.end - shift.start == timedelta(hours=62)  # 63 wall hours minus the lost one
    resumed = on_call_at(rota, [cover], local(MADRID, 2024, 4, 2, 9))
    assert (resumed.contact_id, resumed.end) == ("cy", local(MADRID, 2024, 4, 8, 9))


def test_swap_exchanges_whole_weeks_across_dst() -> None:
    rota = madrid_rota()
    # ben holds the DST week (25 Mar), ana the week of 8 Apr: they swap.
    swap = swap_weeks(rota, date(2024, 3, 27), date(2024, 4, 8), note="holiday")
    assert [o.kind for o in swap] == [OverrideKind.SWAP, OverrideKind.SWAP]
    dst_week = on_call_at(rota, swap, local(MADRID, 2024, 3, 31, 12))
    assert (dst_week.contact_id, dst_week.override_kind) == ("ana", OverrideKind.SWAP)
    assert dst_week.end - dst_week.start == timedelta(hours=167)
    assert on_call_at(rota, swap, local(MADRID, 2024, 4, 10, 12)).contact_id == "ben"
    # Untouched weeks are unchanged.
    assert on_call_at(rota, swap, local(MADRID, 2024, 4, 3, 12)).contact_id == "cy"
    assert on_call_at(rota, swap, local(MADRID, 2024, 3, 20, 12)).contact_id == "ana"


def test_half_a_swap_is_refused() -> None:
    first, _ = swap_weeks(madrid_rota(), date(2024, 3, 25), date(2024, 4, 8))
    with pytest.raises(DomainError, match="pairs"):
        on_call_at(madrid_rota(), [first], local(MADRID, 2024, 3, 27))


def test_a_swap_must_span_exactly_one_rota_week() -> None:
    rota = madrid_rota()
    ragged = Override(
        "ana", local(MADRID, 2024, 3, 25, 10), local(MADRID, 2024, 4, 1, 9), OverrideKind.SWAP
    )
    with pytest.raises(InvalidValue) as err:
        validate_overrides(rota, [ragged])
    assert err.value.field == "overrides"
    assert "Monday 09:00 Europe/Madrid" in str(err.value)


def test_a_swap_partner_must_be_on_the_rota() -> None:
    rota = madrid_rota()
    outsider = Override(
        "zed", local(MADRID, 2024, 3, 25, 9), local(MADRID, 2024, 4, 1, 9), OverrideKind.SWAP
    )
    with pytest.raises(InvalidValue) as err:
        validate_overrides(rota, [outsider])
    assert err.value.field == "contact_id"


def test_swap_weeks_refuses_two_weeks_of_the_same_member() -> None:
    with pytest.raises(InvalidValue) as err:
        swap_weeks(madrid_rota(), date(2024, 3, 18), date(2024, 4, 8))  # both ana's
    assert err.value.field == "second"


def test_overlapping_overrides_are_refused_naming_both() -> None:
    one = Override("dan", local(MADRID, 2024, 3, 26, 10), local(MADRID, 2024, 3, 26, 12))
    two = Override("eve", local(MADRID, 2024, 3, 26, 11), local(MADRID, 2024, 3, 26, 13))
    with pytest.raises(InvalidValue) as err:
        on_call_at(madrid_rota(), [two, one], local(MADRID, 2024, 3, 26, 11))
    assert err.value.field == "overrides"
    assert "dan" in str(err.value)
    assert "eve" in str(err.value)


def test_back_to_back_overrides_are_fine() -> None:
    one = Override("dan", local(MADRID, 2024, 3, 26, 10), local(MADRID, 2024, 3, 26, 12))
    two = Override("eve", local(MADRID, 2024, 3, 26, 12), local(MADRID, 2024, 3, 26, 13))
    assert on_call_at(madrid_rota(), [one, two], local(MADRID, 2024, 3, 26, 12)).contact_id == "eve"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"end": local(MADRID, 2024, 3, 26, 10)}, "end"),
        ({"end": local(MADRID, 2024, 3, 26, 9)}, "end"),
        ({"start": datetime(2024, 3, 26, 10)}, "start"),
        ({"contact_id": " "}, "contact_id"),
        ({"kind": "holiday"}, "kind"),
    ],
)
def test_override_validation_names_the_field(kwargs: dict[str, object], field: str) -> None:
    values: dict[str, object] = {
        "contact_id": "dan",
        "start": local(MADRID, 2024, 3, 26, 10),
        "end": local(MADRID, 2024, 3, 26, 12),
    }
    values.update(kwargs)
    with pytest.raises(InvalidValue) as err:
        Override(**values)  # type: ignore[arg-type]
    assert err.value.field == field


def test_override_kind_accepts_the_wire_name() -> None:
    cover = Override(
        "dan",
        local(MADRID, 2024, 3, 26, 10),
        local(MADRID, 2024, 3, 26, 12),
        "cover",  # type: ignore[arg-type]
    )
    assert cover.kind is OverrideKind.COVER


# ------------------------------------------------------------------ next on call


def test_next_is_the_following_week_holder() -> None:
    rota = madrid_rota()
    nxt = next_on_call(rota, [], local(MADRID, 2024, 3, 20, 3))
    assert (nxt.contact_id, nxt.start) == ("ben", local(MADRID, 2024, 3, 25, 9))


def test_next_during_a_cover_is_whoever_takes_back() -> None:
    rota = madrid_rota()
    cover = Override("dan", local(MADRID, 2024, 3, 26, 10), local(MADRID, 2024, 3, 26, 12))
    nxt = next_on_call(rota, [cover], local(MADRID, 2024, 3, 26, 11))
    assert (nxt.contact_id, nxt.start) == ("ben", local(MADRID, 2024, 3, 26, 12))


def test_next_before_a_cover_is_the_cover() -> None:
    rota = madrid_rota()
    cover = Override("dan", local(MADRID, 2024, 3, 26, 10), local(MADRID, 2024, 3, 26, 12))
    nxt = next_on_call(rota, [cover], local(MADRID, 2024, 3, 25, 20))
    assert (nxt.contact_id, nxt.via_override) == ("dan", True)


def test_next_skips_a_week_held_by_the_same_person() -> None:
    rota = madrid_rota()
    # ana (week of 18 Mar) takes ben's week of 25 Mar too: next is cy on 1 Apr.
    swap = swap_weeks(rota, date(2024, 3, 25), date(2024, 4, 8))
    nxt = next_on_call(rota, swap, local(MADRID, 2024, 3, 19, 12))
    assert (nxt.contact_id, nxt.start) == ("cy", local(MADRID, 2024, 4, 1, 9))


def test_next_with_one_member_is_their_next_week() -> None:
    rota = madrid_rota(("ana",))
    nxt = next_on_call(rota, [], local(MADRID, 2024, 3, 20, 12))
    assert (nxt.contact_id, nxt.start) == ("ana", local(MADRID, 2024, 3, 25, 9))


def test_next_before_the_rota_starts_is_its_first_shift() -> None:
    nxt = next_on_call(madrid_rota(), [], local(MADRID, 2024, 3, 1, 9))
    assert (nxt.contact_id, nxt.start) == ("ana", local(MADRID, 2024, 3, 18, 9))


def test_nobody_is_scheduled_before_the_rota_starts() -> None:
    with pytest.raises(NotScheduledError, match="2024-03-18"):
        on_call_at(madrid_rota(), [], local(MADRID, 2024, 3, 18, 8, 59))
    assert (
        shifts_between(madrid_rota(), [], local(MADRID, 2024, 3, 1), local(MADRID, 2024, 3, 18, 9))
        == []
    )


def test_on_call_now_maps_rotations_to_contacts() -> None:
    later = Rotation("dm", "Duty managers", "UTC", 0, time(9), ("mo",), date(2030, 1, 7))
    now = on_call_now([madrid_rota(), later], {}, local(MADRID, 2024, 3, 26, 11))
    assert now == {"net": "ben", "dm": None}
    cover = Override("dan", local(MADRID, 2024, 3, 26, 10), local(MADRID, 2024, 3, 26, 12))
    assert on_call_now([madrid_rota()], {"net": [cover]}, local(MADRID, 2024, 3, 26, 11)) == {
        "net": "dan"
    }


# ------------------------------------------------------------------ rotation validation


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"members": ()}, "members"),
        ({"members": ("ana", "")}, "members"),
        ({"time_zone": "Europe/Atlantis"}, "time_zone"),
        ({"time_zone": "../etc/passwd"}, "time_zone"),
        ({"time_zone": ""}, "time_zone"),
        ({"handoff_weekday": 7}, "handoff_weekday"),
        ({"handoff_time": time(9, tzinfo=UTC)}, "handoff_time"),
        ({"start": date(2024, 3, 19)}, "start"),
        ({"start": datetime(2024, 3, 18, 9, tzinfo=UTC)}, "start"),
        ({"id": ""}, "id"),
    ],
)
def test_rotation_validation_names_the_field(changes: dict[str, object], field: str) -> None:
    values: dict[str, object] = {
        "id": "net",
        "team": "Network",
        "time_zone": "Europe/Madrid",
        "handoff_weekday": 0,
        "handoff_time": time(9),
        "members": ("ana",),
        "start": date(2024, 3, 18),
    }
    values.update(changes)
    with pytest.raises(InvalidValue) as err:
        Rotation(**values)  # type: ignore[arg-type]
    assert err.value.field == field


def test_start_on_the_wrong_weekday_says_which_day() -> None:
    with pytest.raises(InvalidValue, match="Monday"):
        Rotation("n", "N", "UTC", 0, time(9), ("a",), date(2024, 3, 19))


def test_members_given_as_a_list_become_a_tuple() -> None:
    rota = Rotation("n", "N", "UTC", 0, time(9), ["a", "b"], date(2024, 3, 18))  # type: ignore[arg-type]
    assert rota.members == ("a", "b")
    hash(rota)


def test_naive_instants_are_refused() -> None:
    with pytest.raises(InvalidValue) as err:
        on_call_at(madrid_rota(), [], datetime(2024, 3, 26, 11))
    assert err.value.field == "at"
    with pytest.raises(InvalidValue) as err:
        shifts_between(madrid_rota(), [], local(MADRID, 2024, 4, 1), local(MADRID, 2024, 3, 26))
    assert err.value.field == "end"


# ------------------------------------------------------------------ properties

ZONES = [
    "Europe/Madrid",
    "America/New_York",
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "Australia/Sydney",  # southern hemisphere: DST over new year
    "Asia/Kolkata",  # no DST
    "UTC",
]


@st.composite
def schedules(draw: st.DrawFn) -> tuple[Rotation, list[Override], datetime, datetime]:
    """A random rota, non-overlapping covers, maybe a swap, and a window to look at."""
    zone = draw(st.sampled_from(ZONES))
    weekday = draw(st.integers(0, 6))
    hour = draw(st.integers(0, 23))
    minute = draw(st.sampled_from([0, 15, 30, 45]))
    first = date(2023, 1, 2) + timedelta(days=draw(st.integers(0, 800)))
    first += timedelta(days=(weekday - first.weekday()) % 7)
    members = tuple(draw(st.lists(st.sampled_from("abcde"), min_size=1, max_size=5)))
    rota = Rotation("r", "Team", zone, weekday, time(hour, minute), members, first)
    origin = rota.first_handoff
    overrides: list[Override] = []
    if draw(st.booleans()) and len(set(members)) > 1:
        week_a = draw(st.integers(0, 8))
        week_b = draw(st.integers(0, 8))
        holder_a, holder_b = rota.scheduled(week_a), rota.scheduled(week_b)
        if holder_a != holder_b:
            day = rota.start + timedelta(days=7 * week_a)
            other = rota.start + timedelta(days=7 * week_b)
            overrides.extend(swap_weeks(rota, day, other))
    # Covers: random minute marks, paired up, kept out of any swapped week.
    marks = sorted(
        set(draw(st.lists(st.integers(-3 * 24 * 60, 70 * 24 * 60), max_size=8, unique=True)))
    )
    for begin, finish in zip(marks[::2], marks[1::2], strict=False):
        cover = Override(
            draw(st.sampled_from("cxyz")),
            origin + timedelta(minutes=begin),
            origin + timedelta(minutes=finish),
        )
        if all(cover.end <= o.start or cover.start >= o.end for o in overrides):
            overrides.append(cover)
    start = origin + timedelta(minutes=draw(st.integers(-2 * 24 * 60, 60 * 24 * 60)))
    end = start + timedelta(minutes=draw(st.integers(1, 30 * 24 * 60)))
    return rota, overrides, start, end


@settings(max_examples=150, deadline=None)
@given(schedules(), st.lists(st.floats(0, 1), min_size=1, max_size=10))
def test_shifts_are_contiguous_and_exactly_one_covers_each_instant(
    schedule: tuple[Rotation, list[Override], datetime, datetime], probes: list[float]
) -> None:
    rota, overrides, start, end = schedule
    assume(end > rota.first_handoff)
    shifts = shifts_between(rota, overrides, start, end)
    assert shifts, "a window after the rota starts always has a shift"
    assert shifts[0].start <= max(start, rota.first_handoff) < shifts[0].end
    assert shifts[-1].end >= end
    for shift in shifts:
        assert rota.first_handoff <= shift.start < shift.end  # nothing before the rota starts
    for before, after in itertools.pairwise(shifts):
        assert before.end == after.start  # contiguous: no gap, no overlap
    for p in probes:
        at = max(start, rota.first_handoff) + (end - max(start, rota.first_handoff)) * p
        if at >= end:
            continue
        covering = [s for s in shifts if s.covers(at)]
        assert len(covering) == 1
        assert on_call_at(rota, overrides, at) == covering[0]


@settings(max_examples=150, deadline=None)
@given(schedules())
def test_rota_shifts_begin_and_end_at_hand_offs_or_override_edges(
    schedule: tuple[Rotation, list[Override], datetime, datetime],
) -> None:
    rota, overrides, start, end = schedule
    assume(end > rota.first_handoff)
    edges = {o.start for o in overrides} | {o.end for o in overrides}
    for shift in shifts_between(rota, overrides, start, end):
        for edge in (shift.start, shift.end):
            week = rota.week_of(edge)
            assert edge == rota.handoff(week) or edge in edges
        if not shift.via_override:
            week = rota.week_of(shift.start)
            assert shift.contact_id == rota.scheduled(week)
            assert shift.end <= rota.handoff(week + 1)


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(ZONES),
    st.integers(0, 6),
    st.integers(0, 23),
    st.sampled_from([0, 30]),
    st.integers(-60, 600),
)
def test_hand_off_is_at_the_local_wall_time_whenever_that_time_exists(
    zone_name: str, weekday: int, hour: int, minute: int, week: int
) -> None:
    first = date(2024, 1, 1) + timedelta(days=weekday)
    rota = Rotation("r", "T", zone_name, weekday, time(hour, minute), ("a",), first)
    instant = rota.handoff(week)
    wall = instant.astimezone(rota.zone)
    expected_day = first + timedelta(days=7 * week)
    naive = datetime.combine(expected_day, time(hour, minute))
    exists = (
        naive.replace(tzinfo=rota.zone).astimezone(UTC).astimezone(rota.zone).replace(tzinfo=None)
        == naive
    )
    if exists:
        assert wall.replace(tzinfo=None) == naive
    else:
        # In a gap: later than the wall time asked for, by at most the gap (≤ 1 h).
        assert naive < wall.replace(tzinfo=None) <= naive + HOUR
    length = rota.handoff(week + 1) - instant
    assert timedelta(hours=166) <= length <= timedelta(hours=170)


@settings(max_examples=100, deadline=None)
@given(schedules(), st.floats(0, 1))
def test_next_is_after_the_current_shift_and_someone_else_when_possible(
    schedule: tuple[Rotation, list[Override], datetime, datetime], p: float
) -> None:
    rota, overrides, _start, end = schedule
    at = rota.first_handoff + (end - rota.first_handoff) * p if end > rota.first_handoff else end
    assume(at >= rota.first_handoff)
    current = on_call_at(rota, overrides, at)
    nxt = next_on_call(rota, overrides, at)
    assert nxt.start >= current.end
    if len(set(rota.members)) > 1:
        assert nxt.contact_id != current.contact_id
        # Nobody else holds the pager in between.
        between = (
            shifts_between(rota, overrides, current.end, nxt.start)
            if nxt.start > current.end
            else []
        )
        assert all(s.contact_id == current.contact_id for s in between)


def test_on_call_shift_is_a_plain_value() -> None:
    shift = OnCallShift(
        "r", "a", datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 8, tzinfo=UTC)
    )
    assert not shift.via_override
    assert shift.duration == timedelta(days=7)
