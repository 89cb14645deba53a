"""The operator's edits: written locally and queued in one transaction, merged on 412.

:class:`LocalEdits` is what the GUI calls when the operator logs, changes or
annotates an incident. Each call checks the edit against the ITIL rules
(:mod:`console.domain`), then writes the edited record *and* its outbox entry
in one cache transaction (:meth:`Cache.enqueue`), so the edit shows at once and
survives a crash. The sync engine sends it later. No Qt, no network: safe to
call on the GUI thread.

Who the console acts as on the backend (:class:`~console.connectors.base.Caller`)
is asked by the sync engine once per connection and kept in the cache meta
(:func:`store_caller`), so :meth:`LocalEdits.caller` answers offline too, from
the last known answer.

Outbox payloads (JSON, as stored):

- ``create``: ``{"local_id": "local-…", "fields": {title, service, impact, …}}``
  (the triage's ``assignment_group``, ``severity`` + ``severity_reason`` and
  ``major`` + ``commander`` only when given, so a backend that does not know
  them is not sent them).
  The backend chooses the id and number, so the incident is shown under a
  local placeholder id and the number ``(pending) …`` until the create is
  acknowledged; the engine then swaps the placeholder for the backend's
  record in one transaction and sends later edits of the placeholder to the
  real id.
- ``patch``: ``{"fields": {name: value}, "base": {name: value}}`` — the
  changed fields (the vocabulary of :data:`~console.connectors.base.PATCH_FIELDS`)
  and their values in the version the edit started from (``base_version``).
  On a 412 the engine compares, field by field, the backend's current value
  with both (:func:`merge`).
- ``timeline``: ``{"local_event_id", "kind", "body", "at", "author"}``.
- ``status_update``: ``{"audience", "status"}`` plus the local entry's
  ``local_event_id``, ``kind``, ``body``, ``at`` and ``author`` (a major
  incident's published update, :mod:`console.domain.major`).
- ``timeline`` with a ``command`` (a major incident's command,
  :mod:`console.domain.major`; kept under the ``timeline`` operation so the
  outbox table needs no migration): ``{"command": "role", "role", "person",
  "reason"}``, ``{"command": "bridge", "bridge": {url, dial_in, pin}}``,
  ``{"command": "responder", "person", "action": "joined"|"left"}``, each with
  its local entry's ``local_event_id``, ``kind``, ``body``, ``at`` and ``author``.
- ``engage``: ``{"tiers": [2, 3], "reason": "…"}`` plus the local escalation
  entry's ``local_event_id``, ``kind``, ``body``, ``at`` and ``author``, so the
  engine can retire that stand-in once the backend's entries arrive.
- ``record`` and ``workaround``: post-incident review and problem edits
  (:mod:`console.sync.review_edits`, mixed in as :class:`ReviewEdits`).
"""

from __future__ import annotations

import getpass
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from console.connectors.base import (
    COMPANION_FIELDS,
    CREATE_FIELDS,
    PATCH_FIELDS,
    Caller,
    field_value,
)
from console.domain.clock import utc_now
from console.domain.errors import DomainError, InvalidValue
from console.domain.incident import (
    Incident,
    Source,
    TimelineEvent,
    TimelineKind,
    acknowledge,
    transition,
)
from console.domain.lifecycle import HoldReason, State
from console.domain.roles import OVERRIDE_ROLE, ROLES, may_override
from console.domain.severity import DEFAULT_MATRIX, Impact, PriorityMatrix, Severity, Urgency
from console.store import Cache, OutboxEntry
from console.sync.major_edits import MajorEdits
from console.sync.major_edits import event_payload as _event_payload
from console.sync.review_edits import ReviewEdits

__all__ = [
    "Caller",
    "FieldConflict",
    "LocalEdits",
    "MergeResult",
    "apply_fields",
    "is_local_id",
    "merge",
    "normalise_fields",
    "store_caller",
    "stored_caller",
]

LOCAL_ID_PREFIX = "local-"
PENDING_NUMBER_PREFIX = "(pending) "
CREATE_ECHO = "create_echo"
"""Marks a local timeline entry that only echoes what a queued create will record
(declaring a major incident): the backend writes its own, so it is dropped, not
carried over, when the incident is created."""

# Timeline entries are written by a person only with these kinds.
NOTE_KINDS = ("work_note", "status_update")

_TEXT_FIELDS = ("title", "description", "category", "subcategory", "assignee", "assignment_group")


def is_local_id(incident_id: str) -> bool:
    """Whether ``incident_id`` is a placeholder for an incident not yet created remotely."""
    return incident_id.startswith(LOCAL_ID_PREFIX)


def new_local_id() -> str:
    """A fresh placeholder id (``local-<uuid>``)."""
    return f"{LOCAL_ID_PREFIX}{uuid.uuid4()}"


# --------------------------------------------------------------------------
# Who the console acts as
# --------------------------------------------------------------------------

CALLER_META_KEY = "sync.caller"
"""Cache meta key of the last known caller: JSON ``{"backend", "name", "role"}``."""


def store_caller(cache: Cache, backend_key: str, caller: Caller | None) -> None:
    """Remember who the console acts as on ``backend_key`` (None: the backend cannot say)."""
    if caller is None:
        cache.set_meta(CALLER_META_KEY, "")
        return
    record = {"backend": backend_key, "name": caller.name, "role": caller.role}
    cache.set_meta(CALLER_META_KEY, json.dumps(record))


def stored_caller(cache: Cache) -> tuple[str, Caller] | None:
    """The backend key and caller last stored, or None (none stored, or unreadable)."""
    text = cache.meta(CALLER_META_KEY)
    if not text:
        return None
    try:
        record = json.loads(text)
        return str(record["backend"]), Caller(str(record["name"]), str(record["role"]))
    except (ValueError, KeyError, TypeError):
        return None  # written by another version: as good as unknown until the next sync


# --------------------------------------------------------------------------
# Normalising and applying edits
# --------------------------------------------------------------------------


def normalise_fields(fields: Mapping[str, object]) -> dict[str, object]:
    """Check an edit's fields and return their canonical JSON values.

    Raises :class:`InvalidValue` naming the field and what is allowed.
    """
    out: dict[str, object] = {}
    for name, value in fields.items():
        if name not in PATCH_FIELDS:
            raise InvalidValue("field", name, list(PATCH_FIELDS))
        if name in _TEXT_FIELDS or name in ("severity_reason", "major_reason"):
            if value is not None and not isinstance(value, str):
                raise InvalidValue(name, value, "text")
            text = value.strip() if isinstance(value, str) else ""
            if name == "title" and not text:
                raise InvalidValue(name, value, "a short description of what is broken")
            # Blank clears an optional field; the description is text, never null.
            out[name] = text if (text or name == "description") else None
        elif name == "impact":
            out[name] = Impact.of(value).value
        elif name == "urgency":
            out[name] = Urgency.of(value).value
        elif name == "state":
            out[name] = State.of(value).value
        elif name == "hold_reason":
            out[name] = None if value is None else HoldReason.of(value).value
        elif name == "severity":
            out[name] = Severity.of(value).code
        elif name in ("major", "acknowledged"):
            if not isinstance(value, bool):
                raise InvalidValue(name, value, ["true", "false"])
            out[name] = value
    if out.get("hold_reason") is not None and out.get("state") != State.ON_HOLD.value:
        raise InvalidValue("hold_reason", out["hold_reason"], 'only with state "on_hold"')
    if out.get("state") == State.ON_HOLD.value and out.get("hold_reason") is None:
        raise InvalidValue("hold_reason", None, [r.value for r in HoldReason])
    if "severity" in out and not out.get("severity_reason"):
        raise InvalidValue("severity_reason", None, "a reason for overriding the severity")
    if "severity_reason" in out and "severity" not in out:
        raise InvalidValue("severity_reason", out["severity_reason"], "only with severity")
    if "major_reason" in out and "major" not in out:
        raise InvalidValue(
            "major_reason", out["major_reason"], "only with major (declare or stand down)"
        )
    if out.get("acknowledged") is False:
        raise InvalidValue("acknowledged", False, "true (an acknowledgement cannot be withdrawn)")
    return out


def apply_fields(
    incident: Incident,
    fields: Mapping[str, object],
    at: datetime,
    *,
    matrix: PriorityMatrix = DEFAULT_MATRIX,
    lenient: bool = False,
) -> Incident:
    """``incident`` with an edit's fields applied under the lifecycle rules (for display).

    The version is left as it is. With ``lenient`` a field the rules refuse
    (the backend moved the incident on meanwhile) is skipped instead of raising
    :class:`DomainError`: the backend has the last word when the edit is sent.
    """
    changes: dict[str, object] = {}
    for name in _TEXT_FIELDS:
        if name in fields:
            changes[name] = fields[name]
    if "impact" in fields:
        changes["impact"] = Impact.of(fields["impact"])
    if "urgency" in fields:
        changes["urgency"] = Urgency.of(fields["urgency"])
    if "major" in fields:
        changes["major"] = bool(fields["major"])
    if "severity" in fields:
        changes["severity"] = Severity.of(fields["severity"])
    elif "impact" in changes or "urgency" in changes:
        impact = changes.get("impact", incident.impact)
        urgency = changes.get("urgency", incident.urgency)
        assert isinstance(impact, Impact)
        assert isinstance(urgency, Urgency)
        changes["severity"] = matrix.severity(impact, urgency)
    try:
        result = replace(incident, **changes) if changes else incident  # type: ignore[arg-type]
    except DomainError:
        if not lenient:
            raise
        result = incident
    if fields.get("acknowledged") is True:
        try:
            result = acknowledge(result, at)
        except DomainError:
            if not lenient:
                raise
    if "state" in fields:
        target = State.of(fields["state"])
        hold = fields.get("hold_reason")
        reason = HoldReason.of(hold) if hold is not None else None
        if target is not result.state or (reason is not None and reason is not result.hold_reason):
            try:
                result = transition(result, target, at, hold_reason=reason)
            except DomainError:
                if not lenient:
                    raise
    if result is not incident:
        result = replace(result, updated_at=max(at, incident.updated_at))
    return result


# --------------------------------------------------------------------------
# Merging on 412
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldConflict:
    """One field both sides changed: the value edited from, ours, and theirs."""

    base: object
    mine: object
    theirs: object


@dataclass(frozen=True)
class MergeResult:
    """What to do with an edit after re-reading the incident.

    ``resend``: fields still to send (nobody else touched them); ``conflicts``:
    fields someone else changed to a different value; ``theirs``: the current
    value of every field of the edit.
    """

    resend: dict[str, object] = field(default_factory=dict)
    conflicts: dict[str, FieldConflict] = field(default_factory=dict)
    theirs: dict[str, object] = field(default_factory=dict)


def merge(
    fields: Mapping[str, object], base: Mapping[str, object], current: Incident
) -> MergeResult:
    """Field-by-field three-way merge of an edit with the backend's current incident.

    For each field: the backend already has our value → nothing to send; it
    still has the value we edited from → no overlap, send ours; anything else
    → a real conflict, kept for the operator to decide. Companion fields
    (``hold_reason``, ``severity_reason``) follow their main field.
    """
    resend: dict[str, object] = {}
    conflicts: dict[str, FieldConflict] = {}
    theirs: dict[str, object] = {}
    for name, mine in fields.items():
        if name in COMPANION_FIELDS:
            continue
        current_value = field_value(current, name)
        theirs[name] = current_value
        if name == "state" and "hold_reason" in fields:
            # On hold for another reason is not the same state change.
            mine = (mine, fields["hold_reason"])
            current_value = (current_value, field_value(current, "hold_reason"))
            base_value: object = (base.get(name), base.get("hold_reason"))
        else:
            base_value = base.get(name)
        if current_value == mine:
            continue
        if current_value == base_value:
            resend[name] = fields[name]
        else:
            conflicts[name] = FieldConflict(base.get(name), fields[name], theirs[name])
    for companion, main in COMPANION_FIELDS.items():
        if companion in fields and main in resend:
            resend[companion] = fields[companion]
    return MergeResult(resend, conflicts, theirs)


# --------------------------------------------------------------------------
# The operator's edits
# --------------------------------------------------------------------------


class LocalEdits(ReviewEdits, MajorEdits):
    """Log, change and annotate incidents: shown at once, queued for the backend.

    ``on_queued`` is called after each queued edit (the sync engine's ``wake``,
    so it is sent promptly). Every method raises :class:`DomainError` (or its
    :class:`InvalidValue`) for an edit the rules refuse, naming what is
    allowed, and :class:`~console.store.CacheError` when the cache cannot be
    written; in both cases nothing was queued.
    """

    def __init__(
        self,
        cache: Cache,
        *,
        author: str | None = None,
        matrix: PriorityMatrix = DEFAULT_MATRIX,
        on_queued: Callable[[], None] | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._cache = cache
        self._author = author or _user_name()
        self._matrix = matrix
        self._on_queued = on_queued
        self._clock = clock

    def set_author(self, author: str | None) -> None:
        """Sign what is written from now on as ``author`` (the Settings dialog's name)."""
        self._author = author or _user_name()

    def _queued(self) -> None:
        if self._on_queued is not None:
            self._on_queued()

    def create(
        self,
        *,
        title: str,
        service: str,
        impact: Impact | str,
        urgency: Urgency | str,
        category: str | None = None,
        subcategory: str | None = None,
        description: str = "",
        reporter: str | None = None,
        source: Source | str = Source.PHONE,
        assignment_group: str | None = None,
        severity: Severity | str | None = None,
        severity_reason: str | None = None,
        major: bool = False,
        commander: str | None = None,
        major_reason: str | None = None,
    ) -> Incident:
        """Log a new incident; returns the placeholder shown until the backend numbers it.

        From the triage: ``assignment_group`` routes it to a team;
        ``severity`` overrides the matrix and needs ``severity_reason``
        (refused at once when the last known :meth:`caller` is below
        commander; otherwise the backend decides); ``major`` declares a major
        incident with ``commander`` as Incident Commander. The placeholder
        shows the overridden severity and the major flag at once.
        """
        now = self._clock()
        local_id = new_local_id()
        impact_value, urgency_value = Impact.of(impact), Urgency.of(urgency)
        override = Severity.of(severity) if severity is not None else None
        reason = severity_reason.strip() if isinstance(severity_reason, str) else ""
        if override is not None and not reason:
            raise InvalidValue("severity_reason", severity_reason, "why the severity is overridden")
        if override is None and reason:
            raise InvalidValue("severity_reason", severity_reason, "only with severity")
        if not isinstance(major, bool):
            raise InvalidValue("major", major, ["true", "false"])
        commander_name = commander.strip() if isinstance(commander, str) else ""
        if commander_name and not major:
            raise InvalidValue("commander", commander, "only when declaring a major incident")
        why = major_reason.strip() if isinstance(major_reason, str) else ""
        if why and not major:
            raise InvalidValue("major_reason", major_reason, "only when declaring a major incident")
        group = assignment_group.strip() if isinstance(assignment_group, str) else ""
        if override is not None:
            self._check_may_override()
        placeholder = Incident(
            id=local_id,
            number=f"{PENDING_NUMBER_PREFIX}{local_id[len(LOCAL_ID_PREFIX) :][:8]}",
            title=title.strip(),
            service=service.strip(),
            impact=impact_value,
            urgency=urgency_value,
            severity=override or self._matrix.severity(impact_value, urgency_value),
            state=State.NEW,
            opened_at=now,
            updated_at=now,
            version=1,
            description=description.strip(),
            category=category or None,
            subcategory=subcategory or None,
            reporter=reporter or None,
            source=Source.of(source),
            assignment_group=group or None,
            major=major,
        )
        fields: dict[str, object] = {
            "title": placeholder.title,
            "service": placeholder.service,
            "impact": impact_value.value,
            "urgency": urgency_value.value,
            "category": placeholder.category,
            "subcategory": placeholder.subcategory,
            "description": placeholder.description,
            "reporter": placeholder.reporter,
            "source": placeholder.source.value,
        }
        if group:
            fields["assignment_group"] = group
        if override is not None:
            fields["severity"] = override.code
            fields["severity_reason"] = reason
        if major:
            fields["major"] = True
            if commander_name:
                fields["commander"] = commander_name
            if why:
                fields["major_reason"] = why
        assert set(fields) <= set(CREATE_FIELDS)
        entry = OutboxEntry(
            operation="create",
            incident_id=local_id,
            payload={"local_id": local_id, "fields": fields},
            base_version=None,
        )
        # Declaring a major incident is the floor's business at once, also
        # offline: the placeholder's timeline says it (and who commands) until
        # the backend's own entry replaces it.
        declared = None
        if major:
            who = f"; Incident Commander: {commander_name}" if commander_name else ""
            because = f": {why}" if why else ""
            declared = self._local_event(
                local_id,
                TimelineKind.ESCALATION,
                f"Declared a major incident{because}{who} (waiting to be sent)",
                at=now,
                data={
                    CREATE_ECHO: True,
                    "major": True,
                    "commander": commander_name or None,
                    "reason": why or None,
                },
            )
        self._cache.enqueue(entry, local_incident=placeholder, local_event=declared)
        self._queued()
        return placeholder

    def caller(self) -> Caller | None:
        """Who the console acts as on the backend (last known answer; None: not known).

        Raises :class:`~console.store.CacheError` when the cache cannot be read.
        """
        stored = stored_caller(self._cache)
        return stored[1] if stored is not None else None

    def _check_may_override(self) -> None:
        caller = self.caller()
        if caller is not None and not may_override(caller.role):
            allowed = " or ".join(role for role in ROLES if may_override(role))
            raise DomainError(
                f"overriding the severity needs the {OVERRIDE_ROLE} role or higher ({allowed}); "
                f"you are {caller.name} ({caller.role}): log it with the computed "
                f"severity and ask a {OVERRIDE_ROLE} to override it"
            )

    def patch(self, incident_id: str, fields: Mapping[str, object]) -> Incident:
        """Change fields of a cached incident; returns it as now shown.

        Fields that already hold the given value are left out; an edit that
        changes nothing queues nothing.
        """
        current = self._cached(incident_id)
        wanted = normalise_fields(fields)
        changed = {
            name: value
            for name, value in wanted.items()
            if name in COMPANION_FIELDS or field_value(current, name) != value
        }
        if all(name in COMPANION_FIELDS for name in changed):
            return current
        if "state" not in changed:
            changed.pop("hold_reason", None)
        if "severity" not in changed:
            changed.pop("severity_reason", None)
        if "major" not in changed:
            changed.pop("major_reason", None)
        now = self._clock()
        shown = apply_fields(current, changed, now, matrix=self._matrix)
        base = {name: field_value(current, name) for name in changed}
        entry = OutboxEntry(
            operation="patch",
            incident_id=incident_id,
            payload={"fields": changed, "base": base},
            base_version=current.version,
        )
        self._cache.enqueue(entry, local_incident=shown)
        self._queued()
        return shown

    def add_note(self, incident_id: str, body: str, *, kind: str = "work_note") -> TimelineEvent:
        """Add a work note (or, with ``kind="status_update"``, a status update)."""
        note_kind = TimelineKind.of(kind)
        if note_kind.value not in NOTE_KINDS:
            raise InvalidValue("kind", kind, list(NOTE_KINDS))
        self._cached(incident_id)
        event = self._local_event(incident_id, note_kind, body.strip())
        entry = OutboxEntry(
            operation="timeline",
            incident_id=incident_id,
            payload=_event_payload(event),
            base_version=None,
        )
        self._cache.enqueue(entry, local_event=event)
        self._queued()
        return event

    def add_csat(self, incident_id: str, score: int, comment: str = "") -> TimelineEvent:
        """Record the caller's satisfaction (1–5) on a resolved or closed incident.

        Queued like every edit; the entry's text says the score and the
        caller's words (docs/metrics.md, "CSAT").
        """
        if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
            raise InvalidValue("score", score, "a whole number from 1 (poor) to 5 (excellent)")
        incident = self._cached(incident_id)
        if incident.state not in (State.RESOLVED, State.CLOSED):
            raise DomainError(
                f"{incident.number} is {incident.state.label.lower()}; a CSAT score is "
                "recorded at resolution or closure"
            )
        words = comment.strip()
        body = f"CSAT {score}/5" + (f" — {words}" if words else "")
        event = self._local_event(incident_id, TimelineKind.CSAT, body, data={"score": score})
        entry = OutboxEntry(
            operation="timeline",
            incident_id=incident_id,
            payload={**_event_payload(event), "score": score},
            base_version=None,
        )
        self._cache.enqueue(entry, local_event=event)
        self._queued()
        return event

    def engage(self, incident_id: str, tiers: Sequence[int], reason: str) -> TimelineEvent:
        """Engage several escalation tiers at once (swarming); returns the local entry shown.

        The local escalation entry ("Engaging L2, L3: reason (waiting to be
        sent)") and the outbox entry are written in one transaction; the
        backend's own entries, one per tier, replace it once sent. Only
        commanders may swarm: the backend refuses anyone else, and the refusal
        is reported like any other.
        """
        levels = _tier_list(tiers)
        text = reason.strip() if isinstance(reason, str) else ""
        if not text:
            raise InvalidValue("reason", reason, "why these teams are needed now")
        self._cached(incident_id)
        names = ", ".join(f"L{level}" for level in levels)
        event = self._local_event(
            incident_id, TimelineKind.ESCALATION, f"Engaging {names}: {text} (waiting to be sent)"
        )
        entry = OutboxEntry(
            operation="engage",
            incident_id=incident_id,
            payload={"tiers": list(levels), "reason": text, **_event_payload(event)},
            base_version=None,
        )
        self._cache.enqueue(entry, local_event=event)
        self._queued()
        return event

    def _cached(self, incident_id: str) -> Incident:
        """The cached incident; DomainError (saying to refresh) when the cache lacks it."""
        current = self._cache.incident(incident_id)
        if current is None:
            raise DomainError(
                f"incident {incident_id} is not in the local cache; refresh and try again"
            )
        return current

    def _local_event(
        self,
        incident_id: str,
        kind: TimelineKind,
        body: str,
        *,
        at: datetime | None = None,
        data: dict[str, object] | None = None,
    ) -> TimelineEvent:
        """A timeline entry shown at once, under a local id, until the backend's replaces it."""
        return TimelineEvent(
            id=f"{LOCAL_ID_PREFIX}{uuid.uuid4()}",
            incident_id=incident_id,
            kind=kind,
            at=at or self._clock(),
            author=self._author,
            body=body,
            data=data or {},
        )


def _tier_list(tiers: Sequence[int]) -> list[int]:
    """The tiers as distinct levels in the given order; refuses an empty or non-integer list."""
    if isinstance(tiers, (str, bytes)) or not isinstance(tiers, Sequence):
        raise InvalidValue("tiers", tiers, "a list of tier levels, e.g. [2, 3]")
    out: list[int] = []
    for tier in tiers:
        if isinstance(tier, bool) or not isinstance(tier, int) or tier < 1:
            raise InvalidValue("tiers", tier, "tier levels 1 or more, e.g. [2, 3]")
        if tier not in out:
            out.append(tier)
    if not out:
        raise InvalidValue("tiers", [], "at least one tier level to engage")
    return out


def _user_name() -> str:
    try:
        return getpass.getuser() or "you"
    except (OSError, KeyError):
        return "you"
