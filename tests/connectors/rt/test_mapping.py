"""The RT ↔ incident mapping (console.connectors.rt.mapping), without an RT.

The JSON here has the shapes RT 5's REST2 sends (copied from real answers);
tests/rt/ checks the same paths against a running RT.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from console.connectors.rt.edits import (
    NotHeldByRt,
    create_for_fields,
    refusals,
    unapplied,
    update_for_edit,
)
from console.connectors.rt.fields import CustomFieldNames
from console.connectors.rt.mapping import (
    Attachment,
    RtMapping,
    TicketHistory,
    contents_by_transaction,
    fold_transactions,
    incident_from_ticket,
    parse_time,
    ticket_number,
    timeline_from_transactions,
)
from console.connectors.rt.sql import (
    Keyset,
    changed_since_sql,
    note_key_sql,
    quarter_of,
    request_key_sql,
    sql_time,
    transactions_sql,
)
from console.connectors.rt.statuses import StatusMap
from console.domain.incident import HoldPeriod, Source, TimelineKind
from console.domain.lifecycle import State
from console.domain.severity import Impact, Severity, Urgency

MAPPING = RtMapping(queue="NOC")


def ticket(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": 12,
        "Subject": "Checkout returns 502",
        "Status": "open",
        "Owner": {"id": "alice", "type": "user"},
        "Requestor": [{"id": "ops@example.org", "type": "user"}],
        "Created": "2026-11-23T07:09:05Z",
        "Started": "2026-11-23T07:10:18Z",
        "Told": "2026-11-23T07:10:25Z",
        "Resolved": "1970-01-01T00:00:00Z",
        "LastUpdated": "2026-11-23T07:10:25Z",
        "Due": "1970-01-01T00:00:00Z",
        "CustomFields": [
            {"name": "Impact", "id": "2", "values": ["high"]},
            {"name": "Urgency", "id": "3", "values": ["medium"]},
            {"name": "Severity", "id": "4", "values": []},
            {"name": "Service", "id": "5", "values": ["checkout"]},
            {"name": "Category", "id": "6", "values": ["application"]},
        ],
    }
    data.update(over)
    return data


def txn(number: int, kind: str, created: str = "2026-11-23T07:10:00Z", **over: Any) -> dict:
    data = {
        "id": str(number),
        "Type": kind,
        "Field": "",
        "OldValue": "",
        "NewValue": "",
        "Created": created,
        "Creator": {"id": "alice", "type": "user"},
        "ObjectId": "12",
    }
    data.update(over)
    return data


# ---------------------------------------------------------------------- tickets


def test_a_ticket_maps_to_an_incident() -> None:
    history = TicketHistory(version=48, description="All card payments fail")
    incident = incident_from_ticket(ticket(), history, MAPPING)
    assert incident.id == "rt-12"
    assert incident.number == "RT-12"
    assert incident.title == "Checkout returns 502"
    assert (incident.impact, incident.urgency) == (Impact.HIGH, Urgency.MEDIUM)
    assert incident.severity is Severity.SEV2  # the default matrix for high × medium
    assert incident.state is State.IN_PROGRESS
    assert incident.service == "checkout"
    assert incident.category == "application"
    assert incident.assignee == "alice"
    assert incident.reporter == "ops@example.org"
    assert incident.version == 48
    assert incident.description == "All card payments fail"
    assert incident.opened_at == datetime(2026, 11, 23, 7, 9, 5, tzinfo=UTC)
    assert incident.acknowledged_at == datetime(2026, 11, 23, 7, 10, 18, tzinfo=UTC)
    assert incident.resolved_at is None  # RT's 1970 means "not set"


def test_severity_field_overrides_the_matrix_and_missing_fields_have_safe_defaults() -> None:
    overridden = ticket(
        CustomFields=[
            {"name": "impact", "values": ["Low"]},  # RT matches names case-insensitively
            {"name": "Severity", "values": ["SEV-1"]},
        ],
        Owner={"id": "Nobody"},
        Subject="",
    )
    incident = incident_from_ticket(overridden, TicketHistory(version=3), MAPPING)
    assert incident.severity is Severity.SEV1
    assert incident.impact is Impact.LOW
    assert incident.urgency is Urgency.MEDIUM  # no value: medium
    assert incident.service == "unknown"
    assert incident.assignee is None
    assert incident.title == "(no subject)"


@pytest.mark.parametrize(
    ("status", "status_class", "started", "state"),
    [
        ("new", None, False, State.NEW),
        ("open", None, True, State.IN_PROGRESS),
        ("stalled", None, True, State.ON_HOLD),
        ("resolved", None, True, State.RESOLVED),
        ("rejected", None, True, State.CANCELLED),
        ("triage", "active", False, State.NEW),  # a custom active status, not started yet
        ("investigating", "active", True, State.IN_PROGRESS),
        ("fixed", "inactive", True, State.RESOLVED),
    ],
)
def test_statuses_map_by_name_or_by_their_lifecycle_class(
    status: str, status_class: str | None, started: bool, state: State
) -> None:
    assert StatusMap().state_of(status, status_class=status_class, started=started) is state


def test_a_sites_status_map_reads_and_writes_custom_statuses() -> None:
    statuses = StatusMap.from_settings(
        {"Triage": "triaged", "waiting on vendor": "on_hold"}, {"closed": "resolved"}
    )
    assert statuses.state_of("triage", started=False) is State.TRIAGED
    assert statuses.status_for(State.TRIAGED) == "triage"  # implied by reading it
    assert statuses.status_for(State.ON_HOLD) == "waiting on vendor"
    assert statuses.status_for(State.IN_PROGRESS) == "open"  # the default, untouched
    assert statuses.state_of("stalled", started=True) is State.ON_HOLD
    assert "waiting on vendor" in statuses.on_hold_statuses()
    with pytest.raises(ValueError, match=r"rt.statuses.x: .*in_progress"):
        StatusMap.from_settings({"x": "working"})


def test_stalled_periods_become_holds_and_the_create_text_the_description() -> None:
    transactions = [
        txn(40, "Create", "2026-11-23T07:00:00Z"),
        txn(44, "Status", "2026-11-23T07:10:00Z", OldValue="open", NewValue="stalled"),
        txn(45, "Status", "2026-11-23T07:40:00Z", OldValue="stalled", NewValue="open"),
        txn(47, "Status", "2026-11-23T08:00:00Z", OldValue="open", NewValue="stalled"),
        txn(48, "EmailRecord", "2026-11-23T08:00:01Z"),
    ]
    contents = {40: Attachment("Payments fail", Source.EMAIL)}
    history = fold_transactions(TicketHistory(), transactions, contents, StatusMap())
    at = datetime(2026, 11, 23, tzinfo=UTC)
    assert history.holds == (
        HoldPeriod(at.replace(hour=7, minute=10), at.replace(hour=7, minute=40)),
        HoldPeriod(at.replace(hour=8)),
    )
    assert history.version == 48
    assert history.description == "Payments fail"
    # Reading the same transactions again changes nothing.
    assert fold_transactions(history, transactions, contents, StatusMap()) == history


def test_transactions_make_timeline_entries() -> None:
    transactions = [
        txn(46, "Comment"),
        txn(47, "Correspond", Creator={"id": "bob"}),
        txn(49, "Status", OldValue="new", NewValue="open"),
        txn(50, "Set", Field="Owner", OldValue="6", NewValue="27"),
        txn(51, "CustomField", Field="3", OldValue="medium", NewValue="high"),
        txn(52, "CustomField", Field="6", OldValue="", NewValue="network"),  # not severity
        txn(53, "EmailRecord"),
    ]
    contents = {46: Attachment("LB pool drained"), 47: Attachment("We are on it")}
    events = timeline_from_transactions(
        12,
        transactions,
        contents,
        MAPPING,
        user_names={"6": "Nobody", "27": "noc-console"},
        cf_names={"3": "Urgency", "6": "Category"},
    )
    shown = [(e.id, e.kind, e.author, e.body) for e in events]
    assert shown == [
        ("rt-txn-46", TimelineKind.WORK_NOTE, "alice", "LB pool drained"),
        ("rt-txn-47", TimelineKind.STATUS_UPDATE, "bob", "We are on it"),
        (
            "rt-txn-49",
            TimelineKind.STATE_CHANGE,
            "alice",
            "State New → In progress (RT: new → open)",
        ),
        ("rt-txn-50", TimelineKind.ASSIGNMENT, "alice", "Assigned: nobody → noc-console"),
        ("rt-txn-51", TimelineKind.SEVERITY_CHANGE, "alice", "Urgency medium → high"),
    ]
    assert all(e.incident_id == "rt-12" for e in events)


def test_attachment_text_prefers_plain_text_and_knows_the_interface() -> None:
    contents = contents_by_transaction(
        [
            {
                "id": "8",
                "TransactionId": "40",
                "ContentType": "text/html",
                "Content": "<p>Hello &amp; bye</p>",
                "Headers": "X-RT-Interface: Email\n",
            },
            {"id": "9", "TransactionId": "40", "ContentType": "text/plain", "Content": "Hello"},
            {
                "id": "10",
                "TransactionId": "41",
                "ContentType": "text/html",
                "Content": "<div>Line one<br>Line two</div>",
                "Headers": "X-RT-Interface: REST2",
            },
            {"id": "11", "TransactionId": "42", "ContentType": "image/png", "Content": "…"},
        ]
    )
    assert contents[40] == Attachment("Hello", Source.EMAIL)
    assert contents[41] == Attachment("Line one\nLine two", Source.PORTAL)
    assert 42 not in contents


# ---------------------------------------------------------------------- edits


def test_an_edit_becomes_an_rt_update_with_what_to_check_afterwards() -> None:
    update = update_for_edit(
        {
            "title": "Checkout down",
            "impact": "high",
            "state": "on_hold",
            "hold_reason": "awaiting_vendor",
            "assignee": None,
            "severity": "SEV-1",
            "severity_reason": "all payments fail",
        },
        MAPPING,
        available_cfs=["Impact", "Urgency", "Severity", "Service", "Category"],
    )
    assert update.body == {
        "Subject": "Checkout down",
        "CustomFields": {"Impact": "high", "Severity": "SEV-1"},
        "Status": "stalled",
        "Owner": "Nobody",
    }
    assert update.expected["Status"] == "stalled"
    assert update.expected["CF:Severity"] == "SEV-1"
    assert update.comments == (
        "On hold: awaiting vendor",
        "Severity set to SEV-1 (Critical) from the NOC Console: all payments fail",
    )


def test_what_rt_cannot_hold_is_refused_before_sending_naming_the_fix() -> None:
    with pytest.raises(NotHeldByRt, match=r"rt\.custom_fields\.assignment_group.*rt-setup"):
        update_for_edit({"assignment_group": "network"}, MAPPING)
    with pytest.raises(NotHeldByRt, match="work note"):
        update_for_edit({"description": "new text"}, MAPPING)
    with pytest.raises(NotHeldByRt, match=r"no custom field 'Impact'.*rt-setup"):
        update_for_edit({"impact": "low"}, MAPPING, available_cfs=["Urgency"])
    mapped = RtMapping(queue="NOC", fields=CustomFieldNames(major="Major incident"))
    assert update_for_edit({"major": True}, mapped).body == {
        "CustomFields": {"Major incident": "yes"}
    }


def test_acknowledging_opens_only_a_new_ticket() -> None:
    assert update_for_edit({"acknowledged": True}, MAPPING, current_status="new").body == {
        "Status": "open"
    }
    assert not update_for_edit({"acknowledged": True}, MAPPING, current_status="stalled")


def test_a_new_incident_keeps_what_rt_cannot_hold_in_a_comment() -> None:
    plan = create_for_fields(
        {
            "title": "Core switch reboot loop",
            "service": "core-network",
            "impact": "high",
            "urgency": "high",
            "category": "network",
            "description": "sw-core-2 reboots",
            "reporter": "helpdesk@example.org",
            "assignment_group": "network-oncall",
            "major": True,
            "commander": "Dana Reyes",
            "source": "phone",
        },
        MAPPING,
    )
    assert plan.body == {
        "Queue": "NOC",
        "Subject": "Core switch reboot loop",
        "Content": "sw-core-2 reboots",
        "ContentType": "text/plain",
        "Requestor": "helpdesk@example.org",
        "CustomFields": {
            "Impact": "high",
            "Urgency": "high",
            "Service": "core-network",
            "Category": "network",
        },
    }
    assert plan.comments == (
        "Routed to: network-oncall",
        "Declared a major incident",
        "Incident Commander: Dana Reyes",
    )


def test_rts_200_answers_are_read_for_failures() -> None:
    answer = [
        "Ticket 1: Owner changed from Nobody to noc-console",
        "Ticket 1: Status 'bogus' isn't a valid status for this ticket.",
        "Urgency medium changed to high",
        "Invalid value for custom field",
        "Could not add new custom field value: Permission Denied",
    ]
    assert refusals(answer) == [
        "Ticket 1: Status 'bogus' isn't a valid status for this ticket.",
        "Invalid value for custom field",
        "Could not add new custom field value: Permission Denied",
    ]
    assert refusals(["Comments added"]) == []
    assert refusals({"message": "not a list"}) == []


def test_a_change_made_is_no_refusal_whatever_its_values_say() -> None:
    """RT quotes the operator's own words in what it reports done; an incident titled
    "Backup failed" is common, and changing it is no failure."""
    answer = [
        "Ticket 1: Owner changed from Nobody to alice",
        "Ticket 1: Subject changed from 'Backup failed' to 'Backup failed again'",
        "Category invalid stuff added",
        "Service backup failed changed to cannot reach",
        "Subcategory not found deleted",
        "Custom fields updated",
    ]
    assert refusals(answer) == []
    assert refusals(["Ticket 1: Status 'failed' isn't a valid status for this ticket."]) == [
        "Ticket 1: Status 'failed' isn't a valid status for this ticket."
    ]


def test_unapplied_names_what_the_ticket_does_not_show() -> None:
    expected = {"Status": "stalled", "CF:Impact": "high", "Owner": "alice"}
    assert unapplied(expected, ticket(Status="stalled")) == []
    assert unapplied(expected, ticket()) == ["Status"]


# ---------------------------------------------------------------------- TicketSQL


def test_date_literals_are_written_in_the_accounts_zone() -> None:
    at = datetime(2026, 11, 23, 7, 9, 5, tzinfo=UTC)
    assert sql_time(at, timedelta(0)) == "'2026-11-23 07:09:05'"
    assert sql_time(at, timedelta(hours=-5)) == "'2026-11-23 02:09:05'"
    assert sql_time(at, timedelta(hours=5, minutes=30)) == "'2026-11-23 12:39:05'"


def test_keyset_paging_queries() -> None:
    at = datetime(2026, 11, 23, 7, 9, 5, tzinfo=UTC)
    assert changed_since_sql(3, None, timedelta(0)) == "Queue = 3"
    assert changed_since_sql(3, Keyset(at), timedelta(0)) == (
        "Queue = 3 AND LastUpdated >= '2026-11-23 07:09:05'"
    )
    assert changed_since_sql(3, Keyset(at, 41), timedelta(0)) == (
        "Queue = 3 AND (LastUpdated > '2026-11-23 07:09:05' OR "
        "(LastUpdated >= '2026-11-23 07:09:05' AND id > 41))"
    )
    assert transactions_sql({5: 0, 7: 120}) == (
        "ObjectType = 'RT::Ticket' AND (ObjectId = 5 OR (ObjectId = 7 AND id > 120))"
    )


def test_keyset_positions_order_tickets_by_last_updated_then_id() -> None:
    at = datetime(2026, 11, 23, 7, 9, 5, tzinfo=UTC)
    same = {"id": "41", "LastUpdated": "2026-11-23T07:09:05Z"}
    later = {"id": "12", "LastUpdated": "2026-11-23T07:09:06Z"}
    earlier = {"id": "99", "LastUpdated": "2026-11-23T07:09:04Z"}
    assert [Keyset(at, 41).precedes(t) for t in (same, later, earlier)] == [False, True, False]
    assert [Keyset(at, 40).precedes(t) for t in (same, later, earlier)] == [True, True, False]
    assert Keyset(at).precedes(same)  # ticket 0: before every ticket of that second


def test_quarter_hours_of_utc() -> None:
    assert quarter_of(datetime(2025, 10, 25, 23, 14, 59, tzinfo=UTC)) == datetime(
        2025, 10, 25, 23, 0, tzinfo=UTC
    )
    berlin = timezone(timedelta(hours=2))
    assert quarter_of(datetime(2025, 10, 26, 1, 15, tzinfo=berlin)) == datetime(
        2025, 10, 25, 23, 15, tzinfo=UTC
    )


def test_request_keys_are_looked_for_with_ticket_and_transaction_sql() -> None:
    assert request_key_sql(3, "NOC Request Key", "0f1e") == (
        "Queue = 3 AND CF.{NOC Request Key} = '0f1e'"
    )
    assert note_key_sql(7, "NOC Request Key", "it's") == (
        "ObjectType = 'RT::Ticket' AND ObjectId = 7 AND CF.{NOC Request Key} = 'it\\'s'"
    )


def test_ids_and_dates() -> None:
    assert ticket_number("rt-42") == ticket_number("RT-42") == ticket_number("42") == 42
    for bad in ("INC-000042", "rt-", "rt-0", "rt-٤٢"):
        with pytest.raises(ValueError, match="not a Request Tracker incident"):
            ticket_number(bad)
    assert parse_time("1970-01-01T00:00:00Z") is None
    assert parse_time("2026-11-23T07:09:05Z") == datetime(2026, 11, 23, 7, 9, 5, tzinfo=UTC)


def test_custom_field_names_from_settings() -> None:
    names = CustomFieldNames.from_mapping({"impact": "Business impact", "category": ""})
    assert names.configured()["impact"] == "Business impact"
    assert "category" not in names.configured()
    with pytest.raises(ValueError, match=r"custom_fields\.colour: unknown key"):
        CustomFieldNames.from_mapping({"colour": "x"})


def test_the_request_key_field_is_recommended_and_may_be_renamed_or_left_out() -> None:
    assert CustomFieldNames().request_key == "NOC Request Key"
    assert CustomFieldNames.from_mapping({"request_key": "Console key"}).request_key == (
        "Console key"
    )
    left_out = CustomFieldNames.from_mapping({"request_key": ""})
    assert left_out.request_key is None
    assert "request_key" not in CustomFieldNames().configured()  # not an incident field
