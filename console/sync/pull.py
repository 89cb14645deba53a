"""The sync engine's pull: the change feed into the cache, with the operator's unsent edits on top.

Page by page, each page and its cursor in one cache transaction; a long
catch-up reads ahead on a thread of its own (:class:`_PageReader`) with the
cyclic garbage collector paused. Incidents pulled while an edit of them waits
are shown with the edit over them (the overlay), so it never vanishes from the
screen before it is sent.
"""

from __future__ import annotations

import gc
import queue
import threading
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime

from console.connectors.base import BackendError, ChangeBatch, Rejected
from console.domain.incident import Incident
from console.store import ChangeSet, OutboxEntry
from console.sync.core import _EngineCore
from console.sync.edits import apply_fields, is_local_id
from console.sync.review_edits import overlay_record
from console.sync.status import SyncState, SyncUpdate

# Cache meta key (the store has no table for these): + placeholder id → the backend's id.
META_LOCAL_ID = "sync.local-id:"
# Cached documents that review and problem edits (outbox ``record``) change.
RECORD_KINDS = frozenset({"pirs", "problems"})


def _pause_gc() -> bool:
    """Switch the cyclic garbage collector off for a long catch-up; True if it was on.

    A first sync of 100k incidents keeps about a million new objects alive;
    each full collection over them holds the GIL for up to half a second,
    freezing the GUI thread with it (measured: 0.7 s stalls, 3 s of GC in a
    100k sync). Nearly all the sync's garbage is freed by reference counting
    anyway, so the collector is paused for the catch-up.
    """
    if not gc.isenabled():
        return False  # someone else manages it (e.g. a bulk load): leave it be
    gc.disable()
    return True


def _resume_gc() -> None:
    """Turn the collector back on without the pause of scanning what the catch-up kept.

    ``gc.freeze()`` moves every object alive now (the cache's worth of records
    the GUI now holds) out of the collector's reach, so the next collections
    only look at new objects instead of a million old ones.
    """
    gc.freeze()
    gc.enable()


class _Pulling(_EngineCore):
    """Pulling the feed and showing fetched records under the unsent edits."""

    # ------------------------------------------------------------------ pull

    def _pull(self, *, catching_up: bool) -> None:
        key = self.backend.key
        start = cursor = self.cache.cursor(key)
        target = self._latest_seen
        if catching_up:
            self._emit_status(SyncState.SYNCING)
            if target is None or target <= cursor:
                try:
                    target = self.backend.latest_cursor()
                except BackendError:
                    target = None
        announced = catching_up
        reader: _PageReader | None = None
        quiet_gc = False
        try:
            while not self._stopping:
                if reader is None:
                    batch = self.backend.changes(cursor, self.page_size)
                    if batch.more:
                        # A long catch-up: fetch and decode the next pages on a
                        # thread of their own while this one writes the cache.
                        reader = _PageReader(self, batch.cursor)
                        quiet_gc = self.quiet_gc and _pause_gc()
                else:
                    next_batch = reader.next()
                    if next_batch is None:
                        return  # stopping
                    batch = next_batch
                update = self._apply(batch, catching_up=announced)
                cursor = batch.cursor
                if batch.more and not announced:
                    # A burst bigger than a page: say so, with progress.
                    announced = True
                    self._emit_status(SyncState.SYNCING)
                if announced:
                    done = cursor - start
                    known = max(target or 0, self._latest_seen or 0)
                    if not batch.more:
                        total = done
                    elif known > cursor:
                        total = known - start
                    else:
                        total = 0  # not known: the status bar shows the count alone
                    self.listener.progress(done, total)
                if update is not None:
                    self.listener.changed(update)
                if not batch.more:
                    return
        finally:
            if reader is not None:
                reader.close()
            if quiet_gc:
                _resume_gc()

    def _apply(self, batch: ChangeBatch, *, catching_up: bool) -> SyncUpdate | None:
        incidents = list(batch.incidents)
        pending = self._pending_patches() if incidents else {}
        if pending:
            incidents = [self._overlay(i, pending.get(i.id, ())) for i in incidents]
        reference: Mapping[str, Iterable[Mapping[str, object]]] = batch.reference
        if any(kind in RECORD_KINDS for kind in reference):
            reference = {
                kind: self._overlay_records(kind, docs) if kind in RECORD_KINDS else docs
                for kind, docs in batch.reference.items()
            }
        changes = self.cache.apply_changes(
            self.backend.key,
            incidents=incidents,
            deleted_incidents=batch.deleted_incidents,
            timeline=batch.timeline,
            reference=reference,
            deleted_reference=batch.deleted_reference,
            cursor=batch.cursor,
        )
        if not changes:
            return None
        touched = changes.inserted | changes.updated
        return SyncUpdate(
            changes,
            {i.id: i for i in incidents if i.id in touched},
            catching_up=catching_up,
        )

    # ------------------------------------------------------------------ overlay

    def _pending_patches(
        self, exclude: int | None = None
    ) -> dict[str, list[tuple[Mapping[str, object], datetime]]]:
        """Queued edits by (backend) incident id, oldest first, for showing over fresh data."""
        out: dict[str, list[tuple[Mapping[str, object], datetime]]] = {}
        for record in self.cache.pending_outbox():
            if record.operation != "patch" or record.id == exclude:
                continue
            fields = record.payload.get("fields")
            if not isinstance(fields, dict) or not fields:
                continue
            incident_id = self._mapped_id(record.incident_id) or record.incident_id
            out.setdefault(incident_id, []).append((fields, record.created_at))
            if incident_id != record.incident_id:
                out.setdefault(record.incident_id, []).append((fields, record.created_at))
        return out

    def _overlay(
        self, incident: Incident, edits: Iterable[tuple[Mapping[str, object], datetime]]
    ) -> Incident:
        """The backend's record with the operator's unsent edits on top (version kept).

        Without this, a fresh version pulled while an edit waits would make the
        edit vanish from the screen until it is sent.
        """
        shown = incident
        for fields, at in edits:
            shown = apply_fields(shown, fields, at, matrix=self._matrix, lenient=True)
        return replace(shown, version=incident.version) if shown is not incident else incident

    def _overlay_records(
        self, kind: str, docs: Iterable[Mapping[str, object]], exclude: int | None = None
    ) -> list[Mapping[str, object]]:
        """Reviews or problems from the backend with the operator's unsent edits on top.

        The same overlay as incidents get, for ``record`` entries: a review is
        matched by its incident, a problem by its id (placeholders resolved).
        """
        waiting: dict[str, list[Mapping[str, object]]] = {}
        for record in self.cache.pending_outbox():
            payload = record.payload
            if (
                record.operation != "record"
                or record.id == exclude
                or payload.get("kind") != kind
                or payload.get("action") in ("pir_draft", "problem_open")
            ):
                continue
            target = str(payload.get("target", ""))
            waiting.setdefault(self._mapped_id(target) or target, []).append(payload)
        if not waiting:
            return list(docs)
        field = "incident_id" if kind == "pirs" else "id"
        out: list[Mapping[str, object]] = []
        for doc in docs:
            shown: Mapping[str, object] = doc
            for edit in waiting.get(str(doc.get(field, "")), ()):
                shown = overlay_record(shown, edit)
            out.append(shown)
        return out

    def _show(self, incident: Incident, exclude: int | None = None) -> SyncUpdate | None:
        """Write the backend's ``incident`` (with unsent edits over it) to the cache."""
        shown = self._overlay(incident, self._pending_patches(exclude).get(incident.id, ()))
        changes = self.cache.upsert_incidents([shown])
        if not changes:
            local = self.cache.incident(shown.id)
            if local is None or local == shown:
                return None
            # Same version as the local edit: only a local write replaces it.
            changes = self._force_write(shown)
        return SyncUpdate(changes, {shown.id: shown})

    def _force_write(self, incident: Incident) -> ChangeSet:
        """Replace the cached row whatever its version, in one transaction.

        The cache only writes a backend record that is newer than the cached
        one, and the operator's edit is cached at the version it started from;
        so showing the backend's state again at that same version (after a
        refusal or a conflict) goes through :meth:`Cache.enqueue`, the one
        write that ignores versions, with an empty edit that is marked sent
        right away (and is skipped as empty if a crash comes in between).
        """
        entry = OutboxEntry(
            operation="patch",
            incident_id=incident.id,
            payload={"fields": {}, "base": {}, "refresh": True},
            base_version=incident.version,
        )
        record = self.cache.enqueue(entry, local_incident=incident)
        self.cache.mark_outbox_sent(record.id)
        return ChangeSet(updated=frozenset({incident.id}))

    def _refresh_pending(self) -> None:
        """Re-read incidents whose refused edit is still shown (the backend was away)."""
        for incident_id in list(self._needs_refresh):
            try:
                current = self.backend.get_incident(incident_id)
            except Rejected:
                self._needs_refresh.discard(incident_id)  # gone: the feed says so
                continue
            self._needs_refresh.discard(incident_id)
            update = self._show(current)
            if update is not None:
                self.listener.changed(update)

    def _mapped_id(self, incident_id: str) -> str | None:
        if not is_local_id(incident_id):
            return incident_id
        mapped = self.cache.meta(META_LOCAL_ID + incident_id)
        return mapped or None


class _PageReader:
    """Reads the change feed ahead on a thread of its own during a long catch-up.

    The engine writes page N to the cache while this thread fetches and
    decodes page N+1: the backend's time and the cache's time overlap (SQLite
    and the socket release the GIL), which makes a first sync of 100k
    incidents about a third faster. Only this thread uses the backend while it
    runs; :meth:`close` waits for it before the engine talks to the backend
    again. A failure is handed over in order, after the pages read before it.
    """

    _DEPTH = 2

    def __init__(self, engine: _Pulling, after: int) -> None:
        self._engine = engine
        self._after = after
        self._queue: queue.Queue[ChangeBatch | BaseException] = queue.Queue(self._DEPTH)
        self._halted = threading.Event()
        self._thread = threading.Thread(target=self._run, name="noc-sync-reader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        engine = self._engine
        cursor = self._after
        try:
            while not self._halted.is_set() and not engine.stopping:
                batch = engine.backend.changes(cursor, engine.page_size)
                if not self._put(batch) or not batch.more:
                    return
                cursor = batch.cursor
        except BaseException as exc:  # handed to the engine's thread, which raises it
            self._put(exc)

    def _put(self, item: ChangeBatch | BaseException) -> bool:
        while not self._halted.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def next(self) -> ChangeBatch | None:
        """The next page in order (None when the engine is stopping); raises its failure."""
        while not self._engine.stopping:
            try:
                item = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            if isinstance(item, BaseException):
                raise item
            return item
        return None

    def close(self) -> None:
        self._halted.set()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._thread.join(30)
