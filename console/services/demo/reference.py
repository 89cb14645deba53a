"""The demo's reference data: teams, services, categories, known errors, contacts,
on-call rotations (their covers and swaps relative to the load) and escalation policies,
each through the wire model and the domain's own checks where the server has them."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ValidationError

from console.domain.errors import DomainError, InvalidValue
from console.domain.oncall import NotScheduledError, Rotation, swap_weeks
from console.domain.phones import InvalidPhone, parse_phone
from console.services.demo.records import DemoDataError, _Raw, _Record
from console.wire import (
    EscalationPolicyIn,
    KnownErrorIn,
    OnCallRotationIn,
    policy_to_domain,
    rotation_to_domain,
)
from console.wire.errors import more_text, problems

TEAM_TIERS = ("L1", "L2", "L3")
CRITICALITIES = ("critical", "high", "medium", "low")

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_M = TypeVar("_M", bound=BaseModel)


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
        found = problems(exc, style="json")
        problem = found[0].message + more_text(len(found) - 1)
        if not found[0].where:
            # A rule across fields (a model validator): its message names them.
            raise DemoDataError(r.file, problem, index=r.index, record_id=r.id) from exc
        r.fail(found[0].where, problem)


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
