"""What the wall display shows, computed from the cache's incidents and reference data.

The wall (``noc-console --wall``) answers, from across the room: how many open
incidents of each severity, which SEV-1 and major incidents are running, which
SLA clocks are at risk (soonest due first), and who is on call now for the key
services. :func:`build_snapshot` computes all of it for one instant as plain
immutable data; :class:`WallModel` keeps the open incidents and the reference
data up to date from sync updates and hands out snapshots. The view only
paints a snapshot: it never decides SLA, severity or who is on call.

On-call data comes from the reference kinds ``policies`` (escalation policies:
a service's tiers, each paging a rotation or a fixed contact) and ``shifts``
(weekly rotations with overrides), read by :class:`console.services.directory.Directory`
(the escalation matrix's reading of the same data, so the wall and the matrix
always name the same person). When the cache holds neither, the snapshot says
so (``on_call`` is None) instead of inventing anyone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from PySide6.QtCore import QObject, Signal

from console.domain import text
from console.domain.incident import Incident, Source
from console.domain.phones import format_phone
from console.domain.severity import Severity
from console.domain.sla import SlaClock, SlaReading, SlaStatus
from console.models.incident_table import DisplayNames
from console.models.projection import Changes
from console.services.directory import Directory, OnCall, ReferenceSource, TierLine
from console.store import CacheError

AT_RISK = (SlaStatus.WARNING, SlaStatus.BREACHED)
"""SLA statuses the wall lists as at risk."""

REFERENCE_KINDS = ("services", "contacts", "teams", "policies", "shifts")
"""The reference kinds the wall reads; a change to any of them reloads the wall's copy."""


# ---------------------------------------------------------------------- data


@dataclass(frozen=True)
class WallIncident:
    """One incident as a wall row: everything already in display words."""

    id: str
    number: str
    title: str
    severity: Severity
    service: str
    owner: str  # the assignee, else the team whose queue it waits in, else "Unassigned"
    state: str
    major: bool
    acknowledged: bool
    opened_at: datetime
    reading: SlaReading
    sla: str  # e.g. "✖ 2 h 10 overdue" (see :func:`wall_sla_text`)


@dataclass(frozen=True)
class OnCallTier:
    """Who answers one tier of a service's escalation path right now.

    ``contact`` is None when nobody is scheduled (``note`` says why);
    ``until`` is when the current shift ends (None for a fixed contact).
    """

    label: str
    contact: str | None
    phone: str | None = None
    until: datetime | None = None
    via_override: bool = False
    note: str = ""
    level: int = 1
    via: str = ""  # "cover" or "swap" when an override put this person on call


@dataclass(frozen=True)
class OnCallRow:
    """A key service and who answers each of its tiers now (``note`` when there is no path)."""

    service_id: str
    service: str
    tiers: tuple[OnCallTier, ...]
    note: str = ""


@dataclass(frozen=True)
class OnCallBoard:
    """The "on call now" panel: one row per key service, and what could not be read."""

    rows: tuple[OnCallRow, ...]
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class WallSnapshot:
    """Everything the wall shows at instant ``at``.

    ``counts`` holds every severity (zero included). ``major`` lists open SEV-1
    and major incidents, most severe first, unacknowledged before
    acknowledged, then soonest SLA due. ``at_risk`` lists open incidents whose
    SLA clock is at warning or breached, soonest due first (so the most
    overdue lead). ``on_call`` is None when the cache has no on-call data.
    """

    at: datetime
    counts: Mapping[Severity, int]
    open_total: int
    unacknowledged: int
    breached: int
    major: tuple[WallIncident, ...]
    at_risk: tuple[WallIncident, ...]
    on_call: OnCallBoard | None
    # Open incidents opened by monitoring (alert intake), of ``open_total``.
    monitoring: int = 0


@dataclass(frozen=True)
class WallReference:
    """The reference documents the wall uses, as the cache stores them (plain dicts)."""

    services: tuple[Mapping[str, Any], ...] = ()
    contacts: tuple[Mapping[str, Any], ...] = ()
    teams: tuple[Mapping[str, Any], ...] = ()
    policies: tuple[Mapping[str, Any], ...] = ()
    shifts: tuple[Mapping[str, Any], ...] = ()

    @classmethod
    def from_cache(cls, cache: ReferenceSource) -> WallReference:
        """Read the five kinds from the cache (raises ``CacheError`` when it cannot)."""
        return cls(**{kind: tuple(cache.reference(kind)) for kind in REFERENCE_KINDS})

    @property
    def names(self) -> DisplayNames:
        return DisplayNames.from_reference(self.services, self.contacts, self.teams)

    def directory(self) -> Directory:
        """Services, contacts, policies and rotations ready for "who is on call"."""
        return Directory.from_reference(
            services=self.services,
            teams=self.teams,
            contacts=self.contacts,
            policies=self.policies,
            shifts=self.shifts,
        )


class IncidentSource(Protocol):
    """What the wall needs from the cache for incidents (``Cache`` satisfies it)."""

    def incidents(self, *, open_only: bool = False) -> list[Incident]: ...


class WallSource(IncidentSource, ReferenceSource, Protocol):
    """A cache the wall can load from (``console.store.Cache``)."""


class WallChanges(Changes, Protocol):
    """A store ``ChangeSet`` as the wall reads it: a projection's :class:`Changes` (incident
    ids by kind of change) and the reference kinds changed."""

    @property
    def reference_kinds(self) -> frozenset[str]: ...


class Update(Protocol):
    """A sync update (``console.sync.engine.SyncUpdate``): what changed and the new records."""

    @property
    def changes(self) -> WallChanges: ...

    def lookup(self, incident_id: str) -> Incident | None: ...


# ------------------------------------------------------------------ snapshot


def build_snapshot(
    incidents: Iterable[Incident],
    clock: SlaClock,
    now: datetime,
    *,
    names: DisplayNames | None = None,
    on_call: OnCallBoard | None = None,
) -> WallSnapshot:
    """The wall's figures and lists at ``now`` (closed incidents are ignored)."""
    names = names or DisplayNames()
    counts = dict.fromkeys(Severity, 0)
    unacknowledged = breached = monitoring = 0
    major: list[tuple[tuple[int, bool, float, str], WallIncident]] = []
    at_risk: list[tuple[tuple[int, float, str], WallIncident]] = []
    total = 0
    for incident in incidents:
        if not incident.is_open:
            continue
        total += 1
        counts[incident.severity] += 1
        unacknowledged += not incident.acknowledged
        monitoring += incident.source is Source.MONITORING
        reading = clock.current(incident, now)
        breached += reading.status is SlaStatus.BREACHED
        sev1_or_major = incident.severity is Severity.SEV1 or incident.major
        if not sev1_or_major and reading.status not in AT_RISK:
            continue
        row = _row(incident, reading, names, now)
        due = reading.due.timestamp()
        if sev1_or_major:
            key = (incident.severity.value, incident.acknowledged, due, incident.number)
            major.append((key, row))
        if reading.status in AT_RISK:
            # Most severe first, then the least time left (a SEV-4 never tops a SEV-1).
            at_risk.append(((incident.severity.value, due, incident.number), row))
    major.sort(key=lambda pair: pair[0])
    at_risk.sort(key=lambda pair: pair[0])
    return WallSnapshot(
        at=now,
        counts=counts,
        open_total=total,
        unacknowledged=unacknowledged,
        breached=breached,
        major=tuple(row for _, row in major),
        at_risk=tuple(row for _, row in at_risk),
        on_call=on_call,
        monitoring=monitoring,
    )


def _row(
    incident: Incident, reading: SlaReading, names: DisplayNames, now: datetime
) -> WallIncident:
    if incident.assignee:
        owner = names.people.get(incident.assignee, incident.assignee)
    elif incident.assignment_group:
        owner = names.teams.get(incident.assignment_group, incident.assignment_group)
    else:
        owner = "Unassigned"
    return WallIncident(
        id=incident.id,
        number=incident.number,
        title=incident.title,
        severity=incident.severity,
        service=names.services.get(incident.service, incident.service),
        owner=owner,
        state=incident.state.label,
        major=incident.major,
        acknowledged=incident.acknowledged,
        opened_at=incident.opened_at,
        reading=reading,
        sla=wall_sla_text(reading, now),
    )


WALL_HORIZON = timedelta(hours=12)
"""Beyond this a countdown reads worse than the due time itself (``due Mon 09:10``)."""


def wall_sla_text(reading: SlaReading, now: datetime) -> str:
    """The SLA clock in few words for the wall, with a marker that reads without colour.

    Counted in clock time from the due instant, not in working time: on a
    business-hours target at 05:00 on a Monday, "0 min overdue" (no working
    minute has passed since Friday 17:00) would read as a glitch from across
    the room, while "overdue since Fri 17:00" is plainly true. Which clock it
    is needs no words: an incident tagged NEW runs its response clock, every
    other its resolution clock.
    """
    status = reading.status
    due = reading.due
    if status is SlaStatus.MET:
        return "target met"
    if status is SlaStatus.PAUSED:
        return f"paused · {duration_text(reading.remaining)} left"
    if status is SlaStatus.BREACHED:
        late = now - due
        if late >= WALL_HORIZON:
            return f"✖ overdue since {text.clock_text(due, day=True)}"
        return f"✖ {duration_text(late)} overdue"
    marker = "⚠ " if status is SlaStatus.WARNING else ""
    left = due - now
    if left >= WALL_HORIZON:
        return f"{marker}due {text.clock_text(due, day=True)}"
    return f"{marker}due in {duration_text(left)}"


def duration_text(amount: timedelta) -> str:
    """Compact: ``45 min``, ``3 h 05``, ``2 d 4 h`` (rounded down to the minute)."""
    return text.duration_text(amount, form="short")


# ------------------------------------------------------------------- on call

ON_CALL_REFRESH = timedelta(seconds=30)
"""How long an on-call board is reused: hand-offs fall on the hour, so 30 s late is fine."""


def on_call_board(
    directory: Directory,
    now: datetime,
    key_services: Sequence[str] = (),
    *,
    viewer_region: str | None = None,
) -> OnCallBoard | None:
    """Who is on call at ``now`` for each key service; None when there is no on-call data.

    Key services are ``key_services`` in that order, or else the critical
    services (the directory lists them by name). Phones are formatted for a
    viewer in ``viewer_region`` (international form when None).
    """
    if not (directory.schedules or directory.policies):
        return None
    wanted = list(key_services) or [s.id for s in directory.services if s.criticality == "critical"]
    memo: dict[str, OnCall] = {}
    rows = []
    for service_id in wanted:
        if directory.service(service_id) is None:
            rows.append(OnCallRow(service_id, service_id, (), note="not a known service"))
            continue
        chain = directory.chain(service_id, now, memo)
        tiers = tuple(
            _tier(line, directory, viewer_region)
            for line in sorted(chain.tiers, key=lambda line: line.tier.level)
        )
        rows.append(OnCallRow(service_id, chain.service.name, tiers, note=chain.problem))
    return OnCallBoard(rows=tuple(rows), problems=directory.problems)


def _tier(line: TierLine, directory: Directory, viewer_region: str | None) -> OnCallTier:
    who = line.on_call
    label = line.tier.name or (line.team.name if line.team else f"L{line.tier.level}")
    contact = who.contact
    level = line.tier.level
    if who.contact_id is None:
        return OnCallTier(label, None, note=who.problem or "nobody on call", level=level)
    phone = contact.primary_phone if contact is not None else None
    return OnCallTier(
        label,
        who.name,
        format_phone(phone, viewer_region) if phone else None,
        until=who.until,
        via_override=who.via is not None,
        level=level,
        via=who.via.value if who.via is not None else "",
    )


# --------------------------------------------------------------------- model


class WallModel(QObject):
    """The wall's open incidents and reference data, kept current; hands out snapshots.

    ``changed`` fires whenever the data changed (not on the passing of time:
    the view asks for a fresh snapshot on its own timer, so SLA clocks move).
    """

    changed = Signal()

    def __init__(
        self,
        clock: SlaClock,
        incidents: Iterable[Incident] = (),
        *,
        reference: WallReference | None = None,
        key_services: Sequence[str] = (),
        reference_source: Callable[[], WallReference] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._clock = clock
        self._incidents: dict[str, Incident] = {}
        self._key_services = tuple(key_services)
        self._reference_source = reference_source
        self._reference = reference or WallReference()
        self._names = self._reference.names
        self._directory = self._reference.directory()
        self._board: tuple[datetime, OnCallBoard | None] | None = None
        self.notices: list[str] = []
        self.set_incidents(incidents)

    @classmethod
    def from_cache(
        cls,
        cache: WallSource,
        clock: SlaClock,
        *,
        key_services: Sequence[str] = (),
        parent: QObject | None = None,
    ) -> WallModel:
        """The wall's data as the cache holds it now (raises ``CacheError`` when unreadable).

        ``cache`` is a :class:`console.store.Cache` (or anything with its
        ``incidents()`` and ``reference()``); reference data is re-read from it
        when a sync update says a reference kind changed.
        """
        return cls(
            clock,
            cache.incidents(open_only=True),
            reference=WallReference.from_cache(cache),
            key_services=key_services,
            reference_source=lambda: WallReference.from_cache(cache),
            parent=parent,
        )

    # --------------------------------------------------------------- reading

    @property
    def open_count(self) -> int:
        return len(self._incidents)

    @property
    def directory(self) -> Directory:
        return self._directory

    def snapshot(self, now: datetime) -> WallSnapshot:
        """The wall at ``now``: counts, lists and who is on call."""
        return build_snapshot(
            self._incidents.values(),
            self._clock,
            now,
            names=self._names,
            on_call=self.on_call(now),
        )

    def on_call(self, now: datetime) -> OnCallBoard | None:
        """The on-call board at ``now``, worked out again at most every 30 s (or on new data)."""
        if self._board is not None:
            taken, board = self._board
            if taken <= now < taken + ON_CALL_REFRESH:
                return board
        board = on_call_board(self._directory, now, self._key_services)
        self._board = (now, board)
        return board

    # -------------------------------------------------------------- updating

    def set_incidents(self, incidents: Iterable[Incident]) -> None:
        """Replace every incident (only the open ones are kept: the wall shows nothing else)."""
        self._incidents = {i.id: i for i in incidents if i.is_open}
        self.changed.emit()

    def apply_update(self, update: Update) -> None:
        """Apply a sync update (``SyncWorker.changed``'s payload)."""
        self.apply_changes(update.changes, update.lookup)

    def apply_changes(self, changes: WallChanges, lookup: Callable[[str], Incident | None]) -> None:
        """Apply a store ChangeSet: changed incidents come from ``lookup``; reference is re-read."""
        for incident_id in changes.removed:
            self._incidents.pop(incident_id, None)
        for incident_id in changes.inserted | changes.updated:
            incident = lookup(incident_id)
            if incident is None or not incident.is_open:
                self._incidents.pop(incident_id, None)
            else:
                self._incidents[incident_id] = incident
        if set(changes.reference_kinds) & set(REFERENCE_KINDS):
            self.reload_reference()
        self.changed.emit()

    def set_reference(self, reference: WallReference) -> None:
        """Use new reference data (names, on-call rotations and policies)."""
        self._reference = reference
        self._names = reference.names
        self._directory = reference.directory()
        self._board = None
        self.changed.emit()

    def reload_reference(self) -> None:
        """Re-read reference data from the source; keep the old copy when that fails."""
        if self._reference_source is None:
            return
        try:
            reference = self._reference_source()
        except CacheError as exc:
            # The wall keeps showing the names it had; a wall never stops for this.
            self.notices.append(f"reference data could not be re-read: {exc}")
            return
        self.set_reference(reference)
