"""Small helpers shared by the domain tests."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

NY = ZoneInfo("America/New_York")


def ny(day: date, hh: int, mm: int = 0) -> datetime:
    """An aware New York datetime (the test school's timezone)."""
    return datetime.combine(day, time(hh, mm), tzinfo=NY)
