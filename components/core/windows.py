"""Backup and maintenance windows as AWS writes them, parsed and checked without any AWS call.

RDS and ElastiCache take a daily backup window `hh:mm-hh:mm` and a weekly maintenance window
`ddd:hh:mm-ddd:hh:mm`, both in UTC, at least 30 minutes long. AWS rejects a maintenance window that
overlaps the backup window; checking it here means the stack file is rejected first, with the key
named, instead of a failed `pulumi up` half way through.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

__all__ = [
    "DAYS",
    "MIN_WINDOW_MINUTES",
    "DailyWindow",
    "WeeklyWindow",
    "daily_minutes",
    "overlaps",
    "weekly_minutes",
]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
#: The shortest window RDS and ElastiCache accept.
MIN_WINDOW_MINUTES = 30

_CLOCK = r"([01]\d|2[0-3]):([0-5]\d)"
_DAILY = re.compile(rf"^{_CLOCK}-{_CLOCK}$")
_WEEKLY = re.compile(rf"^({'|'.join(DAYS)}):{_CLOCK}-({'|'.join(DAYS)}):{_CLOCK}$")

#: A span of minutes [start, end) on a circle of `period` minutes (a day or a week).
Span = tuple[int, int, int]


def _span(start: int, end: int, period: int, text: str) -> Span:
    length = (end - start) % period
    if length < MIN_WINDOW_MINUTES:
        raise ValueError(f"window {text!r} is {length} minutes long; AWS needs at least {MIN_WINDOW_MINUTES}")
    return start, length, period


def daily_minutes(window: str) -> Span:
    """`03:00-04:00` → (start minute of the day, length, 1440); raises ValueError when malformed."""
    match = _DAILY.match(window)
    if not match:
        raise ValueError(
            f"{window!r} is not a daily window; write it as hh:mm-hh:mm in UTC, e.g. 03:00-04:00"
        )
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    return _span(h1 * 60 + m1, h2 * 60 + m2, MINUTES_PER_DAY, window)


def weekly_minutes(window: str) -> Span:
    """`sun:05:00-sun:06:00` → (start minute of the week, length, 10080)."""
    match = _WEEKLY.match(window)
    if not match:
        raise ValueError(
            f"{window!r} is not a weekly window; write it as ddd:hh:mm-ddd:hh:mm in UTC, "
            "e.g. sun:05:00-sun:06:00"
        )
    d1, h1, m1, d2, h2, m2 = match.groups()
    start = DAYS.index(d1) * MINUTES_PER_DAY + int(h1) * 60 + int(m1)
    end = DAYS.index(d2) * MINUTES_PER_DAY + int(h2) * 60 + int(m2)
    return _span(start, end, MINUTES_PER_WEEK, window)


def overlaps(daily: str, weekly: str) -> bool:
    """Whether a daily window meets a weekly one on any day of the week (both in UTC)."""
    d_start, d_length, _ = daily_minutes(daily)
    w_start, w_length, _ = weekly_minutes(weekly)
    for day in range(7):
        start = day * MINUTES_PER_DAY + d_start
        # Two spans on the week's circle meet when either starts inside the other.
        if (start - w_start) % MINUTES_PER_WEEK < w_length or (w_start - start) % MINUTES_PER_WEEK < d_length:
            return True
    return False


def _check_daily(window: str) -> str:
    daily_minutes(window)
    return window


def _check_weekly(window: str) -> str:
    weekly_minutes(window)
    return window


#: `hh:mm-hh:mm` (UTC, ≥ 30 minutes).
DailyWindow = Annotated[str, AfterValidator(_check_daily)]
#: `ddd:hh:mm-ddd:hh:mm` (UTC, ≥ 30 minutes).
WeeklyWindow = Annotated[str, AfterValidator(_check_weekly)]
