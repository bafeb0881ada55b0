"""The end of the school day: when a day closes, which doses become MISSED records, and how the
day's doses are summed up for the nurse.

Why here: "missed" must mean the same thing on screen, in the MISSED records the close writes
and in the printed end-of-day report, so the rules are pure functions used by all three.

* A school day closes ``grace`` (default 30 minutes) after the last dose window of the day
  closes: the latest scheduled school dose + the school's dose window + grace. A day without
  school doses closes at the end of the school day + grace.
* At the close, every scheduled dose whose status is MISSED (window passed, nothing current
  recorded) gets a MISSED record whose id is derived from the order and the dose time
  (:func:`missed_log_id`), so closing the day twice — on two PCs, or after a crash — writes one.
* The summary classifies each scheduled dose once: given (on time), late, missed, not given
  (with its reason) or still open (upcoming/due, when the summary is asked for early).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from medapp.domain.doses import DoseStatus
from medapp.domain.school import SchoolCalendar, require_aware

__all__ = [
    "DEFAULT_GRACE",
    "MISSED_NAMESPACE",
    "DaySummaryCounts",
    "close_moment",
    "missed_log_id",
    "missed_note",
    "summarize",
]

DEFAULT_GRACE = timedelta(minutes=30)
"""How long after the last dose window the day stays open for late documentation."""

#: uuid5 namespace of MISSED record ids (fixed forever: ids must be the same on every PC).
MISSED_NAMESPACE = uuid.UUID("6f1d8d8e-3c1b-5b8e-9a51-0e0d6c2f4a11")


def close_moment(
    calendar: SchoolCalendar,
    day: date,
    dose_times: Iterable[datetime],
    grace: timedelta = DEFAULT_GRACE,
) -> datetime:
    """When ``day`` closes at this school: the last dose's window end + ``grace``, or (no
    doses) the end of the school day + ``grace``."""
    if grace < timedelta(0):
        raise ValueError("The end-of-day grace cannot be negative.")
    times = list(dose_times)
    for t in times:
        require_aware(t, "dose time")
    if times:
        return max(times) + calendar.dose_window + grace
    end = datetime.combine(day, calendar.day_end, calendar.tz)
    return end + grace


def missed_log_id(prescription_id: Hashable, scheduled_for: datetime) -> uuid.UUID:
    """The id of the MISSED record of one dose: the same for the same order and dose on
    every PC and every run (the instant, not its timezone spelling, names the dose)."""
    require_aware(scheduled_for, "scheduled_for")
    instant = int(scheduled_for.timestamp())
    return uuid.uuid5(MISSED_NAMESPACE, f"{prescription_id}|{instant}")


def missed_note(closed_at_local: str, username: str) -> str:
    """The system note a MISSED record carries (no student data: ids and times only)."""
    return (
        f"System: end-of-day close — no dose documented by {closed_at_local}. "
        f"Run at the desk of {username}."
    )


@dataclass(frozen=True)
class DaySummaryCounts:
    """Each scheduled dose counted once; ``not_given_reasons`` splits ``not_given``."""

    given: int = 0
    late: int = 0
    missed: int = 0
    not_given: int = 0
    open: int = 0
    not_given_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.given + self.late + self.missed + self.not_given + self.open


def summarize(doses: Iterable[tuple[DoseStatus, str | None]]) -> DaySummaryCounts:
    """Count the day's scheduled doses by outcome. ``doses``: (status, not-given reason)."""
    counts: Counter[DoseStatus] = Counter()
    reasons: Counter[str] = Counter()
    for status, reason in doses:
        counts[status] += 1
        if status is DoseStatus.NOT_GIVEN:
            reasons[reason or "OTHER"] += 1
    return DaySummaryCounts(
        given=counts[DoseStatus.COMPLETED],
        late=counts[DoseStatus.LATE],
        missed=counts[DoseStatus.MISSED],
        not_given=counts[DoseStatus.NOT_GIVEN],
        open=counts[DoseStatus.UPCOMING] + counts[DoseStatus.DUE],
        not_given_reasons=dict(sorted(reasons.items())),
    )
