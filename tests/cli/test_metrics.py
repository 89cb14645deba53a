"""``noc-console metrics`` run as a user runs it: a real process over a real cache file."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench._metrics_data import Generated
from console.domain import metrics as m
from console.store import Cache
from console.store import metrics as cache_metrics
from tests.helpers.metrics import load_cache


def metrics(data: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console", "metrics", "--data-dir", str(data), *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def data(tmp_path: Path, generated: list[Generated]) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    with Cache.open(folder / "cache.db") as cache:
        load_cache(cache, generated)
    return folder


def test_json_is_the_server_shape_and_matches_the_cache_path(data: Path) -> None:
    done = metrics(data, "--from", "2026-09-01", "--to", "2026-11-30", "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert set(report) >= {"from", "to", "group_by", "groups", "total", "warnings"}
    assert [g["key"] for g in report["groups"]] == ["SEV-1", "SEV-2", "SEV-3", "SEV-4"]
    assert sum(g["count"] for g in report["groups"]) == report["total"]["count"] > 1000
    with Cache.open(data / "cache.db") as cache:
        expected = cache_metrics.compute(cache, m.make_window("2026-09-01", "2026-11-30"))
    # The backlog is counted at "now", which moved between the two calls by a few ms.
    assert {k: v for k, v in report.items() if k != "backlog"} == {
        k: v for k, v in expected.items() if k != "backlog"
    }


def test_csv_has_a_row_per_group_and_a_total(data: Path) -> None:
    done = metrics(
        data, "--from", "2026-09-01", "--to", "2026-11-30", "--by", "period", "--period", "month",
        "--format", "csv",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [r["key"] for r in rows] == ["2026-09", "2026-10", "2026-11", "TOTAL"]
    assert float(rows[-1]["mttr_mean_s"]) > 0
    assert 0 < float(rows[-1]["fcr"]) < 1


def test_business_hours_mttr_on_the_settings_calendar(data: Path, tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "settings.toml").write_text(
        '[sla.calendar]\ntime_zone = "America/Los_Angeles"\nday_start = "08:00"\n'
        'day_end = "18:00"\n',
        encoding="utf-8",
    )
    argv = ("--from", "2026-09-01", "--to", "2026-11-30", "--format", "csv")
    default = list(csv.DictReader(io.StringIO(metrics(data, *argv).stdout)))[-1]
    done = metrics(data, *argv, "--config-dir", str(config))
    assert done.returncode == 0, done.stderr
    total = list(csv.DictReader(io.StringIO(done.stdout)))[-1]
    # Ten working hours a day rather than eight: more of each incident counts.
    assert float(default["mttr_business_mean_s"]) < float(total["mttr_business_mean_s"])
    assert float(total["mttr_business_mean_s"]) < float(total["mttr_mean_s"])
    (config / "settings.toml").write_text(
        '[sla.calendar]\ntime_zone = "Mars/Olympus_Mons"\n', encoding="utf-8"
    )
    bad = metrics(data, *argv, "--config-dir", str(config))
    assert bad.returncode == 2
    assert "sla.calendar.time_zone" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_table_is_readable(data: Path) -> None:
    done = metrics(data, "--from", "2026-09-01", "--to", "2026-11-30", "--by", "source")
    assert done.returncode == 0, done.stderr
    assert "monitoring" in done.stdout
    assert "TOTAL" in done.stdout
    assert "Open backlog by age" in done.stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--from", "2026-11-30", "--to", "2026-11-01"), "from must be before to"),
        (("--by", "colour"), "group_by: 'colour' is not known"),
        (("--from", "1990-01-01", "--to", "2090-01-01"), "at most 366 days"),
        (("--from", "yesterday"), "is not a date"),
        (("--by", "period", "--period", "fortnight"), "period: 'fortnight' is not known"),
        (("--sev1-threshold", "5"), "share from 0 to 1"),
    ],
)
def test_bad_input_is_a_clear_error(data: Path, argv: tuple[str, ...], message: str) -> None:
    done = metrics(data, *argv)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_without_a_cache_it_says_to_sync_first(tmp_path: Path) -> None:
    done = metrics(tmp_path / "empty")
    assert done.returncode == 2
    assert "noc-console sync --once" in done.stderr
