"""The one formatter of spans and moments (console/domain/text.py).

Each screen's form is pinned here once: the queue's long form, the wall's short
form and the escalation paths' terse form, each with its rounding rule, plus
the clock, a person's local time and ages. The screens' own tests pin the same
texts through the screens.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from console.domain.text import age_text, clock_text, duration_text, file_stamp, local_time_text

MIN = timedelta(minutes=1)


@pytest.mark.parametrize(
    ("span", "long", "short", "terse"),
    [
        (timedelta(0), "0 min", "0 min", "0 s"),
        (timedelta(seconds=45), "0 min", "0 min", "45 s"),
        (45 * MIN, "45 min", "45 min", "45 min"),
        (60 * MIN, "1 h 00 min", "1 h 00", "1 h"),
        (185 * MIN, "3 h 05 min", "3 h 05", "3 h 5 min"),
        (timedelta(days=2, hours=4, minutes=59), "2 d 4 h", "2 d 4 h", "2 d 4 h"),
        (timedelta(days=2), "2 d 0 h", "2 d 0 h", "2 d"),
    ],
)
def test_the_three_forms_rounded_down(span: timedelta, long: str, short: str, terse: str) -> None:
    assert duration_text(span) == long
    assert duration_text(span, form="short") == short
    assert duration_text(span, form="terse") == terse


@pytest.mark.parametrize(
    ("seconds", "full", "compact"),
    [
        (0, "0 s", "0m 00s"),
        (30, "30 s", "0m 30s"),
        (95, "1 min", "1m 35s"),
        (240, "4 min", "4m 00s"),
        (3900, "1 h 05 min", "1h 05m"),
        (90_000, "1 d 1 h 00 min", "1d 01h"),
        (3 * 86_400 + 4 * 3600 + 59 * 60, "3 d 4 h 59 min", "3d 04h"),
    ],
)
def test_the_review_and_metrics_forms(seconds: int, full: str, compact: str) -> None:
    """``full``: a review's record (no minute dropped); ``compact``: the metrics columns."""
    assert duration_text(timedelta(seconds=seconds), form="full") == full
    assert duration_text(timedelta(seconds=seconds), form="compact") == compact


def test_rounding_down_never_shows_more_time_than_there_is() -> None:
    assert duration_text(59 * MIN + timedelta(seconds=59)) == "59 min"
    assert duration_text(timedelta(hours=23, minutes=59, seconds=59), form="short") == "23 h 59"


def test_rounding_up_never_says_in_0_min() -> None:
    assert duration_text(timedelta(seconds=61), form="terse", rounding="up") == "2 min"
    assert duration_text(timedelta(seconds=0.2), form="terse", rounding="up") == "1 s"
    assert duration_text(89 * MIN + timedelta(seconds=1), form="terse", rounding="up") == (
        "1 h 30 min"
    )
    assert duration_text(timedelta(seconds=1), rounding="up") == "1 min"


def test_a_negative_span_is_0_min_in_the_clock_forms_and_signed_in_the_terse_one() -> None:
    assert duration_text(-5 * MIN) == "0 min"
    assert duration_text(-5 * MIN, form="short") == "0 min"
    assert duration_text(-90 * MIN, form="terse", rounding="up") == "-1 h 30 min"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "just now"),
        (4.9, "just now"),
        (42.7, "42 s ago"),
        (7 * 60 + 59, "7 min ago"),
        (2 * 3600 + 5 * 60, "2 h 05 min ago"),
    ],
)
def test_ages(seconds: float, text: str) -> None:
    assert age_text(seconds) == text


AT = datetime(2026, 12, 7, 13, 5, 9, tzinfo=UTC)  # a Monday
CET = timezone(timedelta(hours=1), "CET")


def test_clock_text_in_a_given_zone() -> None:
    assert clock_text(AT, CET) == "14:05"
    assert clock_text(AT, CET, seconds=True) == "14:05:09"
    assert clock_text(AT, CET, day=True) == "Mon 14:05"
    assert clock_text(AT, CET, date=True) == "Mon 07 Dec 14:05"
    assert clock_text(AT, CET, date=True, seconds=True) == "Mon 07 Dec 14:05:09"
    assert clock_text(AT, CET, show_zone=True) == "14:05 CET"
    assert clock_text(AT, CET, day=True, show_zone=True) == "Mon 14:05 CET"
    assert clock_text(AT, CET, date=True, year=True, show_zone=True) == "Mon 07 Dec 2026 14:05 CET"
    assert clock_text(AT, CET, date=True, weekday=False) == "07 Dec 14:05"


def test_file_stamp_sorts_by_time() -> None:
    assert file_stamp(AT, CET) == "20261207-1405"
    assert file_stamp(AT) == f"{AT.astimezone():%Y%m%d-%H%M}"


def test_clock_text_without_a_zone_is_the_viewers_clock() -> None:
    assert clock_text(AT, seconds=True) == f"{AT.astimezone():%H:%M:%S}"


def test_local_time_text_names_the_city() -> None:
    assert local_time_text("Asia/Kolkata", AT) == "Mon 18:35 · Kolkata"
    assert local_time_text("America/New_York", AT) == "Mon 08:05 · New York"


def test_local_time_text_without_a_known_zone() -> None:
    assert local_time_text(None, AT) == ""
    assert local_time_text("", AT) == ""
    assert local_time_text("Mars/Olympus", AT) == "Mars/Olympus"
