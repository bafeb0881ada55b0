"""The data of the printed records: a student's monthly MAR and a lot's controlled-substance
count sheet (the end-of-day report prints ``services.end_of_day.end_of_day_summary``).

Why separate from the rendering (``medapp/reports``): what a record says is decided here, on
the database, with the same access checks and READ audit as the screens (opening a student's
MAR is logged like opening her card; a count sheet like opening the lot); the PDF only lays it
out, so a test can compare these dataclasses with the database and the PDF text with them.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session, aliased

from medapp.db.mapping import calendar_from_row, dose_log_from_row, prescription_from_row
from medapp.db.models import (
    Allergy,
    InventoryAdjustment,
    Medication,
    MedicationInventory,
    MedicationLog,
    School,
    SchoolClosure,
    Student,
    StudentMedication,
    User,
)
from medapp.domain.doses import DoseLog, LogStatus, NotGivenReason, dose_statuses
from medapp.domain.mar import NO_SCHOOL, cell_code
from medapp.domain.schedule import doses_due_at_school
from medapp.services.desk import Desk
from medapp.services.students import log_student_opened

__all__ = [
    "Administration",
    "CountLine",
    "CountSheet",
    "MarData",
    "MarOrder",
    "MarRow",
    "ReportInputError",
    "count_sheet",
    "find_school",
    "monthly_mar",
    "parse_month",
]


class ReportInputError(ValueError):
    """The report cannot be made from what was asked (unknown student, bad month)."""


def parse_month(text_value: str) -> tuple[int, int]:
    """``2026-11`` → (2026, 11); ReportInputError otherwise."""
    try:
        year_s, month_s = text_value.strip().split("-")
        year, month = int(year_s), int(month_s)
        dt.date(year, month, 1)
    except ValueError:
        raise ReportInputError(f"'{text_value}' is not a month; write it as YYYY-MM.") from None
    return year, month


@dataclass(frozen=True)
class MarOrder:
    prescription_id: uuid.UUID
    medication: str
    dosage: str
    route: str
    frequency: str
    prescribed_by: str
    start_date: dt.date
    end_date: dt.date | None
    authorization_expires: dt.date | None
    parent_consent_on: dt.date | None


@dataclass(frozen=True)
class MarRow:
    """One order at one dose time: a cell per day of the month (index 0 = day 1)."""

    order: MarOrder
    time: dt.time
    cells: tuple[str, ...]


@dataclass(frozen=True)
class Administration:
    """One record of the month (given, not given, missed), as the list under the grid shows."""

    at: dt.datetime  # school-local
    medication: str
    dosage: str
    outcome: str
    nurse_name: str
    current: bool  # False: superseded by a correction (listed, marked)


@dataclass(frozen=True)
class MarData:
    student_name: str  # "Last, First"
    student_number: str
    grade: str
    date_of_birth: dt.date
    school_name: str
    year: int
    month: int
    days: int  # days in the month
    allergies: tuple[str, ...]  # "Peanut (SEVERE): hives"
    orders: tuple[MarOrder, ...]
    rows: tuple[MarRow, ...]
    administrations: tuple[Administration, ...]
    printed_at: dt.datetime
    printed_by: str

    @property
    def title(self) -> str:
        return f"{_calendar.month_name[self.month]} {self.year}"


def _med_label(name: str, strength: str | None) -> str:
    strength = (strength or "").strip()
    if not strength or strength.lower() in name.lower():
        return name
    return f"{name} {strength}"


def _outcome(log: DoseLog) -> str:
    if log.status is LogStatus.GIVEN:
        return "Given"
    if log.status is LogStatus.NOT_GIVEN:
        label = log.reason.label if log.reason is not None else "Not given"
        note = f": {log.notes}" if log.reason is NotGivenReason.OTHER and log.notes else ""
        return f"Not given — {label}{note}"
    if log.status is LogStatus.MISSED:
        return "Missed (end-of-day close)"
    return "Entered in error"


def _find_student(s: Session, student: str | uuid.UUID) -> Student:
    if isinstance(student, uuid.UUID):
        row = s.get(Student, student)
    else:
        row = s.scalars(select(Student).where(Student.student_number == student.strip())).first()
    if row is None:
        raise ReportInputError(
            f"No student '{student}' among the students you may see; check the number."
        )
    return row


def monthly_mar(desk: Desk, student: str | uuid.UUID, year: int, month: int) -> MarData:
    """The MAR of one student for one month (by student number or id); opening it is logged."""
    try:
        first = dt.date(year, month, 1)
    except ValueError:
        raise ReportInputError(f"{year}-{month:02d} is not a month.") from None
    days = _calendar.monthrange(year, month)[1]
    last = first.replace(day=days)
    with desk.sessions() as s:
        stu = _find_student(s, student)
        desk.actor.require_read(stu.school_id, "this student's records")
        school = s.get_one(School, stu.school_id)
        closures = s.scalars(
            select(SchoolClosure.closed_on).where(
                SchoolClosure.school_id == school.id,
                SchoolClosure.closed_on.between(first, last),
            )
        ).all()
        cal = calendar_from_row(school, closures)
        allergies = s.execute(
            select(Allergy.allergen, Allergy.severity, Allergy.reaction)
            .where(Allergy.student_id == stu.id, Allergy.is_active)
            .order_by(Allergy.allergen)
        ).all()
        orders = s.execute(
            select(StudentMedication, Medication.name, Medication.strength, Medication.generic_name)
            .join(Medication, Medication.id == StudentMedication.medication_id)
            .where(
                StudentMedication.student_id == stu.id,
                StudentMedication.start_date <= last,
                or_(StudentMedication.end_date.is_(None), StudentMedication.end_date >= first),
            )
            .order_by(Medication.name, StudentMedication.start_date)
        ).all()
        order_ids = [o.StudentMedication.id for o in orders]
        start = cal.start_of_day(first)
        end = cal.start_of_day(last + dt.timedelta(days=1))
        log_rows = s.execute(
            select(MedicationLog, User.first_name, User.last_name)
            .join(User, User.id == MedicationLog.nurse_id)
            .where(
                MedicationLog.student_medication_id.in_(order_ids),
                or_(
                    MedicationLog.time_given.between(start, end),
                    MedicationLog.scheduled_for.between(start, end),
                ),
            )
            .order_by(MedicationLog.time_given)
        ).all()
        student_name = f"{stu.last_name}, {stu.first_name}"
        student_number, grade, born = stu.student_number, stu.grade, stu.date_of_birth
        log_student_opened(s, stu.id)

    logs = [dose_log_from_row(r.MedicationLog, f"{r.first_name} {r.last_name}") for r in log_rows]
    initials = {r.MedicationLog.id: (r.first_name[:1] + r.last_name[:1]).upper() for r in log_rows}
    logs_by_rx: dict[uuid.UUID, list[DoseLog]] = defaultdict(list)
    for dose_log in logs:
        logs_by_rx[dose_log.prescription_id].append(dose_log)  # type: ignore[index]

    now = desk.now()
    mar_orders: list[MarOrder] = []
    rows: list[MarRow] = []
    labels: dict[Hashable, str] = {}
    for o in orders:
        rx = o.StudentMedication
        order = MarOrder(
            rx.id,
            _med_label(o.name, o.strength),
            rx.dosage,
            rx.route,
            rx.frequency,
            rx.prescribed_by,
            rx.start_date,
            rx.end_date,
            rx.authorization_expires,
            rx.parent_consent_on,
        )
        mar_orders.append(order)
        labels[rx.id] = order.medication
        prescription = prescription_from_row(rx)
        cells: dict[dt.time, list[str]] = {}
        no_school: set[int] = set()
        for index in range(days):
            day = first + dt.timedelta(days=index)
            if not cal.is_school_day(day):
                no_school.add(index)
                continue
            plan = doses_due_at_school(prescription, cal, day)
            if not plan.doses:
                continue
            states = dose_statuses(plan.doses, logs_by_rx[rx.id], now, cal.dose_window).doses
            for state in states:
                clock = state.dose.scheduled_for.astimezone(cal.tz).time()
                row = cells.setdefault(clock, [""] * days)
                who = initials.get(state.log.id, "") if state.log is not None else ""
                row[index] = cell_code(
                    state.status, state.reason.value if state.reason else None, who
                )
        for clock in sorted(cells):
            row = cells[clock]
            for index in no_school:
                in_force = rx.start_date <= first + dt.timedelta(days=index) and (
                    rx.end_date is None or first + dt.timedelta(days=index) <= rx.end_date
                )
                if in_force:
                    row[index] = NO_SCHOOL
            rows.append(MarRow(order, clock, tuple(row)))

    administrations = tuple(
        Administration(
            dose_log.time_given.astimezone(cal.tz),
            labels.get(dose_log.prescription_id, ""),
            r.MedicationLog.dosage_given or "",
            _outcome(dose_log),
            dose_log.nurse_name,
            not dose_log.superseded,
        )
        for dose_log, r in zip(logs, log_rows, strict=True)
        if dose_log.status is not LogStatus.ENTERED_IN_ERROR
    )
    return MarData(
        student_name=student_name,
        student_number=student_number,
        grade=grade,
        date_of_birth=born,
        school_name=school.name,
        year=year,
        month=month,
        days=days,
        allergies=tuple(
            f"{a.allergen} ({a.severity.lower().replace('_', '-')})"
            + (f": {a.reaction}" if a.reaction else "")
            for a in allergies
        ),
        orders=tuple(mar_orders),
        rows=tuple(rows),
        administrations=administrations,
        printed_at=now,
        printed_by=desk.actor.display_name,
    )


# -- controlled-substance count sheet ---------------------------------------------------------


@dataclass(frozen=True)
class CountLine:
    at: dt.datetime
    reason: str
    delta: int
    quantity_after: int
    by: str  # full name of the nurse who made the change
    witness: str  # full name of the second person ("" when none)


@dataclass(frozen=True)
class CountSheet:
    lot_id: uuid.UUID
    medication: str
    dea_schedule: str | None
    batch_number: str
    expiration_date: dt.date
    quantity: int
    school_name: str
    owner: str  # "Office stock" or the student's name
    lines: tuple[CountLine, ...]
    printed_at: dt.datetime
    printed_by: str


def count_sheet(desk: Desk, lot: str | uuid.UUID, *, school_name: str | None = None) -> CountSheet:
    """Every count and adjustment of one lot (by id, or batch number [+ school name])."""
    with desk.sessions() as s:
        base = select(MedicationInventory, Medication).join(
            Medication, Medication.id == MedicationInventory.medication_id
        )
        if isinstance(lot, uuid.UUID):
            found = s.execute(base.where(MedicationInventory.id == lot)).all()
        else:
            found = s.execute(base.where(MedicationInventory.batch_number == lot.strip())).all()
        rows = []
        for r in found:
            owner_school = r.MedicationInventory.school_id
            if owner_school is None and r.MedicationInventory.student_id is not None:
                owner_school = s.scalar(
                    select(Student.school_id).where(Student.id == r.MedicationInventory.student_id)
                )
            name = s.scalar(select(School.name).where(School.id == owner_school)) or ""
            if school_name is None or name.casefold() == school_name.strip().casefold():
                rows.append((r, owner_school, name))
        if not rows:
            raise ReportInputError(f"No stock lot '{lot}' among the lots you may see.")
        if len(rows) > 1:
            raise ReportInputError(
                f"Lot '{lot}' is on the shelf of {len(rows)} schools or products; name the school "
                "(--school)."
            )
        (r, owner_school, name) = rows[0]
        inv, med = r.MedicationInventory, r.Medication
        desk.actor.require_read(owner_school, "this lot's count sheet")
        owner = "Office stock"
        if inv.student_id is not None:
            stu = s.get_one(Student, inv.student_id)
            owner = f"{stu.last_name}, {stu.first_name} ({stu.student_number})"
        witness = aliased(User)
        adjustments = s.execute(
            select(
                InventoryAdjustment,
                User.first_name,
                User.last_name,
                witness.first_name.label("w_first"),
                witness.last_name.label("w_last"),
            )
            .join(User, User.id == InventoryAdjustment.user_id)
            .outerjoin(witness, witness.id == InventoryAdjustment.witness_id)
            .where(InventoryAdjustment.inventory_id == inv.id)
            .order_by(InventoryAdjustment.created_at, InventoryAdjustment.id)
        ).all()
        tz = s.scalar(select(School.timezone).where(School.id == owner_school)) or "UTC"
        sheet = CountSheet(
            lot_id=inv.id,
            medication=_med_label(med.name, med.strength),
            dea_schedule=med.dea_schedule,
            batch_number=inv.batch_number,
            expiration_date=inv.expiration_date,
            quantity=inv.quantity,
            school_name=name,
            owner=owner,
            lines=tuple(
                CountLine(
                    a.InventoryAdjustment.created_at.astimezone(_zone(tz)),
                    a.InventoryAdjustment.reason,
                    a.InventoryAdjustment.delta,
                    a.InventoryAdjustment.quantity_after,
                    f"{a.first_name} {a.last_name}",
                    f"{a.w_first} {a.w_last}" if a.w_first is not None else "",
                )
                for a in adjustments
            ),
            printed_at=desk.now(),
            printed_by=desk.actor.display_name,
        )
        s.execute(text("SELECT medapp_log_read('medication_inventory', :id)"), {"id": inv.id})
        s.commit()
    return sheet


def _zone(name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(name)
    except Exception:  # noqa: BLE001 - a bad zone name prints UTC rather than failing
        return dt.UTC


def find_school(desk: Desk, name: str | None) -> tuple[uuid.UUID, str]:
    """The school named (name or code, any case), or the actor's only school."""
    with desk.sessions() as s:
        if name is None or not name.strip():
            if len(desk.actor.school_ids) != 1:
                raise ReportInputError("Name the school (--school NAME): you work at several.")
            (only,) = desk.actor.school_ids
            row = s.execute(
                select(School.id, School.name, School.code).where(School.id == only)
            ).first()
        else:
            key = name.strip().casefold()
            found = [
                r
                for r in s.execute(select(School.id, School.name, School.code)).all()
                if key in (r.name.casefold(), r.code.casefold())
            ]
            row = found[0] if len(found) == 1 else None
    if row is None:
        raise ReportInputError(f"No school '{name}'; give its name or code as IT set it up.")
    desk.actor.require_read(row.id, "this school's day")
    return row.id, row.name
