"""The TicketSQL and TransactionSQL the RT connector asks with.

String quoting, date literals in the asking account's time zone, keyset positions
and the queries for request keys and transactions; no network here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from console.connectors.rt.mapping import parse_time, ticket_id_of

# --------------------------------------------------------------------------
# TicketSQL
# --------------------------------------------------------------------------


def quote_sql(value: str) -> str:
    """A TicketSQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def sql_time(when: datetime, user_offset: timedelta) -> str:
    """An instant as a TicketSQL date literal.

    RT reads date literals in the time zone of the account asking (its own
    preference, else RT's ``$Timezone``), so the instant is written in that
    zone's wall time: ``user_offset`` is that zone's offset from UTC.
    """
    local = when.astimezone(UTC).replace(tzinfo=None) + user_offset
    return quote_sql(local.strftime("%Y-%m-%d %H:%M:%S"))


@dataclass(frozen=True)
class Keyset:
    """A position in the ticket order ``LastUpdated, id`` (for paging that never skips).

    ``ticket`` 0 stands before every ticket updated at ``updated``.
    """

    updated: datetime
    ticket: int = 0

    def precedes(self, ticket: Mapping[str, Any]) -> bool:
        """Whether ``ticket`` (REST2 JSON with ``LastUpdated``) comes after this position."""
        updated = parse_time(ticket.get("LastUpdated"))
        if updated is None:
            return True  # RT's "never": cannot be placed, so it is not left out
        return (updated, ticket_id_of(ticket)) > (self.updated, self.ticket)


QUARTER_HOUR = timedelta(minutes=15)


def quarter_of(when: datetime) -> datetime:
    """The UTC quarter hour ``when`` falls in.

    Time zones change their offset from UTC (daylight saving) only at
    instants on a quarter hour of UTC, and their offsets are whole quarter
    hours, so within one quarter hour RT reads a date in a query the same way.
    """
    moment = when.astimezone(UTC)
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)


def changed_since_sql(queue_id: int, position: Keyset | None, user_offset: timedelta) -> str:
    """TicketSQL for the queue's tickets after ``position`` in ``LastUpdated, id`` order."""
    where = f"Queue = {queue_id}"
    if position is None:
        return where
    at = sql_time(position.updated, user_offset)
    if position.ticket <= 0:
        return f"{where} AND LastUpdated >= {at}"
    return f"{where} AND (LastUpdated > {at} OR (LastUpdated >= {at} AND id > {position.ticket}))"


def request_key_sql(queue_id: int, custom_field: str, key: str) -> str:
    """TicketSQL for the queue's ticket whose request key custom field holds ``key``."""
    return f"Queue = {queue_id} AND CF.{{{custom_field}}} = {quote_sql(key)}"


def note_key_sql(ticket: int, custom_field: str, key: str) -> str:
    """TransactionSQL for the ticket's transaction whose request key field holds ``key``."""
    return (
        f"ObjectType = 'RT::Ticket' AND ObjectId = {ticket} AND "
        f"CF.{{{custom_field}}} = {quote_sql(key)}"
    )


def transactions_sql(tickets: Mapping[int, int]) -> str:
    """TransactionSQL for the transactions of ``tickets`` newer than each one's known id."""
    parts = [
        f"(ObjectId = {ticket} AND id > {after})" if after > 0 else f"ObjectId = {ticket}"
        for ticket, after in sorted(tickets.items())
    ]
    return f"ObjectType = 'RT::Ticket' AND ({' OR '.join(parts)})"


def chunks(items: Sequence[int], size: int) -> list[list[int]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]
