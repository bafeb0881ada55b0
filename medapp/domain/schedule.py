"""What is due at school: a prescription + the school calendar + a date -> the day's doses.

A school nurse gives only the doses that fall in school hours on school days. This module turns
a prescription (its frequency text or explicit administration times, start/end dates,
authorization expiry) into the scheduled doses of one day, plus flags the UI shows when there is
nothing to give and why (ended, authorization expired, not a school day, frequency not
understood, ...). An unparseable frequency never becomes a 9 am default: it is a flag carrying
the parser's message.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from medapp.domain.frequency import Frequency, FrequencyError, parse_frequency
from medapp.domain.school import SchoolCalendar, require_aware

__all__ = [
    "DayPlan",
    "PlanFlag",
    "PlanFlagCode",
    "Prescription",
    "ScheduledDose",
    "authorization_status",
    "doses_due_at_school",
    "effective_frequency",
]


@dataclass(frozen=True)
class Prescription:
    """One student's order for one medication, as the rules need it (mirrors
    ``student_medications``).

    * ``frequency``: the prescriber's wording ("2 puffs q4h prn wheezing").
    * ``administration_times``: explicit school times; when set they win over parsed times.
    * ``start_date``/``end_date``: first and last dosing day (inclusive).
    * ``authorization_expires``: last authorized day (parent consent + prescriber order);
      None means "end of the school year" from the calendar.
    * ``is_prn``, ``prn_min_interval``, ``prn_max_per_day``: entered by the nurse; they combine
      with what the text says, the stricter limit winning.
    * ``schedule_effective_from``/``schedule_effective_until``: when this version of the times
      or frequency is in force. A change is a new version; doses scheduled before it took effect
      are judged by the old version, so a change never turns earlier doses into MISSED.
    """

    id: Hashable
    frequency: str
    start_date: date
    end_date: date | None = None
    administration_times: tuple[time, ...] | None = None
    authorization_expires: date | None = None
    is_active: bool = True
    is_prn: bool = False
    prn_min_interval: timedelta | None = None
    prn_max_per_day: int | None = None
    schedule_effective_from: datetime | None = None
    schedule_effective_until: datetime | None = None
    medication_name: str = ""

    def __post_init__(self) -> None:
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValueError("A prescription cannot end before it starts.")
        if self.administration_times is not None:
            ordered = tuple(sorted(set(self.administration_times)))
            if ordered != self.administration_times:
                object.__setattr__(self, "administration_times", ordered)
        if self.prn_min_interval is not None and self.prn_min_interval <= timedelta(0):
            raise ValueError("The PRN minimum interval must be positive.")
        if self.prn_max_per_day is not None and self.prn_max_per_day < 1:
            raise ValueError("The PRN daily maximum must be at least 1.")
        for name in ("schedule_effective_from", "schedule_effective_until"):
            value = getattr(self, name)
            if value is not None:
                require_aware(value, name)


@dataclass(frozen=True, slots=True)
class ScheduledDose:
    """One scheduled school dose: an aware datetime in the school's timezone.

    ``epoch`` (seconds since 1970, derived) lets status matching compare numbers instead of
    converting time zones for every comparison; a day's doses are built once and their status
    is recomputed every minute.
    """

    prescription_id: Hashable
    scheduled_for: datetime
    epoch: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        require_aware(self.scheduled_for, "scheduled_for")
        object.__setattr__(self, "epoch", self.scheduled_for.timestamp())


class PlanFlagCode(StrEnum):
    NOT_ACTIVE = "NOT_ACTIVE"
    NOT_STARTED = "NOT_STARTED"
    ENDED = "ENDED"
    AUTHORIZATION_EXPIRED = "AUTHORIZATION_EXPIRED"
    AUTHORIZATION_EXPIRING = "AUTHORIZATION_EXPIRING"
    NOT_A_SCHOOL_DAY = "NOT_A_SCHOOL_DAY"
    NOT_A_DOSING_DAY = "NOT_A_DOSING_DAY"
    FREQUENCY_INVALID = "FREQUENCY_INVALID"
    FREQUENCY_TEXT_IGNORED = "FREQUENCY_TEXT_IGNORED"
    PRN_ONLY = "PRN_ONLY"
    NO_DOSES_IN_SCHOOL_HOURS = "NO_DOSES_IN_SCHOOL_HOURS"
    SCHEDULE_CHANGED = "SCHEDULE_CHANGED"


#: Flags that mean "no scheduled doses today" (the others are information or warnings).
BLOCKING_FLAGS = frozenset(
    {
        PlanFlagCode.NOT_ACTIVE,
        PlanFlagCode.NOT_STARTED,
        PlanFlagCode.ENDED,
        PlanFlagCode.AUTHORIZATION_EXPIRED,
        PlanFlagCode.NOT_A_SCHOOL_DAY,
        PlanFlagCode.NOT_A_DOSING_DAY,
        PlanFlagCode.FREQUENCY_INVALID,
        PlanFlagCode.PRN_ONLY,
    }
)


@dataclass(frozen=True, slots=True)
class PlanFlag:
    code: PlanFlagCode
    message: str


@dataclass(frozen=True)
class DayPlan:
    """The doses due at school for one prescription on one day, and why there may be none."""

    prescription_id: Hashable
    day: date
    doses: tuple[ScheduledDose, ...] = ()
    flags: tuple[PlanFlag, ...] = ()
    frequency: Frequency | None = field(default=None, compare=False)

    def has(self, code: PlanFlagCode) -> bool:
        return any(f.code is code for f in self.flags)

    def flag(self, code: PlanFlagCode) -> PlanFlag | None:
        return next((f for f in self.flags if f.code is code), None)

    @property
    def codes(self) -> frozenset[PlanFlagCode]:
        return frozenset(f.code for f in self.flags)


def effective_frequency(
    prescription: Prescription, calendar: SchoolCalendar | None = None
) -> Frequency:
    """The frequency the rules apply: the parsed text, adjusted by the nurse-entered fields.

    Explicit administration times replace the parsed times (the text still decides PRN, day
    spacing and named days). PRN limits from the text and from the prescription combine with
    the stricter one winning — the written order is the legal one, and a nurse's field can only
    tighten it. Raises FrequencyError when the text cannot be understood and there are neither
    explicit times nor a PRN flag to fall back on.
    """
    return _frequency_and_note(prescription, calendar)[0]


def _frequency_and_note(
    prescription: Prescription, calendar: SchoolCalendar | None
) -> tuple[Frequency, str | None]:
    """The effective frequency, and the parser's message when the text had to be ignored."""
    defaults = calendar.time_defaults if calendar is not None else None
    explicit = prescription.administration_times or ()
    note: str | None = None
    try:
        parsed = parse_frequency(prescription.frequency, defaults)
    except FrequencyError as exc:
        if not explicit and not prescription.is_prn:
            raise
        note = str(exc)
        parsed = Frequency(times=explicit, prn=not explicit)
    if prescription.is_prn and not parsed.prn and note is None:
        # PRN ticked on a scheduled wording ("every 4 hours"): read it as the order would be
        # read with "as needed" added, so q4h becomes "at least 4 hours apart" and bid "max 2".
        try:
            parsed = parse_frequency(prescription.frequency + " as needed", defaults)
        except FrequencyError as exc:
            note = str(exc)
            parsed = Frequency(prn=True)
    if parsed.prn or prescription.is_prn:
        return (
            replace(
                parsed,
                times=(),
                prn=True,
                min_interval=_longest(parsed.min_interval, prescription.prn_min_interval),
                max_per_day=_smallest(parsed.max_per_day, prescription.prn_max_per_day),
            ),
            note,
        )
    if explicit:
        return replace(parsed, times=explicit), note
    return parsed, note


def _longest(a: timedelta | None, b: timedelta | None) -> timedelta | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _smallest(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def authorization_status(
    prescription: Prescription, calendar: SchoolCalendar, day: date
) -> PlanFlag | None:
    """AUTHORIZATION_EXPIRED after the last authorized day; AUTHORIZATION_EXPIRING from
    ``calendar.expiry_warning_days`` (14) days before it; None otherwise or when unknown."""
    last = calendar.authorization_end(prescription.authorization_expires)
    if last is None:
        return None
    if day > last:
        return PlanFlag(
            PlanFlagCode.AUTHORIZATION_EXPIRED,
            f"Authorization expired on {last.isoformat()}; a new parent consent and "
            "prescriber order are needed before any dose.",
        )
    days_left = (last - day).days
    if days_left <= calendar.expiry_warning_days:
        when = "today" if days_left == 0 else f"in {days_left} day" + ("s" if days_left > 1 else "")
        return PlanFlag(
            PlanFlagCode.AUTHORIZATION_EXPIRING,
            f"Authorization expires {when} ({last.isoformat()}); ask the parent to renew.",
        )
    return None


def doses_due_at_school(prescription: Prescription, calendar: SchoolCalendar, day: date) -> DayPlan:
    """The scheduled doses of ``prescription`` that fall in school hours at school on ``day``.

    Doses are aware datetimes in the school's timezone (see ``SchoolCalendar.at`` for DST).
    Every applicable flag is reported, not just the first, so the UI can say "not a school day"
    and "authorization expires in 3 days" together. Day spacing ("every other day") counts from
    the start date.
    """
    flags: list[PlanFlag] = []
    if not prescription.is_active:
        flags.append(PlanFlag(PlanFlagCode.NOT_ACTIVE, "The prescription is not active."))
    if day < prescription.start_date:
        flags.append(
            PlanFlag(
                PlanFlagCode.NOT_STARTED,
                f"The prescription starts on {prescription.start_date.isoformat()}.",
            )
        )
    if prescription.end_date is not None and day > prescription.end_date:
        flags.append(
            PlanFlag(
                PlanFlagCode.ENDED,
                f"The prescription ended on {prescription.end_date.isoformat()}.",
            )
        )
    auth = authorization_status(prescription, calendar, day)
    if auth is not None:
        flags.append(auth)
    if not calendar.is_school_day(day):
        why = "a closed day" if day in calendar.closed_dates else "a weekend"
        flags.append(PlanFlag(PlanFlagCode.NOT_A_SCHOOL_DAY, f"{day.isoformat()} is {why}."))

    frequency: Frequency | None
    try:
        frequency, note = _frequency_and_note(prescription, calendar)
    except FrequencyError as exc:
        frequency = None
        flags.append(PlanFlag(PlanFlagCode.FREQUENCY_INVALID, str(exc)))
    else:
        if note is not None:
            using = "as-needed limits entered" if frequency.prn else "explicit administration times"
            flags.append(
                PlanFlag(
                    PlanFlagCode.FREQUENCY_TEXT_IGNORED,
                    f"Using the {using}; the frequency text was not understood: {note}",
                )
            )
        if frequency.prn:
            flags.append(
                PlanFlag(PlanFlagCode.PRN_ONLY, "As needed: no scheduled doses, give on request.")
            )
        elif (
            not frequency.is_dosing_day(day, prescription.start_date)
            and day >= prescription.start_date
        ):
            flags.append(
                PlanFlag(
                    PlanFlagCode.NOT_A_DOSING_DAY,
                    f"Not a dosing day ({frequency.describe()}).",
                )
            )

    if frequency is None or any(f.code in BLOCKING_FLAGS for f in flags):
        return DayPlan(prescription.id, day, (), tuple(flags), frequency)

    doses: list[ScheduledDose] = []
    in_hours = [t for t in frequency.times if calendar.in_school_hours(t)]
    start = prescription.schedule_effective_from
    until = prescription.schedule_effective_until
    dropped = 0
    for wall in in_hours:
        at = calendar.at(day, wall)
        if (start is not None and at < start) or (until is not None and at >= until):
            dropped += 1
            continue
        doses.append(ScheduledDose(prescription.id, at))
    if dropped:
        flags.append(
            PlanFlag(
                PlanFlagCode.SCHEDULE_CHANGED,
                f"{dropped} dose(s) today belong to the previous version of this prescription.",
            )
        )
    if not in_hours:
        flags.append(
            PlanFlag(
                PlanFlagCode.NO_DOSES_IN_SCHOOL_HOURS,
                f"No dose falls in school hours ({frequency.describe()}); given at home.",
            )
        )
    return DayPlan(prescription.id, day, tuple(doses), tuple(flags), frequency)
