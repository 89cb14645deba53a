"""The workspace's command: roles from the escalation matrix, phones, the bridge, the summary.

Real cache file, the real outbox writer (LocalEdits), the real dialogs; only
the phone app is replaced (``open_url``) so a test dials nobody.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMainWindow, QTabWidget
from pytestqt.qtbot import QtBot

from console.config.settings import MajorSettings
from console.domain.incident import TimelineEvent, TimelineKind
from console.domain.severity import Severity
from console.store import Cache
from console.sync.edits import LocalEdits
from console.views.actions import MainWindowActions
from console.views.major_dialogs import BridgeDialog, ResponderDialog, RoleDialog
from console.views.major_summary import SummaryDialog
from console.views.major_workspace import MajorWorkspace, install
from tests.helpers.escalation import CONTACTS, POLICY, TEAMS
from tests.helpers.factories import NOW, FakeClock
from tests.helpers.factories import desk_incident as make_incident


def _seed(cache: Cache) -> None:
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


def _view(qtbot: QtBot, cache: Cache, **kwargs: object) -> tuple[MajorWorkspace, list[str]]:
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


def test_the_on_call_person_is_offered_first_and_one_key_accepts(
    qtbot: QtBot, tmp_path: Path
) -> None:
    cache = Cache.open(tmp_path / "cache.db")
    _seed(cache)
    view, _ = _view(qtbot, cache, major=MajorSettings(extra_roles=("Scribe",)))
    offer = view.offer.text()
    assert "Technical Lead: offer Jo Kim" in offer
    assert "on call for Network Engineering (L2)" in offer
    assert "Scribe: <i>unassigned</i>" in view.roles.text()

    view.accept_offer()
    (queued,) = cache.pending_outbox()
    assert queued.payload["command"] == "role"
    assert (queued.payload["role"], queued.payload["person"]) == ("Technical Lead", "Jo Kim")
    assert "Technical Lead: Jo Kim" in view.roles.text()  # shown at once, offline too
    assert "Communications Lead: offer" in view.offer.text()  # the next open role
    cache.close()


def test_a_hand_over_is_picked_in_the_dialog_and_a_refusal_keeps_it_open(
    qtbot: QtBot, tmp_path: Path
) -> None:
    cache = Cache.open(tmp_path / "cache.db")
    _seed(cache)
    view, _ = _view(qtbot, cache)
    dialog = view.assign_role("Incident Commander")
    assert isinstance(dialog, RoleDialog)
    qtbot.addWidget(dialog)
    first = dialog.people.item(0).text()
    assert first.startswith("▶ Jo Kim")  # on call: first, with a shape
    assert all(
        "Iris Lane" not in dialog.people.item(n).text() for n in range(dialog.people.count())
    )
    dialog.filter.setText("ana")
    assert dialog.chosen_person() == "Ana Ruiz"
    dialog.reason.setText("end of shift")
    dialog.buttons.accepted.emit()
    assert not dialog.isVisible()
    (queued,) = cache.pending_outbox()
    assert queued.payload["reason"] == "end of shift"
    handed = [e for e in cache.timeline("inc-1") if e.data.get("role") == "Incident Commander"]
    assert "Iris Lane → Ana Ruiz" in handed[-1].body  # from whom, to whom (and when: its time)
    assert "Incident Commander: Ana Ruiz" in view.roles.text()

    again = view.assign_role("Incident Commander")
    assert isinstance(again, RoleDialog)
    qtbot.addWidget(again)
    again.filter.setText("no such person")
    again.buttons.accepted.emit()
    assert again.isVisible()
    assert "choose someone" in again.error.text()
    assert len(cache.pending_outbox()) == 1
    cache.close()


def test_the_commanders_phone_is_one_key_away(qtbot: QtBot, tmp_path: Path) -> None:
    cache = Cache.open(tmp_path / "cache.db")
    _seed(cache)
    view, dialled = _view(qtbot, cache)
    view.accept_offer()  # Jo Kim becomes Technical Lead
    targets = view.call_targets()
    assert [(role, who) for role, who, _uri in targets] == [
        ("Incident Commander", "Iris Lane"),
        ("Technical Lead", "Jo Kim"),
    ]
    menu = view.call_menu()
    assert menu.actions()[0].text().startswith("&1 Incident Commander: Iris Lane")
    menu.actions()[1].trigger()
    assert dialled == ["tel:+447400123456"]
    assert view.call()  # the commander
    assert dialled[-1] == "tel:+442079460000"
    cache.close()


def test_bridge_and_responders_are_edited_from_the_workspace(qtbot: QtBot, tmp_path: Path) -> None:
    cache = Cache.open(tmp_path / "cache.db")
    _seed(cache)
    view, _ = _view(qtbot, cache)
    bridge = view.set_bridge()
    assert isinstance(bridge, BridgeDialog)
    qtbot.addWidget(bridge)
    bridge.url.setText("http://not-secure.example.com")
    bridge.buttons.accepted.emit()
    assert bridge.isVisible()
    assert "https://" in bridge.error.text()
    assert cache.pending_outbox() == []
    bridge.url.setText("https://meet.example.com/sev1")
    bridge.dial_in.setText("+44 20 7946 0000")
    bridge.pin.setText("482913#")
    bridge.buttons.accepted.emit()
    assert not bridge.isVisible()
    assert "tel:+442079460000,,482913#" in view.war_room.text()

    responder = view.record_responder()
    assert isinstance(responder, ResponderDialog)
    qtbot.addWidget(responder)
    responder.person.setCurrentText("Jo Kim")
    responder.buttons.accepted.emit()
    assert "Jo Kim (since" in view.war_room.text()
    assert [r.payload["command"] for r in cache.pending_outbox()] == ["bridge", "responder"]
    cache.close()


def test_templates_cadence_and_roles_come_from_settings(qtbot: QtBot, tmp_path: Path) -> None:
    cache = Cache.open(tmp_path / "cache.db")
    _seed(cache)
    major = MajorSettings(
        cadence_minutes={1: 60, 2: 30},
        templates={
            "SEV-1": {"internal": "Ours: {{ service }} / {{ status }}"},
            "default": {"executive": "{{ password }}"},  # hand-edited, bad
        },
    )
    view, _ = _view(qtbot, cache, major=major)
    view.audience.setCurrentText("internal")
    assert view.draft.toPlainText() == "Ours: Payments API / investigating"
    # 60-minute cadence from the declaration 40 min ago: 20 minutes left.
    assert "20:00" in view.countdowns["internal"].text()
    view.audience.setCurrentText("executive")
    assert "major.templates.default.executive" in view.message.text()
    assert "unknown field 'password'" in view.message.text()
    assert "major incident on Payments API" in view.draft.toPlainText()  # the built-in one
    cache.close()


def test_the_executive_summary_is_one_screen_copied_as_text_and_printed(
    qtbot: QtBot, tmp_path: Path
) -> None:
    cache = Cache.open(tmp_path / "cache.db")
    _seed(cache)
    view, _ = _view(qtbot, cache)
    dialog = view.show_summary()
    assert isinstance(dialog, SummaryDialog)
    qtbot.addWidget(dialog)
    shown = dialog.view.toPlainText()
    for words in ("Payments down", "Payments API", "11:30 UTC", "Iris Lane", "internal:"):
        assert words in shown, (words, shown)
    dialog.copy_text()
    copied = QGuiApplication.clipboard().text()
    assert copied == dialog.summary.text()
    assert "ETA" in copied
    assert "Incident Commander: Iris Lane (+442079460000)" in copied
    pdf = dialog.print_pdf(tmp_path / "summary.pdf")
    assert pdf is not None
    assert pdf.read_bytes().startswith(b"%PDF")
    cache.close()


def test_install_wires_the_major_menu_of_the_registry(qtbot: QtBot, tmp_path: Path) -> None:
    cache = Cache.open(tmp_path / "cache.db")
    _seed(cache)
    window = QMainWindow()
    qtbot.addWidget(window)
    tabs = QTabWidget(window)
    window.setCentralWidget(tabs)
    actions = MainWindowActions([("light", "Light")], "light", window)
    assert not actions.major_summary.isEnabled()  # until a workspace is installed
    window.menu_actions = actions  # type: ignore[attr-defined]
    workspace = install(window, tabs, cache, LocalEdits(cache, author="Iris Lane"))
    assert all(a.isEnabled() for a in actions.major_actions)
    tabs.addTab(QMainWindow(), "other")
    tabs.setCurrentIndex(1)
    actions.major_accept_role.trigger()
    assert tabs.currentWidget() is workspace  # the workspace is shown first
    assert cache.pending_outbox()[0].payload["command"] == "role"
    read_only = MainWindowActions([("light", "Light")], "light", window)
    other = QMainWindow()
    qtbot.addWidget(other)
    other.menu_actions = read_only  # type: ignore[attr-defined]
    install(other, QTabWidget(other), cache, None)
    assert read_only.major_summary.isEnabled()
    assert not read_only.major_accept_role.isEnabled()  # the demo shows, never edits
    cache.close()
