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

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.config.resources import resource_path
from console.connectors.base import Caller
from console.domain.incident import (
    Incident,
    TimelineEvent,
    require_aware,
)
from console.domain.severity import DEFAULT_MATRIX, PriorityMatrix
from console.domain.sla import SlaPolicy
from console.services.demo.incidents import _incident, _IncidentContext
from console.services.demo.records import DemoDataError, _records, _unique_ids
from console.services.demo.reference import (
    _category,
    _contact,
    _EscalationRefs,
    _known_error,
    _one_policy_per_service,
    _policy,
    _rotation,
    _service,
    _team,
)

if TYPE_CHECKING:
    # Only for the annotation: the caller opens the cache, this module never does.
    from console.store import Cache

BACKEND = "demo"
"""The backend name the demo's rows are written under in the cache."""

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
    cadence: Mapping[int, int] | None = None,
) -> DemoSummary:
    """Validate the demo set in ``root`` (default: the shipped one) and write it to ``cache``.

    All records are checked before anything is written, so a broken file
    raises :class:`DemoDataError` and leaves the cache unchanged. The
    console then acts as ``operator`` (default ``demo``) with the commander
    role (:meth:`~console.sync.edits.LocalEdits.caller`). ``cadence`` is the
    ``[major.cadence_minutes]`` its majors owe updates on (None: 15 / 30 min).
    """
    # Imported here: reading the demo (read_demo) needs no cache machinery.
    from console.sync.edits import store_caller

    data = read_demo(now, root=root, policy=policy, matrix=matrix, cadence=cadence)
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
    cadence: Mapping[int, int] | None = None,
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
    # #19: the demo is the backend, so its majors carry roles and update due times.
    from console.services.major import with_major_facts

    facing = {str(s["id"]) for s in services if s.get("customer_facing")}
    incidents = [
        with_major_facts(i, [e for e in timeline if e.incident_id == i.id], facing, cadence)
        if i.major
        else i
        for i in incidents
    ]
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
