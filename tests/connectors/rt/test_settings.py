"""Pointing the console at Request Tracker: URLs, the [rt] settings, the directory file.

No RT is needed here; tests/rt/ covers the connector against a running one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console.config.credentials import store_token
from console.config.settings import Settings, SettingsError, parse_settings
from console.connectors.noc import NocBackend
from console.connectors.registry import check_settings, open_backend, poll_interval_for
from console.connectors.rt import RtBackend, normalise_rt_url
from console.connectors.rt.directory import DirectoryError, DirectoryFile, DirectoryServer
from console.connectors.rt.settings import rt_settings
from console.domain.lifecycle import State

PATH = Path("/etc/noc-console/settings.toml")


def test_rt_urls() -> None:
    assert normalise_rt_url("rt+https://rt.example.org/") == "rt+https://rt.example.org"
    assert normalise_rt_url("rt+https://example.org/rt/REST/2.0/") == "rt+https://example.org/rt"
    for bad in ("https://rt.example.org", "rt+ftp://rt.example.org", "rt+https://"):
        with pytest.raises(ValueError, match=r"rt\+https://rt\.example\.org"):
            normalise_rt_url(bad)


def test_rt_settings_are_read_and_checked() -> None:
    settings = parse_settings(
        {
            "backends": ["rt+https://rt.example.org"],
            "rt": {
                "queue": "NOC",
                "poll_interval_seconds": 5,
                "overlap_seconds": 20,
                "directory": "/srv/noc/directory.json",
                "commander_group": "Incident Commanders",
                "custom_fields": {
                    "impact": "Business impact",
                    "major": "Major incident",
                    "request_key": "",
                },
                "statuses": {"triage": "triaged"},
                "set_status": {"closed": "resolved"},
            },
        },
        PATH,
    )
    rt = rt_settings(settings)
    assert settings.backends == ("rt+https://rt.example.org",)
    assert rt.queue == "NOC"
    assert rt.poll_interval.total_seconds() == 5
    assert rt.overlap.total_seconds() == 20
    assert rt.directory == "/srv/noc/directory.json"
    assert rt.commander_group == "Incident Commanders"
    assert rt.custom_fields.impact == "Business impact"
    assert rt.custom_fields.major == "Major incident"
    assert rt.custom_fields.request_key is None  # left out: the console says what that risks
    assert rt.statuses.state_of("triage", started=False) is State.TRIAGED
    assert poll_interval_for("rt+https://rt.example.org", settings) == 5
    assert poll_interval_for("https://noc.example.org", settings) == 15


@pytest.mark.parametrize(
    ("rt", "key"),
    [
        ({"queue": 3}, "rt.queue"),
        ({"poll_interval_seconds": 0}, "rt.poll_interval_seconds"),
        ({"colour": "red"}, "rt.colour"),
        ({"custom_fields": {"impact": 1}}, "rt.custom_fields.impact"),
        ({"statuses": {"triage": "thinking"}}, "rt.statuses.triage"),
        ({"set_status": {"waiting": "open"}}, "rt.set_status.waiting"),
    ],
)
def test_a_bad_rt_setting_names_its_key(rt: dict[str, object], key: str) -> None:
    settings = parse_settings({"rt": rt}, PATH)  # kept raw: the RT connector checks it
    with pytest.raises(SettingsError) as error:
        rt_settings(settings)
    assert f"key '{key}'" in str(error.value)
    assert str(PATH) in str(error.value)
    with pytest.raises(SettingsError, match=f"key '{key}'"):  # when opening RT too
        open_backend("rt+https://rt.example.org", "1-2-abc", settings, queue="NOC")
    with pytest.raises(SettingsError, match=f"key '{key}'"):  # and when the console starts
        check_settings(settings)


def test_settings_without_connector_tables_check_clean() -> None:
    check_settings(parse_settings({}, PATH))
    check_settings(parse_settings({"rt": {"queue": "NOC"}}, PATH))


def test_an_rt_table_that_is_not_a_table_names_the_file() -> None:
    with pytest.raises(SettingsError, match=r"key 'rt': 'NOC' is not a table"):
        parse_settings({"rt": "NOC"}, PATH)


def test_opening_an_rt_backend_needs_a_queue(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="--queue NAME"):
        open_backend("rt+https://rt.example.org", "1-2-abc", Settings())
    backend = open_backend("rt+https://rt.example.org", "1-2-abc", Settings(), queue="NOC")
    try:
        assert isinstance(backend, RtBackend)
        assert backend.queue == "NOC"
        assert backend.key == "rt+https://rt.example.org#queue=NOC"
        assert backend.supports_events is False
    finally:
        backend.close()
    assert isinstance(open_backend("https://noc.example.org", None, Settings()), NocBackend)


def test_a_directory_server_needs_its_token_in_the_keyring() -> None:
    settings = parse_settings({"rt": {"queue": "NOC", "directory": "https://dir.example"}}, PATH)
    with pytest.raises(ValueError, match="no API token is stored for the directory server"):
        open_backend("rt+https://rt.example.org", "1-2-abc", settings)
    store_token("https://dir.example", "viewer-token")
    backend = open_backend("rt+https://rt.example.org", "1-2-abc", settings)
    try:
        assert isinstance(backend, RtBackend)
        assert isinstance(backend.directory, DirectoryServer)
        assert backend.holdings()[1] == (
            "Escalation matrix, on-call, services, teams, contacts",
            "https://dir.example",
        )
    finally:
        backend.close()


def write(path: Path, data: object) -> None:
    path.write_text(json.dumps(data), encoding="utf-8")


def test_the_directory_file_is_read_when_it_changes_and_deletions_follow(tmp_path: Path) -> None:
    path = tmp_path / "directory.json"
    write(
        path,
        {
            "services": [{"id": "checkout", "name": "Checkout"}],
            "teams": {"items": [{"id": "web", "name": "Web team"}]},
        },
    )
    cached = {"services": ["checkout", "old-service"], "teams": []}
    source = DirectoryFile(path, known=lambda kind: cached.get(kind, []))
    items, deleted = source.changes()
    assert [i["id"] for i in items["services"]] == ["checkout"]
    assert [i["id"] for i in items["teams"]] == ["web"]
    assert deleted == {"services": ("old-service",)}  # gone while the console was closed
    assert source.changes() == ({}, {})  # unchanged file: nothing to do
    write(path, {"services": [{"id": "checkout", "name": "Checkout v2"}]})
    items, deleted = source.changes()
    assert items["services"][0]["name"] == "Checkout v2"
    assert deleted == {"teams": ("web",)}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "is not valid JSON"),
        ('["services"]', "must hold an object"),
        ('{"pagers": []}', "'pagers' is not a kind of reference data"),
        ('{"services": [{"name": "x"}]}', 'services[0] needs an "id"'),
    ],
)
def test_a_bad_directory_file_says_what_is_wrong(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "directory.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DirectoryError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        DirectoryFile(path).changes()
    with pytest.raises(DirectoryError, match="cannot be read"):
        DirectoryFile(tmp_path / "missing.json").changes()
