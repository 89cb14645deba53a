"""Builders for the view tests: incidents around a fixed instant, a round-the-clock policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from console.domain.calendar import TWENTY_FOUR_SEVEN
from console.domain.incident import Incident, format_number
from console.domain.lifecycle import State
from console.domain.severity import DEFAULT_MATRIX, Impact, Severity, Urgency
from console.domain.sla import SlaPolicy

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)  # a Wednesday morning

# Impact/urgency pairs the default matrix maps to each severity.
_PAIRS = {
    Severity.SEV1: (Impact.HIGH, Urgency.HIGH),
    Severity.SEV2: (Impact.HIGH, Urgency.MEDIUM),
    Severity.SEV3: (Impact.MEDIUM, Urgency.MEDIUM),
    Severity.SEV4: (Impact.LOW, Urgency.LOW),
}


def make_incident(
    n: int, severity: Severity = Severity.SEV3, *, age_min: int = 10, **changes: Any
) -> Incident:
    """Incident ``n``, opened ``age_min`` minutes before NOW and acknowledged at once."""
    impact, urgency = _PAIRS[severity]
    assert DEFAULT_MATRIX.severity(impact, urgency) is severity
    opened = NOW - timedelta(minutes=age_min)
    fields: dict[str, Any] = {
        "id": f"inc-{n}",
        "number": format_number(n),
        "title": f"Incident number {n}",
        "service": "payments-api",
        "impact": impact,
        "urgency": urgency,
        "severity": severity,
        "state": State.IN_PROGRESS,
        "opened_at": opened,
        "updated_at": opened,
        "acknowledged_at": opened,
    }
    fields.update(changes)
    return Incident(**fields)


@pytest.fixture
def policy() -> SlaPolicy:
    """The default targets, round the clock, so the figures do not depend on the weekday."""
    return SlaPolicy.default(TWENTY_FOUR_SEVEN)
