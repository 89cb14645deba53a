"""The sync engine's push: outbox entries sent oldest first, merged on 412, set aside when refused.

Each entry goes with its ``Idempotency-Key`` and, for edits, the version it
started from; a create's placeholder id is mapped to the backend's id before
anything else is written, so later edits find their incident.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from console.connectors.base import (
    AuthFailed,
    BackendError,
    RateLimited,
    Rejected,
    Stale,
    Unreachable,
)
from console.domain.incident import Incident
from console.store import OutboxRecord
from console.sync.conflicts import _timeline_only
from console.sync.edits import CREATE_ECHO, merge
from console.sync.pull import META_LOCAL_ID
from console.sync.push_records import RECORD_OPERATIONS, _PushingRecords
from console.sync.status import SyncUpdate

# After this many unexpected failures (not the network, not a refusal) an
# entry is set aside as rejected, so one bad entry cannot block the queue.
MAX_ATTEMPTS = 8
# Re-reads on 412 before giving up for this round (the incident kept changing).
MAX_MERGE_ROUNDS = 3


class _Retry(BackendError):
    """Internal: leave the queue as it is and try again after a backoff."""


class _Pushing(_PushingRecords):
    """Sending the outbox."""

    # ------------------------------------------------------------------ push

    def _push(self) -> None:
        """Send pending entries oldest first; stop at the first that must wait."""
        try:
            while not self._stopping:
                records = self.cache.pending_outbox()
                if not records:
                    return
                for index, record in enumerate(records):  # oldest first: the order matters
                    if self._stopping:
                        return
                    self._send(record)
                    # How many still wait, for the status bar (no query per entry).
                    self.listener.outbox_changed(len(records) - index - 1)
        finally:
            self._outbox_count()

    def _send(self, record: OutboxRecord) -> None:
        try:
            if record.operation == "create":
                self._send_create(record)
            elif record.operation == "patch":
                self._send_patch(record)
            elif record.operation == "timeline" and "command" in record.payload:
                self._send_command(record)
            elif record.operation == "timeline":
                self._send_note(record)
            elif record.operation == "engage":
                self._send_engage(record)
            elif record.operation == "status_update":
                self._send_status_update(record)
            elif record.operation in RECORD_OPERATIONS:
                self._send_record_entry(record)
            else:
                self._reject(record, Rejected(0, f"unknown operation {record.operation!r}"))
        except Rejected as refused:
            self._reject(record, refused)
        except (Unreachable, RateLimited, AuthFailed, _Retry):
            raise
        except BackendError as exc:
            # Neither the network nor a refusal: retry a few times, then set
            # the entry aside so it cannot block the edits behind it.
            permanent = record.attempts + 1 >= MAX_ATTEMPTS
            self.cache.mark_outbox_failed(record.id, exc.message, permanent=permanent)
            if permanent:
                self._after_rejection(record, 0, exc.message)
                return
            raise

    def _target(self, record: OutboxRecord) -> str:
        """The backend id an entry goes to (placeholders resolved), or Rejected."""
        target = self._mapped_id(record.incident_id)
        if target is None:
            raise Rejected(
                0,
                "the new incident this belongs to was not created (see the refused "
                "new incident); nothing was sent",
            )
        return target

    def _idempotency_key(self, record: OutboxRecord, version: int | None) -> str:
        # A re-send against another version is another request; a key of its
        # own keeps the server from calling it a reused key.
        if version is None or version == record.base_version:
            return record.idempotency_key
        return f"{record.idempotency_key}-v{version}"

    def _send_create(self, record: OutboxRecord) -> None:
        local_id = record.incident_id
        fields = record.payload.get("fields")
        if not isinstance(fields, dict):
            raise Rejected(0, "the queued new incident is unreadable")
        created = self.backend.create_incident(fields, idempotency_key=record.idempotency_key)
        # The mapping first: if we crash now, the resend replays the same
        # create (same key) and later edits still find their incident.
        self.cache.set_meta(META_LOCAL_ID + local_id, created.id)
        pending = self._pending_patches(exclude=record.id)
        shown = self._overlay(created, pending.get(local_id, ()))
        notes = [
            replace(event, incident_id=created.id)
            for event in self.cache.timeline(local_id)
            if not event.data.get(CREATE_ECHO)  # the backend wrote its own entry
        ]
        changes = self.cache.apply_changes(
            self.backend.key,
            incidents=[shown],
            deleted_incidents=[local_id],
            timeline=notes,
            cursor=self.cache.cursor(self.backend.key),
        )
        self.cache.mark_outbox_sent(record.id)
        self.listener.changed(
            SyncUpdate(changes, {shown.id: shown}, renamed={local_id: created.id})
        )

    def _send_patch(self, record: OutboxRecord) -> None:
        fields = record.payload.get("fields")
        base = record.payload.get("base")
        if not isinstance(fields, dict) or not isinstance(base, dict):
            raise Rejected(0, "the queued edit is unreadable")
        if not fields:
            self.cache.mark_outbox_sent(record.id)  # an empty (refresh) entry
            return
        incident_id = self._target(record)
        version = self._rebased(incident_id, record.base_version)
        send: Mapping[str, object] = fields
        for _round in range(MAX_MERGE_ROUNDS):
            key = self._idempotency_key(record, version)
            try:
                updated = self.backend.update_incident(
                    incident_id, send, version=version, idempotency_key=key
                )
            except Stale as stale:
                current = stale.current
                result = merge(fields, base, current)
                if result.conflicts:
                    self._conflict(record, current, fields, result.conflicts, result.theirs)
                    return
                if not result.resend:
                    self._accept(record, current)  # the backend already has all of it
                    return
                send, version = result.resend, current.version
                continue
            self._own_versions.setdefault(incident_id, {})[version] = updated.version
            self._accept(record, updated)
            return
        raise _Retry(f"{incident_id} kept changing while the console tried to save an edit")

    def _rebased(self, incident_id: str, base_version: int | None) -> int:
        version = base_version or 1
        chain = self._own_versions.get(incident_id, {})
        seen = 0
        while version in chain and chain[version] != version and seen < 1000:
            version, seen = chain[version], seen + 1
        return version

    def _accept(self, record: OutboxRecord, incident: Incident) -> None:
        update = self._show(incident, exclude=record.id)
        self.cache.mark_outbox_sent(record.id)
        if update is not None:
            self.listener.changed(update)

    def _send_note(self, record: OutboxRecord) -> None:
        payload = record.payload
        kind, body = payload.get("kind"), payload.get("body")
        if not isinstance(kind, str) or not isinstance(body, str):
            raise Rejected(0, "the queued note is unreadable")
        incident_id = self._target(record)
        score = payload.get("score")
        if score is not None:
            # A CSAT score (kind csat): the only note that carries a value.
            if not isinstance(score, int):
                raise Rejected(0, "the queued CSAT score is unreadable")
            event = self.backend.add_timeline_entry(
                incident_id, kind, body, idempotency_key=record.idempotency_key, score=score
            )
        else:
            event = self.backend.add_timeline_entry(
                incident_id, kind, body, idempotency_key=record.idempotency_key
            )
        events = [event, *self._retired_local_note(record)]
        changes = self.cache.upsert_timeline(events)
        self.cache.mark_outbox_sent(record.id)
        if changes:
            self.listener.changed(SyncUpdate(_timeline_only(changes)))

    def _send_engage(self, record: OutboxRecord) -> None:
        """Swarm: engage the queued tiers; the backend's entries replace the local one."""
        payload = record.payload
        tiers, reason = payload.get("tiers"), payload.get("reason")
        if (
            not isinstance(tiers, list)
            or not tiers
            or not all(isinstance(t, int) and not isinstance(t, bool) for t in tiers)
            or not isinstance(reason, str)
        ):
            raise Rejected(0, "the queued request to engage teams is unreadable")
        incident_id = self._target(record)
        try:
            events = self.backend.engage(
                incident_id, list(tiers), reason, idempotency_key=record.idempotency_key
            )
        except Rejected as refused:
            if refused.status == 403:
                raise Rejected(
                    403,
                    "only commanders can engage several teams at once; "
                    "ask an incident commander, or escalate one tier at a time",
                    refused.code,
                ) from refused
            raise
        changes = self.cache.upsert_timeline([*events, *self._retired_local_note(record)])
        self.cache.mark_outbox_sent(record.id)
        if changes:
            self.listener.changed(SyncUpdate(_timeline_only(changes)))

    def _send_status_update(self, record: OutboxRecord) -> None:
        """A major incident's update to one audience; the backend's entry replaces the local one."""
        payload = record.payload
        audience, status, body = payload.get("audience"), payload.get("status"), payload.get("body")
        if not all(isinstance(v, str) for v in (audience, status, body)):
            raise Rejected(0, "the queued status update is unreadable")
        incident_id = self._target(record)
        event = self.backend.publish_status_update(
            incident_id,
            str(audience),
            str(status),
            str(body),
            idempotency_key=record.idempotency_key,
        )
        changes = self.cache.upsert_timeline([event, *self._retired_local_note(record)])
        self.cache.mark_outbox_sent(record.id)
        if changes:
            self.listener.changed(SyncUpdate(_timeline_only(changes)))

    def _send_command(self, record: OutboxRecord) -> None:
        """A major incident's role, bridge or responder edit; the backend's entry comes by the feed.

        The local stand-in is retired here; the pull that follows in the same
        cycle brings the backend's own entry (from whom, to whom, when).
        """
        payload = record.payload
        incident_id = self._target(record)
        key = record.idempotency_key
        command = payload.get("command")
        if command == "role":
            role, person, reason = payload.get("role"), payload.get("person"), payload.get("reason")
            if not isinstance(role, str) or not isinstance(person, str):
                raise Rejected(0, "the queued role assignment is unreadable")
            self.backend.assign_role(
                incident_id, role, person, str(reason or ""), idempotency_key=key
            )
        elif command == "bridge":
            bridge = payload.get("bridge")
            if not isinstance(bridge, dict) or not all(isinstance(v, str) for v in bridge.values()):
                raise Rejected(0, "the queued bridge is unreadable")
            self.backend.set_bridge(incident_id, bridge, idempotency_key=key)
        elif command == "responder":
            person, action = payload.get("person"), payload.get("action")
            if not isinstance(person, str) or not isinstance(action, str):
                raise Rejected(0, "the queued responder change is unreadable")
            self.backend.change_responder(incident_id, person, action, idempotency_key=key)
        else:
            raise Rejected(0, f"unknown major incident command {command!r}")
        changes = self.cache.upsert_timeline(self._retired_local_note(record))
        self.cache.mark_outbox_sent(record.id)
        if changes:
            self.listener.changed(SyncUpdate(_timeline_only(changes)))
