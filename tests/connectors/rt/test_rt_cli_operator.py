"""Two ``noc-console sync --once`` processes over one ``--data-dir``, on an operator's
RT account as real deployments have it (see test_backend_operator.py), against a real RT 5.

Whatever is done in RT between the two runs is in the cache after the second, with
the version RT gives that account, and nothing is doubled; tickets that left the
queue (to a queue the account may see or not, deleted, merged) leave the cache;
RT failing on the way gets a clear message and the next run resumes.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from console.connectors.rt.mapping import incident_id
from console.domain.incident import TimelineKind
from console.domain.lifecycle import State
from console.store import Cache
from tests.helpers.rt import NOTE, REPLY, connection, lossy_proxy, run, versions_seen_by_operator
from tests.helpers.rtserver import RtInstance

pytestmark = pytest.mark.slow


def sync(rt: RtInstance, tmp_path: Path, url: str | None = None) -> str:
    argv = connection(rt)
    if url is not None:
        argv[1] = f"rt+{url}"
    done = run(rt, tmp_path, "sync", "--once", *argv)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr


def cached(tmp_path: Path) -> Cache:
    return Cache.open(tmp_path / "data" / "cache.db")


def test_two_processes_pick_up_rt_edits_with_the_right_version_and_double_nothing(
    rt: RtInstance, tmp_path: Path
) -> None:
    operator = rt.as_user()
    seeded = rt.seed_history(120)  # searches of more than one page, short pages among them
    edge = rt.create_ticket(
        "Edge router down",
        Requestor="caller@customers.noc-console.test",
        Content="Site B is offline.",
        CustomFields={"Impact": "medium", "Urgency": "medium", "Service": "wan"},
    )
    tickets = [*seeded, edge]
    ref = incident_id(edge)

    sync(operator, tmp_path)
    with cached(tmp_path) as cache:
        first = cache.incident(ref)
        assert first is not None
        assert (first.title, first.state) == ("Edge router down", State.NEW)
        assert len(cache.incidents()) == 121

    # Worked directly in RT meanwhile, by someone else.
    assert rt.api("PUT", f"ticket/{edge}", json={
        "Subject": "Edge router down at site B", "Status": "open", "Owner": "alice",
        "CustomFields": {"Impact": "high"},
    }).ok  # fmt: skip
    for action, text in (("comment", "Console cable to the router is loose."),
                         ("correspond", "We are on site.")):  # fmt: skip
        note = {"Content": text, "ContentType": "text/plain"}
        assert rt.api("POST", f"ticket/{edge}/{action}", json=note).status_code == 201

    sync(operator, tmp_path)
    sync(operator, tmp_path)  # once more: nothing new, nothing doubled
    expected = versions_seen_by_operator(rt, tickets)
    with cached(tmp_path) as cache:
        shown = cache.incident(ref)
        assert shown is not None
        assert shown.title == "Edge router down at site B"
        assert shown.state is State.IN_PROGRESS
        assert shown.assignee == "alice"
        assert shown.impact.value == "high"
        assert shown.version == expected[ref] > first.version
        assert {i.id: i.version for i in cache.incidents()} == expected
        assert cache.cursor(f"rt+{rt.url}#queue={rt.queue}") == max(expected.values())
        timeline = cache.timeline(ref)
        assert Counter((e.kind, e.body) for e in timeline if e.body.strip()) >= Counter({
            (TimelineKind.WORK_NOTE, "Console cable to the router is loose."): 1,
            (TimelineKind.STATUS_UPDATE, "We are on site."): 1,
        })  # fmt: skip
        assert len({e.id for e in timeline}) == len(timeline)
        notes = [e for e in timeline if e.kind in (TimelineKind.WORK_NOTE,
                                                    TimelineKind.STATUS_UPDATE)]  # fmt: skip
        assert [e.body for e in notes] == [
            "Console cable to the router is loose.",
            "We are on site.",
        ]
        for number in seeded[::17]:
            entries = cache.timeline(incident_id(number))
            assert [e.body for e in entries if e.kind is TimelineKind.WORK_NOTE] == [NOTE]
            assert [e.body for e in entries if e.kind is TimelineKind.STATUS_UPDATE] == [REPLY]


def test_tickets_leaving_the_queue_leave_the_cache_at_the_next_run(
    rt: RtInstance, tmp_path: Path
) -> None:
    operator = rt.as_user()
    visible = rt.server.take_spare_queue()
    kept, hidden, moved, deleted, merged = (
        rt.create_ticket(subject, Requestor="caller@customers.noc-console.test")
        for subject in ("Kept", "Moved to General", "Moved to a visible queue", "Deleted", "Dup")
    )
    sync(operator, tmp_path)
    assert rt.api("PUT", f"ticket/{hidden}", json={"Queue": "General"}).ok  # not visible to it
    assert rt.api("PUT", f"ticket/{moved}", json={"Queue": visible}).ok
    assert rt.api("DELETE", f"ticket/{deleted}").status_code == 204
    assert rt.api("PUT", f"ticket/{merged}", json={"MergeInto": kept}).ok
    sync(operator, tmp_path)
    with cached(tmp_path) as cache:
        assert [i.id for i in cache.incidents()] == [incident_id(kept)]


def test_rt_down_failing_or_garbled_is_said_clearly_and_the_next_run_resumes(
    rt: RtInstance, tmp_path: Path
) -> None:
    operator = rt.as_user()
    tickets = rt.seed_history(150)
    with lossy_proxy(rt.url) as proxy:
        proxy.fail("GET", "/transactions", status=503, skip=14)
        argv = connection(operator)
        argv[1] = f"rt+{proxy.url}"
        failed = run(operator, tmp_path, "sync", "--once", *argv)
        assert failed.returncode == 1
        assert "is not available right now (503" in failed.stderr
        assert "What was synced so far is kept" in failed.stderr
        assert "Traceback" not in failed.stderr
        proxy.fail("GET", "/tickets", status=200, body=b"<html><body>Bad gateway")
        garbled = run(operator, tmp_path, "sync", "--once", *argv)
        assert garbled.returncode == 1
        assert "did not answer in JSON" in garbled.stderr
        assert "Traceback" not in garbled.stderr
    # The proxy is gone: nothing listens there any more.
    down = run(operator, tmp_path, "sync", "--once", *argv)
    assert down.returncode == 1
    assert "cannot reach Request Tracker" in down.stderr
    assert "Traceback" not in down.stderr
    with cached(tmp_path) as cache:
        partial = len(cache.incidents())
    assert 0 < partial < 150
    sync(operator, tmp_path)
    with cached(tmp_path) as cache:
        assert {i.id: i.version for i in cache.incidents()} == versions_seen_by_operator(
            rt, tickets
        )
        for number in tickets:
            entries = cache.timeline(incident_id(number))
            assert [e.body for e in entries if e.kind is TimelineKind.WORK_NOTE] == [NOTE]
