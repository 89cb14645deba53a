"""The detail pane's monitoring section: what the alert said, for incidents alert intake opened.

Shows the alert's state, how often it was seen and when last, its labels, and
a link to the monitor's own page (the generator URL, e.g. the Prometheus
graph) that opens in the browser. Hidden for incidents people logged.
"""

from __future__ import annotations

import html
from urllib.parse import urlsplit

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QWidget

from console.domain.incident import AlertInfo

_INTEGRATIONS = {"alertmanager": "Prometheus Alertmanager", "events": "Event API"}


def alert_summary(alert: AlertInfo) -> str:
    """``Firing · seen 12 times · last 21:03:10 · flapping`` (local time)."""
    seen = "once" if alert.repeat_count == 1 else f"{alert.repeat_count} times"
    parts = [
        alert.status.capitalize(),
        f"seen {seen}",
        f"last {alert.last_seen.astimezone():%H:%M:%S}",
    ]
    if alert.flapping:
        parts.append("FLAPPING")
    return " · ".join(parts)


def source_text(source: str, alert: AlertInfo | None) -> str:
    """The detail's Source field: ``Monitoring · seen 7 times`` for what intake opened."""
    text = source.capitalize()
    if alert is None:
        return text
    seen = "once" if alert.repeat_count == 1 else f"{alert.repeat_count} times"
    return f"{text} · seen {seen}" + (" · FLAPPING" if alert.flapping else "")


def labels_text(alert: AlertInfo) -> str:
    """``alertname=DiskFull, instance=gw1`` (alertname first), or a dash."""
    ordered = sorted(alert.labels, key=lambda kv: (kv[0] != "alertname", kv[0]))
    return ", ".join(f"{k}={v}" for k, v in ordered) or "—"


def link_html(url: str | None) -> str | None:
    """The generator URL as a link, only for http(s): a monitor cannot make us open file: or js."""
    if not url or urlsplit(url).scheme.lower() not in ("http", "https"):
        return None
    shown = url if len(url) <= 80 else url[:77] + "…"
    return f'<a href="{html.escape(url, quote=True)}">{html.escape(shown)}</a>'


class AlertPanel(QFrame):
    """Source, labels, generator link and repeat count of a monitoring incident."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alertPanel")
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 6, 0, 2)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(3)
        grid.setColumnStretch(1, 1)
        self.values: dict[str, QLabel] = {}
        for row, (key, caption) in enumerate(
            (
                ("monitor", "Alert from"),
                ("status", "Alert"),
                ("labels", "Labels"),
                ("link", "Generator"),
            )
        ):
            name = QLabel(caption, self)
            name.setObjectName("fieldName")
            value = QLabel(self)
            value.setObjectName("fieldValue")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            name.setBuddy(value)
            grid.addWidget(name, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(value, row, 1)
            self.values[key] = value
        link = self.values["link"]
        link.setTextFormat(Qt.TextFormat.RichText)
        link.setOpenExternalLinks(True)  # the browser, through QDesktopServices
        link.setTextInteractionFlags(
            Qt.TextInteractionFlag.LinksAccessibleByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        )
        for key in ("monitor", "status", "labels"):
            self.values[key].setTextFormat(Qt.TextFormat.PlainText)
        self.hide()

    def show_alert(self, alert: AlertInfo | None) -> None:
        """Fill in ``alert``'s facts, or hide the section when there is none."""
        if alert is None:
            self.hide()
            return
        where = _INTEGRATIONS.get(alert.integration, alert.integration)
        self.values["monitor"].setText(f"{where} ({alert.monitor})" if alert.monitor else where)
        self.values["status"].setText(alert_summary(alert))
        self.values["status"].setToolTip(
            f"First seen {alert.first_seen.astimezone():%Y-%m-%d %H:%M:%S}; key {alert.key}"
        )
        self.values["labels"].setText(labels_text(alert))
        link = link_html(alert.generator_url)
        self.values["link"].setText(link or "—")
        self.values["link"].setToolTip(alert.generator_url or "")
        self.show()
