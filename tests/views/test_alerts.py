"""The alert notifier: notifications, one sound per batch, mute/snooze controls — silently.

Every test plays through :class:`SilentPlayer` (the offscreen platform has no
speaker and no tray), and checks what would have been heard and shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from console.domain.alerts import Alert, AlertReason, AlertRules, AlertTracker, readings_for
from console.domain.incident import Incident, TimelineEvent, TimelineKind
from console.domain.lifecycle import State
from console.domain.severity import Severity
from console.domain.sla import SlaPolicy, SlaReading
from console.views.actions import MainWindowActions
from console.views.alerts import (
    SNOOZE_CHOICES,
    AlertNotifier,
    BeepPlayer,
    CommandPlayer,
    SilentPlayer,
    SoundEffectPlayer,
    sound_player,
    tray_icon,
)
from tests.helpers.factories import NOW
from tests.helpers.factories import desk_incident as make_incident


class Clock:
    """A settable clock, so re-alarms and snoozes happen at chosen instants."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def new(n: int, severity: Severity) -> Incident:
    """A fresh, unacknowledged incident opened a minute before NOW."""
    return make_incident(n, severity, age_min=1, state=State.NEW, acknowledged_at=None)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def player() -> SilentPlayer:
    return SilentPlayer()


def make_notifier(
    qtbot: QtBot, clock: Clock, player: SilentPlayer, rules: AlertRules | None = None
) -> AlertNotifier:
    """A notifier driven by the action registry's Alerts actions, as in the app."""
    notifier = AlertNotifier(AlertTracker(rules), player, clock=clock)
    notifier.connect_actions(MainWindowActions([("light", "Light")], "light", notifier))
    return notifier


def actions_of(notifier: AlertNotifier) -> MainWindowActions:
    """The registry's actions :func:`make_notifier` connected (the notifier's child)."""
    actions = notifier.findChild(MainWindowActions)
    assert isinstance(actions, MainWindowActions)
    return actions


def check(
    notifier: AlertNotifier, policy: SlaPolicy, incidents: Iterable[Incident], at: datetime
) -> list[Alert]:
    incidents = list(incidents)
    return notifier.check(incidents, readings_for(incidents, policy, at), at)


def test_a_batch_shows_each_alert_and_sounds_the_gravest_once(
    qtbot: QtBot, clock: Clock, player: SilentPlayer, policy: SlaPolicy
) -> None:
    notifier = make_notifier(qtbot, clock, player)
    shown: list[tuple[str, str]] = []
    notifier.notified.connect(lambda title, body: shown.append((title, body)))
    with qtbot.waitSignal(notifier.alarms_changed) as counted:
        alerts = check(notifier, policy, [new(2, Severity.SEV2), new(1, Severity.SEV1)], NOW)
    assert [a.number for a in alerts] == ["INC-000001", "INC-000002"]
    assert [title for title, _ in shown] == [
        "SEV-1 INC-000001 · New incident",
        "SEV-2 INC-000002 · New incident",
    ]
    assert shown[0][1].startswith("Incident number 1\nNew SEV-1 Critical")
    assert player.played == [Severity.SEV1]
    assert counted.args == [2]


def test_many_alerts_at_once_make_one_summary(
    qtbot: QtBot, clock: Clock, player: SilentPlayer, policy: SlaPolicy
) -> None:
    notifier = make_notifier(qtbot, clock, player)
    shown: list[str] = []
    notifier.notified.connect(lambda title, _body: shown.append(title))
    incidents = [new(n, Severity.SEV2) for n in range(1, 5)] + [new(9, Severity.SEV1)]
    check(notifier, policy, incidents, NOW)
    assert shown == ["5 alerts: 1 SEV-1, 4 SEV-2"]
    assert player.played == [Severity.SEV1]


def test_re_alarms_sound_again_until_acknowledged(
    qtbot: QtBot, clock: Clock, player: SilentPlayer, policy: SlaPolicy
) -> None:
    notifier = make_notifier(qtbot, clock, player)
    sev1 = new(1, Severity.SEV1)
    check(notifier, policy, [sev1], NOW)
    check(notifier, policy, [sev1], NOW + timedelta(seconds=61))
    assert player.played == [Severity.SEV1, Severity.SEV1]
    notifier.acknowledge("inc-1")
    check(notifier, policy, [sev1], NOW + timedelta(minutes=3))
    assert player.played == [Severity.SEV1, Severity.SEV1]


def test_a_muted_severity_shows_the_notification_without_sound(
    qtbot: QtBot, clock: Clock, player: SilentPlayer, policy: SlaPolicy
) -> None:
    notifier = make_notifier(qtbot, clock, player)
    actions_of(notifier).mute_alerts[Severity.SEV1].setChecked(True)
    assert notifier.tracker.is_muted(Severity.SEV1)
    alerted: list[Alert] = []
    notifier.alerted.connect(alerted.append)
    check(notifier, policy, [new(1, Severity.SEV1)], NOW)
    assert [a.number for a in alerted] == ["INC-000001"]
    assert player.played == []
    assert notifier.silence_text() == "SEV-1 muted"


def test_mutes_from_the_settings_show_as_checked(
    qtbot: QtBot, clock: Clock, player: SilentPlayer
) -> None:
    notifier = make_notifier(qtbot, clock, player, AlertRules(muted=frozenset({Severity.SEV4})))
    assert actions_of(notifier).mute_alerts[Severity.SEV4].isChecked()
    assert not actions_of(notifier).mute_alerts[Severity.SEV1].isChecked()


def test_a_mute_set_elsewhere_moves_the_check_mark(
    qtbot: QtBot, clock: Clock, player: SilentPlayer
) -> None:
    notifier = make_notifier(qtbot, clock, player)
    notifier.set_muted(Severity.SEV2, True)  # as the settings dialog does
    assert actions_of(notifier).mute_alerts[Severity.SEV2].isChecked()
    notifier.set_muted(Severity.SEV2, False)
    assert not actions_of(notifier).mute_alerts[Severity.SEV2].isChecked()
    assert not notifier.tracker.is_muted(Severity.SEV2)


def test_snooze_and_resume_through_the_actions(
    qtbot: QtBot, clock: Clock, player: SilentPlayer, policy: SlaPolicy
) -> None:
    notifier = make_notifier(qtbot, clock, player)
    actions_of(notifier).snooze_alerts[(Severity.SEV1, SNOOZE_CHOICES[0])].trigger()
    assert notifier.tracker.snoozed_until(Severity.SEV1, NOW) == NOW + SNOOZE_CHOICES[0]
    assert "SEV-1 snoozed until" in notifier.silence_text()
    sev1 = new(1, Severity.SEV1)
    assert check(notifier, policy, [sev1], NOW) == []
    assert player.played == []
    actions_of(notifier).resume_alerts.trigger()
    alerts = check(notifier, policy, [sev1], NOW + timedelta(seconds=5))
    assert [a.reason for a in alerts] == [AlertReason.NEW_INCIDENT]
    assert player.played == [Severity.SEV1]


def test_notifications_can_be_switched_off_and_sound_kept(
    qtbot: QtBot, clock: Clock, player: SilentPlayer, policy: SlaPolicy
) -> None:
    notifier = make_notifier(qtbot, clock, player, AlertRules(notify=False))
    shown: list[str] = []
    notifier.notified.connect(lambda title, _body: shown.append(title))
    check(notifier, policy, [new(1, Severity.SEV1)], NOW)
    assert shown == []
    assert player.played == [Severity.SEV1]


def test_acknowledge_all_through_the_action(
    qtbot: QtBot, clock: Clock, player: SilentPlayer, policy: SlaPolicy
) -> None:
    notifier = make_notifier(qtbot, clock, player)
    check(notifier, policy, [new(1, Severity.SEV1), new(2, Severity.SEV2)], NOW)
    with qtbot.waitSignal(notifier.alarms_changed) as counted:
        actions_of(notifier).acknowledge_alarms.trigger()
    assert counted.args == [0]
    assert notifier.tracker.alarms() == []
    actions = actions_of(notifier)
    menu = actions.menu(actions.alerts_group())
    assert "Acknowledge all alarms" in [a.text().replace("&", "") for a in menu.actions()]


def test_watching_primes_then_alarms_on_what_is_new(
    qtbot: QtBot, clock: Clock, player: SilentPlayer, policy: SlaPolicy
) -> None:
    incidents = [new(1, Severity.SEV1)]

    def source(at: datetime) -> tuple[list[Incident], Mapping[str, SlaReading]]:
        return list(incidents), readings_for(incidents, policy, at)

    notifier = make_notifier(qtbot, clock, player)
    notifier.watch(source, interval_ms=20)
    incidents.append(new(2, Severity.SEV2))
    with qtbot.waitSignal(notifier.alerted, timeout=2000) as caught:
        pass
    notifier.stop()
    alert = caught.args[0]
    assert isinstance(alert, Alert)
    assert alert.number == "INC-000002"  # INC-000001 was there before: primed, not new
    assert player.played == [Severity.SEV2]


# ------------------------------------------------------------------ players


def test_no_sound_and_no_tray_without_a_screen(qtbot: QtBot) -> None:
    assert isinstance(sound_player(True), SilentPlayer)
    assert isinstance(sound_player(False), SilentPlayer)
    assert tray_icon(QIcon()) is None


def test_the_bell_rings_once_per_severity_step(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``QApplication.beep`` is replaced by a counter: the offscreen platform has no bell."""
    rings: list[int] = []
    monkeypatch.setattr(QApplication, "beep", staticmethod(lambda: rings.append(1)))
    bell = BeepPlayer()
    bell.play(Severity.SEV1)
    qtbot.waitUntil(lambda: len(rings) == 3, timeout=3000)
    bell.play(Severity.SEV3)
    qtbot.waitUntil(lambda: len(rings) == 4, timeout=3000)
    qtbot.wait(600)  # no stray rings afterwards
    assert len(rings) == 4


def test_sound_effects_load_one_file_per_severity(qtbot: QtBot) -> None:
    """QtMultimedia is not installed (PySide6-Essentials), so a stand-in module records
    what ``QSoundEffect`` would have been asked to load and play."""
    effects: list[Any] = []

    class FakeEffect:
        def __init__(self, _parent: object) -> None:
            self.source = ""
            self.plays = 0
            effects.append(self)

        def setSource(self, url: Any) -> None:
            self.source = url.toLocalFile()

        def play(self) -> None:
            self.plays += 1

    player = SoundEffectPlayer(SimpleNamespace(QSoundEffect=FakeEffect))  # type: ignore[arg-type]
    assert [e.source.rsplit("/", 1)[-1] for e in effects] == [
        "sev1.wav",
        "sev2.wav",
        "sev3.wav",
        "sev4.wav",
    ]
    player.play(Severity.SEV2)
    assert [e.plays for e in effects] == [0, 1, 0, 0]


def test_a_new_escalation_entry_is_notified_once_and_muted_severities_stay_silent(
    qtbot: QtBot, clock: Clock, player: SilentPlayer
) -> None:
    notifier = make_notifier(qtbot, clock, player)
    shown: list[tuple[str, str]] = []
    notifier.notified.connect(lambda title, body: shown.append((title, body)))
    target = new(1, Severity.SEV2)
    entry = TimelineEvent(
        id="e1",
        incident_id=target.id,
        kind=TimelineKind.ESCALATION,
        at=NOW + timedelta(seconds=5),
        author="escalation",
        body="Engaged L2 Network (swarm): Jo Kim",
    )
    lookup = {target.id: target}.get
    (alert,) = notifier.timeline_changed([entry], lookup)
    assert alert.incident_id == target.id
    assert shown == [
        (
            f"SEV-2 {target.number} · Escalated",
            f"{target.title}\nEscalated: {target.number} — Engaged L2 Network (swarm): Jo Kim",
        )
    ]
    assert player.played == [Severity.SEV2]
    assert notifier.timeline_changed([entry], lookup) == []
    notifier.set_muted(Severity.SEV2, True)
    later = TimelineEvent(
        id="e2",
        incident_id=target.id,
        kind=TimelineKind.ESCALATION,
        at=NOW + timedelta(seconds=9),
        author="escalation",
        body="Engaged L3",
    )
    (quiet,) = notifier.timeline_changed([later], lookup)
    assert not quiet.sound
    assert player.played == [Severity.SEV2]  # no second sound


def test_a_desktop_player_command_plays_each_severity_s_own_file(
    qtbot: QtBot, tmp_path: Path
) -> None:
    """The machine has no sound device, so the "player" is a real script that records
    the file it was asked to play; the console starts it exactly as it would paplay."""
    log = tmp_path / "played.txt"
    script = tmp_path / "paplay"
    script.write_text(f'#!/bin/sh\necho "$1" >> {log}\n')
    script.chmod(0o755)
    player = CommandPlayer(str(script))
    player.play(Severity.SEV1)
    player.play(Severity.SEV4)
    qtbot.waitUntil(lambda: log.exists() and len(log.read_text().splitlines()) == 2, timeout=5000)
    played = sorted(Path(line).name for line in log.read_text().splitlines())
    assert played == ["sev1.wav", "sev4.wav"]


def test_a_player_command_that_cannot_start_rings_the_bell(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rings: list[int] = []
    monkeypatch.setattr(QApplication, "beep", staticmethod(lambda: rings.append(1)))
    player = CommandPlayer(str(tmp_path / "no-such-player"))
    player.play(Severity.SEV2)
    qtbot.waitUntil(lambda: len(rings) == 2, timeout=3000)
