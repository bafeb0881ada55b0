"""A student's own supply: how many school days it lasts and when the parent is asked for more.

Pure rules (no database): the service feeds them the count on the shelf, the order's school
doses per day and the school calendar's days, so a test can stand on any day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

__all__ = [
    "AUTHORIZATION_LETTER_DAYS",
    "DEFAULT_REFILL_SCHOOL_DAYS",
    "authorization_expiring",
    "refill_due",
    "runs_out_on",
    "school_days_left",
]

#: a refill notice when the supply lasts this many school days or fewer (issue 14)
DEFAULT_REFILL_SCHOOL_DAYS = 5
#: a letter for an authorization that expires within this many days
AUTHORIZATION_LETTER_DAYS = 30
_MAX_DAYS_AHEAD = 400  # a calendar with no school day in sight must not loop for ever


def school_days_left(quantity: int, doses_per_day: int, units_per_dose: int = 1) -> int | None:
    """Whole school days the supply covers; None when the order has no school dose to count
    (PRN, or doses given at home only): there is no rate to run out at."""
    if doses_per_day <= 0 or units_per_dose <= 0:
        return None
    return max(quantity, 0) // (doses_per_day * units_per_dose)


def refill_due(
    quantity: int,
    doses_per_day: int,
    threshold_days: int = DEFAULT_REFILL_SCHOOL_DAYS,
    units_per_dose: int = 1,
) -> bool:
    """True when the parent should be asked for a refill now (``threshold_days`` or fewer
    school days left, an empty supply included)."""
    days = school_days_left(quantity, doses_per_day, units_per_dose)
    return days is not None and days <= threshold_days


def runs_out_on(
    today: dt.date, days_left: int, is_school_day: Callable[[dt.date], bool]
) -> dt.date | None:
    """The first school day with no dose left: the ``days_left + 1``-th school day counting
    today (when today is one). None when no such day is found within a school year."""
    needed = days_left + 1
    day = today
    for _ in range(_MAX_DAYS_AHEAD):
        if is_school_day(day):
            needed -= 1
            if needed == 0:
                return day
        day += dt.timedelta(days=1)
    return None


def authorization_expiring(
    expires: dt.date | None, today: dt.date, within_days: int = AUTHORIZATION_LETTER_DAYS
) -> bool:
    """True when a parent authorization ends within ``within_days`` (or already has): the
    parent gets a letter to renew it."""
    return expires is not None and expires <= today + dt.timedelta(days=within_days)
