"""Demo post-incident reviews and problems, built from the demo incidents at load time.

What a monthly operations review would find: the resolved major incidents
with a held review (root cause, lessons, open action items), one review past
its due date, drafts still due, and two problems — one a known error whose
workaround the triage wizard suggests (published as the known error
``problem-1``, as the server does).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from console.domain.incident import Incident, TimelineEvent
from console.domain.lifecycle import State
from console.domain.pir import draft_document
from console.domain.severity import Severity

_DONE = (State.RESOLVED, State.CLOSED)


def _item(n: int, title: str, owner: str, due: datetime, state: str = "open") -> dict[str, Any]:
    return {
        "id": f"demo-item-{n}",
        "title": title,
        "owner": owner,
        "due": due.isoformat(),
        "state": state,
        "reason": None,
        "tracker_url": f"https://tracker.example/OPS-{400 + n}",
    }


def build(
    incidents: Sequence[Incident],
    timeline: Sequence[TimelineEvent],
    contacts: Sequence[Mapping[str, Any]],
    now: datetime,
) -> dict[str, list[dict[str, Any]]]:
    """The demo's ``pirs``, ``problems`` and the one extra ``known_errors`` document."""
    events: dict[str, list[TimelineEvent]] = {}
    for event in timeline:
        events.setdefault(event.incident_id, []).append(event)
    owners = [str(c["name"]) for c in contacts] or ["demo"]
    needing = sorted(
        (
            i
            for i in incidents
            if i.state in _DONE and (i.major or i.severity in (Severity.SEV1, Severity.SEV2))
        ),
        key=lambda i: i.resolved_at or i.updated_at,
        reverse=True,
    )
    pirs: list[dict[str, Any]] = []
    overdue_made = False
    for n, incident in enumerate(needing[:8]):
        doc = draft_document(incident, sorted(events.get(incident.id, []), key=lambda e: e.at), now)
        doc.update(
            id=f"demo-pir-{n + 1}",
            version=1,
            created_at=(incident.resolved_at or now).isoformat(),
            updated_at=now.isoformat(),
        )
        if incident.major and n < 5:
            doc.update(
                status="held" if n % 2 else "approved",
                held_at=(now - timedelta(days=1 + n)).isoformat(),
                approved_by=None if n % 2 else owners[0],
                root_cause=(
                    f"A configuration change on {incident.service} went out to every node at "
                    "once: the deployment pipeline had no canary stage for configuration."
                ),
                contributing_factors=[
                    "no canary stage for configuration pushes",
                    "the alert fired on error rate only after five minutes",
                ],
                went_well="Paging reached the on-call engineer in two minutes; the bridge "
                "opened at once.",
                could_improve="Finding the change to roll back took 40 minutes: the change "
                "calendar did not show configuration pushes.",
                action_items=[
                    _item(
                        3 * n + 1,
                        "Add a canary stage to configuration pushes",
                        owners[(n + 1) % len(owners)],
                        now + timedelta(days=10 + n),
                    ),
                    _item(
                        3 * n + 2,
                        "Show configuration pushes on the change calendar",
                        owners[(n + 2) % len(owners)],
                        now - timedelta(days=2 + n),
                    ),
                    _item(
                        3 * n + 3,
                        "Alert on error rate within one minute",
                        owners[(n + 3) % len(owners)],
                        now - timedelta(days=5),
                        "done",
                    ),
                ],
            )
        elif not overdue_made:
            # A review nobody held: past its due date (scheduled a day before it,
            # as the +48 h / +72 h rule would have it).
            doc.update(
                scheduled_at=(now - timedelta(days=2)).isoformat(),
                due_at=(now - timedelta(days=1)).isoformat(),
            )
            overdue_made = True
        else:
            # The rest are still due (demo incidents resolved long ago are re-dated).
            doc.update(
                scheduled_at=(now + timedelta(hours=2 * n)).isoformat(),
                due_at=(now + timedelta(days=1, hours=2 * n)).isoformat(),
            )
        pirs.append(doc)
    problems, known = _problems(incidents, now)
    return {"pirs": pirs, "problems": problems, "known_errors": known}


def _problems(
    incidents: Sequence[Incident], now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    recurring = Counter((i.service, i.category) for i in incidents if i.category)
    if not recurring:
        return [], []
    ranked = recurring.most_common(2)
    out: list[dict[str, Any]] = []
    known: list[dict[str, Any]] = []
    for n, ((service, category), _count) in enumerate(ranked, start=1):
        linked = [i.number for i in incidents if (i.service, i.category) == (service, category)]
        doc: dict[str, Any] = {
            "id": f"demo-problem-{n}",
            "number": f"PRB-{n:06d}",
            "version": 1,
            "incidents": linked[:6],
            "service": service,
            "category": category,
            "permanent_fix": "",
            "change_ref": "",
            "known_error_id": None,
            "created_at": (now - timedelta(days=20 - 5 * n)).isoformat(),
            "updated_at": now.isoformat(),
        }
        if n == 1:
            doc.update(
                state="known_error",
                statement=f"Recurring {category} failures on {service} after nightly batch "
                "loads: jobs hang and dashboards go stale",
                root_cause="The batch scheduler retries a failed load without a back-off, "
                "exhausting the warehouse's connection pool.",
                workaround="Pause the nightly load in the scheduler (Jobs > Nightly > Pause), "
                "recycle the connection pool, then resume the load.",
                known_error_id="problem-1",
            )
            known.append(
                {
                    "id": "problem-1",
                    "title": f"PRB-000001: {service} batch loads hang and dashboards go stale",
                    "symptoms": doc["statement"],
                    "workaround": doc["workaround"],
                    "services": [service],
                    "category": category,
                    "article": "problem PRB-000001",
                }
            )
        else:
            doc.update(
                state="investigating",
                statement=f"{service}: intermittent {category} errors under load, cause unknown",
                root_cause="",
                workaround="",
            )
        out.append(doc)
    return out, known
