"""The console's local cache: incidents, timelines, reference data, sync cursors, outbox.

One SQLite file in the user's data folder, opened through :meth:`Cache.open`.
Every write is one transaction, so a failure or a crash leaves either all of a
batch or none of it; :meth:`Cache.apply_changes` and :meth:`Cache.enqueue` put
related rows in the same transaction on purpose (see their docstrings).

Threads: a Cache may be shared by the GUI thread and a sync worker. Each call
checks out its own SQLite connection from the Cache's engine pool; reads run
in parallel with a write (WAL); writes are serialised by a lock in the Cache
and by ``BEGIN IMMEDIATE`` in SQLite, which also serialises against another
process on the same file (waiting up to the busy timeout).

The parts: :mod:`console.store.cache_incidents`, :mod:`~console.store.cache_reference`
and :mod:`~console.store.cache_outbox`, on the connections of
:mod:`~console.store.cache_base`; the sync cursor and the meta table are here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType

from sqlalchemy import select
from sqlalchemy.dialects import sqlite

from console.domain.clock import utc_now
from console.domain.incident import Incident, TimelineEvent
from console.store.cache_incidents import _Incidents
from console.store.cache_outbox import _Outbox
from console.store.cache_reference import REFERENCE_KINDS, _Reference
from console.store.changes import ChangeSet
from console.store.codec import parse_ts, ts_text
from console.store.errors import CacheError
from console.store.opening import open_engine
from console.store.tables import META, SYNC_STATE

__all__ = ["REFERENCE_KINDS", "Cache"]


class Cache(_Incidents, _Reference, _Outbox):
    """The local cache of one console (see the module docstring for threads and transactions).

    Use :meth:`Cache.open`; close with :meth:`close` (or use it as a context manager).
    """

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, path: Path) -> Cache:
        """Open the cache at ``path``, creating or migrating it as needed.

        A damaged or foreign file (not SQLite, truncated, failing SQLite's
        integrity check, another program's database) is moved aside to
        ``<name>.corrupt-<time>`` and a fresh cache takes its place; what
        happened is told in :attr:`notices`. A file from a newer NOC Console
        raises :class:`CacheTooNew` and is left untouched. Anything else that
        stops the cache from opening (a folder that cannot be written, a file
        locked by another program) raises :class:`CacheError` with what to do.
        """
        path = Path(path)
        engine, notices = open_engine(path)
        return cls(path, engine, notices)

    def close(self) -> None:
        """Close every connection (idempotent). SQLite then folds the WAL into the file."""
        with self._write_lock:
            if not self._closed:
                self._closed = True
                self._engine.dispose()

    def __enter__(self) -> Cache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Cache({str(self.path)!r})"

    # -------------------------------------------------------------- sync cursor

    def cursor(self, backend: str) -> int:
        """How far the change feed of ``backend`` (its URL) has been applied; 0 if never."""
        stmt = select(SYNC_STATE.c.cursor).where(SYNC_STATE.c.backend == backend)
        with self._reading() as conn:
            value = conn.execute(stmt).scalar_one_or_none()
        return 0 if value is None else int(value)

    def last_synced_at(self, backend: str) -> datetime | None:
        """When :meth:`apply_changes` last succeeded for ``backend`` (UTC), or None."""
        stmt = select(SYNC_STATE.c.last_synced_at).where(SYNC_STATE.c.backend == backend)
        with self._reading() as conn:
            value = conn.execute(stmt).scalar_one_or_none()
        return None if value is None else parse_ts(value)

    def apply_changes(
        self,
        backend: str,
        *,
        incidents: Iterable[Incident] = (),
        deleted_incidents: Iterable[str] = (),
        timeline: Iterable[TimelineEvent] = (),
        reference: Mapping[str, Iterable[Mapping[str, object]]] | None = None,
        deleted_reference: Mapping[str, Iterable[str]] | None = None,
        cursor: int,
    ) -> ChangeSet:
        """Apply one page of a backend's change feed and move its cursor, in ONE transaction.

        Rows and cursor commit together, so a crash or a bad row never leaves
        the cursor ahead of the data (which would skip changes for good) or the
        data ahead of the cursor. Upserts run before deletions.

        The result's ``inserted``/``updated``/``removed`` are incident ids;
        ``timeline_of`` names incidents whose timeline changed and
        ``reference_kinds`` the reference kinds that changed.
        """
        if not isinstance(backend, str) or not backend:
            raise CacheError("apply_changes needs the backend's URL to keep its cursor")
        if isinstance(cursor, bool) or not isinstance(cursor, int) or cursor < 0:
            raise CacheError(f"sync cursor must be a whole number from 0, got {cursor!r}")
        reference = reference or {}
        deleted_reference = deleted_reference or {}
        for kind in (*reference, *deleted_reference):
            self._check_kind(kind)
        with self._writing(f"applying changes from {backend}") as conn:
            result = self._upsert_incidents(conn, incidents)
            result = result.merge(self._delete_incidents(conn, deleted_incidents))
            timeline_changes = self._upsert_timeline(conn, timeline)
            kinds: set[str] = set()
            for kind, items in reference.items():
                kinds |= self._upsert_reference(conn, kind, items).reference_kinds
            for kind, ids in deleted_reference.items():
                kinds |= self._delete_reference(conn, kind, ids).reference_kinds
            stmt = sqlite.insert(SYNC_STATE).values(
                backend=backend, cursor=cursor, last_synced_at=ts_text(utc_now())
            )
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[SYNC_STATE.c.backend],
                    set_={
                        "cursor": stmt.excluded.cursor,
                        "last_synced_at": stmt.excluded.last_synced_at,
                    },
                )
            )
        return ChangeSet(
            inserted=result.inserted,
            updated=result.updated,
            removed=result.removed,
            timeline_of=timeline_changes.timeline_of,
            reference_kinds=frozenset(kinds),
        )

    # --------------------------------------------------------------------- meta

    def meta(self, key: str) -> str | None:
        """A small stored setting, or None."""
        with self._reading() as conn:
            value = conn.execute(select(META.c.value).where(META.c.key == key)).scalar_one_or_none()
        return None if value is None else str(value)

    def set_meta(self, key: str, value: str) -> None:
        """Store a small setting (replacing any earlier value)."""
        if not isinstance(value, str):
            raise CacheError(f"meta value for {key!r} must be text, got {type(value).__name__}")
        stmt = sqlite.insert(META).values(key=key, value=value)
        with self._writing(f"storing {key}") as conn:
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[META.c.key], set_={"value": stmt.excluded.value}
                )
            )
