"""A major incident's edits: status updates, roles, the bridge and responders (#19).

:class:`MajorEdits` is mixed into :class:`~console.sync.edits.LocalEdits`, like
:class:`~console.sync.review_edits.ReviewEdits`: each edit is checked at once
(refused with :class:`~console.domain.errors.InvalidValue` or
:class:`~console.domain.errors.DomainError`, nothing queued), shown at once
under a local id, and queued in the outbox to be sent exactly once. A status
update is its own outbox operation; role, bridge and responder changes are
timeline entries carrying a ``command`` the push sends to the backend's API.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from console.domain.errors import DomainError, InvalidValue
from console.domain.incident import Incident, TimelineEvent, TimelineKind
from console.domain.major import (
    AUDIENCES,
    MAX_UPDATE_CHARS,
    PERSON_MAX_CHARS,
    RESPONDER_ACTIONS,
    UPDATE_STATUSES,
    bridge_problems,
    due_after_publish,
    role_problem,
    roles_from_timeline,
)
from console.store import Cache, OutboxEntry


def event_payload(event: TimelineEvent) -> dict[str, object]:
    """What the outbox keeps of a local entry, so the sent entry can replace it."""
    return {
        "local_event_id": event.id,
        "kind": event.kind.value,
        "body": event.body,
        "at": event.at.isoformat(),
        "author": event.author,
    }


class MajorEdits:
    """Publish updates and run the war room of a major incident."""

    # Provided by LocalEdits.
    _cache: Cache

    def _queued(self) -> None: ...

    _cached: Callable[[str], Incident]
    _local_event: Callable[..., TimelineEvent]

    def publish_status_update(
        self, incident_id: str, audience: str, status: str, text: str
    ) -> TimelineEvent:
        """Publish a major incident's update: shown at once, sent once from the outbox."""
        if audience not in AUDIENCES:
            raise InvalidValue("audience", audience, list(AUDIENCES))
        if status not in UPDATE_STATUSES:
            raise InvalidValue("status", status, list(UPDATE_STATUSES))
        body = text.strip() if isinstance(text, str) else ""
        if not body:
            raise InvalidValue("text", text, "the update's text")
        if len(body) > MAX_UPDATE_CHARS:
            raise InvalidValue(
                "text", f"{len(body)} characters", f"at most {MAX_UPDATE_CHARS} characters"
            )
        current = self._cached(incident_id)
        event = self._local_event(
            incident_id,
            TimelineKind.STATUS_UPDATE,
            body,
            data={"audience": audience, "status": status, "pending": True},
        )
        entry = OutboxEntry(
            operation="status_update",
            incident_id=incident_id,
            payload={"audience": audience, "status": status, **event_payload(event)},
            base_version=None,
        )
        # The countdown restarts on screen at once (the overdue mark goes); the
        # backend's next version of the incident carries its own reckoning.
        shown = None
        if current.next_update_due:
            moved = due_after_publish(
                current.next_update_due,
                audience=audience,
                status=status,
                at=event.at,
                severity=int(current.severity),
            )
            shown = replace(current, next_update_due=moved)
        self._cache.enqueue(entry, local_event=event, local_incident=shown)
        self._queued()
        return event

    # ------------------------------------------------------------ roles, bridge, responders

    def assign_role(
        self, incident_id: str, role: str, person: str, *, reason: str = ""
    ) -> TimelineEvent:
        """Give a role on a major incident to ``person`` (a hand-over when someone holds it).

        The local entry says from whom, to whom and when, and shows the new
        holder at once; the backend's entry replaces it once sent.
        """
        name = role.strip() if isinstance(role, str) else ""
        problem = role_problem(name)
        if problem is not None:
            raise InvalidValue("role", role, problem)
        who = person.strip() if isinstance(person, str) else ""
        if not who or len(who) > PERSON_MAX_CHARS:
            raise InvalidValue("person", person, f"a name of 1 to {PERSON_MAX_CHARS} characters")
        why = reason.strip() if isinstance(reason, str) else ""
        if len(why) > 500:
            raise InvalidValue("reason", f"{len(why)} characters", "at most 500 characters")
        self._cached(incident_id)
        before = roles_from_timeline(self._cache.timeline(incident_id)).get(name)
        if before == who:
            raise DomainError(f"{who} already holds {name}; pick someone else to hand it over")
        text = f"{name}: {before} → {who}" if before else f"{name}: {who}"
        body = ("Handed over " if before else "Assigned ") + text + (f" ({why})" if why else "")
        event = self._local_event(
            incident_id,
            TimelineKind.ASSIGNMENT,
            body + " (waiting to be sent)",
            data={"role": name, "from": before, "to": who, "reason": why, "pending": True},
        )
        return self._send_command(
            incident_id, event, {"command": "role", "role": name, "person": who, "reason": why}
        )

    def set_bridge(
        self,
        incident_id: str,
        *,
        url: str | None = None,
        dial_in: str | None = None,
        pin: str | None = None,
    ) -> TimelineEvent:
        """Set the war room's bridge: a conference URL and/or a dial-in number with its PIN."""
        given = {
            name: (value.strip() or None) if isinstance(value, str) else None
            for name, value in (("url", url), ("dial_in", dial_in), ("pin", pin))
        }
        problems = bridge_problems(given["url"], given["dial_in"], given["pin"])
        if problems:
            name, allowed = next(iter(problems.items()))
            raise InvalidValue(name, given[name] or "(empty)", allowed)
        self._cached(incident_id)
        bridge = {k: v for k, v in given.items() if v}
        event = self._local_event(
            incident_id,
            TimelineKind.WORK_NOTE,
            "Bridge: " + " · ".join(bridge.values()) + " (waiting to be sent)",
            data={"bridge": bridge, "pending": True},
        )
        return self._send_command(incident_id, event, {"command": "bridge", "bridge": bridge})

    def change_responder(self, incident_id: str, person: str, action: str) -> TimelineEvent:
        """Record that a responder ``joined`` or ``left`` the bridge (observers are not listed)."""
        who = person.strip() if isinstance(person, str) else ""
        if not who or len(who) > PERSON_MAX_CHARS:
            raise InvalidValue("person", person, f"a name of 1 to {PERSON_MAX_CHARS} characters")
        if action not in RESPONDER_ACTIONS:
            raise InvalidValue("action", action, list(RESPONDER_ACTIONS))
        self._cached(incident_id)
        event = self._local_event(
            incident_id,
            TimelineKind.ASSIGNMENT,
            f"{who} {action} the bridge (waiting to be sent)",
            data={"responder": who, "action": action, "pending": True},
        )
        return self._send_command(
            incident_id, event, {"command": "responder", "person": who, "action": action}
        )

    def _send_command(
        self, incident_id: str, event: TimelineEvent, command: dict[str, object]
    ) -> TimelineEvent:
        """Queue a war-room ``command`` with its local entry, which the backend's replaces."""
        entry = OutboxEntry(
            operation="timeline",
            incident_id=incident_id,
            payload={**command, **event_payload(event)},
            base_version=None,
        )
        self._cache.enqueue(entry, local_event=event)
        self._queued()
        return event
