"""Major incident command: the wire of status updates and roles, the cadence, the drafts.

Shared by the server (which holds the contract) and the console (which shows
the countdowns and fills the drafts). Plain Python plus pydantic and Jinja2:
no Qt, no database.

* **Audiences**: ``internal`` (stakeholders inside the company, every 15 min
  for SEV-1 and 30 min for SEV-2 by default), ``executive`` (due at the
  declaration and again after each milestone), ``customer`` (only when the
  service is customer-facing, on the internal cadence).
* **Roles**: Incident Commander, Technical Lead, Communications Lead, plus
  any extra role a site names (e.g. Scribe). One person may hold several.
* **Drafts** are Jinja2 templates rendered in the ``SandboxedEnvironment``
  with ``StrictUndefined`` (an unknown field is refused, not rendered empty)
  and with loops refused before rendering, as the alert intake's templates
  are (``console/server/services/intake_rules.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

AudienceWire = Literal["internal", "executive", "customer"]
AUDIENCES: tuple[str, ...] = ("internal", "executive", "customer")
UpdateStatusWire = Literal["investigating", "identified", "monitoring", "resolved"]
UPDATE_STATUSES: tuple[str, ...] = ("investigating", "identified", "monitoring", "resolved")
# The milestones after which the executives are owed an update.
MILESTONES = ("identified", "monitoring", "resolved")

STANDARD_ROLES: tuple[str, ...] = ("Incident Commander", "Technical Lead", "Communications Lead")
# Internal (and customer) cadence in minutes per severity number; SEV-3/4 have none.
DEFAULT_CADENCE_MIN: dict[int, int] = {1: 15, 2: 30}
MAX_UPDATE_CHARS = 10_000
# Updates of an incident resolved longer ago than this leave the public page.
PUBLIC_RECENT = timedelta(hours=24)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class StatusUpdateCreate(_In):
    """``POST /v1/incidents/{id}/status-updates``: publish one update to one audience."""

    audience: AudienceWire
    status: UpdateStatusWire
    text: str = Field(min_length=1, max_length=MAX_UPDATE_CHARS)


class StatusUpdate(BaseModel):
    """One published update, as stored (a ``status_update`` timeline entry)."""

    id: str
    incident_id: str
    audience: AudienceWire
    status: UpdateStatusWire
    text: str
    at: datetime
    author: str


class StatusUpdatePage(BaseModel):
    items: list[StatusUpdate]


class RoleAssign(_In):
    """``PUT /v1/incidents/{id}/roles/{role}``: who holds the role from now on."""

    person: str = Field(min_length=1, max_length=120)
    reason: str = Field(default="", max_length=500)


class BridgeSet(_In):
    """``PUT /v1/incidents/{id}/bridge``: the war room's conference URL and/or dial-in with PIN."""

    url: str | None = Field(default=None, max_length=500, pattern=r"^https://\S+$")
    dial_in: str | None = Field(default=None, max_length=40, pattern=r"^\+[0-9 ]{6,30}$")
    pin: str | None = Field(default=None, max_length=20, pattern=r"^[0-9]{1,16}#?$")


class ResponderChange(_In):
    """``POST /v1/incidents/{id}/responders``: someone joined or left the bridge.

    Observers are not responders: they get updates through the Communications Lead.
    """

    person: str = Field(min_length=1, max_length=120)
    action: Literal["joined", "left"]


def bridge_tel(bridge: Mapping[str, Any]) -> str | None:
    """The dial-in as a ``tel:`` URI with the PIN after pauses (``tel:+442079460000,,482913#``)."""
    dial = bridge.get("dial_in")
    if not dial:
        return None
    number = "".join(ch for ch in str(dial) if ch.isdigit() or ch == "+")
    pin = bridge.get("pin")
    return f"tel:{number}" + (f",,{pin}" if pin else "")


def war_room_from_timeline(events: list[Any]) -> tuple[dict[str, Any], dict[str, tuple[str, Any]]]:
    """The newest bridge and each responder's last action with its time."""
    bridge: dict[str, Any] = {}
    responders: dict[str, tuple[str, Any]] = {}
    for event in events:
        data = _get(event, "data") or {}
        if isinstance(data.get("bridge"), dict):
            bridge = dict(data["bridge"])
        if data.get("responder") and data.get("action") in ("joined", "left"):
            responders[str(data["responder"])] = (str(data["action"]), _get(event, "at"))
    return bridge, responders


class MajorState(BaseModel):
    """``GET /v1/incidents/{id}/major``: roles, countdowns and updates of a major incident."""

    incident_id: str
    major: bool
    declared_at: datetime | None
    roles: dict[str, str]
    next_update_due: dict[str, datetime | None]
    overdue: list[str]
    customer_facing: bool
    updates: list[StatusUpdate]
    bridge: dict[str, Any] = Field(default_factory=dict)
    # name → {"state": "joined"|"left", "at": ...}; observers are never listed.
    responders: dict[str, dict[str, Any]] = Field(default_factory=dict)


def cadence_minutes(severity: int, cadence: Mapping[int, int] | None = None) -> int | None:
    """Minutes between internal (and customer) updates for this severity, None if none."""
    return (cadence or DEFAULT_CADENCE_MIN).get(severity)


def next_update_due(
    *,
    severity: int,
    declared_at: datetime,
    updates: list[StatusUpdate],
    customer_facing: bool,
    resolved: bool,
    cadence: Mapping[int, int] | None = None,
) -> dict[str, datetime | None]:
    """When each audience is next owed an update (None: nothing owed).

    Internal and customer: the last update to that audience (or the
    declaration) plus the cadence. Executive: at once after the declaration
    and after each milestone status published to anyone, until an executive
    update newer than it. A resolved incident owes nothing more once each
    audience has heard ``resolved``.
    """
    minutes = cadence_minutes(severity, cadence)
    last: dict[str, StatusUpdate] = {}
    milestone_at = declared_at
    reached: set[str] = set()
    for update in sorted(updates, key=lambda u: u.at):
        last[update.audience] = update
        # A milestone is reached once: the first update that says it, to anyone.
        if update.status in MILESTONES and update.status not in reached:
            reached.add(update.status)
            milestone_at = max(milestone_at, update.at)
    due: dict[str, datetime | None] = {}
    for audience in AUDIENCES:
        heard = last.get(audience)
        silent = audience == "customer" and not customer_facing
        if silent or (resolved and heard is not None and heard.status == "resolved"):
            due[audience] = None
        elif audience == "executive":
            due[audience] = None if heard is not None and heard.at >= milestone_at else milestone_at
        elif minutes is None:
            due[audience] = None
        else:
            due[audience] = (heard.at if heard else declared_at) + timedelta(minutes=minutes)
    return due


def overdue(due: Mapping[str, datetime | None], now: datetime) -> list[str]:
    """The audiences whose update is past due at ``now``.

    An executive update falls due at the milestone itself; it counts as
    overdue after a five-minute grace, the time to write it.
    """
    late = []
    for audience, at in due.items():
        if at is None:
            continue
        grace = timedelta(minutes=5) if audience == "executive" else timedelta(0)
        if now > at + grace:
            late.append(audience)
    return late


def countdown_text(due: datetime | None, now: datetime) -> str:
    """``12:04`` left, ``OVERDUE 3:10`` past, or ``—`` when nothing is owed."""
    if due is None:
        return "—"
    seconds = int((due - now).total_seconds())
    sign = "" if seconds >= 0 else "OVERDUE "
    seconds = abs(seconds)
    return f"{sign}{seconds // 60}:{seconds % 60:02d}"


# -- drafts -------------------------------------------------------------------

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


# -- the console's side: the same state, from cached incidents and timelines --


def _get(event: Any, name: str) -> Any:
    return getattr(event, name)


def updates_from_timeline(events: list[Any]) -> list[StatusUpdate]:
    """Published updates among cached timeline events (``status_update`` with an audience)."""
    out = []
    for event in events:
        data = _get(event, "data") or {}
        kind = _get(event, "kind")
        if getattr(kind, "value", kind) == "status_update" and data.get("audience") in AUDIENCES:
            out.append(
                StatusUpdate(
                    id=_get(event, "id"),
                    incident_id=_get(event, "incident_id"),
                    audience=data["audience"],
                    status=data.get("status")
                    if data.get("status") in UPDATE_STATUSES
                    else "investigating",
                    text=_get(event, "body"),
                    at=_get(event, "at"),
                    author=_get(event, "author"),
                )
            )
    return out


def roles_from_timeline(events: list[Any]) -> dict[str, str]:
    """Who holds each role (the newest ``assignment`` entry with a ``role`` wins)."""
    roles: dict[str, str] = {}
    for event in events:
        data = _get(event, "data") or {}
        kind = _get(event, "kind")
        if getattr(kind, "value", kind) == "escalation" and data.get("commander"):
            roles["Incident Commander"] = str(data["commander"])  # named at the declaration
        if getattr(kind, "value", kind) == "assignment" and data.get("role"):
            if data.get("to"):
                roles[str(data["role"])] = str(data["to"])
            else:
                roles.pop(str(data["role"]), None)
    return roles


def declared_from_timeline(events: list[Any], opened_at: datetime) -> datetime:
    """When the incident was last declared major (its opening when no entry says)."""
    found = opened_at
    for event in events:
        kind = _get(event, "kind")
        if getattr(kind, "value", kind) == "escalation" and (_get(event, "data") or {}).get(
            "major"
        ):
            found = _get(event, "at")
    return found
