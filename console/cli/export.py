"""``noc-console export incidents|timeline|pir``: print the cached incidents, or their
timelines, as JSON or CSV; or one post-incident review as Markdown, PDF or JSON
(``console.cli.export_pir``).

Every field the board shows (severity with its label, number, title, service,
state, assignee, the running SLA clock) plus every field of the record
(impact, urgency, the SLA due times, timestamps …), in the board's triage
order: open work first, then by severity, then by the next due time. Names
from the reference data (service, assignee, team) are given beside the ids.

``export timeline`` prints every timeline entry the cache holds for each
incident (``--incident ID`` for one; ``--state`` picks the incidents as above),
incident by incident and oldest first within one: the kind, the time, the
author and the text, so an incident's history can be archived or handed to a
review.

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

from console.config import paths
from console.config.settings import SettingsError, load_settings, settings_path
from console.domain.errors import DomainError
from console.domain.incident import Incident, TimelineEvent
from console.domain.lifecycle import State
from console.domain.sla import SlaPolicy, SlaReading, SlaStatus
from console.domain.textsafe import csv_cell
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

# Column order of ``export timeline``'s CSV (and key order of its JSON objects).
TIMELINE_FIELDS: tuple[str, ...] = (
    "incident",
    "incident_id",
    "incident_title",
    "at",
    "kind",
    "kind_label",
    "author",
    "text",
    "entry_id",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``noc-console export``."""
    parser.add_argument(
        "what",
        choices=["incidents", "timeline", "pir"],
        help="incidents, the timeline entries of each incident, or one post-incident review",
    )
    parser.add_argument(
        "--format",
        choices=["json", "csv", "md", "pdf"],
        default="json",
        help="json (default) or csv; for pir: md, pdf or json",
    )
    parser.add_argument(
        "--output", metavar="FILE", help="pir: write to FILE (required for pdf) instead of stdout"
    )
    parser.add_argument(
        "--state",
        choices=STATE_CHOICES,
        default="all",
        metavar="STATE",
        help="open, all (default), or one lifecycle state: " + ", ".join(s.value for s in State),
    )
    parser.add_argument(
        "--incident",
        metavar="ID",
        help="timeline: only this incident (its number, e.g. INC-000042 or RT-123, or its id)",
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


def timeline_record(incident: Incident, event: TimelineEvent) -> dict[str, Any]:
    """One exported timeline entry, as JSON values."""
    return {
        "incident": incident.number,
        "incident_id": incident.id,
        "incident_title": incident.title,
        "at": _iso(event.at),
        "kind": event.kind.value,
        "kind_label": event.kind.label,
        "author": event.author,
        "text": event.body,
        "entry_id": event.id,
    }


class UnknownIncident(LookupError):
    """``--incident`` names no cached incident; the message says so."""


def find_incident(cache: Cache, ref: str) -> Incident:
    """The cached incident ``ref`` names: its number (any case) or its id."""
    wanted = ref.strip().lower()
    for incident in cache.incidents(descriptions=False):
        if wanted in (incident.number.lower(), incident.id.lower()):
            return incident
    raise UnknownIncident(
        f"no cached incident is {ref!r}; `noc-console export incidents` lists the cached ones "
        "(sync first with `noc-console sync --once` if it is new)"
    )


def timeline_rows(
    cache: Cache, policy: SlaPolicy, state: str, now: datetime, incident: str | None = None
) -> list[dict[str, Any]]:
    """Every cached timeline entry of the incidents chosen: one (``incident``) or those
    matching ``state``, in board order; within an incident oldest first."""
    if incident is not None:
        chosen = [find_incident(cache, incident)]
    else:
        ordered = [row["id"] for row in export_rows(cache, policy, state, now)]
        by_id = {i.id: i for i in cache.incidents(descriptions=False)}
        chosen = [by_id[i] for i in ordered if i in by_id]
    return [timeline_record(i, event) for i in chosen for event in cache.timeline(i.id)]


def write_rows(
    rows: list[dict[str, Any]], fmt: str, out: TextIO, fields: Iterable[str] = FIELDS
) -> None:
    """Print rows as a JSON array or as CSV with a header line (``fields``, in order).

    Every export goes through here: CSV cells are neutralised against formula
    and escape injection (:func:`console.domain.textsafe.csv_cell`), and JSON keeps
    no raw control or bidi character (they are written as ``\\u`` escapes,
    the same text to a JSON reader, inert on a terminal).
    """
    if fmt == "json":
        out.write(json_safe(json.dumps(rows, ensure_ascii=False, indent=2)))
        out.write("\n")
        return
    writer = csv.DictWriter(out, fieldnames=list(fields), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: csv_cell(v) for k, v in row.items()})


def json_safe(text: str) -> str:
    """JSON text with control and bidi characters inside strings written as ``\\uXXXX``."""
    if text.isprintable():
        return text
    return "".join(
        f"\\u{ord(char):04x}" if char not in "\n " and not char.isprintable() else char
        for char in text
    )


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
    if args.what == "pir":
        # Loaded by name: the PDF is laid out by Qt, which this module never imports.
        import importlib

        return int(importlib.import_module("console.cli.export_pir").run(args, path))
    if args.format in ("md", "pdf"):
        print(f"noc-console export: --format {args.format} goes with `export pir`", file=sys.stderr)
        return EXIT_USAGE
    incident = getattr(args, "incident", None)
    if incident is not None and args.what not in ("timeline", "pir"):
        print("noc-console export: --incident goes with `export timeline`", file=sys.stderr)
        return EXIT_USAGE
    now = datetime.now(UTC)
    try:
        with Cache.open(path) as cache:
            if args.what == "timeline":
                rows = timeline_rows(cache, policy, args.state, now, incident)
            else:
                rows = export_rows(cache, policy, args.state, now)
    except UnknownIncident as exc:
        print(f"noc-console export: {exc.args[0]}", file=sys.stderr)
        return EXIT_USAGE
    except CacheError as exc:
        print(f"noc-console export: {exc}", file=sys.stderr)
        return EXIT_USAGE
    fields = TIMELINE_FIELDS if args.what == "timeline" else FIELDS
    try:
        write_rows(rows, args.format, sys.stdout, fields=fields)
        sys.stdout.flush()
    except BrokenPipeError:
        return EXIT_OK  # piped into `head`: fine
    return EXIT_OK
