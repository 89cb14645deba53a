"""The live queue's logic, without Qt: rows with precomputed keys, filters, saved views.

Every incident becomes one :class:`Row` holding what filtering and sorting need,
computed once when the record arrives: the sort key, a lower-case "haystack"
for free-text search, and an :class:`SlaPlan` saying *when* the row's SLA clock
will next change state on its own (warning, breach). Filtering is then a
Python scan over rows in their sorted order (no re-sort, no ``data()`` calls),
and a one-second tick touches only the rows whose clocks can move the order
(paused clocks) or whose "at risk" flag flips (a heap of warning instants).

Measured on a 2-core machine, a stock ``QSortFilterProxyModel`` over 100k
rows takes seconds per keystroke; this takes milliseconds (``python -m bench
board``: ``board.filter_100k_p95_ms``).

The Qt models (:mod:`console.models.incident_table`, :mod:`console.models.board`)
are *projections* of one :class:`IncidentQueue`: each keeps its own filtered,
ordered list of rows (:class:`OrderedRows`) and turns the queue's change
notifications into Qt signals.
"""

from __future__ import annotations

import ctypes
import gc
import heapq
import json
import math
import sys
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from operator import attrgetter, itemgetter
from typing import Any, Protocol

from console.domain.calendar import BusinessCalendar, to_micros
from console.domain.incident import Incident, Source
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


# ----------------------------------------------------------------- filters


_SOURCE_VALUES = frozenset(source.value for source in Source)


@dataclass(frozen=True)
class QueueFilter:
    """What the operator asked to see. Empty sets mean "any".

    ``text`` matches number, title, service and assignee (every word must
    match, in any order). ``open_only`` hides resolved, closed and cancelled
    work (the queue's default); ``mine`` keeps incidents assigned to the
    operator; ``at_risk`` keeps open incidents whose SLA clock reads warning
    or breached; ``sources`` keeps incidents by how they came in (``monitoring``
    for what alert intake opened, ``phone`` …).
    """

    text: str = ""
    severities: frozenset[Severity] = frozenset()
    states: frozenset[State] = frozenset()
    services: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()
    mine: bool = False
    at_risk: bool = False
    open_only: bool = False

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(self.text.lower().split())

    def narrows(self, previous: QueueFilter) -> bool:
        """Whether every row this filter keeps was kept by ``previous`` (typing on).

        Then the new result can be computed from the old one, which is what
        makes each keystroke of a growing search word cheap.
        """
        if replace(self, text="") != replace(previous, text=""):
            return False
        old = previous.text.lower()
        new = self.text.lower()
        return all(any(o in n for n in new.split()) for o in old.split())

    def without_states(self) -> QueueFilter:
        """The same filter for the board, whose columns are the states."""
        return replace(self, states=frozenset(), open_only=False)

    def to_json(self) -> dict[str, object]:
        """A JSON-able form for saved views."""
        out: dict[str, object] = {}
        if self.text:
            out["text"] = self.text
        if self.severities:
            out["severities"] = sorted(s.code for s in self.severities)
        if self.states:
            out["states"] = sorted(s.value for s in self.states)
        if self.services:
            out["services"] = sorted(self.services)
        if self.groups:
            out["groups"] = sorted(self.groups)
        if self.sources:
            out["sources"] = sorted(self.sources)
        for name in ("mine", "at_risk", "open_only"):
            if getattr(self, name):
                out[name] = True
        return out

    @classmethod
    def from_json(cls, raw: Mapping[str, object]) -> QueueFilter:
        """Read a saved view; unknown values are dropped rather than failing the whole list."""

        def strings(name: str) -> list[str]:
            value = raw.get(name, [])
            return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []

        severities: set[Severity] = set()
        for code in strings("severities"):
            try:
                severities.add(Severity.of(code))
            except ValueError:
                continue
        states: set[State] = set()
        for value in strings("states"):
            try:
                states.add(State.of(value))
            except ValueError:
                continue
        text = raw.get("text", "")
        return cls(
            text=text if isinstance(text, str) else "",
            severities=frozenset(severities),
            states=frozenset(states),
            services=frozenset(strings("services")),
            groups=frozenset(strings("groups")),
            sources=frozenset(s for s in strings("sources") if s in _SOURCE_VALUES),
            mine=raw.get("mine") is True,
            at_risk=raw.get("at_risk") is True,
            open_only=raw.get("open_only") is True,
        )


OPEN_QUEUE = QueueFilter(open_only=True)
"""The queue's default view: every open incident."""


# --------------------------------------------------------------- the queue


class QueueListener(Protocol):
    """What a projection hears from the queue (all calls on the GUI thread)."""

    def queue_reset(self) -> None:
        """Every row was replaced."""

    def row_changed(self, old: Row | None, new: Row | None) -> None:
        """One incident was inserted (old None), updated, or removed (new None)."""

    def rows_rekeyed(self, moved: Sequence[tuple[Row, Row]]) -> None:
        """Paused clocks' dues slid: (old row, new row with the new key) for each."""

    def clocks_moved(self, newly_at_risk: Sequence[Row]) -> None:
        """A tick: clocks moved; these rows just started to read warning."""

    def names_changed(self) -> None:
        """Display names changed (haystacks were rebuilt)."""

    def timelines_changed_for(self, incident_ids: frozenset[str]) -> None:
        """The timelines of these incidents changed (for the detail pane)."""


class IncidentQueue:
    """Every cached incident as a :class:`Row`, in triage order, shared by the projections.

    Not a Qt object: the projections register as listeners and turn the
    notifications into Qt signals. ``operator`` names the person "mine" means
    (a contact id or a name, matched without regard to case). ``describe``
    reads an incident's description by id, for records loaded without one.
    """

    def __init__(
        self,
        policy: SlaPolicy,
        now: datetime,
        *,
        names: DisplayNames | None = None,
        operator: str | None = None,
        describe: Callable[[str], str] | None = None,
    ) -> None:
        self.policy = policy
        self._describe = describe
        self._planner = SlaPlanner(policy)
        self._now = now
        self._now_us = to_micros(now)
        self.names = names or DisplayNames()
        self._operator: frozenset[str] = frozenset()
        self.set_operator(operator)
        self._rows: dict[str, Row] = {}
        self._order = OrderedRows()
        self._by_state: dict[State, OrderedRows] = {state: OrderedRows() for state in State}
        self._paused: dict[str, Row] = {}
        # (warning instant, sequence, row): rows whose clock will read warning
        # later. Entries for replaced rows stay until popped and are skipped.
        self._warnings: list[tuple[int, int, Row]] = []
        self._sequence = 0
        self._slid_at_us = self._now_us
        self._open_count = 0
        self._listeners: list[QueueListener] = []

    # ------------------------------------------------------------ listeners

    def subscribe(self, listener: QueueListener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: QueueListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    # -------------------------------------------------------------- reading

    @property
    def now(self) -> datetime:
        return self._now

    @property
    def now_us(self) -> int:
        return self._now_us

    @property
    def open_count(self) -> int:
        """How many open incidents are loaded (kept up to date, so asking is free)."""
        return self._open_count

    @property
    def operator(self) -> frozenset[str]:
        """The lower-case ids/names "mine" matches."""
        return self._operator

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, incident_id: object) -> bool:
        return incident_id in self._rows

    def get(self, incident_id: str) -> Incident | None:
        row = self._rows.get(incident_id)
        return None if row is None else row.incident

    def row(self, incident_id: str) -> Row | None:
        return self._rows.get(incident_id)

    def ordered(self) -> list[Row]:
        """Every row in triage order (a copy)."""
        return list(self._order.rows)

    def description(self, incident: Incident) -> str:
        """The incident's description, read through ``describe`` when the loaded record
        left it out (a big queue is loaded without descriptions: nothing in a list shows one).
        """
        if incident.description or self._describe is None:
            return incident.description
        return self._describe(incident.id)

    def is_at_risk(self, row: Row) -> bool:
        return row.plan is not None and row.plan.is_at_risk(self._now_us)

    def is_mine(self, incident: Incident) -> bool:
        assignee = incident.assignee
        if not assignee or not self._operator:
            return False
        name = self.names.people.get(assignee, assignee)
        return assignee.lower() in self._operator or name.lower() in self._operator

    def services(self) -> list[str]:
        """Service ids in use, for the filter's choices."""
        return sorted({row.incident.service for row in self._order.rows})

    def groups(self) -> list[str]:
        """Assignment groups in use, for the filter's choices."""
        return sorted({g for row in self._order.rows if (g := row.incident.assignment_group)})

    # ------------------------------------------------------------ filtering

    def predicate(self, wanted: QueueFilter) -> Callable[[Row], bool]:
        """Whether one row passes ``wanted`` (for live updates, one row at a time)."""
        words = wanted.words

        def accepts(row: Row) -> bool:
            incident = row.incident
            if wanted.open_only and row.plan is None:
                return False
            if wanted.severities and incident.severity not in wanted.severities:
                return False
            if wanted.states and incident.state not in wanted.states:
                return False
            if wanted.services and incident.service not in wanted.services:
                return False
            if wanted.groups and incident.assignment_group not in wanted.groups:
                return False
            if wanted.sources and incident.source.value not in wanted.sources:
                return False
            if wanted.mine and not self.is_mine(incident):
                return False
            if wanted.at_risk and not self.is_at_risk(row):
                return False
            hay = row.hay
            return all(word in hay for word in words)

        return accepts

    def matching(self, wanted: QueueFilter, within: Iterable[Row] | None = None) -> list[Row]:
        """The rows passing ``wanted``, in triage order.

        ``within``: the result of a filter that ``wanted`` narrows (see
        :meth:`QueueFilter.narrows`), so only the text needs checking again —
        which is what makes each keystroke of a growing word cheap.

        Otherwise one comprehension per active criterion, cheapest first, so
        each pass runs over what the previous one kept; the text test is a
        plain substring search in the precomputed haystack.
        """
        if within is not None:
            rows: list[Row] = list(within)
        else:
            rows = self._matching_all_but_text(wanted)
        for word in wanted.words:
            rows = [r for r in rows if word in r.hay]
        return rows

    def _matching_all_but_text(self, wanted: QueueFilter) -> list[Row]:
        # A board column starts from its states' own lists: it scans only its cards.
        rows = self._in_states(wanted.states) if wanted.states else list(self._order.rows)
        if wanted.open_only:
            rows = [r for r in rows if r.plan is not None]  # only open rows have a clock
        if wanted.severities:
            sev = wanted.severities
            rows = [r for r in rows if r.incident.severity in sev]
        if wanted.services:
            services = wanted.services
            rows = [r for r in rows if r.incident.service in services]
        if wanted.groups:
            groups = wanted.groups
            rows = [r for r in rows if r.incident.assignment_group in groups]
        if wanted.sources:
            sources = wanted.sources
            rows = [r for r in rows if r.incident.source.value in sources]
        if wanted.mine:
            rows = [r for r in rows if self.is_mine(r.incident)]
        if wanted.at_risk:
            now_us = self._now_us
            rows = [r for r in rows if r.plan is not None and r.plan.is_at_risk(now_us)]
        return rows

    # -------------------------------------------------------------- updates

    def load(self, incidents: Iterable[Incident]) -> None:
        """Replace every row (the first load); listeners hear one reset."""
        # A bulk build of 100k rows would trigger many full garbage collections
        # that find nothing to free (about half the time); pause them.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._build(incidents)
        finally:
            if collecting:
                gc.enable()
        release_free_memory()
        for listener in list(self._listeners):
            listener.queue_reset()

    def _build(self, incidents: Iterable[Incident]) -> None:
        planned = [self._plan(i) for i in {i.id: i for i in incidents}.values()]
        planned.sort(key=_first)
        # Rows and haystacks are made in triage order on purpose: allocated one
        # after the other, they sit in memory in the order every filter scans
        # them, which makes a 100k-row scan several times faster (cache misses).
        names = self.names
        rows = [Row(i, key, haystack(i, names), plan) for key, i, plan in planned]
        self._order = OrderedRows(rows)
        self._by_state = {state: OrderedRows() for state in State}
        for row in rows:
            self._by_state[row.incident.state].rows.append(row)  # already in order
        self._rows = {row.id: row for row in rows}
        self._paused = {
            row.id: row for row in rows if row.plan and row.plan.paused_left_us is not None
        }
        self._warnings = [e for row in rows if (e := self._warning_entry(row)) is not None]
        heapq.heapify(self._warnings)
        self._open_count = sum(1 for row in rows if row.plan is not None)

    def upsert(self, incidents: Iterable[Incident]) -> list[str]:
        """Insert new incidents and replace known ones; returns the ids touched."""
        touched: list[str] = []
        for incident in incidents:
            old = self._rows.get(incident.id)
            new = self._make_row(incident)
            if old is not None:
                self._take_out(old)
                self._open_count -= old.plan is not None
                self._paused.pop(old.id, None)
            self._order.insert(self._order.place_for(new.key), new)
            by_state = self._by_state[new.incident.state]
            by_state.insert(by_state.place_for(new.key), new)
            self._rows[new.id] = new
            self._open_count += new.plan is not None
            if new.plan is not None and new.plan.paused_left_us is not None:
                self._paused[new.id] = new
            entry = self._warning_entry(new)
            if entry is not None:
                heapq.heappush(self._warnings, entry)
            touched.append(new.id)
            for listener in list(self._listeners):
                listener.row_changed(old, new)
        return touched

    def remove(self, incident_ids: Iterable[str]) -> list[str]:
        """Remove these incidents (unknown ids are ignored); returns the ids removed."""
        removed: list[str] = []
        for incident_id in incident_ids:
            old = self._rows.pop(incident_id, None)
            if old is None:
                continue
            self._take_out(old)
            self._open_count -= old.plan is not None
            self._paused.pop(incident_id, None)
            removed.append(incident_id)
            for listener in list(self._listeners):
                listener.row_changed(old, None)
        return removed

    def tick(self, now: datetime) -> None:
        """Move the clocks to ``now``: slide paused dues, flag rows that now read warning."""
        self._now = now
        now_us = self._now_us = to_micros(now)
        moved: list[tuple[Row, Row]] = []
        slide = abs(now_us - self._slid_at_us) >= PAUSED_SLIDE_EVERY_US
        if slide:
            self._slid_at_us = now_us
        for row in self._paused.values() if slide else ():
            assert row.plan is not None
            key = make_key(row.incident, row.plan.due_at(now_us))
            if key != row.key:
                moved.append((row, Row(row.incident, key, row.hay, row.plan)))
        if moved:
            for _old, new in moved:
                self._rows[new.id] = new
                self._paused[new.id] = new
            for ordered in (self._order, self._by_state[State.ON_HOLD]):
                positions = ordered.replace_all(moved)
                if not all(ordered.in_order_at(pos) for pos in positions):
                    ordered.resort()
            for listener in list(self._listeners):
                listener.rows_rekeyed(moved)
        at_risk: list[Row] = []
        warnings = self._warnings
        while warnings and warnings[0][0] <= now_us:
            _, _, row = heapq.heappop(warnings)
            if self._rows.get(row.id) is row:
                at_risk.append(row)
        for listener in list(self._listeners):
            listener.clocks_moved(at_risk)

    def set_names(self, names: DisplayNames) -> None:
        """Show new service/people/team names; haystacks are rebuilt to match."""
        self.names = names
        for row in self._order.rows:
            row.hay = haystack(row.incident, names)
        for listener in list(self._listeners):
            listener.names_changed()

    def note_timelines(self, incident_ids: Iterable[str]) -> None:
        """Tell the listeners these incidents' timelines changed."""
        ids = frozenset(incident_ids)
        if ids:
            for listener in list(self._listeners):
                listener.timelines_changed_for(ids)

    def set_operator(self, operator: str | None) -> None:
        """Who "mine" means: a contact id or name (several may be given, comma separated)."""
        parts = (operator or "").split(",")
        self._operator = frozenset(p.strip().lower() for p in parts if p.strip())

    # ------------------------------------------------------------ internals

    def _take_out(self, row: Row) -> None:
        for ordered in (self._order, self._by_state[row.incident.state]):
            pos = ordered.find(row.key)
            assert pos is not None, "a known row is always in the order"
            ordered.pop(pos)

    def _in_states(self, states: frozenset[State]) -> list[Row]:
        """The rows in any of ``states``, in triage order."""
        lists = [self._by_state[state].rows for state in states]
        if len(lists) == 1:
            return list(lists[0])
        # Each list is sorted: Timsort merges the runs in linear time.
        return sorted((row for rows in lists for row in rows), key=_row_key)

    def _plan(self, incident: Incident) -> tuple[SortKey, Incident, SlaPlan | None]:
        plan = self._planner.plan(incident, self._now, self._now_us)
        due = None if plan is None else plan.due_at(self._now_us)
        return (make_key(incident, due), incident, plan)

    def _make_row(self, incident: Incident) -> Row:
        key, _, plan = self._plan(incident)
        return Row(incident, key, haystack(incident, self.names), plan)

    def _warning_entry(self, row: Row) -> tuple[int, int, Row] | None:
        """A heap entry for when the row will start to read warning (None: not by time alone)."""
        plan = row.plan
        if plan is None or plan.warn_us is None or plan.warn_us <= self._now_us:
            return None
        self._sequence += 1
        return (plan.warn_us, self._sequence, row)


def release_free_memory() -> None:
    """Hand memory freed by a bulk load back to the operating system (glibc only).

    Loading 100k incidents passes through every SQLite row as Python objects;
    once those are freed, glibc keeps the pages unless asked, which shows as
    ~100 MB of resident memory the console does not use.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        return  # not glibc (musl, …): nothing to do


# ------------------------------------------------------------- saved views


BUILT_IN_VIEWS: dict[str, QueueFilter] = {
    "All open": OPEN_QUEUE,
    "Mine": replace(OPEN_QUEUE, mine=True),
    "SLA at risk": replace(OPEN_QUEUE, at_risk=True),
    "Critical and high": replace(OPEN_QUEUE, severities=frozenset({Severity.SEV1, Severity.SEV2})),
    "Unacknowledged": replace(OPEN_QUEUE, states=frozenset({State.NEW})),
}
"""Views every console has; the operator's own come after them."""


class SavedViews:
    """Named filter sets the operator saved, kept as one JSON text.

    ``load``/``store`` read and write that text (``console.app.gui`` passes the
    cache's meta table, key :data:`SAVED_VIEWS_META_KEY`), so the views
    survive restarts and stay on this machine.
    """

    def __init__(
        self,
        load: Callable[[], str | None] = lambda: None,
        store: Callable[[str], None] = lambda _text: None,
    ) -> None:
        self._store = store
        self._views: dict[str, QueueFilter] = {}
        text = load()
        if text:
            try:
                raw = json.loads(text)
            except ValueError:
                raw = {}
            if isinstance(raw, dict):
                for name, value in raw.items():
                    if isinstance(name, str) and isinstance(value, dict):
                        self._views[name] = QueueFilter.from_json(value)

    def names(self) -> list[str]:
        """Built-in views first, then the operator's in the order saved."""
        return [*BUILT_IN_VIEWS, *(n for n in self._views if n not in BUILT_IN_VIEWS)]

    def __iter__(self) -> Iterator[tuple[str, QueueFilter]]:
        for name in self.names():
            yield name, self[name]

    def __getitem__(self, name: str) -> QueueFilter:
        return BUILT_IN_VIEWS.get(name) or self._views[name]

    def is_built_in(self, name: str) -> bool:
        return name in BUILT_IN_VIEWS

    def save(self, name: str, wanted: QueueFilter) -> None:
        """Save (or replace) a view; built-in names cannot be replaced."""
        name = name.strip()
        if not name:
            raise ValueError("a saved view needs a name")
        if name in BUILT_IN_VIEWS:
            raise ValueError(f"{name!r} is a built-in view; choose another name")
        self._views[name] = wanted
        self._write()

    def delete(self, name: str) -> None:
        if self._views.pop(name, None) is not None:
            self._write()

    def _write(self) -> None:
        try:
            self._store(json.dumps({n: f.to_json() for n, f in self._views.items()}))
        except Exception as exc:  # the store is the cache: say so instead of crashing
            raise ValueError(f"the view could not be saved: {exc}") from exc


SAVED_VIEWS_META_KEY = "board.saved_views"
"""The cache meta key saved views are kept under."""
