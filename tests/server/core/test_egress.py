"""The webhook egress policy: no server-side request forgery, no answer read back.

No test here sends traffic beyond loopback: registration is checked without
DNS, and where a host name must resolve, the policy's resolver is a stub
(``StubResolver``) answering with the address the test chooses. The receivers
are real HTTP servers on 127.0.0.1.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from console.server.core.egress import EgressPolicy, EgressRefused, parse_ip
from console.server.jobs.webhooks import SIGNATURE_HEADER, sign, verify
from tests.helpers.servers import Api, ApiFactory
from tests.helpers.webhooks import FAST_RETRIES, SECRET, _deliveries, _seed, _swarm, _wait_for

TARGET_SECRET = "aws-secret-access-key=AKIA-THIS-MUST-NOT-LEAK"

REFUSED = [
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "https://169.254.169.254/latest/meta-data/",
    "https://metadata.google.internal/computeMetadata/v1/",
    "https://[fd00:ec2::254]/latest/meta-data/",
    "https://100.100.100.200/latest/meta-data/",
    "https://10.0.0.1/hook",
    "https://192.168.1.1/hook",
    "https://172.16.5.4/hook",
    "https://100.64.0.1/hook",  # carrier-grade NAT (shared address space)
    "https://0.0.0.0:22/",
    "https://127.0.0.1/",
    "https://127.1/",
    "https://2130706433/",
    "https://0x7f000001/",
    "https://0177.0.0.1/",
    "https://[::1]:5432/",
    "https://localhost:6379/",
    "https://LOCALHOST./",
    "https://db.localhost/",
    "https://[::ffff:127.0.0.1]/",
    "https://[::ffff:169.254.169.254]/",
    "https://[64:ff9b::a00:1]/",  # NAT64 of 10.0.0.1
    "https://[2002:a00:1::]/",  # 6to4 of 10.0.0.1
    "https://224.0.0.1/",
    "https://[ff02::1]/",
    "https://[fe80::1]/",
    "https://[::]/",
    "https://user:pass@pager.example/hook",
    "http://pager.example/hook",  # public, but plain http
]


@dataclass
class StubResolver:
    """Answers every lookup with ``addresses``; records what was asked (no DNS traffic)."""

    addresses: list[str]
    asked: list[str] = field(default_factory=list)

    def __call__(self, host: str, _port: int) -> Sequence[str]:
        self.asked.append(host)
        return list(self.addresses)


@dataclass
class Target:
    """A loopback HTTP receiver that answers ``status`` with a secret in its body."""

    status: int = 500
    hits: list[dict[str, str]] = field(default_factory=list)
    port: int = 0


@pytest.fixture
def target() -> Iterator[Target]:
    state = Target()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.hits.append(
                {
                    "host": self.headers.get("Host", ""),
                    "signature": self.headers.get(SIGNATURE_HEADER, ""),
                    "body": body.decode(),
                }
            )
            answer = TARGET_SECRET.encode()
            self.send_response(state.status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.port = int(server.server_address[1])
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _register(api: Api, url: str) -> Any:
    return api.request(
        "POST",
        "/v1/webhooks",
        json={"name": "pager", "url": url, "secret": SECRET, "events": ["escalation"]},
    )


# -- registration -----------------------------------------------------------


def test_registration_refuses_every_internal_destination(api: Api) -> None:
    accepted = []
    for url in REFUSED:
        response = _register(api, url)
        if response.status_code != 422:
            accepted.append(f"{url} → {response.status_code}")
        else:
            assert response.json()["error"]["code"] == "destination_refused", url
    assert not accepted, "accepted: " + "; ".join(accepted)
    # A public https receiver is fine (checked without DNS at registration).
    assert _register(api, "https://pager.example/hook").status_code == 201
    # PUT applies the same rules.
    hook = api.request("GET", "/v1/webhooks").json()["items"][0]
    body = {"name": "p", "url": "https://127.1/", "secret": SECRET, "events": ["escalation"]}
    assert api.request("PUT", f"/v1/webhooks/{hook['id']}", json=body).status_code == 422


def test_the_allow_list_admits_an_internal_gateway_and_plain_http_to_it(
    api_factory: ApiFactory,
) -> None:
    api = api_factory(webhook_allow=("10.20.0.0/16", "chat.noc.lan"), escalation_tick_s=0)
    assert _register(api, "http://10.20.3.4:8080/hook").status_code == 201
    assert _register(api, "https://chat.noc.lan/in").status_code == 201
    assert _register(api, "https://10.21.0.1/hook").status_code == 422
    # Metadata stays refused even inside an allowed network.
    wide = api_factory(webhook_allow=("169.254.0.0/16",), escalation_tick_s=0)
    assert _register(wide, "http://169.254.169.254/latest").status_code == 422
    assert _register(wide, "http://169.254.10.10/hook").status_code == 201


# -- send time ----------------------------------------------------------------


def test_a_name_resolving_to_loopback_at_send_time_is_not_contacted(
    api_factory: ApiFactory, target: Target
) -> None:
    api = api_factory(**{**FAST_RETRIES, "webhook_allow": ()})
    resolver = StubResolver(["127.0.0.1"])  # DNS rebinding: public at registration, not now
    api.server.app.state.egress.resolver = resolver
    incident = _seed(api)
    hook = _register(api, f"https://rebind.example:{target.port}/hook").json()

    _swarm(api, incident)
    [delivery] = _wait_for(_deliveries(api, hook, "failed"))

    assert resolver.asked
    assert set(resolver.asked) == {"rebind.example"}
    assert target.hits == []
    assert "egress policy" in delivery["last_error"]
    assert "loopback" in delivery["last_error"]


def test_the_sender_connects_to_the_address_it_checked(
    api_factory: ApiFactory, target: Target
) -> None:
    # An allow-listed name; the stub resolves it to the loopback receiver, so
    # the delivery arriving proves the POST went to the checked address (the
    # name itself resolves nowhere).
    api = api_factory(**{**FAST_RETRIES, "webhook_allow": ("pager.test",)})
    api.server.app.state.egress.resolver = StubResolver(["127.0.0.1"])
    target.status = 200
    incident = _seed(api)
    hook = _register(api, f"http://pager.test:{target.port}/hook").json()

    _swarm(api, incident)
    _wait_for(_deliveries(api, hook, "delivered"))

    [hit] = target.hits
    assert hit["host"] == f"pager.test:{target.port}"
    assert verify(SECRET, hit["body"].encode(), hit["signature"])


def test_the_targets_answer_is_never_stored_or_shown(
    api_factory: ApiFactory, target: Target
) -> None:
    api = api_factory(**FAST_RETRIES)  # 127.0.0.1 allow-listed
    incident = _seed(api)
    hook = _register(api, f"http://127.0.0.1:{target.port}/latest/meta-data/").json()

    _swarm(api, incident)
    [delivery] = _wait_for(_deliveries(api, hook, "failed"))

    assert len(target.hits) == FAST_RETRIES["webhook_max_attempts"]
    assert delivery["last_status_code"] == 500
    assert delivery["last_error"] == "HTTP 500 Internal Server Error"
    listing = api.request("GET", f"/v1/webhooks/{hook['id']}/deliveries")
    assert TARGET_SECRET not in listing.text
    assert "AKIA" not in listing.text


# -- the policy itself (stub resolver only) -----------------------------------


def test_every_resolved_address_must_pass() -> None:
    policy = EgressPolicy(resolver=StubResolver(["93.184.215.14", "10.0.0.7"]))
    with pytest.raises(EgressRefused, match="private"):
        policy.destination("https://mixed.example/hook")
    ok = EgressPolicy(resolver=StubResolver(["93.184.215.14"])).destination(
        "https://pager.example:8443/x"
    )
    assert (ok.host, ok.port, ok.address) == ("pager.example", 8443, "93.184.215.14")
    for answer in ("::ffff:10.0.0.1", "64:ff9b::7f00:1", "169.254.169.254", "0.0.0.0"):
        with pytest.raises(EgressRefused):
            EgressPolicy(resolver=StubResolver([answer])).destination("https://x.example/")


def test_legacy_ipv4_spellings_are_read_as_addresses() -> None:
    for spelling in ("127.1", "2130706433", "0x7f000001", "0177.0.0.1", "0x7f.0.0.1"):
        assert str(parse_ip(spelling)) == "127.0.0.1", spelling
    assert parse_ip("pager.example") is None
    assert parse_ip("deadbeef") is None


def test_a_bad_allow_list_entry_is_refused_with_its_name() -> None:
    with pytest.raises(ValueError, match="neither a network"):
        EgressPolicy(("10.0.0.0/8", "http://oops/"))


# -- signatures -----------------------------------------------------------------


def test_signatures_carry_a_timestamp_and_old_ones_fail() -> None:
    body = json.dumps({"event": "escalation"}).encode()
    now = int(time.time())
    header = sign(SECRET, body, now)
    assert header.startswith(f"t={now},v1=")
    assert verify(SECRET, body, header)
    assert not verify(SECRET, body + b" ", header)
    assert not verify("another-secret-entirely", body, header)
    replayed = sign(SECRET, body, now - 600)  # captured ten minutes ago
    assert not verify(SECRET, body, replayed)
    assert not verify(SECRET, body, "sha256=" + header.split("v1=")[1])
