"""An edit or a new incident → what RT's REST2 takes, and reading RT's answer to an update.

No network here: :func:`update_for_edit` and :func:`create_for_fields` build the
request bodies, :func:`refusals` and :func:`unapplied` read what RT did not do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from console.connectors.rt.mapping import (
    NOBODY,
    SETUP_DOC,
    RtMapping,
    _cf_value,
    _user_name,
    custom_field_values,
)
from console.domain.lifecycle import HoldReason, State
from console.domain.severity import Impact, Severity, Urgency

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
            why = _text(fields.get("major_reason"), "major_reason")
            if why:
                said = "Declared a major incident" if value else "Major incident stood down"
                comments.append(f"{said}: {why}")
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
        elif name in ("hold_reason", "severity_reason", "major_reason"):
            continue  # travel with state / severity / major
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
        why = _text(fields.get("major_reason"), "major_reason")
        put("major", "yes", "Declared a major incident" + (f": {why}" if why else ""))
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
