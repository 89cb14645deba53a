"""settings.toml: defaults, a full file, and typos reported with the key and allowed values."""

from __future__ import annotations

import tomllib
from datetime import date, time, timedelta
from pathlib import Path

import pytest

from console.config.settings import (
    Settings,
    SettingsError,
    Theme,
    load_settings,
    save_theme,
    settings_path,
)

FULL = """\
# The NOC floor's console.
theme = "dark"
poll_interval_seconds = 30
backends = ["https://noc.example.com/", "http://127.0.0.1:8080"]

[sla.calendar]
time_zone = "Europe/Madrid"
weekdays = ["mon", "tue", "wed", "thu", "fri"]
day_start = "08:00"
day_end = "18:00"
holidays = ["2026-12-25", "2027-01-01"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_missing_file_means_the_defaults(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "settings.toml")
    assert settings == Settings(path=tmp_path / "settings.toml")
    assert settings.theme is Theme.LIGHT
    assert settings.sla_calendar is None
    assert settings.backends == ()


def test_settings_live_in_the_config_dir(tmp_path: Path) -> None:
    assert settings_path(tmp_path) == tmp_path / "settings.toml"


def test_a_full_file_is_read(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, FULL))
    assert settings.theme is Theme.DARK
    assert settings.poll_interval == timedelta(seconds=30)
    assert settings.backends == ("https://noc.example.com", "http://127.0.0.1:8080")
    calendar = settings.sla_calendar
    assert calendar is not None
    assert calendar.time_zone == "Europe/Madrid"
    assert calendar.day_start == time(8, 0)
    assert calendar.day_end == time(18, 0)
    assert calendar.weekdays == frozenset(range(5))
    assert date(2026, 12, 25) in calendar.holidays


TYPOS = [
    pytest.param(
        'theem = "dark"', "theem", ["unknown key", "theme", "poll_interval_seconds"], id="key"
    ),
    pytest.param('theme = "drak"', "theme", ["'drak'", "allowed: light, dark, wall"], id="theme"),
    pytest.param("theme = 1", "theme", ["allowed: light, dark, wall"], id="theme-type"),
    pytest.param(
        'poll_interval_seconds = "fast"',
        "poll_interval_seconds",
        ["'fast'", "from 1 to 3600"],
        id="poll-type",
    ),
    pytest.param(
        "poll_interval_seconds = 0", "poll_interval_seconds", ["from 1 to 3600"], id="poll"
    ),
    pytest.param(
        'backends = "https://noc.example.com"', "backends", ["not a list"], id="backends-type"
    ),
    pytest.param('backends = ["noc.example.com"]', "backends[0]", ["https://"], id="backend-url"),
    pytest.param(
        "[sla]\nkalendar = {}", "sla.kalendar", ["unknown key", "sla.calendar"], id="sla-key"
    ),
    pytest.param(
        '[sla.calendar]\ntime_zone = "Europe/Madrid"\nday_end = "25:00"',
        "sla.calendar.day_end",
        ["'25:00'", "HH:MM"],
        id="day-end",
    ),
    pytest.param(
        '[sla.calendar]\ntime_zone = "Europe/Madrid"\nweekdays = ["mon", "funday"]',
        "sla.calendar.weekdays",
        ["'funday'", "mon, tue, wed, thu, fri, sat, sun"],
        id="weekday",
    ),
    pytest.param(
        '[sla.calendar]\ntime_zone = "Europe/Madird"',
        "sla.calendar.time_zone",
        ["'Europe/Madird'", "IANA time zone"],
        id="time-zone",
    ),
    pytest.param(
        '[sla.calendar]\ntime_zone = "UTC"\nopening = "09:00"',
        "sla.calendar.opening",
        ["unknown key", "day_start", "day_end", "holidays"],
        id="calendar-key",
    ),
]


@pytest.mark.parametrize(("text", "key", "expected"), TYPOS)
def test_a_typo_names_file_key_and_allowed_values(
    tmp_path: Path, text: str, key: str, expected: list[str]
) -> None:
    path = write(tmp_path, text + "\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert str(path) in message
    assert f"key '{key}'" in message
    assert caught.value.key == key
    for words in expected:
        assert words in message, message


def test_broken_toml_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'theme = "dark\n')
    with pytest.raises(SettingsError, match=r"not valid TOML .*line 1") as caught:
        load_settings(path)
    assert str(path) in str(caught.value)


def test_saving_the_theme_keeps_everything_else(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    save_theme(path, Theme.WALL)
    text = path.read_text(encoding="utf-8")
    assert text == FULL.replace('theme = "dark"', 'theme = "wall"')
    assert load_settings(path).theme is Theme.WALL


def test_saving_the_theme_adds_it_before_the_first_table(tmp_path: Path) -> None:
    path = write(tmp_path, FULL.replace('theme = "dark"\n', ""))
    save_theme(path, Theme.DARK)
    settings = load_settings(path)
    assert settings.theme is Theme.DARK
    assert settings.sla_calendar is not None  # still read as a table, not swallowed by it
    assert "# The NOC floor's console." in path.read_text(encoding="utf-8")


def test_saving_the_theme_creates_the_file(tmp_path: Path) -> None:
    path = tmp_path / "new" / "settings.toml"
    save_theme(path, Theme.DARK)
    assert tomllib.loads(path.read_text(encoding="utf-8")) == {"theme": "dark"}
