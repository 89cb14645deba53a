"""Major incident command on the wire: status updates, roles, the bridge, responders, the state.

The pydantic bodies of ``/v1/incidents/{id}/status-updates``, ``/roles``,
``/bridge``, ``/responders`` and ``/major``; the rules they follow (audiences,
cadence) are in :mod:`console.domain.major`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from console.domain.limits import STATUS_UPDATE_CHARS

AudienceWire = Literal["internal", "executive", "customer"]
UpdateStatusWire = Literal["investigating", "identified", "monitoring", "resolved"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class StatusUpdateCreate(_In):
    """``POST /v1/incidents/{id}/status-updates``: publish one update to one audience."""

    audience: AudienceWire
    status: UpdateStatusWire
    text: str = Field(min_length=1, max_length=STATUS_UPDATE_CHARS)


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
