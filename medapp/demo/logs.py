"""Dose history: what the office recorded for every order, school day by school day.

Scheduled orders: every school day (weekday, not a closure, a dosing day of the sig) and every
administration time inside school hours is a due dose. Most are GIVEN close to the time, some
late (beyond the school's dose window with an override reason), some NOT_GIVEN (the student
was absent — the most common reason — refused, was held, the supply ran out, a parent called,
or another reason with a note), a few were simply never documented. Now and then a record was
entered in error and corrected: the wrong entry is superseded by an ENTERED_IN_ERROR row (and,
for a wrong dose, a corrected GIVEN follows). As-needed orders: sporadic uses at random school
times within the order's interval and daily maximum; ``scheduled_for`` stays empty.

The rows stream straight into COPY (a district year is about a million), so nothing but small
lists of notable events (for incident reports) and the lots' usage is kept in memory.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from uuid import UUID

from medapp.demo.base import UuidSource, make_rng
from medapp.demo.inventory import Shelf
from medapp.demo.people import Student
from medapp.demo.prescriptions import Rx

LOG_COLUMNS = (
    "id",
    "student_medication_id",
    "nurse_id",
    "dosage_given",
    "time_given",
    "scheduled_for",
    "status",
    "not_given_reason",
    "notes",
    "side_effects",
    "override_reason",
    "witness_id",
    "inventory_id",
    "quantity_used",
    "supersedes_id",
    "superseded_at",
    "superseded_by_id",
    "recorded_offline",
    "created_at",
)

# Outcome of a due scheduled dose when the student is in school (cumulative thresholds).
P_REFUSED, P_HELD, P_NO_SUPPLY, P_PARENT, P_OTHER, P_MISSED = (
    0.012,
    0.018,
    0.023,
    0.026,
    0.029,
    0.045,
)
P_ABSENT_LOGGED = 0.75  # share of absences the nurse documents as NOT_GIVEN/ABSENT
P_LATE = 0.08
P_OFFLINE = 0.01
P_CORRECTION = 0.0012
P_PRN_NOT_GIVEN = 0.05

REFUSED_NOTES = (
    None,
    None,
    "Student refused; states feels fine today.",
    "Refused after recess; teacher and parent informed.",
    "Student refused, upset about missing lunch with friends.",
)
HELD_NOTES = (
    "Held: student vomited this morning; parent notified.",
    "Held per parent request (note on file).",
    "Held: student asleep in health office with fever; sent home.",
    "Held: dose already given at home per parent phone call earlier.",
)
HELD_INSULIN = ("Held: BG 64, treated low per plan; no insulin per correction scale.",)
NO_SUPPLY_NOTES = (
    "No supply at school; parent notified to send a refill.",
    "Medication ran out; message left for parent.",
    None,
)
PARENT_NOTES = (
    "Parent called: dose given at home this morning.",
    "Parent called to hold today's dose (doctor's visit).",
)
OTHER_NOTES = (
    "Field trip: dose sent with trained staff, confirmed given at 12:10.",
    "Early dismissal before dose time.",
    "Student in state testing; dose given by testing coordinator, documented by nurse.",
    "Student at off-site sports event; parent gave dose.",
)
ABSENT_NOTES = (None, None, None, "Absent per attendance.")
LATE_REASONS = (
    "Student was at an assembly.",
    "Student did not come to the office; teacher sent student when reminded.",
    "Nurse was handling an emergency in the gym.",
    "Class returned late from a field trip.",
    "Student was in a testing session.",
)
PRN_HELD = {
    "asthma": "Assessed: no wheezing, breath sounds clear; returned to class.",
    "pain": "Assessed: temperature normal; rested 15 minutes and returned to class.",
    "allergy": "Assessed: no hives or swelling; ice pack given, returned to class.",
    "gi": "Assessed: no nausea after rest and water; returned to class.",
}
PRN_OTHER = "Parent picked student up before the dose could be given."
ERROR_NOTES = {
    "wrong student": "Documented on the wrong student's record; dose was given to another student.",
    "wrong dose": "Wrong dose documented; corrected entry follows.",
}

_NUMBER = re.compile(r"\d+(?:\.\d+)?")


@dataclass(slots=True)
class Event:
    log_id: UUID
    rx: Rx
    at: datetime
    nurse: UUID
    detail: str


@dataclass
class LogResult:
    rows: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    missed: int = 0
    late: list[Event] = field(default_factory=list)
    reactions: list[Event] = field(default_factory=list)
    emergencies: list[Event] = field(default_factory=list)
    corrections: list[Event] = field(default_factory=list)


def _wrong(dosage: str) -> str:
    m = _NUMBER.search(dosage)
    if m is None:
        return "2 " + dosage
    return dosage[: m.start()] + f"{float(m.group()) * 2:g}" + dosage[m.end() :]


class _Absences:
    """Which school days a student missed: short illnesses, about 5% of days."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._cache: dict[UUID, frozenset[date]] = {}

    def __call__(self, student: Student) -> frozenset[date]:
        got = self._cache.get(student.id)
        if got is None:
            rng = make_rng(self.seed, f"absent/{student.number}")
            days = student.school.school_days
            out: set[date] = set()
            i = 0
            while i < len(days):
                if rng.random() < 0.03:
                    k = rng.choice((1, 1, 1, 2, 2, 3))
                    out.update(days[i : i + k])
                    i += k
                else:
                    i += 1
            got = self._cache[student.id] = frozenset(out)
        return got


def write_logs(
    orders: list[Rx],
    shelf: Shelf,
    today: date,
    window_start: date,
    seed: int,
    new_id: UuidSource,
    write: Callable[[tuple[object, ...]], None],
) -> LogResult:
    rng = make_rng(seed, "logs")
    absences = _Absences(seed)
    result = LogResult()
    for rx in orders:
        first = max(rx.start_date, window_start)
        last = rx.last_dosing_day(today)
        if last < first:
            continue
        days = rx.school.days_between(first, last)
        if not days or not rx.school.loggers:
            continue
        if rx.is_prn:
            _prn(rx, days, absences(rx.student), shelf, rng, new_id, write, result)
        else:
            _scheduled(rx, days, absences(rx.student), shelf, rng, new_id, write, result)
    return result


def _scheduled(
    rx: Rx,
    days: list[date],
    absent: frozenset[date],
    shelf: Shelf,
    rng: random.Random,
    new_id: UuidSource,
    write: Callable[[tuple[object, ...]], None],
    result: LogResult,
) -> None:
    school = rx.school
    clock = school.clock
    deltas = [
        timedelta(hours=t.hour, minutes=t.minute) for t in rx.times or () if clock.in_hours(t)
    ]
    if not deltas:
        return
    weekdays = rx.sig.weekdays
    every = rx.sig.every_n_days
    start = rx.start_date
    window = school.dose_window
    loggers = school.loggers
    template = rx.template
    insulin = template.insulin
    side_rate = template.side_effect_rate
    random_, randint, choice = rng.random, rng.randint, rng.choice
    count = result.by_status
    rx_id = rx.id
    dosage = rx.dosage
    for day in days:
        if weekdays is not None and day.weekday() not in weekdays:
            continue
        if every > 1 and (day - start).days % every:
            continue
        base = clock.base(day)
        is_absent = day in absent
        for delta in deltas:
            sched = base + delta
            r = random_()
            nurse = choice(loggers)
            if is_absent or r < P_OTHER:
                if is_absent:
                    if r >= P_ABSENT_LOGGED:
                        result.missed += 1
                        continue
                    reason, notes = "ABSENT", choice(ABSENT_NOTES)
                elif r < P_REFUSED:
                    reason, notes = "REFUSED", choice(REFUSED_NOTES)
                elif r < P_HELD:
                    reason = "HELD"
                    notes = choice(HELD_INSULIN if insulin else HELD_NOTES)
                elif r < P_NO_SUPPLY:
                    reason, notes = "NO_SUPPLY", choice(NO_SUPPLY_NOTES)
                elif r < P_PARENT:
                    reason, notes = "PARENT_CALLED", choice(PARENT_NOTES)
                else:
                    reason, notes = "OTHER", choice(OTHER_NOTES)
                at = sched + timedelta(minutes=randint(0, 45), seconds=randint(0, 59))
                created = at + timedelta(seconds=randint(5, 240))
                write(
                    (new_id(), rx_id, nurse, None, at, sched, "NOT_GIVEN", reason, notes,
                     None, None, None, None, None, None, None, None, False, created)
                )  # fmt: skip
                count["NOT_GIVEN"] += 1
                continue
            if r < P_MISSED:
                result.missed += 1
                continue
            late = random_() < P_LATE
            if late:
                minutes = randint(16, 95)
            else:
                minutes = max(-15, min(15, int(rng.gauss(1, 6))))
            at = sched + timedelta(minutes=minutes, seconds=randint(0, 59))
            override = None
            if late and minutes > window:
                override = f"Given {minutes} min after the scheduled time: {choice(LATE_REASONS)}"
            created = at + timedelta(seconds=randint(5, 240))
            offline = random_() < P_OFFLINE
            if offline:
                created += timedelta(minutes=randint(20, 300))
            given = dosage
            qty: int | None = None
            if insulin:
                units = randint(1, 9)
                given, qty = f"{units} units", units
            side = None
            if side_rate and random_() < side_rate:
                side = choice(template.side_effects)
            log_id = new_id()
            if random_() < P_CORRECTION:
                _correction(
                    rx,
                    log_id,
                    nurse,
                    given,
                    at,
                    sched,
                    override,
                    created,
                    rng,
                    new_id,
                    write,
                    result,
                )
                continue
            lot = shelf.lot_for(rx, day)
            lot_id = None
            if lot is not None:
                lot_id = lot.id
                if not insulin:
                    qty = lot.per_dose
                if qty:
                    lot.uses.append((created, log_id, qty, nurse))
            else:
                qty = None
            write(
                (log_id, rx_id, nurse, given, at, sched, "GIVEN", None, None, side, override,
                 None, lot_id, qty, None, None, None, offline, created)
            )  # fmt: skip
            count["GIVEN"] += 1
            if override is not None and random_() < 0.05:
                result.late.append(Event(log_id, rx, at, nurse, f"{minutes}"))
            if side is not None:
                result.reactions.append(Event(log_id, rx, at, nurse, side))


def _correction(
    rx: Rx,
    log_id: UUID,
    nurse: UUID,
    given: str,
    at: datetime,
    sched: datetime | None,
    override: str | None,
    created: datetime,
    rng: random.Random,
    new_id: UuidSource,
    write: Callable[[tuple[object, ...]], None],
    result: LogResult,
) -> None:
    """A GIVEN entered in error: the original, the ENTERED_IN_ERROR row superseding it, and for a
    wrong dose the corrected GIVEN."""
    kind = rng.choice(tuple(ERROR_NOTES))
    error_id = new_id()
    error_at = created + timedelta(minutes=rng.randint(10, 180))
    wrong = _wrong(given) if kind == "wrong dose" else given
    write(
        (log_id, rx.id, nurse, wrong, at, sched, "GIVEN", None, None, None, override,
         None, None, None, None, error_at, error_id, False, created)
    )  # fmt: skip
    write(
        (error_id, rx.id, nurse, None, at, sched, "ENTERED_IN_ERROR", None, ERROR_NOTES[kind],
         None, None, None, None, None, log_id, None, None, False, error_at)
    )  # fmt: skip
    result.by_status["GIVEN"] += 1
    result.by_status["ENTERED_IN_ERROR"] += 1
    if kind == "wrong dose":
        write(
            (new_id(), rx.id, nurse, given, at, sched, "GIVEN", None,
             "Re-documented with the correct dose.", None, override, None, None, None, None, None,
             None, False, error_at + timedelta(minutes=1))
        )  # fmt: skip
        result.by_status["GIVEN"] += 1
    result.corrections.append(Event(error_id, rx, at, nurse, kind))


def _prn(
    rx: Rx,
    days: list[date],
    absent: frozenset[date],
    shelf: Shelf,
    rng: random.Random,
    new_id: UuidSource,
    write: Callable[[tuple[object, ...]], None],
    result: LogResult,
) -> None:
    template = rx.template
    rate = template.prn_rate
    if rate <= 0:
        return
    school = rx.school
    clock = school.clock
    first_minute = school.day_start.hour * 60 + school.day_start.minute + 10
    last_minute = school.day_end.hour * 60 + school.day_end.minute - 10
    gap = rx.sig.min_interval_minutes or 60
    most = rx.sig.max_per_day or 3
    loggers = school.loggers
    held = PRN_HELD[_category(rx)]
    random_, randint, choice = rng.random, rng.randint, rng.choice
    for day in days:
        if random_() >= rate or day in absent:
            continue
        minutes = [randint(first_minute, last_minute)]
        if most >= 2 and random_() < 0.15 and minutes[0] + gap <= last_minute:
            minutes.append(randint(minutes[0] + gap, last_minute))
        base = clock.base(day)
        for minute in minutes:
            at = base + timedelta(minutes=minute, seconds=randint(0, 59))
            created = at + timedelta(seconds=randint(5, 300))
            nurse = choice(loggers)
            log_id = new_id()
            if random_() < P_PRN_NOT_GIVEN and not template.emergency:
                r = random_()
                reason, notes = (
                    ("HELD", held)
                    if r < 0.6
                    else ("REFUSED", None)
                    if r < 0.8
                    else ("OTHER", PRN_OTHER)
                )
                write(
                    (log_id, rx.id, nurse, None, at, None, "NOT_GIVEN", reason, notes, None, None,
                     None, None, None, None, None, None, False, created)
                )  # fmt: skip
                result.by_status["NOT_GIVEN"] += 1
                continue
            side = None
            if template.side_effect_rate and random_() < template.side_effect_rate:
                side = choice(template.side_effects)
            lot = shelf.lot_for(rx, day)
            qty = lot.per_dose if lot is not None else None
            if lot is not None and qty:
                lot.uses.append((created, log_id, qty, nurse))
            witness = None
            if template.emergency:
                others = [u for u in dict.fromkeys(loggers) if u != nurse]
                witness = choice(others) if others else None
            write(
                (log_id, rx.id, nurse, rx.dosage, at, None, "GIVEN", None, None, side, None,
                 witness, lot.id if lot else None, qty, None, None, None, False, created)
            )  # fmt: skip
            result.by_status["GIVEN"] += 1
            if template.emergency:
                result.emergencies.append(Event(log_id, rx, at, nurse, template.emergency))
            elif side is not None:
                result.reactions.append(Event(log_id, rx, at, nurse, side))


def _category(rx: Rx) -> str:
    item = rx.template.item.lower()
    if any(w in item for w in ("hfa", "albuterol", "levalbuterol", "xopenex")):
        return "asthma"
    if any(w in item for w in ("diphenhydramine", "benadryl", "zyrtec", "cetirizine")):
        return "allergy"
    if any(w in item for w in ("zofran", "ondansetron", "pepcid", "tums")):
        return "gi"
    return "pain"
