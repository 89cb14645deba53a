"""Post-incident reviews: drafting from a long timeline, and filtering the Reviews view.

Figures (``python -m bench reviews``):

- ``reviews.draft_5000_ms``: ``POST /v1/pirs`` over HTTP to a real server on
  loopback (SQLite file) for a resolved incident with 5,000 timeline entries:
  reading the timeline, reconstructing it, prefilling the impact, writing the
  review and its change-log row. Median of 5 incidents.
- ``reviews.draft_domain_5000_ms``: the reconstruction alone
  (:func:`console.domain.pir.draft_document`).
- ``reviews.filter_keystroke_*_ms`` (median, p99, max, and the p99 of the
  process's CPU time, which the machine's load disturbs less): the Reviews view
  over 10,000 reviews and 50,000 action items (offscreen Qt, shown at
  1280x720), typing queries one character at a time: filtering the rows,
  resetting both tables and painting them.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench import note, percentile, report

ENTRIES = 5_000
REVIEWS = 10_000
ITEMS_PER_REVIEW = 5
# Typed one character at a time, from an empty filter, ROUNDS times over.
QUERIES = ("owner 1", "service 4", "inc-0012", "follow-up 3", "zzz")
ROUNDS = 3


def _seed_incident(server: Any, headers: dict[str, str], client: httpx.Client) -> str:
    from console.domain.incident import TimelineKind
    from console.server.core.tables import TimelineRow
    from console.server.services import incidents as service
    from console.server.services.incidents import WriteScope

    incident = client.post(
        "/v1/incidents",
        json={"title": "Checkout 502", "service": "checkout", "impact": "high", "urgency": "high"},
        headers=headers,
    ).json()
    for state in ("triaged", "in_progress"):
        incident = client.patch(
            f"/v1/incidents/{incident['id']}",
            json={"state": state},
            headers={**headers, "If-Match": f'"{incident["version"]}"'},
        ).json()
    # 5,000 notes in one transaction through the service (posting them one by one
    # over HTTP would measure the seeding, not the draft).
    context = server._context
    with context.db.write_session() as session:
        row = service.find_incident(session=session, ref=incident["id"])
        start = datetime.now(UTC) - timedelta(hours=6)
        entries = [
            TimelineRow(
                id=str(uuid.uuid4()),
                incident_id=row.id,
                kind=TimelineKind.WORK_NOTE.value,
                at=start + timedelta(seconds=4 * n),
                author=f"engineer-{n % 12}",
                body=f"Checked node {n}: still failing health checks",
                data={},
            )
            for n in range(ENTRIES)
        ]
        from console.server.core.auth import Principal, Role

        scope = WriteScope(
            principal=Principal(name="bench", role=Role.ADMIN, token_id="bench"),
            now=datetime.now(UTC),
            sla=context.sla,
        )
        service._insert_entries(session, entries, scope)
        session.commit()
    incident = client.patch(
        f"/v1/incidents/{incident['id']}",
        json={"state": "resolved"},
        headers={**headers, "If-Match": f'"{incident["version"]}"'},
    ).json()
    return str(incident["id"])


def bench_draft() -> None:
    from console.domain.pir import draft_document
    from console.server.core.auth import Role
    from console.server.core.settings import Settings, sqlite_url
    from console.server.embedded import EmbeddedServer
    from console.server.services import incidents as service
    from console.wire import timeline_from_wire

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(db_url=sqlite_url(Path(folder) / "bench.db"), host="127.0.0.1", port=0)
        with EmbeddedServer(settings) as server:
            token = server.issue_token("bench", Role.ADMIN)
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=server.url, timeout=60) as client:
                ids = [_seed_incident(server, headers, client) for _ in range(5)]
                timings = []
                for incident_id in ids:
                    started = time.perf_counter()
                    response = client.post(
                        "/v1/pirs", json={"incident_id": incident_id}, headers=headers
                    )
                    timings.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 201, response.text
                    assert len(response.json()["timeline"]) >= ENTRIES
                note(f"{ENTRIES} timeline entries per incident, 5 incidents, SQLite, loopback HTTP")
                report("reviews.draft_5000_ms", statistics.median(timings), "ms")
                with server._context.db.write_session() as session:
                    row = service.find_incident(session=session, ref=ids[0])
                    incident = service.to_domain(row)
                    events = [
                        timeline_from_wire(service.timeline_wire(t))
                        for t in service.list_timeline(session=session, incident_id=row.id)
                    ]
                domain = []
                for _ in range(5):
                    started = time.perf_counter()
                    draft_document(incident, events, datetime.now(UTC))
                    domain.append((time.perf_counter() - started) * 1000)
                report("reviews.draft_domain_5000_ms", statistics.median(domain), "ms")


def _reviews(now: datetime) -> list[dict[str, Any]]:
    owners = [f"Owner {n}" for n in range(200)]
    docs = []
    for n in range(REVIEWS):
        due = now + timedelta(hours=(n % 240) - 120)
        docs.append(
            {
                "id": f"pir-{n}",
                "incident_number": f"INC-{n:06d}",
                "title": f"Service {n % 97} degraded in region {n % 7}",
                "service": f"svc-{n % 97}",
                "severity": f"SEV-{1 + n % 2}",
                "status": ("draft", "held", "approved")[n % 3],
                "due_at": due.isoformat(),
                "action_items": [
                    {
                        "id": f"i-{n}-{k}",
                        "title": f"Follow-up {k} for service {n % 97}",
                        "owner": owners[(n + k) % len(owners)],
                        "due": (due + timedelta(days=k)).isoformat(),
                        "state": ("open", "done", "dropped")[k % 3],
                    }
                    for k in range(ITEMS_PER_REVIEW)
                ],
            }
        )
    return docs


def bench_filter() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from console.views.reviews import ReviewsView

    app = QApplication.instance() or QApplication([])
    now = datetime.now(UTC)
    docs = _reviews(now)
    started = time.perf_counter()
    view = ReviewsView(docs, clock=lambda: now)
    build_ms = (time.perf_counter() - started) * 1000
    view.resize(1280, 720)
    view.show()  # painting the visible rows is part of a keystroke's cost
    app.processEvents()
    timings, cpu = [], []
    for _round in range(ROUNDS):
        for text in QUERIES:
            view.search.clear()
            app.processEvents()
            for end in range(1, len(text) + 1):
                started, started_cpu = time.perf_counter(), time.process_time()
                view.search.setText(text[:end])  # textChanged → filter and reset both tables
                app.processEvents()
                timings.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
    note(f"{REVIEWS} reviews, {REVIEWS * ITEMS_PER_REVIEW} action items, {len(timings)} keystrokes")
    report("reviews.build_rows_ms", build_ms, "ms")
    report("reviews.filter_keystroke_median_ms", statistics.median(timings), "ms")
    report("reviews.filter_keystroke_p99_ms", percentile(timings, 99), "ms")
    report("reviews.filter_keystroke_max_ms", max(timings), "ms")
    report("reviews.filter_keystroke_cpu_p99_ms", percentile(cpu, 99), "ms")
    del view, app


def run(argv: list[str] | None = None) -> None:
    note(f"load average: {Path('/proc/loadavg').read_text().strip()}")
    bench_draft()
    bench_filter()
