"""Students' own supplies: what each has left, refill notices, field-trip sign-out and count-back.

A student's supply is the lots kept in the office with ``medication_inventory.student_id`` set
(received with :func:`medapp.services.inventory_admin.add_lot`, "brought in by a parent"). Its
count moves only through ledger lines (``inventory_adjustments``): a GIVEN dose takes from the
lot in the dose's own transaction (``services/doses.py``), a correction gives it back
(``services/corrections.py``), and a field trip moves it here. Nothing is a counter without
history.

* ``school_supplies(desk, school_id)`` / ``student_supplies(desk, student_id)`` — one line per
  student and medication: doses left on the shelf (unexpired lots), school doses per day (the
  order's schedule at this school), school days left and the day it runs out, and whether a
  refill notice is due (``DEFAULT_REFILL_SCHOOL_DAYS``, 5, or fewer);
* ``supply_attention(desk, school_id)`` — what "Needs attention" lists: refill notices and
  authorizations that expire within 30 days, each with the letter that answers it
  (``medapp.services.letters``);
* ``sign_out_trip(desk, TripOut(...))`` / ``count_back_trip(desk, TripBack(...))`` — doses of a
  student's lot counted out to a teacher and back, both names on each row
  (``field_trip_signouts``, migration 0009_supplies_field_trips), the lot's count moved by a
  ledger line in the same transaction; ids come from the caller, so a retry records once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from medapp.db.mapping import calendar_from_row, prescription_from_row
from medapp.db.models import (
    FieldTripSignout,
    InventoryAdjustment,
    Medication,
    MedicationInventory,
    School,
    SchoolClosure,
    Student,
    StudentMedication,
    User,
)
from medapp.domain.frequency import FrequencyError
from medapp.domain.schedule import effective_frequency, school_dose_times
from medapp.domain.school import SchoolCalendar
from medapp.domain.supplies import (
    AUTHORIZATION_LETTER_DAYS,
    DEFAULT_REFILL_SCHOOL_DAYS,
    authorization_expiring,
    refill_due,
    runs_out_on,
    school_days_left,
)
from medapp.services.desk import Desk
from medapp.services.inventory_admin import InventoryInputError, school_today

__all__ = [
    "AttentionItem",
    "SupplyLine",
    "SupplyOwner",
    "TripBack",
    "TripOut",
    "TripRow",
    "count_back_trip",
    "open_trips",
    "school_supplies",
    "sign_out_trip",
    "student_supplies",
    "supply_attention",
    "supply_owners",
]

MAX_NAME_CHARS = 200


@dataclass(frozen=True)
class SupplyLine:
    """One student's supply of one medication (all her unexpired lots of it)."""

    student_id: uuid.UUID
    student_name: str  # "First Last"
    student_number: str
    medication_id: uuid.UUID
    medication_label: str
    order_id: uuid.UUID | None  # her active order of it (the scheduled one first)
    lot_ids: tuple[uuid.UUID, ...]
    quantity: int
    doses_per_day: int  # school doses per school day (0: PRN or none at school)
    school_days_left: int | None
    runs_out_on: dt.date | None
    refill_due: bool
    authorization_expires: dt.date | None


@dataclass(frozen=True)
class AttentionItem:
    """One line of "Needs attention" about supplies; ``letter`` is what answers it."""

    kind: str  # REFILL | AUTHORIZATION
    student_id: uuid.UUID
    order_id: uuid.UUID
    student_name: str
    text: str
    letter: str  # refill | authorization


@dataclass(frozen=True)
class TripOut:
    id: uuid.UUID
    inventory_id: uuid.UUID
    doses: int
    trip: str
    teacher: str  # the person who takes the doses, as she signs
    notes: str | None = None


@dataclass(frozen=True)
class TripBack:
    id: uuid.UUID
    signout_id: uuid.UUID
    returned: int
    given_on_trip: int
    returned_by: str
    notes: str | None = None


@dataclass(frozen=True)
class TripRow:
    id: uuid.UUID
    inventory_id: uuid.UUID
    student_id: uuid.UUID
    student_name: str
    medication_label: str
    direction: str
    doses: int
    given_on_trip: int | None
    trip: str
    other_person: str
    nurse_name: str
    occurred_at: dt.datetime
    quantity_after: int | None  # the lot's count after this row's ledger line


def _label(med: Medication) -> str:
    strength = (med.strength or "").strip()
    if not strength or strength.lower() in med.name.lower():
        return med.name
    return f"{med.name} {strength}"


def _calendar(s: Session, school: School, today: dt.date) -> SchoolCalendar:
    closures = s.scalars(
        select(SchoolClosure.closed_on).where(
            SchoolClosure.school_id == school.id,
            SchoolClosure.closed_on >= today,
            SchoolClosure.closed_on <= today + dt.timedelta(days=400),
        )
    ).all()
    return calendar_from_row(school, closures)


def school_doses_per_day(rx: StudentMedication, calendar: SchoolCalendar) -> int:
    """How many doses of this order the school gives on a school day (0 for PRN)."""
    if rx.is_prn:
        return 0
    try:
        freq = effective_frequency(prescription_from_row(rx), calendar)
    except FrequencyError:
        return len(rx.administration_times or ())
    if freq.prn:
        return 0
    return len(school_dose_times(freq, calendar))


def _lines(
    s: Session,
    school: School,
    today: dt.date,
    threshold_days: int,
    student_id: uuid.UUID | None = None,
) -> tuple[SupplyLine, ...]:
    calendar = _calendar(s, school, today)
    query = (
        select(MedicationInventory, Medication, Student)
        .join(Medication, Medication.id == MedicationInventory.medication_id)
        .join(Student, Student.id == MedicationInventory.student_id)
        .where(Student.school_id == school.id, Student.is_active)
        .order_by(Student.last_name, Student.first_name, Medication.name)
    )
    if student_id is not None:
        query = query.where(Student.id == student_id)
    groups: dict[tuple[uuid.UUID, uuid.UUID], list[tuple[MedicationInventory, Medication, Student]]]
    groups = {}
    for lot, med, stu in s.execute(query):
        groups.setdefault((stu.id, med.id), []).append((lot, med, stu))
    if not groups:
        return ()
    orders = s.scalars(
        select(StudentMedication).where(
            StudentMedication.student_id.in_({k[0] for k in groups}),
            StudentMedication.is_active,
            (StudentMedication.end_date.is_(None)) | (StudentMedication.end_date >= today),
        )
    ).all()
    by_key: dict[tuple[uuid.UUID, uuid.UUID], list[tuple[int, StudentMedication]]] = {}
    for rx in orders:
        by_key.setdefault((rx.student_id, rx.medication_id), []).append(
            (school_doses_per_day(rx, calendar), rx)
        )
    out = []
    for key, rows in groups.items():
        _lot, med, stu = rows[0]
        usable = [lot for lot, _m, _s in rows if lot.expiration_date >= today]
        quantity = sum(lot.quantity for lot in usable)
        candidates = sorted(by_key.get(key, []), key=lambda c: (-c[0], str(c[1].id)))
        per_day = candidates[0][0] if candidates else 0
        order: StudentMedication | None = candidates[0][1] if candidates else None
        days = school_days_left(quantity, per_day)
        out.append(
            SupplyLine(
                student_id=stu.id,
                student_name=f"{stu.first_name} {stu.last_name}",
                student_number=stu.student_number,
                medication_id=med.id,
                medication_label=_label(med),
                order_id=order.id if order is not None else None,
                lot_ids=tuple(lot.id for lot in usable),
                quantity=quantity,
                doses_per_day=per_day,
                school_days_left=days,
                runs_out_on=runs_out_on(today, days, calendar.is_school_day)
                if days is not None
                else None,
                refill_due=order is not None and refill_due(quantity, per_day, threshold_days),
                authorization_expires=order.authorization_expires if order is not None else None,
            )
        )
    return tuple(out)


def _school(s: Session, school_id: uuid.UUID) -> School:
    school = s.get(School, school_id)
    if school is None:
        raise InventoryInputError("school", "That school is not in the database.")
    return school


def school_supplies(
    desk: Desk,
    school_id: uuid.UUID,
    *,
    today: dt.date | None = None,
    threshold_days: int = DEFAULT_REFILL_SCHOOL_DAYS,
) -> tuple[SupplyLine, ...]:
    """Every student's own supply at this school, by student name."""
    desk.actor.require_read(school_id, "this school's stock")
    with desk.sessions() as s:
        school = _school(s, school_id)
        today = today or school_today(school.timezone, desk.now())
        return _lines(s, school, today, threshold_days)


def student_supplies(
    desk: Desk,
    student_id: uuid.UUID,
    *,
    today: dt.date | None = None,
    threshold_days: int = DEFAULT_REFILL_SCHOOL_DAYS,
) -> tuple[SupplyLine, ...]:
    """One student's own supplies (for her page: what she has left, when it runs out)."""
    with desk.sessions() as s:
        stu = s.get(Student, student_id)
        if stu is None:
            raise InventoryInputError("student", "That student is not in the database.")
        desk.actor.require_read(stu.school_id, "this student")
        school = _school(s, stu.school_id)
        today = today or school_today(school.timezone, desk.now())
        return _lines(s, school, today, threshold_days, student_id)


def supply_attention(
    desk: Desk,
    school_id: uuid.UUID,
    *,
    today: dt.date | None = None,
    threshold_days: int = DEFAULT_REFILL_SCHOOL_DAYS,
    authorization_days: int = AUTHORIZATION_LETTER_DAYS,
) -> tuple[AttentionItem, ...]:
    """Refill notices and expiring authorizations of the school, most urgent first.

    Text names the student by first name and last initial, and the medication (it is read at
    the nurse's desk, like the rest of "Needs attention")."""
    desk.actor.require_read(school_id, "this school's students")
    with desk.sessions() as s:
        school = _school(s, school_id)
        today = today or school_today(school.timezone, desk.now())
        items: list[tuple[tuple[int, dt.date], AttentionItem]] = []
        for line in _lines(s, school, today, threshold_days):
            if not line.refill_due or line.order_id is None:
                continue
            short = _short(line.student_name)
            when = (
                f"runs out {line.runs_out_on.strftime('%a %d %b')}"
                if line.runs_out_on
                else "runs out soon"
            )
            text_ = (
                f"Refill: {short} — {line.medication_label}, {line.quantity} left "
                f"({line.school_days_left} school day{'s' if line.school_days_left != 1 else ''}, "
                f"{when})"
                if line.quantity
                else f"Refill: {short} — {line.medication_label}, none left"
            )
            items.append(
                (
                    (0, line.runs_out_on or today),
                    AttentionItem(
                        "REFILL", line.student_id, line.order_id, line.student_name, text_, "refill"
                    ),
                )
            )
        rows = s.execute(
            select(StudentMedication, Student, Medication)
            .join(Student, Student.id == StudentMedication.student_id)
            .join(Medication, Medication.id == StudentMedication.medication_id)
            .where(
                Student.school_id == school.id,
                Student.is_active,
                StudentMedication.is_active,
                StudentMedication.authorization_expires.is_not(None),
                StudentMedication.authorization_expires
                <= today + dt.timedelta(days=authorization_days),
                (StudentMedication.end_date.is_(None)) | (StudentMedication.end_date >= today),
            )
        )
        for rx, stu, med in rows:
            expires = rx.authorization_expires
            if expires is None or not authorization_expiring(expires, today, authorization_days):
                continue
            name = f"{stu.first_name} {stu.last_name}"
            verb = "expired" if expires < today else "expires"
            items.append(
                (
                    (1, expires),
                    AttentionItem(
                        "AUTHORIZATION",
                        stu.id,
                        rx.id,
                        name,
                        f"Authorization {verb} {expires.isoformat()}: {_short(name)} — "
                        f"{_label(med)}",
                        "authorization",
                    ),
                )
            )
    items.sort(key=lambda pair: (pair[0][1], pair[0][0]))
    return tuple(item for _k, item in items)


def _short(full_name: str) -> str:
    first, _, last = full_name.partition(" ")
    return f"{first} {last[:1]}." if last else first


# --- field trips ----------------------------------------------------------------------------


def _name(value: str | None, field: str, what: str) -> str:
    cleaned = " ".join((value or "").split())
    if not cleaned:
        raise InventoryInputError(field, f"Write {what}.")
    if len(cleaned) > MAX_NAME_CHARS:
        raise InventoryInputError(field, f"That is longer than {MAX_NAME_CHARS} characters.")
    return cleaned


def _notes(value: str | None) -> str | None:
    cleaned = " ".join((value or "").split())
    return cleaned or None


def _move(
    s: Session, lot: MedicationInventory, delta: int, reason: str, user_id: uuid.UUID
) -> InventoryAdjustment:
    after = lot.quantity + delta
    lot.quantity = after
    line = InventoryAdjustment(
        id=uuid.uuid4(),
        inventory_id=lot.id,
        delta=delta,
        quantity_after=after,
        reason=reason,
        user_id=user_id,
    )
    s.add(line)
    s.flush()
    return line


def sign_out_trip(desk: Desk, cmd: TripOut) -> TripRow:
    """Count doses of a student's lot out to the teacher taking her on a trip (one
    transaction: the sign-out row and the ledger line that takes them off the lot)."""
    trip = _name(cmd.trip, "trip", "where the trip goes (and its date)")
    teacher = _name(cmd.teacher, "teacher", "the name of the teacher who takes the doses")
    actor = desk.actor
    actor.require_active()
    with desk.sessions.begin() as s:
        done = s.get(FieldTripSignout, cmd.id)
        if done is not None:  # the same press twice: recorded once
            return _trip_row(s, done)
        lot = s.execute(
            select(MedicationInventory)
            .where(MedicationInventory.id == cmd.inventory_id)
            .with_for_update()
        ).scalar_one_or_none()
        if lot is None:
            raise InventoryInputError("lot", "That stock lot is not in the database.")
        if lot.student_id is None:
            raise InventoryInputError(
                "lot", "Only a student's own supply goes on a field trip: choose her lot."
            )
        stu = s.get(Student, lot.student_id)
        assert stu is not None
        actor.require_write(stu.school_id, "sign out this student's doses")
        if not 1 <= cmd.doses <= lot.quantity:
            raise InventoryInputError(
                "doses",
                f"Lot {lot.batch_number} holds {lot.quantity}: sign out between 1 and "
                f"{lot.quantity} doses."
                if lot.quantity
                else f"Lot {lot.batch_number} is empty: there is nothing to sign out.",
            )
        today = school_today(_school(s, stu.school_id).timezone, desk.now())
        if lot.expiration_date < today:
            raise InventoryInputError("lot", f"Lot {lot.batch_number} has expired: do not send it.")
        line = _move(
            s, lot, -cmd.doses, f"field trip: signed out to {teacher} ({trip})", actor.user_id
        )
        row = FieldTripSignout(
            id=cmd.id,
            inventory_id=lot.id,
            student_id=stu.id,
            direction="OUT",
            doses=cmd.doses,
            trip=trip,
            other_person=teacher,
            nurse_id=actor.user_id,
            adjustment_id=line.id,
            notes=_notes(cmd.notes),
        )
        s.add(row)
        s.flush()
        return _trip_row(s, row)


def count_back_trip(desk: Desk, cmd: TripBack) -> TripRow:
    """Count a trip's doses back in: returned ones go back on the lot (ledger line), those the
    teacher reports given are recorded as hers; a shortfall needs a note saying why."""
    returned_by = _name(cmd.returned_by, "returned_by", "who brings the doses back")
    if cmd.returned < 0 or cmd.given_on_trip < 0:
        raise InventoryInputError("returned", "Counts cannot be negative.")
    actor = desk.actor
    actor.require_active()
    with desk.sessions.begin() as s:
        done = s.get(FieldTripSignout, cmd.id)
        if done is not None:
            return _trip_row(s, done)
        out = s.get(FieldTripSignout, cmd.signout_id)
        if out is None or out.direction != "OUT":
            raise InventoryInputError("trip", "That field-trip sign-out is not in the database.")
        back = s.scalars(
            select(FieldTripSignout).where(FieldTripSignout.signout_id == out.id)
        ).first()
        if back is not None:
            raise InventoryInputError("trip", "This trip's doses were already counted back.")
        lot = s.execute(
            select(MedicationInventory)
            .where(MedicationInventory.id == out.inventory_id)
            .with_for_update()
        ).scalar_one()
        stu = s.get(Student, out.student_id)
        assert stu is not None
        actor.require_write(stu.school_id, "count back this student's doses")
        accounted = cmd.returned + cmd.given_on_trip
        notes = _notes(cmd.notes)
        if accounted > out.doses:
            raise InventoryInputError(
                "returned",
                f"{out.doses} doses went on the trip; {accounted} cannot come back or be given.",
            )
        if accounted < out.doses and not notes:
            raise InventoryInputError(
                "notes",
                f"{out.doses - accounted} of the {out.doses} doses are not accounted for: "
                "write what happened to them.",
            )
        line = (
            _move(
                s, lot, cmd.returned, f"field trip: counted back from {returned_by}", actor.user_id
            )
            if cmd.returned
            else None
        )
        row = FieldTripSignout(
            id=cmd.id,
            inventory_id=lot.id,
            student_id=stu.id,
            direction="BACK",
            signout_id=out.id,
            doses=cmd.returned,
            given_on_trip=cmd.given_on_trip,
            trip=out.trip,
            other_person=returned_by,
            nurse_id=actor.user_id,
            adjustment_id=line.id if line is not None else None,
            notes=notes,
        )
        s.add(row)
        s.flush()
        return _trip_row(s, row)


def _trip_row(s: Session, row: FieldTripSignout) -> TripRow:
    stu = s.get(Student, row.student_id)
    lot = s.get(MedicationInventory, row.inventory_id)
    nurse = s.get(User, row.nurse_id)
    assert stu is not None and lot is not None
    med = s.get(Medication, lot.medication_id)
    assert med is not None
    after = (
        s.scalar(
            select(InventoryAdjustment.quantity_after).where(
                InventoryAdjustment.id == row.adjustment_id
            )
        )
        if row.adjustment_id
        else None
    )
    return TripRow(
        id=row.id,
        inventory_id=row.inventory_id,
        student_id=row.student_id,
        student_name=f"{stu.first_name} {stu.last_name}",
        medication_label=_label(med),
        direction=row.direction,
        doses=row.doses,
        given_on_trip=row.given_on_trip,
        trip=row.trip,
        other_person=row.other_person,
        nurse_name=nurse.display_name if nurse else "",
        occurred_at=row.occurred_at,
        quantity_after=after,
    )


def open_trips(desk: Desk, school_id: uuid.UUID) -> tuple[TripRow, ...]:
    """Sign-outs of this school not counted back yet, oldest first."""
    desk.actor.require_read(school_id, "this school's students")
    with desk.sessions() as s:
        back_ids = select(FieldTripSignout.signout_id).where(
            FieldTripSignout.signout_id.is_not(None)
        )
        rows = s.scalars(
            select(FieldTripSignout)
            .join(Student, Student.id == FieldTripSignout.student_id)
            .where(
                Student.school_id == school_id,
                FieldTripSignout.direction == "OUT",
                FieldTripSignout.id.not_in(back_ids),
            )
            .order_by(FieldTripSignout.occurred_at)
        ).all()
        return tuple(_trip_row(s, r) for r in rows)


@dataclass(frozen=True)
class SupplyOwner:
    """A student a received lot may belong to (she has an active order of the medication)."""

    student_id: uuid.UUID
    label: str  # "Last, First · number"


def supply_owners(
    desk: Desk, school_id: uuid.UUID, medication_id: uuid.UUID
) -> tuple[SupplyOwner, ...]:
    """The school's students with an active order of this medication, by name: whom a parent
    may be bringing it in for (the receive dialog's "For" list)."""
    desk.actor.require_read(school_id, "this school's students")
    with desk.sessions() as s:
        rows = s.execute(
            select(Student.id, Student.first_name, Student.last_name, Student.student_number)
            .join(StudentMedication, StudentMedication.student_id == Student.id)
            .where(
                Student.school_id == school_id,
                Student.is_active,
                StudentMedication.medication_id == medication_id,
                StudentMedication.is_active,
            )
            .distinct()
            .order_by(Student.last_name, Student.first_name, Student.student_number)
        ).all()
    return tuple(
        SupplyOwner(r.id, f"{r.last_name}, {r.first_name} · {r.student_number}") for r in rows
    )
