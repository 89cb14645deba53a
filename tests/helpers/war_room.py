"""A major incident with an escalation path and a workspace over it (the view tests of #19).

:func:`seed_command` writes a SEV-1 major on a service whose policy has an
on-call L2 (Jo Kim), a commander (Iris Lane) and a work note with an ETA;
:func:`command_view` opens the workspace over it with the real outbox writer,
the phone app replaced so a test dials nobody.
"""

from __future__ import annotations

from datetime import timedelta

from pytestqt.qtbot import QtBot

from console.domain.incident import TimelineEvent, TimelineKind
from console.domain.severity import Severity
from console.store import Cache
from console.sync.edits import LocalEdits
from console.views.major_workspace import MajorWorkspace
from tests.helpers.escalation import CONTACTS, POLICY, TEAMS
from tests.helpers.factories import NOW, FakeClock
from tests.helpers.factories import desk_incident as make_incident


def seed_command(cache: Cache) -> None:
    """The major incident, its service, team, contacts, policy and timeline."""
    major = make_incident(1, Severity.SEV1, age_min=40, major=True, title="Payments down")
    cache.upsert_incidents([major])
    policy = {**POLICY, "id": major.service, "service": major.service, "management": []}
    policy["tiers"] = [
        POLICY["tiers"][0],
        {**POLICY["tiers"][1], "rotation_id": None, "contact_id": "jo"},
        POLICY["tiers"][2],
    ]
    cache.upsert_reference(
        "services",
        [{"id": major.service, "name": "Payments API", "owner_team": "network",
          "customer_facing": True}],
    )  # fmt: skip
    cache.upsert_reference("teams", [{"id": k, **v} for k, v in TEAMS.items()])
    cache.upsert_reference(
        "contacts",
        [{"id": k, **v} for k, v in CONTACTS.items()]
        + [{"id": "iris", "name": "Iris Lane", "primary_phone": "+442079460000"}],
    )
    cache.upsert_reference("policies", [policy])
    declared = NOW - timedelta(minutes=40)
    cache.upsert_timeline(
        [
            TimelineEvent(
                "e1",
                "inc-1",
                TimelineKind.ESCALATION,
                declared,
                "iris",
                "Declared",
                {"major": True, "commander": "Iris Lane"},
            ),
            TimelineEvent(
                "e2",
                "inc-1",
                TimelineKind.WORK_NOTE,
                declared + timedelta(minutes=2),
                "iris",
                "Failing over the gateway, ETA 11:30 UTC",
            ),
        ]
    )


def command_view(qtbot: QtBot, cache: Cache, **kwargs: object) -> tuple[MajorWorkspace, list[str]]:
    """The workspace, shown at 1280x720, and the tel: URLs it dialled."""
    dialled: list[str] = []
    clock = FakeClock(NOW)

    def dial(url: str) -> bool:
        dialled.append(url)
        return True

    view = MajorWorkspace(
        cache,
        LocalEdits(cache, author="Iris Lane", clock=clock),
        clock=clock,
        open_url=dial,
        **kwargs,  # type: ignore[arg-type]
    )
    qtbot.addWidget(view)
    view.resize(1280, 720)
    view.show()
    return view, dialled
