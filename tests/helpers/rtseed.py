"""Seeding the test RT fast: tickets written straight into RT's tables, cloned from one
made through RT's API (see ``RtInstance.bulk_seed`` and ``seed_history``)."""

from __future__ import annotations

import contextlib
import random
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tests.helpers.rtserver import (
    CONSOLE_USER,
    CUSTOM_FIELDS,
    OTHER_DISPATCHERS,
    RtError,
    next_id,
    sql_insert,
    sql_rows,
)

if TYPE_CHECKING:
    from tests.helpers.rtserver import RtInstance


_SERVICES = ("checkout", "payments", "search", "dns", "vpn", "email", "core-network", "voip")
_PROBLEMS = ("returns 502", "latency above SLO", "packet loss", "certificate expiring", "down")
_CATEGORIES = ("network", "power", "application", "database", "security", "hardware")
_LEVELS = ("high", "medium", "low")
_SEVERITIES = ("SEV-1", "SEV-2", "SEV-3", "SEV-4")
_STATUSES = ("new", "new", "open", "open", "open", "stalled", "resolved")
_OWNERS = ("Nobody", "Nobody", CONSOLE_USER, *OTHER_DISPATCHERS)
_REQUESTORS = tuple(f"{name}@customers.noc-console.test" for name in ("ops", "sre", "helpdesk"))
_ROLES = ("AdminCc", "Cc", "Owner", "Requestor")
_Rows = list[dict[str, Any]]


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")  # RT stores UTC


def bulk_seed(rt: RtInstance, count: int, *, seed: int = 0) -> list[int]:
    """See ``RtInstance.bulk_seed``."""
    if count <= 0:
        return []
    pick = random.Random(seed)
    for email in _REQUESTORS:
        if rt.api("GET", f"user/{email}").status_code == 404:
            made = rt.api("POST", "user", json={"Name": email, "EmailAddress": email})
            if made.status_code != 201:
                raise RtError(f"RT refused to create requestor {email}: {made.text[:300]}")
    # The first ticket goes through RT's API; the others copy its rows.
    prototype = rt.create_ticket(
        "checkout returns 502",
        Requestor=_REQUESTORS[0],
        CustomFields={
            "Impact": "high",
            "Urgency": "high",
            "Severity": "SEV-1",
            "Service": "checkout",
            "Category": "application",
        },
    )
    with contextlib.closing(rt.server.connect()) as db, db:
        return [prototype, *_clone_tickets(db, prototype, count - 1, pick)]


def seed_history(rt: RtInstance, count: int, *, requestor: str = _REQUESTORS[0]) -> list[int]:
    """``count`` tickets in this queue, each with the whole history of a ticket worked
    through RT's API, as on a real RT: made with a requestor (RT's autoreply records an
    EmailRecord transaction), its custom fields set, a comment, a reply (another
    EmailRecord), its status and a custom field changed. Their ids, oldest first.

    The first ticket is made through RT's API (as root; its scrips run), the others
    copy its rows: tickets, role groups, every transaction with its attachments, the
    custom field values (thousands of transactions a second).
    """
    if count <= 0:
        return []
    prototype = rt.create_ticket(
        "Uplink flapping at POP",
        Requestor=requestor,
        Content="Customers behind the POP lose their sessions every few minutes.",
        CustomFields={"Impact": "high", "Urgency": "medium", "Service": "core-network"},
    )
    for action, text in (("comment", "Line card 3 logs CRC errors."), ("correspond", "On it.")):
        note = {"Content": text, "ContentType": "text/plain"}
        done = rt.api("POST", f"ticket/{prototype}/{action}", json=note)
        if done.status_code != 201:
            raise RtError(f"RT refused the {action} on ticket {prototype}: {done.text[:300]}")
    edited = rt.api(
        "PUT", f"ticket/{prototype}", json={"Status": "open", "CustomFields": {"Urgency": "high"}}
    )
    if edited.status_code != 200:
        raise RtError(f"RT refused to edit ticket {prototype}: {edited.text[:300]}")
    with contextlib.closing(rt.server.connect()) as db, db:
        return [prototype, *_clone_tickets(db, prototype, count - 1, None)]


def _clone_tickets(
    db: sqlite3.Connection, prototype: int, count: int, pick: random.Random | None
) -> list[int]:
    """``count`` copies of ticket ``prototype``: with ``pick``, only its Create transaction
    and a random subject, status, owner, dates and field values; without, all of it."""
    ticket = sql_rows(db, "SELECT * FROM Tickets WHERE id = ?", [prototype])[0]
    history = sql_rows(
        db,
        "SELECT * FROM Transactions WHERE ObjectType = 'RT::Ticket' AND ObjectId = ? "
        + ("AND Type = 'Create' " if pick is not None else "")
        + "ORDER BY id",
        [prototype],
    )
    attachments = sql_rows(
        db,
        "SELECT * FROM Attachments WHERE TransactionId IN "
        f"({', '.join(str(t['id']) for t in history)}) ORDER BY id",
        [],
    )
    all_values = sql_rows(
        db,
        "SELECT * FROM ObjectCustomFieldValues WHERE ObjectType = 'RT::Ticket' "
        "AND ObjectId = ? ORDER BY id",
        [prototype],
    )
    create_txn = sql_rows(
        db,
        "SELECT * FROM Transactions WHERE ObjectType = 'RT::Ticket' AND ObjectId = ? "
        "AND Type = 'Create'",
        [prototype],
    )[0]
    groups = sql_rows(
        db,
        "SELECT * FROM Groups WHERE Domain = 'RT::Ticket-Role' AND Instance = ? ORDER BY id",
        [prototype],
    )
    if sorted(g["Name"] for g in groups) != sorted(_ROLES):
        raise RtError(f"ticket {prototype} has unexpected role groups: {groups}")
    group_txn = sql_rows(
        db,
        "SELECT * FROM Transactions WHERE ObjectType = 'RT::Group' AND ObjectId = ?",
        [groups[0]["id"]],
    )[0]
    member_row = sql_rows(db, "SELECT * FROM GroupMembers WHERE GroupId = ?", [groups[0]["id"]])
    member_template = (
        member_row[0]
        if member_row
        else {
            "GroupId": 0,
            "MemberId": 0,
            "Creator": ticket["Creator"],
            "Created": ticket["Created"],
            "LastUpdatedBy": ticket["Creator"],
            "LastUpdated": ticket["Created"],
        }
    )
    member_template = {k: v for k, v in member_template.items() if k != "id"}
    proto_members = {
        str(name): int(member)
        for name, member in db.execute(
            "SELECT g.Name, m.MemberId FROM Groups g JOIN GroupMembers m ON m.GroupId = g.id "
            "WHERE g.Domain = 'RT::Ticket-Role' AND g.Instance = ?",
            (prototype,),
        )
    }
    values = sql_rows(
        db,
        "SELECT v.*, f.Name AS field_name FROM ObjectCustomFieldValues v "
        "JOIN CustomFields f ON f.id = v.CustomField "
        "WHERE v.ObjectType = 'RT::Ticket' AND v.ObjectId = ?",
        [prototype],
    )
    value_by_field = {row.pop("field_name"): row for row in values}
    missing = set(CUSTOM_FIELDS) - set(value_by_field)
    if missing and pick is not None:
        raise RtError(f"ticket {prototype} lacks custom fields {sorted(missing)}")
    names = sorted({*_OWNERS, *_REQUESTORS})
    principal_of = {
        name: int(uid)
        for name, uid in db.execute(
            f"SELECT Name, id FROM Users WHERE Name IN ({', '.join('?' * len(names))})", names
        )
    }

    next_ticket = next_id(db, "Tickets")
    next_principal = max(next_id(db, "Principals"), next_id(db, "Groups"))
    next_txn = next_id(db, "Transactions")
    next_member = next_id(db, "GroupMembers")
    next_cached = next_id(db, "CachedGroupMembers")
    next_value = next_id(db, "ObjectCustomFieldValues")
    next_attachment = next_id(db, "Attachments")

    tickets: _Rows = []
    principals: _Rows = []
    role_groups: _Rows = []
    txns: _Rows = []
    members: _Rows = []
    cached: _Rows = []
    cf_values: _Rows = []
    files: _Rows = []
    now = datetime.now(UTC).replace(microsecond=0)
    ids: list[int] = []
    for _ in range(count):
        tid = next_ticket
        next_ticket += 1
        ids.append(tid)
        if pick is None:
            tickets.append({**ticket, "id": tid, "EffectiveId": tid})
            txn_of: dict[int, int] = {}
            for txn in history:
                txn_of[txn["id"]] = next_txn
                txns.append({**txn, "id": next_txn, "ObjectId": tid})
                next_txn += 1
            part_of: dict[int, int] = {}
            for part in attachments:
                part_of[part["id"]] = next_attachment
                files.append(
                    {
                        **part,
                        "id": next_attachment,
                        "TransactionId": txn_of[part["TransactionId"]],
                        "Parent": part_of.get(part["Parent"], 0),
                    }
                )
                next_attachment += 1
            for value in all_values:
                cf_values.append({**value, "id": next_value, "ObjectId": tid})
                next_value += 1
            created = datetime.fromisoformat(ticket["Created"])
        else:
            created = now - timedelta(seconds=pick.randrange(30 * 24 * 3600))
            updated = min(now, created + timedelta(seconds=pick.randrange(3 * 24 * 3600)))
            status = pick.choice(_STATUSES)
            owner = pick.choice(_OWNERS)
            service = pick.choice(_SERVICES)
            tickets.append(
                {
                    **ticket,
                    "id": tid,
                    "EffectiveId": tid,
                    "Subject": f"{service} {pick.choice(_PROBLEMS)}",
                    "Status": status,
                    "Owner": principal_of[owner],
                    "Created": _stamp(created),
                    "LastUpdated": _stamp(updated),
                    "Resolved": _stamp(updated) if status == "resolved" else ticket["Resolved"],
                }
            )
            txns.append({**create_txn, "id": next_txn, "ObjectId": tid, "Created": _stamp(created)})
            next_txn += 1
        for group in groups:
            gid = next_principal
            next_principal += 1
            principals.append({"id": gid, "PrincipalType": "Group", "Disabled": 0})
            role_groups.append(
                {
                    **group,
                    "id": gid,
                    "Instance": tid,
                    "Created": _stamp(created),
                    "LastUpdated": _stamp(created),
                }
            )
            txns.append({**group_txn, "id": next_txn, "ObjectId": gid, "Created": _stamp(created)})
            next_txn += 1
            cached.append(
                {
                    "id": next_cached,
                    "GroupId": gid,
                    "MemberId": gid,
                    "Via": next_cached,
                    "ImmediateParentId": gid,
                    "Disabled": 0,
                }
            )
            next_cached += 1
            member = None
            if pick is None:
                member = proto_members.get(group["Name"])
            elif group["Name"] == "Owner":
                member = principal_of[owner]
            elif group["Name"] == "Requestor":
                member = principal_of[pick.choice(_REQUESTORS)]
            if member is not None:
                members.append(
                    {
                        **member_template,
                        "id": next_member,
                        "GroupId": gid,
                        "MemberId": member,
                        "Created": _stamp(created),
                        "LastUpdated": _stamp(created),
                    }
                )
                next_member += 1
                cached.append(
                    {
                        "id": next_cached,
                        "GroupId": gid,
                        "MemberId": member,
                        "Via": next_cached,
                        "ImmediateParentId": gid,
                        "Disabled": 0,
                    }
                )
                next_cached += 1
        if pick is None:
            continue
        chosen = {
            "Impact": pick.choice(_LEVELS),
            "Urgency": pick.choice(_LEVELS),
            "Severity": pick.choice(_SEVERITIES),
            "Service": service,
            "Category": pick.choice(_CATEGORIES),
        }
        for name, content in chosen.items():
            cf_values.append(
                {
                    **value_by_field[name],
                    "id": next_value,
                    "ObjectId": tid,
                    "Content": content,
                    "Created": _stamp(created),
                    "LastUpdated": _stamp(created),
                }
            )
            next_value += 1

    sql_insert(db, "Tickets", tickets)
    sql_insert(db, "Principals", principals)
    sql_insert(db, "Groups", role_groups)
    sql_insert(db, "Transactions", txns)
    sql_insert(db, "GroupMembers", members)
    sql_insert(db, "CachedGroupMembers", cached)
    sql_insert(db, "ObjectCustomFieldValues", cf_values)
    sql_insert(db, "Attachments", files)
    return ids
