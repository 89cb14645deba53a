"""A post-incident review as Markdown (for wikis), HTML (for print) or JSON (for tools).

Works on the review's wire document (``console.wire.pir.Pir`` as a dict), as the
server sends it and the cache keeps it. Hidden timeline entries are left out
of the Markdown and the print; the JSON keeps everything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from html import escape
from typing import Any

from console.domain.pir import format_duration


def _when(value: object) -> str:
    if not isinstance(value, str) or not value:
        return "—"
    try:
        return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return value


def _md(text: object) -> str:
    """Plain text made safe inside a Markdown table cell or line."""
    return str(text or "").replace("|", "\\|").replace("\n", " ").strip()


def _shown_entries(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [e for e in doc.get("timeline", []) if not e.get("hidden")]


def _facts(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    impact = doc.get("impact", {})
    return [
        ("Incident", f"{doc.get('incident_number', '')} — {doc.get('title', '')}"),
        ("Severity", f"{doc.get('severity', '')}{' · major incident' if doc.get('major') else ''}"),
        ("Status", str(doc.get("status", ""))),
        ("Scheduled", _when(doc.get("scheduled_at"))),
        ("Due", _when(doc.get("due_at")) + ("  (OVERDUE)" if doc.get("overdue") else "")),
        ("Held", _when(doc.get("held_at"))),
        ("Duration", format_duration(int(impact.get("duration_s", 0)))),
        ("Services", ", ".join(impact.get("services", []))),
        ("Users affected", str(impact.get("users_affected", ""))),
        ("Customer-facing", "yes" if impact.get("customer_facing") else "no"),
        ("SLA breached", "yes" if impact.get("sla_breached") else "no"),
        ("Participants", ", ".join(doc.get("participants", []))),
    ]


def _root_cause(doc: Mapping[str, Any]) -> str:
    text = str(doc.get("root_cause", "")).strip()
    if not doc.get("root_cause_known", True):
        text = f"(root cause not yet known) {text}".strip()
    return text or "—"


def to_markdown(doc: Mapping[str, Any]) -> str:
    """The review as Markdown: facts, timeline, root cause, lessons, action items."""
    lines = [
        f"# Post-incident review: {_md(doc.get('incident_number'))} {_md(doc.get('title'))}",
        "",
    ]
    lines += [f"- **{name}:** {_md(value)}" for name, value in _facts(doc)]
    lines += [
        "",
        "## Timeline",
        "",
        "| Time | Since previous | What | Who | Note |",
        "|---|---|---|---|---|",
    ]
    for entry in _shown_entries(doc):
        what = _md(entry.get("summary") or entry.get("kind"))
        if entry.get("key"):
            what = f"**{what}**"
        lines.append(
            f"| {_when(entry.get('at'))} | {format_duration(entry.get('since_previous_s'))} | "
            f"{what} | {_md(entry.get('author'))} | {_md(entry.get('note'))} |"
        )
    lines += ["", "## Root cause", "", _md(_root_cause(doc)), ""]
    factors = doc.get("contributing_factors", [])
    if factors:
        lines += ["### Contributing factors", "", *[f"- {_md(f)}" for f in factors], ""]
    lines += ["## What went well", "", _md(doc.get("went_well")) or "—", ""]
    lines += ["## What could be improved", "", _md(doc.get("could_improve")) or "—", ""]
    lines += ["## Action items", ""]
    items = doc.get("action_items", [])
    if not items:
        lines.append("None.")
    else:
        lines += ["| Item | Owner | Due | State | Tracker |", "|---|---|---|---|---|"]
        for item in items:
            state = str(item.get("state", ""))
            if item.get("reason"):
                state += f" ({_md(item['reason'])})"
            if item.get("overdue"):
                state += " — OVERDUE"
            lines.append(
                f"| {_md(item.get('title'))} | {_md(item.get('owner'))} | {_when(item.get('due'))} "
                f"| {state} | {_md(item.get('tracker_url'))} |"
            )
    return "\n".join(lines) + "\n"


def to_json(doc: Mapping[str, Any]) -> str:
    """The whole document, for other tools."""
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def to_html(doc: Mapping[str, Any]) -> str:
    """The review as simple HTML that Qt's QTextDocument lays out for print."""
    e = escape
    parts = [
        "<html><body style='font-family: sans-serif; font-size: 10pt'>",
        f"<h1>Post-incident review: {e(str(doc.get('incident_number', '')))}</h1>",
        f"<h2>{e(str(doc.get('title', '')))}</h2>",
        "<table cellpadding='3'>",
        *[f"<tr><td><b>{e(k)}</b></td><td>{e(v)}</td></tr>" for k, v in _facts(doc)],
        "</table><h2>Timeline</h2>",
        "<table border='1' cellspacing='0' cellpadding='3' width='100%'>",
        "<tr><th>Time</th><th>Since previous</th><th>What</th><th>Who</th><th>Note</th></tr>",
    ]
    for entry in _shown_entries(doc):
        what = e(str(entry.get("summary") or entry.get("kind")))
        if entry.get("key"):
            what = f"<b>{what}</b>"
        parts.append(
            f"<tr><td>{e(_when(entry.get('at')))}</td>"
            f"<td>{e(format_duration(entry.get('since_previous_s')))}</td><td>{what}</td>"
            f"<td>{e(str(entry.get('author', '')))}</td>"
            f"<td>{e(str(entry.get('note', '')))}</td></tr>"
        )
    parts += ["</table>", "<h2>Root cause</h2>", f"<p>{e(_root_cause(doc))}</p>"]
    factors = doc.get("contributing_factors", [])
    if factors:
        parts += ["<h3>Contributing factors</h3><ul>", *[f"<li>{e(str(f))}</li>" for f in factors]]
        parts.append("</ul>")
    parts += [
        "<h2>What went well</h2>",
        f"<p>{e(str(doc.get('went_well') or '—'))}</p>",
        "<h2>What could be improved</h2>",
        f"<p>{e(str(doc.get('could_improve') or '—'))}</p>",
        "<h2>Action items</h2>",
    ]
    items = doc.get("action_items", [])
    if not items:
        parts.append("<p>None.</p>")
    else:
        parts.append("<table border='1' cellspacing='0' cellpadding='3' width='100%'>")
        parts.append(
            "<tr><th>Item</th><th>Owner</th><th>Due</th><th>State</th><th>Tracker</th></tr>"
        )
        for item in items:
            state = str(item.get("state", "")) + (" — OVERDUE" if item.get("overdue") else "")
            parts.append(
                f"<tr><td>{e(str(item.get('title', '')))}</td><td>{e(str(item.get('owner', '')))}"
                f"</td><td>{e(_when(item.get('due')))}</td><td>{e(state)}</td>"
                f"<td>{e(str(item.get('tracker_url') or ''))}</td></tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>")
    return "".join(parts)


def find_pir(docs: list[dict[str, Any]], ref: str) -> dict[str, Any] | None:
    """The cached review of ``ref``: its incident's number or id, or the review's id."""
    wanted = ref.strip().lower()
    for doc in docs:
        keys = {str(doc.get(k, "")).lower() for k in ("incident_number", "incident_id", "id")}
        if wanted in keys:
            return doc
    return None
