"""The detail pane's Escalation section, over the demo NOC in a real cache file.

The path is worked out at a fixed instant (four minutes after INC-004289, a
SEV-2 on checkout, was opened and before anyone acknowledged it), so the
countdowns are the ones an operator would read at that moment.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from console.domain.incident import Incident, TimelineEvent, TimelineKind
from console.domain.sla import SlaPolicy
from console.models.incident_table import IncidentTableModel
from console.services.demo import load_demo
from console.services.directory import Directory
from console.services.queue import DisplayNames
from console.services.routing import escalation_line
from console.store import Cache
from console.views.actions import MainWindowActions
from console.views.detail import DetailPane

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
NUMBER = "INC-004289"


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Cache]:
    """The demo NOC written into a fresh cache file."""
    cache = Cache.open(tmp_path / "cache.db")
    load_demo(cache, NOW)
    yield cache
    cache.close()


def _incident(cache: Cache) -> Incident:
    [incident] = [i for i in cache.incidents() if i.number == NUMBER]
    return incident


def _pane(
    qtbot: QtBot, cache: Cache, source: Callable[[Incident], str | None] | None
) -> DetailPane:
    policy = SlaPolicy.default()
    names = DisplayNames.from_reference(
        cache.reference("services"), cache.reference("contacts"), cache.reference("teams")
    )
    model = IncidentTableModel(policy, NOW, cache.incidents(), names=names)
    actions = MainWindowActions([("light", "Light")], "light")
    pane = DetailPane(model, actions, cache.timeline, escalation_source=source)
    qtbot.addWidget(pane)
    pane.resize(900, 700)
    pane.show()
    return pane


def _source(cache: Cache, at: datetime) -> Callable[[Incident], str | None]:
    directory = Directory.from_store(cache)
    policy = SlaPolicy.default()

    def source(incident: Incident) -> str | None:
        return escalation_line(
            directory, incident, at, sla=policy, timeline=cache.timeline(incident.id)
        )

    return source


def test_the_pane_shows_who_is_engaged_who_is_next_and_when(qtbot: QtBot, demo: Cache) -> None:
    incident = _incident(demo)
    at = incident.opened_at + timedelta(minutes=4)
    pane = _pane(qtbot, demo, _source(demo, at))
    pane.show_incident(incident.id)

    assert pane.escalation_heading.isVisible()
    assert pane.escalation.isVisible()
    assert pane.escalation.text() == (
        "L1 Service desk — Carmen Ruiz +34 735 79 28 56 (due now)"
        " → L2 Platform & SRE — Yuki Tanaka +81 90-7782-7584 (in 11 min)"
        " → L3 Payments engineering — Ravi Shankar +91 99802 83946 (in 26 min)"
        " → Duty manager — Lucía Fernández +34 722 81 86 62 at 30 min or 75 % of SLA"
        " → Elena Navarro +34 684 52 00 04 at 30 min or 80 % of SLA"
    )


def test_escalation_entries_from_the_server_mark_tiers_engaged(qtbot: QtBot, demo: Cache) -> None:
    incident = _incident(demo)
    at = incident.opened_at + timedelta(minutes=4)
    pane = _pane(qtbot, demo, _source(demo, at))
    pane.show_incident(incident.id)
    demo.upsert_timeline(
        TimelineEvent(
            id=str(uuid.uuid4()),
            incident_id=incident.id,
            kind=TimelineKind.ESCALATION,
            at=at,
            author="escalation-timer",
            body=body,
            data=data,
        )
        for body, data in (
            ("Escalated to L1 Service desk: Carmen Ruiz", dict[str, object](tier=1)),
            ("Engaged L3 Payments engineering (swarm)", dict[str, object](tier=3, swarm=True)),
        )
    )
    pane.show_incident(incident.id)

    text = pane.escalation.text()
    assert text.startswith("L1 Service desk — Carmen Ruiz +34 735 79 28 56 (engaged) → ")
    assert " → L2 Platform & SRE — Yuki Tanaka +81 90-7782-7584 (in 11 min) → " in text
    assert " → L3 Payments engineering — " in text
    assert text.split(" → ")[2].endswith("(engaged)")


def test_without_a_source_or_a_policy_the_section_is_hidden(qtbot: QtBot, demo: Cache) -> None:
    incident = _incident(demo)
    for source in (None, lambda _incident: None):
        pane = _pane(qtbot, demo, source)
        pane.show_incident(incident.id)
        assert not pane.escalation_heading.isVisible()
        assert not pane.escalation.isVisible()
        assert pane.number.text().startswith(f"<b>{NUMBER}</b>")


def test_after_acknowledgement_the_line_keeps_every_name_and_number(
    qtbot: QtBot, demo: Cache
) -> None:
    incident = _incident(demo)
    at = incident.opened_at + timedelta(minutes=4)
    acked = dataclasses.replace(incident, acknowledged_at=at)
    text = _source(demo, at)(acked)
    assert text is not None
    assert text.startswith("L1 Service desk — Carmen Ruiz +34 735 79 28 56 (on request)")
    assert "L2 Platform & SRE — Yuki Tanaka +81 90-7782-7584 (on request)" in text
    assert "Ravi Shankar +91 99802 83946" in text


def test_response_due_agrees_with_the_header_for_a_new_incident(qtbot: QtBot, demo: Cache) -> None:
    from console.sync.edits import LocalEdits

    made = LocalEdits(demo, author="op").create(
        title="Checkout 502s", service="checkout", impact="high", urgency="high"
    )
    assert made.response_due is None  # not numbered by a backend yet
    pane = _pane(qtbot, demo, None)
    pane._model.upsert([made])
    pane.show_incident(made.id)
    due = pane.fields["response_due"].text()
    assert due != "—"
    header_due = pane.clocks["response"].text().rsplit("due ", 1)[1]
    assert header_due in due  # the same HH:MM in both places
