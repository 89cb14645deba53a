"""The escalation matrix as Qt table models: services × tiers, and the contact list.

:class:`EscalationMatrixModel` has one row per service (most critical first)
and the columns Service, Owner team, L1, L2, L3 (more when a policy has deeper
tiers). A tier cell reads ``Name · phone`` for whoever is on call now, with
``(cover)`` or ``(swap)`` when an override put them there; its tooltip says
until when, who is next and from when. :class:`ContactListModel` lists every
contact with both numbers, their local time and what they hold now.

Both are thin adapters over :class:`console.services.directory.Directory`, which does
all the working out. Time moves: a timer re-reads the chains at every minute
boundary (hand-offs happen on the minute) and repaints only cells that
changed. ``refresh(directory)`` takes new reference data. Filtering by the
search text runs over keys the directory precomputes and removes or inserts
only the rows that change, so the selection survives typing.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
)
from PySide6.QtGui import QColor

from console.domain.clock import utc_now
from console.domain.escalation import format_duration
from console.domain.phones import format_phone
from console.domain.text import clock_text, local_time_text
from console.services.directory import Contact, Directory, OnCall, ServiceChain, Source, TierLine

Index = QModelIndex | QPersistentModelIndex
Clock = Callable[[], datetime]

SERVICE_ID_ROLE = Qt.ItemDataRole.UserRole + 1
"""The row's service id (every column of the matrix)."""
CHAIN_ROLE = Qt.ItemDataRole.UserRole + 2
"""The row's :class:`~console.services.directory.ServiceChain` as of the last tick."""
CONTACT_ROLE = Qt.ItemDataRole.UserRole + 3
"""The :class:`~console.services.directory.Contact` a cell is about (on call in a tier cell).

None when nobody is."""
PHONE_ROLE = Qt.ItemDataRole.UserRole + 4
"""That contact's primary phone, E.164, or None: what Call and Copy use."""
ALTERNATE_PHONE_ROLE = Qt.ItemDataRole.UserRole + 5
"""That contact's alternate phone, E.164, or None."""
FIRST_LINE_ROLE = Qt.ItemDataRole.UserRole + 8
"""What a two-line cell shows on its first line (the person); DisplayRole when absent."""
DETAIL_LINE_ROLE = Qt.ItemDataRole.UserRole + 6
"""A cell's second line: the phone number in a tier cell, the criticality of a service."""
ON_CALL_ROLE = Qt.ItemDataRole.UserRole + 7
"""A tier cell's :class:`~console.services.directory.OnCall`."""

FIXED_COLUMNS = 2
"""Service and owner team; tier columns follow (column 2 is L1)."""

NOBODY = "⚠ nobody on call"
NO_POLICY = "⚠ no escalation policy"

# Cells that need attention: a filled cell *and* a text marker, never colour alone.
_PROBLEM_BACKGROUND = QColor("#FFE0B2")
_PROBLEM_FOREGROUND = QColor("#000000")
_OVERRIDE_BACKGROUND = QColor("#D6EAF8")
_OVERRIDE_FOREGROUND = QColor("#000000")

_CRITICALITY_LABELS = {
    "critical": "Critical",
    "high": "High",
    "medium": "Medium",
    "low": "Low",
}


def local_zone() -> tzinfo:
    """The viewer's time zone, as the operating system says."""
    zone = datetime.now().astimezone().tzinfo
    return zone if zone is not None else UTC


def when_text(moment: datetime, zone: tzinfo, now: datetime) -> str:
    """``Mon 23 Nov 09:00 (in 4 h 12 min)`` in the viewer's zone; the relative part rounds up."""
    absolute = clock_text(moment, zone, date=True)
    span = moment - now
    relative = f"in {format_duration(span)}" if span >= timedelta(0) else "now"
    return f"{absolute} ({relative})"


def phone_text(e164: str | None, region: str | None) -> str:
    """A stored number as the viewer reads it (national at home, international abroad)."""
    return format_phone(e164, region) if e164 else ""


def on_call_label(on_call: OnCall) -> str:
    """``Marcus Lee (cover)``: the person and how they came to be on call."""
    name = on_call.name or ""
    if on_call.via is not None:
        name += f" ({on_call.via.value})"
    return name


class _FilteredRowsModel(QAbstractTableModel):
    """A table whose visible rows are an ordered subset of all rows.

    Changing the subset removes and inserts only the rows that differ, so a
    view keeps its selection and scroll position while the operator types.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._visible: list[int] = []
        self._query = ""

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._visible)

    def set_filter(self, text: str) -> None:
        """Show only the rows matching every word of ``text`` (see :meth:`_row_matches`)."""
        self._query = text.strip()
        self._set_visible(self._matching())

    def _matching(self) -> list[int]:
        total = self._row_total()
        if not self._query:
            return list(range(total))
        return [p for p in range(total) if self._row_matches(p, self._query)]

    def _row_total(self) -> int:
        """How many rows there are in all, shown or not."""
        raise NotImplementedError

    def _row_matches(self, position: int, query: str) -> bool:
        """Whether the row at ``position`` (in the full list) matches ``query``."""
        raise NotImplementedError

    def _set_visible(self, wanted: Sequence[int]) -> None:
        """Show exactly ``wanted`` (ascending positions in the full row list)."""
        keep = set(wanted)
        end = len(self._visible) - 1
        while end >= 0:  # removals, bottom up, in contiguous runs
            if self._visible[end] in keep:
                end -= 1
                continue
            start = end
            while start > 0 and self._visible[start - 1] not in keep:
                start -= 1
            self.beginRemoveRows(QModelIndex(), start, end)
            del self._visible[start : end + 1]
            self.endRemoveRows()
            end = start - 1
        position, k = 0, 0
        while k < len(wanted):  # insertions, top down, in contiguous runs
            if position < len(self._visible) and self._visible[position] == wanted[k]:
                position, k = position + 1, k + 1
                continue
            run: list[int] = []
            while k < len(wanted) and (
                position >= len(self._visible) or self._visible[position] != wanted[k]
            ):
                run.append(wanted[k])
                k += 1
            self.beginInsertRows(QModelIndex(), position, position + len(run) - 1)
            self._visible[position:position] = run
            self.endInsertRows()
            position += len(run)


class EscalationMatrixModel(_FilteredRowsModel):
    """Services × tiers: who is on call now for each, with the number to call.

    ``now`` is the clock (injectable for tests); ``viewer_region`` the
    viewer's country for phone formatting (``"ES"``; None: international
    everywhere); ``display_zone`` the zone times are shown in (default: the
    machine's). ``tick_ms`` None disables the automatic minute tick.
    """

    def __init__(
        self,
        directory: Directory,
        *,
        now: Clock = utc_now,
        viewer_region: str | None = None,
        display_zone: tzinfo | None = None,
        tick_ms: int | None = 60_000,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._now = now
        self.viewer_region = viewer_region
        self.display_zone = display_zone if display_zone is not None else local_zone()
        self._directory = directory
        self._at = now()
        self._chains: list[ServiceChain] = directory.chains(self._at)
        self._levels = directory.levels
        self._visible = list(range(len(self._chains)))
        self._tick_ms = tick_ms
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self._on_timer)
        if tick_ms is not None:
            self._schedule_tick()

    # ------------------------------------------------------------- state

    @property
    def directory(self) -> Directory:
        """The reference data the matrix shows."""
        return self._directory

    @property
    def at(self) -> datetime:
        """The instant the shown on-call data is for (the last tick)."""
        return self._at

    @property
    def levels(self) -> int:
        """How many tier columns there are."""
        return self._levels

    @property
    def query(self) -> str:
        """The search text rows are filtered by ("" shows all)."""
        return self._query

    def chain_at(self, row: int) -> ServiceChain:
        """The chain of the service shown on ``row``."""
        return self._chains[self._visible[row]]

    def row_of(self, service_id: str) -> int | None:
        """The visible row of a service, or None when it is filtered out or unknown."""
        for row, position in enumerate(self._visible):
            if self._chains[position].service.id == service_id:
                return row
        return None

    def level_of(self, column: int) -> int | None:
        """The tier level shown in ``column`` (1 = L1), or None for Service and Owner."""
        return column - FIXED_COLUMNS + 1 if column >= FIXED_COLUMNS else None

    def tier_line(self, index: Index) -> TierLine | None:
        """The tier a cell shows, or None (Service/Owner column, or the policy has no such tier)."""
        level = self.level_of(index.column())
        if level is None or not index.isValid():
            return None
        return self.chain_at(index.row()).tier(level)

    # ----------------------------------------------------------- updates

    def refresh(self, directory: Directory) -> None:
        """Show new reference data (the app calls this when the cache's reference kinds change).

        The same services in the same order only repaint; otherwise the model
        resets (views put the selection back by service id).
        """
        at = self._now()
        chains = directory.chains(at)
        same_rows = [c.service.id for c in chains] == [c.service.id for c in self._chains]
        if same_rows and directory.levels == self._levels:
            self._directory, self._at, self._chains = directory, at, chains
            self._set_visible(self._matching())
            self._repaint_all()
            return
        self.beginResetModel()
        self._directory, self._at, self._chains = directory, at, chains
        self._levels = directory.levels
        self._visible = self._matching()
        self.endResetModel()

    def tick(self) -> None:
        """Re-read who is on call at the clock's time; repaint the cells that changed."""
        at = self._now()
        chains = self._directory.chains(at)
        changed = [
            position
            for position, (old, new) in enumerate(zip(self._chains, chains, strict=True))
            if _on_call_signature(old) != _on_call_signature(new)
        ]
        self._at, self._chains = at, chains
        # Tooltips ("in 3 h") move every minute; the cells only when someone changes.
        visible = {position: row for row, position in enumerate(self._visible)}
        for position in changed:
            row = visible.get(position)
            if row is not None:
                self.dataChanged.emit(self.index(row, 0), self.index(row, self.columnCount() - 1))

    def _row_total(self) -> int:
        return len(self._chains)

    def _row_matches(self, position: int, query: str) -> bool:
        """The service's name, teams or people match every word of ``query``."""
        return self._directory.matches(self._chains[position].service.id, query)

    def _repaint_all(self) -> None:
        if self.rowCount() and self.columnCount():
            self.dataChanged.emit(
                self.index(0, 0), self.index(self.rowCount() - 1, self.columnCount() - 1)
            )

    def _schedule_tick(self) -> None:
        if self._tick_ms is None:
            return
        # Hand-offs happen on the minute: tick just after each minute boundary.
        now = self._now()
        to_boundary = 60_000 - (now.second * 1000 + now.microsecond // 1000) + 200
        self.timer.start(min(self._tick_ms, to_boundary))

    def _on_timer(self) -> None:
        self.tick()
        self._schedule_tick()

    # ------------------------------------------------------------ Qt API

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else FIXED_COLUMNS + self._levels

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if not 0 <= section < self.columnCount():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            if section == 0:
                return "Service"
            if section == 1:
                return "Owner team"
            return f"L{self.level_of(section)}"
        if role == Qt.ItemDataRole.ToolTipRole:
            level = self.level_of(section)
            meaning = {
                1: "first line: service desk or NOC",
                2: "specialist team",
                3: "engineering or vendor",
            }
            if level is None:
                return None
            return f"Tier L{level} ({meaning.get(level, 'further escalation')}): on call now"
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._visible):
            return None
        column = index.column()
        if not 0 <= column < self.columnCount():
            return None
        chain = self.chain_at(index.row())
        if role == SERVICE_ID_ROLE:
            return chain.service.id
        if role == CHAIN_ROLE:
            return chain
        if column == 0:
            return self._service_data(chain, role)
        if column == 1:
            return self._owner_data(chain, role)
        return self._tier_data(chain, self.level_of(column) or 0, role)

    def _service_data(self, chain: ServiceChain, role: int) -> Any:
        service = chain.service
        if role == Qt.ItemDataRole.DisplayRole:
            return service.name
        if role == DETAIL_LINE_ROLE:
            return _CRITICALITY_LABELS.get(service.criticality, service.criticality.title())
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [f"{service.name} ({service.criticality})"]
            if service.description:
                lines.append(service.description)
            if chain.problem:
                lines.append(f"⚠ {chain.problem}")
            return "\n".join(lines)
        return None

    def _owner_data(self, chain: ServiceChain, role: int) -> Any:
        owner = chain.owner
        if role == Qt.ItemDataRole.DisplayRole:
            if owner is not None:
                return owner.name
            return chain.service.owner_team or "—"
        if role == Qt.ItemDataRole.ToolTipRole and owner is not None:
            parts = [f"{owner.name} owns {chain.service.name}"]
            if owner.email:
                parts.append(owner.email)
            if owner.chat_channel:
                parts.append(owner.chat_channel)
            return "\n".join(parts)
        return None

    def _tier_data(self, chain: ServiceChain, level: int, role: int) -> Any:
        line = chain.tier(level)
        if line is None:
            if role == Qt.ItemDataRole.DisplayRole:
                return NO_POLICY if chain.policy is None and level == 1 else "—"
            missing = chain.policy is None and level == 1
            if missing and role == Qt.ItemDataRole.BackgroundRole:
                return _PROBLEM_BACKGROUND
            if missing and role == Qt.ItemDataRole.ForegroundRole:
                return _PROBLEM_FOREGROUND
            if role == Qt.ItemDataRole.ToolTipRole and chain.policy is None:
                return f"{chain.service.name} has no escalation policy: ask the service owner"
            return None
        who = line.on_call
        contact = who.contact
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cell_text(who)
        if role == FIRST_LINE_ROLE:
            return self._cell_text(who).split(" · ", 1)[0]
        if role == DETAIL_LINE_ROLE:
            return phone_text(contact.primary_phone, self.viewer_region) if contact else ""
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tier_tooltip(line)
        if role == CONTACT_ROLE:
            return contact
        if role == PHONE_ROLE:
            return contact.primary_phone if contact is not None else None
        if role == ALTERNATE_PHONE_ROLE:
            return contact.alternate_phone if contact is not None else None
        if role == ON_CALL_ROLE:
            return who
        if role == Qt.ItemDataRole.BackgroundRole:
            if contact is None:
                return _PROBLEM_BACKGROUND
            if who.via is not None:
                return _OVERRIDE_BACKGROUND
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            if contact is None:
                return _PROBLEM_FOREGROUND
            if who.via is not None:
                return _OVERRIDE_FOREGROUND
            return None
        return None

    def _cell_text(self, who: OnCall) -> str:
        contact = who.contact
        if contact is None:
            if who.contact_id:
                return f"⚠ {who.contact_id} (not in contacts)"
            return NOBODY
        phone = phone_text(contact.primary_phone, self.viewer_region)
        label = on_call_label(who)
        return f"{label} · {phone}" if phone else label

    def _tier_tooltip(self, line: TierLine) -> str:
        who = line.on_call
        contact = who.contact
        team = line.team.name if line.team is not None else line.tier.team
        lines = [f"{line.tier.name} — {team}"]
        if contact is not None:
            role = f" ({contact.role})" if contact.role else ""
            lines.append(f"On call now: {contact.name}{role}")
            if who.via is not None:
                note = f": {who.note}" if who.note else ""
                lines.append(f"via a {who.via.value}{note}")
            phones = [phone_text(contact.primary_phone, self.viewer_region)]
            if contact.alternate_phone:
                alt = phone_text(contact.alternate_phone, self.viewer_region)
                phones.append(f"alternate {alt}")
            lines.append("Phone " + " · ".join(p for p in phones if p))
        elif who.problem:
            lines.append(f"⚠ {who.problem}")
        else:
            lines.append(f"⚠ {NOBODY[2:]}")
        if who.source == Source.CONTACT:
            lines.append("Fixed contact (no rotation)")
        if who.until is not None:
            lines.append(f"Until {when_text(who.until, self.display_zone, self._at)}")
        if who.next_shift is not None:
            following = who.next_contact.name if who.next_contact else who.next_contact_id
            start = when_text(who.next_shift.start, self.display_zone, self._at)
            lines.append(f"Next: {following} from {start}")
        if who.schedule is not None:
            lines.append(
                f"Rotation “{who.schedule.name}”, hand-off "
                f"{who.schedule.rotation.describe_handoff()}"
            )
        delay = line.tier.engage_after
        lines.append(
            "Engaged as soon as the incident opens"
            if delay <= timedelta(0)
            else f"Engaged {format_duration(delay)} after the incident opens"
        )
        return "\n".join(lines)


def _on_call_signature(chain: ServiceChain) -> tuple[object, ...]:
    """What the cells of one row show: who, how, until when; equal means no repaint."""
    return tuple(
        (line.on_call.contact_id, line.on_call.via, line.on_call.until, line.on_call.problem)
        for line in chain.tiers
    )


class ContactColumn(enum.IntEnum):
    """The contact list's columns."""

    NAME = 0
    ROLE = 1
    TEAM = 2
    PHONE = 3
    ALTERNATE = 4
    LOCAL_TIME = 5
    ON_CALL = 6


_CONTACT_HEADERS = {
    ContactColumn.NAME: "Name",
    ContactColumn.ROLE: "Role",
    ContactColumn.TEAM: "Team",
    ContactColumn.PHONE: "Phone",
    ContactColumn.ALTERNATE: "Alternate",
    ContactColumn.LOCAL_TIME: "Their time",
    ContactColumn.ON_CALL: "On call now for",
}


class ContactListModel(_FilteredRowsModel):
    """Every contact with both numbers, their local time and the rotations they hold now."""

    def __init__(
        self,
        directory: Directory,
        *,
        now: Clock = utc_now,
        viewer_region: str | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._now = now
        self.viewer_region = viewer_region
        self._directory = directory
        self._at = now()
        self._contacts: list[Contact] = directory.contacts_sorted()
        self._holding = self._rotations_held(self._at)
        self._visible = list(range(len(self._contacts)))

    def contact_at(self, row: int) -> Contact:
        """The contact shown on ``row``."""
        return self._contacts[self._visible[row]]

    def row_of(self, contact_id: str) -> int | None:
        """The visible row of a contact, or None."""
        for row, position in enumerate(self._visible):
            if self._contacts[position].id == contact_id:
                return row
        return None

    def _rotations_held(self, at: datetime) -> dict[str, list[str]]:
        held: dict[str, list[str]] = {}
        for rotation_id, schedule in self._directory.schedules.items():
            who = self._directory.on_call(rotation_id, at)
            if who.contact_id is not None:
                label = schedule.name + (f" ({who.via.value})" if who.via is not None else "")
                held.setdefault(who.contact_id, []).append(label)
        return held

    def refresh(self, directory: Directory) -> None:
        """Show new reference data."""
        self.beginResetModel()
        self._directory = directory
        self._at = self._now()
        self._contacts = directory.contacts_sorted()
        self._holding = self._rotations_held(self._at)
        self._visible = self._matching()
        self.endResetModel()

    def tick(self) -> None:
        """Move the local times and what each person holds to the clock's time."""
        self._at = self._now()
        self._holding = self._rotations_held(self._at)
        if self.rowCount():
            self.dataChanged.emit(
                self.index(0, ContactColumn.LOCAL_TIME),
                self.index(self.rowCount() - 1, ContactColumn.ON_CALL),
            )

    def _row_total(self) -> int:
        return len(self._contacts)

    def _row_matches(self, position: int, query: str) -> bool:
        """The contact's name, role, team or phone match every word of ``query``."""
        return self._directory.contact_matches(self._contacts[position].id, query)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(ContactColumn)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(ContactColumn)
        ):
            return _CONTACT_HEADERS[ContactColumn(section)]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._visible):
            return None
        if not 0 <= index.column() < len(ContactColumn):
            return None
        contact = self.contact_at(index.row())
        column = ContactColumn(index.column())
        if role == CONTACT_ROLE:
            return contact
        if role == PHONE_ROLE:
            return contact.primary_phone
        if role == ALTERNATE_PHONE_ROLE:
            return contact.alternate_phone
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(contact, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column in (ContactColumn.PHONE, ContactColumn.ALTERNATE):
                return "Double-click or press Call to dial; Ctrl+C copies the number"
            if column == ContactColumn.LOCAL_TIME and contact.time_zone:
                return contact.time_zone
            if column == ContactColumn.NAME and contact.email:
                return contact.email
        return None

    def _text(self, contact: Contact, column: ContactColumn) -> str:
        if column == ContactColumn.NAME:
            return contact.name
        if column == ContactColumn.ROLE:
            return contact.role
        if column == ContactColumn.TEAM:
            return self._directory.team_name(contact.team)
        if column == ContactColumn.PHONE:
            return phone_text(contact.primary_phone, self.viewer_region)
        if column == ContactColumn.ALTERNATE:
            return phone_text(contact.alternate_phone, self.viewer_region)
        if column == ContactColumn.LOCAL_TIME:
            return local_time_text(contact.time_zone, self._at)
        return ", ".join(self._holding.get(contact.id, []))
