"""One ticket as an incident: its transactions, texts and owners, and the rights to see notes."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from console.connectors.base import BackendError, Rejected
from console.connectors.rt.client import _ticket
from console.connectors.rt.core import (
    _OWNER_TYPES,
    _TEXT_TYPES,
    PAGE_MAX,
    PARALLEL_REQUESTS,
    TICKETS_PER_QUERY,
    TXN_FIELDS,
)
from console.connectors.rt.mapping import (
    SETUP_DOC,
    Attachment,
    TicketHistory,
    UnreadableTicket,
    contents_by_transaction,
    fold_transactions,
    incident_from_ticket,
    ticket_id_of,
)
from console.connectors.rt.sql import chunks, transactions_sql
from console.connectors.rt.timezone import RtTimeZone
from console.domain.incident import Incident


class RtHistory(RtTimeZone):
    """Builds incidents from tickets and their transactions (for the pull and for reads of one)."""

    def _check_note_rights(self, number: int, ticket: Mapping[str, Any] | None = None) -> None:
        """Say once which of the notes' rights the account lacks, by the actions RT offers
        it on a ticket of the queue (one ticket read per connection)."""
        self._note_rights_checked = True
        if ticket is None:
            try:
                data = self._call("GET", f"ticket/{number}").data
            except Rejected:
                return
            ticket = data if isinstance(data, dict) else {}
        offered = {
            str(link.get("ref"))
            for link in ticket.get("_hyperlinks") or ()
            if isinstance(link, dict)
        }
        if not offered:
            return
        who = f"The RT user {self._caller.name!r}" if self._caller else "This RT user"
        for ref, right, what in (
            ("comment", "CommentOnTicket", "work notes (RT comments)"),
            ("correspond", "ReplyToTicket", "status updates (RT correspondence)"),
        ):
            if ref not in offered:
                self._notice(
                    f"{who} may not add {what} to the tickets of queue {self.queue} (RT's "
                    f"{right} right): RT refuses them, and the console shows each one as "
                    f"refused. Ask the RT admin to grant {right} on the queue ({SETUP_DOC})."
                )

    def _check_comments_visible(self, txn: int) -> None:
        """After this connection's first comment: whether the account may read comments."""
        self._comments_checked = True
        try:
            self._call("GET", f"transaction/{txn}")
        except Rejected:
            who = f"The RT user {self._caller.name!r}" if self._caller else "This RT user"
            self._notice(
                f"{who} may comment but not read comments (RT's ShowTicketComments right): "
                "work notes written in RT, and the console's own once it restarts, are missing "
                f"from the timeline. Ask the RT admin to grant ShowTicketComments ({SETUP_DOC})."
            )

    def _incident(
        self, ticket: Mapping[str, Any], history: TicketHistory, version: int
    ) -> Incident:
        status = str(ticket.get("Status") or "")
        status_class = None
        if not self.mapping.statuses.knows(status):
            status_class = self._status_class(status, ticket_id_of(ticket))
        try:
            return incident_from_ticket(
                ticket, history, self.mapping, status_class=status_class, version=version
            )
        except UnreadableTicket as exc:
            raise BackendError(
                f"Request Tracker sent a ticket the console cannot read: {exc}"
            ) from exc

    def _status_class(self, status: str, ticket: int) -> str:
        """Whether an RT status the settings do not map is inactive or active in its lifecycle."""
        key = status.lower()
        known = self._status_classes.get(key)
        if known is not None:
            return known
        inactive = self._first("tickets", f"id = {ticket} AND Status = '__Inactive__'")
        found = "inactive" if inactive is not None else "active"
        self._status_classes[key] = found
        self._notice(
            f"Request Tracker status {status!r} is not in the console's status map; it is "
            f"read as {'resolved' if found == 'inactive' else 'new or in progress'} "
            f"(RT calls it {found}). Map it under [rt.statuses] in settings.toml (docs/rt.md)."
        )
        return found

    def _etag_of(self, ticket: int) -> int:
        answer = self._call("GET", f"ticket/{ticket}")
        return answer.etag or 1

    def _transactions(self, wanted: Mapping[int, int]) -> dict[int, list[dict[str, Any]]]:
        """The transactions of each ticket after the id given (0: all), by ticket, in order."""
        groups = chunks(sorted(wanted), TICKETS_PER_QUERY)

        def fetch(group: list[int]) -> list[dict[str, Any]]:
            sql = transactions_sql({t: wanted[t] for t in group})
            params = [("query", sql), ("orderby", "id"), ("order", "ASC"), ("fields", TXN_FIELDS)]
            return [item for items, _ in self._search("transactions", params) for item in items]

        out: dict[int, list[dict[str, Any]]] = {}
        for items in self._parallel(fetch, groups):
            for txn in items:
                with contextlib.suppress(KeyError, TypeError, ValueError):
                    out.setdefault(int(txn["ObjectId"]), []).append(txn)
        return out

    def _contents(self, transactions: Mapping[int, list[dict[str, Any]]]) -> dict[int, Attachment]:
        """The text of each Create, Comment and Correspond transaction among ``transactions``."""
        ids = sorted(
            int(t["id"])
            for txns in transactions.values()
            for t in txns
            if t.get("Type") in _TEXT_TYPES
        )
        if not ids:
            return {}

        def fetch(group: list[int]) -> list[dict[str, Any]]:
            query = json.dumps(
                [
                    {"field": "TransactionId", "operator": "IN", "value": group},
                    {"field": "ContentType", "operator": "LIKE", "value": "text/"},
                ]
            )
            params = [("query", query), ("fields", "TransactionId,ContentType,Content,Headers")]
            return [item for items, _ in self._search("attachments", params) for item in items]

        found = [a for items in self._parallel(fetch, chunks(ids, PAGE_MAX)) for a in items]
        return contents_by_transaction(found)

    def _names_for_owner_changes(
        self, transactions: Mapping[int, list[dict[str, Any]]]
    ) -> dict[str, str]:
        """RT user id → name for the users owner changes name (they carry ids)."""
        ids: set[str] = set()
        for txns in transactions.values():
            for txn in txns:
                if (txn.get("Type") == "Set" and txn.get("Field") == "Owner") or txn.get(
                    "Type"
                ) in _OWNER_TYPES:
                    ids |= {str(txn.get("OldValue") or ""), str(txn.get("NewValue") or "")}
        missing = sorted(int(i) for i in ids - set(self._user_names) if i.isdigit())

        def fetch(group: list[int]) -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = []
            for user_id in group:
                try:
                    data = self._call("GET", f"user/{user_id}").data
                except Rejected:
                    continue  # not visible to this user: the id is shown instead
                if isinstance(data, dict):
                    found.append({"uid": str(user_id), "Name": data.get("Name") or data.get("id")})
            return found

        # RT cannot search users by id, so each one is read (once per session).
        groups = [missing[i::PARALLEL_REQUESTS] for i in range(PARALLEL_REQUESTS)]
        for items in self._parallel(fetch, [g for g in groups if g]):
            for user in items:
                self._user_names[user["uid"]] = str(user["Name"] or user["uid"])
        return dict(self._user_names)

    def _parallel(
        self, work: Callable[[list[int]], list[dict[str, Any]]], groups: list[list[int]]
    ) -> list[list[dict[str, Any]]]:
        if len(groups) <= 1:
            return [work(g) for g in groups]
        futures = [self._pool.submit(work, g) for g in groups]
        return [f.result() for f in futures]

    def get_incident(self, incident_id: str) -> Incident:
        """The ticket as RT has it now (with its ETag as the version)."""
        number = _ticket(incident_id)
        incident, _ticket_json = self._read_ticket(number)
        return incident

    def _read_ticket(self, number: int) -> tuple[Incident, dict[str, Any]]:
        answer = self._call("GET", f"ticket/{number}")
        ticket = answer.data if isinstance(answer.data, dict) else {}
        if not self._note_rights_checked:
            self._check_note_rights(number, ticket)
        history = self._history.get(number, TicketHistory())
        version = answer.etag or history.version
        if history.version < version or history.description is None:
            fresh = self._transactions({number: history.version}).get(number, [])
            self._remember_times({number: fresh})
            contents = self._contents({number: fresh})
            history = fold_transactions(history, fresh, contents, self.mapping.statuses)
            if history.description is None:
                history = replace(history, description="")
            self._history[number] = history
        return self._incident(ticket, history, version or history.version), ticket
