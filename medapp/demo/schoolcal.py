"""A US public-school calendar: year start/end, holidays, breaks, and school-time doses.

Kept local to the demo (it must not depend on the domain's schedule code, which evolves on its
own): the generator decides here which days are school days and which clock times fall in
school hours, and the logs follow from that.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from medapp.demo.base import days


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th ``weekday`` (0 = Monday) of a month; n = -1 for the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta((weekday - first.weekday()) % 7 + 7 * (n - 1))
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - timedelta(1)
    return last - timedelta((last.weekday() - weekday) % 7)


def _thanksgiving(year: int) -> date:
    return _nth_weekday(year, 11, 3, 4)


def year_end(year: int) -> date:
    """Last day of the school year ending in ``year``: June 15, or the Friday before it."""
    end = date(year, 6, 15)
    return end - timedelta(max(0, end.weekday() - 4))


def year_start(year: int) -> date:
    """First day of the school year starting in ``year``: the Wednesday 12 days before Labor Day."""
    return _nth_weekday(year, 9, 0, 1) - timedelta(12)


def current_year_end(today: date) -> date:
    """The end of the school year ``today`` belongs to (summer belongs to the next one)."""
    end = year_end(today.year)
    return end if today <= end else year_end(today.year + 1)


def _named_closures(start_year: int) -> dict[date, str]:
    """Holidays and breaks of the school year starting in ``start_year`` (weekdays only)."""
    y, n = start_year, start_year + 1
    out: dict[date, str] = {}

    def add(day: date, why: str) -> None:
        if day.weekday() < 5:
            out.setdefault(day, why)

    def span(first: date, last: date, why: str) -> None:
        for d in days(first, last):
            add(d, why)

    add(_nth_weekday(y, 9, 0, 1), "Labor Day")
    add(_nth_weekday(y, 10, 0, 2), "Indigenous Peoples' Day")
    add(_nth_weekday(y, 11, 0, 1) + timedelta(1), "Election Day (staff development, no students)")
    add(date(y, 11, 11), "Veterans Day")
    tg = _thanksgiving(y)
    span(tg - timedelta(1), tg + timedelta(1), "Thanksgiving break")
    span(date(y, 12, 23), date(n, 1, 2), "Winter break")
    add(_nth_weekday(n, 1, 0, 3), "Martin Luther King Jr. Day")
    add(_nth_weekday(n, 2, 0, 3), "Presidents' Day")
    spring = date(n, 4, 1) + timedelta((7 - date(n, 4, 1).weekday()) % 7)  # first Monday of April
    span(spring, spring + timedelta(4), "Spring break")
    add(_nth_weekday(n, 5, 0, -1), "Memorial Day")
    span(year_end(n) + timedelta(1), year_start(n) - timedelta(1), "Summer break")
    return out


def closures(first: date, last: date, today: date, rng: random.Random) -> dict[date, str]:
    """Closed weekdays between ``first`` and ``last``, with the reason.

    Snow days are drawn at random in January and February, but only in the past: nobody knows
    next winter's snow days yet.
    """
    out: dict[date, str] = {}
    for start_year in range(first.year - 1, last.year + 1):
        named = _named_closures(start_year)
        winter = [
            d
            for d in days(date(start_year + 1, 1, 8), date(start_year + 1, 2, 28))
            if d.weekday() < 5 and d not in named and d < today
        ]
        for d in rng.sample(winter, min(len(winter), rng.randint(0, 2))):
            named[d] = "Snow day"
        out.update({d: why for d, why in named.items() if first <= d <= last})
    return dict(sorted(out.items()))


@dataclass
class SchoolClock:
    """A school's hours in its own timezone, with cached UTC conversions per day."""

    timezone: str
    day_start: time
    day_end: time
    lunch_time: time
    _midnight_utc: dict[date, datetime] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.tz = ZoneInfo(self.timezone)

    def in_hours(self, wall: time) -> bool:
        return self.day_start <= wall <= self.day_end

    def base(self, day: date) -> datetime:
        """UTC instant of local midnight's wall clock shifted by noon's offset.

        Adding a wall-clock time of day to it gives the UTC instant of that local time: school
        hours never cross a DST switch (those happen at 02:00), so noon's offset holds all day.
        """
        cached = self._midnight_utc.get(day)
        if cached is None:
            offset = self.tz.utcoffset(datetime(day.year, day.month, day.day, 12))
            assert offset is not None
            cached = datetime(day.year, day.month, day.day, tzinfo=UTC) - offset
            self._midnight_utc[day] = cached
        return cached

    def at(self, day: date, wall: time) -> datetime:
        return self.base(day) + timedelta(hours=wall.hour, minutes=wall.minute)


def add_minutes(wall: time, minutes: int) -> time:
    total = wall.hour * 60 + wall.minute + minutes
    return time(total // 60, total % 60)
