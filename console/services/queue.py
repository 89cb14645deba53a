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

The parts: :mod:`console.services.queue_rows` (keys, SLA plans, names, rows)
and :mod:`console.services.queue_filters` (filters, saved views); the queue
itself is here, and every public name of the parts is re-exported.
"""

from __future__ import annotations

import ctypes
import gc
import heapq
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Protocol

from console.domain.calendar import to_micros
from console.domain.incident import Incident
from console.domain.lifecycle import State
from console.domain.major import overdue_badge
from console.domain.sla import SlaPolicy
from console.services.queue_filters import (
    BUILT_IN_VIEWS,
    OPEN_QUEUE,
    SAVED_VIEWS_META_KEY,
    QueueFilter,
    SavedViews,
)
from console.services.queue_rows import (
    OPEN_STATES,
    PAUSED_SLIDE_EVERY_US,
    DisplayNames,
    OrderedRows,
    Row,
    SlaPlan,
    SlaPlanner,
    SortKey,
    _first,
    _row_key,
    haystack,
    make_key,
)

__all__ = [
    "BUILT_IN_VIEWS",
    "OPEN_QUEUE",
    "OPEN_STATES",
    "PAUSED_SLIDE_EVERY_US",
    "SAVED_VIEWS_META_KEY",
    "DisplayNames",
    "IncidentQueue",
    "OrderedRows",
    "QueueFilter",
    "QueueListener",
    "Row",
    "SavedViews",
    "SlaPlan",
    "SlaPlanner",
    "SortKey",
    "haystack",
    "make_key",
    "release_free_memory",
]

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
        # #19: open major incidents that owe updates (few), and the overdue
        # badge of each one late at ``now``; the tick re-reads only these.
        self._majors: dict[str, Incident] = {}
        self._overdue: dict[str, str] = {}
        self._overdue_moved: frozenset[str] = frozenset()
        self._listeners: list[QueueListener] = []
        self.review_overdue: frozenset[str] = frozenset()
        """Incidents whose review or its action items are past due (set_review_overdue)."""

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

    def update_overdue(self, incident_id: str) -> str | None:
        """``◷ update overdue (internal 4 min)`` while a major incident owes a late update.

        The fact the queue row and the detail show (#19 item 4), as of
        :attr:`now`; None for an incident that owes nothing late.
        """
        return self._overdue.get(incident_id)

    def overdue_ids(self) -> list[str]:
        """The incidents whose stakeholder update is overdue at :attr:`now`."""
        return list(self._overdue)

    def overdue_moved(self) -> frozenset[str]:
        """The incidents whose overdue badge appeared, changed or ended at the last tick."""
        return self._overdue_moved

    def _track_major(self, old: Row | None, new: Row | None) -> None:
        if old is not None:
            self._majors.pop(old.id, None)
            self._overdue.pop(old.id, None)
        incident = None if new is None else new.incident
        if (
            incident is not None
            and incident.major
            and incident.is_open
            and incident.next_update_due
        ):
            self._majors[incident.id] = incident
            badge = overdue_badge(incident.next_update_due, self._now)
            if badge is not None:
                self._overdue[incident.id] = badge

    def _tick_majors(self) -> None:
        before = self._overdue
        now = self._now
        after: dict[str, str] = {}
        for incident_id, incident in self._majors.items():
            badge = overdue_badge(incident.next_update_due, now)
            if badge is not None:
                after[incident_id] = badge
        self._overdue = after
        self._overdue_moved = frozenset(
            key for key in before.keys() | after.keys() if before.get(key) != after.get(key)
        )

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
        review_overdue = wanted.review_overdue

        def accepts(row: Row) -> bool:
            incident = row.incident
            if wanted.open_only and not review_overdue and row.plan is None:
                return False  # review:overdue looks at resolved and closed work too
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
            if review_overdue and incident.id not in self.review_overdue:
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
        if wanted.open_only and not wanted.review_overdue:  # a review is owed once resolved
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
        if wanted.review_overdue:
            late = self.review_overdue
            rows = [r for r in rows if r.incident.id in late]
        return rows

    def set_review_overdue(self, incident_ids: Iterable[str]) -> None:
        """The incidents whose review or action items are past due (the ``review:overdue`` term)."""
        self.review_overdue = frozenset(incident_ids)

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
        self._majors.clear()
        self._overdue = {}
        for row in rows:
            if row.incident.major:
                self._track_major(None, row)

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
            if old is not None or new.incident.major:
                self._track_major(old, new)
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
            self._track_major(old, None)
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
        self._tick_majors()
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
