"""The triage session without Qt: answers → assessment → routing → fields, note and drafts.

Over the demo NOC's reference data in a real SQLite cache, with the real
domain rules, SLA policy and matrix; the caller's role decides the override.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from console.domain.limits import NAME_CHARS, NOTE_CHARS, TITLE_CHARS
from console.domain.roles import Caller
from console.domain.severity import Severity
from console.domain.sla import SlaPolicy
from console.services.demo import load_demo
from console.services.triage import (
    CONTACT_MAX,
    DETAILS_MAX,
    REPORTER_MAX,
    TITLE_MAX,
    TriageAnswers,
    TriageSession,
    share_value,
)
from console.services.triage_context import TriageContext
from console.store import Cache
from tests.helpers.factories import NOW
from tests.helpers.factories import desk_incident as make_incident


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    with Cache.open(tmp_path / "cache.db") as opened:
        load_demo(opened, NOW)
        yield opened


def _session(cache: Cache, role: str | None = "dispatcher") -> TriageSession:
    caller = Caller("ana", role) if role is not None else None
    return TriageSession(
        TriageContext(
            reference=cache,
            incidents=lambda: [make_incident(1, Severity.SEV2, age_min=12)],
            policy=SlaPolicy.default(),
            clock=lambda: NOW,
            caller=lambda: caller,
        )
    )


def _sev2(**changes: object) -> TriageAnswers:
    answers = TriageAnswers(
        reporter="Ana  Ruiz",
        contact="+34 600 111 222",
        service="Payments API",
        service_id="payments-api",
        title="Card payments  failing at checkout",
        details="Since 09:40.",
        category_id="software",
        subcategory_id="application",
        users="site",
        critical_down=False,
        workaround="partial",
        urgency={
            "regulatory": False,
            "customer_sla": True,
            "time_window": False,
            "spreading": False,
        },
    )
    for name, value in changes.items():
        setattr(answers, name, value)
    return answers


def test_the_limits_come_from_the_wire() -> None:
    assert TITLE_MAX == TITLE_CHARS
    assert REPORTER_MAX + len(" ()") + CONTACT_MAX <= NAME_CHARS
    assert DETAILS_MAX < NOTE_CHARS


def test_answers_give_the_matrix_severity_and_the_owning_team(cache: Cache) -> None:
    session = _session(cache)
    session.answers = _sev2()
    computed = session.compute()
    assert computed.impact is not None
    assert computed.urgency is not None
    assert computed.severity is Severity.SEV2
    assert computed.routing is not None
    assert computed.routing.team_id == "payments-eng"
    assert computed.routing.engaged
    assert session.final_severity() is Severity.SEV2


def test_unanswered_questions_give_no_severity(cache: Cache) -> None:
    session = _session(cache)
    session.answers = _sev2(users=None)
    assert session.compute().severity is None
    session.answers = _sev2(share="150")
    assert session.compute().severity is None
    assert share_value("40 %") == 40
    assert isinstance(share_value("lots"), str)


def test_fields_are_the_create_keywords(cache: Cache) -> None:
    session = _session(cache)
    session.answers = _sev2()
    session.compute()
    fields = session.fields()
    assert fields["title"] == "Card payments failing at checkout"
    assert fields["service"] == "payments-api"
    assert fields["reporter"] == "Ana Ruiz (+34 600 111 222)"
    assert fields["category"] == "software"
    assert fields["subcategory"] == "application"
    assert fields["assignment_group"] == "payments-eng"
    assert fields["source"] == "phone"
    assert str(fields["description"]).startswith("Since 09:40.\n\nTriage: impact high (")
    assert "severity" not in fields
    assert "major" not in fields


@pytest.mark.parametrize(
    ("role", "allowed"),
    [(None, False), ("viewer", False), ("dispatcher", False), ("commander", True), ("admin", True)],
)
def test_the_override_right_goes_by_role(cache: Cache, role: str | None, allowed: bool) -> None:
    assert _session(cache, role).may_override() is allowed


def test_an_override_is_logged_with_its_reason(cache: Cache) -> None:
    session = _session(cache, "commander")
    session.answers = _sev2(overriding=True, override="SEV-1", override_reason=" board demo ")
    session.compute()
    assert session.final_severity() is Severity.SEV1
    fields = session.fields()
    assert fields["severity"] == "SEV-1"
    assert fields["severity_reason"] == "board demo"


def test_the_caller_note_says_a_worse_picture(cache: Cache) -> None:
    session = _session(cache)
    session.answers = _sev2()
    existing = make_incident(7, Severity.SEV3, age_min=5)
    note = session.caller_note(existing)
    assert note.startswith(
        "Another caller for this incident: Ana Ruiz (+34 600 111 222), by phone."
    )
    assert "→ SEV-2" in note
    assert "a commander should review its severity" in note
    assert note.endswith("Since 09:40.")


def test_a_snapshot_restores_the_same_answers(cache: Cache) -> None:
    session = _session(cache, "commander")
    answers = _sev2(
        overriding=True, override="SEV-1", override_reason="why", workaround_applied="KE-1"
    )
    session.answers = answers
    draft = session.snapshot(page=4)
    assert draft.page == 4
    assert draft.saved_at == NOW
    restored = session.restore(draft)
    answers.commander_name = ""  # logged from the typed text, not kept in the draft
    assert restored == answers
    assert "Restore it?" in session.draft_offer(draft)


def test_a_dispatcher_restores_no_override(cache: Cache) -> None:
    draft = _session(cache, "commander")
    draft.answers = _sev2(overriding=True, override="SEV-1", override_reason="why")
    restored = _session(cache, "dispatcher").restore(draft.snapshot(page=4))
    assert not restored.overriding
    assert restored.override is None


def test_nothing_typed_is_no_draft(cache: Cache) -> None:
    assert not _session(cache).snapshot(page=0).has_content
