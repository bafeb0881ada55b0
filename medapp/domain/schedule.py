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

from medapp.domain.frequency import Frequency, FrequencyError, TimeSource, parse_frequency
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
    "HOME_DOSES_MESSAGE",
    "school_dose_times",
]


@dataclass(frozen=True)
class Prescription:
    """One student's order for one medication, as the rules need it (mirrors
    ``student_medications``).

    * ``frequency``: the prescriber's wording ("2 puffs q4h prn wheezing").
    * ``administration_times``: explicit school times; when set they win over parsed times.
    * ``medication_name``/``generic_name``: the product; a frequency copied from the label
      ("Adderall 5 mg po at 12:15") is read from after the name.
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
    generic_name: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        """The product names a frequency copied from the label may start with."""
        return tuple(n for n in (self.medication_name, self.generic_name) if n)

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
    HOME_DOSES_ONLY = "HOME_DOSES_ONLY"
    """The order names no school time: its doses are given at home (not blocking: an
    information the nurse can act on by entering a school time)."""
    SCHEDULE_CHANGED = "SCHEDULE_CHANGED"


HOME_DOSES_MESSAGE = (
    "No school time named — given at home; enter a school time if the parent's form asks for one."
)


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
    names = prescription.names
    note: str | None = None
    try:
        parsed = parse_frequency(prescription.frequency, defaults, names=names)
    except FrequencyError as exc:
        if not explicit and not prescription.is_prn:
            raise
        note = str(exc)
        parsed = Frequency(
            times=explicit,
            prn=not explicit,
            time_sources=(TimeSource.ENTERED,) * len(explicit),
        )
    if prescription.is_prn and not parsed.prn and note is None:
        # PRN ticked on a scheduled wording ("every 4 hours"): read it as the order would be
        # read with "as needed" added, so q4h becomes "at least 4 hours apart" and bid "max 2".
        try:
            parsed = parse_frequency(prescription.frequency + " as needed", defaults, names=names)
        except FrequencyError as exc:
            note = str(exc)
            parsed = Frequency(prn=True)
    if parsed.prn or prescription.is_prn:
        return (
            replace(
                parsed,
                times=(),
                time_sources=(),
                interval_hours=None,
                prn=True,
                min_interval=_longest(parsed.min_interval, prescription.prn_min_interval),
                max_per_day=_smallest(parsed.max_per_day, prescription.prn_max_per_day),
            ),
            note,
        )
    if explicit:
        return (
            replace(
                parsed,
                times=explicit,
                time_sources=(TimeSource.ENTERED,) * len(explicit),
                interval_hours=None,
            ),
            note,
        )
    return parsed, note


_HOME_SOURCES = frozenset({TimeSource.HOME, TimeSource.COUNT, TimeSource.INTERVAL})


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def school_dose_times(frequency: Frequency, calendar: SchoolCalendar) -> tuple[time, ...]:
    """Which of a scheduled frequency's clock times are school doses (rule 1 of issue 9).

    A dose is on the school schedule only when the order names it for school:

    * a clock time written in the order, or an administration time the nurse entered
      (CLOCK, ENTERED), inside school hours;
    * a school-anchored word (SCHOOL): noon, midday, lunch, the lunch dose of a meal wording
      ("with meals", ac, pc), or a single daily dose the order places "at school" (a morning
      or breakfast dose "at school" that would fall before the school day starts is given at
      the start of the school day, on arrival);
    * a frequency the family cannot cover from home:

      - four or more times a day by count (qid, "4 times a day"; COUNT): the school gives the
        lunch dose, at the school's lunch time — the morning, after-school and bedtime doses
        are given at home;
      - a fixed interval of 6 hours or less (q6h, q4h, q3h, ...; INTERVAL): the school gives
        the interval's clock times whose whole on-time window (± the school's dose window, 60
        minutes) lies inside school hours. A dose whose window opens before the school day
        starts is the family's morning dose, given before the child leaves (q4h at a school
        opening at 8:00: 08:00 is given at home, 12:00 at school); one whose window closes after
        the day ends is given at home after school (q3h: 15:00 at a school closing at 15:00).

    Everything else — morning, breakfast, evening, dinner and bedtime wordings (HOME), the
    default times of daily, bid, tid, day spacing or named days (COUNT), and intervals over 6
    hours — is a home dose. PRN frequencies have no scheduled doses at all.
    """
    if frequency.prn or not frequency.times:
        return ()
    out: set[time] = set()
    count_times = 0
    sources = frequency.sources()
    for t, source in zip(frequency.times, sources, strict=True):
        if source is TimeSource.COUNT:
            count_times += 1
        elif source is TimeSource.INTERVAL:
            hours = frequency.interval_hours or 24 // len(frequency.times)
            if hours <= 6:
                first, last = calendar.interval_dose_bounds
                if first <= _minutes(t) <= last:
                    out.add(t)
        elif source is TimeSource.SCHOOL and t < calendar.day_start:
            out.add(calendar.day_start)  # "every morning at school": on arrival
        elif source is not TimeSource.HOME and calendar.in_school_hours(t):
            out.add(t)
    if count_times >= 4 and calendar.in_school_hours(calendar.lunch_time):
        out.add(calendar.lunch_time)
    return tuple(sorted(out))


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
    """The scheduled doses of ``prescription`` the school gives on ``day``.

    Only doses the order names for school are school doses (:func:`school_dose_times`): a
    default time of a home wording ("every morning", "daily", "bid", "tid", "at bedtime") is
    never on the school list, so a parent's morning dose and "the 08:00 dose" cannot both be
    given. Such an order gets the flag HOME_DOSES_ONLY (:data:`HOME_DOSES_MESSAGE`); an order
    whose named clock times all fall outside school hours gets NO_DOSES_IN_SCHOOL_HOURS.

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
    in_hours = school_dose_times(frequency, calendar)
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
        if any(s in _HOME_SOURCES for s in frequency.sources()):
            flags.append(
                PlanFlag(
                    PlanFlagCode.HOME_DOSES_ONLY,
                    f"{HOME_DOSES_MESSAGE} (Read as: {frequency.describe()}.)",
                )
            )
        else:
            flags.append(
                PlanFlag(
                    PlanFlagCode.NO_DOSES_IN_SCHOOL_HOURS,
                    f"No dose falls in school hours ({frequency.describe()}); given at home.",
                )
            )
    return DayPlan(prescription.id, day, tuple(doses), tuple(flags), frequency)
