"""WAIT task inputs (spec 3.10): ``duration`` and ``until`` texts, as ``DateTimeUtils`` reads them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["parse_duration", "parse_until"]

# Conductor's pattern: optional parts in the fixed order days, hours, minutes, seconds.
_DURATION = re.compile(
    r"\s*(?:(?P<days>[0-9]+)\s*(?:days?|d))?"
    r"\s*(?:(?P<hours>[0-9]+)\s*(?:hours?|hrs?|h))?"
    r"\s*(?:(?P<minutes>[0-9]+)\s*(?:minutes?|mins?|m))?"
    r"\s*(?:(?P<seconds>[0-9]+)\s*(?:seconds?|secs?|s))?"
    r"\s*",
    re.IGNORECASE,
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UNIT_SECONDS = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}

_UNTIL = re.compile(
    r"\s*(?P<year>[0-9]{4})-(?P<month>[0-9]{1,2})-(?P<day>[0-9]{1,2})"
    r"(?:\s+(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{1,2})(?:\s+(?P<zone>\S+))?)?\s*"
)
_OFFSET = re.compile(r"(?:GMT|UTC|UT)?(?P<sign>[+-])(?P<hh>[0-9]{1,2})(?::?(?P<mm>[0-9]{2}))?")

# Fixed offsets for the abbreviations people write (Java resolves these through its own table).
_ABBREVIATIONS: dict[str, float] = {
    "UTC": 0, "GMT": 0, "UT": 0, "Z": 0, "WET": 0, "BST": 1, "CET": 1, "CEST": 2, "WEST": 1,
    "EET": 2, "EEST": 3, "MSK": 3, "IST": 5.5, "PKT": 5, "ICT": 7, "WIB": 7, "HKT": 8,
    "SGT": 8, "AWST": 8, "JST": 9, "KST": 9, "ACST": 9.5, "AEST": 10, "AEDT": 11, "NZST": 12,
    "NZDT": 13, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8,
    "PDT": -7, "AKST": -9, "AKDT": -8, "HST": -10, "AST": -4, "ADT": -3, "NST": -3.5,
    "NDT": -2.5, "BRT": -3, "ART": -3,
}  # fmt: skip


def parse_duration(text: str) -> int:
    """Seconds in ``"1d 2h 30m"``, ``"10s"``, ``"5 minutes"``, ``"2 hrs"``... (case-insensitive).

    Raises ``ValueError`` for text that does not match, or that names no amount at all.
    """
    match = _DURATION.fullmatch(text)
    if match is None or not any(match.groupdict().values()):
        raise ValueError(f"Not valid duration: {text!r}")
    return sum(
        int(amount) * _UNIT_SECONDS[unit]
        for unit, amount in match.groupdict().items()
        if amount is not None
    )


def parse_until(text: str) -> int:
    """Epoch milliseconds of ``yyyy-MM-dd HH:mm``, ``yyyy-MM-dd HH:mm z`` or ``yyyy-MM-dd``.

    No zone means UTC. A zone is an abbreviation (``UTC``, ``GMT``, ``EST``...), an offset
    (``+05:30``, ``-0800``, ``GMT+2``) or an IANA name (``Europe/Paris``). Raises ``ValueError``.
    """
    match = _UNTIL.fullmatch(text)
    if match is None:
        raise ValueError(f"Not a valid date: {text!r}; expected yyyy-MM-dd[ HH:mm[ zone]]")
    fields = match.groupdict()
    zone = _zone(fields["zone"], text) if fields["zone"] else UTC
    try:
        moment = datetime(
            int(fields["year"]),
            int(fields["month"]),
            int(fields["day"]),
            int(fields["hour"] or 0),
            int(fields["minute"] or 0),
            tzinfo=zone,
        )
    except ValueError as exc:
        raise ValueError(f"Not a valid date: {text!r}: {exc}") from exc
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def _zone(name: str, text: str) -> tzinfo:
    upper = name.upper()
    if upper in _ABBREVIATIONS:
        return timezone(timedelta(hours=_ABBREVIATIONS[upper]))
    offset = _OFFSET.fullmatch(upper)
    if offset is not None:
        hours, minutes = int(offset["hh"]), int(offset["mm"] or 0)
        if hours > 18 or minutes > 59:
            raise ValueError(f"Not a valid time zone offset in {text!r}")
        delta = timedelta(hours=hours, minutes=minutes)
        return timezone(-delta if offset["sign"] == "-" else delta)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"Unknown time zone {name!r} in {text!r}") from exc
