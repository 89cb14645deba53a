"""``noc-console export timeline``: every cached timeline entry, as JSON or CSV, run as a
user runs it (a real process over a real cache file)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

from console.domain.incident import TimelineKind
from console.domain.lifecycle import State
from console.store import Cache
from tests.helpers.factories import CACHE_T0 as T0
from tests.helpers.factories import cached_incident as make_incident
from tests.helpers.factories import make_event, minutes


def export(data: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console", "export", "timeline", "--data-dir", str(data), *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def seed(data: Path) -> tuple[str, str]:
    data.mkdir()
    first = make_incident("rt-41", number="RT-41", title="Core switch, reboot loop")
    second = make_incident("inc-2", state=State.RESOLVED, resolved_at=T0 + minutes(30))
    with Cache.open(data / "cache.db") as cache:
        cache.upsert_incidents([first, second])
        cache.upsert_timeline(
            [
                make_event("rt-41", "rt-txn-9", T0 + minutes(5), body='Rebooted; "line 2"\nok'),
                make_event(
                    "rt-41",
                    "rt-txn-7",
                    T0 + minutes(1),
                    kind=TimelineKind.STATE_CHANGE,
                    author="alice",
                    body="New → In progress",
                ),
                make_event("inc-2", "ev-1", T0 + minutes(2), kind=TimelineKind.STATUS_UPDATE),
            ]
        )
    return first.number, second.number


def test_json_has_every_entry_of_every_incident_oldest_first(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first, second = seed(data)
    done = export(data, "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [(r["incident"], r["kind"], r["author"], r["text"]) for r in rows] == [
        (first, "state_change", "alice", "New → In progress"),
        (first, "work_note", "ana", 'Rebooted; "line 2"\nok'),
        (second, "status_update", "ana", "note ev-1"),
    ]
    assert rows[0]["at"] == (T0 + minutes(1)).isoformat()
    assert rows[0]["incident_title"] == "Core switch, reboot loop"


def test_csv_for_one_incident_round_trips(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first, _ = seed(data)
    done = export(data, "--format", "csv", "--incident", first.lower())
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert list(rows[0]) == [
        "incident",
        "incident_id",
        "incident_title",
        "at",
        "kind",
        "kind_label",
        "author",
        "text",
        "entry_id",
    ]
    assert [(r["incident"], r["kind_label"], r["text"]) for r in rows] == [
        (first, "State change", "New → In progress"),
        (first, "Work note", 'Rebooted; "line 2"\nok'),
    ]


def test_state_picks_the_incidents(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _, second = seed(data)
    done = export(data, "--state", "resolved")
    assert done.returncode == 0, done.stderr
    assert [r["incident"] for r in json.loads(done.stdout)] == [second]


def test_an_unknown_incident_says_what_to_do(tmp_path: Path) -> None:
    data = tmp_path / "data"
    seed(data)
    done = export(data, "--incident", "RT-999")
    assert done.returncode == 2
    assert "no cached incident is 'RT-999'" in done.stderr
    assert "export incidents" in done.stderr
    assert "Traceback" not in done.stderr


def test_incident_goes_with_timeline_only(tmp_path: Path) -> None:
    data = tmp_path / "data"
    seed(data)
    done = subprocess.run(
        [sys.executable, "-m", "console", "export", "incidents", "--incident", "RT-41",
         "--data-dir", str(data)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "--incident goes with `export timeline`" in done.stderr
