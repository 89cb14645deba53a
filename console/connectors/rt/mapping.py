"""Request Tracker tickets ↔ console incidents: the mapping, with no network in it.

:mod:`console.connectors.rt` talks to RT's REST2 API; this module only turns
what RT sends (decoded JSON) into domain records; :mod:`~console.connectors.rt.edits`
turns an edit into what RT's ``PUT /ticket/:id`` takes and :mod:`~console.connectors.rt.sql`
writes the queries, so every rule is tested without an RT.

What maps to what (docs/rt.md has the operator's version):

=========================  ==========================================================
RT                         console
=========================  ==========================================================
ticket id 123              incident id ``rt-123``, number ``RT-123``
Subject                    title
Status (lifecycle)         state, through ``statuses.StatusMap`` (configurable)
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

The custom-field names are settings (``fields.CustomFieldNames``); a field
mapped to no custom field (``None``) or to one the queue lacks is reported
and refused when edited, never silently dropped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from console.connectors.rt.fields import CustomFieldNames
from console.connectors.rt.statuses import StatusMap
from console.domain.errors import DomainError
from console.domain.incident import HoldPeriod, Incident, Source, TimelineEvent, TimelineKind
from console.domain.lifecycle import State
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
