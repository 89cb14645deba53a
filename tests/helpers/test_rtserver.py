"""The test RT itself: it starts, is seeded as docs/rt-setup.md describes, and its
helpers (direct tickets, tokens, bulk seeding) do what the connector's tests rely on."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import requests

from tests.helpers import rtserver
from tests.helpers.rt import require_rt
from tests.helpers.rtserver import CONSOLE_USER, CUSTOM_FIELDS, QUEUE, RtError, RtInstance, RtServer


def _cf_values(ticket: dict) -> dict[str, list[str]]:
    return {cf["name"]: cf["values"] for cf in ticket["CustomFields"]}


def test_server_answers_the_console_token_on_loopback(rt_server: RtInstance) -> None:
    assert rt_server.url.startswith("http://127.0.0.1:")
    assert rt_server.db_path.is_file()
    reply = rt_server.api("GET", "user/noc-console", as_root=False)
    assert reply.status_code == 200, reply.text
    assert reply.json()["Name"] == CONSOLE_USER
    # Links are built from the server's own address, not the package's default.
    queue = rt_server.api("GET", f"queue/{QUEUE}", as_root=False).json()
    assert queue["Name"] == QUEUE
    assert queue["_hyperlinks"][0]["_url"].startswith(rt_server.rest_url)


def test_queue_has_the_five_custom_fields_with_their_values(rt_server: RtInstance) -> None:
    queue_id = rt_server.api("GET", f"queue/{QUEUE}").json()["id"]
    fields = rt_server.api(
        "GET", f"queue/{queue_id}/customfields", params={"fields": "Name,Type,MaxValues"}
    ).json()["items"]
    by_name = {item["Name"]: item for item in fields}
    assert set(CUSTOM_FIELDS) <= set(by_name)
    for name in ("Impact", "Urgency", "Severity"):
        assert by_name[name]["Type"] == "Select"
        assert int(by_name[name]["MaxValues"]) == 1  # REST2 sends numbers as strings
    for name in ("Service", "Category"):
        assert by_name[name]["Type"] == "Freeform"
    severity = rt_server.api("GET", f"customfield/{by_name['Severity']['id']}/values").json()
    assert [v["name"] for v in severity["items"]] == ["SEV-1", "SEV-2", "SEV-3", "SEV-4"]
    impact = rt_server.api("GET", f"customfield/{by_name['Impact']['id']}/values").json()
    assert [v["name"] for v in impact["items"]] == ["high", "medium", "low"]


def test_ticket_made_directly_is_visible_to_the_console(rt: RtInstance) -> None:
    ticket_id = rt.create_ticket(
        "Core router flapping",
        Status="open",
        Owner="alice",
        Requestor="netops@example.org",
        CustomFields={"Impact": "high", "Severity": "SEV-2", "Service": "core-network"},
    )
    reply = rt.api("GET", f"ticket/{ticket_id}", as_root=False)
    assert reply.status_code == 200, reply.text
    assert reply.headers["ETag"]
    ticket = reply.json()
    assert ticket["Subject"] == "Core router flapping"
    assert ticket["Status"] == "open"
    assert ticket["Owner"]["id"] == "alice"
    assert [r["id"] for r in ticket["Requestor"]] == ["netops@example.org"]
    values = _cf_values(ticket)
    assert values["Impact"] == ["high"]
    assert values["Severity"] == ["SEV-2"]
    assert values["Service"] == ["core-network"]
    found = rt.api(
        "GET", "tickets", params={"query": f"Queue = '{rt.queue}'"}, as_root=False
    ).json()
    assert [int(item["id"]) for item in found["items"]] == [ticket_id]


def test_console_can_work_tickets_as_a_dispatcher(rt: RtInstance) -> None:
    made = rt.api(
        "POST",
        "ticket",
        json={"Queue": rt.queue, "Subject": "VPN down", "CustomFields": {"Urgency": "high"}},
        as_root=False,
    )
    assert made.status_code == 201, made.text
    ticket_id = int(made.json()["id"])
    update = rt.api(
        "PUT",
        f"ticket/{ticket_id}",
        json={"Status": "open", "Owner": CONSOLE_USER, "CustomFields": {"Category": "network"}},
        as_root=False,
    )
    assert update.status_code == 200, update.text
    for action in ("comment", "correspond"):
        reply = rt.api(
            "POST",
            f"ticket/{ticket_id}/{action}",
            json={"Content": f"a {action}", "ContentType": "text/plain"},
            as_root=False,
        )
        assert reply.status_code == 201, reply.text
    ticket = rt.ticket(ticket_id)
    assert ticket["Status"] == "open"
    assert ticket["Owner"]["id"] == CONSOLE_USER
    assert _cf_values(ticket)["Category"] == ["network"]


def test_each_test_queue_is_private(rt_server: RtInstance, rt: RtInstance) -> None:
    assert rt.queue != rt_server.queue
    assert rt.api("GET", "tickets", params={"query": f"Queue = '{rt.queue}'"}).json()["count"] == 0


def test_a_new_token_works_and_a_revoked_one_gets_401(rt: RtInstance) -> None:
    token = rt.make_token("alice")
    headers = {"Authorization": f"token {token}"}
    assert requests.get(f"{rt.rest_url}user/alice", headers=headers, timeout=30).ok
    rt.revoke_token(token)
    after = requests.get(f"{rt.rest_url}user/alice", headers=headers, timeout=30)
    assert after.status_code == 401


def test_a_revoked_console_token_gets_401_until_the_fixture_restores_it(rt: RtInstance) -> None:
    assert rt.api("GET", f"queue/{rt.queue}", as_root=False).status_code == 200
    rt.revoke_token(rt.token)
    assert rt.api("GET", f"queue/{rt.queue}", as_root=False).status_code == 401
    # What the ``rt`` fixture does after each test, so the next test has a working token.
    rt.server.restore_tokens()
    assert rt.api("GET", f"queue/{rt.queue}", as_root=False).status_code == 200


def test_bulk_seed_makes_5000_tickets_with_their_custom_fields_quickly(rt: RtInstance) -> None:
    started = time.monotonic()
    ids = rt.bulk_seed(5000)
    assert time.monotonic() - started < 30
    assert len(ids) == len(set(ids)) == 5000
    page = rt.api(
        "GET",
        "tickets",
        params={
            "query": f"Queue = '{rt.queue}'",
            "per_page": 100,
            "orderby": "id",  # without it, SQLite returns them in index order (by Status)
            "fields": "Subject,Status,Owner,Requestor,CustomFields",
        },
        as_root=False,
    ).json()
    assert int(page["total"]) == 5000
    statuses = set()
    for item in page["items"]:
        values = _cf_values(item)
        assert values["Severity"][0] in {"SEV-1", "SEV-2", "SEV-3", "SEV-4"}
        assert values["Impact"][0] in {"high", "medium", "low"}
        assert values["Urgency"][0] in {"high", "medium", "low"}
        assert values["Service"][0]
        assert values["Category"][0]
        assert item["Requestor"], item
        assert item["Owner"]["id"]
        statuses.add(item["Status"])
    assert len(statuses) > 1
    # Seeded tickets are ordinary tickets: TicketSQL on a custom field finds them,
    # RT lets the console change them, and tickets made afterwards get new ids.
    sev1 = rt.api(
        "GET", "tickets", params={"query": f"Queue = '{rt.queue}' AND CF.{{Severity}} = 'SEV-1'"}
    ).json()
    assert 0 < int(sev1["total"]) < 5000
    target = ids[-1]
    update = rt.api(
        "PUT",
        f"ticket/{target}",
        json={"Status": "resolved", "Owner": CONSOLE_USER, "CustomFields": {"Impact": "low"}},
        as_root=False,
    )
    assert update.status_code == 200, update.text
    ticket = rt.ticket(target)
    assert ticket["Status"] == "resolved"
    assert ticket["Owner"]["id"] == CONSOLE_USER
    history = rt.api("GET", f"ticket/{target}/history").json()
    assert {"Create", "Status"} <= {
        rt.api("GET", f"transaction/{item['id']}").json()["Type"] for item in history["items"]
    }
    assert rt.create_ticket("made after the seed") > max(ids)


def test_stop_ends_every_rt_process(rt_server: RtInstance) -> None:
    server = RtServer().start()
    group = server.process.pid if server.process else 0
    db_dir = server.db_path.parent
    server.stop()
    with pytest.raises(ProcessLookupError):
        os.killpg(group, 0)
    assert not db_dir.exists()


def test_a_start_failure_says_what_failed_with_the_log_tail(
    rt_server: RtInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every port offered is one the session's RT already listens on.
    busy_port = int(rt_server.url.rsplit(":", 1)[1])
    monkeypatch.setattr("tests.helpers.rtserver._free_port", lambda: busy_port)
    server = RtServer()
    with pytest.raises(RtError) as failure:
        server.start()
    message = str(failure.value)
    assert "rt-server exited" in message
    assert "couldn't start up a web server" in message  # from rt-server's own log
    assert server.process is None
    assert server.workdir is not None
    assert not server.workdir.exists()
    # The session's server is unharmed.
    assert rt_server.api("GET", f"queue/{QUEUE}").status_code == 200


def test_without_rt_the_tests_skip_naming_the_install_script(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rtserver, "RT_SERVER", Path("/nonexistent/rt-server"))
    monkeypatch.delenv("NOC_REQUIRE_RT", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"\.ci/install-rt"):
        require_rt()


def test_with_noc_require_rt_a_missing_rt_fails_the_test(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rtserver, "DROP_INS", (Path("/nonexistent/90-noc-console-tests.pm"),))
    monkeypatch.setenv("NOC_REQUIRE_RT", "1")
    with pytest.raises(pytest.fail.Exception, match=r"install-rt.*NOC_REQUIRE_RT=1"):
        require_rt()
