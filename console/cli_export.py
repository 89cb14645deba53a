"""``noc-console export incidents``: print the cached incidents as JSON or CSV.

Every field the board shows (severity with its label, number, title, service,
state, assignee, the running SLA clock) plus every field of the record
(impact, urgency, the SLA due times, timestamps …), in the board's triage
order: open work first, then by severity, then by the next due time. Names
from the reference data (service, assignee, team) are given beside the ids.

Reads only the local cache (sync it first with ``noc-console sync --once``);
nothing is sent anywhere.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

from console import paths
from console.domain.errors import DomainError
from console.domain.incident import Incident
from console.domain.lifecycle import State
from console.domain.sla import SlaPolicy, SlaReading, SlaStatus
from console.settings import SettingsError, load_settings, settings_path
from console.store import Cache, CacheError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

STATE_CHOICES = ("open", "all", *(s.value for s in State))

# Column order of the CSV (and key order of the JSON objects).
FIELDS: tuple[str, ...] = (
    "number",
    "severity",
    "severity_label",
    "title",
    "service",
    "service_name",
    "state",
    "state_label",
    "hold_reason",
    "assignee",
    "assignee_name",
    "assignment_group",
    "assignment_group_name",
    "sla_clock",
    "sla_status",
    "sla_due",
    "sla_remaining_minutes",
    "response_due",
    "resolution_due",
    "impact",
    "urgency",
    "major",
    "category",
    "subcategory",
    "reporter",
    "source",
    "opened_at",
    "acknowledged_at",
    "resolved_at",
    "closed_at",
    "updated_at",
    "version",
    "id",
    "description",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``noc-console export``."""
    parser.add_argument("what", choices=["incidents"], help="what to export")
    parser.add_argument(
        "--format", choices=["json", "csv"], default="json", help="output format (default json)"
    )
    parser.add_argument(
        "--state",
        choices=STATE_CHOICES,
        default="all",
        metavar="STATE",
        help="open, all (default), or one lifecycle state: " + ", ".join(s.value for s in State),
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="folder of the local cache (default: the user data folder)",
    )
    parser.add_argument(
        "--config-dir",
        metavar="DIR",
        help="folder of settings.toml, for the SLA calendar (default: the user config folder)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="export the demo's made-up incidents (its own folder; said on stderr)",
    )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _names(items: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    return {str(i["id"]): str(i.get("name") or i["id"]) for i in items if "id" in i}


def incident_record(
    incident: Incident,
    reading: SlaReading,
    names: Mapping[str, Mapping[str, str]],
) -> dict[str, Any]:
    """One exported row: the board's fields and the record's, as JSON values."""
    remaining = int(reading.remaining.total_seconds() // 60)
    running = reading.status not in (SlaStatus.MET,) and reading.stopped_at is None
    return {
        "number": incident.number,
        "severity": incident.severity.code,
        "severity_label": incident.severity.label,
        "title": incident.title,
        "service": incident.service,
        "service_name": names["services"].get(incident.service, incident.service),
        "state": incident.state.value,
        "state_label": incident.state.label,
        "hold_reason": incident.hold_reason.value if incident.hold_reason else None,
        "assignee": incident.assignee,
        "assignee_name": names["people"].get(incident.assignee, incident.assignee)
        if incident.assignee
        else None,
        "assignment_group": incident.assignment_group,
        "assignment_group_name": names["teams"].get(
            incident.assignment_group, incident.assignment_group
        )
        if incident.assignment_group
        else None,
        "sla_clock": reading.kind,
        "sla_status": reading.status.value,
        "sla_due": _iso(reading.due),
        "sla_remaining_minutes": remaining if running else None,
        "response_due": _iso(incident.response_due),
        "resolution_due": _iso(incident.resolution_due),
        "impact": incident.impact.value,
        "urgency": incident.urgency.value,
        "major": incident.major,
        "category": incident.category,
        "subcategory": incident.subcategory,
        "reporter": incident.reporter,
        "source": incident.source.value,
        "opened_at": _iso(incident.opened_at),
        "acknowledged_at": _iso(incident.acknowledged_at),
        "resolved_at": _iso(incident.resolved_at),
        "closed_at": _iso(incident.closed_at),
        "updated_at": _iso(incident.updated_at),
        "version": incident.version,
        "id": incident.id,
        "description": incident.description,
    }


def _triage_key(incident: Incident, reading: SlaReading) -> tuple[int, int, float, str]:
    # The board's order (models/incident_table.sort_key), computed here
    # without Qt: open first, severity, next due; finished work newest first.
    if incident.is_open:
        return (0, incident.severity.value, reading.due.timestamp(), incident.id)
    return (1, incident.severity.value, -incident.updated_at.timestamp(), incident.id)


def export_rows(cache: Cache, policy: SlaPolicy, state: str, now: datetime) -> list[dict[str, Any]]:
    """The cached incidents matching ``state`` (open, all or a state value), in board order."""
    incidents = cache.incidents(open_only=state == "open")
    if state not in ("open", "all"):
        wanted = State.of(state)
        incidents = [i for i in incidents if i.state is wanted]
    names = {
        "services": _names(cache.reference("services")),
        "people": _names(cache.reference("contacts")),
        "teams": _names(cache.reference("teams")),
    }
    readings = [(incident, policy.current(incident, now)) for incident in incidents]
    readings.sort(key=lambda pair: _triage_key(*pair))
    return [incident_record(incident, reading, names) for incident, reading in readings]


def write_rows(rows: list[dict[str, Any]], fmt: str, out: TextIO) -> None:
    """Print rows as a JSON array or as CSV with a header line."""
    if fmt == "json":
        json.dump(rows, out, ensure_ascii=False, indent=2)
        out.write("\n")
        return
    writer = csv.DictWriter(out, fieldnames=list(FIELDS), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})


def run(args: argparse.Namespace) -> int:
    """Export; 0 on success, 2 when the cache or settings cannot be used."""
    try:
        settings = load_settings(settings_path(args.config_dir))
        policy = SlaPolicy.default(settings.sla_calendar)
    except (SettingsError, DomainError) as exc:
        print(f"noc-console export: {exc}", file=sys.stderr)
        return EXIT_USAGE
    demo = bool(getattr(args, "demo", False))
    folder = paths.demo_data_dir(args.data_dir) if demo else paths.data_dir(args.data_dir)
    path = folder / "cache.db"
    if demo:
        print("noc-console export: DEMO data: made-up incidents, not a real queue", file=sys.stderr)
    if not path.exists():
        print(
            f"noc-console export: there is no local cache at {path} yet; "
            "run `noc-console sync --once` (or the console) first",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        with Cache.open(path) as cache:
            rows = export_rows(cache, policy, args.state, datetime.now(UTC))
    except CacheError as exc:
        print(f"noc-console export: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        write_rows(rows, args.format, sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        return EXIT_OK  # piped into `head`: fine
    return EXIT_OK
