"""The status bar agrees with the incident: an alarm goes the moment it is acknowledged here,
and the status bar never draws two messages over each other.

The real window as ``noc-console --demo`` builds it (real cache file, real alert
rules, the real notifier; offscreen there is no tray, so alarms go to the status bar).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from console.app.gui import _build_window
from console.config.settings import load_settings
from console.store import Cache
from console.views.alerts import AlertNotifier
from console.views.main_window import MainWindow


@pytest.fixture
def demo_window(tmp_path: Path) -> Iterator[MainWindow]:
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    cache = Cache.open(tmp_path / "cache.db")
    settings = load_settings(tmp_path / "settings.toml")
    window = _build_window(app, settings, cache, demo=True)
    yield window
    window.close()
    window.deleteLater()
    cache.close()


def _log_sev1(window: MainWindow) -> str:
    made = window.controller.create(
        {
            "title": "Checkout down in every region",
            "service": "payments-api",
            "impact": "high",
            "urgency": "high",
        }
    )
    assert made is not None
    return made.id


def test_a_local_acknowledgement_ends_the_alarm_at_once(demo_window: MainWindow) -> None:
    notifier = demo_window.findChild(AlertNotifier)
    assert isinstance(notifier, AlertNotifier)
    assert notifier.tray is None  # offscreen: alarms are told in the status bar
    incident_id = _log_sev1(demo_window)
    notifier.check_now()
    demo_window._end_flash()  # the "logged" confirmation has had its few seconds
    assert "SEV-1" in demo_window.current_message()
    assert incident_id in {a.incident_id for a in notifier.tracker.alarms()}

    demo_window.controller.acknowledge(demo_window.model.queue.get(incident_id))
    # At once, with no timer tick and nothing sent: the alarm is over.
    assert incident_id not in {a.incident_id for a in notifier.tracker.alarms()}
    assert "acknowledged" in demo_window.current_message()
    demo_window._end_flash()
    assert "SEV-1" not in demo_window.current_message()
    assert "unacknowledged" not in demo_window.current_message()


def test_the_status_bar_has_one_message_at_a_time(demo_window: MainWindow) -> None:
    notifier = demo_window.findChild(AlertNotifier)
    assert isinstance(notifier, AlertNotifier)
    _log_sev1(demo_window)
    notifier.check_now()  # the new SEV-1 alarms while the "logged" confirmation shows
    bar = demo_window.statusBar()
    assert bar.currentMessage() == ""  # no temporary message painted over the widgets
    shown = [
        label.text()
        for label in (demo_window.notice_label,)
        if label.isVisibleTo(demo_window) and label.text()
    ]
    assert len(shown) == 1
    assert "logged" in shown[0] or "New" in shown[0] or "SEV-1" in shown[0]
