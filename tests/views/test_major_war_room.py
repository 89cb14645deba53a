"""The workspace's war room part (views/major_war_room.py): roles from the escalation matrix,
the holders' phones, the bridge and the responders.

Real cache file, the real outbox writer (LocalEdits), the real dialogs; only
the phone app is replaced (``open_url``) so a test dials nobody.
"""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from console.config.settings import MajorSettings
from console.store import Cache
from console.views.major_dialogs import BridgeDialog, ResponderDialog, RoleDialog
from tests.helpers.war_room import command_view, seed_command


def test_the_on_call_person_is_offered_first_and_one_key_accepts(
    qtbot: QtBot, tmp_path: Path
) -> None:
    cache = Cache.open(tmp_path / "cache.db")
    seed_command(cache)
    view, _ = command_view(qtbot, cache, major=MajorSettings(extra_roles=("Scribe",)))
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
    seed_command(cache)
    view, _ = command_view(qtbot, cache)
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
    seed_command(cache)
    view, dialled = command_view(qtbot, cache)
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
    seed_command(cache)
    view, _ = command_view(qtbot, cache)
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


def test_phones_are_shown_in_the_viewers_format_and_dialled_as_e164(
    qtbot: QtBot, tmp_path: Path
) -> None:
    cache = Cache.open(tmp_path / "cache.db")
    seed_command(cache)
    view, dialled = command_view(qtbot, cache)
    view.accept_offer()  # Jo Kim becomes Technical Lead
    for region, commander, lead in (
        ("GB", "020 7946 0000", "07400 123456"),  # at home: national form
        ("ES", "+44 20 7946 0000", "+44 7400 123456"),  # abroad: international
    ):
        view.viewer_region = region
        view.refresh()
        labels = [a.text() for a in view.call_menu().actions()[:2]]
        assert labels[0].endswith(f"({commander})")
        assert labels[1].endswith(f"({lead})")
        assert f">{lead}</a>" in view.roles.text()
        assert "href='tel:+447400123456'" in view.roles.text()
    assert view.call()
    assert dialled[-1] == "tel:+442079460000"
    cache.close()
