"""The sync engine's push of review and problem edits (:mod:`console.sync.review_edits`).

Sent once, with the entry's ``Idempotency-Key`` and, for a change, ``If-Match``
with the document's version. On 412 the edit is merged field by field with the
backend's document: fields nobody else changed are sent again on the new
version; a field both changed is not overwritten: the edit is set aside as
refused, its text kept with it (Sync ▸ Refused edits) and the backend's
document shown. A refused edit shows the backend's document again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.connectors.base import BackendError, Rejected, StaleRecord
from console.store import OutboxRecord
from console.sync.conflicts import _Settling, _timeline_only
from console.sync.pull import META_LOCAL_ID
from console.sync.status import SyncUpdate

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
                        self._show_record(str(kind), current, payload)
                        names = ", ".join(n.replace("_", " ") for n in clashing)
                        raise Rejected(
                            412,
                            f"someone else changed {names} of this "
                            f"{'review' if kind == 'pirs' else 'problem'} while your edit "
                            "waited; theirs is shown, and your text is kept with this refused "
                            "edit: copy it from there and edit again",
                            "conflict",
                        ) from None
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
            self._restore_record(str(kind), payload)
            raise
        if action == "problem_open":
            # Later edits of the local problem go to the backend's id.
            self.cache.set_meta(META_LOCAL_ID + str(payload.get("target")), str(doc.get("id")))
        self._show_record(str(kind), doc, payload)
        self.cache.mark_outbox_sent(record.id)

    def _show_record(self, kind: str, doc: Mapping[str, Any], payload: Mapping[str, Any]) -> None:
        shown = self.cache.upsert_reference(kind, [dict(doc)])
        local = str(payload.get("doc_id", ""))
        if local and local != doc.get("id") and local.startswith("local-"):
            shown = shown.merge(self.cache.delete_reference(kind, [local]))
        if shown:
            self.listener.changed(SyncUpdate(shown))

    def _restore_record(self, kind: str, payload: Mapping[str, Any]) -> None:
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
        self._show_record(kind, doc, payload)

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
