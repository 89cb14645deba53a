"""Business calendars: working time across weekends, holidays, zones and DST changes."""

from __future__ import annotations

import time as stopwatch
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.domain.calendar import (
    DEFAULT_CALENDAR,
    TWENTY_FOUR_SEVEN,
    BusinessCalendar,
)
from console.domain.errors import DomainError, InvalidValue

MADRID = ZoneInfo("Europe/Madrid")
NEW_YORK = ZoneInfo("America/New_York")
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
MON_FRI = frozenset(range(5))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def madrid(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MADRID)


def new_york(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


SPAIN = BusinessCalendar(
    "Europe/Madrid",
    MON_FRI,
    time(9),
    time(17),
    frozenset({date(2024, 5, 1), date(2024, 12, 25)}),
)
US_EAST = BusinessCalendar("America/New_York", MON_FRI, time(9), time(17), {date(2024, 7, 4)})  # type: ignore[arg-type]


# ------------------------------------------------------------------ basics


def test_default_calendar_is_office_hours_in_utc() -> None:
    assert DEFAULT_CALENDAR.time_zone == "UTC"
    assert DEFAULT_CALENDAR.weekdays == MON_FRI
    assert (DEFAULT_CALENDAR.day_start, DEFAULT_CALENDAR.day_end) == (time(9), time(17))
    assert DEFAULT_CALENDAR.holidays == frozenset()
    assert DEFAULT_CALENDAR.business_day == 8 * HOUR
    assert DEFAULT_CALENDAR.hours_per_day == 8.0


def test_business_day_follows_the_configured_hours() -> None:
    assert BusinessCalendar("UTC", MON_FRI, time(8, 30), time(18)).business_day == 9.5 * HOUR
    assert BusinessCalendar("UTC", MON_FRI, time(22), time(0)).business_day == 2 * HOUR
    assert TWENTY_FOUR_SEVEN.business_day == 24 * HOUR


def test_working_time_inside_one_day() -> None:
    cal = DEFAULT_CALENDAR
    assert cal.working_time_between(utc(2024, 6, 3, 10), utc(2024, 6, 3, 12, 30)) == 2.5 * HOUR
    assert cal.working_time_between(utc(2024, 6, 3, 7), utc(2024, 6, 3, 20)) == 8 * HOUR
    assert cal.working_time_between(utc(2024, 6, 3, 18), utc(2024, 6, 3, 20)) == timedelta(0)


def test_working_time_is_zero_when_the_end_is_not_after_the_start() -> None:
    cal = DEFAULT_CALENDAR
    assert cal.working_time_between(utc(2024, 6, 3, 12), utc(2024, 6, 3, 10)) == timedelta(0)
    assert cal.working_time_between(utc(2024, 6, 3, 12), utc(2024, 6, 3, 12)) == timedelta(0)


def test_weekend_does_not_count() -> None:
    friday_4pm, monday_10am = utc(2024, 6, 7, 16), utc(2024, 6, 10, 10)
    assert DEFAULT_CALENDAR.working_time_between(friday_4pm, monday_10am) == 2 * HOUR
    assert DEFAULT_CALENDAR.add_working_time(friday_4pm, 2 * HOUR) == monday_10am


def test_a_deadline_at_the_end_of_the_day_is_that_evening() -> None:
    """8 working hours from Monday 09:00 is Monday 17:00, not Tuesday 09:00."""
    assert DEFAULT_CALENDAR.add_working_time(utc(2024, 6, 3, 9), 8 * HOUR) == utc(2024, 6, 3, 17)


def test_adding_from_outside_working_hours_starts_at_the_next_opening() -> None:
    saturday = utc(2024, 6, 8, 11)
    assert DEFAULT_CALENDAR.add_working_time(saturday, 30 * MINUTE) == utc(2024, 6, 10, 9, 30)
    evening = utc(2024, 6, 4, 20)
    assert DEFAULT_CALENDAR.add_working_time(evening, HOUR) == utc(2024, 6, 5, 10)


def test_adding_nothing_is_the_start_itself_in_utc() -> None:
    start = madrid(2024, 6, 8, 11)  # a Saturday
    result = SPAIN.add_working_time(start, timedelta(0))
    assert result == start
    assert result.tzinfo is UTC


def test_adding_negative_time_is_refused() -> None:
    with pytest.raises(InvalidValue, match="amount"):
        DEFAULT_CALENDAR.add_working_time(utc(2024, 6, 3, 9), -MINUTE)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(InvalidValue, match="time zone"):
        DEFAULT_CALENDAR.working_time_between(datetime(2024, 6, 3, 9), utc(2024, 6, 3, 10))
    with pytest.raises(InvalidValue, match="time zone"):
        DEFAULT_CALENDAR.add_working_time(datetime(2024, 6, 3, 9), HOUR)
    with pytest.raises(InvalidValue, match="time zone"):
        TWENTY_FOUR_SEVEN.is_working(datetime(2024, 6, 3, 9))


def test_is_working() -> None:
    cal = SPAIN
    assert cal.is_working(madrid(2024, 6, 3, 9))  # opening minute counts
    assert cal.is_working(madrid(2024, 6, 3, 16, 59))
    assert not cal.is_working(madrid(2024, 6, 3, 17))  # closing minute does not
    assert not cal.is_working(madrid(2024, 6, 3, 8, 59))
    assert not cal.is_working(madrid(2024, 6, 8, 12))  # Saturday
    assert not cal.is_working(madrid(2024, 5, 1, 12))  # holiday
    # 09:30 in Madrid is 07:30 UTC: the zone of the question does not matter.
    assert cal.is_working(utc(2024, 6, 3, 7, 30))
    assert not cal.is_working(utc(2024, 6, 3, 15, 30))


def test_working_hours_of_a_day() -> None:
    assert SPAIN.working_hours(date(2024, 6, 3)) == (utc(2024, 6, 3, 7), utc(2024, 6, 3, 15))
    assert SPAIN.working_hours(date(2024, 1, 8)) == (utc(2024, 1, 8, 8), utc(2024, 1, 8, 16))
    assert SPAIN.working_hours(date(2024, 6, 8)) is None
    assert SPAIN.working_hours(date(2024, 12, 25)) is None


# ------------------------------------------------------------------ zones and holidays


def test_holiday_in_madrid_is_skipped() -> None:
    """Tuesday 30 April 11:00 + 2 business days skips 1 May: due Friday 11:00 CEST."""
    start = madrid(2024, 4, 30, 11)
    due = SPAIN.add_working_time(start, 2 * SPAIN.business_day)
    assert due == madrid(2024, 5, 3, 11) == utc(2024, 5, 3, 9)
    assert SPAIN.working_time_between(start, due) == 16 * HOUR
    no_holidays = BusinessCalendar("Europe/Madrid", MON_FRI, time(9), time(17))
    assert no_holidays.add_working_time(start, 16 * HOUR) == madrid(2024, 5, 2, 11)


def test_independence_day_in_new_york_is_skipped() -> None:
    """Wednesday 3 July 15:00 EDT + 5 business days skips the 4th and the weekend."""
    start = new_york(2024, 7, 3, 15)
    due = US_EAST.add_working_time(start, 5 * US_EAST.business_day)
    assert due == new_york(2024, 7, 11, 15) == utc(2024, 7, 11, 19)


def test_christmas_across_new_year() -> None:
    """A stretch over Christmas, a weekend and New Year's Eve into the next year."""
    start = madrid(2024, 12, 24, 16)
    due = SPAIN.add_working_time(start, 3 * SPAIN.business_day)
    # 24th: 1 h; 25th holiday; 26, 27: 16 h; 30th: 7 h -> due 30th 16:00 CET.
    assert due == madrid(2024, 12, 30, 16)
    later = SPAIN.add_working_time(start, 5 * SPAIN.business_day)
    # ... 30th: 8 h (to 17:00); 31st: 8 h; 1 January 2025 is not a holiday here: 7 h.
    assert later == madrid(2025, 1, 1, 16)
    assert SPAIN.working_time_between(start, later) == 40 * HOUR


# ------------------------------------------------------------------ daylight saving


@pytest.mark.parametrize(
    ("start", "due"),
    [
        # Madrid springs forward on Sunday 31 March 2024 (UTC+1 -> UTC+2).
        (madrid(2024, 3, 29, 16), madrid(2024, 4, 1, 16)),
        # ... and falls back on Sunday 27 October 2024 (UTC+2 -> UTC+1).
        (madrid(2024, 10, 25, 16), madrid(2024, 10, 28, 16)),
        # New York springs forward on 10 March and falls back on 3 November 2024.
        (new_york(2024, 3, 8, 16), new_york(2024, 3, 11, 16)),
        (new_york(2024, 11, 1, 16), new_york(2024, 11, 4, 16)),
    ],
)
def test_business_day_across_a_dst_weekend_keeps_wall_clock_hours(
    start: datetime, due: datetime
) -> None:
    """Friday 16:00 + one business day is Monday 16:00 local, whatever the offset did."""
    cal = SPAIN if start.tzinfo is MADRID else US_EAST
    assert cal.add_working_time(start, cal.business_day) == due
    assert cal.working_time_between(start, due) == 8 * HOUR


def test_concrete_utc_instants_across_spring_forward() -> None:
    # Friday 16:00 CET is 15:00 UTC; Monday 16:00 CEST is 14:00 UTC.
    assert SPAIN.add_working_time(utc(2024, 3, 29, 15), 8 * HOUR) == utc(2024, 4, 1, 14)
    assert US_EAST.add_working_time(utc(2024, 3, 8, 21), 8 * HOUR) == utc(2024, 3, 11, 20)


def test_a_day_when_clocks_move_inside_working_hours() -> None:
    """Working hours 00:00–08:00 on the wall clock: 7 real hours in spring, 9 in autumn."""
    night = BusinessCalendar("Europe/Madrid", frozenset(range(7)), time(0), time(8))
    spring = night.working_hours(date(2024, 3, 31))
    autumn = night.working_hours(date(2024, 10, 27))
    assert spring is not None
    assert autumn is not None
    assert spring[1] - spring[0] == 7 * HOUR
    assert autumn[1] - autumn[0] == 9 * HOUR
    assert night.working_time_between(madrid(2024, 3, 31, 0), madrid(2024, 3, 31, 12)) == 7 * HOUR
    assert night.working_time_between(madrid(2024, 10, 27), madrid(2024, 10, 27, 12)) == 9 * HOUR
    assert night.add_working_time(madrid(2024, 3, 31, 0), 7 * HOUR) == madrid(2024, 3, 31, 8)


def test_whole_days_are_23_and_25_hours_when_clocks_move() -> None:
    # A holiday keeps this off the round-the-clock shortcut, so the per-day walk is used.
    every_day = BusinessCalendar(
        "Europe/Madrid", frozenset(range(7)), time(0), time(0), frozenset({date(2020, 1, 1)})
    )
    assert not every_day.is_round_the_clock
    spring = every_day.working_hours(date(2024, 3, 31))
    autumn = every_day.working_hours(date(2024, 10, 27))
    assert spring is not None
    assert autumn is not None
    assert spring[1] - spring[0] == 23 * HOUR
    assert autumn[1] - autumn[0] == 25 * HOUR


def test_a_working_day_starting_inside_the_spring_gap_starts_when_clocks_jump() -> None:
    """02:30 never shows on 31 March in Madrid; the day starts at 03:00 CEST."""
    cal = BusinessCalendar("Europe/Madrid", frozenset(range(7)), time(2, 30), time(5))
    assert cal.working_hours(date(2024, 3, 31)) == (utc(2024, 3, 31, 1), utc(2024, 3, 31, 3))
    # On the autumn day 02:30 happens twice; the first one (CEST) opens the day.
    assert cal.working_hours(date(2024, 10, 27)) == (utc(2024, 10, 27, 0, 30), utc(2024, 10, 27, 4))


def test_same_zone_subtraction_pitfall_is_avoided() -> None:
    """Python subtracts two datetimes sharing a ZoneInfo by wall clock; the calendar must not."""
    a, b = madrid(2024, 3, 31, 1), madrid(2024, 3, 31, 4)
    assert b - a == 3 * HOUR  # Python's wall-clock answer
    assert TWENTY_FOUR_SEVEN.working_time_between(a, b) == 2 * HOUR  # the real one
    c, d = madrid(2024, 10, 27, 1), madrid(2024, 10, 27, 4)
    assert TWENTY_FOUR_SEVEN.working_time_between(c, d) == 4 * HOUR


def test_round_the_clock() -> None:
    assert TWENTY_FOUR_SEVEN.is_round_the_clock
    assert not DEFAULT_CALENDAR.is_round_the_clock
    start = utc(2024, 6, 8, 23, 50)  # a Saturday night
    assert TWENTY_FOUR_SEVEN.is_working(start)
    assert TWENTY_FOUR_SEVEN.add_working_time(start, 4 * HOUR) == utc(2024, 6, 9, 3, 50)
    assert TWENTY_FOUR_SEVEN.working_time_between(start, utc(2024, 6, 10, 0, 50)) == 25 * HOUR


# ------------------------------------------------------------------ configuration


def test_from_mapping_reads_a_full_calendar() -> None:
    cal = BusinessCalendar.from_mapping(
        {
            "time_zone": "Europe/Madrid",
            "weekdays": ["mon", "Tuesday", "wed", 3, "fri"],
            "day_start": "08:30",
            "day_end": "18:00",
            "holidays": ["2024-05-01", date(2024, 12, 25)],
        }
    )
    assert cal == BusinessCalendar(
        "Europe/Madrid",
        frozenset({0, 1, 2, 3, 4}),
        time(8, 30),
        time(18),
        frozenset({date(2024, 5, 1), date(2024, 12, 25)}),
    )
    assert cal.zone is MADRID


def test_from_mapping_defaults_to_office_hours_and_allows_24_00() -> None:
    cal = BusinessCalendar.from_mapping({"time_zone": "UTC"})
    assert cal == DEFAULT_CALENDAR
    late = BusinessCalendar.from_mapping(
        {"time_zone": "UTC", "day_start": "16:00", "day_end": "24:00"}
    )
    assert late.business_day == 8 * HOUR
    all_week = BusinessCalendar.from_mapping(
        {"time_zone": "UTC", "weekdays": list(range(7)), "day_start": "00:00", "day_end": "24:00"}
    )
    assert all_week == TWENTY_FOUR_SEVEN
    assert all_week.is_round_the_clock


@pytest.mark.parametrize(
    ("raw", "field", "hint"),
    [
        ({"time_zone": "Mars/Olympus"}, "calendar.time_zone", "IANA time zone"),
        ({"time_zone": "../../etc/passwd"}, "calendar.time_zone", "IANA time zone"),
        ({"time_zone": ""}, "calendar.time_zone", "IANA time zone"),
        ({"time_zone": 5}, "calendar.time_zone", "IANA time zone"),
        ({}, "calendar.time_zone", "IANA time zone"),
        (
            {"time_zone": "UTC", "day_start": "17:00", "day_end": "09:00"},
            "calendar.day_end",
            "after day_start (17:00)",
        ),
        (
            {"time_zone": "UTC", "day_start": "09:00", "day_end": "09:00"},
            "calendar.day_end",
            "after day_start",
        ),
        ({"time_zone": "UTC", "day_start": "9am"}, "calendar.day_start", "HH:MM"),
        ({"time_zone": "UTC", "day_end": "25:00"}, "calendar.day_end", "HH:MM"),
        ({"time_zone": "UTC", "day_end": "24:30"}, "calendar.day_end", "HH:MM"),
        ({"time_zone": "UTC", "weekdays": []}, "calendar.weekdays", "at least one of mon"),
        ({"time_zone": "UTC", "weekdays": ["mon", "funday"]}, "calendar.weekdays", "mon, tue, wed"),
        ({"time_zone": "UTC", "weekdays": [7]}, "calendar.weekdays", "mon, tue"),
        ({"time_zone": "UTC", "weekdays": "mon-fri"}, "calendar.weekdays", "mon, tue"),
        ({"time_zone": "UTC", "holidays": ["2024-02-30"]}, "calendar.holidays", "YYYY-MM-DD"),
        ({"time_zone": "UTC", "holidays": ["25/12/2024"]}, "calendar.holidays", "YYYY-MM-DD"),
        ({"time_zone": "UTC", "holidays": ["20241225"]}, "calendar.holidays", "YYYY-MM-DD"),
        (
            {"time_zone": "UTC", "holidays": [datetime(2024, 12, 25)]},
            "calendar.holidays",
            "YYYY-MM-DD",
        ),
        ({"time_zone": "UTC", "holidays": "2024-12-25"}, "calendar.holidays", "YYYY-MM-DD"),
        ({"time_zone": "UTC", "timezone": "UTC"}, "calendar.timezone", "time_zone, weekdays"),
    ],
)
def test_bad_calendar_config_is_refused_naming_the_field(
    raw: dict[str, object], field: str, hint: str
) -> None:
    with pytest.raises(InvalidValue) as info:
        BusinessCalendar.from_mapping(raw)
    assert info.value.field == field
    assert hint in str(info.value)


def test_config_errors_carry_the_callers_prefix() -> None:
    with pytest.raises(InvalidValue) as info:
        BusinessCalendar.from_mapping({"time_zone": "Nowhere"}, where="sla.calendar")
    assert info.value.field == "sla.calendar.time_zone"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"time_zone": "Atlantis/Capital"}, "time_zone"),
        ({"weekdays": frozenset()}, "weekdays"),
        ({"weekdays": frozenset({0, 9})}, "weekdays"),
        ({"day_start": time(17), "day_end": time(9)}, "day_end"),
        ({"day_start": time(9, tzinfo=UTC)}, "day_start"),
        ({"holidays": frozenset({"2024-12-25"})}, "holidays"),
    ],
)
def test_direct_construction_is_validated_too(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidValue) as info:
        BusinessCalendar(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_a_calendar_whose_days_are_all_holidays_gives_a_clear_error() -> None:
    sundays_2024 = {date(2024, 1, 7) + timedelta(weeks=w) for w in range(52)}
    only_sundays = BusinessCalendar(
        "UTC", frozenset({6}), time(9), time(17), frozenset(sundays_2024)
    )
    assert only_sundays.add_working_time(utc(2024, 1, 1), HOUR) == utc(2025, 1, 5, 10)
    assert only_sundays.working_time_between(utc(2024, 1, 1), utc(2024, 12, 31)) == timedelta(0)
    with pytest.raises(DomainError, match="no working time left"):
        only_sundays.add_working_time(utc(9999, 12, 20), 100 * HOUR)


def test_calendars_compare_by_their_settings_not_their_caches() -> None:
    a = BusinessCalendar("Europe/Madrid")
    b = BusinessCalendar("Europe/Madrid")
    a.working_time_between(madrid(2024, 1, 1), madrid(2024, 2, 1))  # fills a's cache only
    assert a == b
    assert hash(a) == hash(b)
    assert "_years" not in repr(a)


# ------------------------------------------------------------------ speed


def test_long_spans_are_computed_per_day_not_per_minute() -> None:
    """10 000 deadlines of 5 business days, and spans of years, in well under a second.

    A minute-by-minute walk needs ~7 000 steps per 5-day deadline and would
    take many seconds here; the per-year tables answer with two binary searches.
    """
    start = madrid(2024, 3, 28, 10)
    SPAIN.add_working_time(start, HOUR)  # build this year's table outside the timing
    began = stopwatch.perf_counter()
    for i in range(10_000):
        SPAIN.add_working_time(start + i * MINUTE, 5 * SPAIN.business_day)
    assert stopwatch.perf_counter() - began < 1.0
    span = SPAIN.working_time_between(madrid(2000, 1, 1), madrid(2030, 1, 1))
    assert timedelta(days=2500) < span < timedelta(days=3000)  # about 7 800 working days × 8 h


# ------------------------------------------------------------------ properties

ZONES = [
    "UTC",
    "Europe/Madrid",
    "America/New_York",
    "Australia/Sydney",  # southern hemisphere: DST around New Year
    "Australia/Lord_Howe",  # a half-hour DST shift
    "Asia/Kolkata",  # +05:30, no DST
    "America/St_Johns",  # -03:30 with DST
    "Europe/Dublin",  # "negative" DST in the tz database
    "Africa/Cairo",  # clocks move at midnight
    "Pacific/Kiritimati",  # +14:00
]


def _transition_days(zone: ZoneInfo) -> list[date]:
    """Local dates in 2023–2025 on which the zone's UTC offset changes."""
    days = []
    day = date(2023, 1, 1)
    while day < date(2026, 1, 1):
        today = datetime.combine(day, time(0), tzinfo=zone).utcoffset()
        tomorrow = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).utcoffset()
        if today != tomorrow:
            days.append(day)
            days.append(day + timedelta(days=1))
        day += timedelta(days=1)
    return days


TRANSITION_DAYS = {name: _transition_days(ZoneInfo(name)) or [date(2024, 1, 1)] for name in ZONES}


NIGHT_MINUTES = [0, 30, 60, 90, 120, 135, 150, 180, 210]


@st.composite
def calendars(draw: st.DrawFn, around: date | None = None) -> BusinessCalendar:
    """Any valid calendar: zone, weekdays, whole-minute hours, holidays near ``around``."""
    zone = draw(st.sampled_from(ZONES))
    weekdays = draw(st.frozensets(st.integers(0, 6), min_size=1))
    # Often pick times in the small hours, where clocks jump or repeat.
    start = draw(st.one_of(st.integers(0, 24 * 60 - 1), st.sampled_from(NIGHT_MINUTES)))
    later_night = [m for m in NIGHT_MINUTES if m > start]
    end = draw(st.one_of(st.integers(start + 1, 24 * 60), st.sampled_from([*later_night, 24 * 60])))
    base = around or date(2024, 1, 1)
    holidays = draw(
        st.frozensets(st.integers(-3, 15).map(lambda k: base + timedelta(days=k)), max_size=6)
    )
    return BusinessCalendar(
        zone,
        weekdays,
        time(start // 60, start % 60),
        time(0) if end == 24 * 60 else time(end // 60, end % 60),
        holidays,
    )


@st.composite
def calendar_and_instant(draw: st.DrawFn) -> tuple[BusinessCalendar, datetime]:
    """A calendar and an instant, often in the days around one of its zone's clock changes."""
    zone = draw(st.sampled_from(ZONES))
    day = draw(
        st.one_of(
            st.sampled_from(TRANSITION_DAYS[zone]),
            st.dates(date(2023, 1, 1), date(2025, 12, 31)),
        )
    )
    cal = draw(calendars(around=day))
    cal = BusinessCalendar(zone, cal.weekdays, cal.day_start, cal.day_end, cal.holidays)
    minutes = draw(st.integers(-3 * 24 * 60, 3 * 24 * 60))
    instant = datetime.combine(day, time(12), tzinfo=UTC) + minutes * MINUTE
    return cal, instant


durations = st.integers(0, 12 * 24 * 60).map(lambda m: m * MINUTE)


def work_amounts(cal: BusinessCalendar, days: int) -> st.SearchStrategy[timedelta]:
    """Whole minutes of working time up to ``days`` of the calendar's working days.

    Scaled to the calendar so a one-minute working day does not ask for years.
    """
    return st.integers(0, days * (cal.business_day // MINUTE)).map(lambda m: m * MINUTE)


def _first_instant(zone: ZoneInfo, wall: datetime) -> datetime:
    """Oracle: scan minute by minute for the first instant showing ``wall`` or later."""
    guess = wall.replace(tzinfo=UTC)
    offsets = [(guess + timedelta(days=d)).astimezone(zone).utcoffset() for d in (-1, 0, 1)]
    known = [o for o in offsets if o is not None]
    t = guess - max(known) - HOUR
    while t.astimezone(zone).replace(tzinfo=None) < wall:
        t += MINUTE
    return t


def _oracle_intervals(
    cal: BusinessCalendar, a: datetime, b: datetime
) -> list[tuple[datetime, datetime]]:
    zone = ZoneInfo(cal.time_zone)
    day = a.astimezone(zone).date() - timedelta(days=1)
    last = b.astimezone(zone).date() + timedelta(days=1)
    spans = []
    while day <= last:
        if day.weekday() in cal.weekdays and day not in cal.holidays:
            start = _first_instant(zone, datetime.combine(day, cal.day_start))
            end_day = day + timedelta(days=1) if cal.day_end == time(0) else day
            end = _first_instant(zone, datetime.combine(end_day, cal.day_end))
            if end > start:
                spans.append((start, end))
        day += timedelta(days=1)
    return spans


def _oracle_between(cal: BusinessCalendar, a: datetime, b: datetime) -> timedelta:
    total = timedelta(0)
    for start, end in _oracle_intervals(cal, a, b):
        lo, hi = max(start, a), min(end, b)
        if hi > lo:
            total += hi - lo
    return total


@settings(max_examples=150, deadline=None)
@given(calendar_and_instant(), durations)
def test_working_time_matches_a_minute_by_minute_oracle(
    case: tuple[BusinessCalendar, datetime], span: timedelta
) -> None:
    """The fast tables agree with a slow, independent reading of the wall clock."""
    cal, a = case
    b = a + span
    assert cal.working_time_between(a, b) == _oracle_between(cal, a, b)


@settings(max_examples=150, deadline=None)
@given(calendar_and_instant(), st.data())
def test_add_working_time_matches_the_oracle(
    case: tuple[BusinessCalendar, datetime], data: st.DataObject
) -> None:
    """The result has exactly ``amount`` of working time and is the first such instant."""
    cal, start = case
    amount = data.draw(work_amounts(cal, 3))
    due = cal.add_working_time(start, amount)
    assert _oracle_between(cal, start, due) == amount
    if amount:
        assert _oracle_between(cal, start, due - MINUTE) < amount


@settings(max_examples=100, deadline=None)
@given(calendar_and_instant(), st.integers(-24 * 60, 24 * 60))
def test_is_working_matches_the_oracle(case: tuple[BusinessCalendar, datetime], shift: int) -> None:
    cal, at = case
    at += shift * MINUTE
    expected = any(s <= at < e for s, e in _oracle_intervals(cal, at, at))
    assert cal.is_working(at) is expected


@settings(max_examples=300, deadline=None)
@given(calendar_and_instant(), st.data())
def test_add_and_between_are_inverse(
    case: tuple[BusinessCalendar, datetime], data: st.DataObject
) -> None:
    cal, start = case
    amount = data.draw(work_amounts(cal, 20))
    due = cal.add_working_time(start, amount)
    assert due >= start
    assert cal.working_time_between(start, due) == amount


@settings(max_examples=300, deadline=None)
@given(calendar_and_instant(), durations, durations)
def test_working_time_adds_up_over_consecutive_stretches(
    case: tuple[BusinessCalendar, datetime], first: timedelta, second: timedelta
) -> None:
    cal, a = case
    b, c = a + first, a + first + second
    assert cal.working_time_between(a, b) + cal.working_time_between(
        b, c
    ) == cal.working_time_between(a, c)
    assert cal.working_time_between(a, b) <= first  # never more than the wall clock


@settings(max_examples=200, deadline=None)
@given(calendar_and_instant(), st.data())
def test_more_work_is_never_due_earlier(
    case: tuple[BusinessCalendar, datetime], data: st.DataObject
) -> None:
    cal, start = case
    small, large = sorted((data.draw(work_amounts(cal, 10)), data.draw(work_amounts(cal, 10))))
    assert cal.add_working_time(start, small) <= cal.add_working_time(start, large)


@settings(max_examples=100, deadline=None)
@given(
    st.datetimes(
        datetime(2000, 1, 1),
        datetime(2040, 1, 1),
        timezones=st.sampled_from([MADRID, NEW_YORK, UTC]),
    ),
    durations,
)
def test_round_the_clock_is_plain_elapsed_time(start: datetime, amount: timedelta) -> None:
    due = TWENTY_FOUR_SEVEN.add_working_time(start, amount)
    assert due == start.astimezone(UTC) + amount
    assert TWENTY_FOUR_SEVEN.working_time_between(start, due) == amount


def _clock_changes(zone: ZoneInfo, year: int) -> list[date]:
    """The local dates in ``year`` on which the zone's clocks change."""
    days = []
    day = date(year, 1, 1)
    while day.year == year:
        today = datetime.combine(day, time(0), tzinfo=zone).utcoffset()
        tomorrow = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).utcoffset()
        if today != tomorrow:
            days.append(day)
        day += timedelta(days=1)
    return days


DST_ZONES = [z for z in ZONES if _clock_changes(ZoneInfo(z), 2024)]


def test_the_zone_list_really_has_clock_changes() -> None:
    assert {"Europe/Madrid", "America/New_York", "Australia/Lord_Howe", "Africa/Cairo"} <= set(
        DST_ZONES
    )


@pytest.mark.parametrize("zone_name", DST_ZONES)
def test_hours_starting_or_ending_in_a_clock_change_match_the_oracle(zone_name: str) -> None:
    """Every start/end pair in the small hours, on each 2024 clock-change day, exhaustively.

    Random examples rarely put a day's start inside the hour that is skipped or
    repeated, so these cases are enumerated rather than left to chance.
    """
    zone = ZoneInfo(zone_name)
    windows = [
        (a, a + timedelta(days=2))
        for a in (
            datetime.combine(day - timedelta(days=1), time(12), tzinfo=zone)
            for day in _clock_changes(zone, 2024)
        )
    ]
    pairs = [(s, e) for s in NIGHT_MINUTES for e in [*NIGHT_MINUTES, 240, 24 * 60] if e > s]
    for start, end in pairs:
        cal = BusinessCalendar(
            zone_name,
            frozenset(range(7)),
            time(start // 60, start % 60),
            time(0) if end == 24 * 60 else time(end // 60, end % 60),
            frozenset({date(2000, 1, 1)}),  # keeps 00:00–24:00 off the shortcut
        )
        for a, b in windows:
            expected = _oracle_between(cal, a, b)
            assert cal.working_time_between(a, b) == expected, (a, start, end)
            assert cal.add_working_time(a, expected) <= b
