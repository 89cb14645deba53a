"""Major incident command on the console: status-update drafts, and the workspace's read model.

* **Drafts** are Jinja2 templates rendered in the ``SandboxedEnvironment``
  with ``StrictUndefined`` (an unknown field is refused, not rendered empty)
  and with loops refused before rendering, as the alert intake's templates
  are (``console/server/services/intake_rules.py``).
* :func:`snapshot` reads one major incident from the cache (roles, updates,
  countdowns, the war room) into a :class:`MajorSnapshot` for the workspace
  and the wall. No Qt.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from console.domain.incident import Incident
from console.domain.major import (
    AUDIENCES,
    MAX_UPDATE_CHARS,
    UPDATE_STATUSES,
    declared_from_timeline,
    next_update_due,
    roles_from_timeline,
    war_room_from_timeline,
)
from console.store import Cache
from console.wire.major import StatusUpdate

DRAFT_FIELDS = (
    "title",
    "service",
    "severity",
    "impact",
    "started",
    "status",
    "doing",
    "next_update",
)

DEFAULT_TEMPLATES: dict[str, str] = {
    "internal": (
        "[{{ severity }}] {{ service }}: {{ status }}\n"
        "Impact: {{ impact }}. Started {{ started }}.\n"
        "What we are doing: {{ doing }}\n"
        "Next update by {{ next_update }}."
    ),
    "executive": (
        "{{ severity }} major incident on {{ service }} ({{ status }}).\n"
        "Business impact: {{ impact }}. Since {{ started }}.\n"
        "Next update by {{ next_update }}."
    ),
    "customer": (
        "We are {{ status }} an issue affecting {{ service }}, which began at {{ started }}. "
        "We will post the next update by {{ next_update }}."
    ),
}


class TemplateRefused(ValueError):
    """A draft template that cannot be used; the message says why and what to do."""


def _check_template(source: str) -> Any:
    from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(autoescape=False, undefined=StrictUndefined)
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateRefused(f"the template does not parse (line {exc.lineno}): {exc}") from None
    if any(True for _ in tree.find_all((nodes.For, nodes.Macro, nodes.CallBlock))):
        raise TemplateRefused("loops and macros are not allowed in a draft template; remove them")
    for name in tree.find_all(nodes.Name):
        if name.ctx == "load" and name.name not in DRAFT_FIELDS:
            raise TemplateRefused(
                f"unknown field {name.name!r}; a draft may use {', '.join(DRAFT_FIELDS)}"
            )
    return env.from_string(tree)


def render_draft(source: str, fields: Mapping[str, str]) -> str:
    """Fill a draft template; :class:`TemplateRefused` with a clear reason if it is bad."""
    from jinja2 import TemplateError
    from jinja2.sandbox import SecurityError

    template = _check_template(source)
    try:
        text = str(template.render(**{k: str(fields.get(k, "")) for k in DRAFT_FIELDS}))
    except (TemplateError, SecurityError, TypeError, ValueError, ArithmeticError) as exc:
        raise TemplateRefused(f"the template cannot be filled: {exc}") from None
    if len(text) > MAX_UPDATE_CHARS:
        raise TemplateRefused(f"the draft is longer than {MAX_UPDATE_CHARS} characters")
    return text


def updates_from_timeline(events: list[Any]) -> list[StatusUpdate]:
    """Published updates among cached timeline events (``status_update`` with an audience)."""
    out = []
    for event in events:
        data = event.data or {}
        kind = event.kind
        if getattr(kind, "value", kind) == "status_update" and data.get("audience") in AUDIENCES:
            out.append(
                StatusUpdate(
                    id=event.id,
                    incident_id=event.incident_id,
                    audience=data["audience"],
                    status=data.get("status")
                    if data.get("status") in UPDATE_STATUSES
                    else "investigating",
                    text=event.body,
                    at=event.at,
                    author=event.author,
                )
            )
    return out


# -- the workspace's read model --


@dataclass
class MajorSnapshot:
    """What the workspace shows of one major incident (computed from the cache)."""

    incident: Incident
    declared_at: datetime
    roles: dict[str, str]
    updates: list[StatusUpdate]
    due: dict[str, datetime | None]
    customer_facing: bool
    doing: str = "investigating the cause"
    bridge: dict[str, Any] = field(default_factory=dict)
    responders: dict[str, tuple[str, datetime]] = field(default_factory=dict)


def with_major_facts(incident: Incident, events: list[Any], customer_facing: set[str]) -> Incident:
    """``incident`` with the ``roles`` and ``next_update_due`` its timeline gives (#19 item 6).

    What the server puts on the incident resource, worked out here for a
    backend that does not (the demo); an incident not major has neither.
    """
    if not incident.major:
        return replace(incident, roles=(), next_update_due=())
    due = next_update_due(
        severity=int(incident.severity),
        declared_at=declared_from_timeline(events, incident.opened_at),
        updates=updates_from_timeline(events),
        customer_facing=incident.service in customer_facing,
        resolved=not incident.is_open,
    )
    return replace(
        incident,
        roles=tuple(roles_from_timeline(events).items()),
        next_update_due=tuple((a, due[a]) for a in AUDIENCES),
    )


def snapshot(cache: Cache, incident: Incident, customer_facing: set[str]) -> MajorSnapshot:
    """One major incident as the workspace shows it, read from its cached timeline."""
    events = cache.timeline(incident.id)
    updates = updates_from_timeline(events)
    declared = declared_from_timeline(events, incident.opened_at)
    facing = incident.service in customer_facing
    due = next_update_due(
        severity=int(incident.severity),
        declared_at=declared,
        updates=updates,
        customer_facing=facing,
        resolved=not incident.is_open,
    )
    notes = [e.body for e in events if e.kind.value == "work_note" and e.body.strip()]
    doing = notes[-1].splitlines()[0][:300] if notes else "investigating the cause"
    roles = roles_from_timeline(events)
    bridge, responders = war_room_from_timeline(events)
    return MajorSnapshot(incident, declared, roles, updates, due, facing, doing, bridge, responders)
