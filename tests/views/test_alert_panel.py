"""Monitoring incidents in the console: the detail's alert section, the source filter, the wall."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from pytestqt.qtbot import QtBot

from console.domain.incident import AlertInfo, Source
from console.domain.severity import Severity
from console.domain.sla import SlaPolicy
from console.models.wall import build_snapshot
from console.services.queue import QueueFilter
from console.store import Cache
from console.views.alert_panel import link_html
from console.views.main_window import MainWindow
from tests.helpers.factories import NOW
from tests.helpers.factories import desk_incident as make_incident

ALERT = AlertInfo(
    integration="alertmanager",
    key="3f9a1c0d2b4e5f60",
    status="firing",
    first_seen=NOW - timedelta(minutes=20),
    last_seen=NOW - timedelta(seconds=40),
    repeat_count=7,
    labels=(("alertname", "DiskFull"), ("instance", "gw1:9100"), ("severity", "critical")),
    generator_url="http://prometheus.example:9090/graph?g0.expr=node_filesystem_avail_bytes",
    monitor="noc",
)


def _monitoring_incident() -> object:
    return make_incident(
        42,
        Severity.SEV2,
        title="DiskFull on gw1:9100",
        source=Source.MONITORING,
        reporter="noc",
        alert=ALERT,
    )


def test_the_detail_shows_source_labels_link_and_repeats(
    qtbot: QtBot, desk: MainWindow, desk_cache: Cache, tmp_path: Path
) -> None:
    incident = _monitoring_incident()
    desk_cache.upsert_incidents([incident])  # type: ignore[list-item]
    desk.model.apply_changes(
        type("C", (), {"removed": frozenset(), "inserted": {"inc-42"}, "updated": set()})(),
        lambda _id: incident,  # type: ignore[arg-type,return-value]
    )
    assert desk.select_incident("inc-42")
    panel = desk.detail.alert_panel
    qtbot.waitUntil(panel.isVisible)
    assert panel.values["monitor"].text() == "Prometheus Alertmanager (noc)"
    assert "seen 7 times" in panel.values["status"].text()
    assert panel.values["labels"].text().startswith("alertname=DiskFull, instance=gw1:9100")
    link = panel.values["link"]
    assert link.openExternalLinks()
    assert 'href="http://prometheus.example:9090/graph?g0.expr=' in link.text()
    assert desk.detail.fields["source"].text() == "Monitoring · seen 7 times"
    shots = Path(os.environ.get("NOC_SCREENSHOT_DIR", tmp_path))
    for width, height in ((1280, 720), (1920, 1080)):
        desk.resize(width, height)
        qtbot.wait(50)
        assert desk.grab().save(str(shots / f"alert-detail-{width}x{height}.png"))
    # An incident people logged has no alert section.
    assert desk.select_incident("inc-1")
    qtbot.waitUntil(lambda: not panel.isVisible())
    assert desk.detail.fields["source"].text() == "Phone"


def test_generator_links_are_only_http() -> None:
    assert link_html("javascript:alert(1)") is None
    assert link_html("file:///etc/passwd") is None
    assert link_html(None) is None
    shown = link_html('https://grafana.example/d/x?a="<b>"')
    assert shown is not None
    assert "<b>" not in shown


def test_the_queue_filters_by_source(desk: MainWindow, desk_cache: Cache) -> None:
    incident = _monitoring_incident()
    desk.model.queue.upsert([incident])  # type: ignore[list-item]
    desk.filter_bar.set_filter(QueueFilter(open_only=True, sources=frozenset({"monitoring"})))
    assert [i.number for i in desk.model.shown()] == ["INC-000042"]
    assert desk.filter_bar.source_button.text() == "Source (1)"
    saved = QueueFilter(sources=frozenset({"monitoring", "nonsense"})).to_json()
    assert QueueFilter.from_json(saved).sources == frozenset({"monitoring"})


def test_the_wall_counts_what_monitoring_opened(policy: SlaPolicy) -> None:
    incidents = [_monitoring_incident(), make_incident(1), make_incident(2)]
    snapshot = build_snapshot(incidents, policy, NOW)  # type: ignore[arg-type]
    assert (snapshot.open_total, snapshot.monitoring) == (3, 1)


def test_the_wall_says_how_many_came_from_monitoring(qtbot: QtBot, tmp_path: Path) -> None:
    from console.config.settings import Settings
    from console.services.demo import load_demo
    from console.views.wall.window import open_wall

    with Cache.open(tmp_path / "wall.db") as cache:
        load_demo(cache, NOW, policy=SlaPolicy.default())
        cache.upsert_incidents([_monitoring_incident()])  # type: ignore[list-item]
        monitoring = sum(
            1 for i in cache.incidents() if i.is_open and i.source is Source.MONITORING
        )
        window = open_wall(cache, Settings(), clock=lambda: NOW, show=False)
        qtbot.addWidget(window)
        shots = Path(os.environ.get("NOC_SCREENSHOT_DIR", tmp_path))
        for width, height in ((1280, 720), (1920, 1080)):
            window.resize(width, height)
            window.show()
            window.refresh()
            qtbot.wait(50)
            assert f"{monitoring} from monitoring" in window.detail_label.text()
            assert window.grab().save(str(shots / f"alert-wall-{width}x{height}.png"))
        window.close()
