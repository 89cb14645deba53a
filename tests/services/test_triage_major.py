"""#19 item 1: the triage's major-incident suggestion, with the site's share threshold, and the
criteria written as the why of the declaration."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from console.domain.roles import Caller
from console.domain.sla import SlaPolicy
from console.services.demo import load_demo
from console.services.triage import TriageAnswers, TriageSession
from console.services.triage_context import TriageContext
from console.store import Cache
from tests.helpers.factories import NOW


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    with Cache.open(tmp_path / "cache.db") as opened:
        load_demo(opened, NOW)
        yield opened


def _session(cache: Cache, share_threshold: int) -> TriageSession:
    return TriageSession(
        TriageContext(
            reference=cache,
            incidents=list,
            policy=SlaPolicy.default(),
            clock=lambda: NOW,
            caller=lambda: Caller("ana", "commander"),
            share_threshold=share_threshold,
        )
    )


def _answers(share: str, regulatory: bool = False) -> TriageAnswers:
    return TriageAnswers(
        reporter="Ana Ruiz",
        contact="+34 600 111 222",
        service="Payments API",
        service_id="payments-api",
        title="Card payments failing at checkout",
        details="Since 09:40.",
        category_id="software",
        subcategory_id="application",
        users="site",
        critical_down=False,
        workaround="partial",
        share=share,
        urgency={
            "regulatory": regulatory,
            "customer_sla": False,
            "time_window": False,
            "spreading": False,
        },
    )


def test_the_sites_threshold_decides_the_share_criterion(cache: Cache) -> None:
    default = _session(cache, 25)
    default.answers = _answers("15")
    assert not default.compute().trigger
    strict = _session(cache, 10)
    strict.answers = _answers("15")
    assert strict.compute().trigger.reasons == (
        "About 15 % of users are affected (more than 10 %)",
    )


def test_declaring_writes_the_criteria_as_the_why(cache: Cache) -> None:
    session = _session(cache, 25)
    session.answers = _answers("40", regulatory=True)
    session.answers.declare_major = True
    session.answers.commander_name = "Lucía Fernández"
    session.compute()
    fields = session.fields()
    assert fields["major"] is True
    assert fields["major_reason"] == (
        "SEV-1: every critical incident is run as a major incident; "
        "About 40 % of users are affected (more than 25 %); "
        "A regulatory or legal notification may be required"
    )
