"""The Request Tracker connector against a real RT 5 (``rt-server`` on loopback, SQLite).

Each test works in a queue of its own (the ``rt`` fixture), so tickets made by
one test never show in another. "Directly in RT" means a REST2 call as root,
as someone working in RT's web UI would change the ticket.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from console.connectors.base import AuthFailed, Rejected, Stale
from console.connectors.rt import RtBackend
from console.connectors.rt.fields import CustomFieldNames
from console.connectors.rt.mapping import RtMapping, incident_id
from console.connectors.rt.statuses import StatusMap
from console.domain.incident import TimelineKind
from console.domain.lifecycle import State
from console.domain.severity import Impact, Severity, Urgency
from console.store import Cache
from console.sync.edits import LocalEdits
from console.sync.engine import SyncEngine
from tests.helpers.rtserver import RtInstance

pytestmark = pytest.mark.slow


class CountingRt(RtBackend):
    """The real connector, counting the requests it makes (to check what a poll costs)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls: list[str] = []

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        self.calls.append(f"{method} {path}")
        return super()._call(method, path, **kwargs)


def connector(rt: RtInstance, **options: Any) -> CountingRt:
    mapping = options.pop("mapping", None) or RtMapping(queue=rt.queue)
    return CountingRt(f"rt+{rt.url}", rt.token, mapping=mapping, **options)


@pytest.fixture
def backend(rt: RtInstance) -> Iterator[CountingRt]:
    made = connector(rt, overlap=1)
    with made:
        yield made


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    with Cache.open(tmp_path / "cache.db") as opened:
        yield opened


def etag(rt: RtInstance, ticket: int) -> int:
    reply = rt.api("GET", f"ticket/{ticket}", as_root=False)
    return int(reply.headers["ETag"].strip('"'))


def sync(cache: Cache, backend: RtBackend, **options: Any) -> SyncEngine:
    engine = SyncEngine(cache, backend, poll_interval=1, **options)
    engine.sync_once()
    return engine


# ---------------------------------------------------------------------- pull


def test_initial_sync_maps_tickets_made_directly_in_rt(
    rt: RtInstance, backend: CountingRt, cache: Cache
) -> None:
    outage = rt.create_ticket(
        "Checkout returns 502",
        Content="All card payments fail since 09:12",
        ContentType="text/plain",
        Requestor="ops@customers.noc-console.test",
        Owner="alice",
        CustomFields={
            "Impact": "high",
            "Urgency": "medium",
            "Service": "checkout",
            "Category": "application",
        },
    )
    overridden = rt.create_ticket(
        "VPN flapping",
        CustomFields={"Impact": "low", "Urgency": "low", "Severity": "SEV-2", "Service": "vpn"},
    )
    rt.api(
        "POST",
        f"ticket/{outage}/comment",
        json={"Content": "LB pool drained", "ContentType": "text/plain"},
    )
    rt.api(
        "POST",
        f"ticket/{outage}/correspond",
        json={"Content": "We are on it", "ContentType": "text/plain"},
    )
    assert rt.api("PUT", f"ticket/{outage}", json={"Status": "open"}).ok

    sync(cache, backend)

    first = cache.incident(incident_id(outage))
    assert first is not None
    assert first.number == f"RT-{outage}"
    assert first.title == "Checkout returns 502"
    assert first.description == "All card payments fail since 09:12"
    assert (first.impact, first.urgency) == (Impact.HIGH, Urgency.MEDIUM)
    assert first.severity is Severity.SEV2  # the matrix: high × medium
    assert first.service == "checkout"
    assert first.category == "application"
    assert first.assignee == "alice"
    assert first.reporter == "ops@customers.noc-console.test"
    assert first.state is State.IN_PROGRESS
    assert first.acknowledged_at is not None  # RT's Started
    assert first.version == etag(rt, outage)  # the ETag: what If-Match sends back
    second = cache.incident(incident_id(overridden))
    assert second is not None
    assert second.severity is Severity.SEV2  # the Severity field overrides low × low
    assert second.state is State.NEW
    assert second.assignee is None  # RT's "Nobody"

    kinds = {(e.kind, e.body) for e in cache.timeline(incident_id(outage))}
    assert (TimelineKind.WORK_NOTE, "LB pool drained") in kinds
    assert (TimelineKind.STATUS_UPDATE, "We are on it") in kinds
    assert any(k is TimelineKind.STATE_CHANGE and "In progress" in b for k, b in kinds)


def test_paging_keeps_every_ticket_even_in_the_same_second(
    rt: RtInstance, backend: CountingRt, cache: Cache
) -> None:
    # Straight into RT's tables: many tickets share one LastUpdated second, the
    # case where paging by time alone would loop or skip.
    ids = rt.bulk_seed(23)

    sync(cache, backend, page_size=5)

    assert sorted(i.id for i in cache.incidents()) == sorted(incident_id(t) for t in ids)
    assert cache.cursor(backend.key) == max(etag(rt, t) for t in ids)
    # Nothing changed: a poll (at RT's page size) delivers nothing, with one search.
    time.sleep(backend.overlap.total_seconds() + 1)  # what was just read has settled
    backend.calls.clear()
    batch = backend.changes(cache.cursor(backend.key), 100)
    assert batch.incidents == ()
    assert not batch.more
    assert [c for c in backend.calls if c.startswith("GET tickets")] == ["GET tickets"]


def test_changes_made_directly_in_rt_arrive_incrementally(
    rt: RtInstance, backend: CountingRt, cache: Cache
) -> None:
    ticket = rt.create_ticket("DNS slow", CustomFields={"Impact": "medium", "Service": "dns"})
    quiet = rt.create_ticket("Printer jam", CustomFields={"Impact": "low", "Service": "print"})
    sync(cache, backend)
    before = cache.incident(incident_id(ticket))
    assert before is not None

    # At once, as the last poll may well have happened in this same second.
    assert rt.api(
        "PUT",
        f"ticket/{ticket}",
        json={"Status": "stalled", "Owner": "bob", "CustomFields": {"Impact": "high"}},
    ).ok
    rt.api(
        "POST",
        f"ticket/{ticket}/comment",
        json={"Content": "Waiting for the registrar", "ContentType": "text/plain"},
    )
    sync(cache, backend)

    after = cache.incident(incident_id(ticket))
    assert after is not None
    assert after.state is State.ON_HOLD
    assert after.assignee == "bob"
    assert after.impact is Impact.HIGH
    assert after.version == etag(rt, ticket) > before.version
    assert after.holds
    assert after.holds[-1].ended is None
    notes = [e.body for e in cache.timeline(incident_id(ticket))]
    assert "Waiting for the registrar" in notes
    assert any(body == "Assigned: nobody → bob" for body in notes)
    untouched = cache.incident(incident_id(quiet))
    assert untouched is not None
    assert untouched.version == etag(rt, quiet)


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata"])
def test_incremental_sync_is_right_whatever_the_rt_users_time_zone(
    rt: RtInstance, cache: Cache, zone: str
) -> None:
    """RT reads TicketSQL dates in the account's zone; the connector measures it."""
    rt.api("PUT", "user/noc-console", json={"Timezone": zone})
    try:
        with connector(rt, overlap=0) as backend:
            ticket = rt.create_ticket("Link down", CustomFields={"Service": "core-network"})
            sync(cache, backend)
            time.sleep(1.1)  # RT's clock has whole seconds: make the change a later one
            assert rt.api("PUT", f"ticket/{ticket}", json={"Subject": "Link down (site B)"}).ok
            sync(cache, backend)
            shown = cache.incident(incident_id(ticket))
            assert shown is not None
            assert shown.title == "Link down (site B)"
            here = datetime.now(UTC).astimezone(ZoneInfo(zone))
            assert backend.time_zone_offset == here.utcoffset()
    finally:
        rt.api("PUT", "user/noc-console", json={"Timezone": ""})


def test_a_missing_custom_field_is_reported_once_and_refused_when_edited(
    rt: RtInstance, cache: Cache
) -> None:
    mapping = RtMapping(queue=rt.queue, fields=CustomFieldNames(subcategory="Subcategory"))
    with connector(rt, mapping=mapping) as backend:
        ticket = rt.create_ticket("Fan failure", CustomFields={"Service": "dc-1"})
        sync(cache, backend)
        notices = backend.take_notices()
        assert len(notices) == 1
        assert "'Subcategory'" in notices[0]
        assert "docs/rt-setup.md" in notices[0]
        sync(cache, backend)
        assert backend.take_notices() == []  # said once
        with pytest.raises(Rejected) as refused:
            backend.update_incident(
                incident_id(ticket),
                {"subcategory": "fans"},
                version=etag(rt, ticket),
                idempotency_key="k1",
            )
        assert "Subcategory" in refused.value.message
        assert "docs/rt-setup.md" in refused.value.message


# ---------------------------------------------------------------------- push


def test_create_from_the_console_makes_an_rt_ticket(
    rt: RtInstance, backend: CountingRt, cache: Cache
) -> None:
    edits = LocalEdits(cache, author="noc-console")
    placeholder = edits.create(
        title="Core switch reboot loop",
        service="core-network",
        impact="high",
        urgency="high",
        category="network",
        description="sw-core-2 reboots every 5 minutes",
        reporter="helpdesk@customers.noc-console.test",
    )
    engine = sync(cache, backend)

    assert cache.incident(placeholder.id) is None  # replaced by the RT ticket
    created = [i for i in cache.incidents() if i.number.startswith("RT-")]
    assert len(created) == 1
    incident = created[0]
    ticket = rt.ticket(int(incident.id.removeprefix("rt-")))
    values = {cf["name"]: cf["values"] for cf in ticket["CustomFields"]}
    assert ticket["Subject"] == "Core switch reboot loop"
    assert values["Impact"] == ["high"]
    assert values["Urgency"] == ["high"]
    assert values["Service"] == ["core-network"]
    assert values["Category"] == ["network"]
    assert [r["id"] for r in ticket["Requestor"]] == ["helpdesk@customers.noc-console.test"]
    assert incident.description == "sw-core-2 reboots every 5 minutes"
    assert incident.severity is Severity.SEV1
    assert engine.rejections() == []
    # The next poll brings the same ticket back without a duplicate.
    sync(cache, backend)
    assert len([i for i in cache.incidents() if i.number.startswith("RT-")]) == 1


def test_update_notes_and_updates_from_the_console_reach_rt(
    rt: RtInstance, backend: CountingRt, cache: Cache
) -> None:
    ticket = rt.create_ticket("Mail queue backing up", CustomFields={"Service": "email"})
    sync(cache, backend)
    edits = LocalEdits(cache, author="noc-console")
    edits.patch(
        incident_id(ticket), {"state": "in_progress", "assignee": "noc-console", "urgency": "high"}
    )
    edits.add_note(incident_id(ticket), "Restarted postfix on mx-2")
    edits.add_note(incident_id(ticket), "Mail is flowing again", kind="status_update")
    engine = sync(cache, backend)

    assert engine.rejections() == []
    shown = rt.ticket(ticket)
    assert shown["Status"] == "open"
    assert shown["Owner"]["id"] == "noc-console"
    assert {cf["name"]: cf["values"] for cf in shown["CustomFields"]}["Urgency"] == ["high"]
    history = rt.api(
        "GET", f"ticket/{ticket}/history", params={"fields": "Type", "per_page": 100}
    ).json()["items"]
    types = [item["Type"] for item in history]
    assert "Comment" in types
    assert "Correspond" in types
    incident = cache.incident(incident_id(ticket))
    assert incident is not None
    assert incident.version == etag(rt, ticket)
    timeline = cache.timeline(incident_id(ticket))
    bodies = [e.body for e in timeline if e.kind is TimelineKind.WORK_NOTE]
    assert bodies.count("Restarted postfix on mx-2") == 1  # the sent note, not also a copy
    assert all(not e.id.startswith("local-") for e in timeline)


def test_stale_edit_is_merged_when_fields_differ(
    rt: RtInstance, backend: CountingRt, cache: Cache
) -> None:
    ticket = rt.create_ticket("BGP session down", CustomFields={"Service": "core-network"})
    sync(cache, backend)
    edits = LocalEdits(cache, author="noc-console")
    edits.patch(incident_id(ticket), {"impact": "high"})
    # Meanwhile, in RT: another field changes, so the console's version is stale.
    assert rt.api("PUT", f"ticket/{ticket}", json={"Subject": "BGP down to AS64500"}).ok

    engine = sync(cache, backend)

    assert engine.conflicts() == []
    assert engine.rejections() == []
    shown = rt.ticket(ticket)
    assert shown["Subject"] == "BGP down to AS64500"
    assert {cf["name"]: cf["values"] for cf in shown["CustomFields"]}["Impact"] == ["high"]
    incident = cache.incident(incident_id(ticket))
    assert incident is not None
    assert (incident.title, incident.impact) == ("BGP down to AS64500", Impact.HIGH)


def test_stale_edit_of_the_same_field_becomes_a_conflict(
    rt: RtInstance, backend: CountingRt, cache: Cache
) -> None:
    ticket = rt.create_ticket("Firewall CPU 100%", CustomFields={"Service": "fw"})
    sync(cache, backend)
    LocalEdits(cache, author="noc-console").patch(incident_id(ticket), {"urgency": "high"})
    assert rt.api("PUT", f"ticket/{ticket}", json={"CustomFields": {"Urgency": "low"}}).ok
    directly = etag(rt, ticket)

    engine = sync(cache, backend)

    [conflict] = engine.conflicts()
    assert conflict.incident_id == incident_id(ticket)
    assert (conflict.fields["urgency"].mine, conflict.fields["urgency"].theirs) == ("high", "low")
    assert conflict.theirs_version == directly
    # Nothing was overwritten in RT.
    assert {cf["name"]: cf["values"] for cf in rt.ticket(ticket)["CustomFields"]}["Urgency"] == [
        "low"
    ]
    engine.resolve_conflict(conflict.record_id, {"urgency": "mine"})
    engine.sync_once()
    assert {cf["name"]: cf["values"] for cf in rt.ticket(ticket)["CustomFields"]}["Urgency"] == [
        "high"
    ]


def test_stale_if_match_gives_the_current_ticket(rt: RtInstance, backend: CountingRt) -> None:
    ticket = rt.create_ticket("UPS on battery", CustomFields={"Service": "dc-2"})
    old = etag(rt, ticket)
    assert rt.api("PUT", f"ticket/{ticket}", json={"Subject": "UPS on battery, 20 min"}).ok
    with pytest.raises(Stale) as stale:
        backend.update_incident(
            incident_id(ticket), {"title": "mine"}, version=old, idempotency_key="k"
        )
    assert stale.value.current.title == "UPS on battery, 20 min"
    assert stale.value.current.version == etag(rt, ticket) > old
    assert rt.ticket(ticket)["Subject"] == "UPS on battery, 20 min"


def test_an_invalid_status_answered_with_200_is_a_refusal_with_rts_words(
    rt: RtInstance, cache: Cache
) -> None:
    # A site whose status map names a status RT's lifecycle does not have.
    statuses = StatusMap.from_settings(statuses={"in_progress": "bogus"})
    with connector(rt, mapping=RtMapping(queue=rt.queue, statuses=statuses)) as backend:
        ticket = rt.create_ticket("SAN latency", CustomFields={"Service": "storage"})
        sync(cache, backend)
        reply = rt.api("PUT", f"ticket/{ticket}", json={"Status": "bogus"}, as_root=False)
        assert reply.status_code == 200  # RT's way of refusing: 200, the error in the text
        with pytest.raises(Rejected) as refused:
            backend.update_incident(
                incident_id(ticket),
                {"state": "in_progress"},
                version=etag(rt, ticket),
                idempotency_key="k",
            )
        assert "bogus" in refused.value.message
        assert "valid status" in refused.value.message
        assert rt.ticket(ticket)["Status"] == "new"

        LocalEdits(cache, author="noc-console").patch(incident_id(ticket), {"state": "in_progress"})
        engine = sync(cache, backend)
        [rejection] = engine.rejections()
        assert "valid status" in rejection.message
        shown = cache.incident(incident_id(ticket))
        assert shown is not None
        assert shown.state is State.NEW


def test_an_edit_whose_words_sound_like_an_error_is_done_not_refused(
    rt: RtInstance, backend: CountingRt, cache: Cache
) -> None:
    """RT reports a change made by quoting the values ("Subject changed from 'Backup
    failed' to …"): incident titles say "failed" and "cannot" all the time."""
    ticket = rt.create_ticket("Backup failed", CustomFields={"Service": "backup"})
    sync(cache, backend)
    LocalEdits(cache, author="noc-console").patch(
        incident_id(ticket),
        {"title": "Backup failed: cannot reach NAS", "category": "invalid credentials"},
    )
    engine = sync(cache, backend)

    assert engine.rejections() == []
    shown = rt.ticket(ticket)
    assert shown["Subject"] == "Backup failed: cannot reach NAS"
    assert {cf["name"]: cf["values"] for cf in shown["CustomFields"]}["Category"] == [
        "invalid credentials"
    ]
    incident = cache.incident(incident_id(ticket))
    assert incident is not None
    assert (incident.title, incident.category) == (
        "Backup failed: cannot reach NAS",
        "invalid credentials",
    )


def test_a_revoked_token_is_auth_failed(rt: RtInstance, cache: Cache) -> None:
    token = rt.make_token()
    with RtBackend(f"rt+{rt.url}", token, mapping=RtMapping(queue=rt.queue)) as backend:
        rt.create_ticket("Token test", CustomFields={"Service": "x"})
        sync(cache, backend)
        rt.revoke_token(token)
        with pytest.raises(AuthFailed) as failed:
            backend.changes(cache.cursor(backend.key), 100)
        assert "Auth Tokens" in failed.value.message
        with pytest.raises(AuthFailed):
            SyncEngine(cache, backend).sync_once()
        backend.set_token(rt.token)
        assert backend.changes(0, 100).incidents


# RT's REST2 has no way to create groups with rights, so the test does what an
# RT admin does in the web UI with a few lines of Perl against the test RT's database.
_COMMANDERS_PERL = r"""
use lib '/usr/share/request-tracker5/lib';
use RT -init;
my ($name, $user) = @ARGV;
my $group = RT::Group->new(RT->SystemUser);
my ($ok, $msg) = $group->CreateUserDefinedGroup(Name => $name);
die "$msg\n" unless $ok;
my $member = RT::User->new(RT->SystemUser);
$member->Load($user);
($ok, $msg) = $group->AddMember($member->PrincipalId);
die "$msg\n" unless $ok;
($ok, $msg) = $group->PrincipalObj->GrantRight(Right => 'SeeGroup', Object => $group);
die "$msg\n" unless $ok;
"""


def commanders_group(rt: RtInstance) -> str:
    """A group of its own for this test, with the console's user in it (docs/rt-setup.md:
    the members may see their group, so the console can tell they are commanders)."""
    name = f"Commanders {rt.queue}"
    rt.server.run_rt_tool(
        ["perl", "-e", _COMMANDERS_PERL, name, "noc-console"], what=f"making group {name}"
    )
    return name


def test_whoami_maps_rt_rights_to_a_role(rt: RtInstance) -> None:
    with connector(rt) as backend:
        caller = backend.whoami()
    assert caller is not None
    assert (caller.name, caller.role) == ("noc-console", "dispatcher")
    with connector(rt, commander_group=commanders_group(rt)) as backend:
        caller = backend.whoami()
    assert caller is not None
    assert caller.role == "commander"
    with RtBackend(f"rt+{rt.url}", rt.root_token, mapping=RtMapping(queue=rt.queue)) as root:
        caller = root.whoami()
    assert caller is not None
    assert (caller.name, caller.role) == ("root", "admin")


def test_a_dispatcher_cannot_override_severity_but_a_commander_can(
    rt: RtInstance, cache: Cache
) -> None:
    ticket = rt.create_ticket("Storage array degraded", CustomFields={"Service": "storage"})
    with connector(rt) as backend:
        backend.whoami()
        with pytest.raises(Rejected) as refused:
            backend.update_incident(
                incident_id(ticket),
                {"severity": "SEV-1", "severity_reason": "customer-facing"},
                version=etag(rt, ticket),
                idempotency_key="k",
            )
        assert refused.value.status == 403
        assert "NOC Commanders" in refused.value.message
    with connector(rt, commander_group=commanders_group(rt)) as backend:
        backend.whoami()
        incident = backend.update_incident(
            incident_id(ticket),
            {"severity": "SEV-1", "severity_reason": "customer-facing"},
            version=etag(rt, ticket),
            idempotency_key="k",
        )
    assert incident.severity is Severity.SEV1
    history = rt.api(
        "GET", f"ticket/{ticket}/history", params={"fields": "Type", "per_page": 100}
    ).json()["items"]
    assert "Comment" in [h["Type"] for h in history]  # the reason, on the ticket


def test_a_poll_reads_back_no_further_than_the_overlap(rt: RtInstance, cache: Cache) -> None:
    """Old tickets are not read again on every poll; recent ones are, then settle."""
    with connector(rt, overlap=2) as backend:
        old = rt.create_ticket("Old", CustomFields={"Service": "a"})
        sync(cache, backend)
        time.sleep(3)  # the first ticket falls out of the 2 s overlap
        fresh = rt.create_ticket("New", CustomFields={"Service": "b"})
        batch = backend.changes(cache.cursor(backend.key), 100)
        assert [i.id for i in batch.incidents] == [incident_id(fresh)]
        assert incident_id(old) not in {i.id for i in batch.incidents}
        assert batch.cursor == etag(rt, fresh)
        deadline = datetime.now(UTC) + timedelta(seconds=10)
        while datetime.now(UTC) < deadline:
            if backend.changes(batch.cursor, 100).incidents == ():
                break
            time.sleep(0.5)
        else:
            pytest.fail("a ticket read again unchanged never settled")


def test_deleted_merged_and_moved_tickets_leave_the_console(rt: RtInstance, cache: Cache) -> None:
    other = rt.server.take_spare_queue()  # set up like NOC: the console may see it
    with connector(rt, tombstone_every=0) as backend:
        deleted = rt.create_ticket("Deleted in RT", CustomFields={"Service": "a"})
        moved = rt.create_ticket("Moved to another queue", CustomFields={"Service": "b"})
        merged = rt.create_ticket("Duplicate report", CustomFields={"Service": "c"})
        kept = rt.create_ticket("The real one", CustomFields={"Service": "c"})
        sync(cache, backend)
        assert {i.id for i in cache.incidents()} == {
            incident_id(t) for t in (deleted, moved, merged, kept)
        }

        assert rt.api("DELETE", f"ticket/{deleted}").status_code == 204
        assert rt.api("PUT", f"ticket/{moved}", json={"Queue": other}).ok
        assert rt.api("PUT", f"ticket/{merged}", json={"MergeInto": kept}).ok
        sync(cache, backend)

        assert {i.id for i in cache.incidents()} == {incident_id(kept)}
