"""The operator's review and problem edits: checked, shown at once, queued in the outbox.

:class:`ReviewEdits` is mixed into :class:`~console.sync.edits.LocalEdits`, so
the GUI has one way in for every edit. Each method checks what the console can
tell (a due date in the past, an owner not in the directory, a root cause past
the limit, a problem that does not exist, a move the lifecycle forbids, an
approval below commander) and raises :class:`~console.domain.errors.InvalidValue`
or :class:`~console.domain.errors.DomainError` before anything is queued; the
backend checks the rest and its refusal is kept with the edit (nothing lost).

Outbox payloads (operation ``record``, sent by :meth:`Backend.write_record`)::

    {"action": "pir_draft" | "pir_patch" | "pir_item" | "problem_open" | "problem_patch",
     "target": incident id (reviews) or problem id (problems; a local id until created),
     "kind": "pirs" | "problems",  "doc_id": the cached document shown meanwhile,
     "body": the request body,  "base": {field: value before the edit} (patches),
     "shown": {"item_id": the new item's local id} | {"link_numbers": [...]} (optional)}

and operation ``workaround`` (:meth:`Backend.apply_workaround`): ``{"known_error_id",
"note", "problem"}`` plus the local timeline entry's fields, like a note.
The cached document is changed right after the entry is queued, so the edit
shows at once (marked ``pending``); :func:`overlay_record` lays the edit over any
newer version the change feed brings until it is sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from console.domain.errors import DomainError, InvalidValue
from console.domain.incident import TimelineEvent, TimelineKind
from console.domain.lifecycle import State
from console.domain.pir import (
    ItemState,
    check_action_item,
    check_item_state,
    check_narrative,
    check_problem_move,
)
from console.domain.roles import Caller, at_least
from console.store import Cache, OutboxEntry

LOCAL_PREFIX = "local-"
# A review's narrative fields (PATCH /v1/pirs/{id}).
NARRATIVE_FIELDS = ("root_cause", "went_well", "could_improve")
# The review fields an edit replaces whole: two consoles changing one of them clash.
REVIEW_WHOLE_FIELDS = (*NARRATIVE_FIELDS, "root_cause_known", "contributing_factors", "status")
PROBLEM_TEXT_FIELDS = ("statement", "root_cause", "workaround", "permanent_fix", "change_ref")
APPROVER_ROLE = "commander"
DEFAULT_DUE = timedelta(hours=72)


def _when(value: object) -> datetime | None:
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return value if isinstance(value, datetime) else None


class ReviewEdits:
    """Draft, edit and approve reviews; open, link and move problems; apply workarounds."""

    # Provided by LocalEdits.
    _cache: Cache
    _author: str
    _clock: Callable[[], datetime]

    def _queued(self) -> None: ...

    def caller(self) -> Caller | None: ...

    # ------------------------------------------------------------ lookups

    def review_of(self, incident_id: str) -> dict[str, Any] | None:
        """The cached review of an incident (by incident id or number), or None."""
        for doc in self._cache.reference("pirs"):
            if incident_id in (doc.get("incident_id"), doc.get("incident_number")):
                return dict(doc)
        return None

    def problem(self, ref: str) -> dict[str, Any] | None:
        """The cached problem with this id or number (PRB-000001), or None."""
        wanted = ref.strip().upper()
        for doc in self._cache.reference("problems"):
            if ref == doc.get("id") or wanted == str(doc.get("number", "")).upper():
                return dict(doc)
        return None

    def _directory(self) -> frozenset[str] | None:
        names: set[str] = set()
        for contact in self._cache.reference("contacts"):
            names.add(str(contact.get("id", "")))
            if isinstance(contact.get("name"), str):
                names.add(str(contact["name"]))
        return frozenset(names) if names else None  # none cached: the backend checks

    def _review(self, incident_id: str) -> dict[str, Any]:
        doc = self.review_of(incident_id)
        if doc is None:
            raise DomainError(
                f"{incident_id} has no post-incident review yet; draft one first (D in Reviews)"
            )
        return doc

    def _queue(
        self,
        action: str,
        *,
        incident_id: str,
        target: str,
        kind: str,
        doc: Mapping[str, Any],
        body: Mapping[str, object],
        base: Mapping[str, object] | None = None,
        version: int | None = None,
        shown: Mapping[str, object] | None = None,
    ) -> dict[str, Any]:
        entry = OutboxEntry(
            operation="record",
            incident_id=incident_id,
            payload={
                "action": action,
                "target": target,
                "kind": kind,
                "doc_id": str(doc["id"]),
                "body": dict(body),
                "base": dict(base or {}),
                **({"shown": dict(shown)} if shown else {}),
            },
            base_version=version,
        )
        self._cache.enqueue(entry)
        shown = {**doc, "pending": True}
        self._cache.upsert_reference(kind, [shown])
        self._queued()
        return shown

    # ------------------------------------------------------------ reviews

    def draft_review(self, incident_id: str) -> dict[str, Any]:
        """Ask the backend to draft the review of a resolved incident (shown as pending)."""
        incident = self._cache.incident(incident_id)
        if incident is None:
            raise DomainError(f"incident {incident_id} is not in the local cache; refresh")
        if incident.state not in (State.RESOLVED, State.CLOSED):
            raise DomainError(
                f"{incident.number} is {incident.state.label.lower()}: a review is drafted "
                "once the incident is resolved"
            )
        if self.review_of(incident.id) is not None:
            raise DomainError(f"{incident.number} already has a review; open it instead")
        resolved = incident.resolved_at or self._clock()
        now = self._clock().isoformat()
        doc: dict[str, Any] = {
            "id": f"{LOCAL_PREFIX}{uuid.uuid4()}",
            "incident_id": incident.id,
            "incident_number": incident.number,
            "title": incident.title,
            "service": incident.service,
            "severity": incident.severity.code,
            "major": incident.major,
            "version": 1,
            "status": "draft",
            "due_at": (resolved + DEFAULT_DUE).isoformat(),
            "created_at": now,
            "updated_at": now,
            "timeline": [],
            "action_items": [],
            "root_cause": "",
            "root_cause_known": True,
        }
        return self._queue(
            "pir_draft",
            incident_id=incident.id,
            target=incident.id,
            kind="pirs",
            doc=doc,
            body={"incident_id": incident.id},
        )

    def edit_review(
        self,
        incident_id: str,
        *,
        root_cause: str | None = None,
        root_cause_known: bool | None = None,
        went_well: str | None = None,
        could_improve: str | None = None,
        contributing_factors: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """Change the review's narrative; fields left None stay as they are."""
        doc = self._review(incident_id)
        body: dict[str, object] = {}
        for name, value in (
            ("root_cause", root_cause),
            ("went_well", went_well),
            ("could_improve", could_improve),
        ):
            if value is not None:
                text = check_narrative(name, value)
                if text != doc.get(name, ""):
                    body[name] = text
        if root_cause_known is not None and root_cause_known != doc.get("root_cause_known", True):
            body["root_cause_known"] = bool(root_cause_known)
        if contributing_factors is not None:
            factors = [f.strip() for f in contributing_factors if f.strip()]
            if factors != doc.get("contributing_factors", []):
                body["contributing_factors"] = factors
        return self._patch_review(doc, body)

    def mark_timeline(
        self,
        incident_id: str,
        source_id: str,
        *,
        key: bool | None = None,
        hidden: bool | None = None,
        note: str | None = None,
    ) -> dict[str, Any]:
        """Mark one reconstructed timeline entry key or hidden, or note on it."""
        doc = self._review(incident_id)
        timeline = [dict(e) for e in doc.get("timeline", [])]
        entry = next((e for e in timeline if e.get("source_id") == source_id), None)
        if entry is None:
            raise InvalidValue("entry", source_id, "an entry of the review's timeline")
        mark: dict[str, object] = {"source_id": source_id}
        if key is not None:
            mark["key"] = entry["key"] = bool(key)
        if hidden is not None:
            mark["hidden"] = entry["hidden"] = bool(hidden)
        if note is not None:
            mark["note"] = entry["note"] = check_narrative("note", note)
        if len(mark) == 1:
            return doc
        doc["timeline"] = timeline
        return self._patch_review(doc, {"timeline_marks": [mark]}, shown=doc)

    def set_item_state(
        self, incident_id: str, item_id: str, state: str, reason: str = ""
    ) -> dict[str, Any]:
        """Complete (``done``), drop (with ``reason``) or reopen an action item."""
        doc = self._review(incident_id)
        wanted = ItemState.of(state)
        text = reason.strip()
        check_item_state(wanted, text)
        items = [dict(i) for i in doc.get("action_items", [])]
        item = next((i for i in items if i.get("id") == item_id), None)
        if item is None:
            raise InvalidValue("action item", item_id, "an item of this review")
        if str(item_id).startswith(LOCAL_PREFIX):
            raise DomainError(
                "this action item is still waiting to be sent; change it once it is "
                "(the status bar shows the queue)"
            )
        item.update(state=wanted.value, reason=text or None)
        doc["action_items"] = items
        update = {"id": item_id, "state": wanted.value, "reason": text or None}
        return self._patch_review(doc, {"action_items": [update]}, shown=doc)

    def approve_review(self, incident_id: str) -> dict[str, Any]:
        """Approve the review (commanders): it needs its root cause written down."""
        doc = self._review(incident_id)
        caller = self.caller()
        if caller is not None and not at_least(caller.role, APPROVER_ROLE):
            raise DomainError(
                f"approving a review needs the {APPROVER_ROLE} role or higher; you are "
                f"{caller.name} ({caller.role}): ask a commander to approve it"
            )
        if not str(doc.get("root_cause", "")).strip():
            raise DomainError(
                "write the root cause first (or mark it unknown with what is known so far); "
                "a review is approved with it"
            )
        return self._patch_review({**doc, "status": "approved"}, {"status": "approved"})

    def hold_review(self, incident_id: str) -> dict[str, Any]:
        """Record that the review meeting was held."""
        doc = self._review(incident_id)
        return self._patch_review({**doc, "status": "held"}, {"status": "held"})

    def _patch_review(
        self,
        doc: dict[str, Any],
        body: Mapping[str, object],
        *,
        shown: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        if not body:
            return doc
        before = self.review_of(str(doc["incident_id"])) or {}
        base = {name: before.get(name) for name in body if name in REVIEW_WHOLE_FIELDS}
        return self._queue(
            "pir_patch",
            incident_id=str(doc["incident_id"]),
            target=str(doc["incident_id"]),
            kind="pirs",
            doc=shown if shown is not None else {**doc, **body},
            body=body,
            base=base,
            version=int(doc.get("version", 1)),
        )

    def add_action_item(
        self,
        incident_id: str,
        *,
        title: str,
        owner: str,
        due: datetime,
        tracker_url: str | None = None,
    ) -> dict[str, Any]:
        """Add an action item owned by someone in the directory, due from now on."""
        doc = self._review(incident_id)
        what = title.strip()
        if not what:
            raise InvalidValue("title", title, "what is to be done")
        who = owner.strip()
        if not who:
            raise InvalidValue("owner", owner, "a person in the directory")
        if due.tzinfo is None:
            raise InvalidValue("due", due.isoformat(), "a date with its time zone")
        check_action_item(owner=who, due=due, now=self._clock(), directory=self._directory())
        url = (tracker_url or "").strip() or None
        if url is not None and not url.startswith(("http://", "https://")):
            raise InvalidValue("tracker link", url, "an http:// or https:// address")
        body: dict[str, object] = {"title": what, "owner": who, "due": due.isoformat()}
        if url is not None:
            body["tracker_url"] = url
        item = {
            **body,
            "id": f"{LOCAL_PREFIX}{uuid.uuid4()}",
            "state": "open",
            "reason": None,
            "tracker_url": url,
        }
        shown = {**doc, "action_items": [*doc.get("action_items", []), item]}
        return self._queue(
            "pir_item",
            incident_id=str(doc["incident_id"]),
            target=str(doc["incident_id"]),
            kind="pirs",
            doc=shown,
            body=body,
            shown={"item_id": item["id"]},
        )

    # ------------------------------------------------------------ problems

    def open_problem(
        self,
        statement: str,
        incidents: Sequence[str] = (),
        *,
        root_cause: str = "",
        workaround: str = "",
    ) -> dict[str, Any]:
        """Open a problem linking ``incidents`` (each may link one problem only)."""
        text = statement.strip()
        if not text:
            raise InvalidValue("statement", statement, "what the problem is, in one line")
        ids = [self._linkable(ref) for ref in incidents]
        numbers = [self._number(i) for i in ids]
        now = self._clock().isoformat()
        local_id = f"{LOCAL_PREFIX}{uuid.uuid4()}"
        doc: dict[str, Any] = {
            "id": local_id,
            "number": f"(pending) {local_id[len(LOCAL_PREFIX) :][:8]}",
            "version": 1,
            "statement": text,
            "state": "open",
            "incidents": numbers,
            "root_cause": check_narrative("root cause", root_cause),
            "workaround": check_narrative("workaround", workaround),
            "permanent_fix": "",
            "change_ref": "",
            "known_error_id": None,
            "created_at": now,
            "updated_at": now,
        }
        body = {
            "statement": text,
            "incidents": ids,
            "root_cause": doc["root_cause"],
            "workaround": doc["workaround"],
        }
        return self._queue(
            "problem_open",
            incident_id=local_id,
            target=local_id,
            kind="problems",
            doc=doc,
            body=body,
        )

    def _linkable(self, ref: str) -> str:
        incident = self._cache.incident(ref)
        if incident is None:
            raise InvalidValue("incident", ref, "an incident in the local cache")
        for problem in self._cache.reference("problems"):
            linked = problem.get("incidents")
            if isinstance(linked, list) and (incident.id in linked or incident.number in linked):
                raise DomainError(
                    f"{incident.number} is already linked to {problem.get('number')}; "
                    "an incident links one problem"
                )
        return incident.id

    def _number(self, incident_id: str) -> str:
        incident = self._cache.incident(incident_id)
        return incident.number if incident is not None else incident_id

    def link_problem(self, problem_ref: str, incident_id: str) -> dict[str, Any]:
        """Link an incident to an existing problem (refused for a problem that does not exist)."""
        doc = self._problem(problem_ref)
        linked = self._linkable(incident_id)
        number = self._number(linked)
        shown = {**doc, "incidents": [*doc.get("incidents", []), number]}
        return self._patch_problem(
            shown, {"link_incidents": [linked]}, shown={"link_numbers": [number]}
        )

    def edit_problem(self, problem_ref: str, **fields: str) -> dict[str, Any]:
        """Change a problem's statement, root cause, workaround, fix or change reference."""
        doc = self._problem(problem_ref)
        body: dict[str, object] = {}
        for name, value in fields.items():
            if name not in PROBLEM_TEXT_FIELDS:
                raise InvalidValue("field", name, list(PROBLEM_TEXT_FIELDS))
            text = check_narrative(name.replace("_", " "), value)
            if name == "statement" and not text:
                raise InvalidValue("statement", value, "what the problem is, in one line")
            if text != doc.get(name, ""):
                body[name] = text
        return self._patch_problem({**doc, **body}, body)

    def move_problem(self, problem_ref: str, state: str) -> dict[str, Any]:
        """Move a problem along open → investigating → known error → resolved / closed.

        Moving to ``known_error`` publishes its workaround as a known error.
        """
        doc = self._problem(problem_ref)
        current = str(doc.get("state", "open"))
        check_problem_move(
            str(doc.get("number", "")), current, state, str(doc.get("workaround", ""))
        )
        if state == current:
            return doc
        return self._patch_problem({**doc, "state": state}, {"state": state})

    def _problem(self, ref: str) -> dict[str, Any]:
        doc = self.problem(ref)
        if doc is None:
            raise InvalidValue("problem", ref, "a problem that exists (see Problems, Ctrl+7)")
        return doc

    def _patch_problem(
        self,
        doc: dict[str, Any],
        body: Mapping[str, object],
        *,
        shown: Mapping[str, object] | None = None,
    ) -> dict[str, Any]:
        if not body:
            return doc
        before = self.problem(str(doc["id"])) or {}
        base = {name: before.get(name) for name in body if name != "link_incidents"}
        return self._queue(
            "problem_patch",
            incident_id=str(doc["id"]),
            target=str(doc["id"]),
            kind="problems",
            doc=doc,
            body=body,
            base=base,
            version=int(doc.get("version", 1)),
            shown=shown,
        )

    # ------------------------------------------------------------ known errors

    def apply_workaround(
        self, incident_id: str, known_error_id: str, *, title: str = "", problem: str = ""
    ) -> TimelineEvent:
        """Record on the incident that a known error's workaround was applied (a work note)."""
        if self._cache.incident(incident_id) is None:
            raise DomainError(f"incident {incident_id} is not in the local cache; refresh")
        known = {str(k.get("id")): k for k in self._cache.reference("known_errors")}
        if known_error_id not in known:
            raise InvalidValue("known error", known_error_id, "one the triage wizard suggests")
        name = title or str(known[known_error_id].get("title", known_error_id))
        if not problem:
            # The problem that published it (the Problems view, Ctrl+7).
            problem = next(
                (
                    str(p.get("number", ""))
                    for p in self._cache.reference("problems")
                    if p.get("known_error_id") == known_error_id
                ),
                "",
            )
        of = f" ({problem})" if problem else ""
        event = TimelineEvent(
            id=f"{LOCAL_PREFIX}{uuid.uuid4()}",
            incident_id=incident_id,
            kind=TimelineKind.WORK_NOTE,
            at=self._clock(),
            author=self._author,
            body=f"Applied the workaround of known error {name}{of} (waiting to be sent)",
            data={"workaround": known_error_id, "problem": problem or None},
        )
        entry = OutboxEntry(
            operation="workaround",
            incident_id=incident_id,
            payload={
                "known_error_id": known_error_id,
                "note": "",
                "problem": problem,
                "local_event_id": event.id,
                "kind": event.kind.value,
                "body": event.body,
                "at": event.at.isoformat(),
                "author": event.author,
            },
            base_version=None,
        )
        self._cache.enqueue(entry, local_event=event)
        self._queued()
        return event


def overlay_record(doc: Mapping[str, Any], payload: Mapping[str, Any]) -> dict[str, Any]:
    """A backend's review or problem document with one queued edit on top, marked pending.

    What the operator sees while the edit waits (offline, or behind other
    edits): the same change :class:`ReviewEdits` showed when it was queued, laid
    over whatever newer version the change feed brought meanwhile.
    """
    body = payload.get("body")
    shown: dict[str, Any] = {**doc, "pending": True}
    if not isinstance(body, Mapping):
        return shown
    extra = payload.get("shown")
    if not isinstance(extra, Mapping):
        extra = {}
    action = payload.get("action")
    if action == "pir_item":
        item_id = str(extra.get("item_id") or f"{LOCAL_PREFIX}item")
        items = [dict(i) for i in doc.get("action_items", []) or []]
        if all(i.get("id") != item_id for i in items):
            item = {"state": "open", "reason": None, "tracker_url": None, **body, "id": item_id}
            shown["action_items"] = [*items, item]
        return shown
    for name, value in body.items():
        if name == "timeline_marks" and isinstance(value, list):
            marks = {str(m.get("source_id")): m for m in value if isinstance(m, Mapping)}
            shown["timeline"] = [
                {
                    **entry,
                    **{k: v for k, v in marks[entry["source_id"]].items() if k != "source_id"},
                }
                if entry.get("source_id") in marks
                else entry
                for entry in doc.get("timeline", []) or []
            ]
        elif name == "action_items" and isinstance(value, list):
            updates = {str(u.get("id")): u for u in value if isinstance(u, Mapping)}
            shown["action_items"] = [
                {**item, **updates[item["id"]]} if item.get("id") in updates else item
                for item in doc.get("action_items", []) or []
            ]
        elif name == "link_incidents" and isinstance(value, list):
            numbers = extra.get("link_numbers") or value
            linked = list(doc.get("incidents", []) or [])
            shown["incidents"] = linked + [n for n in numbers if n not in linked]
        else:
            shown[name] = value
    return shown


def review_due(doc: Mapping[str, Any]) -> datetime | None:
    """When a cached review is due (None when it cannot say)."""
    return _when(doc.get("due_at"))
