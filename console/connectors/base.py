"""The ``Backend`` protocol every connector implements, and the data it trades in.

A connector maps one remote ticket system (our own API in :mod:`console.connectors.noc`,
Request Tracker in :mod:`console.connectors.rt`) to plain domain records and back.
The sync engine only speaks this protocol, so adding a backend never touches the
engine, the store or the board; :mod:`console.connectors.registry` picks the
connector by URL scheme and opens it through the :class:`Opener` its package provides.

Everything crossing the protocol is plain data: domain :class:`Incident` and
:class:`TimelineEvent` records, reference documents as JSON dicts, and a
:class:`ChangeBatch` per page of the remote's change feed. Failures are the
typed errors below, so the engine can tell "try again later" (network gone,
rate limited) from "never retry" (refused) and from "re-read and merge" (stale).

Edits use one vocabulary for all backends: the names in :data:`PATCH_FIELDS`
with JSON values as :func:`field_value` reads them from a domain incident
(enums as their wire values, severity as ``"SEV-2"``). A connector translates
that vocabulary to its remote's own fields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Protocol, runtime_checkable

from console.config.settings import Settings
from console.domain.incident import Incident, TimelineEvent
from console.domain.roles import CONSOLE_ROLES, Caller

# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


class BackendError(Exception):
    """The backend could not do what was asked; ``str()`` says what and what to do.

    Raised as such for failures that are neither the network nor the request's
    fault (an unexpected server error, an answer the console cannot read):
    worth a few retries, but not forever.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unreachable(BackendError):
    """The backend cannot be reached right now (down, network gone, timed out, 502–504).

    ``retry_after`` is the server's hint in seconds when it gave one (a 503).
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TlsFailed(Unreachable):
    """The TLS certificate could not be verified; the message says how to fix the setup."""


class AuthFailed(BackendError):
    """The token is missing, expired or revoked (401): a person has to supply a new one."""


class RateLimited(BackendError):
    """The backend asked us to slow down (429); wait ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Rejected(BackendError):
    """The backend refused this request for good (403, 404, 409, 422): never retry it.

    ``message`` is the server's own explanation, meant for the operator.
    """

    def __init__(self, status: int, message: str, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class Stale(BackendError):
    """The edit was based on an old version (412); ``current`` is the backend's incident now."""

    def __init__(self, message: str, current: Incident) -> None:
        super().__init__(message)
        self.current = current


class StaleRecord(BackendError):
    """A review or problem edit was based on an old version (412); ``current`` is the
    backend's document now (the wire JSON of ``GET /v1/pirs/{id}`` or ``/v1/problems/{id}``)."""

    def __init__(self, message: str, current: Mapping[str, object]) -> None:
        super().__init__(message)
        self.current = current


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------

CALLER_ROLES = CONSOLE_ROLES
"""The console's roles, lowest first (:mod:`console.domain.roles`)."""


@dataclass(frozen=True)
class ChangeBatch:
    """One page of a backend's change feed, as domain records.

    ``reference`` and ``deleted_reference`` are keyed by the cache's reference
    kinds (``services``, ``teams``, ``contacts``, ``policies``, ``shifts``,
    ``categories``, ``known_errors``). ``cursor`` is where the next page starts; ``more`` says
    whether the backend already has another page. ``count`` is how many feed
    entries the page held (for progress).
    """

    cursor: int
    more: bool
    incidents: tuple[Incident, ...] = ()
    deleted_incidents: tuple[str, ...] = ()
    timeline: tuple[TimelineEvent, ...] = ()
    reference: Mapping[str, tuple[Mapping[str, object], ...]] = field(default_factory=dict)
    deleted_reference: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    count: int = 0


class EventStream(Protocol):
    """A live wake-up stream: iterating yields the backend's newest cursor on each change.

    Iteration blocks until the next wake-up; it ends (or raises
    :class:`Unreachable`) when the connection drops. :meth:`close` may be
    called from another thread and makes a blocked iteration end promptly.
    """

    def __iter__(self) -> Iterator[int]: ...

    def close(self) -> None: ...


@runtime_checkable
class Backend(Protocol):
    """What the sync engine needs from a ticket system.

    ``key`` identifies the backend's data for the cache (its cursor); it stays
    the same across restarts even when ``url`` does not (the embedded server
    picks a free port each time). Every method may raise the errors above;
    every network call has a timeout.
    """

    @property
    def key(self) -> str: ...

    @property
    def url(self) -> str: ...

    @property
    def supports_events(self) -> bool: ...

    def set_token(self, token: str) -> None:
        """Use ``token`` from now on (after the operator entered a new one)."""
        ...

    def changes(self, after: int, limit: int) -> ChangeBatch:
        """The feed entries after ``after``, at most ``limit``."""
        ...

    def whoami(self) -> Caller | None:
        """The account the token belongs to, as a :class:`Caller` (None: cannot say).

        The sync engine asks once per (re)connection and keeps the answer in
        the cache, so the console knows the operator's role offline too.
        """
        ...

    def latest_cursor(self) -> int | None:
        """The backend's newest cursor, for progress (None when it cannot say)."""
        ...

    def open_events(self, last_seen: int | None) -> EventStream:
        """Open the wake-up stream (only when :attr:`supports_events`)."""
        ...

    def get_incident(self, incident_id: str) -> Incident:
        """The backend's current state of one incident."""
        ...

    def create_incident(self, fields: Mapping[str, object], *, idempotency_key: str) -> Incident:
        """Log a new incident from the :data:`CREATE_FIELDS` given; returns it as stored."""
        ...

    def update_incident(
        self,
        incident_id: str,
        fields: Mapping[str, object],
        *,
        version: int,
        idempotency_key: str,
    ) -> Incident:
        """Change :data:`PATCH_FIELDS` of the incident at ``version`` (else :class:`Stale`)."""
        ...

    def add_timeline_entry(
        self,
        incident_id: str,
        kind: str,
        body: str,
        *,
        idempotency_key: str,
        score: int | None = None,
    ) -> TimelineEvent:
        """Add a work note, a status update or (kind ``csat``, with ``score``) a CSAT score;
        returns the entry as stored."""
        ...

    def publish_status_update(
        self, incident_id: str, audience: str, status: str, text: str, *, idempotency_key: str
    ) -> TimelineEvent:
        """Publish a major incident's update to one audience; the timeline entry recording it.

        A resend with the same ``idempotency_key`` publishes nothing twice;
        :class:`Rejected` (403) when the caller holds no role on the incident.
        """
        ...

    def engage(
        self, incident_id: str, tiers: list[int], reason: str, *, idempotency_key: str
    ) -> list[TimelineEvent]:
        """Engage several escalation tiers at once (swarming); returns the entries written.

        A backend refuses with :class:`Rejected` (403) when the caller may not
        swarm; a resend with the same ``idempotency_key`` engages nobody twice.
        """
        ...

    def assign_role(
        self, incident_id: str, role: str, person: str, reason: str, *, idempotency_key: str
    ) -> None:
        """Give a role on a major incident to ``person`` (the backend writes the hand-over entry).

        :class:`Rejected` (403) when the caller is not the incident's commander
        (nor a commander); a backend without roles refuses with what to do.
        """
        ...

    def set_bridge(
        self, incident_id: str, bridge: Mapping[str, str], *, idempotency_key: str
    ) -> None:
        """Set the war room's bridge (``url``, ``dial_in``, ``pin``); a timeline entry."""
        ...

    def change_responder(
        self, incident_id: str, person: str, action: str, *, idempotency_key: str
    ) -> None:
        """Record that a responder ``joined`` or ``left`` the bridge; a timeline entry."""
        ...

    def write_record(
        self,
        action: str,
        target: str,
        body: Mapping[str, object],
        *,
        version: int | None,
        idempotency_key: str,
    ) -> Mapping[str, object]:
        """A post-incident review or problem write (:data:`RECORD_ACTIONS`); the document as
        stored (a ``pir`` or ``problem`` wire document).

        ``target`` is the review's incident (id or number) or the problem's id;
        ``version`` goes as ``If-Match`` on a change (:class:`StaleRecord` on
        412). A backend without reviews refuses with :class:`Rejected`.
        """
        ...

    def get_record(self, kind: str, target: str) -> Mapping[str, object]:
        """The backend's document of a review (``kind`` ``pir``, by its id or its incident's)
        or a problem (``problem``); :class:`Rejected` from a backend without them."""
        ...

    def apply_workaround(
        self, incident_id: str, known_error_id: str, note: str, *, idempotency_key: str
    ) -> TimelineEvent:
        """Record on the incident that a known error's workaround was applied; the entry."""
        ...

    def holdings(self) -> list[tuple[str, str]]:
        """Which system holds what, for the operator: ``(what, where)`` pairs.

        One pair when the backend holds everything; a backend that holds only
        the incidents (Request Tracker) names where the rest comes from.
        """
        ...

    def take_notices(self) -> list[str]:
        """Messages for the operator gathered since the last call, each said once
        (a custom field missing in RT, …); empty when there is nothing to say."""
        ...

    @property
    def token_hint(self) -> str:
        """Where an operator gets a token for this backend, for the token dialog
        (empty: the dialog's own advice, which is about our server's tokens)."""
        ...

    def close(self) -> None:
        """Release connections (idempotent)."""
        ...


# --------------------------------------------------------------------------
# Opening a connector (console.connectors.registry)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenOptions:
    """What the operator chose beyond URL and token, and how a connector opens another backend.

    ``known_reference`` lists the cached reference ids of a kind (so a
    directory file can delete what left it while the console was closed);
    ``known_incidents`` the cached incident ids (so a ticket moved where the
    account cannot see it leaves the cache). ``address`` and ``open_peer``
    normalise and open another backend by URL with a given token, through
    this registry (RT's directory server is our own server).
    """

    address: Callable[[str], str]
    open_peer: Callable[[str, str], Backend]
    queue: str | None = None
    ca_bundle: Path | None = None
    known_reference: Callable[[str], list[str]] | None = None
    known_incidents: Callable[[], Iterable[str]] | None = None
    insecure_http: bool = False


class Opener(Protocol):
    """What a connector's entry module provides (module-level functions)."""

    def address(self, text: str) -> str:
        """The URL as the console keeps it; ValueError (saying what to type) when it is not one."""
        ...

    def open_backend(
        self, url: str, token: str | None, settings: Settings, options: OpenOptions
    ) -> Backend:
        """The connector for ``url``; ValueError for a setting the operator must fix."""
        ...

    def poll_interval(self, settings: Settings) -> timedelta:
        """How often to ask this backend for changes when it cannot push."""
        ...


# --------------------------------------------------------------------------
# The edit vocabulary
# --------------------------------------------------------------------------

CREATE_FIELDS: tuple[str, ...] = (
    "title",
    "service",
    "impact",
    "urgency",
    "category",
    "subcategory",
    "description",
    "reporter",
    "source",
    "assignment_group",
    "severity",
    "severity_reason",
    "major",
    "commander",
    "major_reason",
)
"""What may be set when logging an incident (the backend sets the rest).

All but ``title``, ``service``, ``impact`` and ``urgency`` are optional. The
triage adds these, present in ``fields`` only when used:

- ``assignment_group``: the team the incident routes to (a team id).
- ``severity`` (``"SEV-1"`` … ``"SEV-4"``) with ``severity_reason`` (text):
  a commander's override of the matrix, recorded in the timeline with the
  reason. Sent only when overriding; a backend refuses it with
  :class:`Rejected` (403) for a caller below commander.
- ``major`` (bool) with ``commander`` (a person's name): the incident is
  declared a major incident with that Incident Commander, recorded in the
  timeline as an escalation; ``major_reason`` (text) says why (the criteria).
"""

PATCH_FIELDS: tuple[str, ...] = (
    "title",
    "description",
    "category",
    "subcategory",
    "impact",
    "urgency",
    "assignee",
    "assignment_group",
    "state",
    "hold_reason",
    "severity",
    "severity_reason",
    "major",
    "major_reason",
    "acknowledged",
)
"""What an edit may change. ``hold_reason`` goes with ``state: on_hold``;
``severity_reason`` goes with ``severity`` (an override); ``major_reason`` with
``major`` (why it is declared or stood down, into the timeline)."""

COMPANION_FIELDS: Mapping[str, str] = {
    "hold_reason": "state",
    "severity_reason": "severity",
    "major_reason": "major",
}
"""Fields that travel with another one and are never compared on their own."""


def field_value(incident: Incident, name: str) -> object:
    """The JSON value of edit field ``name`` on ``incident`` (what a merge compares)."""
    if name in ("impact", "urgency", "state"):
        value = getattr(incident, name)
        return str(value.value)
    if name == "hold_reason":
        return incident.hold_reason.value if incident.hold_reason is not None else None
    if name == "severity":
        return incident.severity.code
    if name == "acknowledged":
        return incident.acknowledged_at is not None
    if name == "major":
        return incident.major
    if name in ("severity_reason", "major_reason", "commander"):
        return None  # not kept on the record; it goes into the timeline
    if name in PATCH_FIELDS or name in CREATE_FIELDS:
        attribute: object = getattr(incident, name)
        if attribute is not None and not isinstance(attribute, str | bool | int):
            return str(getattr(attribute, "value", attribute))
        return attribute
    raise KeyError(f"{name!r} is not an editable incident field")


RECORD_ACTIONS: Mapping[str, str] = {
    "pir_draft": "pir",
    "pir_patch": "pir",
    "pir_item": "pir",
    "problem_open": "problem",
    "problem_patch": "problem",
}
"""The review and problem writes (:meth:`Backend.write_record`) → the document kind answered.

- ``pir_draft``: ``POST /v1/pirs`` ``{"incident_id": target}``.
- ``pir_patch``: ``PATCH /v1/pirs/{target}`` (a :class:`~console.wire.pir.PirPatch`), ``If-Match``.
- ``pir_item``: ``POST /v1/pirs/{target}/action-items``; answers the review as it is then.
- ``problem_open``: ``POST /v1/problems`` (statement, incidents, root cause, workaround).
- ``problem_patch``: ``PATCH /v1/problems/{target}``, ``If-Match`` (state, link_incidents …).
"""
