"""Escalation on the server: the timer that engages tiers and tells managers, and swarming.

The rules are the domain's (:mod:`console.domain.escalation`); this module
feeds them the stored incidents, policies, rotations and contacts, and writes
what they say is due as timeline entries, one per step, e.g.
``Escalated to L2 Network: Jo Kim +44 7700 900123 (unacknowledged after
15 min)``. Every console sees the entry through the change feed and alerts on
it; subscribed webhooks get it too (:mod:`console.server.jobs.webhooks`).

What has been done is read back from those same entries: an escalation
entry's ``data`` holds ``{"tier": 2}`` for an engaged tier or ``{"rule_id":
"..."}`` for a manager told (the domain's :func:`engagement_from_marks`, which
the console's detail pane reads too). So the timer keeps no state of its own, running
it twice at the same instant adds nothing, and several ``serve`` processes can
all run it (each run is one serialised write transaction, and the second sees
what the first wrote).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from console.domain.escalation import (
    EscalationPolicy,
    EscalationStep,
    StepKind,
    StepStatus,
    due_escalations,
    engagement_from_marks,
)
from console.domain.incident import Incident, TimelineKind
from console.domain.lifecycle import State
from console.domain.oncall import NotScheduledError, Override, Rotation, on_call_at
from console.domain.phones import format_phone
from console.domain.sla import SlaPolicy
from console.server.core import changes
from console.server.core.db import READ_ONCE_KEY
from console.server.core.errors import ApiError
from console.server.core.tables import IncidentRow, ReferenceRow, TimelineRow
from console.server.deps import ServerContext
from console.server.jobs import webhooks
from console.server.services import idempotency
from console.server.services.incident_rows import (
    incident_wire,
    note_entries,
    timeline_wire,
    to_domain,
)
from console.wire import (
    ContactIn,
    EscalationPolicyIn,
    OnCallRotationIn,
    policy_to_domain,
    rotation_to_domain,
)

log = logging.getLogger(__name__)

TIMER_AUTHOR = "escalation-timer"
"""The author of the timer's timeline entries (a person's token name otherwise)."""
# Open incidents the timer looks at per write transaction (see ``tick``).
TICK_CHUNK = 50

ESCALATION_EVENT = "escalation"
"""The webhook event sent for every escalation entry the timer or a swarm writes."""

_OPEN_STATES = tuple(state.value for state in State if state.is_open)


@dataclass
class OnCallBook:
    """The reference data escalation needs, read once per run: policies, rotas, contacts.

    The server's counterpart of the console's ``services.directory.Directory``
    (which reads the client's cache); both convert with the wire's
    ``policy_to_domain`` and ``rotation_to_domain`` and ask the domain's
    ``on_call_at`` who is on call.

    ``policies`` are by service id, with the wire policy's ``auto_escalate``.
    A stored item that no longer converts (it passed the checks of an older
    server) is left out and logged, so one bad item never stops the timer.
    """

    policies: dict[str, tuple[EscalationPolicy, bool]] = field(default_factory=dict)
    rotations: dict[str, tuple[Rotation, tuple[Override, ...]]] = field(default_factory=dict)
    contacts: dict[str, ContactIn] = field(default_factory=dict)

    @classmethod
    def load(cls, *, session: Session) -> OnCallBook:
        """Read policies, rotations and contacts from the reference table."""
        book = cls()
        rows = session.scalars(
            select(ReferenceRow).where(ReferenceRow.kind.in_(("policy", "shift", "contact")))
        )
        for row in rows:
            try:
                if row.kind == "policy":
                    wire = EscalationPolicyIn.model_validate(row.data)
                    book.policies[wire.service] = (policy_to_domain(wire), wire.auto_escalate)
                elif row.kind == "shift":
                    rotation = OnCallRotationIn.model_validate(row.data)
                    book.rotations[row.id] = rotation_to_domain(row.id, rotation)
                else:
                    book.contacts[row.id] = ContactIn.model_validate(row.data)
            except Exception as exc:  # a damaged item must not stop every escalation
                log.warning("escalation: skipping %s %r: %s", row.kind, row.id, exc)
        return book

    def on_call(self, at: datetime) -> Callable[[str], str | None]:
        """``rotation id → contact id`` on call at ``at`` (None: nobody, or unknown rota)."""
        memo: dict[str, str | None] = {}

        def lookup(rotation_id: str) -> str | None:
            if rotation_id not in memo:
                entry = self.rotations.get(rotation_id)
                try:
                    memo[rotation_id] = (
                        None if entry is None else on_call_at(entry[0], entry[1], at).contact_id
                    )
                except NotScheduledError:
                    memo[rotation_id] = None
            return memo[rotation_id]

        return lookup

    def describe(self, contact_id: str | None) -> str | None:
        """``"Jo Kim +44 7700 900123"``: international form, pagers cross borders."""
        contact = self.contacts.get(contact_id) if contact_id is not None else None
        if contact is None:
            return None
        return f"{contact.name} {format_phone(contact.primary_phone, None)}"


def step_text(step: EscalationStep, book: OnCallBook) -> str:
    """The timeline body of one step, e.g. ``Escalated to L2 Network: Jo Kim +44 …``."""
    person = book.describe(step.who)
    if step.kind is StepKind.FUNCTIONAL:
        text = f"Escalated to {step.label}: {person or step.who or 'nobody on call'}"
    elif step.who is not None and step.who != step.label:
        text = f"Informed {step.label}: {person or step.who}"
    else:
        # The rule names a contact (shown with their number) or a role with nobody on file.
        text = f"Informed {person or step.label}"
    return f"{text} ({step.reason})" if step.reason else text


def _step_data(step: EscalationStep, book: OnCallBook, **extra: Any) -> dict[str, Any]:
    contact = book.contacts.get(step.who) if step.who is not None else None
    data: dict[str, Any] = {"label": step.label, "who": step.who, "reason": step.reason}
    if step.level is not None:
        data["tier"] = step.level
    if step.rule_id is not None:
        data["rule_id"] = step.rule_id
    if contact is not None:
        data["contact_name"] = contact.name
        data["phone"] = contact.primary_phone
    return {**data, **extra}


def _escalation_entries(
    *, session: Session, incident_ids: list[str]
) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {i: [] for i in incident_ids}
    # In chunks: a NOC can have thousands of open incidents and SQLite caps parameters.
    for start in range(0, len(incident_ids), 500):
        chunk = incident_ids[start : start + 500]
        for incident_id, data in session.execute(
            select(TimelineRow.incident_id, TimelineRow.data).where(
                TimelineRow.incident_id.in_(chunk),
                TimelineRow.kind == TimelineKind.ESCALATION.value,
            )
        ):
            found[incident_id].append(data or {})
    return found


@dataclass(frozen=True)
class _Writer:
    session: Session
    now: datetime
    author: str
    notify_channel: str | None
    subscribers: webhooks.Subscribers

    def write(self, incident: IncidentRow, body: str, data: dict[str, Any]) -> TimelineRow:
        """One escalation entry, its change-log row and its webhook deliveries."""
        entry = TimelineRow(
            id=str(uuid.uuid4()),
            incident_id=incident.id,
            kind=TimelineKind.ESCALATION.value,
            at=self.now,
            author=self.author,
            body=body,
            data=data,
        )
        note_entries(incident, [entry])
        self.session.add(entry)
        self.session.flush()
        wire = timeline_wire(entry).model_dump(mode="json")
        entry.feed_seq = changes.append(
            session=self.session,
            kind="timeline",
            entity_id=entry.id,
            op="upsert",
            data=wire,
            at=self.now,
            notify_channel=self.notify_channel,
        )
        webhooks.enqueue(
            session=self.session,
            event=ESCALATION_EVENT,
            payload={"incident": incident_wire(incident).model_dump(mode="json"), "entry": wire},
            subscribers=self.subscribers,
        )
        return entry


def _fractions(sla: SlaPolicy, incident: Incident, now: datetime) -> tuple[float, float]:
    return sla.reading(incident, "response", now).fraction, sla.current(incident, now).fraction


def run_escalations(
    *,
    session: Session,
    now: datetime,
    sla: SlaPolicy,
    notify_channel: str | None = None,
    author: str = TIMER_AUTHOR,
    incident_ids: Sequence[str] | None = None,
) -> list[TimelineRow]:
    """One tick of the timer: write an entry for every step due now; the entries written.

    Looks at every open incident whose service has an escalation policy with
    ``auto_escalate`` (only those of ``incident_ids`` when given). Tiers are
    due only while the incident is unacknowledged (the domain's rule);
    management rules while it is open. Runs in the caller's write
    transaction; the caller commits.
    """
    book = OnCallBook.load(session=session)
    automatic = _automatic_services(book)
    if not automatic:
        return []
    query = _watched(select(IncidentRow), automatic)
    if incident_ids is not None:
        query = query.where(IncidentRow.id.in_(incident_ids))
    rows = list(session.scalars(query))
    if not rows:
        return []
    done = _escalation_entries(session=session, incident_ids=[row.id for row in rows])
    on_call = book.on_call(now)
    writer = _Writer(session, now, author, notify_channel, webhooks.Subscribers(session))
    written: list[TimelineRow] = []
    for row in rows:
        incident = to_domain(row)
        if incident.opened_at > now:
            continue  # a clock behind the incident's own: nothing can be due yet
        policy, _auto = book.policies[incident.service]
        response_fraction, sla_fraction = _fractions(sla, incident, now)
        steps = due_escalations(
            policy,
            incident,
            now,
            response_fraction=response_fraction,
            sla_fraction=sla_fraction,
            engagement=engagement_from_marks(done[row.id]),
            on_call=on_call,
        )
        for step in steps:
            data = _step_data(step, book, auto=True)
            written.append(writer.write(row, step_text(step, book), data))
    return written


def engage(
    *,
    session: Session,
    row: IncidentRow,
    levels: list[int],
    reason: str,
    now: datetime,
    author: str,
    notify_channel: str | None = None,
) -> list[TimelineRow]:
    """Swarming: engage several tiers of the incident's policy at once; the entries written.

    One escalation entry per tier (``data`` marks it engaged, with
    ``"swarm": true``), naming who is on call now. 422 when the service has no
    policy or a level is not one of its tiers (the message lists them); 409
    when the incident is no longer open.
    """
    # Read once per write transaction: a batch of engages shares them (the
    # reference data cannot change while the transaction holds the writer lock).
    once = session.info.setdefault(READ_ONCE_KEY, {})
    if "book" not in once:
        once["book"] = OnCallBook.load(session=session)
        once["subscribers"] = webhooks.Subscribers(session)
    book: OnCallBook = once["book"]
    subscribers: webhooks.Subscribers = once["subscribers"]
    incident = to_domain(row)
    entry = book.policies.get(incident.service)
    if entry is None:
        raise ApiError(
            422,
            "invalid_value",
            f"service {incident.service!r} has no escalation policy, so there are no tiers "
            "to engage; an admin adds one with PUT /v1/policies/{id}",
        )
    policy = entry[0]
    allowed = [tier.level for tier in policy.tiers]
    unknown = [level for level in levels if level not in allowed]
    if unknown:
        raise ApiError(
            422,
            "invalid_value",
            f"tiers: {', '.join(map(str, unknown))} not in the escalation policy of "
            f"{incident.service!r}; its tiers are {', '.join(map(str, allowed))}",
        )
    if not incident.is_open:
        raise ApiError(
            409,
            "conflict",
            f"{incident.number} is {incident.state.label.lower()}; reopen it before engaging teams",
        )
    on_call = book.on_call(now)
    writer = _Writer(session, now, author, notify_channel, subscribers)
    written = []
    for level in levels:
        tier = policy.tier(level)
        who = tier.contact_id if tier.rotation_id is None else on_call(tier.rotation_id)
        person = book.describe(who) or who or "nobody on call"
        body = f"Engaged {tier.name} (swarm): {person} ({reason})"
        step = EscalationStep(
            kind=StepKind.FUNCTIONAL,
            label=tier.name,
            who=who,
            status=StepStatus.ENGAGED,
            level=level,
        )
        data = _step_data(step, book, swarm=True, reason=reason)
        written.append(writer.write(row, body, data))
    return written


def _automatic_services(book: OnCallBook) -> list[str]:
    return sorted(service for service, (_p, auto) in book.policies.items() if auto)


def _watched(query: Select[Any], automatic: list[str]) -> Select[Any]:
    """``query`` narrowed to the open incidents of ``automatic`` services, oldest number first."""
    return query.where(
        IncidentRow.state.in_(_OPEN_STATES), IncidentRow.service.in_(automatic)
    ).order_by(IncidentRow.number)


def candidates(*, session: Session) -> list[str]:
    """The open incidents the timer looks at (services that escalate by themselves), in order."""
    automatic = _automatic_services(OnCallBook.load(session=session))
    if not automatic:
        return []
    return list(session.scalars(_watched(select(IncidentRow.id), automatic)))


def tick(context: ServerContext) -> int:
    """One run of the timer in a write transaction of its own; how many entries it wrote.

    Then, being the server's periodic job, it purges expired ``Idempotency-Key``
    records (at most once an hour, see :func:`idempotency.purge_if_due`); a
    failed purge is logged and never holds up escalation.

    Blocking: the app's lifespan runs it on a worker thread every
    ``escalation_tick_s``.
    """
    # Read first, then written TICK_CHUNK incidents per transaction: each holds the
    # writer, and one transaction over a floor of open incidents kept every
    # interactive write waiting for the whole scan. Each chunk reads its incidents
    # again inside its own transaction, so one acknowledged meanwhile is left alone.
    with context.db.read_session() as session:
        ids = candidates(session=session)
    written = 0
    for start in range(0, len(ids), TICK_CHUNK):
        with context.db.write_session() as session:
            written += len(
                run_escalations(
                    session=session,
                    now=context.clock(),
                    sla=context.sla,
                    notify_channel=context.notify_channel,
                    incident_ids=ids[start : start + TICK_CHUNK],
                )
            )
            session.commit()
        time.sleep(0)  # let a writer waiting for the lock take it first
    if written:
        log.info("escalation timer: %d step(s) engaged or told", written)
    try:
        # Reviews and action items past due: pir.due / action_item.overdue, once each.
        from console.server.services import pirs

        with context.db.write_session() as session:
            reminded = pirs.send_reminders(session=session, now=context.clock())
            session.commit()
        if reminded:
            log.info("review reminders: %d webhook event(s) queued", reminded)
    except Exception:  # like the purge: a later tick tries again
        log.exception("queuing review reminders failed")
    try:
        idempotency.purge_if_due(
            db=context.db,
            now=context.clock(),
            retention_s=context.settings.idempotency_retention_s,
        )
    except Exception:  # the database may be briefly away; a later tick tries again
        log.exception("purging expired Idempotency-Keys failed")
    return written
