"""What the triage wizard needs from the console, and what it hands back.

Qt-free and kept apart from :mod:`console.views.triage.wizard`, so the
window can be given a :class:`TriageContext` (and the actions can name the
outcomes) without loading the wizard itself, which is loaded when ``n`` is
first pressed; :mod:`console.services.triage` works the triage out from it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from console.domain.clock import utc_now
from console.domain.incident import Incident
from console.domain.severity import DEFAULT_MATRIX, PriorityMatrix
from console.domain.sla import SlaPolicy
from console.domain.triage import MAJOR_SHARE_PERCENT
from console.services.directory import ReferenceSource
from console.store.drafts import DraftStore


class CallerLike(Protocol):
    """Who the console acts as on the backend (``LocalEdits.caller()``)."""

    @property
    def name(self) -> str: ...

    @property
    def role(self) -> str: ...


@dataclass
class TriageContext:
    """What the wizard reads: reference data, open incidents, the SLA rules, who you are.

    ``reference`` is the cache (``services``, ``teams``, ``contacts``,
    ``policies``, ``shifts``, ``categories``, ``known_errors``); ``incidents``
    gives the loaded incidents (for duplicates); ``caller`` the operator's
    backend account and role (None: not known yet); ``drafts`` where the
    unfinished triage is kept (None: not kept).
    """

    reference: ReferenceSource
    incidents: Callable[[], Iterable[Incident]]
    policy: SlaPolicy
    matrix: PriorityMatrix = DEFAULT_MATRIX
    clock: Callable[[], datetime] = utc_now
    caller: Callable[[], CallerLike | None] = lambda: None
    drafts: DraftStore | None = None
    viewer_region: str | None = None
    share_threshold: int = MAJOR_SHARE_PERCENT


@dataclass(frozen=True)
class NewIncident:
    """Create an incident with these create fields (the vocabulary of ``LocalEdits.create``)."""

    fields: dict[str, object]
    workaround: str | None = None
    """The known error whose workaround the dispatcher applied (Alt+W), recorded on the incident."""


@dataclass(frozen=True)
class AddCaller:
    """Instead of a new incident: a work note on an existing one naming the new caller."""

    incident: Incident
    body: str


TriageOutcome = NewIncident | AddCaller
Submit = Callable[[TriageOutcome], str | None]
"""Performs the outcome; returns None when done, else what went wrong (the wizard stays open)."""
