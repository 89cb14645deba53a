"""The live queue's rows: the sort key, the SLA plan, display names, and the ordered row list.

Everything a :class:`Row` holds is computed once when its record arrives: the
one-float sort key (:func:`make_key`), the :class:`SlaPlan` saying when its
clock next changes state by itself, and the lower-case search haystack (with
the :class:`DisplayNames` of services, people and teams).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import attrgetter, itemgetter
from typing import Any

from console.domain.calendar import BusinessCalendar, to_micros
from console.domain.incident import Incident
from console.domain.lifecycle import State
from console.domain.severity import Severity
from console.domain.sla import SlaKind, SlaPolicy, SlaStatus

SortKey = tuple[float, str]
"""A row's place: one number (open first, then severity, then the instant) and the id.

The id breaks ties, which makes the order total (bisect finds every row) and
stable across reloads. One float rather than a longer tuple or a big integer
keeps sorting 100k rows fast: CPython then compares the first tuple items
with its specialised float comparison.
"""

# The number is band * 1e15 + 5e14 + milliseconds since the epoch; band is
# 0–3 for open SEV-1..4, 4–7 for finished SEV-1..4. Every value stays below
# 2**53, so the float holds it exactly (dates from year 1 to 9999 fit).
_BAND = 1e15
_MS_OFFSET = 5e14
_FINISHED_BAND = 4
_US = timedelta(microseconds=1)

PAUSED_SLIDE_EVERY_US = 60 * 1_000_000
"""How often a paused clock's due is moved on (and the order checked): once a minute.

A paused clock's due slides later by the time it waits, so paused rows drift
down past running ones. Moving them every minute rather than every second
keeps the order right to the minute (what the SLA column shows) while the
one-second tick stays cheap when thousands of incidents wait on vendors.
"""

OPEN_STATES: frozenset[State] = frozenset(s for s in State if s.is_open)
"""States whose incidents are on the queue (still need work)."""


def make_key(incident: Incident, due_us: int | None) -> SortKey:
    """Open work (``due_us`` given) by severity then due; finished work newest change first."""
    band = incident.severity.value - 1
    if due_us is not None:
        return (band * _BAND + _MS_OFFSET + due_us // 1000, incident.id)
    updated_ms = to_micros(incident.updated_at) // 1000
    return ((band + _FINISHED_BAND) * _BAND + _MS_OFFSET - updated_ms, incident.id)


# ----------------------------------------------------------------- SLA plans


@dataclass(slots=True)
class SlaPlan:
    """When a row's current SLA clock changes state by the passing of time alone.

    ``due_us``: the instant the target falls due (the sort key). ``warn_us``:
    from this instant the clock reads *warning*, or None when time alone will
    not make it so (already warning, breached, paused or stopped).
    ``at_risk``: already warning or breached. ``paused_left_us``: a paused
    clock's working time left; its due then slides with the clock as
    ``calendar.add_work(now, paused_left_us)``. ``kind``: which clock it is
    (response until acknowledged, then resolution).
    """

    due_us: int
    warn_us: int | None
    at_risk: bool
    paused_left_us: int | None = None
    calendar: BusinessCalendar | None = None
    kind: SlaKind = "response"

    def is_at_risk(self, now_us: int) -> bool:
        """Warning or breached at ``now_us``."""
        return self.at_risk or (self.warn_us is not None and now_us >= self.warn_us)

    def due_at(self, now_us: int) -> int:
        """The due as it reads at ``now_us`` (a paused clock's due slides later)."""
        if self.paused_left_us is None or self.calendar is None:
            return self.due_us
        return self.calendar.add_work(now_us, self.paused_left_us)


class SlaPlanner:
    """Plans SLA clocks from a policy, cheaply for the common case.

    An open incident that was never on hold has a clock that simply runs from
    ``opened_at``: its due and warning instants are two ``add_work`` calls on
    the target's calendar (microseconds). Anything else (holds, a clock that
    stopped) asks the policy for a full reading once. A property test checks
    the fast path against :meth:`SlaPolicy.current`.
    """

    def __init__(self, policy: SlaPolicy) -> None:
        self.policy = policy
        # (target, warning point, calendar) per severity value, one table per clock.
        self._response = self._table("response")
        self._resolution = self._table("resolution")

    def _table(self, kind: SlaKind) -> dict[int, tuple[int, int, BusinessCalendar]]:
        table: dict[int, tuple[int, int, BusinessCalendar]] = {}
        for severity in Severity:
            target = self.policy.target(severity, kind)
            amount = target.amount // _US
            warn = _warning_amount(amount, self.policy.warning_at)
            table[severity.value] = (amount, warn, self.policy.calendar_for(target))
        return table

    def plan(self, incident: Incident, now: datetime, now_us: int) -> SlaPlan | None:
        """The plan of an open incident's current clock; None for finished work."""
        state = incident.state
        if state is State.RESOLVED or state is State.CLOSED or state is State.CANCELLED:
            return None
        ack = incident.acknowledged_at
        if not incident.holds:
            if ack is None:
                targets = self._response
            elif incident.resolved_at is None and to_micros(ack) <= now_us:
                targets = self._resolution
            else:
                return self._full(incident, now, now_us)
            amount, warn, calendar = targets[incident.severity.value]
            opened = to_micros(incident.opened_at)
            return SlaPlan(
                calendar.add_work(opened, amount),
                calendar.add_work(opened, warn),
                False,
                kind="response" if targets is self._response else "resolution",
            )
        return self._full(incident, now, now_us)

    def _full(self, incident: Incident, now: datetime, now_us: int) -> SlaPlan:
        reading = self.policy.current(incident, now)
        due = to_micros(reading.due)
        status = reading.status
        kind = reading.kind
        if status is SlaStatus.BREACHED or status is SlaStatus.WARNING:
            return SlaPlan(due, None, True, kind=kind)
        targets = self._response if kind == "response" else self._resolution
        amount, warn, calendar = targets[incident.severity.value]
        elapsed = reading.elapsed // _US
        if status is SlaStatus.PAUSED:
            return SlaPlan(due, None, False, amount - elapsed, calendar, kind)
        if status is SlaStatus.OK:
            return SlaPlan(due, calendar.add_work(now_us, warn - elapsed), False, kind=kind)
        return SlaPlan(due, None, False, kind=kind)  # MET: the clock stopped in time


def _warning_amount(target: int, warning_at: float) -> int:
    """The least elapsed working time (µs) that :class:`SlaPolicy` reads as warning."""
    amount = math.ceil(target * warning_at)
    while amount > 0 and (amount - 1) / target >= warning_at:
        amount -= 1
    while amount / target < warning_at:
        amount += 1
    return amount


# ------------------------------------------------------------------- names


@dataclass(frozen=True)
class DisplayNames:
    """Names to show instead of ids (services, people, teams); unknown ids show as they are."""

    services: Mapping[str, str] = field(default_factory=dict)
    people: Mapping[str, str] = field(default_factory=dict)
    teams: Mapping[str, str] = field(default_factory=dict)
    tiers: Mapping[str, str] = field(default_factory=dict)  # team id → "L1", "L2", "L3"

    @classmethod
    def from_reference(
        cls,
        services: Iterable[Mapping[str, Any]] = (),
        contacts: Iterable[Mapping[str, Any]] = (),
        teams: Iterable[Mapping[str, Any]] = (),
    ) -> DisplayNames:
        """Build from reference items (each with ``id`` and ``name``)."""

        def names(items: Iterable[Mapping[str, Any]]) -> dict[str, str]:
            return {str(i["id"]): str(i.get("name") or i["id"]) for i in items if "id" in i}

        teams = list(teams)
        tiers = {str(t["id"]): str(t["tier"]) for t in teams if "id" in t and t.get("tier")}
        return cls(names(services), names(contacts), names(teams), tiers)

    def service(self, service_id: str) -> str:
        return self.services.get(service_id, service_id)

    def person(self, person_id: str) -> str:
        return self.people.get(person_id, person_id)

    def team(self, team_id: str) -> str:
        return self.teams.get(team_id, team_id)


# -------------------------------------------------------------------- rows


@dataclass(slots=True, eq=False)
class Row:
    """One incident with what the queue precomputes for it.

    A new record, or a paused clock whose due slid, makes a new Row; only
    ``hay`` is rewritten in place (when display names change).
    """

    incident: Incident
    key: SortKey
    hay: str
    plan: SlaPlan | None

    @property
    def id(self) -> str:
        return self.incident.id


def haystack(incident: Incident, names: DisplayNames) -> str:
    """What free text is matched against: number, title, service and assignee (ids and names)."""
    parts = [incident.number, incident.title, incident.service]
    service = names.service(incident.service)
    if service != incident.service:
        parts.append(service)
    assignee = incident.assignee
    if assignee:
        parts.append(assignee)
        person = names.person(assignee)
        if person != assignee:
            parts.append(person)
    return " ".join(parts).lower()


class OrderedRows:
    """A list of rows in key order, searched by bisecting on the rows' keys.

    No parallel list of keys: building one for every filter result would cost
    as much as the filter itself at 100k rows.
    """

    __slots__ = ("rows",)

    def __init__(self, rows: Sequence[Row] = ()) -> None:
        self.rows: list[Row] = list(rows)

    def __len__(self) -> int:
        return len(self.rows)

    def find(self, key: SortKey) -> int | None:
        """The position of the row with ``key``, or None."""
        rows = self.rows
        pos = bisect_left(rows, key, key=_row_key)
        if pos < len(rows) and rows[pos].key == key:
            return pos
        return None

    def place_for(self, key: SortKey) -> int:
        """Where a row with ``key`` belongs."""
        return bisect_left(self.rows, key, key=_row_key)

    def insert(self, pos: int, row: Row) -> None:
        self.rows.insert(pos, row)

    def pop(self, pos: int) -> Row:
        return self.rows.pop(pos)

    def put(self, pos: int, row: Row) -> None:
        self.rows[pos] = row

    def in_order_at(self, pos: int) -> bool:
        """Whether the row at ``pos`` sits between its neighbours."""
        rows = self.rows
        key = rows[pos].key
        return (pos == 0 or rows[pos - 1].key < key) and (
            pos + 1 == len(rows) or key < rows[pos + 1].key
        )

    def place_after_removal(self, pos: int, key: SortKey) -> int:
        """Where ``key`` belongs once the row at ``pos`` is taken out (for a move)."""
        rows = self.rows
        if (pos == 0 or rows[pos - 1].key < key) and (
            pos + 1 == len(rows) or key < rows[pos + 1].key
        ):
            return pos  # still in order: the common case
        new = bisect_left(rows, key, key=_row_key)
        return new - 1 if new > pos else new

    def replace_all(self, pairs: Sequence[tuple[Row, Row]]) -> list[int]:
        """Swap old rows for new ones (same incidents, new keys); returns their positions.

        Every position is found before any row is swapped, so each search runs
        over a list that is still in order.
        """
        found = [(pos, new) for old, new in pairs if (pos := self.find(old.key)) is not None]
        for pos, new in found:
            self.rows[pos] = new
        return [pos for pos, _ in found]

    def resort(self) -> None:
        """Sort again after keys changed."""
        self.rows.sort(key=_row_key)


# C-level key getters: a Python function per comparison would double the cost.
_row_key: Callable[[Row], SortKey] = attrgetter("key")
_first: Callable[[tuple[SortKey, Incident, SlaPlan | None]], SortKey] = itemgetter(0)
