"""Upgrading a server database made by an older server, in place, when it is opened.

``Database`` runs :func:`upgrade` inside the transaction that creates the
tables (on PostgreSQL under the DDL lock, so several servers starting
together upgrade once). Each step takes the schema from its version to the
next; a new database is created at the newest version and needs none.

* **2** (#21) — the columns the metrics read on ``incidents``: ``opened_s``,
  ``ack_s``, ``fix_s`` (whole UTC seconds), ``response_met``,
  ``resolution_met`` (as the writer's ``store_incident`` sets them) and
  ``escalated``, ``reopened``, ``csat``, ``csat_at``
  (:func:`console.domain.metrics.entry_marks` over each timeline, as the
  writer's ``note_entries`` keeps them). Derived here in SQL from the stored
  rows: about a minute for a million incidents on either database.
"""

from __future__ import annotations

import logging
import sqlite3

from sqlalchemy import Connection, text

from console.server.core.tables import IncidentRow

log = logging.getLogger(__name__)

_METRIC_COLUMNS = (
    "opened_s", "ack_s", "fix_s", "response_met", "resolution_met",
    "escalated", "reopened", "csat", "csat_at",
)  # fmt: skip


def _epoch(column: str, dialect: str) -> str:
    """Whole UTC seconds of a timestamp column (the fraction cut, never rounded up)."""
    if dialect == "postgresql":
        return f"CAST(date_part('epoch', date_trunc('second', {column})) AS BIGINT)"
    if sqlite3.sqlite_version_info >= (3, 38):
        return f"unixepoch(substr({column}, 1, 19))"
    return f"CAST(strftime('%s', substr({column}, 1, 19)) AS INTEGER)"


def _met(done: str, due: str) -> str:
    return (
        f"CASE WHEN {done} IS NULL OR {due} IS NULL THEN NULL "
        f"WHEN {done} <= {due} THEN 1 ELSE 0 END"
    )


def _json_text(column: str, path: tuple[str, ...], dialect: str) -> str:
    if dialect == "postgresql":
        steps = "".join(f" -> '{p}'" for p in path[:-1])
        return f"({column}{steps} ->> '{path[-1]}')"
    return f"json_extract({column}, '$.{'.'.join(path)}')"


def _v2_metric_columns(conn: Connection) -> None:
    dialect = conn.dialect.name
    table = IncidentRow.__table__
    for name in _METRIC_COLUMNS:
        column = table.c[name]
        ddl = f"ALTER TABLE incidents ADD COLUMN {name} {column.type.compile(conn.dialect)}"
        if column.server_default is not None:
            ddl += " NOT NULL DEFAULT 0"
        conn.exec_driver_sql(ddl)
    opened = _epoch("opened_at", dialect)
    conn.exec_driver_sql(
        f"UPDATE incidents SET opened_s = {opened}, "
        f"ack_s = {_epoch('acknowledged_at', dialect)} - {opened}, "
        f"fix_s = {_epoch('resolved_at', dialect)} - {opened}, "
        f"response_met = {_met('acknowledged_at', 'response_due')}, "
        f"resolution_met = {_met('resolved_at', 'resolution_due')}"
    )
    moved_from = _json_text("data", ("assignment_group", "from"), dialect)
    conn.exec_driver_sql(
        "UPDATE incidents SET escalated = 1 WHERE id IN (SELECT incident_id FROM timeline "
        f"WHERE kind = 'escalation' OR (kind = 'assignment' AND {moved_from} IS NOT NULL))"
    )
    conn.exec_driver_sql(
        "UPDATE incidents SET reopened = 1 WHERE id IN (SELECT incident_id FROM timeline "
        f"WHERE kind = 'state_change' AND {_json_text('data', ('to',), dialect)} = 'reopened')"
    )
    score = f"CAST({_json_text('t.data', ('score',), dialect)} AS INTEGER)"
    conn.exec_driver_sql(
        f"UPDATE incidents SET (csat, csat_at) = (SELECT {score}, t.at FROM timeline t "
        "WHERE t.incident_id = incidents.id AND t.kind = 'csat' "
        f"ORDER BY t.at DESC, {score} DESC LIMIT 1) "
        "WHERE id IN (SELECT incident_id FROM timeline WHERE kind = 'csat')"
    )


# version -> the step that makes it from the one before.
_STEPS = {2: _v2_metric_columns}


def upgrade(conn: Connection, stored: int, target: int) -> None:
    """Run the steps from ``stored`` up to ``target`` (both schema versions)."""
    for version in range(stored + 1, target + 1):
        log.info("upgrading the database to schema version %d", version)
        _STEPS[version](conn)
    if stored < target:
        conn.execute(
            text("UPDATE server_meta SET value = :v WHERE key = 'schema_version'"),
            {"v": str(target)},
        )
