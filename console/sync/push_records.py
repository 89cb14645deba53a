"""The sync engine's push of review and problem edits (:mod:`console.sync.review_edits`).

Sent once, with the entry's ``Idempotency-Key`` and, for a change, ``If-Match``
with the document's version. On 412 the edit is merged field by field with the
backend's document: fields nobody else changed are sent again on the new
version; a field both changed is not overwritten: the edit is kept as a
conflict with both values (the conflict dialog's mine or theirs, like an
incident edit's, settled by :meth:`SyncEngine.resolve_conflict`) and the
backend's document is shown meanwhile. A refused edit shows the backend's
document again. Every document shown keeps the other unsent edits of it on
top (the pull's overlay).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from console.connectors.base import BackendError, Rejected, StaleRecord
from console.store import OutboxRecord
from console.sync.conflicts import META_CONFLICT, _Settling, _timeline_only
from console.sync.edits import FieldConflict
from console.sync.pull import META_LOCAL_ID
from console.sync.status import Conflict, SyncUpdate

RECORD_OPERATIONS = ("record", "workaround")
MAX_RECORD_ROUNDS = 3


class _PushingRecords(_Settling):
    """Sending ``record`` and ``workaround`` outbox entries."""

    def _send_record_entry(self, record: OutboxRecord) -> None:
        if record.operation == "workaround":
            self._send_workaround(record)
        else:
            self._send_record(record)

    def _record_target(self, record: OutboxRecord, payload: Mapping[str, Any]) -> str:
        target = str(payload.get("target", ""))
        if payload.get("action") == "problem_open":
            return target  # not sent: the backend numbers the new problem
        mapped = self._mapped_id(target)
        if mapped is None:
            raise Rejected(
                0,
                "the new problem this belongs to was not created (see the refused edit); "
                "nothing was sent",
            )
        return mapped

    def _send_record(self, record: OutboxRecord) -> None:
        payload = record.payload
        action, kind, body = payload.get("action"), payload.get("kind"), payload.get("body")
        base = payload.get("base") or {}
        if (
            not isinstance(action, str)
            or kind not in ("pirs", "problems")
            or not isinstance(body, dict)
            or not isinstance(base, dict)
        ):
            raise Rejected(0, "the queued review or problem edit is unreadable")
        try:
            target = self._record_target(record, payload)
            version = record.base_version
            send: dict[str, Any] = dict(body)
            for _round in range(MAX_RECORD_ROUNDS):
                key = self._idempotency_key(record, version)
                try:
                    doc = self.backend.write_record(
                        action, target, send, version=version, idempotency_key=key
                    )
                except StaleRecord as stale:
                    current = dict(stale.current)
                    clashing = [
                        name
                        for name, mine in send.items()
                        if name in base and current.get(name) not in (base[name], mine)
                    ]
                    if clashing:
                        self._record_conflict(record, str(kind), current, send, clashing)
                        return
                    send = {n: v for n, v in send.items() if current.get(n) != v or n not in base}
                    version = int(str(current.get("version", 1)))
                    if not send:
                        doc = current
                        break
                    continue
                break
            else:
                raise Rejected(0, "the record kept changing while the console tried to save it")
        except Rejected:
            self._restore_record(str(kind), payload, record.id)
            raise
        if action == "problem_open":
            # Later edits of the local problem go to the backend's id.
            self.cache.set_meta(META_LOCAL_ID + str(payload.get("target")), str(doc.get("id")))
        self._show_record(str(kind), doc, payload, record.id)
        self.cache.mark_outbox_sent(record.id)

    def _record_conflict(
        self,
        record: OutboxRecord,
        kind: str,
        current: Mapping[str, Any],
        send: Mapping[str, Any],
        clashing: Sequence[str],
    ) -> None:
        """Someone else changed a field this edit changes: keep both for the operator's choice.

        The same conflict as an incident edit's (``sync.conflict:`` meta, outbox
        status ``conflict``, :meth:`SyncListener.conflict`), so the conflict
        dialog offers mine or theirs; the backend's document is shown meanwhile.
        """
        payload = record.payload
        base = payload.get("base")
        if not isinstance(base, Mapping):
            base = {}
        if kind == "pirs":
            number = f"Review of {current.get('incident_number', '')}"
            title = str(current.get("title", ""))
        else:
            number = str(current.get("number", ""))
            title = str(current.get("statement", ""))
        theirs_version = int(str(current.get("version", 1)))
        conflicts = {
            name: {"base": base.get(name), "mine": send[name], "theirs": current.get(name)}
            for name in clashing
        }
        detail = {
            "record": {
                "kind": kind,
                "action": payload.get("action"),
                "target": payload.get("target"),
                "doc_id": current.get("id"),
                "number": number,
                "title": title,
            },
            "incident_id": record.incident_id,
            "theirs_version": theirs_version,
            "fields": dict(send),
            "theirs": {name: current.get(name) for name in send if name in base},
            "conflicts": conflicts,
        }
        conflict = Conflict(
            record_id=record.id,
            incident_id=record.incident_id,
            number=number,
            title=title,
            fields={
                name: FieldConflict(c["base"], c["mine"], c["theirs"])
                for name, c in conflicts.items()
            },
            theirs_version=theirs_version,
            kind=kind,
        )
        # The details first: a crash before the status change re-sends the
        # entry, meets the same 412 and records the same conflict.
        self.cache.set_meta(META_CONFLICT + str(record.id), json.dumps(detail))
        self.cache.mark_outbox_conflict(record.id, conflict.message)
        self._show_record(kind, current, payload, record.id)
        self.listener.conflict(conflict)

    def _show_record(
        self,
        kind: str,
        doc: Mapping[str, Any],
        payload: Mapping[str, Any],
        exclude: int | None = None,
    ) -> None:
        """The backend's document in the cache, with the other unsent edits of it on top."""
        [shown_doc] = self._overlay_records(kind, [doc], exclude)
        shown = self.cache.upsert_reference(kind, [shown_doc])
        local = str(payload.get("doc_id", ""))
        if local and local != doc.get("id") and local.startswith("local-"):
            shown = shown.merge(self.cache.delete_reference(kind, [local]))
        if shown:
            self.listener.changed(SyncUpdate(shown))

    def _restore_record(
        self, kind: str, payload: Mapping[str, Any], exclude: int | None = None
    ) -> None:
        """After a refusal: the backend's document again (or the placeholder gone)."""
        local = str(payload.get("doc_id", ""))
        if local.startswith("local-"):
            changes = self.cache.delete_reference(kind, [local])
            if changes:
                self.listener.changed(SyncUpdate(changes))
            return
        target = self._mapped_id(str(payload.get("target", "")))
        if target is None:
            return
        try:
            doc = self.backend.get_record("pir" if kind == "pirs" else "problem", target)
        except BackendError:
            return  # it just answered; if it cannot now, the refusal is still reported
        self._show_record(kind, doc, payload, exclude)

    def _send_workaround(self, record: OutboxRecord) -> None:
        payload = record.payload
        known, note = payload.get("known_error_id"), payload.get("note", "")
        if not isinstance(known, str) or not isinstance(note, str):
            raise Rejected(0, "the queued workaround is unreadable")
        try:
            incident_id = self._target(record)
            event = self.backend.apply_workaround(
                incident_id, known, note, idempotency_key=record.idempotency_key
            )
        except Rejected:
            # Refused: the "(waiting to be sent)" stand-in leaves the timeline.
            retired = self.cache.upsert_timeline(self._retired_local_note(record))
            if retired:
                self.listener.changed(SyncUpdate(_timeline_only(retired)))
            raise
        changes = self.cache.upsert_timeline([event, *self._retired_local_note(record)])
        self.cache.mark_outbox_sent(record.id)
        if changes:
            self.listener.changed(SyncUpdate(_timeline_only(changes)))

    def _target(self, record: OutboxRecord) -> str:  # provided by _Pushing
        raise NotImplementedError

    def _idempotency_key(self, record: OutboxRecord, version: int | None) -> str:
        raise NotImplementedError
