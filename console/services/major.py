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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from console.domain.incident import Incident
from console.domain.major import (
    AUDIENCES,
    MAX_UPDATE_CHARS,
    STANDARD_ROLES,
    UPDATE_STATUSES,
    countdown_text,
    declared_from_timeline,
    next_update_due,
    roles_from_timeline,
    war_room_from_timeline,
)
from console.services.directory import Directory
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
    eta: str | None = None


def with_major_facts(
    incident: Incident,
    events: list[Any],
    customer_facing: set[str],
    cadence: Mapping[int, int] | None = None,
) -> Incident:
    """``incident`` with the ``roles`` and ``next_update_due`` its timeline gives (#19 item 6).

    What the server puts on the incident resource, worked out here for a
    backend that does not (the demo), on ``cadence`` (``[major.cadence_minutes]``;
    None: 15 / 30 min); an incident not major has neither.
    """
    if not incident.major:
        return replace(incident, roles=(), next_update_due=())
    due = next_update_due(
        severity=int(incident.severity),
        declared_at=declared_from_timeline(events, incident.opened_at),
        updates=updates_from_timeline(events),
        customer_facing=incident.service in customer_facing,
        resolved=not incident.is_open,
        cadence=cadence,
    )
    return replace(
        incident,
        roles=tuple(roles_from_timeline(events).items()),
        next_update_due=tuple((a, due[a]) for a in AUDIENCES),
    )


def snapshot(
    cache: Cache,
    incident: Incident,
    customer_facing: set[str],
    cadence: Mapping[int, int] | None = None,
) -> MajorSnapshot:
    """One major incident as the workspace shows it, read from its cached timeline.

    ``cadence`` is the internal cadence in minutes per severity number (the
    ``[major.cadence_minutes]`` settings; None: 15 min SEV-1, 30 min SEV-2).
    """
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
        cadence=cadence,
    )
    notes = [e.body for e in events if e.kind.value == "work_note" and e.body.strip()]
    doing = notes[-1].splitlines()[0][:300] if notes else "investigating the cause"
    roles = roles_from_timeline(events)
    bridge, responders = war_room_from_timeline(events)
    eta = eta_from([e.body for e in events if e.kind.value in ("work_note", "status_update")])
    return MajorSnapshot(
        incident, declared, roles, updates, due, facing, doing, bridge, responders, eta
    )


# -- templates and cadence from settings ([major], console.config.settings) --

DEFAULT_TEMPLATE_KEY = "default"


def check_template(source: str) -> None:
    """Refuse a template that cannot be used (:class:`TemplateRefused`, saying why)."""
    _check_template(source)
    # A trial fill with every field, so a filter that fails on text is caught on save.
    render_draft(source, {name: name for name in DRAFT_FIELDS})


def check_templates(templates: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """Each settings key (``major.templates.SEV-1.internal``) whose template is refused, and why."""
    problems: dict[str, str] = {}
    for severity, by_audience in templates.items():
        for audience, source in by_audience.items():
            try:
                check_template(source)
            except TemplateRefused as exc:
                problems[f"major.templates.{severity}.{audience}"] = str(exc)
    return problems


def template_for(
    templates: Mapping[str, Mapping[str, str]], severity: int, audience: str
) -> tuple[str, str]:
    """The template for this severity and audience, and the settings key it came from.

    Lookup order: ``[major.templates.SEV-n]``, ``[major.templates.default]``,
    then the built-in :data:`DEFAULT_TEMPLATES` (key ``built-in``).
    """
    for key in (f"SEV-{severity}", DEFAULT_TEMPLATE_KEY):
        source = templates.get(key, {}).get(audience)
        if source is not None:
            return source, f"major.templates.{key}.{audience}"
    return DEFAULT_TEMPLATES[audience], "built-in"


def role_names(extra: Sequence[str] = ()) -> list[str]:
    """The standard roles, then the site's extra roles (e.g. Scribe), each once."""
    out = list(STANDARD_ROLES)
    for name in extra:
        if name not in out:
            out.append(name)
    return out


# -- assigning roles from the escalation matrix --


@dataclass(frozen=True)
class RoleCandidate:
    """Someone a role can be given to, and why they are offered (``on call for Web (L2)``)."""

    name: str
    phone: str | None = None
    why: str = ""
    on_call: bool = False


def role_candidates(
    directory: Directory, service_id: str, at: datetime, *, exclude: str | None = None
) -> list[RoleCandidate]:
    """Who to offer for a role on an incident of ``service_id``: the escalation matrix first.

    The on-call person of the service's owning team comes first, then the
    other tiers' and the managers' on-call people in chain order, then every
    other contact by name; the current holder (``exclude``) is left out.
    """
    chain = directory.chain(service_id, at)
    owner = chain.owner.id if chain.owner is not None else None
    lines = sorted(chain.tiers, key=lambda line: (line.tier.team != owner, line.tier.level))
    out: list[RoleCandidate] = []
    seen: set[str] = set()

    def add(name: str | None, phone: str | None, why: str, on_call: bool) -> None:
        if not name or name in seen or name == exclude:
            return
        seen.add(name)
        out.append(RoleCandidate(name, phone, why, on_call))

    for line in lines:
        who = line.on_call
        team = line.team.name if line.team is not None else line.tier.team
        contact = who.contact
        add(
            who.name,
            contact.primary_phone if contact else None,
            f"on call for {team} (L{line.tier.level})",
            True,
        )
    for manager in chain.managers:
        who = manager.on_call
        contact = who.contact
        add(
            who.name,
            contact.primary_phone if contact else None,
            f"on call: {manager.rule.who}",
            True,
        )
    for contact in directory.contacts_sorted():
        team = directory.team_name(contact.team) if contact.team else ""
        add(
            contact.name,
            contact.primary_phone,
            " · ".join(p for p in (contact.role, team) if p),
            False,
        )
    return out


def next_role_offer(
    roles: Mapping[str, str], names: Sequence[str], candidates: Sequence[RoleCandidate]
) -> tuple[str, RoleCandidate] | None:
    """The first unfilled role and the first on-call candidate for it (None: nothing to offer)."""
    offered = next((c for c in candidates if c.on_call), None)
    if offered is None:
        return None
    for role in names:
        if role not in roles:
            return role, offered
    return None


# -- the executive summary (item 8): one screen per major incident --


@dataclass(frozen=True)
class ExecutiveSummary:
    """The executive summary's parts; :meth:`text` is what Ctrl+C copies and the PDF prints."""

    heading: str
    rows: tuple[tuple[str, str], ...]

    def text(self) -> str:
        width = max((len(label) for label, _ in self.rows), default=0)
        lines = [self.heading, "=" * len(self.heading)]
        for label, value in self.rows:
            first, *rest = value.splitlines() or [""]
            lines.append(f"{label.ljust(width)}  {first}")
            lines.extend(f"{'':{width}}  {more}" for more in rest)
        return "\n".join(lines)


def _elapsed(since: datetime, now: datetime) -> str:
    minutes = max(0, int((now - since).total_seconds() // 60))
    return f"{minutes // 60}h {minutes % 60:02d}m"


def executive_summary(
    snap: MajorSnapshot,
    now: datetime,
    *,
    service_name: str | None = None,
    phones: Mapping[str, str] | None = None,
    role_order: Sequence[str] = STANDARD_ROLES,
) -> ExecutiveSummary:
    """What happened, impact, current status, ETA if given, roles, next update times.

    Built from the snapshot only (no Qt): the newest executive update (else the
    newest update to anyone) says what is known; an ETA is taken from a work
    note or update that says ``ETA …`` (the newest one).
    """
    inc = snap.incident
    phones = phones or {}
    service = service_name or inc.service
    newest = snap.updates[-1] if snap.updates else None
    executive = [u for u in snap.updates if u.audience == "executive"]
    said = executive[-1] if executive else newest
    status = newest.status if newest else "investigating"
    rows: list[tuple[str, str]] = [
        ("What happened", inc.title + (f"\n{inc.description}" if inc.description else "")),
        (
            "Impact",
            f"{service} · impact {inc.impact.value}, urgency {inc.urgency.value}"
            + (" · customer-facing" if snap.customer_facing else ""),
        ),
        (
            "Current status",
            f"{status} (state {inc.state.value}); {snap.doing}"
            + (f"\nLast said ({said.audience}, {said.at:%H:%M} UTC): {said.text}" if said else ""),
        ),
        ("ETA", snap.eta or "not given"),
        (
            "Declared",
            f"{snap.declared_at:%Y-%m-%d %H:%M} UTC ({_elapsed(snap.declared_at, now)} ago)",
        ),
    ]
    ordered = [r for r in role_order if r in snap.roles] + [
        r for r in snap.roles if r not in role_order
    ]
    held = [
        f"{role}: {snap.roles[role]}"
        + (f" ({phones[snap.roles[role]]})" if snap.roles[role] in phones else "")
        for role in ordered
    ]
    rows.append(("Roles", "\n".join(held) or "none assigned"))
    due = [
        f"{audience}: {at:%H:%M} UTC ({countdown_text(at, now, audience)})"
        for audience in AUDIENCES
        if (at := snap.due.get(audience)) is not None
    ]
    rows.append(("Next updates", "\n".join(due) or "none owed"))
    heading = (
        f"{inc.number} SEV-{int(inc.severity)} major incident — executive summary "
        f"({now:%Y-%m-%d %H:%M} UTC)"
    )
    return ExecutiveSummary(heading, tuple(rows))


def eta_from(texts: Sequence[str]) -> str | None:
    """The newest ``ETA …`` said in work notes or updates (``ETA 14:30 UTC`` → ``14:30 UTC``)."""
    import re

    for text in reversed(texts):
        found = re.search(r"\bETA[:\s]+([^\n.;]{1,80})", text, flags=re.IGNORECASE)
        if found:
            return found.group(1).strip()
    return None
