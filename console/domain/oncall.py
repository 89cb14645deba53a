"""On-call rotations: who holds the pager for a team at any instant, and who is next.

A rotation is weekly. Its members take turns in order, each holding one week
from one hand-off to the next, and the hand-off happens at a *local wall-clock*
time in the rotation's IANA time zone (e.g. Monday 09:00 Europe/Madrid). So a
week that contains a DST change is 167 or 169 real hours long, and the pager
still changes hands at 09:00 on the office clock.

Two corner cases of local time are resolved deterministically:

* A hand-off time that does not exist on the day (it falls in the spring-forward
  gap, e.g. 02:30 when clocks jump from 02:00 to 03:00) is **shifted forward by
  the length of the gap**: 02:30 becomes 03:30. This is the reading with the
  offset in force before the jump (PEP 495 ``fold=0``, RFC 5545, Java's
  ``ZonedDateTime``), so every tool the NOC uses agrees on it.
* A hand-off time that occurs twice (it falls in the fall-back overlap) is the
  **first** of the two instants.

Overrides change who is on call without touching the rota:

* ``cover``: a contact (a member or anyone else) is on call for an arbitrary
  period, whoever the rota says. Ill for two hours, at the dentist, a
  colleague covers.
* ``swap``: two members exchange whole weeks. A swap is stored as two
  ``swap`` overrides, one per week, each spanning exactly one rota week from
  hand-off to hand-off and naming the member who now holds it
  (:func:`swap_weeks` builds the pair). The weeks need not be adjacent. The
  overrides in a set must balance: every member who takes a week through a
  swap gives one away, so a half-entered swap is refused rather than silently
  leaving someone on call twice.

Overrides may not overlap (not even a cover inside a swapped week); the error
names the two periods so the scheduler can fix them.

Every instant this module returns is in UTC: comparing or subtracting two
datetimes that share a ``ZoneInfo`` uses wall-clock arithmetic in Python,
which would make a 167-hour week look like 168 hours. Convert with
``.astimezone(zone)`` only for display.
"""

from __future__ import annotations

import bisect
import enum
import itertools
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from console.domain.errors import DomainError, InvalidValue, parse_enum

WEEK = timedelta(days=7)
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def zone_named(name: str, field: str = "time_zone") -> ZoneInfo:
    """The IANA zone called ``name``; an unknown or malformed name names ``field``."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidValue(field, name, "an IANA time zone such as Europe/Madrid")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise InvalidValue(field, name, "an IANA time zone such as Europe/Madrid") from exc


def local_instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The UTC instant at which ``zone``'s clocks show ``wall`` on ``day``.

    A wall time in a DST gap is shifted forward by the gap's length; one in an
    overlap is the first occurrence (see the module docstring).
    """
    # fold=0 means "the offset before the transition" for both cases, which
    # is exactly the documented rule; astimezone(UTC) then fixes the instant.
    return datetime.combine(day, wall).replace(tzinfo=zone, fold=0).astimezone(UTC)


def _require_aware(field: str, value: object) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidValue(field, value, "a timestamp with a time zone")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidValue(field, value.isoformat(), "a timestamp with a time zone")
    return value.astimezone(UTC)


def _require_text(field: str, value: object, hint: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(field, value, hint)


class NotScheduledError(DomainError):
    """Asked who was on call before the rotation's first hand-off."""


@dataclass(frozen=True)
class Rotation:
    """A team's weekly on-call rota.

    ``members`` take turns in order; ``members[0]`` holds the week that starts
    at the first hand-off, on local date ``start`` (which must fall on
    ``handoff_weekday``, 0 = Monday) at ``handoff_time`` on the wall clock of
    ``time_zone``. Before that first hand-off nothing is scheduled.
    """

    id: str
    team: str
    time_zone: str
    handoff_weekday: int
    handoff_time: time
    members: tuple[str, ...]
    start: date

    def __post_init__(self) -> None:
        _require_text("id", self.id, "a short identifier for the rotation")
        _require_text("team", self.team, "the team this rotation pages")
        zone_named(self.time_zone)
        if (
            not isinstance(self.handoff_weekday, int)
            or isinstance(self.handoff_weekday, bool)
            or not 0 <= self.handoff_weekday <= 6
        ):
            raise InvalidValue("handoff_weekday", self.handoff_weekday, "0 (Monday) to 6 (Sunday)")
        if not isinstance(self.handoff_time, time) or self.handoff_time.tzinfo is not None:
            raise InvalidValue(
                "handoff_time",
                self.handoff_time,
                "a local wall-clock time without a zone (the rotation's zone applies)",
            )
        # Config loaders hand over lists; keep the record hashable and immutable.
        members = tuple(self.members)
        object.__setattr__(self, "members", members)
        if not members:
            raise InvalidValue("members", members, "at least one contact id")
        for member in members:
            _require_text("members", member, "contact ids, none empty")
        if isinstance(self.start, datetime) or not isinstance(self.start, date):
            raise InvalidValue("start", self.start, "a calendar date (the first hand-off day)")
        if self.start.weekday() != self.handoff_weekday:
            day = WEEKDAY_NAMES[self.handoff_weekday]
            raise InvalidValue(
                "start",
                f"{self.start.isoformat()} ({WEEKDAY_NAMES[self.start.weekday()]})",
                f"a {day}, the rotation's hand-off day",
            )

    @property
    def zone(self) -> ZoneInfo:
        """The rotation's time zone (``ZoneInfo`` caches instances, so this is cheap)."""
        return ZoneInfo(self.time_zone)

    @property
    def first_handoff(self) -> datetime:
        """The instant the rota begins (UTC)."""
        return self.handoff(0)

    def handoff(self, week: int) -> datetime:
        """The UTC instant that week number ``week`` begins (0 is the first week).

        Counted in local calendar days, not in 168-hour steps, so the hand-off
        stays at the wall-clock time across DST changes.
        """
        return local_instant(self.start + timedelta(days=7 * week), self.handoff_time, self.zone)

    def week_of(self, at: datetime) -> int:
        """The number of the rota week containing ``at`` (negative before the first one)."""
        at_utc = _require_aware("at", at)
        # A local week is 168 h give or take a DST jump, so the estimate is off
        # by at most one week; the loops correct it.
        week = (at_utc - self.first_handoff) // WEEK
        while self.handoff(week + 1) <= at_utc:
            week += 1
        while self.handoff(week) > at_utc:
            week -= 1
        return week

    def scheduled(self, week: int) -> str:
        """Who the rota (without overrides) puts on call in week ``week``."""
        return self.members[week % len(self.members)]

    def describe_handoff(self) -> str:
        """E.g. ``Monday 09:00 Europe/Madrid``, for messages and the matrix view."""
        return (
            f"{WEEKDAY_NAMES[self.handoff_weekday]} "
            f"{self.handoff_time.strftime('%H:%M')} {self.time_zone}"
        )


class OverrideKind(enum.Enum):
    """Why the override exists: a cover for a period, or one half of a week swap."""

    COVER = "cover"
    SWAP = "swap"

    @classmethod
    def of(cls, value: object) -> OverrideKind:
        """Parse a wire or config value; the error names the allowed values."""
        return parse_enum(cls, value, "kind")


@dataclass(frozen=True)
class Override:
    """``contact_id`` is on call from ``start`` to ``end`` (end exclusive), whatever the rota says.

    ``start`` and ``end`` must be aware; they are stored converted to UTC.
    """

    contact_id: str
    start: datetime
    end: datetime
    kind: OverrideKind = OverrideKind.COVER
    note: str = ""

    def __post_init__(self) -> None:
        _require_text("contact_id", self.contact_id, "the id of the contact who is on call")
        # Stored in UTC: comparing two datetimes that share a ZoneInfo compares
        # wall clocks, which is wrong inside a fall-back overlap.
        object.__setattr__(self, "start", _require_aware("start", self.start))
        object.__setattr__(self, "end", _require_aware("end", self.end))
        if self.end <= self.start:
            raise InvalidValue(
                "end", self.end.isoformat(), f"a time after the start ({self.start.isoformat()})"
            )
        object.__setattr__(self, "kind", OverrideKind.of(self.kind))

    def describe(self) -> str:
        """E.g. ``cover by c-ana 2024-03-05T10:00+00:00–2024-03-05T12:00+00:00``."""
        start = self.start.isoformat(timespec="minutes")
        end = self.end.isoformat(timespec="minutes")
        return f"{self.kind.value} by {self.contact_id} {start}–{end}"


@dataclass(frozen=True)
class OnCallShift:
    """One unbroken stretch during which one contact holds a rotation's pager.

    ``start``/``end`` are UTC, end exclusive. ``override_kind`` is None for the
    rota's own week (or the part of it no override touches).
    """

    rotation_id: str
    contact_id: str
    start: datetime
    end: datetime
    override_kind: OverrideKind | None = None

    @property
    def via_override(self) -> bool:
        """Whether a cover or swap, not the plain rota, put this contact on call."""
        return self.override_kind is not None

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def covers(self, at: datetime) -> bool:
        """Whether ``at`` falls within this shift."""
        return self.start <= at < self.end


class _Schedule:
    """A rotation with its overrides validated, sorted and in UTC, ready for lookups."""

    def __init__(self, rotation: Rotation, overrides: Iterable[Override]) -> None:
        self.rotation = rotation
        self.overrides = validate_overrides(rotation, overrides)
        self.starts = [o.start for o in self.overrides]
        self.first = rotation.first_handoff

    def shift_at(self, at: datetime) -> OnCallShift:
        at = at.astimezone(UTC)
        if at < self.first:
            raise NotScheduledError(
                f"rotation {self.rotation.id} starts {self.rotation.start.isoformat()} "
                f"at {self.rotation.describe_handoff()}; nobody is scheduled before then"
            )
        rid = self.rotation.id
        # Overrides do not overlap, so only the latest one starting at or
        # before ``at`` can contain it.
        i = bisect.bisect_right(self.starts, at) - 1
        if i >= 0 and self.overrides[i].end > at:
            o = self.overrides[i]
            return OnCallShift(rid, o.contact_id, max(o.start, self.first), o.end, o.kind)
        week = self.rotation.week_of(at)
        start = self.rotation.handoff(week)
        end = self.rotation.handoff(week + 1)
        if i >= 0:
            start = max(start, self.overrides[i].end)
        if i + 1 < len(self.starts):
            end = min(end, self.starts[i + 1])
        return OnCallShift(rid, self.rotation.scheduled(week), start, end)

    @property
    def last_override_end(self) -> datetime | None:
        if not self.overrides:
            return None
        return max(o.end for o in self.overrides)


def validate_overrides(rotation: Rotation, overrides: Iterable[Override]) -> tuple[Override, ...]:
    """Check a rotation's overrides and return them sorted by start.

    Refused: overlapping periods; a swap that is not exactly one rota week, or
    names someone outside the rota, or hands a member the week they already
    hold; and swaps that do not balance (someone takes a week but gives none).
    """
    ordered = tuple(sorted(overrides, key=lambda o: o.start))
    for before, after in itertools.pairwise(ordered):
        if after.start < before.end:
            raise InvalidValue(
                "overrides",
                f"{before.describe()} overlaps {after.describe()}",
                "periods that do not overlap (end one before the next starts)",
            )
    taken: Counter[str] = Counter()
    given: Counter[str] = Counter()
    for o in ordered:
        if o.kind is not OverrideKind.SWAP:
            continue
        start = o.start
        week = rotation.week_of(start)
        if start != rotation.handoff(week) or o.end != rotation.handoff(week + 1):
            raise InvalidValue(
                "overrides",
                o.describe(),
                f"a swap spanning one whole week, from one hand-off "
                f"({rotation.describe_handoff()}) to the next",
            )
        if week < 0:
            raise InvalidValue(
                "overrides", o.describe(), f"a week from {rotation.start.isoformat()} on"
            )
        if o.contact_id not in rotation.members:
            raise InvalidValue("contact_id", o.contact_id, rotation.members)
        scheduled = rotation.scheduled(week)
        if scheduled == o.contact_id:
            raise InvalidValue(
                "overrides", o.describe(), f"a member other than {scheduled}, who holds that week"
            )
        taken[o.contact_id] += 1
        given[scheduled] += 1
    if taken != given:
        unbalanced = sorted((taken - given).keys() | (given - taken).keys())
        raise DomainError(
            "overrides: swaps must come in pairs (every member who takes a week gives one "
            f"back); unbalanced for {', '.join(unbalanced)}. Add the other half of the swap "
            "or enter a cover instead"
        )
    return ordered


def on_call_at(rotation: Rotation, overrides: Iterable[Override], at: datetime) -> OnCallShift:
    """The shift covering ``at``: exactly one, overrides applied.

    Raises :class:`NotScheduledError` before the rotation's first hand-off.
    """
    _require_aware("at", at)
    return _Schedule(rotation, overrides).shift_at(at)


def next_on_call(rotation: Rotation, overrides: Iterable[Override], at: datetime) -> OnCallShift:
    """The next shift after the one covering ``at`` that puts a *different* contact on call.

    "Next" on the console means "who takes over from the person holding the
    pager now", so a following week held by the same person is skipped. If
    nobody else ever comes (a one-person rota), the immediately following
    shift is returned. Before the rotation starts, this is its first shift.
    """
    at_utc = _require_aware("at", at)
    schedule = _Schedule(rotation, overrides)
    if at_utc < schedule.first:
        return schedule.shift_at(schedule.first)
    current = schedule.shift_at(at_utc)
    # After the last override the rota repeats every len(members) weeks, so
    # if nobody else appears within one more cycle, nobody ever will.
    last = schedule.last_override_end or current.end
    horizon = max(current.end, last) + WEEK * (len(rotation.members) + 1)
    following = schedule.shift_at(current.end)
    shift = following
    while shift.start < horizon:
        if shift.contact_id != current.contact_id:
            return shift
        shift = schedule.shift_at(shift.end)
    return following


def shifts_between(
    rotation: Rotation, overrides: Iterable[Override], start: datetime, end: datetime
) -> list[OnCallShift]:
    """Every shift overlapping ``[start, end)``, in order, for the schedule view.

    Shifts are whole (the first may begin before ``start``, the last end after
    ``end``), contiguous and non-overlapping; nothing is returned for the part
    of the window before the rotation's first hand-off.
    """
    start_utc = _require_aware("start", start)
    end_utc = _require_aware("end", end)
    if end_utc <= start_utc:
        raise InvalidValue("end", end.isoformat(), f"a time after the start ({start.isoformat()})")
    schedule = _Schedule(rotation, overrides)
    at = max(start_utc, schedule.first)
    shifts: list[OnCallShift] = []
    while at < end_utc:
        shift = schedule.shift_at(at)
        shifts.append(shift)
        at = shift.end
    return shifts


def swap_weeks(
    rotation: Rotation, first: date, second: date, note: str = ""
) -> tuple[Override, Override]:
    """The two ``swap`` overrides that exchange the holders of two rota weeks.

    ``first`` and ``second`` are local dates; each picks the rota week that
    starts on the last hand-off day on or before it.
    """
    weeks = []
    for field, day in (("first", first), ("second", second)):
        if isinstance(day, datetime) or not isinstance(day, date):
            raise InvalidValue(field, day, "a calendar date")
        week = (day - rotation.start).days // 7
        if week < 0:
            raise InvalidValue(field, day.isoformat(), f"a date from {rotation.start.isoformat()}")
        weeks.append(week)
    week_a, week_b = weeks
    holder_a, holder_b = rotation.scheduled(week_a), rotation.scheduled(week_b)
    if holder_a == holder_b:
        raise InvalidValue(
            "second", second.isoformat(), f"a week held by someone other than {holder_a}"
        )
    return (
        Override(
            holder_b,
            rotation.handoff(week_a),
            rotation.handoff(week_a + 1),
            OverrideKind.SWAP,
            note,
        ),
        Override(
            holder_a,
            rotation.handoff(week_b),
            rotation.handoff(week_b + 1),
            OverrideKind.SWAP,
            note,
        ),
    )


def on_call_now(
    rotations: Iterable[Rotation],
    overrides: Mapping[str, Sequence[Override]],
    at: datetime,
) -> dict[str, str | None]:
    """Rotation id → contact id on call at ``at`` (None before a rotation starts).

    The shape :func:`console.domain.escalation.escalation_path` takes.
    """
    _require_aware("at", at)
    result: dict[str, str | None] = {}
    for rotation in rotations:
        try:
            result[rotation.id] = on_call_at(
                rotation, overrides.get(rotation.id, ()), at
            ).contact_id
        except NotScheduledError:
            result[rotation.id] = None
    return result
