"""The cache's connection handling and its compiled SQL: the base of :class:`~console.store.Cache`.

Opening a transaction (reads in parallel, writes one at a time under a lock
and ``BEGIN IMMEDIATE``), and the bulk statements compiled once from the typed
tables (positional ``executemany`` text, checked against the column order).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Table, bindparam, literal_column, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import SQLAlchemyError

from console.store.codec import (
    INCIDENT_COLUMNS,
    MARKING_KINDS_SQL,
    MARKS_SQL,
    OPEN_STATE_VALUES,
    TIMELINE_COLUMNS,
    metric_sql,
)
from console.store.errors import CacheError
from console.store.opening import WRITE_OPTION, describe
from console.store.tables import INCIDENTS, REFERENCE, TIMELINE

# SQLite's historical limit is 999 bound parameters per statement; stay under it.
_CHUNK = 900

_T = TypeVar("_T")


def _chunks(items: Iterable[_T], size: int = _CHUNK) -> Iterator[list[_T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _upsert_sql(
    table_columns: tuple[str, ...],
    table: Table,
    conflict: tuple[str, ...],
    only_if_newer: bool,
    derived: Callable[[Callable[[str], str]], dict[str, str]] | None = None,
) -> str:
    """Compile one single-row ``INSERT ... ON CONFLICT DO UPDATE`` for ``executemany``.

    SQLAlchemy builds the statement from the typed table; the bulk paths run
    the compiled text with positional tuples, which skips per-row dict
    processing (about a third of the time at 100k rows). The check below makes
    sure the placeholders are in the order the row tuples are built in.
    """
    # The columns named, not the table's: the metrics' timeline marks on
    # incidents are kept by their own statements and never overwritten.
    values: dict[str, Any] = {c: bindparam(c) for c in table_columns}
    if derived is not None:
        # Computed by SQLite from the row's own parameters, after every plain
        # "?": "?9" is the ninth, whatever follows.
        number = {name: f"?{k}" for k, name in enumerate(table_columns, start=1)}
        values |= {c: literal_column(sql) for c, sql in derived(number.__getitem__).items()}
    stmt = sqlite.insert(table).values(values)
    updates = {c: stmt.excluded[c] for c in values if c not in conflict}
    if only_if_newer:
        upsert = stmt.on_conflict_do_update(
            index_elements=list(conflict),
            set_=updates,
            where=stmt.excluded.version > table.c.version,
        )
    else:
        upsert = stmt.on_conflict_do_update(index_elements=list(conflict), set_=updates)
    compiled = upsert.compile(dialect=sqlite.dialect())
    if tuple(compiled.positiontup or ()) != table_columns:
        raise RuntimeError(f"upsert placeholders for {table.name} are not in column order")
    return str(compiled)


# Incidents from the backend: a row whose version is not newer is left alone.
_INCIDENT_UPSERT = _upsert_sql(
    INCIDENT_COLUMNS, INCIDENTS, ("id",), only_if_newer=True, derived=metric_sql
)
# The operator's own edit (enqueue): written whatever its version.
_INCIDENT_WRITE = _upsert_sql(
    INCIDENT_COLUMNS, INCIDENTS, ("id",), only_if_newer=False, derived=metric_sql
)
_TIMELINE_UPSERT = _upsert_sql(TIMELINE_COLUMNS, TIMELINE, ("id",), only_if_newer=False)
_REFERENCE_UPSERT = _upsert_sql(
    ("kind", "id", "doc"), REFERENCE, ("kind", "id"), only_if_newer=False
)


def _remark(conn: Connection, incident_ids: Iterable[str], *, arrived: bool = False) -> None:
    """Derive the metrics' marks of these incidents again from their cached timelines.

    ``arrived``: the incidents were just stored; only those whose marking
    events were cached before them are written.
    """
    having = (
        " AND EXISTS (SELECT 1 FROM timeline WHERE incident_id = incidents.id "
        f"AND kind IN ({MARKING_KINDS_SQL}))"
        if arrived
        else ""
    )
    for chunk in _chunks(sorted(set(incident_ids))):
        marks = ", ".join("?" * len(chunk))
        conn.exec_driver_sql(
            f"UPDATE incidents SET (escalated, reopened, csat) = ({MARKS_SQL}) "
            f"WHERE id IN ({marks}){having}",
            tuple(chunk),
        )


def _select_incidents(*, open_only: bool, descriptions: bool) -> str:
    """The SQL reading incidents in INCIDENT_COLUMNS order (descriptions as '' when left out)."""
    columns = [
        INCIDENTS.c[name]
        if descriptions or name != "description"
        else literal_column("''").label("description")
        for name in INCIDENT_COLUMNS
    ]
    stmt = select(*columns)
    if open_only:
        stmt = stmt.where(INCIDENTS.c.state.in_(OPEN_STATE_VALUES))
    # The open states are fixed enum values, safe to inline as literals.
    return str(stmt.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))


_SELECT_INCIDENTS = {
    (open_only, descriptions): _select_incidents(open_only=open_only, descriptions=descriptions)
    for open_only in (False, True)
    for descriptions in (False, True)
}


class _CacheBase:
    """The connections and transactions every part of the cache uses."""

    path: Path
    notices: list[str]

    def __init__(self, path: Path, engine: Engine, notices: list[str]) -> None:
        """Internal: ``Cache.open`` builds caches."""
        self.path = path
        self.notices = notices
        self._engine = engine
        self._writer = engine.execution_options(**{WRITE_OPTION: True})
        self._write_lock = threading.Lock()
        self._closed = False

    # -------------------------------------------------------------- transactions

    def _check_open(self) -> None:
        if self._closed:
            raise CacheError(f"the cache {self.path} is closed")

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        self._check_open()
        try:
            with self._engine.connect() as conn:
                yield conn
        except (SQLAlchemyError, sqlite3.Error) as exc:
            raise CacheError(f"reading the cache {self.path} failed: {describe(exc)}") from exc

    @contextmanager
    def _writing(self, what: str) -> Iterator[Connection]:
        """One write transaction, serialised with every other write to this cache."""
        with self._write_lock:
            self._check_open()
            try:
                with self._writer.begin() as conn:
                    yield conn
            except SQLAlchemyError as exc:
                raise CacheError(f"{what} failed and nothing was changed: {describe(exc)}") from exc
