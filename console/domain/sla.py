"""Response and resolution targets per severity, and the live SLA clocks.

The rules (ITIL-NOTES.md, "Severity and targets"):

* Every incident has two clocks. The *response* clock runs from ``opened_at``
  until the incident is acknowledged; the *resolution* clock runs from
  ``opened_at`` until it is resolved.
* A target is an amount of working time: round the clock (``business=False``)
  or business hours on the policy's :class:`BusinessCalendar`
  (``business=True``). "1 business day" is one working day's hours.
* While the incident is on hold waiting on the caller or a vendor
  (``Incident.holds``) the clocks are paused, and the due moves later by the
  working time spent paused.
* A reading is ``WARNING`` from 75 % of the target, ``BREACHED`` from 100 %,
  ``PAUSED`` while on hold, and ``MET`` once the clock stopped before the due.

Choices made here, so callers can rely on them:

* ``SlaReading.due`` is never None. While paused, the due is projected as if
  work resumed at the instant of the reading, so it slides later while the
  incident waits and becomes fixed again when it leaves hold.
* A breach outranks a pause: an incident that breached and then went on hold
  still reads ``BREACHED`` (the breach has happened; waiting cannot undo it).
* A reading at instant ``at`` uses only what was known at ``at``: holds that
  started later are ignored and a hold that ended later counts as still open.
  ``response_due``/``resolution_due`` instead count every recorded hold.
* A stop exactly at the due is a breach (100 % is breached, running or not).
* A severity change re-targets the clocks from ``opened_at`` (the new target
  applies to the whole life of the incident).
* Reopening clears ``resolved_at``, so the resolution clock runs again from
  ``opened_at`` and the time the incident sat resolved counts.
* ``remaining`` and ``elapsed`` are working time on the target's calendar (for
  a business target, "2 h left" means two working hours).
* A cancelled incident's clocks stop at its last update (cancellation is final,
  and the record has no separate cancellation time).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

from console.domain import text
from console.domain.calendar import (
    DEFAULT_CALENDAR,
    TWENTY_FOUR_SEVEN,
    BusinessCalendar,
    from_micros,
    to_micros,
)
from console.domain.errors import InvalidValue, parse_enum
from console.domain.incident import Incident, require_aware
from console.domain.lifecycle import State
from console.domain.severity import Severity

SlaKind = Literal["response", "resolution"]
SLA_KINDS: tuple[SlaKind, ...] = ("response", "resolution")

_MICROSECOND = timedelta(microseconds=1)
_POLICY_KEYS = ("calendar", "warning_at", "response", "resolution")


class SlaStatus(enum.Enum):
    """Where an SLA clock stands. Values are the wire names."""

    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"
    PAUSED = "paused"
    MET = "met"

    @property
    def label(self) -> str:
        """Operator-facing text, e.g. ``Breached``."""
        return self.value.capitalize()

    @classmethod
    def of(cls, value: object) -> SlaStatus:
        """Parse a wire value; the error names the allowed values."""
        return parse_enum(cls, value, "sla_status")


@dataclass(frozen=True)
class Target:
    """An SLA target: ``amount`` of working time, on business hours or round the clock."""

    amount: timedelta
    business: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.amount, timedelta) or self.amount <= timedelta(0):
            raise InvalidValue("target", self.amount, "a duration longer than zero")

    def describe(self, business_day: timedelta) -> str:
        """Short operator text: ``15 min``, ``4 h``, ``2 business days``, ``6 business hours``."""
        if self.business:
            days, rest = divmod(self.amount, business_day)
            if not rest and days:
                return f"{days} business day" + ("s" if days != 1 else "")
            return f"{_hours_text(self.amount)} business hour" + (
                "" if self.amount == timedelta(hours=1) else "s"
            )
        if self.amount < timedelta(hours=1) or self.amount % timedelta(hours=1):
            minutes = self.amount / timedelta(minutes=1)
            return f"{minutes:g} min"
        return f"{_hours_text(self.amount)} h"


def duration_text(amount: timedelta) -> str:
    """An SLA clock's time left or overdue, as the queue and the alerts say it:
    ``45 min``, ``3 h 05 min``, ``2 d 4 h`` (rounded down to the minute).
    """
    return text.duration_text(amount)


def _hours_text(amount: timedelta) -> str:
    return f"{amount / timedelta(hours=1):g}"


@dataclass(frozen=True)
class SlaReading:
    """One SLA clock at one instant.

    ``due`` is always set (projected as if resumed now while paused);
    ``elapsed``, ``target`` and ``remaining`` are working time on the target's
    calendar; ``remaining`` is negative once breached; ``fraction`` is
    ``elapsed / target`` (above 1 when breached). ``stopped_at`` is when the
    clock stopped (acknowledgement or resolution), None while it runs.
    """

    kind: SlaKind
    due: datetime
    elapsed: timedelta
    target: timedelta
    fraction: float
    remaining: timedelta
    status: SlaStatus
    stopped_at: datetime | None = None

    @property
    def percent(self) -> int:
        """``fraction`` as a whole percentage, for display (``75``)."""
        return int(self.fraction * 100)


def _default_targets(
    calendar: BusinessCalendar,
) -> tuple[dict[Severity, Target], dict[Severity, Target]]:
    day = calendar.business_day
    response = {
        Severity.SEV1: Target(timedelta(minutes=15)),
        Severity.SEV2: Target(timedelta(minutes=30)),
        Severity.SEV3: Target(timedelta(hours=4)),
        Severity.SEV4: Target(day, business=True),
    }
    resolution = {
        Severity.SEV1: Target(timedelta(hours=4)),
        Severity.SEV2: Target(timedelta(hours=8)),
        Severity.SEV3: Target(2 * day, business=True),
        Severity.SEV4: Target(5 * day, business=True),
    }
    return response, resolution


class SlaClock(Protocol):
    """What a reader of SLA clocks needs from a policy (:class:`SlaPolicy` satisfies it):
    the alert rules (:func:`console.domain.alerts.readings_for`), the queue and the wall."""

    def current(self, incident: Incident, at: datetime) -> SlaReading: ...


@dataclass(frozen=True)
class SlaPolicy:
    """Response and resolution targets per severity, on one business calendar.

    Both tables must name every severity. ``warning_at`` is the fraction of a
    target from which a clock reads ``WARNING`` (0.75 by default).
    """

    response: Mapping[Severity, Target]
    resolution: Mapping[Severity, Target]
    calendar: BusinessCalendar = DEFAULT_CALENDAR
    warning_at: float = 0.75
    # Integer microsecond targets, looked up on every clock tick.
    _micros: dict[tuple[SlaKind, Severity], tuple[int, bool]] = field(
        init=False, repr=False, compare=False, hash=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        for kind in SLA_KINDS:
            table = getattr(self, kind)
            copied: dict[Severity, Target] = {}
            for sev in Severity:
                target = table.get(sev)
                if not isinstance(target, Target):
                    raise InvalidValue(
                        f"sla.{kind}.{sev.code}",
                        target,
                        "a target such as '15 min', '4 h' or '2 business days'",
                    )
                copied[sev] = target
                self._micros[(kind, sev)] = (target.amount // _MICROSECOND, target.business)
            # A private copy, so the caller's dict cannot change a validated policy.
            object.__setattr__(self, kind, copied)
        if not isinstance(self.calendar, BusinessCalendar):
            raise InvalidValue("sla.calendar", self.calendar, "a business calendar")
        if (
            not isinstance(self.warning_at, int | float)
            or isinstance(self.warning_at, bool)
            or not 0 < self.warning_at < 1
        ):
            raise InvalidValue("sla.warning_at", self.warning_at, "a fraction between 0 and 1")

    def __hash__(self) -> int:
        # The tables are dicts; hash their contents so a policy can key a cache.
        return hash(
            (
                tuple(self.response.items()),
                tuple(self.resolution.items()),
                self.calendar,
                self.warning_at,
            )
        )

    # ---------------------------------------------------------------- building

    @classmethod
    def default(cls, calendar: BusinessCalendar | None = None) -> SlaPolicy:
        """The ITIL-NOTES targets on ``calendar`` (default: Mon–Fri 09:00–17:00 UTC).

        SEV-1 15 min / 4 h and SEV-2 30 min / 8 h round the clock; SEV-3 4 h
        round the clock / 2 business days; SEV-4 1 / 5 business days.
        """
        calendar = DEFAULT_CALENDAR if calendar is None else calendar
        response, resolution = _default_targets(calendar)
        return cls(response, resolution, calendar)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, object]) -> SlaPolicy:
        """Build from configuration; every error names the field (``sla.resolution.SEV-3``).

        Every key is optional: a missing ``calendar`` is the default calendar,
        a missing table is the default targets. A table that is given must name
        all four severities. Targets are text: ``15 min``, ``4 h``, ``1 day``
        (24 h, round the clock), ``8 business hours``, ``2 business days``::

            {"calendar": {"time_zone": "Europe/Madrid", "holidays": ["2024-12-25"]},
             "warning_at": 0.75,
             "response": {"SEV-1": "15 min", "SEV-2": "30 min",
                          "SEV-3": "4 h", "SEV-4": "1 business day"},
             "resolution": {"SEV-1": "4 h", "SEV-2": "8 h",
                            "SEV-3": "2 business days", "SEV-4": "5 business days"}}
        """
        if not isinstance(raw, Mapping):
            raise InvalidValue("sla", raw, "a table with " + ", ".join(_POLICY_KEYS))
        unknown = sorted(str(k) for k in raw if k not in _POLICY_KEYS)
        if unknown:
            raise InvalidValue(f"sla.{unknown[0]}", unknown[0], _POLICY_KEYS)
        calendar = DEFAULT_CALENDAR
        raw_calendar = raw.get("calendar")
        if raw_calendar is not None:
            if not isinstance(raw_calendar, Mapping):
                raise InvalidValue("sla.calendar", raw_calendar, "a table of calendar settings")
            calendar = BusinessCalendar.from_mapping(raw_calendar, where="sla.calendar")
        defaults = _default_targets(calendar)
        tables: list[dict[Severity, Target]] = []
        for kind, default_table in zip(SLA_KINDS, defaults, strict=True):
            raw_table = raw.get(kind)
            if raw_table is None:
                tables.append(default_table)
                continue
            tables.append(_parse_table(raw_table, f"sla.{kind}", calendar))
        warning_at = raw.get("warning_at", 0.75)
        if (
            not isinstance(warning_at, int | float)
            or isinstance(warning_at, bool)
            or not 0 < warning_at < 1
        ):
            raise InvalidValue("sla.warning_at", warning_at, "a fraction between 0 and 1")
        return cls(tables[0], tables[1], calendar, float(warning_at))

    # ----------------------------------------------------------------- queries

    def target(self, severity: Severity, kind: SlaKind) -> Target:
        """The target for ``severity`` on the ``kind`` clock."""
        return self.resolution[severity] if kind == "resolution" else self.response[severity]

    def calendar_for(self, target: Target) -> BusinessCalendar:
        """The calendar a target is measured on: business hours or round the clock."""
        return self.calendar if target.business else TWENTY_FOUR_SEVEN

    def response_due(self, incident: Incident, at: datetime | None = None) -> datetime:
        """When the response target falls due (UTC), shifted by every recorded pause.

        ``at`` only matters while the incident is still on hold: the due is then
        projected as if work resumed at ``at`` (default: now).
        """
        return self._due(incident, "response", _now_if_none(at))

    def resolution_due(self, incident: Incident, at: datetime | None = None) -> datetime:
        """When the resolution target falls due (UTC); see :meth:`response_due`."""
        return self._due(incident, "resolution", _now_if_none(at))

    def _due(self, incident: Incident, kind: SlaKind, at: datetime) -> datetime:
        # Read the clock no earlier than the last recorded hold boundary, so
        # every recorded pause counts even when ``at`` is earlier (e.g. a
        # record imported with its history).
        latest = require_aware("at", at)
        for hold in incident.holds:
            latest = max(latest, hold.started, hold.ended or hold.started)
        return self.reading(incident, kind, latest).due

    def current(self, incident: Incident, at: datetime) -> SlaReading:
        """The clock the queue shows: response until acknowledged, then resolution."""
        require_aware("at", at)
        ack = incident.acknowledged_at
        if ack is None or ack > at:
            return self.reading(incident, "response", at)
        return self.reading(incident, "resolution", at)

    def reading(self, incident: Incident, kind: SlaKind, at: datetime) -> SlaReading:
        """The ``kind`` clock of ``incident`` as it stood at instant ``at``."""
        if kind not in SLA_KINDS:
            raise InvalidValue("kind", kind, SLA_KINDS)
        require_aware("at", at)
        target, business = self._micros[(kind, incident.severity)]
        calendar = self.calendar if business else None

        stop = _stop_time(incident, kind)
        opened = to_micros(incident.opened_at)
        now = to_micros(at)
        stop_us = to_micros(stop) if stop is not None else None
        stopped = stop_us is not None and stop_us <= now
        end = stop_us if stop_us is not None and stopped else now
        end = max(end, opened)

        # Walk the running stretches between holds (clipped to what was known
        # at ``end``), summing working time and noting where the target is hit.
        holds, on_hold = _holds_micros(incident, opened, end)
        paused = on_hold and not stopped
        elapsed = 0
        due: int | None = None
        cursor = opened
        for hold_start, hold_end in holds:
            work = _work(calendar, cursor, hold_start)
            if due is None and elapsed + work >= target:
                due = _add(calendar, cursor, target - elapsed)
            elapsed += work
            cursor = hold_end
        work = _work(calendar, cursor, end)
        if due is None and elapsed + work >= target:
            due = _add(calendar, cursor, target - elapsed)
        elapsed += work
        if due is None:
            # Not yet reached: from ``end`` (the stop, or now) the clock would
            # run on without further pauses.
            due = _add(calendar, end, target - elapsed)

        fraction = elapsed / target
        if stopped:
            status = SlaStatus.MET if elapsed < target else SlaStatus.BREACHED
        elif elapsed >= target:
            status = SlaStatus.BREACHED
        elif paused:
            status = SlaStatus.PAUSED
        elif fraction >= self.warning_at:
            status = SlaStatus.WARNING
        else:
            status = SlaStatus.OK
        return SlaReading(
            kind=kind,
            due=from_micros(due),
            elapsed=timedelta(microseconds=elapsed),
            target=timedelta(microseconds=target),
            fraction=fraction,
            remaining=timedelta(microseconds=target - elapsed),
            status=status,
            stopped_at=stop if stopped else None,
        )


def _now_if_none(at: datetime | None) -> datetime:
    return datetime.now(UTC) if at is None else at


def _stop_time(incident: Incident, kind: SlaKind) -> datetime | None:
    stop = incident.acknowledged_at if kind == "response" else incident.resolved_at
    if stop is None and incident.state is State.CANCELLED:
        return incident.closed_at or incident.updated_at
    return stop


def _holds_micros(incident: Incident, opened: int, end: int) -> tuple[list[tuple[int, int]], bool]:
    """The pausing holds in ``[opened, end]``, sorted and merged, and whether one is open at end.

    A hold still open at ``end`` (or ended only after it) is cut off at ``end``.
    """
    if not incident.holds:
        return [], False
    spans: list[tuple[int, int]] = []
    on_hold = False
    for hold in incident.holds:
        start = max(to_micros(hold.started), opened)
        if start > end:
            continue  # started after the instant of the reading: not known yet
        hold_end = None if hold.ended is None else to_micros(hold.ended)
        if hold_end is None or hold_end > end:
            on_hold = True
            hold_end = end
        if start <= hold_end:
            spans.append((start, hold_end))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, stop in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    return merged, on_hold


def _work(calendar: BusinessCalendar | None, a: int, b: int) -> int:
    # None is round the clock: plain subtraction, no calendar at all.
    if calendar is None:
        return max(b - a, 0)
    return calendar.work_between(a, b)


def _add(calendar: BusinessCalendar | None, start: int, amount: int) -> int:
    if calendar is None:
        return start + amount
    return calendar.add_work(start, amount)


# ------------------------------------------------------------------ parsing

_TARGET_RE = re.compile(r"^([0-9]+(?:\.[0-9]+)?)\s*([a-z ]+?)\s*$")
_UNITS: dict[str, tuple[timedelta | None, bool]] = {
    # unit -> (length, business); None length means "one business day".
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), (timedelta(minutes=1), False)),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), (timedelta(hours=1), False)),
    **dict.fromkeys(("d", "day", "days"), (timedelta(days=1), False)),
    **dict.fromkeys(
        ("bh", "business hour", "business hours", "working hour", "working hours"),
        (timedelta(hours=1), True),
    ),
    **dict.fromkeys(
        ("bd", "business day", "business days", "working day", "working days"), (None, True)
    ),
}
_TARGET_HINT = (
    "a duration such as '15 min', '4 h', '1 day', '8 business hours' or '2 business days'"
)


def parse_target(raw: object, calendar: BusinessCalendar, where: str = "target") -> Target:
    """Read a target written as text (``'2 business days'``); the error names ``where``."""
    if isinstance(raw, Target):
        return raw
    if isinstance(raw, str):
        match = _TARGET_RE.match(raw.strip().lower())
        unit_name = " ".join(match.group(2).split()) if match else ""
        if match and unit_name in _UNITS:
            unit, business = _UNITS[unit_name]
            try:
                amount = (calendar.business_day if unit is None else unit) * float(match.group(1))
            except OverflowError:
                amount = timedelta(0)
            if amount > timedelta(0):
                return Target(amount, business)
    raise InvalidValue(where, raw, _TARGET_HINT)


def _parse_table(raw: object, where: str, calendar: BusinessCalendar) -> dict[Severity, Target]:
    if not isinstance(raw, Mapping):
        raise InvalidValue(where, raw, "a table with a target for each of SEV-1 to SEV-4")
    table: dict[Severity, Target] = {}
    for key, value in raw.items():
        try:
            sev = Severity.of(key)
        except InvalidValue:
            raise InvalidValue(where, key, [s.code for s in Severity]) from None
        if sev in table:
            raise InvalidValue(where, key, "each severity once")
        table[sev] = parse_target(value, calendar, f"{where}.{sev.code}")
    missing = [s.code for s in Severity if s not in table]
    if missing:
        raise InvalidValue(
            f"{where}.{missing[0]}",
            None,
            "a target for every severity (missing: " + ", ".join(missing) + ")",
        )
    return table


# ---------------------------------------------------------- recalibration


SEV1_SHARE_LIMIT = 0.10
"""ITIL-NOTES: more than 5–10 % of incidents at SEV-1 means the definitions are too loose."""


def sev1_share_warning(
    counts: Mapping[Severity, int], *, limit: float = SEV1_SHARE_LIMIT, min_incidents: int = 20
) -> str | None:
    """A recalibration warning when more than ``limit`` of the incidents are SEV-1, else None.

    Below ``min_incidents`` there is no warning: two SEV-1s on a quiet morning
    are not a pattern, and a warning that cries wolf gets ignored.
    """
    for sev, n in counts.items():
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise InvalidValue(f"count {Severity.of(sev).code}", n, "a whole number from 0")
    total = sum(counts.values())
    sev1 = counts.get(Severity.SEV1, 0)
    if total < max(min_incidents, 1) or sev1 / total <= limit:
        return None
    return (
        f"{sev1 / total:.0%} of incidents are SEV-1 ({sev1} of {total}); more than "
        f"{limit:.0%} means the severity definitions need recalibration — "
        "check that SEV-1 is kept for complete outages of critical services with no workaround"
    )
