"""The sync engine's conflicts and refusals: kept with their details until the operator decides.

A stale edit that clashes field by field is kept as a *conflict* (both values,
in the cache meta) for :meth:`resolve_conflict`; a refused edit is kept as
*rejected* with the backend's message. Either way the backend's state is
shown again instead of the edit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from console.connectors.base import COMPANION_FIELDS, BackendError, Rejected
from console.domain.incident import Incident, TimelineEvent, TimelineKind
from console.store import ChangeSet, OutboxEntry, OutboxRecord
from console.sync.edits import FieldConflict, apply_fields
from console.sync.pull import _Pulling
from console.sync.review_edits import overlay_record
from console.sync.status import Conflict, Rejection, SyncUpdate

# Cache meta key: + outbox record id → JSON of both sides of a conflict.
META_CONFLICT = "sync.conflict:"

# A sent note's local stand-in is moved under this incident id (which never
# exists), so it leaves the timeline in the same transaction that adds the
# backend's entry. The cache has no way to delete a single timeline entry.
RETIRED_EVENTS_INCIDENT = "~sent-local-notes"


def _timeline_only(changes: ChangeSet) -> ChangeSet:
    """A timeline write's ChangeSet in the incident id space the models expect.

    The cache reports event ids as inserted/updated for timeline writes; a
    model reading those as incident ids would look up rows that do not exist.
    """
    return ChangeSet(timeline_of=changes.timeline_of - {RETIRED_EVENTS_INCIDENT})


def _record_conflict(record_id: int, detail: Mapping[str, Any]) -> Conflict:
    """A kept review or problem conflict (see ``_PushingRecords._record_conflict``)."""
    about: Mapping[str, Any] = detail["record"]
    return Conflict(
        record_id=record_id,
        incident_id=str(detail["incident_id"]),
        number=str(about.get("number", "")),
        title=str(about.get("title", "")),
        fields={
            name: FieldConflict(c["base"], c["mine"], c["theirs"])
            for name, c in detail["conflicts"].items()
        },
        theirs_version=int(detail["theirs_version"]),
        kind=str(about.get("kind", "pirs")),
    )


class _Settling(_Pulling):
    """Recording conflicts and refusals, and the operator's ways out of them."""

    # ------------------------------------------------------------------ conflicts

    def _conflict(
        self,
        record: OutboxRecord,
        current: Incident,
        fields: Mapping[str, object],
        conflicts: Mapping[str, FieldConflict],
        theirs: Mapping[str, object],
    ) -> None:
        detail = {
            "incident_id": current.id,
            "theirs_version": current.version,
            "fields": dict(fields),
            "theirs": dict(theirs),
            "conflicts": {
                name: {"base": c.base, "mine": c.mine, "theirs": c.theirs}
                for name, c in conflicts.items()
            },
        }
        conflict = Conflict(
            record_id=record.id,
            incident_id=current.id,
            number=current.number,
            title=current.title,
            fields=dict(conflicts),
            theirs_version=current.version,
        )
        # The details first: a crash before the status change re-sends the
        # entry, meets the same 412 and records the same conflict.
        self.cache.set_meta(META_CONFLICT + str(record.id), json.dumps(detail))
        self.cache.mark_outbox_conflict(record.id, conflict.message)
        update = self._show(current, exclude=record.id)
        if update is not None:
            self.listener.changed(update)
        self.listener.conflict(conflict)

    def conflicts(self) -> list[Conflict]:
        """Every edit waiting for the operator's choice, oldest first."""
        out: list[Conflict] = []
        for record in self.cache.outbox_records(status="conflict"):
            detail = self._conflict_detail(record.id)
            if detail is None:
                continue
            if isinstance(detail.get("record"), dict):
                out.append(_record_conflict(record.id, detail))
                continue
            incident = self.cache.incident(detail["incident_id"])
            out.append(
                Conflict(
                    record_id=record.id,
                    incident_id=detail["incident_id"],
                    number=incident.number if incident else detail["incident_id"],
                    title=incident.title if incident else "",
                    fields={
                        name: FieldConflict(c["base"], c["mine"], c["theirs"])
                        for name, c in detail["conflicts"].items()
                    },
                    theirs_version=int(detail["theirs_version"]),
                )
            )
        return out

    def _conflict_detail(self, record_id: int) -> dict[str, Any] | None:
        text = self.cache.meta(META_CONFLICT + str(record_id))
        if not text:
            return None
        try:
            detail = json.loads(text)
        except ValueError:
            return None
        return detail if isinstance(detail, dict) else None

    def resolve_conflict(self, record_id: int, choices: Mapping[str, str]) -> Incident | None:
        """Settle a conflict: for each clashing field, ``"mine"`` or ``"theirs"``.

        Fields chosen as mine, and the edit's fields nobody else touched, are
        queued again as a new edit based on the backend's version (shown at
        once, sent by the engine); fields chosen as theirs are dropped. Returns
        the incident as now shown (None when the incident is no longer cached).
        Raises ``ValueError`` for a missing or unknown choice.
        """
        record = next(
            (r for r in self.cache.outbox_records(status="conflict") if r.id == record_id), None
        )
        detail = self._conflict_detail(record_id)
        if record is None or detail is None:
            raise ValueError(f"there is no unresolved conflict {record_id}")
        clashing: dict[str, Any] = detail["conflicts"]
        missing = sorted(set(clashing) - set(choices))
        odd = sorted(name for name, choice in choices.items() if choice not in ("mine", "theirs"))
        if missing or odd or set(choices) - set(clashing):
            raise ValueError(
                f"choose mine or theirs for each of {', '.join(sorted(clashing))}"
                + (f" (missing: {', '.join(missing)})" if missing else "")
            )
        if isinstance(detail.get("record"), dict):
            self._resolve_record(record, detail, choices)
            return None
        fields: dict[str, object] = dict(detail["fields"])
        theirs: dict[str, object] = dict(detail["theirs"])
        keep = {
            name: value
            for name, value in fields.items()
            if name not in COMPANION_FIELDS
            and theirs.get(name) != value
            and (name not in clashing or choices[name] == "mine")
        }
        for companion, main in COMPANION_FIELDS.items():
            if main in keep and companion in fields:
                keep[companion] = fields[companion]
        incident_id = str(detail["incident_id"])
        current = self.cache.incident(incident_id)
        shown = current
        if keep:
            entry = OutboxEntry(
                operation="patch",
                incident_id=incident_id,
                payload={
                    "fields": keep,
                    "base": {name: theirs.get(name) for name in keep if name in theirs},
                },
                base_version=int(detail["theirs_version"]),
            )
            if current is not None:
                shown = apply_fields(
                    current, keep, datetime.now(UTC), matrix=self._matrix, lenient=True
                )
                self.cache.enqueue(entry, local_incident=replace(shown, version=current.version))
            else:
                self.cache.enqueue(entry)  # not cached (yet): sent all the same
        self.cache.discard_outbox(record_id)
        self.cache.set_meta(META_CONFLICT + str(record_id), "")
        self.wake()
        return shown

    def _resolve_record(
        self, record: OutboxRecord, detail: Mapping[str, Any], choices: Mapping[str, str]
    ) -> None:
        """Settle a review or problem conflict: the kept values queued again on their version."""
        about: dict[str, Any] = detail["record"]
        clashing: Mapping[str, Any] = detail["conflicts"]
        theirs: dict[str, object] = dict(detail["theirs"])
        keep = {
            name: value
            for name, value in dict(detail["fields"]).items()
            if (name not in theirs or theirs[name] != value)
            and (name not in clashing or choices[name] == "mine")
        }
        kind = str(about["kind"])
        if keep:
            payload = {
                **record.payload,
                "body": keep,
                "base": {name: theirs[name] for name in keep if name in theirs},
            }
            self.cache.enqueue(
                OutboxEntry(
                    operation="record",
                    incident_id=record.incident_id,
                    payload=payload,
                    base_version=int(detail["theirs_version"]),
                )
            )
            # Shown at once, marked pending, like the edit it replaces.
            doc = next(
                (d for d in self.cache.reference(kind) if d.get("id") == about["doc_id"]), None
            )
            if doc is not None:
                self.cache.upsert_reference(kind, [overlay_record(doc, payload)])
        self.cache.discard_outbox(record.id)
        self.cache.set_meta(META_CONFLICT + str(record.id), "")
        self.wake()

    # ------------------------------------------------------------------ rejections

    def _reject(self, record: OutboxRecord, refused: Rejected) -> None:
        status = refused.status
        message = refused.message
        self.cache.mark_outbox_failed(
            record.id, f"[{status}] {message}" if status else message, permanent=True
        )
        self._after_rejection(record, status, message)

    def _after_rejection(self, record: OutboxRecord, status: int, message: str) -> None:
        """Show the backend's state again instead of the refused edit; report the refusal."""
        if record.operation == "create":
            changes = self.cache.delete_incidents([record.incident_id])
            if changes:
                self.listener.changed(SyncUpdate(changes))
        elif record.operation == "patch":
            target = self._mapped_id(record.incident_id)
            if target is not None:
                try:
                    update = self._show(self.backend.get_incident(target), exclude=record.id)
                except Rejected:
                    update = None  # gone on the backend; the feed says so
                except BackendError:
                    self._needs_refresh.add(target)
                    update = None
                if update is not None:
                    self.listener.changed(update)
        elif record.operation in ("timeline", "engage", "status_update"):
            changes = self.cache.upsert_timeline(self._retired_local_note(record))
            if changes:
                self.listener.changed(SyncUpdate(_timeline_only(changes)))
        self.listener.rejected(
            Rejection(
                record_id=record.id,
                operation=record.operation,
                incident_id=record.incident_id,
                status=status,
                message=message,
                payload=record.payload,
            )
        )

    def rejections(self) -> list[Rejection]:
        """Every refused edit still kept, oldest first."""
        out: list[Rejection] = []
        for record in self.cache.outbox_records(status="rejected"):
            text = record.last_error or ""
            status = 0
            if text.startswith("[") and "] " in text:
                code, _, rest = text[1:].partition("] ")
                if code.isdigit():
                    status, text = int(code), rest
            out.append(
                Rejection(
                    record.id, record.operation, record.incident_id, status, text, record.payload
                )
            )
        return out

    def discard(self, record_id: int) -> None:
        """Drop a refused or conflicting edit the operator gave up (cache only)."""
        self.cache.discard_outbox(record_id)
        self.cache.set_meta(META_CONFLICT + str(record_id), "")

    def _retired_local_note(self, record: OutboxRecord) -> list[TimelineEvent]:
        """The note's local stand-in, moved out of sight (see RETIRED_EVENTS_INCIDENT)."""
        payload = record.payload
        local_id = payload.get("local_event_id")
        if not isinstance(local_id, str):
            return []
        try:
            at = datetime.fromisoformat(str(payload.get("at")))
            return [
                TimelineEvent(
                    id=local_id,
                    incident_id=RETIRED_EVENTS_INCIDENT,
                    kind=TimelineKind.of(payload.get("kind")),
                    at=at,
                    author=str(payload.get("author") or ""),
                    body=str(payload.get("body") or "-"),
                )
            ]
        except (ValueError, TypeError):
            return []
