"""A school's calendar: its timezone, school hours, lunch, closed days and dose window.

Why a value object: every rule about "today" (what is due, whether a dose is late, how many PRN
doses were given today) must use the school's own wall clock, not the PC's or UTC, and must see
the same holidays. One frozen object carries all of it, so rules cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from medapp.domain.frequency import DEFAULT_TIMES, DefaultTimes

__all__ = ["DEFAULT_DOSE_WINDOW", "EXPIRY_WARNING_DAYS", "SchoolCalendar", "require_aware"]

DEFAULT_DOSE_WINDOW = timedelta(minutes=60)
"""±60 minutes around a scheduled dose: the common district rule (configurable per school)."""

EXPIRY_WARNING_DAYS = 14
"""Authorization-expiry warnings start this many days before the last authorized day."""


def require_aware(value: datetime, name: str) -> None:
    """Refuse naive datetimes: a dose time without a timezone is ambiguous around DST."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")


@dataclass(frozen=True)
class SchoolCalendar:
    """School hours and days as the dose rules see them.

    ``day_start``/``day_end`` bound the doses a school nurse gives (both inclusive);
    ``lunch_time`` is what "with lunch" means at this school; ``closed_dates`` are holidays,
    breaks and snow days; ``weekend_days`` default to Saturday and Sunday; ``dose_window`` is how
    far either side of a scheduled time a dose still counts as on time; ``school_year_end`` is
    the default authorization expiry (parent consent and prescriber order lapse with the year).
    """

    timezone: str = "America/New_York"
    day_start: time = time(8, 0)
    day_end: time = time(15, 0)
    lunch_time: time = time(12, 0)
    closed_dates: frozenset[date] = field(default_factory=frozenset)
    weekend_days: frozenset[int] = frozenset({5, 6})
    dose_window: timedelta = DEFAULT_DOSE_WINDOW
    school_year_end: date | None = None
    expiry_warning_days: int = EXPIRY_WARNING_DAYS

    def __post_init__(self) -> None:
        if self.day_end <= self.day_start:
            raise ValueError("The school day must end after it starts.")
        if self.dose_window <= timedelta(0):
            raise ValueError("The dose window must be positive.")
        if not self.weekend_days <= frozenset(range(7)):
            raise ValueError("Weekend days are 0 (Monday) ... 6 (Sunday).")
        if self.expiry_warning_days < 0:
            raise ValueError("The expiry warning period cannot be negative.")
        ZoneInfo(self.timezone)  # fail now, not at the first dose, on a misspelt zone

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def time_defaults(self) -> DefaultTimes:
        """Parser defaults for this school: "with lunch" means this school's lunch time."""
        if self.lunch_time == DEFAULT_TIMES.lunch:
            return DEFAULT_TIMES
        return replace(DEFAULT_TIMES, lunch=self.lunch_time)

    @cached_property
    def interval_dose_bounds(self) -> tuple[int, int]:
        """First and last minute of the day (00:00 = 0) at which a dose of a short fixed
        interval (q6h, q4h, ...) is a school dose: its whole ± dose window lies inside school
        hours, so the family cannot give it on time before or after school. An empty range
        (first > last) when the window is as long as the day."""
        window = int(self.dose_window.total_seconds() // 60)
        first = self.day_start.hour * 60 + self.day_start.minute + window
        last = self.day_end.hour * 60 + self.day_end.minute - window
        return first, last

    def is_school_day(self, day: date) -> bool:
        return day.weekday() not in self.weekend_days and day not in self.closed_dates

    def in_school_hours(self, at: time) -> bool:
        return self.day_start <= at <= self.day_end

    def local_date(self, moment: datetime) -> date:
        """The school-local calendar date of an instant ("today" at this school)."""
        require_aware(moment, "moment")
        return moment.astimezone(self.tz).date()

    def at(self, day: date, wall: time) -> datetime:
        """The instant a school-local wall-clock time happens on ``day``.

        Around DST the wall clock is not one-to-one: a time that does not exist (02:30 on the
        spring-forward day) moves forward by the gap (03:30); a time that happens twice (01:30
        on the fall-back day) is its first occurrence. School hours never touch either case,
        but the rule is stated so every caller converts the same way.
        """
        naive = datetime.combine(day, wall)
        aware = naive.replace(tzinfo=self.tz)
        return aware.astimezone(UTC).astimezone(self.tz)

    def start_of_day(self, day: date) -> datetime:
        return self.at(day, time(0, 0))

    def next_day_start(self, moment: datetime) -> datetime:
        """Midnight (school-local) after ``moment``: when a calendar-day maximum resets."""
        return self.start_of_day(self.local_date(moment) + timedelta(days=1))

    def authorization_end(self, explicit: date | None) -> date | None:
        """Last authorized day: the prescription's own date, else the end of the school year."""
        return explicit if explicit is not None else self.school_year_end
