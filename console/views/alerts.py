"""Deliver alerts: a desktop notification in the system tray and a sound per severity.

:class:`AlertNotifier` runs the Qt-free :class:`~console.domain.alerts.AlertTracker`
and delivers what it says: a tray notification (when the desktop has a tray;
never on the offscreen platform) and a sound through a :class:`SoundPlayer`.
It also does the operator's controls (acknowledge, mute and snooze per
severity); their ``QAction``s are the action registry's
(:class:`console.views.actions.MainWindowActions`, wired by
:meth:`AlertNotifier.connect_actions`), shared by the menu bar and the tray menu.

Sound output is an interface so tests stay silent. :func:`sound_player`
picks the real one: ``QSoundEffect`` with the shipped ``resources/sounds``
when QtMultimedia is installed (it is part of PySide6-Addons, not of
PySide6-Essentials, which the console depends on); else the desktop's own
sound player command (``pw-play``, ``paplay`` or ``aplay``, found on PATH on
PipeWire, PulseAudio and ALSA desktops) playing the same files; else the
desktop's bell through ``QApplication.beep()``, rung once per severity step
(SEV-1 three times) so severities still sound different. It returns
:class:`SilentPlayer` when sound is switched off (``alerts.sound = false``) or
there is no screen (the offscreen platform the tests use).
"""

from __future__ import annotations

import importlib
import shutil
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol, cast

from PySide6.QtCore import QObject, QProcess, QTimer, QUrl, Signal
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from console.config.resources import ResourceMissing, resource_path
from console.domain.alerts import Alert, AlertTracker, EscalationWatch
from console.domain.clock import utc_now
from console.domain.incident import Incident, TimelineEvent
from console.domain.severity import Severity
from console.domain.sla import SlaReading
from console.domain.text import clock_text

if TYPE_CHECKING:
    from console.views.actions import MainWindowActions

HEADLESS_PLATFORMS = ("offscreen", "minimal")
"""Qt platforms without a screen or a speaker the operator could hear."""

SUMMARY_FROM = 4
"""From this many alerts at once, one summary notification instead of one each."""

SNOOZE_CHOICES = (timedelta(minutes=15), timedelta(hours=1))
BEEP_GAP_MS = 250

_MESSAGE_MS = {Severity.SEV1: 20_000, Severity.SEV2: 12_000}
_DEFAULT_MESSAGE_MS = 8_000


def headless() -> bool:
    """Whether Qt runs without a real screen (tests, screenshots, CI)."""
    return QGuiApplication.platformName() in HEADLESS_PLATFORMS


# ---------------------------------------------------------------------- sound


class SoundPlayer(Protocol):
    """Plays the alert sound of a severity. Must return at once (never block the GUI)."""

    def play(self, severity: Severity) -> None: ...


class SilentPlayer:
    """Plays nothing and remembers what it would have played (tests, sound switched off)."""

    def __init__(self) -> None:
        self.played: list[Severity] = []

    def play(self, severity: Severity) -> None:
        self.played.append(severity)


class BeepPlayer(QObject):
    """The desktop bell: SEV-1 rings three times, SEV-2 twice, SEV-3 and SEV-4 once.

    The last resort: without QtMultimedia and without a player command on PATH,
    or when a sound file or the command fails. The rings are spaced by a timer,
    so ``play`` returns at once.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pending = 0
        self._timer = QTimer(self)
        self._timer.setInterval(BEEP_GAP_MS)
        self._timer.timeout.connect(self._ring)

    def play(self, severity: Severity) -> None:
        self._pending = max(self._pending, max(1, 4 - severity.value))
        self._ring()
        if self._pending:
            self._timer.start()

    def _ring(self) -> None:
        if self._pending <= 0:
            self._timer.stop()
            return
        self._pending -= 1
        QApplication.beep()


class SoundEffectPlayer(QObject):
    """``QSoundEffect`` with ``resources/sounds/sev<N>.wav``: a distinct sound per severity.

    ``multimedia`` is the imported ``PySide6.QtMultimedia`` module (passed in,
    because PySide6-Essentials does not ship it and the import must stay
    optional). A severity whose file is missing rings the bell instead.
    """

    def __init__(self, multimedia: ModuleType, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fallback = BeepPlayer(self)
        self._effects: dict[Severity, Any] = {}
        for severity in Severity:
            try:
                path = resource_path("sounds", f"sev{severity.value}.wav")
            except ResourceMissing:
                continue
            effect = multimedia.QSoundEffect(self)
            effect.setSource(QUrl.fromLocalFile(str(path)))
            self._effects[severity] = effect

    def play(self, severity: Severity) -> None:
        effect = self._effects.get(severity)
        if effect is None:
            self._fallback.play(severity)
        else:
            effect.play()


PLAYER_COMMANDS = ("pw-play", "paplay", "aplay")
"""Desktop sound players tried in order without QtMultimedia (PipeWire, PulseAudio, ALSA)."""


class CommandPlayer(QObject):
    """Plays ``resources/sounds/sev<N>.wav`` with a desktop player command, without waiting.

    Each sound is a detached process, so ``play`` returns at once and a
    player that hangs never holds up the console. A severity whose file is
    missing, or a command that cannot start, rings the bell instead.
    """

    def __init__(self, command: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.command = command
        self._fallback = BeepPlayer(self)
        self._files: dict[Severity, str] = {}
        for severity in Severity:
            try:
                self._files[severity] = str(resource_path("sounds", f"sev{severity.value}.wav"))
            except ResourceMissing:
                continue

    def play(self, severity: Severity) -> None:
        path = self._files.get(severity)
        started, _pid = (False, 0) if path is None else QProcess.startDetached(self.command, [path])
        if not started:
            self._fallback.play(severity)


def sound_player(enabled: bool, parent: QObject | None = None) -> SoundPlayer:
    """The best player this installation offers, or a silent one (see the module docstring)."""
    if not enabled or headless():
        return SilentPlayer()
    try:
        multimedia = importlib.import_module("PySide6.QtMultimedia")
    except ImportError:
        for name in PLAYER_COMMANDS:
            command = shutil.which(name)
            if command is not None:
                return CommandPlayer(command, parent)
        return BeepPlayer(parent)
    return SoundEffectPlayer(multimedia, parent)


# ---------------------------------------------------------------- the tray


def tray_icon(icon: QIcon, parent: QObject | None = None) -> QSystemTrayIcon | None:
    """A visible tray icon, or None when the desktop has no tray (or no screen at all)."""
    if headless() or not QSystemTrayIcon.isSystemTrayAvailable():
        return None
    tray = QSystemTrayIcon(icon, parent)
    tray.setToolTip("NOC Console")
    tray.show()
    return tray


def _tray_icon_kind(severity: Severity) -> QSystemTrayIcon.MessageIcon:
    if severity is Severity.SEV1:
        return QSystemTrayIcon.MessageIcon.Critical
    if severity is Severity.SEV2:
        return QSystemTrayIcon.MessageIcon.Warning
    return QSystemTrayIcon.MessageIcon.Information


# ---------------------------------------------------------------- notifier

AlertSource = Callable[[datetime], tuple[Iterable[Incident], Mapping[str, SlaReading]]]
"""Gives the incidents and their SLA readings at an instant, for :meth:`AlertNotifier.watch`."""


class AlertFeed(Protocol):
    """What :meth:`AlertNotifier.watch` checks: primes the tracker, then says what alarms.

    :class:`~console.services.alert_watch.QueueAlertWatch` is the console's feed
    (it evaluates only what changed); :class:`SourceFeed` evaluates a whole
    :data:`AlertSource` each time.
    """

    def prime(self, now: datetime) -> None: ...

    def check(self, now: datetime) -> list[Alert]: ...


class SourceFeed:
    """An :class:`AlertFeed` evaluating everything an :data:`AlertSource` gives, every check."""

    def __init__(self, tracker: AlertTracker, source: AlertSource) -> None:
        self.tracker = tracker
        self.source = source

    def prime(self, now: datetime) -> None:
        incidents, readings = self.source(now)
        self.tracker.prime(incidents, readings, now)

    def check(self, now: datetime) -> list[Alert]:
        incidents, readings = self.source(now)
        return self.tracker.evaluate(incidents, readings, now)


class AlertNotifier(QObject):
    """Evaluates the alert rules and delivers the alerts: tray notification and sound.

    Signals:

    - ``alerted(object)``: each :class:`~console.domain.alerts.Alert` delivered;
    - ``notified(str title, str body)``: each notification, shown in the tray
      or not (the main window can put it in its status bar when there is no tray);
    - ``alarms_changed(int)``: how many alarms stand unacknowledged;
    - ``incident_requested(str)``: the operator clicked a notification about
      this incident (its alarm is acknowledged; the window may open it).
    """

    alerted = Signal(object)
    notified = Signal(str, str)
    alarms_changed = Signal(int)
    incident_requested = Signal(str)

    def __init__(
        self,
        tracker: AlertTracker,
        player: SoundPlayer,
        *,
        tray: QSystemTrayIcon | None = None,
        clock: Callable[[], datetime] = utc_now,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.tracker = tracker
        self.player = player
        self.tray = tray
        self._clock = clock
        self._last_incident: str | None = None
        self._alarm_count = 0
        self._alarm_ids: frozenset[str] = frozenset()
        self._feed: AlertFeed | None = None
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check_now)
        self.escalations = EscalationWatch(since=clock())
        self._actions: MainWindowActions | None = None
        if tray is not None:
            tray.messageClicked.connect(self._message_clicked)

    # ----------------------------------------------------------- evaluating

    def watch(self, feed: AlertFeed | AlertSource, interval_ms: int = 5_000) -> None:
        """Check ``feed`` every ``interval_ms`` (and at once, without alarming: priming).

        A plain :data:`AlertSource` is evaluated in full at each check.
        """
        if not hasattr(feed, "check"):
            feed = SourceFeed(self.tracker, feed)
        self._feed = cast(AlertFeed, feed)
        self._feed.prime(self._clock())
        self._timer.start(interval_ms)

    def stop(self) -> None:
        """Stop watching (the tracker keeps what it knows)."""
        self._timer.stop()

    def check_now(self) -> list[Alert]:
        """Evaluate the watched feed now (also called on data changes)."""
        if self._feed is None:
            return []
        alerts = self._feed.check(self._clock())
        self.deliver(alerts)
        self._update_alarm_count()
        return alerts

    def check(
        self,
        incidents: Iterable[Incident],
        readings: Mapping[str, SlaReading],
        now: datetime | None = None,
    ) -> list[Alert]:
        """Evaluate ``incidents`` and deliver what alarms; returns the alerts delivered."""
        alerts = self.tracker.evaluate(incidents, readings, now or self._clock())
        self.deliver(alerts)
        self._update_alarm_count()
        return alerts

    def timeline_changed(
        self,
        events: Iterable[TimelineEvent],
        incident_of: Callable[[str], Incident | None],
    ) -> list[Alert]:
        """Alert once per new escalation entry in ``events`` (see :class:`EscalationWatch`).

        Feed it the timeline of each incident a sync update touched. Nothing is
        raised while alerts are disabled; a muted or snoozed severity still
        shows the notification, without a sound. Returns the alerts delivered.
        """
        alerts = self.escalations.new_entries(events, incident_of)
        rules = self.tracker.rules
        if not rules.enabled or not alerts:
            return []
        now = self._clock()
        alerts = [
            replace(
                alert,
                sound=rules.sound
                and not self.tracker.is_muted(alert.severity)
                and self.tracker.snoozed_until(alert.severity, now) is None,
            )
            for alert in alerts
        ]
        self.deliver(alerts)
        return alerts

    # ------------------------------------------------------------ delivering

    def deliver(self, alerts: Sequence[Alert]) -> None:
        """One notification per alert (or one summary for many) and one sound for the batch."""
        if not alerts:
            return
        for alert in alerts:
            self.alerted.emit(alert)
        if self.tracker.rules.notify:
            if len(alerts) >= SUMMARY_FROM:
                self._notify(*_summary(alerts), alerts[0].severity, None)
            else:
                for alert in alerts:
                    self._notify(alert.headline, alert.body, alert.severity, alert.incident_id)
        # One sound per batch, the gravest that may sound: several at once is only noise.
        audible = [a for a in alerts if a.sound]
        if audible:
            self.player.play(min(a.severity for a in audible))

    def _notify(self, title: str, body: str, severity: Severity, incident_id: str | None) -> None:
        self._last_incident = incident_id
        self.notified.emit(title, body)
        if self.tray is not None:
            message_ms = _MESSAGE_MS.get(severity, _DEFAULT_MESSAGE_MS)
            self.tray.showMessage(title, body, _tray_icon_kind(severity), message_ms)

    def _message_clicked(self) -> None:
        if self._last_incident is not None:
            self.acknowledge(self._last_incident)
            self.incident_requested.emit(self._last_incident)

    # ------------------------------------------------------ operator controls

    def connect_actions(self, actions: MainWindowActions) -> None:
        """Let the registry's Alerts actions (menu bar, tray menu, Ctrl+K, ``?``) drive this.

        The mute check marks follow the tracker from now on (mutes can also come
        from the settings).
        """
        self._actions = actions
        actions.acknowledge_alarms.triggered.connect(self.acknowledge_all)
        for severity, mute in actions.mute_alerts.items():
            mute.toggled.connect(partial(self.set_muted, severity))
        for (severity, span), snooze in actions.snooze_alerts.items():
            snooze.triggered.connect(partial(self.snooze, severity, span))
        actions.resume_alerts.triggered.connect(self.resume_all)
        self._refresh_actions()

    def _refresh_actions(self) -> None:
        if self._actions is None:
            return
        for severity, action in self._actions.mute_alerts.items():
            action.blockSignals(True)
            action.setChecked(self.tracker.is_muted(severity))
            action.blockSignals(False)

    def acknowledge(self, incident_id: str) -> None:
        """The operator has seen this incident's alarm: no more re-alarms for it."""
        self.tracker.acknowledge(incident_id)
        self._update_alarm_count()

    def acknowledge_all(self) -> None:
        self.tracker.acknowledge_all()
        self._update_alarm_count()

    def set_muted(self, severity: Severity, muted: bool) -> None:
        """Notifications of ``severity`` go on, without sound, until unmuted."""
        if muted:
            self.tracker.mute(severity)
        else:
            self.tracker.unmute(severity)
        self._refresh_actions()

    def snooze(self, severity: Severity, span: timedelta) -> None:
        """Nothing of ``severity`` alarms for ``span``; what is still pending sounds after."""
        self.tracker.snooze(severity, self._clock() + span)
        self._refresh_actions()

    def resume_all(self) -> None:
        """End every snooze now."""
        for severity in Severity:
            self.tracker.unsnooze(severity)
        self._refresh_actions()

    def silence_text(self) -> str:
        """What is muted or snoozed, for a status bar (empty when nothing is)."""
        now = self._clock()
        parts = [f"{s.code} muted" for s in Severity if self.tracker.is_muted(s)]
        for severity in Severity:
            until = self.tracker.snoozed_until(severity, now)
            if until is not None:
                parts.append(f"{severity.code} snoozed until {clock_text(until)}")
        return " · ".join(parts)

    def _update_alarm_count(self) -> None:
        # Emitted when the set of alarming incidents changes (one may end as another starts).
        standing = frozenset(a.incident_id for a in self.tracker.alarms())
        if standing != self._alarm_ids:
            self._alarm_ids = standing
            self._alarm_count = len(standing)
            self.alarms_changed.emit(len(standing))


def _summary(alerts: Sequence[Alert]) -> tuple[str, str]:
    by_severity = Counter(a.severity for a in alerts)
    parts = ", ".join(f"{by_severity[s]} {s.code}" for s in Severity if by_severity[s])
    title = f"{len(alerts)} alerts: {parts}"
    lines = [a.headline for a in alerts[:3]]
    if len(alerts) > 3:
        lines.append(f"… and {len(alerts) - 3} more")
    return title, "\n".join(lines)
