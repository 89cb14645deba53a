"""The demo NOC: services, teams, contacts, categories, on-call rotations,
escalation policies, known errors and ~200 incidents.

``load_demo(cache, now)`` reads ``resources/demo/*.json``, checks every record
and writes all of it into the local cache in one transaction. The incidents'
timestamps are stored as "minutes ago", so whenever the demo is loaded some
incidents are fresh, some close to their SLA deadline and some past it.

On-call rotations (``rotations.json``) start on fixed dates in January 2025,
long enough ago that every rota is running whenever the demo is loaded. Their
overrides are stored relative to the load, like the incidents: a cover says
when it starts (``starts_in_minutes``, negative for "already started") and how
long it lasts (``duration_minutes``); a swap names two rota weeks counted from
the week holding the pager at load time (``weeks_from_now``: ``[0, 1]`` swaps
this week's holder with next week's). The loader turns both into the wire's
absolute overrides, so there is always a cover and a swap in force around "now".
Rotations and escalation policies (``policies.json``) go through the wire
models (:class:`~console.wire.OnCallRotationIn`,
:class:`~console.wire.EscalationPolicyIn`) and the domain's own checks, so the
demo obeys exactly the rules the server enforces.

Known errors (``known_errors.json``) go through the wire model
(:class:`~console.wire.KnownErrorIn`); the services and category they name must
exist. The demo console acts as a commander (the data is made up and stays
local), so every part of the triage, the severity override included, can be
tried; :func:`load_demo` records that caller in the cache.

Everything is validated before anything is written: a typo in any file gives a
:class:`DemoDataError` naming the file, the record, the field and the allowed
values, and leaves the cache as it was.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ValidationError

from console.config.resources import resource_path
from console.connectors.base import Caller
from console.domain.errors import DomainError, InvalidValue
from console.domain.incident import (
    HoldPeriod,
    Incident,
    Source,
    TimelineEvent,
    TimelineKind,
    format_number,
    require_aware,
)
from console.domain.lifecycle import HoldReason, State
from console.domain.oncall import NotScheduledError, Rotation, swap_weeks
from console.domain.phones import InvalidPhone, parse_phone
from console.domain.severity import DEFAULT_MATRIX, Impact, PriorityMatrix, Severity, Urgency
from console.domain.sla import SlaPolicy
from console.wire import (
    EscalationPolicyIn,
    KnownErrorIn,
    OnCallRotationIn,
    policy_to_domain,
    rotation_to_domain,
)

if TYPE_CHECKING:
    # Only for the annotation: the caller opens the cache, this module never does.
    from console.store import Cache

BACKEND = "demo"
"""The backend name the demo's rows are written under in the cache."""

SYSTEM_AUTHOR = "noc-console"
"""Author of timeline entries the console writes by itself (escalations, auto-close)."""

TEAM_TIERS = ("L1", "L2", "L3")
CRITICALITIES = ("critical", "high", "medium", "low")
FILES = (
    "teams.json",
    "services.json",
    "categories.json",
    "contacts.json",
    "rotations.json",
    "policies.json",
    "known_errors.json",
    "incidents.json",
)

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_T = TypeVar("_T")
_M = TypeVar("_M", bound=BaseModel)


class DemoDataError(ValueError):
    """A demo file is unreadable or a record in it breaks the rules.

    The message names the file, the record (index and id), the field and what
    is allowed, e.g. ``demo data incidents.json[17] (id demo-4118), field
    'impact': 'hihg' is not allowed; allowed: high, medium, low``.
    """

    def __init__(
        self,
        file: str,
        problem: str,
        *,
        index: int | None = None,
        record_id: str | None = None,
        field: str | None = None,
        allowed: Sequence[str] = (),
    ) -> None:
        self.file = file
        self.index = index
        self.record_id = record_id
        self.field = field
        self.allowed = tuple(allowed)
        where = f"demo data {file}"
        if index is not None:
            # As a JSON path: the record's position in the file's list, from 0.
            where += f"[{index}]"
            if record_id:
                where += f" (id {record_id})"
        if field:
            where += f", field '{field}'"
        message = f"{where}: {problem}"
        if self.allowed:
            message += "; allowed: " + ", ".join(self.allowed)
        super().__init__(message)


@dataclass(frozen=True)
class DemoData:
    """The whole demo set, validated and converted, ready to be written."""

    incidents: tuple[Incident, ...]
    timeline: tuple[TimelineEvent, ...]
    reference: Mapping[str, tuple[dict[str, Any], ...]]
    escalation: Mapping[str, tuple[dict[str, Any], ...]] = field(default_factory=dict)
    """The escalation matrix: cache kinds ``shifts`` (rotations) and ``policies``."""


@dataclass(frozen=True)
class DemoSummary:
    """What ``load_demo`` wrote, for the status bar and the tests."""

    incidents: int
    timeline: int
    reference: Mapping[str, int] = field(default_factory=dict)
    escalation: Mapping[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        parts = [f"{self.incidents} incidents"]
        parts += [f"{count} {_SUMMARY_NAMES.get(k, k)}" for k, count in self.reference.items()]
        parts += [f"{count} {_SUMMARY_NAMES.get(k, k)}" for k, count in self.escalation.items()]
        return "Demo loaded: " + ", ".join(parts)


_SUMMARY_NAMES = {
    "shifts": "on-call rotations",
    "policies": "escalation policies",
    "known_errors": "known errors",
}


def demo_root() -> Path:
    """The shipped demo folder (checkout, wheel or bundle)."""
    return resource_path("demo")


def load_demo(
    cache: Cache,
    now: datetime,
    *,
    root: Path | None = None,
    policy: SlaPolicy | None = None,
    matrix: PriorityMatrix = DEFAULT_MATRIX,
    operator: str | None = None,
) -> DemoSummary:
    """Validate the demo set in ``root`` (default: the shipped one) and write it to ``cache``.

    All records are checked before anything is written, so a broken file
    raises :class:`DemoDataError` and leaves the cache unchanged. The
    console then acts as ``operator`` (default ``demo``) with the commander
    role (:meth:`~console.sync.edits.LocalEdits.caller`).
    """
    # Imported here: reading the demo (read_demo) needs no cache machinery.
    from console.sync.edits import store_caller

    data = read_demo(now, root=root, policy=policy, matrix=matrix)
    # Each load re-dates the demo to "now": the earlier copy goes first, since
    # the cache keeps a stored incident over one that is not a newer version.
    cache.delete_incidents(incident.id for incident in data.incidents)
    # Reviews and problems (issue #20), built from the incidents just read.
    from console.services.demo import reviews as demo_reviews

    after = demo_reviews.build(data.incidents, data.timeline, data.reference["contacts"], now)
    reference = {**data.reference, **data.escalation}
    reference["known_errors"] = (*reference["known_errors"], *after["known_errors"])
    reference["pirs"] = tuple(after["pirs"])
    reference["problems"] = tuple(after["problems"])
    cache.apply_changes(
        BACKEND,
        incidents=data.incidents,
        timeline=data.timeline,
        reference=reference,
        cursor=0,
    )
    store_caller(cache, BACKEND, demo_caller(operator))
    return DemoSummary(
        incidents=len(data.incidents),
        timeline=len(data.timeline),
        reference={kind: len(items) for kind, items in data.reference.items()},
        escalation={kind: len(items) for kind, items in data.escalation.items()},
    )


def demo_caller(operator: str | None = None) -> Caller:
    """Who the demo console acts as: the operator (or ``demo``), as a commander."""
    name = operator.strip() if isinstance(operator, str) else ""
    return Caller(name=name or "demo", role="commander")


def read_demo(
    now: datetime,
    *,
    root: Path | None = None,
    policy: SlaPolicy | None = None,
    matrix: PriorityMatrix = DEFAULT_MATRIX,
) -> DemoData:
    """Read and validate every demo file; no I/O beyond reading ``root``."""
    require_aware("now", now)
    if policy is None:
        policy = SlaPolicy.default()
    folder = root if root is not None else demo_root()
    teams = [_team(r) for r in _records(folder, "teams.json")]
    team_ids = _unique_ids("teams.json", teams)
    services = [_service(r, team_ids) for r in _records(folder, "services.json")]
    service_ids = _unique_ids("services.json", services)
    categories = [_category(r) for r in _records(folder, "categories.json")]
    category_ids = _unique_ids("categories.json", categories)
    subcategories = {c["id"]: [s["id"] for s in c["subcategories"]] for c in categories}
    known_errors = [
        _known_error(r, service_ids, category_ids) for r in _records(folder, "known_errors.json")
    ]
    _unique_ids("known_errors.json", known_errors)
    contacts = [_contact(r, team_ids) for r in _records(folder, "contacts.json")]
    contact_ids = _unique_ids("contacts.json", contacts)
    rotations = [
        _rotation(r, now, team_ids, contact_ids) for r in _records(folder, "rotations.json")
    ]
    rotation_ids = _unique_ids("rotations.json", rotations)
    refs = _EscalationRefs(service_ids, team_ids, contact_ids, rotation_ids)
    policies = [_policy(r, refs) for r in _records(folder, "policies.json")]
    _unique_ids("policies.json", policies)
    _one_policy_per_service(policies)
    context = _IncidentContext(
        now=now,
        policy=policy,
        matrix=matrix,
        services=service_ids,
        teams=team_ids,
        contacts=contact_ids,
        subcategories=subcategories,
    )
    incidents: list[Incident] = []
    timeline: list[TimelineEvent] = []
    numbers: dict[str, int] = {}
    for record in _records(folder, "incidents.json"):
        incident, events = _incident(record, context)
        if incident.number in numbers:
            raise DemoDataError(
                record.file,
                f"{incident.number} is already used by [{numbers[incident.number]}]",
                index=record.index,
                record_id=incident.id,
                field="number",
                allowed=["a number no other incident has"],
            )
        numbers[incident.number] = record.index
        incidents.append(incident)
        timeline.extend(events)
    _unique_ids("incidents.json", [{"id": i.id} for i in incidents])
    return DemoData(
        incidents=tuple(incidents),
        timeline=tuple(timeline),
        reference={
            "teams": tuple(teams),
            "services": tuple(services),
            "categories": tuple(categories),
            "contacts": tuple(contacts),
            "known_errors": tuple(known_errors),
        },
        escalation={"shifts": tuple(rotations), "policies": tuple(policies)},
    )


# ------------------------------------------------------------------ records


class _Record:
    """One JSON object from a demo file, with readers that fail with a precise message."""

    def __init__(
        self,
        file: str,
        index: int,
        raw: object,
        fields: Iterable[str],
        required: Iterable[str],
    ) -> None:
        self.file = file
        self.index = index
        self.fields = tuple(fields)
        if not isinstance(raw, dict):
            raise DemoDataError(
                file, f"expected an object, found {type(raw).__name__}", index=index
            )
        self.raw: dict[str, Any] = raw
        record_id = raw.get("id")
        self.id = record_id if isinstance(record_id, str) else None
        for key in raw:
            if key not in self.fields:
                # The usual typo: a misspelt field name silently dropped would
                # leave the demo subtly wrong, so name it and the real ones.
                raise self.error(key, "unknown field", self.fields)
        for key in required:
            if key not in raw or raw[key] is None:
                raise self.error(key, "missing", [_FIELD_HINTS.get(key, "a value")])

    def error(self, name: str, problem: str, allowed: Sequence[str] = ()) -> DemoDataError:
        return DemoDataError(
            self.file, problem, index=self.index, record_id=self.id, field=name, allowed=allowed
        )

    def fail(self, name: str, problem: str, allowed: Sequence[str] = ()) -> NoReturn:
        raise self.error(name, problem, allowed)

    def has(self, name: str) -> bool:
        return self.raw.get(name) is not None

    def text(self, name: str, *, required: bool = True) -> str:
        value = self.raw.get(name)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.error(name, f"{value!r} is not text", ["non-empty text"])
        return value.strip()

    def choice(self, name: str, allowed: Sequence[str]) -> str:
        value = self.raw.get(name)
        if value not in allowed:
            raise self.error(name, f"{value!r} is not allowed", allowed)
        return str(value)

    def parsed(self, name: str, parse: Callable[[object], _T]) -> _T:
        """Parse with a domain ``of()``; its InvalidValue already knows the allowed values."""
        try:
            return parse(self.raw.get(name))
        except InvalidValue as exc:
            raise self.error(name, f"{exc.value!r} is not allowed", exc.allowed) from exc

    def ref(self, name: str, known: Sequence[str], *, required: bool = True) -> str | None:
        value = self.raw.get(name)
        if value is None and not required:
            return None
        if value not in known:
            raise self.error(name, f"{value!r} is not a known id", known)
        return str(value)

    def minutes(self, name: str, *, required: bool = True) -> int | None:
        value = self.raw.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self.error(name, f"{value!r} is not a number of minutes", ["a whole number ≥ 0"])
        return value

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.raw.get(name, default)
        if not isinstance(value, bool):
            raise self.error(name, f"{value!r} is not allowed", ["true", "false"])
        return value

    def items(self, name: str) -> list[Any]:
        value = self.raw.get(name, [])
        if not isinstance(value, list):
            raise self.error(name, f"{type(value).__name__} is not a list", ["a list"])
        return value


_FIELD_HINTS = {
    "id": "a unique id",
    "name": "a name",
    "title": "a short description of what is broken",
    "opened_minutes_ago": "minutes since the incident was opened",
    "minutes_ago": "minutes before now",
}


def _records(folder: Path, file: str) -> list[_Raw]:
    path = folder / file
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise DemoDataError(file, f"the file is missing from {folder}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DemoDataError(file, f"cannot read {path}: {exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DemoDataError(
            file, f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    if not isinstance(data, list):
        raise DemoDataError(file, "expected a list of records at the top level")
    return [_Raw(file, index, raw) for index, raw in enumerate(data)]


@dataclass(frozen=True)
class _Raw:
    """One not yet checked record and where it came from."""

    file: str
    index: int
    raw: object

    def read(self, fields: Iterable[str], required: Iterable[str]) -> _Record:
        return _Record(self.file, self.index, self.raw, fields, required)


def _unique_ids(file: str, records: Sequence[Mapping[str, Any]]) -> list[str]:
    seen: dict[str, int] = {}
    for index, record in enumerate(records):
        record_id = record["id"]
        if record_id in seen:
            raise DemoDataError(
                file,
                f"{record_id!r} is already used by [{seen[record_id]}]",
                index=index,
                record_id=record_id,
                field="id",
                allowed=["an id no other record in this file has"],
            )
        seen[record_id] = index
    return list(seen)


# ---------------------------------------------------------- reference data


def _team(raw: _Raw) -> dict[str, Any]:
    r = raw.read(("id", "name", "tier", "email", "description"), ("id", "name", "tier"))
    team = {"id": r.text("id"), "name": r.text("name"), "tier": r.choice("tier", TEAM_TIERS)}
    if r.has("email"):
        team["email"] = _email(r, "email")
    team["description"] = r.text("description", required=False)
    return team


def _service(raw: _Raw, teams: Sequence[str]) -> dict[str, Any]:
    r = raw.read(
        ("id", "name", "owner_team", "criticality", "description", "customer_facing"),
        ("id", "name", "owner_team", "criticality"),
    )
    return {
        "customer_facing": r.boolean("customer_facing"),
        "id": r.text("id"),
        "name": r.text("name"),
        "owner_team": r.ref("owner_team", teams),
        "criticality": r.choice("criticality", CRITICALITIES),
        "description": r.text("description", required=False),
    }


def _category(raw: _Raw) -> dict[str, Any]:
    r = raw.read(("id", "name", "subcategories"), ("id", "name", "subcategories"))
    subcategories = []
    seen: set[str] = set()
    for position, item in enumerate(r.items("subcategories")):
        where = f"subcategories[{position}]"
        if not isinstance(item, dict) or set(item) != {"id", "name"}:
            r.fail(where, f"{item!r} is not allowed", ['an object {"id": ..., "name": ...}'])
        sub_id, name = item["id"], item["name"]
        if not isinstance(sub_id, str) or not sub_id.strip() or sub_id in seen:
            r.fail(f"{where}.id", f"{sub_id!r} is empty or used twice", ["a unique id"])
        if not isinstance(name, str) or not name.strip():
            r.fail(f"{where}.name", f"{name!r} is not text", ["non-empty text"])
        seen.add(sub_id)
        subcategories.append({"id": sub_id, "name": name})
    if not subcategories:
        r.fail("subcategories", "the list is empty", ["at least one subcategory"])
    return {"id": r.text("id"), "name": r.text("name"), "subcategories": subcategories}


_KNOWN_ERROR_FIELDS = ("id", "title", "symptoms", "workaround", "services", "category", "article")


def _known_error(raw: _Raw, services: Sequence[str], categories: Sequence[str]) -> dict[str, Any]:
    """One known error as the wire's document; the services and category must exist."""
    r = raw.read(_KNOWN_ERROR_FIELDS, ("id", "title", "symptoms", "workaround"))
    known_id = r.text("id")
    for position, service in enumerate(r.items("services")):
        if service not in services:
            r.fail(f"services[{position}]", f"{service!r} is not a known service id", services)
    r.ref("category", categories, required=False)
    body = _wire(r, KnownErrorIn, {k: v for k, v in r.raw.items() if k != "id"})
    return {"id": known_id, **body.model_dump(mode="json")}


def _contact(raw: _Raw, teams: Sequence[str]) -> dict[str, Any]:
    r = raw.read(
        ("id", "name", "role", "team", "primary_phone", "alternate_phone", "email", "time_zone"),
        ("id", "name", "role", "team", "primary_phone", "email", "time_zone"),
    )
    contact = {
        "id": r.text("id"),
        "name": r.text("name"),
        "role": r.text("role"),
        "team": r.ref("team", teams),
        "primary_phone": _phone(r, "primary_phone"),
        "alternate_phone": _phone(r, "alternate_phone") if r.has("alternate_phone") else None,
        "email": _email(r, "email"),
        "time_zone": _time_zone(r, "time_zone"),
    }
    return contact


def _phone(r: _Record, name: str) -> str:
    """A phone number in international form, stored as E.164 (``+34612345678``).

    The same rules as the server and the CSV import (:func:`console.domain.phones.parse_phone`).
    """
    text = r.text(name)
    try:
        return parse_phone(text)
    except InvalidPhone as exc:
        hint = ["a valid phone number in international form, such as +34 612 345 678"]
        raise r.error(name, f"{text!r} is not a valid phone number: {exc.reason}", hint) from exc


def _email(r: _Record, name: str) -> str:
    text = r.text(name)
    if not _EMAIL_RE.match(text):
        r.fail(name, f"{text!r} is not an email address", ["an address such as ops@example.com"])
    return text


def _time_zone(r: _Record, name: str) -> str:
    text = r.text(name)
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise r.error(
            name,
            f"{text!r} is not a time zone",
            ["an IANA time zone such as Europe/Madrid or Asia/Tokyo"],
        ) from exc
    return text


# ------------------------------------------------- on-call and escalation

_ROTATION_FIELDS = (
    "id",
    "name",
    "team",
    "time_zone",
    "handoff_weekday",
    "handoff_time",
    "start",
    "members",
    "overrides",
)
_COVER_FIELDS = ("kind", "contact_id", "starts_in_minutes", "duration_minutes", "note")
_SWAP_FIELDS = ("kind", "weeks_from_now", "note")
_POLICY_FIELDS = (
    "id",
    "service",
    "tiers",
    "management",
    "communication",
    "response_trigger",
    "auto_escalate",
)


def _wire(r: _Record, model: type[_M], body: Mapping[str, Any]) -> _M:
    """Validate ``body`` with a wire model; the first error names its field as a JSON path."""
    try:
        return model.model_validate(dict(body))
    except ValidationError as exc:  # the first error is enough to find and fix the record
        first = exc.errors()[0]
        path = ""
        for part in first["loc"]:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        more = exc.error_count() - 1
        message = str(first["msg"]).removeprefix("Value error, ")
        problem = message + (f" (and {more} more problems)" if more > 0 else "")
        if not path:
            # A rule across fields (a model validator): its message names them.
            raise DemoDataError(r.file, problem, index=r.index, record_id=r.id) from exc
        r.fail(path, problem)


def _rotation(
    raw: _Raw, now: datetime, teams: Sequence[str], contacts: Sequence[str]
) -> dict[str, Any]:
    """One on-call rotation as the wire's document, its relative overrides made absolute."""
    r = raw.read(_ROTATION_FIELDS, ("id", "name", "team", "time_zone", "start", "members"))
    rotation_id = r.text("id")
    r.ref("team", teams)
    for position, member in enumerate(r.items("members")):
        if member not in contacts:
            r.fail(f"members[{position}]", f"{member!r} is not a known contact id", contacts)
    body = {k: v for k, v in r.raw.items() if k not in ("id", "overrides")}
    try:
        rotation, _ = rotation_to_domain(rotation_id, _wire(r, OnCallRotationIn, body))
    except InvalidValue as exc:
        raise r.error(exc.field, str(exc), exc.allowed) from exc
    overrides: list[dict[str, Any]] = []
    for position, item in enumerate(r.items("overrides")):
        overrides += _override(r, f"overrides[{position}]", item, rotation, now, contacts)
    checked = _wire(r, OnCallRotationIn, {**body, "overrides": overrides})
    try:
        rotation_to_domain(rotation_id, checked)
    except DomainError as exc:
        raise r.error("overrides", str(exc)) from exc
    return {"id": rotation_id, **checked.model_dump(mode="json")}


def _override(
    r: _Record,
    where: str,
    item: object,
    rotation: Rotation,
    now: datetime,
    contacts: Sequence[str],
) -> list[dict[str, Any]]:
    """A cover, or the two halves of a swap, as the wire's absolute overrides."""
    if not isinstance(item, dict) or item.get("kind") not in ("cover", "swap"):
        r.fail(f"{where}.kind", f"{item!r} is not allowed", ["cover", "swap"])
    fields = _COVER_FIELDS if item["kind"] == "cover" else _SWAP_FIELDS
    for key in item:
        if key not in fields:
            r.fail(f"{where}.{key}", "unknown field", fields)
    note = item.get("note", "")
    if not isinstance(note, str):
        r.fail(f"{where}.note", f"{note!r} is not text", ["text"])
    if item["kind"] == "cover":
        contact = item.get("contact_id")
        if contact not in contacts:
            r.fail(f"{where}.contact_id", f"{contact!r} is not a known contact id", contacts)
        starts, duration = item.get("starts_in_minutes"), item.get("duration_minutes")
        if not isinstance(starts, int) or isinstance(starts, bool):
            r.fail(
                f"{where}.starts_in_minutes",
                f"{starts!r} is not a number of minutes",
                ["minutes from the load, negative for a cover already running"],
            )
        if not isinstance(duration, int) or isinstance(duration, bool) or duration < 1:
            r.fail(
                f"{where}.duration_minutes",
                f"{duration!r} is not a number of minutes",
                ["a whole number ≥ 1"],
            )
        start = now + timedelta(minutes=starts)
        end = start + timedelta(minutes=duration)
        return [
            {
                "kind": "cover",
                "contact_id": contact,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "note": note,
            }
        ]
    weeks = item.get("weeks_from_now")
    if (
        not isinstance(weeks, list)
        or len(weeks) != 2
        or not all(isinstance(w, int) and not isinstance(w, bool) and w >= 0 for w in weeks)
        or weeks[0] == weeks[1]
    ):
        r.fail(
            f"{where}.weeks_from_now",
            f"{weeks!r} is not allowed",
            ["two different rota weeks counted from the current one, e.g. [0, 1]"],
        )
    try:
        current = rotation.week_of(now)
        if current < 0:
            raise NotScheduledError(f"rotation {rotation.id} has not started at the load time")
        first, second = (rotation.start + timedelta(days=7 * (current + w)) for w in weeks)
        halves = swap_weeks(rotation, first, second, note)
    except DomainError as exc:
        raise r.error(f"{where}.weeks_from_now", str(exc)) from exc
    return [
        {
            "kind": "swap",
            "contact_id": half.contact_id,
            "start": half.start.isoformat(),
            "end": half.end.isoformat(),
            "note": note,
        }
        for half in halves
    ]


@dataclass(frozen=True)
class _EscalationRefs:
    """The ids a policy may point at."""

    services: Sequence[str]
    teams: Sequence[str]
    contacts: Sequence[str]
    rotations: Sequence[str]


def _policy(raw: _Raw, refs: _EscalationRefs) -> dict[str, Any]:
    """One service's escalation policy as the wire's document, checked by the domain."""
    r = raw.read(_POLICY_FIELDS, ("id", "service", "tiers"))
    policy_id = r.text("id")
    r.ref("service", refs.services)
    policy = _wire(r, EscalationPolicyIn, {k: v for k, v in r.raw.items() if k != "id"})
    for position, tier in enumerate(policy.tiers):
        where = f"tiers[{position}]"
        if tier.team not in refs.teams:
            r.fail(f"{where}.team", f"{tier.team!r} is not a known team id", refs.teams)
        if tier.rotation_id is not None and tier.rotation_id not in refs.rotations:
            r.fail(
                f"{where}.rotation_id",
                f"{tier.rotation_id!r} is not a known rotation id",
                refs.rotations,
            )
        if tier.contact_id is not None and tier.contact_id not in refs.contacts:
            r.fail(
                f"{where}.contact_id",
                f"{tier.contact_id!r} is not a known contact id",
                refs.contacts,
            )
        if tier.rotation_id is None and tier.contact_id is None:
            r.fail(where, "names nobody to call", ["a rotation_id or a contact_id"])
    for position, rule in enumerate(policy.management):
        if rule.rotation_id is not None and rule.rotation_id not in refs.rotations:
            r.fail(
                f"management[{position}].rotation_id",
                f"{rule.rotation_id!r} is not a known rotation id",
                refs.rotations,
            )
    try:
        policy_to_domain(policy)
    except InvalidValue as exc:
        raise r.error(exc.field, str(exc), exc.allowed) from exc
    except DomainError as exc:
        raise r.error("tiers", str(exc)) from exc
    return {"id": policy_id, **policy.model_dump(mode="json")}


def _one_policy_per_service(policies: Sequence[Mapping[str, Any]]) -> None:
    """A service with two policies would page two different chains: refuse it."""
    seen: dict[str, int] = {}
    for index, policy in enumerate(policies):
        service = policy["service"]
        if service in seen:
            raise DemoDataError(
                "policies.json",
                f"service {service!r} already has the policy at [{seen[service]}]",
                index=index,
                record_id=policy["id"],
                field="service",
                allowed=["one policy per service"],
            )
        seen[service] = index


# ----------------------------------------------------------------- incidents


@dataclass(frozen=True)
class _IncidentContext:
    now: datetime
    policy: SlaPolicy
    matrix: PriorityMatrix
    services: Sequence[str]
    teams: Sequence[str]
    contacts: Sequence[str]
    subcategories: Mapping[str, Sequence[str]]


_INCIDENT_FIELDS = (
    "id",
    "number",
    "title",
    "description",
    "service",
    "category",
    "subcategory",
    "impact",
    "urgency",
    "severity",
    "state",
    "source",
    "major",
    "reporter",
    "assignee",
    "assignment_group",
    "opened_minutes_ago",
    "acknowledged_minutes_ago",
    "resolved_minutes_ago",
    "closed_minutes_ago",
    "updated_minutes_ago",
    "hold_reason",
    "holds",
    "timeline",
)
_INCIDENT_REQUIRED = (
    "id",
    "number",
    "title",
    "service",
    "impact",
    "urgency",
    "state",
    "opened_minutes_ago",
)
_EVENT_FIELDS = ("minutes_ago", "kind", "author", "body", "data")


def _incident(raw: _Raw, ctx: _IncidentContext) -> tuple[Incident, list[TimelineEvent]]:
    r = raw.read(_INCIDENT_FIELDS, _INCIDENT_REQUIRED)
    incident_id = r.text("id")
    number = r.raw.get("number")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        r.fail("number", f"{number!r} is not allowed", ["a whole number from 1"])
    impact = r.parsed("impact", Impact.of)
    urgency = r.parsed("urgency", Urgency.of)
    severity = (
        r.parsed("severity", Severity.of)
        if r.has("severity")
        else ctx.matrix.severity(impact, urgency)
    )
    state = r.parsed("state", State.of)
    source = r.parsed("source", Source.of) if r.has("source") else Source.PHONE
    category = r.ref("category", list(ctx.subcategories), required=False)
    subcategory = None
    if r.has("subcategory"):
        if category is None:
            r.fail("subcategory", "given without a category", ["set category as well"])
        else:
            subcategory = r.ref("subcategory", ctx.subcategories[category])

    opened_ago = r.minutes("opened_minutes_ago")
    if opened_ago is None:  # required, so read_demo never gets here; keeps the type exact
        r.fail("opened_minutes_ago", "missing")
    ack_ago = _not_before(r, "acknowledged_minutes_ago", "opened_minutes_ago", opened_ago)
    resolved_ago = _not_before(
        r,
        "resolved_minutes_ago",
        "acknowledged_minutes_ago" if ack_ago is not None else "opened_minutes_ago",
        ack_ago if ack_ago is not None else opened_ago,
    )
    closed_ago = None
    if resolved_ago is not None:
        closed_ago = _not_before(r, "closed_minutes_ago", "resolved_minutes_ago", resolved_ago)
    elif r.has("closed_minutes_ago"):
        r.fail("closed_minutes_ago", "set without resolved_minutes_ago", ["set both, or neither"])
    _check_state_times(r, state, ack_ago, resolved_ago, closed_ago)

    hold_reason = r.parsed("hold_reason", HoldReason.of) if r.has("hold_reason") else None
    if (state is State.ON_HOLD) != (hold_reason is not None):
        r.fail(
            "hold_reason",
            f"{r.raw.get('hold_reason')!r} does not fit state {state.value}",
            [*(h.value for h in HoldReason), "only with state on_hold"],
        )
    holds = tuple(
        _hold(r, position, item, opened_ago) for position, item in enumerate(r.items("holds"))
    )

    latest = min(x for x in (opened_ago, ack_ago, resolved_ago, closed_ago) if x is not None)
    updated_ago = _not_before(r, "updated_minutes_ago", "opened_minutes_ago", opened_ago)
    if updated_ago is None:
        updated_ago = latest

    def at(minutes: int | None) -> datetime | None:
        return None if minutes is None else ctx.now - timedelta(minutes=minutes)

    try:
        incident = Incident(
            id=incident_id,
            number=format_number(number),
            version=1,
            title=r.text("title"),
            description=r.text("description", required=False),
            service=r.ref("service", ctx.services) or "",
            impact=impact,
            urgency=urgency,
            severity=severity,
            state=state,
            source=source,
            major=r.boolean("major"),
            category=category,
            subcategory=subcategory,
            assignee=r.ref("assignee", ctx.contacts, required=False),
            assignment_group=r.ref("assignment_group", ctx.teams, required=False),
            reporter=r.text("reporter", required=False) or None,
            opened_at=ctx.now - timedelta(minutes=opened_ago),
            updated_at=ctx.now - timedelta(minutes=updated_ago),
            acknowledged_at=at(ack_ago),
            resolved_at=at(resolved_ago),
            closed_at=at(closed_ago),
            hold_reason=hold_reason,
            holds=tuple(HoldPeriod(ctx.now - timedelta(minutes=s), at(e)) for s, e in holds),
        )
        incident = replace(
            incident,
            response_due=ctx.policy.response_due(incident, ctx.now),
            resolution_due=ctx.policy.resolution_due(incident, ctx.now),
        )
    except InvalidValue as exc:
        raise r.error(exc.field, str(exc), exc.allowed) from exc
    except DomainError as exc:
        raise r.error("id", str(exc)) from exc

    events = [
        _event(r, position, item, incident, opened_ago, ctx)
        for position, item in enumerate(r.items("timeline"))
    ]
    return incident, events


def _not_before(r: _Record, name: str, earlier_name: str, earlier_ago: int) -> int | None:
    """Read a "minutes ago" that must not lie before an earlier step (a smaller or equal age)."""
    value = r.minutes(name, required=False)
    if value is not None and value > earlier_ago:
        r.fail(
            name,
            f"{value} is before {earlier_name} ({earlier_ago}): impossible order",
            [f"0 to {earlier_ago}"],
        )
    return value


def _check_state_times(
    r: _Record, state: State, ack: int | None, resolved: int | None, closed: int | None
) -> None:
    """Timestamps that must or must not exist for a state (a closed incident was resolved)."""
    if state in (State.RESOLVED, State.CLOSED) and resolved is None:
        r.fail("resolved_minutes_ago", f"missing for state {state.value}", ["minutes before now"])
    if state is State.CLOSED and closed is None:
        r.fail("closed_minutes_ago", "missing for state closed", ["minutes before now"])
    if state not in (State.RESOLVED, State.CLOSED) and resolved is not None:
        r.fail(
            "resolved_minutes_ago",
            f"set, but the state is {state.value}",
            ["only for states resolved and closed"],
        )
    if state is not State.CLOSED and closed is not None:
        r.fail("closed_minutes_ago", f"set, but the state is {state.value}", ["only for closed"])
    if state not in (State.NEW, State.CANCELLED) and ack is None:
        r.fail(
            "acknowledged_minutes_ago",
            f"missing for state {state.value}",
            ["minutes before now (every incident past new was acknowledged)"],
        )


def _hold(r: _Record, position: int, item: object, opened_ago: int) -> tuple[int, int | None]:
    where = f"holds[{position}]"
    allowed = {"started_minutes_ago", "ended_minutes_ago"}
    if not isinstance(item, dict) or not set(item) <= allowed or "started_minutes_ago" not in item:
        r.fail(
            where,
            f"{item!r} is not allowed",
            ['{"started_minutes_ago": n, "ended_minutes_ago": m}'],
        )
    started, ended = item["started_minutes_ago"], item.get("ended_minutes_ago")
    for name, value in (("started_minutes_ago", started), ("ended_minutes_ago", ended)):
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 0
        ):
            r.fail(
                f"{where}.{name}", f"{value!r} is not a number of minutes", ["a whole number ≥ 0"]
            )
    if started > opened_ago:
        r.fail(
            f"{where}.started_minutes_ago",
            f"{started} is before the incident was opened",
            [f"0 to {opened_ago}"],
        )
    if ended is not None and ended > started:
        r.fail(
            f"{where}.ended_minutes_ago", f"{ended} is before the hold started", [f"0 to {started}"]
        )
    return started, ended


def _event(
    r: _Record,
    position: int,
    item: object,
    incident: Incident,
    opened_ago: int,
    ctx: _IncidentContext,
) -> TimelineEvent:
    where = f"timeline[{position}]"
    if not isinstance(item, dict):
        r.fail(where, f"{item!r} is not allowed", ["an object with " + ", ".join(_EVENT_FIELDS)])
    for key in item:
        if key not in _EVENT_FIELDS:
            r.fail(f"{where}.{key}", "unknown field", _EVENT_FIELDS)
    minutes = item.get("minutes_ago")
    if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes < 0:
        r.fail(
            f"{where}.minutes_ago",
            f"{minutes!r} is not a number of minutes",
            ["a whole number ≥ 0"],
        )
    if minutes > opened_ago:
        r.fail(
            f"{where}.minutes_ago",
            f"{minutes} is before the incident was opened ({opened_ago})",
            [f"0 to {opened_ago}"],
        )
    try:
        kind = TimelineKind.of(item.get("kind"))
    except InvalidValue as exc:
        raise r.error(f"{where}.kind", f"{exc.value!r} is not allowed", exc.allowed) from exc
    author = item.get("author")
    if author != SYSTEM_AUTHOR and author not in ctx.contacts:
        r.fail(
            f"{where}.author",
            f"{author!r} is not a known contact id",
            [SYSTEM_AUTHOR, *ctx.contacts],
        )
    body = item.get("body")
    if not isinstance(body, str):
        r.fail(f"{where}.body", f"{body!r} is not text", ["text"])
    data = item.get("data", {})
    if not isinstance(data, dict):
        r.fail(f"{where}.data", f"{data!r} is not allowed", ["an object"])
    try:
        return TimelineEvent(
            id=f"{incident.id}-t{position + 1:02d}",
            incident_id=incident.id,
            kind=kind,
            at=ctx.now - timedelta(minutes=minutes),
            author=str(author),
            body=str(body),
            data=dict(data),
        )
    except InvalidValue as exc:
        raise r.error(f"{where}.{exc.field}", str(exc), exc.allowed) from exc
