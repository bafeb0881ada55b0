"""Small hand-built rows for db tests (the demo generator is for scale, these are for clarity)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.orm import Session

from medapp.db.models import (
    Medication,
    MedicationInventory,
    MedicationLog,
    School,
    Student,
    StudentMedication,
    User,
    UserSchool,
)


def school(s: Session, code: str = "TEST-ES") -> School:
    row = School(code=code, name="Test Elementary", timezone="America/New_York")
    s.add(row)
    s.flush()
    return row


def nurse(s: Session, sch: School, username: str = "nurse.test") -> User:
    row = User(
        first_name="Nora", last_name="Nurse", username=username, role="NURSE", school_id=sch.id
    )
    s.add(row)
    s.flush()
    s.add(UserSchool(user_id=row.id, school_id=sch.id))
    s.flush()
    return row


def student(s: Session, sch: School, number: str = "S000001") -> Student:
    row = Student(
        student_number=number,
        first_name="Ada",
        last_name="Lovelace",
        grade="3",
        date_of_birth=dt.date(2017, 5, 1),
        school_id=sch.id,
    )
    s.add(row)
    s.flush()
    return row


def medication(
    s: Session, name: str = "Methylphenidate", ndc: str | None = "0000-0000"
) -> Medication:
    row = Medication(
        name=name,
        generic_name="methylphenidate hydrochloride",
        dosage_form="TABLET",
        strength="10 mg",
        ndc=ndc,
        is_controlled=True,
        dea_schedule="CII",
    )
    s.add(row)
    s.flush()
    return row


def prescription(s: Session, stu: Student, med: Medication, **kw: object) -> StudentMedication:
    values: dict[str, object] = dict(
        dosage="10 mg",
        frequency="daily at noon",
        route="PO",
        start_date=dt.date(2026, 9, 1),
        prescribed_by="Dr. Who",
        administration_times=[dt.time(12, 0)],
    )
    values.update(kw)
    row = StudentMedication(student_id=stu.id, medication_id=med.id, **values)
    s.add(row)
    s.flush()
    return row


def log(s: Session, rx: StudentMedication, who: User, **kw: object) -> MedicationLog:
    when = dt.datetime(2026, 11, 2, 17, 0, tzinfo=dt.UTC)
    values: dict[str, object] = dict(
        id=uuid.uuid4(),
        nurse_id=who.id,
        time_given=when,
        scheduled_for=when,
        status="GIVEN",
        dosage_given="10 mg",
    )
    values.update(kw)
    row = MedicationLog(student_medication_id=rx.id, **values)
    s.add(row)
    s.flush()
    return row


def lot(s: Session, med: Medication, **kw: object) -> MedicationInventory:
    values: dict[str, object] = dict(
        batch_number="B1", quantity=10, reorder_level=2, expiration_date=dt.date(2027, 6, 1)
    )
    values.update(kw)
    row = MedicationInventory(medication_id=med.id, **values)
    s.add(row)
    s.flush()
    return row
