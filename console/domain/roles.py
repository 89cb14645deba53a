"""Who may do what: the one role ladder of the console, its server and its connectors.

Roles are ordered, lowest first, and a higher role may do everything a lower one
may. ``intake`` is the monitoring system's role on the server: it may open and
resolve incidents from alerts and nothing else, so it sits below ``viewer``
and is never a person's role in the console (:data:`CONSOLE_ROLES`).

Overriding the severity that impact × urgency gives is a commander's right
(ITIL-NOTES.md, "Severity"); :func:`may_override` is the one place that says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["intake", "viewer", "dispatcher", "commander", "admin"]

ROLES: tuple[Role, ...] = ("intake", "viewer", "dispatcher", "commander", "admin")
"""Every role, lowest first."""

CONSOLE_ROLES: tuple[Role, ...] = ("viewer", "dispatcher", "commander", "admin")
"""The roles a person can act as in the console, lowest first."""

OVERRIDE_ROLE: Role = "commander"
"""The lowest role that may override a computed severity."""


def rank(role: str) -> int:
    """The role's place on the ladder (0 for ``intake``); ValueError for an unknown name."""
    try:
        return ROLES.index(role)
    except ValueError:
        raise ValueError(f"role {role!r} is not one of {', '.join(ROLES)}") from None


def at_least(role: str, needed: str) -> bool:
    """True when ``role`` is ``needed`` or a higher one."""
    return rank(role) >= rank(needed)


def may_override(role: str | None) -> bool:
    """True when a caller with ``role`` may override the computed severity."""
    return role is not None and role in ROLES and at_least(role, OVERRIDE_ROLE)


@dataclass(frozen=True)
class Caller:
    """Who the console acts as on a backend: the account's name and its console role.

    ``role`` is one of :data:`CONSOLE_ROLES`. A connector maps its remote's
    rights to the nearest role (e.g. a Request Tracker account that may modify
    tickets is a dispatcher; one that may also override priorities is a
    commander), so the console can tell in advance what the backend will
    allow, such as who may override a severity.
    """

    name: str
    role: str

    def __post_init__(self) -> None:
        if self.role not in CONSOLE_ROLES:
            raise ValueError(f"role {self.role!r} is not one of {', '.join(CONSOLE_ROLES)}")

    def at_least(self, role: str) -> bool:
        """True when this caller has ``role`` or a higher one."""
        return at_least(self.role, role)

    @property
    def may_override(self) -> bool:
        """True when this caller may override a computed severity."""
        return may_override(self.role)
