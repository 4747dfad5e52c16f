"""WAIT task ``duration`` and ``until`` inputs."""

from __future__ import annotations

import pytest

from legato.expr.durations import parse_duration, parse_until


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("10s", 10),
        ("1d 2h 30m", 95400),
        ("5 minutes", 300),
        ("2 hrs", 7200),
        ("1 days", 86400),
        ("1 day 1 hour 1 minute 1 second", 90061),
        ("3 mins 4 secs", 184),
        ("1D2H", 93600),
        ("  45 M  ", 2700),
        ("90 SECONDS", 90),
        ("1hr", 3600),
        ("0s", 0),
    ],
)
def test_valid_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "   ", "abc", "1h 1d", "10 ms", "1.5h", "-1s", "5", "1 week"])
def test_invalid_durations_name_the_text(text: str) -> None:
    with pytest.raises(ValueError, match="Not valid duration") as info:
        parse_duration(text)
    assert repr(text) in str(info.value)


@pytest.mark.parametrize(
    ("text", "millis"),
    [
        ("2024-01-05", 1704412800000),
        ("2024-01-05 10:30", 1704450600000),
        ("2024-01-05 10:30 UTC", 1704450600000),
        ("2024-01-05 10:30 GMT", 1704450600000),
        ("2024-01-05 10:30 +05:30", 1704430800000),
        ("2024-01-05 10:30 -0800", 1704479400000),
        ("2024-01-05 10:30 GMT+2", 1704443400000),
        ("2024-01-05 10:30 PST", 1704479400000),
        ("2024-01-05 10:30 America/New_York", 1704468600000),
        ("2024-07-05 10:30 America/New_York", 1720189800000),
        ("2024-1-5 9:05", 1704445500000),
    ],
)
def test_valid_until(text: str, millis: int) -> None:
    assert parse_until(text) == millis


@pytest.mark.parametrize(
    "text",
    [
        "",
        "tomorrow",
        "2024-02-30",
        "2024-01-05 25:00",
        "2024-01-05 10:30 Mars/Base",
        "2024-01-05T10:30",
        "2024-01-05 10",
        "2024-01-05 10:30 +25:00",
    ],
)
def test_invalid_until(text: str) -> None:
    with pytest.raises(ValueError):
        parse_until(text)
