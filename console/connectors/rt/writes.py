"""Creates, edits, work notes and status updates sent to RT, each recognised when sent again."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from console.connectors.base import (
    CREATE_FIELDS,
    PATCH_FIELDS,
    AuthFailed,
    BackendError,
    RateLimited,
    Rejected,
    Stale,
    Unreachable,
)
from console.connectors.rt.client import _creator, _note, _PreconditionFailed, _ticket
from console.connectors.rt.core import _TOKEN_USER, _TXN_LOCATION, LOST_CREATE_MARGIN_S, TXN_FIELDS
from console.connectors.rt.edits import (
    NotHeldByRt,
    RtUpdate,
    create_for_fields,
    refusals,
    unapplied,
    update_for_edit,
)
from console.connectors.rt.history import RtHistory
from console.connectors.rt.mapping import event_id, incident_id, parse_time, ticket_id_of
from console.connectors.rt.sql import note_key_sql, quote_sql, request_key_sql
from console.domain.errors import DomainError
from console.domain.incident import Incident, TimelineEvent, TimelineKind
from console.domain.roles import OVERRIDE_ROLE


class RtWrites(RtHistory):
    """The write half of the Backend protocol (docs/rt.md, "Sending again without doubling")."""

    def _check_override(self, fields: Mapping[str, object]) -> None:
        if fields.get("severity") and self._caller is not None and not self._caller.may_override:
            group = self.commander_group or "the commanders' group"
            raise Rejected(
                403,
                f"overriding the severity needs the {OVERRIDE_ROLE} role; in Request Tracker "
                f"that is membership of the group {group!r} (your RT user {self._caller.name!r} is "
                f"a {self._caller.role})",
            )

    def create_incident(self, fields: Mapping[str, object], *, idempotency_key: str) -> Incident:
        """Create a ticket in the queue; what RT cannot hold is added as a comment.

        RT has no idempotency keys. Where the queue has the request key field
        the key is written on the new ticket, and the queue is searched for it
        before every create, so a create sent again after its answer was lost
        gives the ticket made the first time, also after a restart. Without the
        field only this session's creates are recognised (see
        :meth:`_find_created`). The comments of a new ticket are added once:
        when the create is sent again, only those missing are added.
        """
        unknown = sorted(set(fields) - set(CREATE_FIELDS))
        if unknown:
            raise Rejected(422, f"{', '.join(unknown)}: not a field a new incident can have")
        self._prepare()
        try:
            plan = create_for_fields(fields, self.mapping, available_cfs=self._cf_names)
        except (NotHeldByRt, DomainError) as exc:
            raise Rejected(422, str(exc)) from exc
        body = dict(plan.body)
        reporter = str(body.get("Requestor", ""))
        notes = list(plan.comments)
        if reporter and ("@" not in reporter or " " in reporter or "," in reporter):
            # RT makes requestors of e-mail addresses; a caller's name (or a contact
            # id, which need not be an RT user) is kept in a comment instead.
            del body["Requestor"]
            notes.insert(0, f"Reported by: {reporter}")
        number = self._created.get(idempotency_key)
        if number is None:
            number = self._find_created(idempotency_key, body)
        sent_before = number is not None
        if number is None:
            self._check_override(fields)
            if self._ticket_key is not None:
                body["CustomFields"] = {
                    **body.get("CustomFields", {}),
                    self._ticket_key: idempotency_key,
                }
            number = self._post_ticket(body, idempotency_key)
        self._created[idempotency_key] = number
        self._uncertain.pop(idempotency_key, None)
        try:
            self._add_comments(number, notes, since=0 if sent_before else None)
        except (Unreachable, RateLimited, AuthFailed):
            raise  # sent again, the create finds its ticket and adds what is missing
        except BackendError as exc:
            self._notice(
                f"RT ticket {number} was created, but its notes could not be added "
                f"({exc.message}): {' / '.join(notes)}"
            )
        return self.get_incident(incident_id(number))

    def _post_ticket(self, body: Mapping[str, Any], idempotency_key: str) -> int:
        """``POST /ticket``; an answer lost on the way marks the create as uncertain."""
        try:
            answer = self._call("POST", "ticket", body=body)
        except (Unreachable, BackendError) as exc:
            if not isinstance(exc, Rejected | AuthFailed | RateLimited):
                # RT may have made it all the same.
                self._uncertain.setdefault(idempotency_key, time.monotonic())
            raise
        try:
            return int(answer.data["id"])
        except (KeyError, TypeError, ValueError) as exc:
            raise BackendError(f"{self._web} created a ticket but did not say its number") from exc

    def _find_created(self, idempotency_key: str, body: Mapping[str, Any]) -> int | None:
        """The ticket an earlier attempt of this create made, if there is one.

        With the request key field: the queue's ticket holding the key. Without
        it, and only after this session lost an answer to this create: a ticket
        this user created in the queue since shortly before that attempt, with
        the same subject and text.
        """
        queue_id = self._prepare()
        if self._ticket_key is not None:
            made = self._first(
                "tickets", request_key_sql(queue_id, self._ticket_key, idempotency_key)
            )
            return ticket_id_of(made) if made is not None else None
        first_try = self._uncertain.get(idempotency_key)
        if first_try is None:
            return None
        minutes = int((time.monotonic() - first_try + LOST_CREATE_MARGIN_S) // 60) + 1
        query = (
            f"Queue = {queue_id} AND Creator = '__CurrentUser__' AND "
            f"Subject = {quote_sql(str(body['Subject']))} AND "
            f"Created > '{minutes} minutes ago'"
        )
        params = [("query", query), ("orderby", "id"), ("order", "ASC")]
        found = [
            item for items, _ in self._search("tickets", params, per_page=10) for item in items
        ]
        text = str(body.get("Content", "")).strip()
        for item in found:
            number = ticket_id_of(item)
            if number in self._created.values():
                continue  # another create of this session
            if self.get_incident(incident_id(number)).description.strip() == text:
                return number
        return None

    def _add_comments(self, number: int, texts: Sequence[str], *, since: int | None) -> None:
        """Comment ``texts`` on the ticket; with ``since``, skip those this user already
        commented after transaction ``since`` (a resend after a lost answer)."""
        if not texts:
            return
        present = self._messages_by_me(number, "Comment", since) if since is not None else {}
        for text in texts:
            if text.strip() not in present:
                self._call("POST", f"ticket/{number}/comment", body=_note(text))

    def _messages_by_me(self, number: int, kind: str, since: int) -> dict[str, dict[str, Any]]:
        """This user's comments (``Comment``) or correspondence (``Correspond``) on the
        ticket after transaction ``since``: text → transaction, the earliest of each."""
        query = (
            f"ObjectType = 'RT::Ticket' AND ObjectId = {number} AND id > {since} "
            f"AND Type = {quote_sql(kind)}"
        )
        user = _TOKEN_USER.match(self._token or "")
        if user is not None:
            query += f" AND Creator = {user.group(1)}"
        params = [("query", query), ("orderby", "id"), ("order", "ASC"), ("fields", TXN_FIELDS)]
        txns = [item for items, _ in self._search("transactions", params) for item in items]
        contents = self._contents({number: txns})
        out: dict[str, dict[str, Any]] = {}
        for txn in txns:
            content = contents.get(int(txn["id"]))
            if content is not None:
                out.setdefault(content.text.strip(), txn)
        return out

    def update_incident(
        self,
        incident_id: str,
        fields: Mapping[str, object],
        *,
        version: int,
        idempotency_key: str,
    ) -> Incident:
        """Change the ticket with ``If-Match``; what RT did not apply becomes :class:`Rejected`.

        RT answers some refused changes with 200, so the ticket is read back:
        a field not showing its new value is refused, with RT's message saying
        why. Comments that go with the edit (a hold reason, the reason of a
        severity override) are added after the change is seen applied.
        """
        unknown = sorted(set(fields) - set(PATCH_FIELDS))
        if unknown:
            raise Rejected(422, f"{', '.join(unknown)}: not a field an edit can change")
        number = _ticket(incident_id)
        self._prepare()
        self._check_override(fields)
        current_status = None
        if fields.get("acknowledged") is True:
            ticket = self._call("GET", f"ticket/{number}").data
            current_status = str(ticket.get("Status") or "") if isinstance(ticket, dict) else None
        try:
            plan = update_for_edit(
                fields,
                self.mapping,
                available_cfs=self._cf_names,
                current_status=current_status,
            )
        except (NotHeldByRt, DomainError) as exc:
            raise Rejected(422, str(exc)) from exc
        reasons: list[str] = []
        said: list[str] = []
        if plan.body:
            try:
                answer = self._call(
                    "PUT",
                    f"ticket/{number}",
                    body=plan.body,
                    headers={"If-Match": f'"{version}"'},
                )
            except _PreconditionFailed:
                return self._after_stale_edit(number, plan, version)
            reasons = refusals(answer.data)
            if isinstance(answer.data, list):
                said = [str(m) for m in answer.data if isinstance(m, str)]
        incident, ticket = self._read_ticket(number)
        missing = unapplied(plan.expected, ticket)
        if missing:
            why = f"it answered: {'; '.join(said)}" if said else "no reason given"
            text = "; ".join(reasons) or (
                f"Request Tracker did not change {', '.join(missing)} ({why})"
            )
            raise Rejected(422, f"Request Tracker refused the change: {text}")
        if plan.comments:
            self._add_comments(number, plan.comments, since=None)
            incident, ticket = self._read_ticket(number)
        return incident

    def _after_stale_edit(self, number: int, plan: RtUpdate, version: int) -> Incident:
        """412: the ticket changed since ``version``.

        When it already shows every value of the edit, the edit is done: it is
        the console's own earlier attempt whose answer was lost (or someone
        made the same change). Its comments are then added where this user has
        not added them since ``version``. Otherwise :class:`Stale` with the
        ticket as it is now, for the engine's merge.
        """
        current, ticket = self._read_ticket(number)
        if unapplied(plan.expected, ticket):
            raise Stale(
                f"RT ticket {number} changed since version {version} (now {current.version})",
                current,
            )
        if plan.comments:
            self._add_comments(number, plan.comments, since=version)
            current, ticket = self._read_ticket(number)
        return current

    def add_timeline_entry(
        self,
        incident_id: str,
        kind: str,
        body: str,
        *,
        idempotency_key: str,
        score: int | None = None,
    ) -> TimelineEvent:
        """A work note as an RT comment, a status update as RT correspondence.

        CSAT scores (kind ``csat``) have no place in RT yet and are refused
        (the message says so); ``score`` is accepted for the protocol only.

        Where the queue's transactions have the request key field, the key is
        written on the note and looked for before it is sent, so a note sent
        again after its answer was lost is not added twice, also after a
        restart. Without the field only a resend in this session is recognised
        (see :meth:`_find_note`).
        """
        done = self._notes.get(idempotency_key)
        if done is not None:
            return done
        number = _ticket(incident_id)
        try:
            what = TimelineKind.of(kind)
        except DomainError as exc:
            raise Rejected(422, str(exc)) from exc
        if what is TimelineKind.WORK_NOTE:
            action = "comment"
        elif what is TimelineKind.STATUS_UPDATE:
            action = "correspond"
        else:
            raise Rejected(
                422,
                f"Request Tracker keeps work notes (comments) and status updates "
                f"(correspondence), not {what.label.lower()} entries",
            )
        if not body.strip():
            raise Rejected(422, "a note needs some text")
        self._prepare()
        found = self._find_note(number, action, body, idempotency_key)
        if found is not None:
            event = self._note_event(
                incident_id,
                what,
                body,
                int(found["id"]),
                parse_time(found.get("Created")),
                _creator(found),
            )
        else:
            event = self._post_note(incident_id, number, what, action, body, idempotency_key)
        self._notes[idempotency_key] = event
        self._uncertain_notes.pop(idempotency_key, None)
        return event

    def _post_note(
        self,
        incident_id: str,
        number: int,
        what: TimelineKind,
        action: str,
        body: str,
        idempotency_key: str,
    ) -> TimelineEvent:
        payload: dict[str, Any] = _note(body)
        before: int | None = None
        if self._note_key is not None:
            payload["TxnCustomFields"] = {self._note_key: idempotency_key}
        elif idempotency_key not in self._uncertain_notes:
            before = self._etag_of(number)  # to recognise this note if its answer is lost
        try:
            answer = self._call("POST", f"ticket/{number}/{action}", body=payload)
        except (Unreachable, BackendError) as exc:
            if before is not None and not isinstance(exc, Rejected | AuthFailed | RateLimited):
                self._uncertain_notes.setdefault(idempotency_key, before)
            raise
        # RT answers 201 only once the note is recorded (a refused one gets 400), so
        # whatever else the answer's messages say, the note is there.
        match = _TXN_LOCATION.search(answer.location)
        if match is None:
            raise BackendError(f"{self._web} added the note but did not say where")
        if action == "comment" and not self._comments_checked:
            with contextlib.suppress(BackendError):
                self._check_comments_visible(int(match.group(1)))
        author = self._caller.name if self._caller is not None else ""
        return self._note_event(
            incident_id, what, body, int(match.group(1)), answer.server_time, author
        )

    def _find_note(
        self, number: int, action: str, body: str, idempotency_key: str
    ) -> dict[str, Any] | None:
        """The transaction an earlier attempt of this note made, if there is one.

        With the request key field on transactions: the ticket's transaction
        holding the key. Without it, and only after this session lost an answer
        to this note: this user's comment (or correspondence) with the same
        text added after the ticket's version read just before that attempt.
        Two notes of the same text sent on purpose are two requests with two
        keys, so neither is taken for the other.
        """
        if self._note_key is not None:
            return self._first(
                "transactions",
                note_key_sql(number, self._note_key, idempotency_key),
                fields=TXN_FIELDS,
            )
        since = self._uncertain_notes.get(idempotency_key)
        if since is None:
            return None
        return self._messages_by_me(number, action.capitalize(), since).get(body.strip())

    def _note_event(
        self,
        incident_id: str,
        what: TimelineKind,
        body: str,
        txn: int,
        at: datetime | None,
        author: str,
    ) -> TimelineEvent:
        action = "Comment" if what is TimelineKind.WORK_NOTE else "Correspond"
        return TimelineEvent(
            id=event_id(txn),
            incident_id=incident_id,
            kind=what,
            at=at or datetime.now(UTC).replace(microsecond=0),
            author=author or "me",
            body=body,
            data={"rt_transaction": txn, "rt_type": action},
        )

    def publish_status_update(
        self, incident_id: str, audience: str, status: str, text: str, *, idempotency_key: str
    ) -> TimelineEvent:
        """RT has no audiences: refused, so an internal update never mails the requestors."""
        raise Rejected(
            422,
            "Request Tracker has no stakeholder audiences; publish internal and executive "
            "updates by your usual channel and add a work note saying what was sent",
        )

    def assign_role(
        self, incident_id: str, role: str, person: str, reason: str, *, idempotency_key: str
    ) -> None:
        """RT has no incident roles: refused, with what to do instead."""
        raise Rejected(
            422,
            f"Request Tracker has no major incident roles; tell {person} they are the {role} "
            "and add a work note saying so (the ticket's owner stays as it is)",
        )

    def set_bridge(
        self, incident_id: str, bridge: Mapping[str, str], *, idempotency_key: str
    ) -> None:
        """RT has no war room: refused, with what to do instead."""
        raise Rejected(
            422,
            "Request Tracker has no war room bridge; add a work note with the conference "
            "URL or dial-in so the responders find it",
        )

    def change_responder(
        self, incident_id: str, person: str, action: str, *, idempotency_key: str
    ) -> None:
        """RT has no responder list: refused, with what to do instead."""
        raise Rejected(
            422,
            f"Request Tracker keeps no list of responders; add a work note that {person} {action} "
            "the bridge",
        )

    def engage(
        self, incident_id: str, tiers: list[int], reason: str, *, idempotency_key: str
    ) -> list[TimelineEvent]:
        """RT has no escalation tiers: refused, with what to do instead."""
        raise Rejected(
            422,
            "Request Tracker has no escalation tiers to engage; call the people on call from "
            "the escalation matrix (Ctrl+3) and add a work note saying whom you engaged",
        )

    def write_record(
        self,
        action: str,
        target: str,
        body: Mapping[str, object],
        *,
        version: int | None,
        idempotency_key: str,
    ) -> Mapping[str, object]:
        """RT keeps no post-incident reviews or problems: refused, with where to keep them."""
        raise Rejected(
            422,
            "Request Tracker keeps no post-incident reviews or problem records; nothing was "
            "changed. Keep the review in your wiki (noc-console export pir makes the page) or "
            "connect the console to a NOC Console server",
        )

    def get_record(self, kind: str, target: str) -> Mapping[str, object]:
        """RT keeps no reviews or problems."""
        raise Rejected(404, "Request Tracker keeps no post-incident reviews or problem records")

    def apply_workaround(
        self, incident_id: str, known_error_id: str, note: str, *, idempotency_key: str
    ) -> TimelineEvent:
        """RT has no known-error database: refused, with what to do instead."""
        raise Rejected(
            422,
            "Request Tracker has no known-error database to record a workaround against; "
            "add a work note naming the workaround you applied",
        )
