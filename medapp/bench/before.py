"""The seed plan's "before" algorithms, ported faithfully, to measure our speed-up against.

Never used by the app: these are the slow, unsafe versions (substring frequency parsing that
defaults to 9 am, O(n*m) log matching, ILIKE scans, load-everything inventory).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from medapp.db.models import (
    Medication,
    MedicationInventory,
    MedicationLog,
    Student,
    StudentMedication,
    User,
)


def seed_parse_frequency_to_times(frequency: str) -> list[tuple[int, int]]:
    """The seed's parseFrequencyToTimes: substring tests, 9 am for anything else."""
    freq = frequency.lower()
    if "once" in freq or "1x" in freq or freq == "daily":
        return [(9, 0)]
    if "twice" in freq or "2x" in freq or "bid" in freq:
        return [(9, 0), (21, 0)]
    if "three" in freq or "3x" in freq or "tid" in freq:
        return [(8, 0), (14, 0), (20, 0)]
    if "four" in freq or "4x" in freq or "qid" in freq:
        return [(8, 0), (12, 0), (16, 0), (20, 0)]
    if "every 6 hours" in freq or "q6h" in freq:
        return [(0, 0), (6, 0), (12, 0), (18, 0)]
    if "every 8 hours" in freq or "q8h" in freq:
        return [(0, 0), (8, 0), (16, 0)]
    return [(9, 0)]


def search_before(session: Session, query: str, limit: int = 25) -> list[Any]:
    """ILIKE '%q%' on name, generic name and manufacturer; no ranking but by name."""
    like = f"%{query}%"
    return list(
        session.scalars(
            select(Medication)
            .where(
                or_(
                    Medication.name.ilike(like),
                    Medication.generic_name.ilike(like),
                    Medication.manufacturer.ilike(like),
                )
            )
            .order_by(Medication.name)
            .limit(limit)
        )
    )


def reminders_before(
    session: Session, day: dt.date, school_id: uuid.UUID | None, tz: dt.tzinfo
) -> list[dict[str, Any]]:
    """Load active prescriptions with medication, student and the day's logs; nested loops."""
    start = dt.datetime.combine(day, dt.time.min, tz)
    end = start + dt.timedelta(days=1)
    query = (
        select(StudentMedication)
        .join(Student, Student.id == StudentMedication.student_id)
        .where(StudentMedication.is_active)
        .options(
            selectinload(StudentMedication.medication), selectinload(StudentMedication.student)
        )
    )
    if school_id is not None:
        query = query.where(Student.school_id == school_id)
    meds = list(session.scalars(query))
    logs_by_rx: dict[uuid.UUID, list[MedicationLog]] = {m.id: [] for m in meds}
    for log in session.scalars(
        select(MedicationLog).where(
            MedicationLog.time_given >= start, MedicationLog.time_given < end
        )
    ):
        if log.student_medication_id in logs_by_rx:
            logs_by_rx[log.student_medication_id].append(log)
    reminders = []
    for med in meds:  # n medications
        for hour, minute in seed_parse_frequency_to_times(med.frequency):  # m times, re-parsed
            scheduled = dt.datetime.combine(day, dt.time(hour, minute), tz)
            administered = any(  # linear scan per scheduled time
                abs((log.time_given - scheduled).total_seconds()) < 3600
                for log in logs_by_rx[med.id]
            )
            reminders.append(
                {
                    "id": f"{med.id}_{scheduled.isoformat()}",
                    "student": f"{med.student.first_name} {med.student.last_name}",
                    "medication": med.medication.name,
                    "scheduled": scheduled,
                    "status": "COMPLETED"
                    if administered
                    else ("MISSED" if scheduled < dt.datetime.now(tz) else "PENDING"),
                }
            )
    return reminders


def schedule_before(
    session: Session, start: dt.date, end: dt.date, school_id: uuid.UUID, tz: dt.tzinfo
) -> list[Any]:
    """Every prescription with ALL its logs in range and each log's nurse (no cap, no page)."""
    lo = dt.datetime.combine(start, dt.time.min, tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tz)
    meds = list(
        session.scalars(
            select(StudentMedication)
            .join(Student, Student.id == StudentMedication.student_id)
            .where(StudentMedication.is_active, Student.school_id == school_id)
            .options(
                selectinload(StudentMedication.medication), selectinload(StudentMedication.student)
            )
            .order_by(Student.last_name, Student.first_name)
        )
    )
    ids = [m.id for m in meds]
    logs = session.execute(
        select(MedicationLog, User.first_name, User.last_name)
        .join(User, User.id == MedicationLog.nurse_id)
        .where(
            MedicationLog.student_medication_id.in_(ids),
            MedicationLog.time_given >= lo,
            MedicationLog.time_given < hi,
        )
    ).all()
    return [meds, logs]


def inventory_before(session: Session, today: dt.date) -> dict[str, list[Any]]:
    """Entire inventory with medications, categorised in memory with three filter passes."""
    inventory = list(
        session.scalars(
            select(MedicationInventory)
            .join(Medication, Medication.id == MedicationInventory.medication_id)
            .options(selectinload(MedicationInventory.medication))
            .order_by(Medication.name, MedicationInventory.expiration_date)
        )
    )
    near = today + dt.timedelta(days=30)
    categorised = [
        (
            item,
            item.quantity <= item.reorder_level,
            item.expiration_date <= near,
            item.expiration_date <= today,
        )
        for item in inventory
    ]
    return {
        "lowStock": [c[0] for c in categorised if c[1]],
        "nearExpiry": [c[0] for c in categorised if c[2] and not c[3]],
        "expired": [c[0] for c in categorised if c[3]],
    }
