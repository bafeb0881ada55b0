"""The schedule pane's data: prescriptions of one school (or nurse) with their logs in a range.

Exactly two statements whatever the page size (the seed's version eager-loaded every log with a
nurse join per row): one for the page of prescriptions with the total count as a window
aggregate, one for at most ``logs_per_prescription`` logs each, ranked with ``row_number()``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from medapp.db.models import Medication, MedicationLog, Student, StudentMedication, User


@dataclass(frozen=True)
class LogEntry:
    id: uuid.UUID
    time_given: dt.datetime
    scheduled_for: dt.datetime | None
    status: str
    not_given_reason: str | None
    dosage_given: str | None
    nurse_name: str
    superseded: bool


@dataclass(frozen=True)
class ScheduleRow:
    prescription_id: uuid.UUID
    student_id: uuid.UUID
    student_number: str
    student_name: str
    grade: str
    medication_id: uuid.UUID
    medication_name: str
    strength: str
    dosage_form: str
    is_controlled: bool
    dosage: str
    frequency: str
    route: str
    administration_times: tuple[dt.time, ...]
    is_prn: bool
    prn_min_interval_minutes: int | None
    prn_max_per_day: int | None
    start_date: dt.date
    end_date: dt.date | None
    authorization_expires: dt.date | None
    logs: tuple[LogEntry, ...]


@dataclass(frozen=True)
class SchedulePage:
    rows: tuple[ScheduleRow, ...]
    total: int
    offset: int
    limit: int


def _prescriptions_query(
    start: dt.date,
    end: dt.date,
    school_id: uuid.UUID | None,
    nurse_id: uuid.UUID | None,
    search: str | None,
) -> Select:  # type: ignore[type-arg,unused-ignore]
    query = (
        select(StudentMedication, Student, Medication, func.count().over().label("total"))
        .join(Student, Student.id == StudentMedication.student_id)
        .join(Medication, Medication.id == StudentMedication.medication_id)
        .where(
            StudentMedication.is_active,
            Student.is_active,
            StudentMedication.start_date <= end,
            or_(StudentMedication.end_date.is_(None), StudentMedication.end_date >= start),
        )
    )
    if school_id is not None:
        query = query.where(Student.school_id == school_id)
    if nurse_id is not None:
        query = query.where(Student.nurse_id == nurse_id)
    if search:
        needle = (
            search.strip().lower().replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
        )
        query = query.where(
            or_(
                func.lower(Student.last_name).like(f"{needle}%", escape="\\"),
                func.lower(Student.first_name).like(f"{needle}%", escape="\\"),
                func.lower(Student.student_number).like(f"{needle}%", escape="\\"),
            )
        )
    return query.order_by(
        Student.last_name, Student.first_name, Medication.name, StudentMedication.id
    )


def schedule_page(
    session: Session,
    start: dt.date,
    end: dt.date,
    *,
    tz: dt.tzinfo,
    school_id: uuid.UUID | None = None,
    nurse_id: uuid.UUID | None = None,
    search: str | None = None,
    offset: int = 0,
    limit: int = 50,
    logs_per_prescription: int = 50,
) -> SchedulePage:
    if end < start:
        raise ValueError("The schedule's end date is before its start date.")
    if school_id is None and nurse_id is None:
        raise ValueError("A schedule is for one school or one nurse.")
    limit = max(1, min(limit, 500))
    found = session.execute(
        _prescriptions_query(start, end, school_id, nurse_id, search)
        .offset(max(offset, 0))
        .limit(limit)
    ).all()
    total = found[0].total if found else 0
    ids = [row.StudentMedication.id for row in found]
    logs_by_rx: dict[uuid.UUID, list[LogEntry]] = {rx_id: [] for rx_id in ids}
    if ids:
        window_start = dt.datetime.combine(start, dt.time.min, tz)
        window_end = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tz)
        ranked = (
            select(
                MedicationLog,
                User.first_name,
                User.last_name,
                func.row_number()
                .over(
                    partition_by=MedicationLog.student_medication_id,
                    order_by=MedicationLog.time_given.desc(),
                )
                .label("rank"),
            )
            .join(User, User.id == MedicationLog.nurse_id)
            .where(
                and_(
                    MedicationLog.student_medication_id.in_(ids),
                    MedicationLog.time_given >= window_start,
                    MedicationLog.time_given < window_end,
                )
            )
            .subquery()
        )
        for r in session.execute(
            select(ranked).where(ranked.c.rank <= logs_per_prescription)
        ).all():
            logs_by_rx[r.student_medication_id].append(
                LogEntry(
                    id=r.id,
                    time_given=r.time_given,
                    scheduled_for=r.scheduled_for,
                    status=r.status,
                    not_given_reason=r.not_given_reason,
                    dosage_given=r.dosage_given,
                    nurse_name=f"{r.first_name} {r.last_name}",
                    superseded=r.superseded_at is not None,
                )
            )
    rows = tuple(
        ScheduleRow(
            prescription_id=rx.id,
            student_id=st.id,
            student_number=st.student_number,
            student_name=f"{st.last_name}, {st.first_name}",
            grade=st.grade,
            medication_id=med.id,
            medication_name=med.name,
            strength=med.strength,
            dosage_form=med.dosage_form,
            is_controlled=med.is_controlled,
            dosage=rx.dosage,
            frequency=rx.frequency,
            route=rx.route,
            administration_times=tuple(rx.administration_times or ()),
            is_prn=rx.is_prn,
            prn_min_interval_minutes=rx.prn_min_interval_minutes,
            prn_max_per_day=rx.prn_max_per_day,
            start_date=rx.start_date,
            end_date=rx.end_date,
            authorization_expires=rx.authorization_expires,
            logs=tuple(logs_by_rx[rx.id]),
        )
        for rx, st, med in ((r.StudentMedication, r.Student, r.Medication) for r in found)
    )
    return SchedulePage(rows=rows, total=total, offset=offset, limit=limit)
