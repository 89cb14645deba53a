"""Request Tracker tickets ↔ console incidents: the mapping, with no network in it.

:mod:`console.connectors.rt` talks to RT's REST2 API; this module only turns
what RT sends (decoded JSON) into domain records and an edit into what RT's
``PUT /ticket/:id`` takes, so every rule here is tested without an RT.

What maps to what (docs/rt.md has the operator's version):

=========================  ==========================================================
RT                         console
=========================  ==========================================================
ticket id 123              incident id ``rt-123``, number ``RT-123``
Subject                    title
Status (lifecycle)         state, through :class:`StatusMap` (configurable)
CF Impact / Urgency        impact / urgency (``high``, ``medium``, ``low``)
CF Severity                severity when set (an override); else impact × urgency
CF Service / Category      service / category
Owner                      assignee (``Nobody`` → none)
first Requestor            reporter
Created / Started          opened_at / acknowledged_at
Resolved                   resolved_at (in a resolved or closed state)
Due                        resolution_due
LastUpdated                updated_at
newest transaction id      version (RT's ETag, sent back as ``If-Match``)
Create transaction's text  description
stalled periods            holds (they pause the SLA clocks)
Comment / Correspond       work note / status update on the timeline
Status, Owner, CF changes  state change, assignment, severity change entries
=========================  ==========================================================

The custom-field names are settings (:class:`CustomFieldNames`); a field
mapped to no custom field (``None``) or to one the queue lacks is reported
and refused when edited, never silently dropped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from console.domain.errors import DomainError
from console.domain.incident import (
    HoldPeriod,
    Incident,
    Source,
    TimelineEvent,
    TimelineKind,
)
from console.domain.lifecycle import HoldReason, State
from console.domain.severity import DEFAULT_MATRIX, Impact, PriorityMatrix, Severity, Urgency

INCIDENT_ID_PREFIX = "rt-"
NUMBER_PREFIX = "RT-"
EVENT_ID_PREFIX = "rt-txn-"
NOBODY = "Nobody"
SYSTEM_USER = "RT_System"
# Where RT's admin documentation for the console lives (named in messages).
SETUP_DOC = "docs/rt-setup.md"

# RT writes "not set" dates as the Unix epoch.
_UNSET_DATE = "1970-01-01T00:00:00Z"
_DEFAULT_SERVICE = "unknown"
_NO_SUBJECT = "(no subject)"


# --------------------------------------------------------------------------
# Ids
# --------------------------------------------------------------------------


def incident_id(ticket: int) -> str:
    """RT ticket 123 → incident id ``rt-123``."""
    return f"{INCIDENT_ID_PREFIX}{ticket}"


def ticket_number(incident_ref: str) -> int:
    """Incident id ``rt-123`` (or ``RT-123``, ``123``) → ticket 123; ValueError otherwise."""
    text = incident_ref.strip()
    for prefix in (INCIDENT_ID_PREFIX, NUMBER_PREFIX):
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise ValueError(f"{incident_ref!r} is not a Request Tracker incident (rt-123)")
    return int(text)


def event_id(transaction: int) -> str:
    """RT transaction 456 → timeline entry id ``rt-txn-456``."""
    return f"{EVENT_ID_PREFIX}{transaction}"


# --------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomFieldNames:
    """Which RT custom field holds which incident field (None: not kept in RT).

    ``impact``, ``urgency``, ``severity``, ``service`` and ``category`` are
    expected on the queue; ``subcategory``, ``assignment_group`` and ``major``
    are optional extras a site may add.

    ``request_key`` is not an incident field: it names the custom field, on
    tickets and on ticket transactions, in which the console writes the key
    of each request it sends (RT has no idempotency keys), so that a request
    sent again after its answer was lost is recognised instead of done twice.
    """

    impact: str | None = "Impact"
    urgency: str | None = "Urgency"
    severity: str | None = "Severity"
    service: str | None = "Service"
    category: str | None = "Category"
    subcategory: str | None = None
    assignment_group: str | None = None
    major: str | None = None
    request_key: str | None = "NOC Request Key"

    EXPECTED = ("impact", "urgency", "severity", "service", "category")
    OPTIONAL = ("subcategory", "assignment_group", "major")
    RECOMMENDED = ("request_key",)

    def name_of(self, field_name: str) -> str | None:
        value: str | None = getattr(self, field_name)
        return value

    def configured(self) -> dict[str, str]:
        """Incident field → custom field name, for every field mapped to one."""
        out: dict[str, str] = {}
        for name in (*self.EXPECTED, *self.OPTIONAL):
            cf = self.name_of(name)
            if cf:
                out[name] = cf
        return out

    @classmethod
    def from_mapping(
        cls, raw: Mapping[str, object], where: str = "custom_fields"
    ) -> CustomFieldNames:
        """From a settings table; ``""`` maps a field to nothing. ValueError names the key."""
        known = (*cls.EXPECTED, *cls.OPTIONAL, *cls.RECOMMENDED)
        values: dict[str, str | None] = {}
        for key, value in raw.items():
            if key not in known:
                raise ValueError(f"{where}.{key}: unknown key; allowed: {', '.join(known)}")
            if not isinstance(value, str):
                raise ValueError(f"{where}.{key}: {value!r} is not a custom field's name (text)")
            values[key] = value.strip() or None
        return cls(**values)


DEFAULT_STATES: Mapping[str, State] = {
    "new": State.NEW,
    "open": State.IN_PROGRESS,
    "stalled": State.ON_HOLD,
    "resolved": State.RESOLVED,
    "rejected": State.CANCELLED,
}
"""RT's default lifecycle → console states."""

DEFAULT_STATUSES: Mapping[State, str] = {
    State.NEW: "new",
    State.TRIAGED: "open",
    State.IN_PROGRESS: "open",
    State.ON_HOLD: "stalled",
    State.RESOLVED: "resolved",
    State.CLOSED: "resolved",
    State.REOPENED: "open",
    State.CANCELLED: "rejected",
}
"""Console states → RT's default lifecycle (RT has no triaged, closed or reopened)."""

STATUS_CLASSES = ("initial", "active", "inactive")


@dataclass(frozen=True)
class StatusMap:
    """RT statuses ↔ console states.

    ``states`` reads RT's status (lower case) as a console state; ``statuses``
    says which RT status a console state is written as. A status neither map
    knows (a custom lifecycle) is read by its class in RT's lifecycle, which
    the connector asks RT for: initial → new, active → in progress (new until
    the ticket was started), inactive → resolved.
    """

    states: Mapping[str, State] = field(default_factory=lambda: dict(DEFAULT_STATES))
    statuses: Mapping[State, str] = field(default_factory=lambda: dict(DEFAULT_STATUSES))

    @classmethod
    def from_settings(
        cls,
        states: Mapping[str, object] | None = None,
        statuses: Mapping[str, object] | None = None,
        where: str = "rt",
    ) -> StatusMap:
        """The defaults with a site's own entries on top. ValueError names the bad key.

        An RT status mapped to a state is also what that state is written as
        (the first one given wins), unless ``statuses`` says otherwise.
        """
        read = dict(DEFAULT_STATES)
        write = dict(DEFAULT_STATUSES)
        implied: dict[State, str] = {}
        for status, value in (states or {}).items():
            key = status.strip().lower()
            if not key:
                raise ValueError(f"{where}.statuses: an RT status name is empty")
            try:
                state = State.of(value)
            except DomainError as exc:
                raise ValueError(f"{where}.statuses.{status}: {exc}") from exc
            read[key] = state
            implied.setdefault(state, key)
        write.update(implied)
        for state_name, value in (statuses or {}).items():
            try:
                state = State.of(state_name)
            except DomainError as exc:
                raise ValueError(f"{where}.set_status.{state_name}: {exc}") from exc
            if not isinstance(value, str) or not value.strip():
                raise ValueError(
                    f"{where}.set_status.{state_name}: {value!r} is not an RT status name"
                )
            write[state] = value.strip().lower()
        return cls(read, write)

    def state_of(self, status: str, *, status_class: str | None = None, started: bool) -> State:
        """The console state of RT ``status`` (``status_class`` for one the map lacks)."""
        key = status.strip().lower()
        known = self.states.get(key)
        if known is not None:
            return known
        if status_class == "inactive":
            return State.RESOLVED
        if status_class == "initial" or not started:
            return State.NEW
        return State.IN_PROGRESS

    def knows(self, status: str) -> bool:
        return status.strip().lower() in self.states

    def status_for(self, state: State) -> str:
        """The RT status a console state is written as."""
        return self.statuses[state]

    def on_hold_statuses(self) -> frozenset[str]:
        """The RT statuses read as on hold (their periods pause the SLA clocks)."""
        return frozenset(s for s, state in self.states.items() if state is State.ON_HOLD)


@dataclass(frozen=True)
class RtMapping:
    """Everything the mapping needs to know about a site's RT set-up."""

    queue: str
    fields: CustomFieldNames = field(default_factory=CustomFieldNames)
    statuses: StatusMap = field(default_factory=StatusMap)
    matrix: PriorityMatrix = DEFAULT_MATRIX


# --------------------------------------------------------------------------
# Reading RT's JSON
# --------------------------------------------------------------------------


class UnreadableTicket(ValueError):
    """RT sent a ticket or transaction the console cannot read (the message says what)."""


def parse_time(value: object) -> datetime | None:
    """RT's ``2026-11-23T07:09:06Z`` (UTC) → aware datetime; RT's "not set" (1970) → None."""
    if value in (None, "", _UNSET_DATE):
        return None
    if not isinstance(value, str):
        raise UnreadableTicket(f"{value!r} is not a date")
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise UnreadableTicket(f"{value!r} is not a date") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if when.year <= 1970:
        return None
    return when


def _user_name(value: object) -> str | None:
    """``{"id": "alice", "type": "user", ...}`` (or a bare name) → ``alice``."""
    if isinstance(value, Mapping):
        value = value.get("Name") or value.get("id")
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def custom_field_values(ticket: Mapping[str, Any]) -> dict[str, list[str]]:
    """A ticket's ``CustomFields`` list as name → values (names as RT spells them)."""
    out: dict[str, list[str]] = {}
    for item in ticket.get("CustomFields") or ():
        if not isinstance(item, Mapping):
            continue
        name = item.get("name")
        if not isinstance(name, str):
            continue
        values = item.get("values") or []
        out[name] = [str(v) for v in values if isinstance(v, str | int | float)]
    return out


def _cf_value(values: Mapping[str, list[str]], name: str | None) -> str | None:
    if not name:
        return None
    found = values.get(name)
    if found is None:
        # RT matches custom field names case-insensitively; so do we.
        lowered = name.lower()
        found = next((v for k, v in values.items() if k.lower() == lowered), None)
    if not found:
        return None
    text = found[0].strip()
    return text or None


def _level(value: str | None, kind: type[Impact] | type[Urgency]) -> Impact | Urgency:
    if value is None:
        return kind.MEDIUM
    try:
        return kind.of(value.split("-", 1)[-1] if value[:1].isdigit() else value)
    except DomainError:
        return kind.MEDIUM


def _yes(value: str | None) -> bool:
    return value is not None and value.strip().lower() in ("yes", "y", "true", "1", "major")


@dataclass(frozen=True)
class TicketHistory:
    """What a ticket's transactions say that the ticket record does not.

    ``version`` is the newest transaction id read (RT's ETag); ``seen`` lists
    the transaction ids already folded in, so reading a transaction twice
    changes nothing.
    """

    version: int = 0
    description: str | None = None
    source: Source = Source.EMAIL
    holds: tuple[HoldPeriod, ...] = ()
    seen: frozenset[int] = frozenset()


def fold_transactions(
    history: TicketHistory,
    transactions: Iterable[Mapping[str, Any]],
    contents: Mapping[int, Attachment],
    statuses: StatusMap,
) -> TicketHistory:
    """``history`` with ``transactions`` (one ticket's, any order) folded in."""
    version = history.version
    description = history.description
    source = history.source
    holds = list(history.holds)
    seen = set(history.seen)
    on_hold = statuses.on_hold_statuses()
    for txn in sorted(transactions, key=_txn_id):
        number = _txn_id(txn)
        version = max(version, number)
        if number in seen:
            continue
        seen.add(number)
        kind = txn.get("Type")
        at = parse_time(txn.get("Created"))
        if kind == "Create":
            content = contents.get(number)
            if content is not None:
                description = content.text
                source = content.source
            elif description is None:
                description = ""
        elif kind == "Status" and at is not None:
            old = str(txn.get("OldValue") or "").lower()
            new = str(txn.get("NewValue") or "").lower()
            if old in on_hold and holds and holds[-1].ended is None:
                holds[-1] = HoldPeriod(holds[-1].started, max(at, holds[-1].started))
            if new in on_hold and (not holds or holds[-1].ended is not None):
                holds.append(HoldPeriod(at))
    return TicketHistory(
        version=version,
        description=description,
        source=source,
        holds=tuple(holds),
        seen=frozenset(seen),
    )


def _txn_id(txn: Mapping[str, Any]) -> int:
    try:
        return int(txn["id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise UnreadableTicket(f"a transaction without a readable id: {txn!r:.120}") from exc


def ticket_id_of(ticket: Mapping[str, Any]) -> int:
    """The ticket's number from its JSON."""
    try:
        return int(ticket["id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise UnreadableTicket(f"a ticket without a readable id: {ticket!r:.120}") from exc


def incident_from_ticket(
    ticket: Mapping[str, Any],
    history: TicketHistory,
    mapping: RtMapping,
    *,
    status_class: str | None = None,
    version: int | None = None,
) -> Incident:
    """An RT ticket (REST2 JSON with ``CustomFields``) as the console's incident.

    ``version`` overrides ``history.version`` (e.g. the ETag of a fresh GET).
    Raises :class:`UnreadableTicket` naming what is wrong.
    """
    number = ticket_id_of(ticket)
    fields = mapping.fields
    values = custom_field_values(ticket)
    try:
        created = parse_time(ticket.get("Created"))
        updated = parse_time(ticket.get("LastUpdated")) or created
        started = parse_time(ticket.get("Started"))
        resolved = parse_time(ticket.get("Resolved"))
        due = parse_time(ticket.get("Due"))
        if created is None or updated is None:
            raise UnreadableTicket(f"ticket {number} has no creation date")
        status = str(ticket.get("Status") or "")
        state = mapping.statuses.state_of(
            status, status_class=status_class, started=started is not None
        )
        impact = _level(_cf_value(values, fields.impact), Impact)
        urgency = _level(_cf_value(values, fields.urgency), Urgency)
        computed = mapping.matrix.severity(impact, urgency)  # type: ignore[arg-type]
        severity = computed
        override = _cf_value(values, fields.severity)
        if override is not None:
            try:
                severity = Severity.of(override)
            except DomainError:
                severity = computed
        owner = _user_name(ticket.get("Owner"))
        requestors = ticket.get("Requestor") or []
        reporter = (
            _user_name(requestors[0]) if isinstance(requestors, list) and requestors else None
        )
        subject = str(ticket.get("Subject") or "").strip() or _NO_SUBJECT
        holds = history.holds
        if state is not State.ON_HOLD and holds and holds[-1].ended is None:
            # The hold ended without a status transaction the console could see.
            holds = (*holds[:-1], HoldPeriod(holds[-1].started, max(updated, holds[-1].started)))
        return Incident(
            id=incident_id(number),
            number=f"{NUMBER_PREFIX}{number}",
            title=subject,
            service=_cf_value(values, fields.service) or _DEFAULT_SERVICE,
            impact=impact,  # type: ignore[arg-type]
            urgency=urgency,  # type: ignore[arg-type]
            severity=severity,
            state=state,
            opened_at=created,
            updated_at=max(updated, created),
            version=max(1, version if version is not None else history.version),
            description=history.description or "",
            category=_cf_value(values, fields.category),
            subcategory=_cf_value(values, fields.subcategory),
            assignee=None if owner in (None, NOBODY) else owner,
            assignment_group=_cf_value(values, fields.assignment_group),
            reporter=reporter,
            source=history.source,
            major=_yes(_cf_value(values, fields.major)),
            hold_reason=None,
            holds=holds,
            acknowledged_at=started if started is not None and started >= created else None,
            resolved_at=resolved if state in (State.RESOLVED, State.CLOSED) else None,
            closed_at=None,
            resolution_due=due,
        )
    except DomainError as exc:
        raise UnreadableTicket(f"ticket {number}: {exc}") from exc


# --------------------------------------------------------------------------
# Transactions → timeline
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Attachment:
    """The text of a Create, Comment or Correspond transaction, and how it arrived."""

    text: str
    source: Source = Source.EMAIL


_INTERFACE_SOURCES = {
    "email": Source.EMAIL,
    "web": Source.PORTAL,
    "mobile": Source.PORTAL,
    "selfservice": Source.PORTAL,
    "rest": Source.PORTAL,
    "rest2": Source.PORTAL,
    "api": Source.MONITORING,
    "cli": Source.MONITORING,
}
_INTERFACE_RE = re.compile(r"^X-RT-Interface:\s*(\S+)", re.IGNORECASE | re.MULTILINE)
_TAG_RE = re.compile(r"<[^>]+>")
_BLANK_LINES_RE = re.compile(r"\n{3,}")


def _html_text(text: str) -> str:
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", text)
    return _BLANK_LINES_RE.sub("\n\n", html.unescape(_TAG_RE.sub("", text))).strip()


def contents_by_transaction(attachments: Iterable[Mapping[str, Any]]) -> dict[int, Attachment]:
    """REST2 attachments (``TransactionId``, ``ContentType``, ``Content``, ``Headers``) →
    the text of each transaction: its first ``text/plain`` part, else its first HTML part."""
    plain: dict[int, tuple[int, str]] = {}
    rich: dict[int, tuple[int, str]] = {}
    headers: dict[int, tuple[int, str]] = {}
    for item in attachments:
        try:
            txn = int(item["TransactionId"])
            number = int(item.get("id") or 0)
        except (KeyError, TypeError, ValueError):
            continue
        head = str(item.get("Headers") or "")
        if head and (txn not in headers or number < headers[txn][0]):
            headers[txn] = (number, head)
        kind = str(item.get("ContentType") or "").split(";", 1)[0].strip().lower()
        content = item.get("Content")
        target = plain if kind == "text/plain" else rich if kind == "text/html" else None
        if target is None or not isinstance(content, str):
            continue
        if txn not in target or number < target[txn][0]:
            target[txn] = (number, content)
    out: dict[int, Attachment] = {}
    for txn in {*plain, *rich, *headers}:
        if txn in plain:
            text = plain[txn][1].strip()
        elif txn in rich:
            text = _html_text(rich[txn][1])
        else:
            text = ""
        match = _INTERFACE_RE.search(headers[txn][1] if txn in headers else "")
        interface = match.group(1).lower() if match else "email"
        out[txn] = Attachment(text, _INTERFACE_SOURCES.get(interface, Source.PORTAL))
    return out


def timeline_from_transactions(
    ticket: int,
    transactions: Iterable[Mapping[str, Any]],
    contents: Mapping[int, Attachment],
    mapping: RtMapping,
    *,
    user_names: Mapping[str, str] | None = None,
    cf_names: Mapping[str, str] | None = None,
) -> list[TimelineEvent]:
    """The timeline entries RT's transactions make (others, like e-mail records, make none).

    ``user_names`` maps RT user ids to names (owner changes carry ids);
    ``cf_names`` maps custom field ids to names.
    """
    users = user_names or {}
    cfs = cf_names or {}
    fields = mapping.fields
    severity_cfs = {
        name.lower() for name in (fields.impact, fields.urgency, fields.severity) if name
    }
    out: list[TimelineEvent] = []
    owner = incident_id(ticket)
    for txn in transactions:
        number = _txn_id(txn)
        at = parse_time(txn.get("Created"))
        if at is None:
            continue
        kind = str(txn.get("Type") or "")
        author = _user_name(txn.get("Creator")) or SYSTEM_USER
        base = {"rt_transaction": number, "rt_type": kind}
        event: TimelineEvent | None = None
        if kind in ("Comment", "Correspond"):
            content = contents.get(number)
            body = content.text if content is not None and content.text.strip() else "(no text)"
            event = TimelineEvent(
                event_id(number),
                owner,
                TimelineKind.WORK_NOTE if kind == "Comment" else TimelineKind.STATUS_UPDATE,
                at,
                author,
                body,
                base,
            )
        elif kind == "Status":
            old = str(txn.get("OldValue") or "")
            new = str(txn.get("NewValue") or "")
            if new.lower() == "deleted":
                continue
            before = mapping.statuses.state_of(old, started=True) if old else None
            after = mapping.statuses.state_of(new, started=True)
            text = f"State {before.label if before else '—'} → {after.label} (RT: {old} → {new})"
            data = {**base, "to": after.value}
            if before is not None:
                data["from"] = before.value
            event = TimelineEvent(
                event_id(number), owner, TimelineKind.STATE_CHANGE, at, author, text, data
            )
        elif (kind == "Set" and txn.get("Field") == "Owner") or kind in (
            "Take",
            "Untake",
            "Steal",
            "Give",
            "Force",
        ):
            old_name = users.get(str(txn.get("OldValue") or ""), str(txn.get("OldValue") or ""))
            new_name = users.get(str(txn.get("NewValue") or ""), str(txn.get("NewValue") or ""))
            shown_old = "nobody" if old_name in ("", NOBODY) else old_name
            shown_new = "nobody" if new_name in ("", NOBODY) else new_name
            event = TimelineEvent(
                event_id(number),
                owner,
                TimelineKind.ASSIGNMENT,
                at,
                author,
                f"Assigned: {shown_old} → {shown_new}",
                {**base, "from": shown_old, "to": shown_new},
            )
        elif kind == "CustomField":
            cf = str(txn.get("Field") or "")
            name = cfs.get(cf, cf)
            if name.lower() in severity_cfs:
                old = str(txn.get("OldValue") or "") or "—"
                new = str(txn.get("NewValue") or "") or "—"
                event = TimelineEvent(
                    event_id(number),
                    owner,
                    TimelineKind.SEVERITY_CHANGE,
                    at,
                    author,
                    f"{name} {old} → {new}",
                    {**base, "field": name},
                )
        if event is not None:
            out.append(event)
    return out


# --------------------------------------------------------------------------
# Edits → RT
# --------------------------------------------------------------------------


class NotHeldByRt(ValueError):
    """An edit names a field this RT set-up cannot keep (the message says what to do)."""


@dataclass(frozen=True)
class RtUpdate:
    """What an edit becomes in RT: the ``PUT /ticket`` body, and comments to add.

    ``expected`` is what the ticket must show afterwards (RT answers some
    refused changes with 200): ``Subject``, ``Status``, ``Owner`` and
    ``CF:<name>`` keys. ``comments`` are written after the update (a severity
    override's reason, a hold reason, a commander's name).
    """

    body: dict[str, Any]
    expected: dict[str, str]
    comments: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.body or self.comments)


def _missing_cf(field_name: str, mapping: RtMapping) -> NotHeldByRt:
    label = field_name.replace("_", " ")
    return NotHeldByRt(
        f"Request Tracker keeps no {label} for queue {mapping.queue}: ask the RT admin to "
        f"create a custom field for it on the queue and name it in the console's settings "
        f"(rt.custom_fields.{field_name}; see {SETUP_DOC})"
    )


def _text(value: object, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    raise NotHeldByRt(f"{name}: {value!r} is not text")


def _set_cf(
    body: dict[str, Any],
    expected: dict[str, str],
    field_name: str,
    value: str,
    mapping: RtMapping,
    available: Iterable[str] | None,
) -> None:
    cf = mapping.fields.name_of(field_name)
    if not cf:
        raise _missing_cf(field_name, mapping)
    if available is not None and cf.lower() not in {a.lower() for a in available}:
        raise NotHeldByRt(
            f"queue {mapping.queue} in Request Tracker has no custom field {cf!r} "
            f"(for the {field_name.replace('_', ' ')}); ask the RT admin to create it and "
            f"apply it to the queue (see {SETUP_DOC})"
        )
    body.setdefault("CustomFields", {})[cf] = value
    expected[f"CF:{cf}"] = value


def update_for_edit(
    fields: Mapping[str, object],
    mapping: RtMapping,
    *,
    available_cfs: Iterable[str] | None = None,
    current_status: str | None = None,
) -> RtUpdate:
    """The RT update for an edit in the console's vocabulary (``PATCH_FIELDS``).

    Raises :class:`NotHeldByRt` for a field RT cannot keep here, before
    anything is sent, so an edit is never half-applied by the console's doing.
    """
    available = list(available_cfs) if available_cfs is not None else None
    body: dict[str, Any] = {}
    expected: dict[str, str] = {}
    comments: list[str] = []
    for name, value in fields.items():
        if name == "title":
            title = _text(value, "title")
            if not title:
                raise NotHeldByRt("title: a short description of what is broken is required")
            body["Subject"] = title
            expected["Subject"] = title
        elif name == "description":
            raise NotHeldByRt(
                "Request Tracker keeps a ticket's first message as it was sent; add a work "
                "note with the new description instead"
            )
        elif name in ("impact", "urgency"):
            level = (Impact if name == "impact" else Urgency).of(value)
            _set_cf(body, expected, name, level.value, mapping, available)
        elif name == "severity":
            severity = Severity.of(value)
            _set_cf(body, expected, "severity", severity.code, mapping, available)
            reason = _text(fields.get("severity_reason"), "severity_reason")
            comments.append(
                f"Severity set to {severity.code} ({severity.label}) from the NOC Console"
                + (f": {reason}" if reason else "")
            )
        elif name in ("category", "subcategory", "assignment_group"):
            _set_cf(body, expected, name, _text(value, name), mapping, available)
        elif name == "major":
            if not isinstance(value, bool):
                raise NotHeldByRt(f"major: {value!r} is not true or false")
            _set_cf(body, expected, "major", "yes" if value else "", mapping, available)
        elif name == "assignee":
            owner = _text(value, "assignee") or NOBODY
            body["Owner"] = owner
            expected["Owner"] = owner
        elif name == "state":
            state = State.of(value)
            status = mapping.statuses.status_for(state)
            body["Status"] = status
            expected["Status"] = status
            hold = fields.get("hold_reason")
            if state is State.ON_HOLD and hold:
                comments.append(f"On hold: {HoldReason.of(hold).value.replace('_', ' ')}")
        elif name == "acknowledged":
            if value is True and (current_status or "").lower() in _initial_statuses(mapping):
                status = mapping.statuses.status_for(State.IN_PROGRESS)
                body.setdefault("Status", status)
                expected.setdefault("Status", status)
        elif name in ("hold_reason", "severity_reason"):
            continue  # travel with state / severity
        else:
            raise NotHeldByRt(f"{name}: not a field an edit can change")
    return RtUpdate(body, expected, tuple(comments))


def _initial_statuses(mapping: RtMapping) -> frozenset[str]:
    return frozenset(s for s, state in mapping.statuses.states.items() if state is State.NEW)


@dataclass(frozen=True)
class RtCreate:
    """What logging an incident becomes in RT: the ``POST /ticket`` body and comments."""

    body: dict[str, Any]
    comments: tuple[str, ...] = ()


def create_for_fields(
    fields: Mapping[str, object],
    mapping: RtMapping,
    *,
    available_cfs: Iterable[str] | None = None,
) -> RtCreate:
    """The RT ticket for a new incident (``CREATE_FIELDS``).

    What RT cannot hold here (a team without an assignment-group field, the
    Incident Commander, a major incident without a ``major`` field, the
    reason of a severity override) is written as a comment on the new ticket,
    so it is never lost; the incident is created either way.
    """
    available = list(available_cfs) if available_cfs is not None else None
    title = _text(fields.get("title"), "title")
    if not title:
        raise NotHeldByRt("title: a short description of what is broken is required")
    body: dict[str, Any] = {"Queue": mapping.queue, "Subject": title}
    description = _text(fields.get("description"), "description")
    if description:
        body["Content"] = description
        body["ContentType"] = "text/plain"
    reporter = _text(fields.get("reporter"), "reporter")
    if reporter:
        body["Requestor"] = reporter
    cfs: dict[str, str] = {}
    notes: list[str] = []

    def put(field_name: str, value: str, fallback: str | None) -> None:
        cf = mapping.fields.name_of(field_name)
        held = cf and (available is None or cf.lower() in {a.lower() for a in available})
        if held and cf:
            cfs[cf] = value
        elif fallback:
            notes.append(fallback)
        else:
            raise _missing_cf(field_name, mapping)

    put("impact", Impact.of(fields.get("impact", "medium")).value, None)
    put("urgency", Urgency.of(fields.get("urgency", "medium")).value, None)
    service = _text(fields.get("service"), "service")
    if service:
        put("service", service, f"Service: {service}")
    for name in ("category", "subcategory"):
        value = _text(fields.get(name), name)
        if value:
            put(name, value, f"{name.capitalize()}: {value}")
    group = _text(fields.get("assignment_group"), "assignment_group")
    if group:
        put("assignment_group", group, f"Routed to: {group}")
    if fields.get("severity"):
        severity = Severity.of(fields["severity"])
        reason = _text(fields.get("severity_reason"), "severity_reason")
        put("severity", severity.code, None)
        notes.append(
            f"Severity set to {severity.code} ({severity.label}) from the NOC Console"
            + (f": {reason}" if reason else "")
        )
    commander = _text(fields.get("commander"), "commander")
    if fields.get("major") is True:
        put("major", "yes", "Declared a major incident")
        if commander:
            notes.append(f"Incident Commander: {commander}")
    elif commander:
        notes.append(f"Incident Commander: {commander}")
    if cfs:
        body["CustomFields"] = cfs
    return RtCreate(body, tuple(notes))


# --------------------------------------------------------------------------
# RT's answers to an update
# --------------------------------------------------------------------------

_ERROR_RE = re.compile(
    r"(isn't a valid|is not a valid|invalid|illegal|could not|couldn't|can't|cannot|"
    r"permission denied|no permission|not allowed|does not exist|doesn't exist|"
    r"not found|failed|you are not|must be|required)",
    re.IGNORECASE,
)
_QUOTED_RE = re.compile(r"'[^']*'|\"[^\"]*\"")
# How RT words a change it made: "Ticket 7: Subject changed from 'a' to 'b'",
# "Owner changed from Nobody to alice", "Impact low changed to high",
# "Service checkout added", "Category network deleted", "Custom fields updated".
# The values in them are the operator's own words and may say anything.
_DONE_RE = re.compile(
    r"(\bchanged from\b|\bchanged to\b|\badded\.?$|\bdeleted\.?$|\bupdated\.?$)", re.IGNORECASE
)


def refusals(messages: object) -> list[str]:
    """The messages of an RT update answer (a JSON list) that report a failure.

    RT answers ``PUT /ticket/:id`` with 200 and a list of one message per
    change, failures included ("Status 'bogus' isn't a valid status for this
    ticket.", "Invalid value for custom field"); these are the failures. A
    message reporting a change made is never one, whatever the values it
    quotes ("Subject changed from 'Backup failed' to …"). Whether a change
    was made is decided by reading the ticket back (:func:`unapplied`); these
    messages only say why not.
    """
    if not isinstance(messages, list):
        return []
    out: list[str] = []
    for message in messages:
        if not isinstance(message, str):
            continue
        words = _QUOTED_RE.sub("''", message.strip())
        if _DONE_RE.search(words) is None and _ERROR_RE.search(words) is not None:
            out.append(message.strip())
    return out


def unapplied(expected: Mapping[str, str], ticket: Mapping[str, Any]) -> list[str]:
    """The expected values (see :class:`RtUpdate`) the ticket does not show."""
    values = custom_field_values(ticket)
    missing: list[str] = []
    for key, want in expected.items():
        if key.startswith("CF:"):
            have = _cf_value(values, key[3:]) or ""
        elif key == "Owner":
            have = _user_name(ticket.get("Owner")) or ""
        else:
            have = str(ticket.get(key) or "")
        if have.strip().lower() != want.strip().lower():
            missing.append(key[3:] if key.startswith("CF:") else key)
    return missing


# --------------------------------------------------------------------------
# TicketSQL
# --------------------------------------------------------------------------


def quote_sql(value: str) -> str:
    """A TicketSQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def sql_time(when: datetime, user_offset: timedelta) -> str:
    """An instant as a TicketSQL date literal.

    RT reads date literals in the time zone of the account asking (its own
    preference, else RT's ``$Timezone``), so the instant is written in that
    zone's wall time: ``user_offset`` is that zone's offset from UTC.
    """
    local = when.astimezone(UTC).replace(tzinfo=None) + user_offset
    return quote_sql(local.strftime("%Y-%m-%d %H:%M:%S"))


@dataclass(frozen=True)
class Keyset:
    """A position in the ticket order ``LastUpdated, id`` (for paging that never skips).

    ``ticket`` 0 stands before every ticket updated at ``updated``.
    """

    updated: datetime
    ticket: int = 0

    def precedes(self, ticket: Mapping[str, Any]) -> bool:
        """Whether ``ticket`` (REST2 JSON with ``LastUpdated``) comes after this position."""
        updated = parse_time(ticket.get("LastUpdated"))
        if updated is None:
            return True  # RT's "never": cannot be placed, so it is not left out
        return (updated, ticket_id_of(ticket)) > (self.updated, self.ticket)


QUARTER_HOUR = timedelta(minutes=15)


def quarter_of(when: datetime) -> datetime:
    """The UTC quarter hour ``when`` falls in.

    Time zones change their offset from UTC (daylight saving) only at
    instants on a quarter hour of UTC, and their offsets are whole quarter
    hours, so within one quarter hour RT reads a date in a query the same way.
    """
    moment = when.astimezone(UTC)
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)


def changed_since_sql(queue_id: int, position: Keyset | None, user_offset: timedelta) -> str:
    """TicketSQL for the queue's tickets after ``position`` in ``LastUpdated, id`` order."""
    where = f"Queue = {queue_id}"
    if position is None:
        return where
    at = sql_time(position.updated, user_offset)
    if position.ticket <= 0:
        return f"{where} AND LastUpdated >= {at}"
    return f"{where} AND (LastUpdated > {at} OR (LastUpdated >= {at} AND id > {position.ticket}))"


def request_key_sql(queue_id: int, custom_field: str, key: str) -> str:
    """TicketSQL for the queue's ticket whose request key custom field holds ``key``."""
    return f"Queue = {queue_id} AND CF.{{{custom_field}}} = {quote_sql(key)}"


def note_key_sql(ticket: int, custom_field: str, key: str) -> str:
    """TransactionSQL for the ticket's transaction whose request key field holds ``key``."""
    return (
        f"ObjectType = 'RT::Ticket' AND ObjectId = {ticket} AND "
        f"CF.{{{custom_field}}} = {quote_sql(key)}"
    )


def transactions_sql(tickets: Mapping[int, int]) -> str:
    """TransactionSQL for the transactions of ``tickets`` newer than each one's known id."""
    parts = [
        f"(ObjectId = {ticket} AND id > {after})" if after > 0 else f"ObjectId = {ticket}"
        for ticket, after in sorted(tickets.items())
    ]
    return f"ObjectType = 'RT::Ticket' AND ({' OR '.join(parts)})"


def chunks(items: Sequence[int], size: int) -> list[list[int]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]
