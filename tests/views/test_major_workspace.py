"""The major incident workspace over a real cache and the real outbox writer."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QTabWidget
from pytestqt.qtbot import QtBot

from console.config.settings import MajorSettings
from console.domain.incident import TimelineEvent, TimelineKind
from console.domain.severity import Severity
from console.store import Cache
from console.sync.edits import LocalEdits
from console.views.main_window import MainWindow
from console.views.major_workspace import MajorWorkspace, install
from tests.helpers.factories import NOW, FakeClock
from tests.helpers.factories import desk_incident as make_incident


def _seed(cache: Cache) -> None:
    major = make_incident(1, Severity.SEV1, age_min=40, major=True, title="Payments down")
    cache.upsert_incidents([major, make_incident(2, Severity.SEV2)])
    cache.upsert_reference(
        "services", [{"id": "payments-api", "name": "Payments API", "customer_facing": True}]
    )
    cache.upsert_reference(
        "contacts", [{"id": "iris", "name": "Iris Lane", "primary_phone": "+442079460000"}]
    )
    declared = NOW - timedelta(minutes=40)
    events = [
        TimelineEvent(
            "e1", "inc-1", TimelineKind.ESCALATION, declared, "iris", "Declared", {"major": True}
        ),
        TimelineEvent(
            "e2",
            "inc-1",
            TimelineKind.ASSIGNMENT,
            declared,
            "iris",
            "Assigned",
            {"role": "Incident Commander", "from": None, "to": "Iris Lane"},
        ),
        TimelineEvent(
            "e3",
            "inc-1",
            TimelineKind.STATUS_UPDATE,
            declared + timedelta(minutes=5),
            "iris",
            "Investigating failed card payments.",
            {"audience": "internal", "status": "investigating"},
        ),
    ]
    cache.upsert_timeline(events)


def test_workspace_shows_roles_overdue_and_publishes_through_the_outbox(
    qtbot: QtBot, tmp_path: Path
) -> None:
    cache = Cache.open(tmp_path / "cache.db")
    _seed(cache)
    clock = FakeClock(NOW)
    edits = LocalEdits(cache, author="iris", clock=clock)
    view = MajorWorkspace(cache, edits, clock=clock)
    qtbot.addWidget(view)
    view.resize(1280, 720)
    view.show()

    assert view.majors.count() == 1  # only the major
    assert "tel:+442079460000" in view.header.text()  # the commander's phone, one click
    # Internal: last update at +5 min, 15-min cadence → overdue by 20 min, in words and shape.
    internal = view.countdowns["internal"].text()
    assert "OVERDUE 20:00" in internal
    assert "⚠" in internal
    assert "OVERDUE" in view.majors.item(0).text()
    # No escalation matrix in this cache: nothing to offer, and it says so.
    assert "Technical Lead is unassigned" in view.offer.text()
    assert "—" not in view.countdowns["customer"].text()  # customer-facing: owed

    view.audience.setCurrentText("internal")
    assert "SEV-1" in view.draft.toPlainText()
    view.publish()
    (queued,) = cache.pending_outbox()
    assert queued.operation == "status_update"
    assert queued.payload["audience"] == "internal"
    view.refresh()
    assert "OVERDUE" not in view.countdowns["internal"].text()  # reset by the publish
    assert "15:00" in view.countdowns["internal"].text()

    view.copy_summary()
    summary = QGuiApplication.clipboard().text()
    assert "Incident Commander: Iris Lane" in summary
    assert "Payments down" in summary

    out = Path(os.environ.get("NOC_SCREENSHOTS", tmp_path))
    for size in ((1280, 720), (1920, 1080)):
        view.resize(*size)
        qtbot.wait(10)
        assert view.grab().save(str(out / f"major-workspace-{size[0]}.png"))
    cache.close()


def test_bad_draft_is_refused_and_nothing_is_queued(qtbot: QtBot, tmp_path: Path) -> None:
    cache = Cache.open(tmp_path / "cache.db")
    _seed(cache)
    view = MajorWorkspace(cache, LocalEdits(cache, author="iris"), clock=FakeClock(NOW))
    qtbot.addWidget(view)
    view.draft.setPlainText("x" * 100_000)
    view.publish()
    assert "Not published" in view.message.text()
    assert cache.pending_outbox() == []
    cache.close()


def test_install_adds_a_tab_on_ctrl_4(qtbot: QtBot, tmp_path: Path) -> None:
    from PySide6.QtWidgets import QMainWindow

    cache = Cache.open(tmp_path / "cache.db")
    _seed(cache)
    window = QMainWindow()
    tabs = QTabWidget(window)
    window.setCentralWidget(tabs)
    qtbot.addWidget(window)
    workspace = install(window, tabs, cache, None)
    assert tabs.indexOf(workspace) >= 0
    cache.close()


def test_render_with_the_demo_data(qtbot: QtBot, tmp_path: Path) -> None:
    """The picture a person looks at (docs/screenshots/major-workspace.png is made so)."""
    from console.services.demo import load_demo

    cache = Cache.open(tmp_path / "cache.db")
    load_demo(cache, NOW)
    view = MajorWorkspace(
        cache,
        LocalEdits(cache, author="lfernandez"),
        clock=FakeClock(NOW),
        major=MajorSettings(extra_roles=("Scribe",)),  # a site role, offered from the matrix
    )
    qtbot.addWidget(view)
    view.resize(1280, 720)
    view.show()
    titles = [view.majors.item(i).text() for i in range(view.majors.count())]
    row = next(n for n, t in enumerate(titles) if "Checkout failing for card" in t)
    view.majors.setCurrentRow(row)
    assert "OVERDUE" in view.countdowns["internal"].text()
    assert "Communications Lead: Lucía Fernández" in view.roles.text()
    assert "tel:+" in view.roles.text()
    assert "tel:+442079460000,,482913#" in view.war_room.text()  # dial-in with PIN
    assert "Elena Navarro (since" in view.war_room.text()
    assert "Oliver Grant (left" in view.war_room.text()
    assert "▶ Scribe: offer" in view.offer.text()
    out = Path(os.environ.get("NOC_SCREENSHOTS", tmp_path))
    assert view.grab().save(str(out / "major-workspace.png"))
    summary = view.show_summary()
    assert summary is not None
    qtbot.addWidget(summary)
    summary.resize(1000, 600)
    qtbot.wait(10)
    assert summary.grab().save(str(out / "major-executive-summary.png"))
    cache.close()


def test_an_update_falling_overdue_alarms_once_under_the_alert_rules(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from PySide6.QtWidgets import QMainWindow

    from console.domain.alerts import AlertReason, AlertRules, AlertTracker
    from console.views.alerts import AlertNotifier
    from console.views.major_workspace import connect_alerts

    class Player:
        def __init__(self) -> None:
            self.played: list[Severity] = []

        def play(self, severity: Severity) -> None:
            self.played.append(severity)

    cache = Cache.open(tmp_path / "cache.db")
    _seed(cache)
    clock = FakeClock(NOW)
    window = QMainWindow()
    qtbot.addWidget(window)
    view = MajorWorkspace(cache, LocalEdits(cache, author="iris", clock=clock), clock=clock)
    window.setCentralWidget(view)
    player = Player()
    notifier = AlertNotifier(AlertTracker(AlertRules()), player, clock=clock, parent=window)
    connect_alerts(window, notifier)
    alerts: list[object] = []
    notifier.alerted.connect(alerts.append)

    view.tick()
    assert alerts == []  # already overdue at start: primed, like the alert rules
    view.audience.setCurrentText("internal")
    view.publish()
    view.refresh()
    clock.now = NOW + timedelta(minutes=16)  # the fresh internal countdown runs out
    view.tick()
    view.tick()
    (alert,) = alerts
    assert alert.reason is AlertReason.UPDATE_OVERDUE  # type: ignore[attr-defined]
    assert "internal update is overdue" in alert.text  # type: ignore[attr-defined]
    assert player.played == [Severity.SEV1]

    muted = AlertNotifier(
        AlertTracker(AlertRules(muted=frozenset({Severity.SEV1}))), Player(), parent=window
    )
    quiet: list[object] = []
    muted.alerted.connect(quiet.append)
    connect_alerts(window, muted)
    clock.now = NOW + timedelta(minutes=40)
    view.refresh()
    view.tick()
    assert quiet == []  # muted severities stay quiet
    cache.close()


def test_suggests_declaring_with_the_criterion_and_declares_with_one_key(
    qtbot: QtBot, tmp_path: Path
) -> None:
    cache = Cache.open(tmp_path / "cache.db")
    _seed(cache)
    cache.upsert_incidents([make_incident(7, Severity.SEV1, title="Core router down")])
    clock = FakeClock(NOW)
    view = MajorWorkspace(cache, LocalEdits(cache, author="iris", clock=clock), clock=clock)
    qtbot.addWidget(view)
    view.show()
    assert view.suggestion.isVisible()
    assert "INC-000007" in view.suggestion.text()
    assert "SEV-1: every critical incident is run as a major incident" in view.suggestion.text()
    view.declare_suggested()
    assert cache.incident("inc-7").major  # type: ignore[union-attr]
    queued = [r.operation for r in cache.pending_outbox()]
    assert queued == ["patch", "timeline"]  # the declaration, then the why as a note
    notes = [e.body for e in cache.timeline("inc-7")]
    assert any(b.startswith("Declared a major incident: SEV-1") for b in notes)
    assert view.majors.count() == 2
    assert not view.suggestion.isVisible()
    cache.close()


def test_the_workspace_keys_are_registry_actions_live_only_in_the_workspace(
    qtbot: QtBot, tmp_path: Path
) -> None:
    """Ctrl+Return, Ctrl+D and Ctrl+Shift+C are the registry's, in its menu, and fire in the
    workspace only: a composer elsewhere keeps its own Ctrl+Return (no ambiguous key)."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QKeySequence, QShortcut
    from PySide6.QtWidgets import QApplication, QMainWindow, QPlainTextEdit

    from console.views.actions import MainWindowActions

    cache = Cache.open(tmp_path / "cache.db")
    _seed(cache)
    cache.upsert_incidents([make_incident(7, Severity.SEV1, title="Core router down")])
    window = QMainWindow()
    qtbot.addWidget(window)
    tabs = QTabWidget(window)
    window.setCentralWidget(tabs)
    actions = MainWindowActions([("light", "Light")], "light", window)
    window.menu_actions = actions  # type: ignore[attr-defined]
    for group in actions.groups():
        group.fill(window.menuBar().addMenu(group.title))
    composer = QPlainTextEdit()
    tabs.addTab(composer, "detail")
    added: list[str] = []
    own = QShortcut(QKeySequence("Ctrl+Return"), composer, lambda: added.append("note"))
    own.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    workspace = install(window, tabs, cache, LocalEdits(cache, author="iris"))
    war_room = next(g for g in actions.groups() if g.title == "War room")
    for action in (actions.major_publish, actions.major_declare, actions.major_copy_summary):
        assert action in war_room.actions
        assert action.isEnabled()
    window.resize(1280, 720)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)

    composer.setFocus()
    qtbot.keyClick(composer, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert added == ["note"]
    assert cache.pending_outbox() == []

    actions.major_publish.trigger()  # from the palette elsewhere: shows, sends nothing
    assert tabs.currentWidget() is workspace
    assert cache.pending_outbox() == []
    workspace.draft.setFocus()
    qtbot.keyClick(workspace.draft, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert [r.operation for r in cache.pending_outbox()] == ["status_update"]

    qtbot.keyClick(workspace.draft, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert cache.incident("inc-7").major  # type: ignore[union-attr]

    QGuiApplication.clipboard().clear()
    qtbot.keyClick(
        workspace.draft,
        Qt.Key.Key_C,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    current = workspace.current()
    assert current is not None
    assert current.incident.title in QGuiApplication.clipboard().text()
    assert workspace.message.text() == "Executive summary copied as text."
    assert added == ["note"]

    cache.close()


def test_ctrl_4_from_the_queue_then_ctrl_return_publishes(
    qtbot: QtBot, desk: MainWindow, desk_cache: Cache
) -> None:
    """Keyboard only: Ctrl+4 puts the focus in the workspace, so the next key publishes.

    Before, with no widget focused when Ctrl+4 was pressed, the focus stayed
    outside the workspace and its Ctrl+Return did nothing.
    """
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    desk_cache.upsert_incidents([make_incident(90, Severity.SEV1, major=True, title="Core down")])
    workspace = install(desk, desk.tabs, desk_cache, LocalEdits(desk_cache, author="iris"))
    # The window is active but no widget has the focus (as after a notification closed).
    desk.table.clearFocus()
    assert QApplication.focusWidget() is None
    qtbot.keyClick(desk, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    assert desk.tabs.currentWidget() is workspace
    focused = QApplication.focusWidget()
    assert focused is not None
    assert workspace.isAncestorOf(focused)
    qtbot.keyClick(focused, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert [r.operation for r in desk_cache.pending_outbox()] == ["status_update"]
