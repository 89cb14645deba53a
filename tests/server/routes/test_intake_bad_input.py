"""Bad input at the intake endpoints: a clear 4xx, bounded memory, nothing half-made."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from console.server.services.intake_rules import config_from_table
from tests.helpers.intake import am_alert, am_body, intake_server, post_am
from tests.helpers.servers import Api, ApiFactory


@pytest.fixture
def api(api_factory: ApiFactory, tmp_path: Path) -> Api:
    return intake_server(api_factory, tmp_path, config_from_table({"default_service": "core"}))


def _raw(api: Api, content: bytes | Iterator[bytes], path: str = "/v1/intake/alertmanager") -> Any:
    return api.client.post(
        path,
        content=content,
        headers={**api.auth("intake"), "Content-Type": "application/json"},
    )


def _nothing_made(api: Api) -> None:
    changes = api.all_changes()
    assert [c for c in changes if c["kind"] in ("incident", "timeline")] == []


def test_malformed_json_is_a_400(api: Api) -> None:
    for body in (b"{", b'{"version": "4", "alerts": [', b"\xff\xfe", b"[]", b"null"):
        response = _raw(api, body)
        assert response.status_code in (400, 422), (body, response.text)
        assert response.json()["error"]["message"]
    _nothing_made(api)


def test_an_unknown_version_says_which_it_reads(api: Api) -> None:
    response = post_am(api, am_body(am_alert(), version="5"))
    assert response.status_code == 422
    assert 'version "4"' in response.json()["error"]["message"]
    _nothing_made(api)


def test_fifty_megabytes_are_refused_before_they_are_read(api: Api) -> None:
    big = b'{"version":"4","alerts":[' + b" " * (50 * 1024 * 1024) + b"]}"
    response = _raw(api, big)
    assert response.status_code == 413
    assert "MiB" in response.json()["error"]["message"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: stopped at the limit all the same
        for _ in range(50):
            yield b" " * (1024 * 1024)

    assert _raw(api, chunks()).status_code == 413
    _nothing_made(api)


def test_a_hundred_thousand_alerts_in_one_body(api: Api) -> None:
    alert = {"status": "firing", "labels": {"a": "b"}}
    huge = am_body(*([alert] * 100_000))
    response = _raw(api, json.dumps(huge).encode())
    assert response.status_code == 413
    # Small enough to pass the byte limit, but more alerts than max_alerts.
    many = am_body(*([{"status": "firing", "labels": {}}] * 2000))
    response = _raw(api, json.dumps(many).encode())
    assert response.status_code == 413, response.text
    assert "max_alerts" in response.json()["error"]["message"]
    _nothing_made(api)


@pytest.mark.parametrize(
    ("labels", "expect"),
    [
        ({"instance": "gw1\x00"}, "NUL"),
        ({"instance": "x" * 10_000}, "at most 2048"),
        ({"bad\x00name": "x"}, "NUL"),
        ({f"l{i}": "x" for i in range(100)}, "at most 64"),
    ],
)
def test_bad_labels_are_a_422_naming_the_field(
    api: Api, labels: dict[str, str], expect: str
) -> None:
    good = am_alert(fingerprint="good")
    bad = {**am_alert(fingerprint="bad"), "labels": {"alertname": "X", **labels}}
    response = post_am(api, am_body(good, bad))
    assert response.status_code == 422, response.text
    message = response.json()["error"]["message"]
    assert expect in message
    assert "alerts.1" in message
    _nothing_made(api)  # the good alert in the same body is not half-applied


def test_an_unmapped_alert_rolls_the_whole_notification_back(
    api_factory: ApiFactory, tmp_path: Path
) -> None:
    api = intake_server(api_factory, tmp_path, config_from_table({}), name="nodefault")
    body = am_body(am_alert(fingerprint="ok", service="vpn"), am_alert(fingerprint="lost"))
    response = post_am(api, body)
    assert response.status_code == 422
    assert "default_service" in response.json()["error"]["message"]
    _nothing_made(api)


def test_events_refuse_unknown_fields_and_wrong_types(api: Api) -> None:
    def send(body: object) -> Any:
        return api.request("POST", "/v1/intake/events", role="intake", json=body)

    assert send({"action": "trigger", "summary": "x", "sumary": "typo"}).status_code == 422
    assert send({"action": "trigger", "summary": "x" * 5000}).status_code == 422
    assert send({"action": "trigger", "summary": "x", "severity": "apocalyptic"}).status_code == 422
    assert send({"action": "trigger", "summary": "x", "details": "not a map"}).status_code == 422
    _nothing_made(api)
