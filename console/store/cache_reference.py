"""The cache's reference data: services, teams, contacts, policies and the other kept documents."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from sqlalchemy import Connection, delete, select

from console.store.cache_base import _REFERENCE_UPSERT, _CacheBase, _chunks
from console.store.changes import ChangeSet
from console.store.codec import json_text, reference_key
from console.store.errors import CacheError
from console.store.tables import REFERENCE

# Reference data the server syncs; the wire layer defines each document.
REFERENCE_KINDS: tuple[str, ...] = (
    "services",
    "teams",
    "contacts",
    "policies",
    "shifts",
    "categories",
    "known_errors",
    # Post-incident reviews and problem records (issue #20): server documents
    # kept whole, like reference data; no schema change.
    "pirs",
    "problems",
)


class _Reference(_CacheBase):
    """Reference documents by kind and id."""

    # ------------------------------------------------------------ reference data

    @staticmethod
    def _check_kind(kind: str) -> None:
        if kind not in REFERENCE_KINDS:
            raise CacheError(
                f"unknown reference data kind {kind!r}; use one of {', '.join(REFERENCE_KINDS)}"
            )

    def upsert_reference(self, kind: str, items: Iterable[Mapping[str, object]]) -> ChangeSet:
        """Store reference documents of one kind, keyed by their ``"id"``; report ids changed.

        ``kind`` is one of :data:`REFERENCE_KINDS`; every item needs a
        non-empty string or integer ``"id"`` and JSON values only. An item
        identical to the stored one is not reported.
        """
        self._check_kind(kind)
        with self._writing(f"storing {kind}") as conn:
            return self._upsert_reference(conn, kind, items)

    @staticmethod
    def _upsert_reference(
        conn: Connection, kind: str, items: Iterable[Mapping[str, object]]
    ) -> ChangeSet:
        inserted: set[str] = set()
        updated: set[str] = set()
        for chunk in _chunks(items):
            batch: dict[str, str] = {}
            for item in chunk:
                key = reference_key(kind, item)
                batch[key] = json_text(dict(item), f"{kind} item {key!r}")
            stored: dict[str, str] = {
                key: doc
                for key, doc in conn.execute(
                    select(REFERENCE.c.id, REFERENCE.c.doc).where(
                        REFERENCE.c.kind == kind, REFERENCE.c.id.in_(list(batch))
                    )
                )
            }
            writes = [(kind, key, doc) for key, doc in batch.items() if stored.get(key) != doc]
            for _kind, key, _doc in writes:
                if key in stored:
                    if key not in inserted:
                        updated.add(key)
                else:
                    inserted.add(key)
            if writes:
                conn.exec_driver_sql(_REFERENCE_UPSERT, writes)
        changed = inserted or updated
        return ChangeSet(
            inserted=frozenset(inserted),
            updated=frozenset(updated),
            reference_kinds=frozenset({kind}) if changed else frozenset(),
        )

    def delete_reference(self, kind: str, ids: Iterable[str]) -> ChangeSet:
        """Remove reference documents of one kind; report the ids that were there."""
        self._check_kind(kind)
        with self._writing(f"removing {kind}") as conn:
            return self._delete_reference(conn, kind, ids)

    @staticmethod
    def _delete_reference(conn: Connection, kind: str, ids: Iterable[str]) -> ChangeSet:
        removed: set[str] = set()
        for chunk in _chunks(str(key) for key in ids):
            where = (REFERENCE.c.kind == kind, REFERENCE.c.id.in_(chunk))
            present = list(conn.scalars(select(REFERENCE.c.id).where(*where)))
            if present:
                conn.execute(delete(REFERENCE).where(*where))
                removed.update(present)
        return ChangeSet(
            removed=frozenset(removed),
            reference_kinds=frozenset({kind}) if removed else frozenset(),
        )

    def reference(self, kind: str) -> list[dict[str, object]]:
        """Every stored document of one kind, ordered by id."""
        self._check_kind(kind)
        stmt = select(REFERENCE.c.doc).where(REFERENCE.c.kind == kind).order_by(REFERENCE.c.id)
        with self._reading() as conn:
            docs = list(conn.scalars(stmt))
        return [json.loads(doc) for doc in docs]

    def reference_ids(self, kind: str) -> list[str]:
        """The ids of every stored document of one kind, in order (without reading the docs)."""
        self._check_kind(kind)
        stmt = select(REFERENCE.c.id).where(REFERENCE.c.kind == kind).order_by(REFERENCE.c.id)
        with self._reading() as conn:
            return [str(item) for item in conn.scalars(stmt)]
