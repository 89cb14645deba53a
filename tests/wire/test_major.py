"""Major incidents: the cadence (console/domain/major.py), drafts (console/services/major.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from console.domain.major import countdown_text, next_update_due, overdue
from console.services.major import DEFAULT_TEMPLATES, TemplateRefused, render_draft
from console.wire.major import StatusUpdate

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
FIELDS = {
    "title": "Checkout returns 502",
    "service": "Checkout",
    "severity": "SEV-1",
    "impact": "payments fail",
    "started": "10:00 UTC",
    "status": "investigating",
    "doing": "failing over the database",
    "next_update": "10:15 UTC",
}


def _update(audience: str, minutes: int, status: str = "investigating") -> StatusUpdate:
    return StatusUpdate(
        id=f"{audience}-{minutes}",
        incident_id="i",
        audience=audience,  # type: ignore[arg-type]
        status=status,  # type: ignore[arg-type]
        text="x",
        at=T0 + timedelta(minutes=minutes),
        author="a",
    )


def test_cadence_per_severity_and_audience() -> None:
    due = next_update_due(
        severity=1, declared_at=T0, updates=[], customer_facing=True, resolved=False
    )
    assert due == {
        "internal": T0 + timedelta(minutes=15),
        "executive": T0,
        "customer": T0 + timedelta(minutes=15),
    }
    sev2 = next_update_due(
        severity=2, declared_at=T0, updates=[], customer_facing=False, resolved=False
    )
    assert sev2["internal"] == T0 + timedelta(minutes=30)
    assert sev2["customer"] is None
    custom = next_update_due(
        severity=2,
        declared_at=T0,
        updates=[],
        customer_facing=False,
        resolved=False,
        cadence={2: 20},
    )
    assert custom["internal"] == T0 + timedelta(minutes=20)


def test_publishing_resets_and_milestones_owe_the_executives() -> None:
    updates = [_update("internal", 10), _update("executive", 2)]
    due = next_update_due(
        severity=1, declared_at=T0, updates=updates, customer_facing=False, resolved=False
    )
    assert due["internal"] == T0 + timedelta(minutes=25)
    assert due["executive"] is None
    updates.append(_update("internal", 20, "identified"))
    due = next_update_due(
        severity=1, declared_at=T0, updates=updates, customer_facing=False, resolved=False
    )
    assert due["executive"] == T0 + timedelta(minutes=20)
    assert overdue(due, T0 + timedelta(minutes=26)) == ["executive"]
    # A milestone said again (to another audience) owes the executives nothing new.
    updates += [_update("executive", 22), _update("customer", 23, "identified")]
    due = next_update_due(
        severity=1, declared_at=T0, updates=updates, customer_facing=True, resolved=False
    )
    assert due["executive"] is None
    assert overdue(due, T0 + timedelta(minutes=36)) == ["internal"]


def test_countdown_text_says_overdue_in_words() -> None:
    assert countdown_text(T0 + timedelta(minutes=12, seconds=4), T0) == "12:04"
    assert countdown_text(T0, T0 + timedelta(minutes=3, seconds=10)) == "OVERDUE 3:10"
    assert countdown_text(None, T0) == "—"


def test_default_templates_render() -> None:
    for template in DEFAULT_TEMPLATES.values():
        text = render_draft(template, FIELDS)
        assert "Checkout" in text
        assert "{{" not in text


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("{{ secret_field }}", "unknown field 'secret_field'"),
        ("{% for x in service %}{{ x }}{% endfor %}", "loops"),
        ("{{ service.__class__.__mro__ }}", "cannot be filled"),
        ("{{ service ", "does not parse"),
    ],
)
def test_bad_templates_are_refused_clearly(template: str, reason: str) -> None:
    with pytest.raises(TemplateRefused, match=reason):
        render_draft(template, FIELDS)


def test_a_draft_over_the_limit_is_refused() -> None:
    with pytest.raises(TemplateRefused, match="longer than"):
        render_draft("{{ doing }}", {**FIELDS, "doing": "x" * 100_000})
