"""Small builders for domain tests: an incident with sensible defaults."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from console.domain.incident import Incident
from console.domain.lifecycle import State
from console.domain.severity import Impact, Severity, Urgency

T0 = datetime(2024, 6, 3, 10, 0, tzinfo=UTC)  # a Monday, inside working hours


def make_incident(**changes: Any) -> Incident:
    """A new SEV-3 incident opened at ``T0`` (or ``opened_at``), with ``changes`` applied."""
    opened = changes.pop("opened_at", T0)
    fields: dict[str, Any] = {
        "id": "7d1c0a52-0000-4000-8000-000000000001",
        "number": "INC-000001",
        "title": "Report generation slow",
        "service": "Reporting",
        "impact": Impact.MEDIUM,
        "urgency": Urgency.MEDIUM,
        "severity": Severity.SEV3,
        "state": State.NEW,
        "opened_at": opened,
        "updated_at": opened,
    }
    fields.update(changes)
    return Incident(**fields)
