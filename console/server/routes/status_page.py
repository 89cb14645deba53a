"""The public status page: ``GET /status`` (HTML) and ``GET /status.json``, no login.

Customer updates of customer-facing services only (see
:func:`console.server.services.majors.public_status`). The HTML is plain, escaped,
script-free and sized for a phone.
"""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from console.server.deps import Context, ReadSession
from console.server.routes.common import json_response
from console.server.services import majors

router = APIRouter(tags=["status page"])

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:40rem;padding:1rem;"
    "line-height:1.45;color:#111;background:#fff}h1{font-size:1.5rem}"
    "section{border:2px solid #444;border-radius:6px;padding:.75rem;margin:1rem 0}"
    "h2{font-size:1.15rem;margin:0 0 .5rem}.state{font-weight:700;text-transform:uppercase}"
    "time{color:#333;font-size:.9rem;display:block}li{margin:.5rem 0}"
)
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
}


def _shown(instant: str, width: int) -> str:
    return escape(instant[:width].replace("T", " "))


def _html(status: dict[str, Any]) -> str:
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        "<title>Service status</title>",
        f"<style>{_STYLE}</style></head><body><h1>Service status</h1>",
    ]
    incidents = status["incidents"]
    if not incidents:
        parts.append("<p class='ok'>All services are operating normally.</p>")
    for incident in incidents:
        label = "Resolved" if incident["resolved"] else escape(incident["status"]).capitalize()
        parts.append(
            f"<section><h2>{escape(incident['service'])}</h2>"
            f"<p class='state'>{label}</p><ol reversed>"
        )
        for update in incident["updates"]:
            parts.append(
                f"<li><time datetime='{escape(update['at'])}'>{_shown(update['at'], 16)} UTC"
                f" · {escape(update['status'])}</time>{escape(update['text'])}</li>"
            )
        parts.append("</ol></section>")
    parts.append(f"<p><small>Updated {_shown(status['generated_at'], 19)} UTC</small></p>")
    parts.append("</body></html>")
    return "".join(parts)


@router.get("/status.json", summary="Public status: customer updates (no login)")
def status_json(session: ReadSession, context: Context) -> Response:
    """Open and recently resolved incidents of customer-facing services, customer updates only."""
    return json_response(majors.public_status(session, context.clock()), headers=_HEADERS)


@router.get("/status", response_class=HTMLResponse, summary="Public status page (no login)")
def status_html(session: ReadSession, context: Context) -> Response:
    """The same as ``/status.json`` as a page a phone reads."""
    return HTMLResponse(_html(majors.public_status(session, context.clock())), headers=_HEADERS)
