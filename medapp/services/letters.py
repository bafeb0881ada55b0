"""Letters to a parent: a refill of the student's own supply, or an authorization to renew.

The letter's facts come from the database here (``letter_data``); ``medapp.reports.letters``
turns them into the HTML page and ``medapp.reports.pdf.write_pdf`` into a PDF (Qt stays out of
the services). The same items are listed in "Needs attention"
(``medapp.services.supplies.supply_attention``). Preparing a letter opens the student's record,
so it is logged as a READ like her card.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select

from medapp.db.models import Medication, School, Student, StudentMedication
from medapp.domain.supplies import DEFAULT_REFILL_SCHOOL_DAYS
from medapp.services.desk import Desk
from medapp.services.inventory_admin import InventoryInputError, school_today
from medapp.services.students import log_student_opened
from medapp.services.supplies import SupplyLine, _lines

__all__ = ["LETTER_KINDS", "LetterData", "letter_data"]

LETTER_KINDS = ("refill", "authorization")


@dataclass(frozen=True)
class LetterData:
    kind: str  # refill | authorization
    today: dt.date
    school_name: str
    student_name: str  # "First Last"
    student_number: str
    grade: str
    medication_label: str
    dosage: str
    frequency: str
    prescribed_by: str
    authorization_expires: dt.date | None
    quantity_left: int | None  # refill letters: doses left on the shelf
    school_days_left: int | None
    runs_out_on: dt.date | None
    nurse_name: str


def letter_data(
    desk: Desk,
    kind: str,
    order_id: uuid.UUID,
    *,
    today: dt.date | None = None,
    threshold_days: int = DEFAULT_REFILL_SCHOOL_DAYS,
) -> LetterData:
    """What a letter of ``kind`` about this order says (the student's school must be the
    desk's)."""
    if kind not in LETTER_KINDS:
        raise InventoryInputError("kind", f"Unknown letter: {kind}.")
    with desk.sessions() as s:
        row = s.execute(
            select(StudentMedication, Student, Medication, School)
            .join(Student, Student.id == StudentMedication.student_id)
            .join(Medication, Medication.id == StudentMedication.medication_id)
            .join(School, School.id == Student.school_id)
            .where(StudentMedication.id == order_id)
        ).first()
        if row is None:
            raise InventoryInputError("order", "That order is not in the database.")
        rx, stu, med, school = row
        desk.actor.require_read(school.id, "this student")
        today = today or school_today(school.timezone, desk.now())
        supply: SupplyLine | None = None
        if kind == "refill":
            supply = next(
                (
                    line
                    for line in _lines(s, school, today, threshold_days, stu.id)
                    if line.medication_id == med.id
                ),
                None,
            )
            if supply is None:
                raise InventoryInputError(
                    "order", "This student keeps no supply of this medication at school."
                )
        strength = (med.strength or "").strip()
        label = (
            med.name
            if not strength or strength.lower() in med.name.lower()
            else f"{med.name} {strength}"
        )
        data = LetterData(
            kind=kind,
            today=today,
            school_name=school.name,
            student_name=f"{stu.first_name} {stu.last_name}",
            student_number=stu.student_number,
            grade=stu.grade,
            medication_label=label,
            dosage=rx.dosage,
            frequency=rx.frequency,
            prescribed_by=rx.prescribed_by,
            authorization_expires=rx.authorization_expires,
            quantity_left=supply.quantity if supply else None,
            school_days_left=supply.school_days_left if supply else None,
            runs_out_on=supply.runs_out_on if supply else None,
            nurse_name=desk.actor.display_name,
        )
        log_student_opened(s, stu.id)
    return data
