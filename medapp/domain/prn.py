"""As-needed (PRN) limits: the minimum interval between doses and the daily maximum.

Why a separate rule: a PRN dose has no schedule to match, so the only protection against an
overdose is these two limits. ``check_prn`` says whether a dose at a given time keeps both, and
when it refuses, why and the earliest time that would keep them — so the nurse can tell a
student "come back at 14:05" rather than guess.

How "per day" is counted: in the school-local calendar day of the dose (midnight to midnight
at the school), because that is how orders are read ("max 2 per day") and how the day's
report adds up. When the order says "in 24 hours" (``Frequency.max_rolling_24h``) the count is
over the 24 hours before the dose instead, which is stricter across midnight.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from medapp.domain.doses import DoseLog, LogStatus, current_logs
from medapp.domain.frequency import Frequency
from medapp.domain.school import SchoolCalendar, require_aware

__all__ = ["PrnDecision", "PrnLimits", "PrnRule", "check_prn"]

_DAY = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class PrnLimits:
    """The two PRN limits; either may be absent (no limit of that kind)."""

    min_interval: timedelta | None = None
    max_per_day: int | None = None
    rolling_24h: bool = False

    def __post_init__(self) -> None:
        if self.min_interval is not None and self.min_interval <= timedelta(0):
            raise ValueError("The minimum interval must be positive.")
        if self.max_per_day is not None and self.max_per_day < 1:
            raise ValueError("The daily maximum must be at least 1.")

    @classmethod
    def of(cls, frequency: Frequency) -> PrnLimits:
        return cls(frequency.min_interval, frequency.max_per_day, frequency.max_rolling_24h)


class PrnRule(StrEnum):
    MIN_INTERVAL = "PRN_MIN_INTERVAL"
    MAX_PER_DAY = "PRN_MAX_PER_DAY"


@dataclass(frozen=True, slots=True)
class PrnDecision:
    """Whether a PRN dose at ``at`` keeps the limits.

    When refused: ``rules`` broken, a ``reason`` for the nurse, and ``earliest_allowed`` — the
    first moment both limits are kept again. ``last_given`` is the most recent dose counted.
    """

    allowed: bool
    rules: tuple[PrnRule, ...] = ()
    reason: str = ""
    earliest_allowed: datetime | None = None
    doses_counted: int = 0
    last_given: DoseLog | None = None


def check_prn(
    limits: PrnLimits | Frequency,
    logs: Iterable[DoseLog],
    at: datetime,
    calendar: SchoolCalendar,
) -> PrnDecision:
    """Check a PRN dose at ``at`` against the limits and the prescription's logs.

    Only current GIVEN logs count (corrected and not-given records do not). Logs after ``at``
    count too, so a back-dated entry cannot squeeze between two doses.
    """
    require_aware(at, "at")
    if isinstance(limits, Frequency):
        limits = PrnLimits.of(limits)
    given = sorted(
        (log for log in current_logs(logs) if log.status is LogStatus.GIVEN),
        key=lambda log: log.time_given,
    )
    last = given[-1] if given else None
    broken, earliest, counted = _violations(limits, given, at, calendar)
    if not broken:
        return PrnDecision(True, doses_counted=counted, last_given=last)
    # Move forward until both limits hold; each step jumps to the latest earliest time, and the
    # limits only loosen as time passes, so this ends in a few steps.
    candidate = earliest
    for _ in range(8):
        more, later, _n = _violations(limits, given, candidate, calendar)
        if not more:
            break
        candidate = later
    reason = _reason(limits, broken, given, at, candidate, counted, calendar)
    return PrnDecision(False, tuple(broken), reason, candidate, counted, last)


def _violations(
    limits: PrnLimits, given: list[DoseLog], at: datetime, calendar: SchoolCalendar
) -> tuple[list[PrnRule], datetime, int]:
    broken: list[PrnRule] = []
    earliest = at
    if limits.min_interval is not None and given:
        gap = limits.min_interval
        if any(abs(at - log.time_given) < gap for log in given):
            broken.append(PrnRule.MIN_INTERVAL)
            earliest = max(earliest, max(log.time_given for log in given) + gap)
    counted = 0
    if limits.max_per_day is not None:
        if limits.rolling_24h:
            window = [log.time_given for log in given if at - _DAY < log.time_given <= at]
            counted = len(window)
            if counted >= limits.max_per_day:
                broken.append(PrnRule.MAX_PER_DAY)
                earliest = max(earliest, window[counted - limits.max_per_day] + _DAY)
        else:
            day = calendar.local_date(at)
            counted = sum(1 for log in given if calendar.local_date(log.time_given) == day)
            if counted >= limits.max_per_day:
                broken.append(PrnRule.MAX_PER_DAY)
                earliest = max(earliest, calendar.next_day_start(at))
    return broken, earliest, counted


def _hhmm(moment: datetime, calendar: SchoolCalendar) -> str:
    return moment.astimezone(calendar.tz).strftime("%H:%M")


def _when(moment: datetime, at: datetime, calendar: SchoolCalendar) -> str:
    local = moment.astimezone(calendar.tz)
    if local.date() == calendar.local_date(at):
        return local.strftime("%H:%M")
    return local.strftime("%a %Y-%m-%d %H:%M")


def _reason(
    limits: PrnLimits,
    broken: list[PrnRule],
    given: list[DoseLog],
    at: datetime,
    earliest: datetime,
    counted: int,
    calendar: SchoolCalendar,
) -> str:
    parts: list[str] = []
    last = given[-1]
    by = f" by {last.nurse_name}" if last.nurse_name else ""
    if PrnRule.MIN_INTERVAL in broken and limits.min_interval is not None:
        hours = limits.min_interval.total_seconds() / 3600
        parts.append(
            f"Too soon: last given at {_hhmm(last.time_given, calendar)}{by}; doses must be at "
            f"least {hours:g} hours apart."
        )
    if PrnRule.MAX_PER_DAY in broken and limits.max_per_day is not None:
        period = "in 24 hours" if limits.rolling_24h else "today"
        parts.append(
            f"Daily maximum reached: {counted} of {limits.max_per_day} doses {period} (last at "
            f"{_hhmm(last.time_given, calendar)}{by})."
        )
    parts.append(f"Next allowed at {_when(earliest, at, calendar)}.")
    return " ".join(parts)
