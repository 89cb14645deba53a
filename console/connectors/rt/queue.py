"""The queue the connector works and who the token belongs to (read once per connector)."""

from __future__ import annotations

import json

from console.connectors.base import BackendError, Caller, Rejected
from console.connectors.rt.client import RtClient, _segment
from console.connectors.rt.core import _TOKEN_USER
from console.connectors.rt.mapping import SETUP_DOC


class RtQueue(RtClient):
    """The queue's id, custom fields and rights, and the caller behind the token."""

    def _prepare(self) -> int:
        """The queue's id (read once), and a notice for each custom field it lacks."""
        if self._queue_id is not None:
            return self._queue_id
        try:
            answer = self._call("GET", f"queue/{_segment(self.queue)}")
        except Rejected as exc:
            if exc.status in (403, 404):
                raise BackendError(
                    f"Request Tracker at {self._web} has no queue {self.queue!r} that this "
                    "token's user can see: check --queue (or rt.queue in settings.toml) and "
                    f"the user's SeeQueue and ShowTicket rights ({SETUP_DOC})"
                ) from exc
            raise
        data = answer.data if isinstance(answer.data, dict) else {}
        try:
            queue_id = int(data["id"])
        except (KeyError, TypeError, ValueError) as exc:
            raise BackendError(f"{self._web} sent a queue the console cannot read") from exc
        names: list[str] = []
        for item in data.get("TicketCustomFields") or ():
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                names.append(item["name"])
                self._cf_by_id[str(item.get("id"))] = item["name"]
        self._cf_names = names
        present = {n.lower() for n in names}
        on_notes = {
            str(item["name"]).lower()
            for item in data.get("TicketTransactionCustomFields") or ()
            if isinstance(item, dict) and isinstance(item.get("name"), str)
        }
        self._learn_request_key(present, on_notes)
        for field_name, cf in self.mapping.fields.configured().items():
            if cf.lower() not in present:
                self._notice(
                    f"Queue {self.queue} in Request Tracker has no custom field {cf!r} "
                    f"(the incident's {field_name.replace('_', ' ')}), or this user may not see "
                    f"it: ask the RT admin to create it and apply it to the queue "
                    f"({SETUP_DOC}). Until then the console shows "
                    + (
                        "medium"
                        if field_name in ("impact", "urgency")
                        else "nothing"
                        if field_name != "service"
                        else "'unknown'"
                    )
                    + f" for it and refuses edits of the {field_name.replace('_', ' ')}."
                )
        self._queue_id = queue_id
        return queue_id

    def _learn_request_key(self, on_tickets: set[str], on_notes: set[str]) -> None:
        """Use the request key field where the queue has it; say once what may double."""
        name = self.mapping.fields.request_key
        self._ticket_key = name if name and name.lower() in on_tickets else None
        self._note_key = name if name and name.lower() in on_notes else None
        lacking = [
            what
            for what, held in (
                ("new incidents", self._ticket_key),
                ("work notes and status updates", self._note_key),
            )
            if held is None
        ]
        if not lacking:
            return
        where = {
            2: "for tickets or for ticket transactions",
            1: "for tickets" if self._ticket_key is None else "for ticket transactions",
        }[len(lacking)]
        missing = (
            f"Queue {self.queue} in Request Tracker has no custom field {name!r} {where}, "
            "or this user may not see it"
            if name
            else "No request key field is set (rt.custom_fields.request_key is empty)"
        )
        self._notice(
            f"{missing}. RT has no other way to recognise a request sent again, so "
            f"{' and '.join(lacking)} whose answer from RT was lost (a timeout, the console "
            "closed meanwhile) may be made twice in RT when the console sends them again "
            "after a restart. Ask the RT admin to add the request key field "
            f"({SETUP_DOC}, 'Request keys')."
        )

    def whoami(self) -> Caller | None:
        """The token's RT user, with the console role its RT rights come to.

        viewer: may see the queue but not create tickets in it; dispatcher:
        may create tickets in the queue (RT's CreateTicket); commander: also a
        member of the RT group named by ``rt.commander_group`` (default "NOC
        Commanders"); admin: may administer RT's users (AdminUsers, e.g. a
        SuperUser).
        """
        match = _TOKEN_USER.match(self._token or "")
        if match is None:
            return None
        user = self._call("GET", f"user/{match.group(1)}").data
        if not isinstance(user, dict) or not isinstance(user.get("Name"), str):
            return None
        name = user["Name"]
        queue = self._call("GET", f"queue/{_segment(self.queue)}").data
        links = queue.get("_hyperlinks") if isinstance(queue, dict) else None
        may_create = any(
            isinstance(link, dict) and link.get("ref") == "create" for link in links or ()
        )
        role = "dispatcher" if may_create else "viewer"
        if not may_create:
            self._notice(
                f"The RT user {name!r} may not create tickets in queue {self.queue} (RT's "
                "CreateTicket right), so the console works as a viewer: RT refuses new "
                "incidents logged here. For a dispatcher's desk ask the RT admin to grant "
                f"it ({SETUP_DOC}, step 3); a wall display needs no more."
            )
        if may_create and self.commander_group:
            groups = {
                str(g.get("id")) for g in user.get("Memberships") or () if isinstance(g, dict)
            }
            if groups and self._group_id(self.commander_group) in groups:
                role = "commander"
        if self._administers_users():
            role = "admin"
        caller = Caller(name=name, role=role)
        self._caller = caller
        return caller

    def _group_id(self, name: str) -> str | None:
        params = [("query", json.dumps([{"field": "Name", "value": name}])), ("fields", "Name")]
        try:
            for items, _ in self._search("groups", params):
                for item in items:
                    if str(item.get("Name", "")).lower() == name.lower():
                        return str(item.get("id"))
        except Rejected:
            return None
        return None

    def _administers_users(self) -> bool:
        """RT shows a user's memberships only to itself and to holders of AdminUsers."""
        try:
            other = self._call("GET", "user/Nobody").data
        except Rejected:
            return False
        return isinstance(other, dict) and "Memberships" in other
