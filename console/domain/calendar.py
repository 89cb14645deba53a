"""Business calendars: when the clock of a business-hours SLA target runs.

A :class:`BusinessCalendar` says which weekdays are working days, when a working
day starts and ends on the wall clock, which dates are holidays, and in which
IANA time zone all of that is meant. Working time is always measured between
real instants (UTC), while the working hours of each day are taken from the
local wall clock of that day, so a day on which the clocks move still runs from
its start to its end on the wall clock (and is an hour shorter or longer if the
change happens inside working hours).

:data:`TWENTY_FOUR_SEVEN` is the calendar of round-the-clock targets: every
instant is working time, and its arithmetic is plain subtraction.

Speed matters: the queue asks for thousands of SLA clocks every second. The
calendar therefore precomputes, once per local year, every working day's start
and end as integer microseconds since the Unix epoch together with running
totals, so a question about working time is a couple of binary searches rather
than a walk over days (let alone minutes).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from console.domain.errors import DomainError, InvalidValue

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
MIDNIGHT = time(0, 0)

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Short weekday names accepted in configuration; index 0 is Monday, as ``date.weekday()``."""

_LONG_WEEKDAY_NAMES = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
_CALENDAR_KEYS = ("time_zone", "weekdays", "day_start", "day_end", "holidays")
_TIME_RE = re.compile(r"^([01]?[0-9]|2[0-4]):([0-5][0-9])$")
# Only the plain ISO form: Python 3.11 would also read 20241225 and 2024-W52-3.
_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def to_micros(instant: datetime) -> int:
    """An aware datetime as whole microseconds since the Unix epoch (exact, zone-safe).

    Subtracting from a UTC epoch always goes through both offsets, unlike
    subtracting two datetimes that share one ``ZoneInfo`` (Python then compares
    wall clocks and is an hour off across a DST change).
    """
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise InvalidValue("time", instant.isoformat(), "a timestamp with a time zone")
    return (instant - _EPOCH) // _MICROSECOND


def from_micros(micros: int) -> datetime:
    """The UTC datetime ``micros`` microseconds after the Unix epoch."""
    return _EPOCH + timedelta(microseconds=micros)


@dataclass(frozen=True)
class _Year:
    """One local year of working days, precomputed as integer microseconds.

    Only days with some working time are listed; ``cum_before[k]`` and
    ``cum_after[k]`` are the year's working time before and after day ``k``.
    """

    year: int
    lo: int  # local 1 January 00:00 of this year, as UTC microseconds
    hi: int  # local 1 January 00:00 of the next year
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    cum_before: tuple[int, ...]
    cum_after: tuple[int, ...]

    @property
    def total(self) -> int:
        return self.cum_after[-1] if self.cum_after else 0

    def worked_before(self, t: int) -> int:
        """Working time in this year before instant ``t`` (``lo <= t < hi``)."""
        k = bisect_right(self.starts, t) - 1
        if k < 0:
            return 0
        return min(self.cum_after[k], self.cum_before[k] + t - self.starts[k])

    def instant_after_work(self, work: int) -> int:
        """The first instant at which ``work`` (0 < work <= total) has been worked this year."""
        k = bisect_left(self.cum_after, work)
        return self.starts[k] + work - self.cum_before[k]

    def is_working(self, t: int) -> bool:
        k = bisect_right(self.starts, t) - 1
        return k >= 0 and t < self.ends[k]


@dataclass(frozen=True)
class BusinessCalendar:
    """Working hours, working weekdays and holidays in one IANA time zone.

    ``day_end`` of 00:00 means midnight at the *end* of the day (24:00), so
    ``day_start=day_end=00:00`` on all seven weekdays is round the clock.
    Working hours that run past midnight (night shifts) are not supported.
    Construction validates every field and raises :class:`InvalidValue` naming
    it; use :meth:`from_mapping` for configuration files.
    """

    time_zone: str = "UTC"
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    day_start: time = time(9, 0)
    day_end: time = time(17, 0)
    holidays: frozenset[date] = frozenset()
    # Derived state: the zone object and the per-year tables (filled lazily).
    # Not part of equality or the repr; a dict so the frozen instance can fill it.
    _zone: ZoneInfo = field(init=False, repr=False, compare=False, hash=False)
    _years: dict[int, _Year] = field(
        init=False, repr=False, compare=False, hash=False, default_factory=dict
    )
    _recent: list[_Year | None] = field(
        init=False, repr=False, compare=False, hash=False, default_factory=lambda: [None]
    )
    _round_the_clock: bool = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_zone", _zone_named(self.time_zone, "time_zone"))
        weekdays = frozenset(self.weekdays)
        if not weekdays:
            raise InvalidValue("weekdays", "none", "at least one of " + ", ".join(WEEKDAY_NAMES))
        for day in weekdays:
            if not isinstance(day, int) or isinstance(day, bool) or not 0 <= day <= 6:
                raise InvalidValue("weekdays", day, "0 (Monday) to 6 (Sunday)")
        object.__setattr__(self, "weekdays", weekdays)
        for name in ("day_start", "day_end"):
            value = getattr(self, name)
            if not isinstance(value, time) or value.tzinfo is not None:
                raise InvalidValue(name, value, "a wall-clock time such as 09:00 (no zone)")
        if self.day_end != MIDNIGHT and self.day_end <= self.day_start:
            raise InvalidValue(
                "day_end",
                self.day_end.isoformat("minutes"),
                f"a time after day_start ({self.day_start.isoformat('minutes')}), "
                "or 24:00 for the end of the day",
            )
        holidays = frozenset(self.holidays)
        for holiday in holidays:
            # datetime is a subclass of date, and a timestamp is not a holiday.
            if not isinstance(holiday, date) or isinstance(holiday, datetime):
                raise InvalidValue("holidays", holiday, "calendar dates such as 2024-12-25")
        object.__setattr__(self, "holidays", holidays)
        object.__setattr__(
            self,
            "_round_the_clock",
            weekdays == frozenset(range(7))
            and self.day_start == MIDNIGHT
            and self.day_end == MIDNIGHT
            and not holidays,
        )

    # ----------------------------------------------------------------- config

    @classmethod
    def from_mapping(cls, raw: Mapping[str, object], where: str = "calendar") -> BusinessCalendar:
        """Build from configuration; every error names the field (``calendar.day_end``).

        ``time_zone`` is required (a silently assumed UTC would put every
        business-hours deadline off by hours). The rest default to Monday to
        Friday, 09:00 to 17:00, no holidays. Accepted shapes::

            {"time_zone": "Europe/Madrid",
             "weekdays": ["mon", "tue", "wed", "thu", "fri"],   # or 0..6
             "day_start": "09:00", "day_end": "17:00",          # 24:00 allowed as end
             "holidays": ["2024-12-25", "2024-12-26"]}
        """
        if not isinstance(raw, Mapping):
            raise InvalidValue(where, raw, "a table with " + ", ".join(_CALENDAR_KEYS))
        unknown = sorted(str(k) for k in raw if k not in _CALENDAR_KEYS)
        if unknown:
            raise InvalidValue(f"{where}.{unknown[0]}", unknown[0], _CALENDAR_KEYS)
        if "time_zone" not in raw:
            raise InvalidValue(
                f"{where}.time_zone", None, "an IANA time zone name such as Europe/Madrid or UTC"
            )
        zone_name = raw["time_zone"]
        if not isinstance(zone_name, str):
            raise InvalidValue(
                f"{where}.time_zone", zone_name, "an IANA time zone name such as Europe/Madrid"
            )
        _zone_named(zone_name, f"{where}.time_zone")
        weekdays = _parse_weekdays(raw.get("weekdays", (0, 1, 2, 3, 4)), f"{where}.weekdays")
        start = _parse_time(raw.get("day_start", "09:00"), f"{where}.day_start")
        end = _parse_time(raw.get("day_end", "17:00"), f"{where}.day_end")
        if end != MIDNIGHT and end <= start:
            raise InvalidValue(
                f"{where}.day_end",
                end.isoformat("minutes"),
                f"a time after day_start ({start.isoformat('minutes')}), "
                "or 24:00 for the end of the day",
            )
        holidays = _parse_holidays(raw.get("holidays", ()), f"{where}.holidays")
        return cls(zone_name, weekdays, start, end, holidays)

    # ------------------------------------------------------------- properties

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone object."""
        return self._zone

    @property
    def is_round_the_clock(self) -> bool:
        """Whether every instant is working time (no arithmetic beyond subtraction)."""
        return self._round_the_clock

    @property
    def business_day(self) -> timedelta:
        """The nominal length of one working day on the wall clock (what "1 business day" means)."""
        start = datetime.combine(date(2000, 1, 3), self.day_start)
        end_day = date(2000, 1, 4) if self.day_end == MIDNIGHT else date(2000, 1, 3)
        return datetime.combine(end_day, self.day_end) - start

    @property
    def hours_per_day(self) -> float:
        """:attr:`business_day` in hours, e.g. ``8.0``."""
        return self.business_day / timedelta(hours=1)

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` (a date in the calendar's zone) has working hours."""
        return day.weekday() in self.weekdays and day not in self.holidays

    def working_hours(self, day: date) -> tuple[datetime, datetime] | None:
        """The working hours of local ``day`` as UTC instants, or None on a day off."""
        bounds = self._day_bounds(day)
        if bounds is None:
            return None
        return from_micros(bounds[0]), from_micros(bounds[1])

    # ------------------------------------------------------------- arithmetic

    def is_working(self, at: datetime) -> bool:
        """Whether the instant ``at`` falls inside working hours."""
        if self._round_the_clock:
            to_micros(at)  # still refuse naive datetimes
            return True
        t = to_micros(at)
        return self._year_of(t).is_working(t)

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time from instant ``a`` to instant ``b`` (zero when ``b <= a``)."""
        return timedelta(microseconds=self.work_between(to_micros(a), to_micros(b)))

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """The first instant (UTC) at which ``amount`` of working time has passed since ``start``.

        A deadline that lands exactly on the end of a working day is that end
        (17:00), not the next morning. A zero amount gives ``start`` itself.
        """
        if amount < timedelta(0):
            raise InvalidValue("amount", str(amount), "a duration of zero or more")
        return from_micros(self.add_work(to_micros(start), amount // _MICROSECOND))

    # The integer forms below are what the SLA clocks use on their hot path.

    def work_between(self, a: int, b: int) -> int:
        """Epoch-microsecond form of :meth:`working_time_between`."""
        if b <= a:
            return 0
        if self._round_the_clock:
            return b - a
        year_a = self._year_of(a)
        year_b = self._year_of(b)
        if year_a.year == year_b.year:
            return year_b.worked_before(b) - year_a.worked_before(a)
        work = year_a.total - year_a.worked_before(a) + year_b.worked_before(b)
        for year in range(year_a.year + 1, year_b.year):
            work += self._table(year).total
        return work

    def add_work(self, start: int, amount: int) -> int:
        """Epoch-microsecond form of :meth:`add_working_time` (``amount`` in microseconds)."""
        if amount <= 0 or self._round_the_clock:
            return start + max(amount, 0)
        table = self._year_of(start)
        year = table.year
        need = table.worked_before(start) + amount
        while need > table.total:
            need -= table.total
            year += 1
            if year > 9999:
                raise DomainError(
                    "the calendar has no working time left before the year 9999; "
                    "check its weekdays and holidays"
                )
            table = self._table(year)
        return table.instant_after_work(need)

    # --------------------------------------------------------------- internals

    def _day_bounds(self, day: date) -> tuple[int, int] | None:
        if not self.is_working_day(day):
            return None
        start = self._first_instant_at(datetime.combine(day, self.day_start))
        if self.day_end == MIDNIGHT and day == date.max:
            end = self._year_bounds(day.year)[1]  # there is no 10000-01-01
        elif self.day_end == MIDNIGHT:
            end = self._first_instant_at(datetime.combine(day + timedelta(days=1), MIDNIGHT))
        else:
            end = self._first_instant_at(datetime.combine(day, self.day_end))
        # A start and end both inside one spring-forward gap leave nothing.
        return (start, end) if end > start else None

    def _first_instant_at(self, wall: datetime) -> int:
        """The first instant whose local wall-clock time is ``wall`` or later (naive ``wall``).

        Usually that is simply ``wall`` in the zone. When clocks go back, a
        wall time happens twice and the first occurrence counts (``fold=0``).
        When clocks go forward, a wall time inside the gap never shows; the
        working day then starts (or ends) the moment the clocks jump.
        """
        zone = self._zone
        early = to_micros(wall.replace(tzinfo=zone, fold=0))
        late = to_micros(wall.replace(tzinfo=zone, fold=1))
        if early <= late:
            return early
        # In a gap, fold=0 reads the wall time with the old offset (after the
        # jump) and fold=1 with the new one (before it); the jump lies between.
        # Zone transitions fall on whole seconds, so a search by seconds is exact.
        lo, hi = -(-late // 1_000_000), early // 1_000_000
        while lo < hi:
            mid = (lo + hi) // 2
            if from_micros(mid * 1_000_000).astimezone(zone).replace(tzinfo=None) >= wall:
                hi = mid
            else:
                lo = mid + 1
        return lo * 1_000_000

    def _year_bounds(self, year: int) -> tuple[int, int]:
        lo = self._first_instant_at(datetime(year, 1, 1))
        if year < 9999:
            hi = self._first_instant_at(datetime(year + 1, 1, 1))
        else:
            hi = to_micros(datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=self._zone)) + 1
        return lo, hi

    def _table(self, year: int) -> _Year:
        table = self._years.get(year)
        if table is None:
            table = self._build_year(year)
            # Assigning a finished table is atomic, so concurrent readers at
            # worst build the same year twice.
            self._years[year] = table
        return table

    def _build_year(self, year: int) -> _Year:
        lo, hi = self._year_bounds(year)
        starts: list[int] = []
        ends: list[int] = []
        cum_before: list[int] = []
        cum_after: list[int] = []
        total = 0
        day = date(year, 1, 1)
        one_day = timedelta(days=1)
        while day.year == year:
            bounds = self._day_bounds(day)
            if bounds is not None:
                starts.append(bounds[0])
                ends.append(bounds[1])
                cum_before.append(total)
                total += bounds[1] - bounds[0]
                cum_after.append(total)
            if day.month == 12 and day.day == 31:
                break
            day += one_day
        return _Year(year, lo, hi, tuple(starts), tuple(ends), tuple(cum_before), tuple(cum_after))

    def _year_of(self, t: int) -> _Year:
        # Nearly every question is about this year: try the last table first.
        recent = self._recent[0]
        if recent is not None and recent.lo <= t < recent.hi:
            return recent
        table = self._find_year(t)
        self._recent[0] = table
        return table

    def _find_year(self, t: int) -> _Year:
        # The UTC year is the local year except within a zone offset (< 1 day)
        # of New Year, so one step either way always finds it.
        year = from_micros(t).year
        table = self._table(year)
        # At the very ends of the datetime range there is no year before 1 or
        # after 9999; those tables still answer correctly (nothing before lo,
        # everything before hi).
        if t < table.lo and year > 1:
            return self._table(year - 1)
        if t >= table.hi and year < 9999:
            return self._table(year + 1)
        return table


# ------------------------------------------------------------------ parsing


def _zone_named(name: object, where: str) -> ZoneInfo:
    hint = "an IANA time zone name such as Europe/Madrid, America/New_York or UTC"
    if not isinstance(name, str) or not name.strip():
        raise InvalidValue(where, name, hint)
    try:
        return ZoneInfo(name)  # ZoneInfo caches instances per name
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise InvalidValue(where, name, hint) from exc


def _parse_weekdays(raw: object, where: str) -> frozenset[int]:
    allowed = f"a list of weekdays from {', '.join(WEEKDAY_NAMES)} (or 0 for Monday to 6)"
    if isinstance(raw, str) or not isinstance(raw, Iterable):
        raise InvalidValue(where, raw, allowed)
    days: set[int] = set()
    for item in raw:
        if isinstance(item, int) and not isinstance(item, bool) and 0 <= item <= 6:
            days.add(item)
        elif isinstance(item, str) and item.strip().lower() in WEEKDAY_NAMES:
            days.add(WEEKDAY_NAMES.index(item.strip().lower()))
        elif isinstance(item, str) and item.strip().lower() in _LONG_WEEKDAY_NAMES:
            days.add(_LONG_WEEKDAY_NAMES.index(item.strip().lower()))
        else:
            raise InvalidValue(where, item, allowed)
    if not days:
        raise InvalidValue(where, "none", "at least one of " + ", ".join(WEEKDAY_NAMES))
    return frozenset(days)


def _parse_time(raw: object, where: str) -> time:
    if isinstance(raw, time) and raw.tzinfo is None:
        return raw
    if isinstance(raw, str):
        match = _TIME_RE.match(raw.strip())
        if match:
            hour, minute = int(match.group(1)), int(match.group(2))
            if hour == 24 and minute == 0:
                return MIDNIGHT  # 24:00: the end of the day
            if hour < 24:
                return time(hour, minute)
    raise InvalidValue(where, raw, "a wall-clock time HH:MM such as 09:00 (24:00 as an end)")


def _parse_holidays(raw: object, where: str) -> frozenset[date]:
    allowed = "a list of dates in the form YYYY-MM-DD, such as 2024-12-25"
    if isinstance(raw, str) or not isinstance(raw, Iterable):
        raise InvalidValue(where, raw, allowed)
    days: set[date] = set()
    for item in raw:
        if isinstance(item, date) and not isinstance(item, datetime):
            days.add(item)
            continue
        if isinstance(item, str) and _DATE_RE.match(item.strip()):
            try:
                days.add(date.fromisoformat(item.strip()))
                continue
            except ValueError:
                pass
        raise InvalidValue(where, item, allowed)
    return frozenset(days)


TWENTY_FOUR_SEVEN = BusinessCalendar(
    time_zone="UTC", weekdays=frozenset(range(7)), day_start=MIDNIGHT, day_end=MIDNIGHT
)
"""Round the clock: every instant is working time. Used by non-business SLA targets."""

DEFAULT_CALENDAR = BusinessCalendar()
"""Monday to Friday, 09:00 to 17:00 UTC, no holidays: the calendar when none is configured."""
