"""Today's school doses and their status, for one school or the whole district.

Set-based, as the seed plan wanted but did not do: one statement for the schools and their
closures, one for the active prescriptions, one for the day's logs; then the domain's sweep
(``bulk_dose_statuses``) matches logs to doses in O(n log n). The loaded *inputs* are what gets
cached (per school and day); statuses are recomputed from them on every read, because they
change with the clock (DUE becomes MISSED) while the inputs do not.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import BindParameter, Select, Uuid, and_, any_, bindparam, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, aliased

from medapp.db.mapping import calendar_from_row, dose_log_from_row, prescription_from_row
from medapp.db.models import (
    Medication,
    MedicationLog,
    School,
    SchoolClosure,
    Student,
    StudentMedication,
    User,
)
from medapp.domain.doses import DoseLog, DoseStatus, bulk_dose_statuses
from medapp.domain.plausibility import dose_strength_conflict
from medapp.domain.schedule import (
    BLOCKING_FLAGS,
    DayPlan,
    PlanFlagCode,
    Prescription,
    ScheduledDose,
    doses_due_at_school,
)
from medapp.domain.school import SchoolCalendar

# Flags worth a nurse's attention on the reminder list even when there are no doses to give.
ATTENTION_FLAGS = frozenset(
    {
        PlanFlagCode.AUTHORIZATION_EXPIRED,
        PlanFlagCode.AUTHORIZATION_EXPIRING,
        PlanFlagCode.FREQUENCY_INVALID,
        PlanFlagCode.FREQUENCY_TEXT_IGNORED,
        PlanFlagCode.SCHEDULE_CHANGED,
        # an order at school with no school dose: the parent's form may name one (issue 9)
        PlanFlagCode.HOME_DOSES_ONLY,
    }
)
#: not a plan flag: the order's dose disagrees with the product's strength (issue 9, rule 6)
DOSE_CONFLICT_CODE = "DOSE_STRENGTH_CONFLICT"


LOG_COLUMNS = (
    MedicationLog.id,
    MedicationLog.student_medication_id,
    MedicationLog.status,
    MedicationLog.time_given,
    MedicationLog.scheduled_for,
    MedicationLog.not_given_reason,
    MedicationLog.notes,
    MedicationLog.supersedes_id,
    MedicationLog.superseded_at,
    MedicationLog.override_reason,
)


@dataclass(frozen=True)
class RxInfo:
    prescription_id: uuid.UUID
    school_id: uuid.UUID
    student_id: uuid.UUID
    student_name: str
    student_number: str
    grade: str
    medication_id: uuid.UUID
    medication_name: str
    strength: str
    dosage: str
    route: str
    is_controlled: bool
    is_prn: bool
    frequency: str = ""
    #: the order's dose disagrees with its product (a sentence), found once when loaded
    dose_conflict: str | None = None


@dataclass(frozen=True)
class ReminderInputs:
    """Everything the status sweep needs for one day; picklable, so it can live in the cache."""

    day: dt.date
    calendars: dict[uuid.UUID, SchoolCalendar]
    prescriptions: dict[uuid.UUID, RxInfo]
    plans: dict[uuid.UUID, DayPlan]
    logs: tuple[DoseLog, ...]
    loaded_at: dt.datetime


@dataclass(frozen=True)
class ReminderItem:
    rx: RxInfo
    scheduled_for: dt.datetime
    status: DoseStatus
    log_id: Hashable | None
    given_at: dt.datetime | None
    nurse_name: str | None
    not_given_reason: str | None
    flags: tuple[str, ...]


@dataclass(frozen=True)
class FlaggedPrescription:
    rx: RxInfo
    flags: tuple[tuple[str, str], ...]  # (code, message)
    blocking: bool


@dataclass(frozen=True)
class DayReminders:
    day: dt.date
    items: tuple[ReminderItem, ...]  # ordered by time, then student
    flagged: tuple[FlaggedPrescription, ...]
    counts: dict[str, int]
    now: dt.datetime


@lru_cache(maxsize=50_000)
def _day_plan(rx: Prescription, calendar: SchoolCalendar, day: dt.date) -> DayPlan:
    """A day's plan depends only on the order's values (its "version": any edit changes the
    frozen value), the school's calendar and the day: parsed once per process, not on every
    refresh of every desk (the frequency parser was a fifth of a school's reminder load)."""
    return doses_due_at_school(rx, calendar, day)


@lru_cache(maxsize=50_000)
def _dose_conflict(dosage: str, strength: str, frequency: str) -> str | None:
    return dose_strength_conflict(dosage, strength, frequency=frequency)


def _schools_statement(filtered: bool) -> Select[*tuple[Any, ...]]:
    statement = (
        select(
            School.id,
            School.timezone,
            School.day_start,
            School.day_end,
            School.lunch_time,
            School.dose_window_minutes,
            School.school_year_end,
            func.array_remove(func.array_agg(SchoolClosure.closed_on), None).label("closures"),
        )
        .outerjoin(
            SchoolClosure,
            and_(SchoolClosure.school_id == School.id, SchoolClosure.closed_on == bindparam("day")),
        )
        .group_by(School.id)
    )
    return statement.where(School.id == any_(_ids_param("school_ids"))) if filtered else statement


def _ids_param(name: str) -> BindParameter[Any]:
    # One array parameter, not an expanding IN list: the statement text (and the server's plan
    # cache key) stays the same whatever the number of ids.
    return bindparam(name, type_=ARRAY(Uuid()))


def _prescriptions_statement(filtered: bool) -> Select[*tuple[Any, ...]]:
    successor = aliased(StudentMedication)
    statement: Select[*tuple[Any, ...]] = (
        select(
            StudentMedication.id,
            StudentMedication.frequency,
            StudentMedication.start_date,
            StudentMedication.end_date,
            StudentMedication.administration_times,
            StudentMedication.authorization_expires,
            StudentMedication.is_active,
            StudentMedication.is_prn,
            StudentMedication.prn_min_interval_minutes,
            StudentMedication.prn_max_per_day,
            StudentMedication.schedule_effective_from,
            StudentMedication.dosage,
            StudentMedication.route,
            successor.schedule_effective_from.label("superseded_from"),
            Student.id.label("student_id"),
            Student.school_id,
            Student.first_name,
            Student.last_name,
            Student.student_number,
            Student.grade,
            Medication.id.label("medication_id"),
            Medication.name.label("medication_name"),
            Medication.generic_name,
            Medication.strength,
            Medication.is_controlled,
        )
        .join(Student, Student.id == StudentMedication.student_id)
        .join(Medication, Medication.id == StudentMedication.medication_id)
        .outerjoin(successor, successor.supersedes_id == StudentMedication.id)
        .where(
            Student.is_active,
            StudentMedication.start_date <= bindparam("day"),
            or_(
                StudentMedication.end_date.is_(None),
                StudentMedication.end_date >= bindparam("day"),
            ),
            # active orders, and orders replaced since yesterday (earlier doses today still
            # count against the schedule that was in force; exact day checked below)
            or_(
                StudentMedication.is_active, successor.schedule_effective_from >= bindparam("since")
            ),
        )
    )
    return (
        statement.where(Student.school_id == any_(_ids_param("school_ids")))
        if filtered
        else statement
    )


# The nurse's name by primary key per log row, not a join: the planner, guessing one log row
# for an order-and-day index scan, looped the whole users table over every row it found.
_NURSE_NAME = (
    select(User.first_name + " " + User.last_name)
    .where(User.id == MedicationLog.nurse_id)
    .correlate(MedicationLog)
    .scalar_subquery()
    .label("nurse_name")
)


def _logs_statement(filtered: bool) -> Select[*tuple[Any, ...]]:
    # No join to the orders or students: the orders are already known (the statement above),
    # so a school's logs are read through the (order, time) index for exactly those orders,
    # and the district's are matched to the orders in Python. Joining student_medications and
    # students again cost a second pass of their row-level-security filters per statement.
    statement: Select[*tuple[Any, ...]] = select(*LOG_COLUMNS, _NURSE_NAME).where(
        MedicationLog.time_given >= bindparam("start"),
        MedicationLog.time_given < bindparam("end"),
    )
    if filtered:
        statement = statement.where(
            MedicationLog.student_medication_id == any_(_ids_param("rx_ids"))
        )
    return statement


# Built once per process (the SQL expression building cost as much as a statement's round
# trip for one school); ``filtered`` is "some schools" against "every school the role sees".
_SCHOOLS = {f: _schools_statement(f) for f in (False, True)}
_PRESCRIPTIONS = {f: _prescriptions_statement(f) for f in (False, True)}
_LOGS = {f: _logs_statement(f) for f in (False, True)}


# Rows rebuilt from memo keys; the field names are the statements' own column names.
_RX_FIELDS = tuple(str(c.key) for c in _PRESCRIPTIONS[True].selected_columns)
_TIMES_AT = _RX_FIELDS.index("administration_times")
_LOG_FIELDS = tuple(str(c.key) for c in _LOGS[True].selected_columns)


_MISSING = object()
_MEMO_LIMIT = 20_000


@lru_cache(maxsize=256)
def _rx_memo(calendar: SchoolCalendar, day: dt.date) -> dict[tuple[Any, ...], Any]:
    """One school calendar's and day's memo of :func:`_rx_entry`, so the calendar (a frozen
    value with sets inside) is hashed once per school and load, not once per order row."""
    return {}


def _rx_entry(
    values: tuple[Any, ...], calendar: SchoolCalendar, day: dt.date
) -> tuple[RxInfo, DayPlan] | None:
    """One order row → its reminder-list entry and day plan, or None (replaced before ``day``).

    Memoised by the row's values in :func:`_rx_memo` (any edit of the order, student or product
    changes the key), like :func:`_day_plan`: a desk re-reads the same rows all day, and
    building and validating the frozen values was most of a district day's Python time."""
    r = SimpleNamespace(**dict(zip(_RX_FIELDS, values, strict=True)))
    until = r.superseded_from
    if until is not None and calendar.local_date(until) < day:
        return None  # replaced before today: only the successor counts
    rx = prescription_from_row(r, effective_until=until)
    if until is not None:
        # Inactive now, but its doses before the change are still today's doses.
        rx = replace(rx, is_active=True)
    info = RxInfo(
        prescription_id=r.id,
        school_id=r.school_id,
        student_id=r.student_id,
        student_name=f"{r.last_name}, {r.first_name}",
        student_number=r.student_number,
        grade=r.grade,
        medication_id=r.medication_id,
        medication_name=r.medication_name,
        strength=r.strength,
        dosage=r.dosage,
        route=r.route,
        is_controlled=r.is_controlled,
        is_prn=r.is_prn,
        frequency=r.frequency,
        dose_conflict=_dose_conflict(r.dosage, r.strength, r.frequency),
    )
    return info, _day_plan(rx, calendar, day)


@lru_cache(maxsize=50_000)
def _dose_log(values: tuple[Any, ...]) -> DoseLog:
    """A log row → its frozen value, memoised by the row's values (a correction writes a new
    row or changes ``superseded_at``, so a changed log is a new key)."""
    row = SimpleNamespace(**dict(zip(_LOG_FIELDS, values, strict=True)))
    return dose_log_from_row(row, row.nurse_name)


def load_inputs(
    session: Session, day: dt.date, school_ids: Sequence[uuid.UUID] | None
) -> ReminderInputs:
    filtered = school_ids is not None
    # Core rows on the session's connection: the ORM's result machinery cost more than the
    # statements themselves on a district day (thousands of plain column rows, no entities).
    conn = session.connection()
    params: dict[str, Any] = {"day": day}
    if school_ids is not None:
        params["school_ids"] = list(school_ids)
    schools = conn.execute(_SCHOOLS[filtered], params).all()
    calendars = {s.id: calendar_from_row(s, s.closures or ()) for s in schools}
    if not calendars:
        return ReminderInputs(day, {}, {}, {}, (), dt.datetime.now(dt.UTC))

    params["since"] = dt.datetime.combine(day - dt.timedelta(days=1), dt.time.min, dt.UTC)
    if school_ids is not None:
        params["school_ids"] = list(calendars)
    rx_rows = conn.execute(_PRESCRIPTIONS[filtered], params).all()

    prescriptions: dict[uuid.UUID, RxInfo] = {}
    plans: dict[uuid.UUID, DayPlan] = {}
    for r in rx_rows:
        times = r.administration_times
        values = tuple(r) if times is None else (*r[:_TIMES_AT], tuple(times), *r[_TIMES_AT + 1 :])
        calendar = calendars[r.school_id]
        memo = _rx_memo(calendar, day)
        entry = memo.get(values, _MISSING)
        if entry is _MISSING:
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            entry = memo[values] = _rx_entry(values, calendar, day)
        if entry is not None:
            prescriptions[r.id], plans[r.id] = entry

    # The day's logs, bounded by the widest school-local day among the schools involved.
    start = min(c.start_of_day(day) for c in calendars.values())
    end = max(c.start_of_day(day + dt.timedelta(days=1)) for c in calendars.values())
    logs: tuple[DoseLog, ...] = ()
    if prescriptions or not filtered:
        log_params: dict[str, Any] = {"start": start, "end": end}
        if filtered:
            log_params["rx_ids"] = list(prescriptions)
        # Plain columns, not ORM entities: thousands of rows at district scale, built once each.
        logs = tuple(
            _dose_log(tuple(row))
            for row in conn.execute(_LOGS[filtered], log_params)
            if row.student_medication_id in prescriptions
        )
    return ReminderInputs(day, calendars, prescriptions, plans, logs, dt.datetime.now(dt.UTC))


def _attention(rx: RxInfo, plan: DayPlan) -> FlaggedPrescription | None:
    """What the "Needs attention" strip says of one order, or None."""
    flags = [(f.code.value, f.message) for f in plan.flags if f.code in ATTENTION_FLAGS]
    if rx.dose_conflict:
        flags.append((DOSE_CONFLICT_CODE, rx.dose_conflict))
    if not flags:
        return None
    return FlaggedPrescription(
        rx=rx, flags=tuple(flags), blocking=bool(plan.codes & BLOCKING_FLAGS)
    )


def reminders_from_inputs(inputs: ReminderInputs, now: dt.datetime) -> DayReminders:
    # One sweep per distinct dose window (normally one for the whole district), never one per
    # school over every log.
    by_window: dict[dt.timedelta, dict[Hashable, Sequence[ScheduledDose]]] = defaultdict(dict)
    for rx_id, plan in inputs.plans.items():
        if plan.doses:
            window = inputs.calendars[inputs.prescriptions[rx_id].school_id].dose_window
            by_window[window][rx_id] = plan.doses
    items: list[ReminderItem] = []
    for window, doses in by_window.items():
        logs = (
            inputs.logs
            if len(by_window) == 1
            else [log for log in inputs.logs if log.prescription_id in doses]
        )
        statuses = bulk_dose_statuses(doses, logs, now, window)
        for status_key, day_status in statuses.items():
            key = cast(uuid.UUID, status_key)
            rx = inputs.prescriptions[key]
            flags = tuple(f.code.value for f in inputs.plans[key].flags)
            for state in day_status.doses:
                log = state.log
                items.append(
                    ReminderItem(
                        rx=rx,
                        scheduled_for=state.dose.scheduled_for,
                        status=state.status,
                        log_id=log.id if log else None,
                        given_at=log.time_given if log else None,
                        nurse_name=log.nurse_name if log else None,
                        not_given_reason=log.reason.value if log and log.reason else None,
                        flags=flags,
                    )
                )
    items.sort(key=lambda i: (i.scheduled_for, i.rx.student_name, i.rx.medication_name))
    flagged = tuple(
        sorted(
            (
                flagged_rx
                for rx_id, plan in inputs.plans.items()
                if (flagged_rx := _attention(inputs.prescriptions[rx_id], plan)) is not None
            ),
            key=lambda f: f.rx.student_name,
        )
    )
    counts: dict[str, int] = {s.value: 0 for s in DoseStatus}
    for item in items:
        counts[item.status.value] += 1
    return DayReminders(inputs.day, tuple(items), flagged, counts, now)


def patch_logs(
    session: Session, inputs: ReminderInputs, log_ids: Sequence[uuid.UUID]
) -> ReminderInputs:
    """``inputs`` with the given dose logs re-read (new ones added, changed ones replaced).

    The fan-out path: a notification names the log rows a statement wrote, so a desk re-reads
    those few rows (one statement, by primary key) instead of its school's whole day. A log of
    an order not on this list, or outside the day, is ignored as :func:`load_inputs` would."""
    if not log_ids or not inputs.calendars:
        return inputs
    start = min(c.start_of_day(inputs.day) for c in inputs.calendars.values())
    end = max(c.start_of_day(inputs.day + dt.timedelta(days=1)) for c in inputs.calendars.values())
    rows = session.execute(
        select(*LOG_COLUMNS, _NURSE_NAME).where(MedicationLog.id.in_(list(log_ids)))
    ).all()
    fresh = {
        row.id: dose_log_from_row(row, row.nurse_name)
        for row in rows
        if row.student_medication_id in inputs.prescriptions and start <= row.time_given < end
    }
    if not fresh:
        return inputs
    kept = tuple(log for log in inputs.logs if log.id not in fresh)
    return replace(inputs, logs=kept + tuple(fresh.values()))
