"""The student's page: everything the nurse needs about one student, read in one session, and
the as-needed ("PRN") dose with its complaint and, later, its outcome.

* ``student_page(desk, student_id)`` — allergies, conditions, emergency contacts, every order
  with its authorization verdict, today's doses, the recent history (corrections included, the
  superseded records kept), reactions, the student's own supply on the office shelf
  (``medication_inventory.student_id``) and the PRN doses still waiting for an outcome.
  Opening it is logged (a READ row in the audit trail, as the student card is).
* ``find_students(desk, text)`` — the students of the desk's schools whose name or number
  matches, for the Search pane; ``student_by_number`` for a scanned student ID card.
* ``give_prn(desk, cmd, complaint=…)`` — a GIVEN of an as-needed order through
  ``record_dose`` itself, so the PRN limits, allergy and authorization rules and the outbox are
  the same; the complaint ("headache") is required and stored on the dose record.
* ``record_prn_outcome(desk, cmd)`` — "resolved / sent home / no change / other" with a note,
  who and when: its own row (``prn_outcomes``), one per dose, set once (a trigger refuses any
  change), with a client id so a retry lands once.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from medapp.cache.store import school_tag
from medapp.db.mapping import calendar_from_row
from medapp.db.models import (
    PRN_OUTCOMES,
    AdverseReaction,
    EmergencyContact,
    Medication,
    MedicationInventory,
    MedicationLog,
    PrnOutcome,
    School,
    Student,
    StudentCondition,
    StudentMedication,
    User,
)
from medapp.domain.schedule import Prescription, authorization_status
from medapp.services.desk import AccessDenied, Desk
from medapp.services.doses import DoseCommand, DoseInputError, DoseResult, record_dose
from medapp.services.students import (
    DoseLogInfo,
    PrescriptionDetail,
    StudentCard,
    _card,
    _detail,
    log_student_opened,
)

__all__ = [
    "OUTCOME_LABELS",
    "ConditionInfo",
    "ContactInfo",
    "OrderInfo",
    "PageDose",
    "PrnOutcomeCommand",
    "PrnOutcomeInputError",
    "ReactionInfo",
    "StudentHit",
    "StudentPage",
    "SupplyLot",
    "find_students",
    "give_prn",
    "looks_like_student_number",
    "prn_orders_of_medication",
    "record_prn_outcome",
    "student_by_number",
    "student_page",
]

OUTCOME_LABELS = {
    "RESOLVED": "Resolved — back to class",
    "SENT_HOME": "Sent home",
    "NO_CHANGE": "No change",
    "OTHER": "Other (say what)",
}
assert set(OUTCOME_LABELS) == set(PRN_OUTCOMES)

#: What a student ID card's barcode types: a letter or two and digits ("S000114"), or digits
#: only; an NDC or UPC (10–12 digits) is a medication, never a student.
_STUDENT_NUMBER = re.compile(r"^[A-Za-z]{1,3}\d{3,12}$|^\d{4,9}$")
HISTORY_DAYS = 30


class PrnOutcomeInputError(ValueError):
    """The outcome cannot be recorded as asked (one sentence for the nurse)."""


@dataclass(frozen=True)
class ConditionInfo:
    name: str
    care_plan: str | None


@dataclass(frozen=True)
class ContactInfo:
    name: str
    relationship: str
    phone: str
    priority: int
    notes: str | None


@dataclass(frozen=True)
class OrderInfo:
    detail: PrescriptionDetail
    #: "Authorization expired on …" / "… expires in 12 days" (the domain's rule), or None
    authorization_message: str | None
    authorization_code: str | None


@dataclass(frozen=True)
class PageDose:
    """A dose record on the page: which order, what happened, and (PRN) the complaint and
    the outcome when one was recorded."""

    log: DoseLogInfo
    prescription_id: uuid.UUID
    medication_name: str
    is_prn: bool
    complaint: str | None
    outcome: str | None = None  # PRN_OUTCOMES value
    outcome_note: str | None = None
    outcome_by: str | None = None
    outcome_at: dt.datetime | None = None

    @property
    def outcome_label(self) -> str:
        if self.outcome is None:
            return "—" if not self.is_prn or self.log.status != "GIVEN" else "Outcome not recorded"
        text = OUTCOME_LABELS.get(self.outcome, self.outcome).split(" (")[0]
        return f"{text}: {self.outcome_note}" if self.outcome_note else text

    @property
    def waiting_for_outcome(self) -> bool:
        return (
            self.is_prn
            and self.log.status == "GIVEN"
            and not self.log.superseded
            and self.outcome is None
        )


@dataclass(frozen=True)
class ReactionInfo:
    occurred_at: dt.datetime
    medication_name: str
    severity: str
    reaction: str
    action_taken: str | None


@dataclass(frozen=True)
class SupplyLot:
    """A lot on the office shelf that belongs to this student (brought in by a parent)."""

    id: uuid.UUID
    medication_name: str
    batch_number: str
    quantity: int
    expiration_date: dt.date


@dataclass(frozen=True)
class StudentPage:
    student: StudentCard
    date_of_birth: dt.date
    school_name: str
    school_timezone: str
    day: dt.date  # school-local today
    conditions: tuple[ConditionInfo, ...]
    contacts: tuple[ContactInfo, ...]  # priority order
    orders: tuple[OrderInfo, ...]  # active first, then by medication name
    today: tuple[PageDose, ...]  # today's records, oldest first
    history: tuple[PageDose, ...]  # the last HISTORY_DAYS days before today, newest first
    reactions: tuple[ReactionInfo, ...]  # newest first
    supplies: tuple[SupplyLot, ...]

    @property
    def prn_orders(self) -> tuple[PrescriptionDetail, ...]:
        return tuple(o.detail for o in self.orders if o.detail.is_prn and o.detail.is_active)

    @property
    def awaiting_outcome(self) -> tuple[PageDose, ...]:
        """Today's as-needed doses given without an outcome yet (oldest first)."""
        return tuple(d for d in self.today if d.waiting_for_outcome)


@dataclass(frozen=True)
class StudentHit:
    id: uuid.UUID
    student_number: str
    first_name: str
    last_name: str
    grade: str

    @property
    def label(self) -> str:
        return f"{self.last_name}, {self.first_name} · {self.student_number}"


@dataclass(frozen=True)
class PrnOutcomeCommand:
    id: uuid.UUID  # client-generated: a retry lands once
    medication_log_id: uuid.UUID
    outcome: str  # PRN_OUTCOMES
    recorded_by_id: uuid.UUID
    observed_at: dt.datetime
    note: str | None = None


# --------------------------------------------------------------------------------------------
# Finding a student
# --------------------------------------------------------------------------------------------


def looks_like_student_number(text: str) -> bool:
    """True for what a student ID card's barcode types ("S000114"), never for an NDC."""
    return bool(_STUDENT_NUMBER.match(text.strip()))


def _hit(st: Student) -> StudentHit:
    return StudentHit(st.id, st.student_number, st.first_name, st.last_name, st.grade)


def find_students(desk: Desk, text: str, *, limit: int = 6) -> tuple[StudentHit, ...]:
    """Active students of the desk's schools whose number starts with ``text`` or whose first
    or last name (or "last, first" / "first last") starts with it; by name."""
    words = [w for w in re.split(r"[\s,]+", text.strip()) if w]
    schools = desk.actor.school_ids
    if not words or not schools:
        return ()
    query = select(Student).where(Student.is_active, Student.school_id.in_(schools))
    if len(words) == 1:
        prefix = _like_prefix(words[0])
        query = query.where(
            or_(
                func.lower(Student.student_number).like(prefix),
                func.lower(Student.last_name).like(prefix),
                func.lower(Student.first_name).like(prefix),
            )
        )
    else:
        a, b = _like_prefix(words[0]), _like_prefix(words[1])
        query = query.where(
            or_(
                func.lower(Student.last_name).like(a) & func.lower(Student.first_name).like(b),
                func.lower(Student.first_name).like(a) & func.lower(Student.last_name).like(b),
            )
        )
    with desk.sessions() as s:
        rows = s.scalars(
            query.order_by(Student.last_name, Student.first_name, Student.student_number).limit(
                limit
            )
        ).all()
        return tuple(_hit(r) for r in rows)


def _like_prefix(word: str) -> str:
    escaped = word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def student_by_number(desk: Desk, number: str) -> StudentHit | None:
    """The student whose number is exactly ``number`` (case-insensitive), in the desk's
    schools; None when there is none (the scan was not a student's card)."""
    with desk.sessions() as s:
        st = s.scalars(
            select(Student).where(
                func.upper(Student.student_number) == number.strip().upper(),
                Student.school_id.in_(desk.actor.school_ids),
            )
        ).first()
        return _hit(st) if st is not None else None


# --------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------


def _doses(
    s: Session, student_id: uuid.UUID, start: dt.datetime, end: dt.datetime
) -> list[PageDose]:
    recorder = User.__table__.alias("recorder")
    rows = s.execute(
        select(
            MedicationLog,
            User.first_name,
            User.last_name,
            MedicationInventory.batch_number,
            StudentMedication.is_prn,
            Medication.name,
            PrnOutcome.outcome,
            PrnOutcome.note,
            PrnOutcome.observed_at,
            recorder.c.first_name.label("rec_first"),
            recorder.c.last_name.label("rec_last"),
        )
        .join(StudentMedication, StudentMedication.id == MedicationLog.student_medication_id)
        .join(Medication, Medication.id == StudentMedication.medication_id)
        .join(User, User.id == MedicationLog.nurse_id)
        .outerjoin(MedicationInventory, MedicationInventory.id == MedicationLog.inventory_id)
        .outerjoin(PrnOutcome, PrnOutcome.medication_log_id == MedicationLog.id)
        .outerjoin(recorder, recorder.c.id == PrnOutcome.recorded_by_id)
        .where(
            StudentMedication.student_id == student_id,
            MedicationLog.time_given >= start,
            MedicationLog.time_given < end,
        )
        .order_by(MedicationLog.time_given, MedicationLog.created_at)
    ).all()
    out = []
    for r in rows:
        m = r.MedicationLog
        out.append(
            PageDose(
                log=DoseLogInfo(
                    id=m.id,
                    time_given=m.time_given,
                    scheduled_for=m.scheduled_for,
                    status=m.status,
                    not_given_reason=m.not_given_reason,
                    notes=m.notes,
                    dosage_given=m.dosage_given,
                    nurse_name=f"{r.first_name} {r.last_name}",
                    override_reason=m.override_reason,
                    superseded=m.superseded_at is not None,
                    quantity_used=m.quantity_used,
                    batch_number=r.batch_number,
                    supersedes_id=m.supersedes_id,
                    superseded_by_id=m.superseded_by_id,
                    correction_kind=m.correction_kind,
                    correction_reason=m.correction_reason,
                ),
                prescription_id=m.student_medication_id,
                medication_name=r.name,
                is_prn=r.is_prn,
                complaint=m.complaint,
                outcome=r.outcome,
                outcome_note=r.note,
                outcome_by=f"{r.rec_first} {r.rec_last}" if r.rec_first else None,
                outcome_at=r.observed_at,
            )
        )
    return out


def student_page(
    desk: Desk, student_id: uuid.UUID, *, now: dt.datetime | None = None
) -> StudentPage:
    """Everything on the student's page, read in one session; opening it is logged."""
    now = now or desk.now()
    with desk.sessions() as s:
        card = _card(s, student_id)
        desk.actor.require_read(card.school_id, "this student")
        log_student_opened(s, student_id)
        student = s.get(Student, student_id)
        school = s.get(School, card.school_id)
        assert student is not None and school is not None
        calendar = calendar_from_row(school)
        tz = ZoneInfo(school.timezone)
        day = now.astimezone(tz).date()
        today_start = dt.datetime.combine(day, dt.time.min, tz)
        tomorrow = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tz)

        conditions = tuple(
            ConditionInfo(c.name, c.care_plan)
            for c in s.scalars(
                select(StudentCondition)
                .where(StudentCondition.student_id == student_id, StudentCondition.is_active)
                .order_by(StudentCondition.name)
            )
        )
        contacts = tuple(
            ContactInfo(c.name, c.relationship, c.phone, c.priority, c.notes)
            for c in s.scalars(
                select(EmergencyContact)
                .where(EmergencyContact.student_id == student_id, EmergencyContact.is_active)
                .order_by(EmergencyContact.priority, EmergencyContact.name)
            )
        )
        orders = []
        for rx, med in s.execute(
            select(StudentMedication, Medication)
            .join(Medication, Medication.id == StudentMedication.medication_id)
            .where(StudentMedication.student_id == student_id)
        ).all():
            detail = _detail(rx, med)
            flag = (
                authorization_status(
                    Prescription(
                        id=rx.id,
                        frequency=rx.frequency,
                        start_date=rx.start_date,
                        end_date=rx.end_date,
                        authorization_expires=rx.authorization_expires,
                    ),
                    calendar,
                    day,
                )
                if rx.is_active
                else None
            )
            orders.append(
                OrderInfo(detail, flag.message if flag else None, flag.code.value if flag else None)
            )
        orders.sort(key=lambda o: (not o.detail.is_active, o.detail.medication_name.casefold()))

        today = tuple(_doses(s, student_id, today_start, tomorrow))
        history = tuple(
            reversed(
                _doses(s, student_id, today_start - dt.timedelta(days=HISTORY_DAYS), today_start)
            )
        )
        reactions = tuple(
            ReactionInfo(r.occurred_at, name, r.severity, r.reaction, r.action_taken)
            for r, name in s.execute(
                select(AdverseReaction, Medication.name)
                .join(Medication, Medication.id == AdverseReaction.medication_id)
                .where(AdverseReaction.student_id == student_id)
                .order_by(AdverseReaction.occurred_at.desc())
            ).all()
        )
        supplies = tuple(
            SupplyLot(lot.id, name, lot.batch_number, lot.quantity, lot.expiration_date)
            for lot, name in s.execute(
                select(MedicationInventory, Medication.name)
                .join(Medication, Medication.id == MedicationInventory.medication_id)
                .where(MedicationInventory.student_id == student_id)
                .order_by(Medication.name, MedicationInventory.expiration_date)
            ).all()
        )
        return StudentPage(
            student=card,
            date_of_birth=student.date_of_birth,
            school_name=school.name,
            school_timezone=school.timezone,
            day=day,
            conditions=conditions,
            contacts=contacts,
            orders=tuple(orders),
            today=today,
            history=history,
            reactions=reactions,
            supplies=supplies,
        )


# --------------------------------------------------------------------------------------------
# PRN: complaint with the dose, outcome later
# --------------------------------------------------------------------------------------------


def give_prn(desk: Desk, cmd: DoseCommand, *, complaint: str) -> DoseResult:
    """Record an as-needed dose with its complaint through ``record_dose`` (same rules: PRN
    interval and daily maximum, allergy, authorization; same outbox when offline).

    When the nurse named no lot, the dose comes out of the student's own supply of that
    medication (brought in by the parent; earliest expiry first) if she has one, so her count
    goes down as it does for a dose given from Reminders; office stock is only ever taken when
    chosen. With the server unreachable the checks here are left to the sync (the dose goes to
    the outbox like any other) rather than losing what the nurse recorded."""
    complaint = " ".join(complaint.split())
    if not complaint:
        raise DoseInputError('Say why the dose is given (the complaint, e.g. "headache").')
    if len(complaint) > 200:
        raise DoseInputError(
            "The complaint holds at most 200 characters; put the rest in the note."
        )
    if cmd.status != "GIVEN":
        raise DoseInputError("Give PRN records a dose that was given.")
    cmd = replace(cmd, complaint=complaint, scheduled_for=None)
    try:
        with desk.sessions() as s:
            rx = s.get(StudentMedication, cmd.prescription_id)
            if rx is None:
                raise DoseInputError("That order is not in the database.")
            if not rx.is_prn:
                raise DoseInputError(
                    "This order is not as-needed; record it from Reminders or Schedule."
                )
            if cmd.inventory_id is None:
                own = _own_lot(s, rx, cmd.time_given)
                if own is not None:
                    cmd = replace(cmd, inventory_id=own, quantity_used=cmd.quantity_used or 1)
    except (OperationalError, InterfaceError):
        pass  # offline: record_dose keeps it in the outbox; the sync applies every rule
    return record_dose(desk, cmd)


def _own_lot(s: Session, rx: StudentMedication, at: dt.datetime) -> uuid.UUID | None:
    """The student's own unexpired lot of the order's medication with doses left."""
    return s.scalar(
        select(MedicationInventory.id)
        .where(
            MedicationInventory.student_id == rx.student_id,
            MedicationInventory.medication_id == rx.medication_id,
            MedicationInventory.quantity > 0,
            MedicationInventory.expiration_date >= at.date(),
        )
        .order_by(MedicationInventory.expiration_date, MedicationInventory.batch_number)
        .limit(1)
    )


def record_prn_outcome(desk: Desk, cmd: PrnOutcomeCommand) -> bool:
    """Record what became of an as-needed dose. True when written, False when this very
    command (same id) was already recorded. Refused with a sentence: an unknown outcome, "other"
    without a note, a dose that is not a current PRN GIVEN, an outcome already recorded."""
    actor = desk.actor
    actor.require_active()
    if cmd.recorded_by_id != actor.user_id:
        raise AccessDenied(
            f"An outcome is recorded under the name of the nurse signed in ({actor.display_name})."
        )
    if cmd.outcome not in PRN_OUTCOMES:
        raise PrnOutcomeInputError(f"Unknown outcome '{cmd.outcome}'.")
    note = (cmd.note or "").strip() or None
    if cmd.outcome == "OTHER" and note is None:
        raise PrnOutcomeInputError("Outcome 'Other' needs a note saying what happened.")
    if cmd.observed_at.tzinfo is None:
        raise PrnOutcomeInputError("The time of the outcome must include a timezone.")
    with desk.sessions.begin() as s:
        if s.get(PrnOutcome, cmd.id) is not None:
            return False
        found = s.execute(
            select(MedicationLog, StudentMedication.is_prn, Student.school_id)
            .join(StudentMedication, StudentMedication.id == MedicationLog.student_medication_id)
            .join(Student, Student.id == StudentMedication.student_id)
            .where(MedicationLog.id == cmd.medication_log_id)
        ).first()
        if found is None:
            raise PrnOutcomeInputError("That dose record is not in the database.")
        log, is_prn, school_id = found
        actor.require_write(school_id, "record an outcome for this student")
        if not is_prn or log.status != "GIVEN" or log.superseded_at is not None:
            raise PrnOutcomeInputError(
                "An outcome is recorded for a current as-needed dose that was given."
            )
        if cmd.observed_at < log.time_given:
            raise PrnOutcomeInputError("The outcome cannot be before the dose was given.")
        if cmd.observed_at > desk.now() + dt.timedelta(minutes=5):
            raise PrnOutcomeInputError("The outcome cannot be in the future.")
        existing = s.scalar(select(PrnOutcome).where(PrnOutcome.medication_log_id == log.id))
        if existing is not None:
            raise PrnOutcomeInputError(
                "An outcome is already recorded for this dose; it is not changed afterwards."
            )
        written = s.execute(
            insert(PrnOutcome)
            .values(
                id=cmd.id,
                medication_log_id=cmd.medication_log_id,
                outcome=cmd.outcome,
                note=note,
                recorded_by_id=cmd.recorded_by_id,
                observed_at=cmd.observed_at,
            )
            .on_conflict_do_nothing()
            .returning(PrnOutcome.id)
        ).first()
    if desk.cache is not None:
        desk.cache.evict_tag(school_tag(school_id))
    return written is not None


def prn_orders_of_medication(
    desk: Desk, medication_id: uuid.UUID
) -> tuple[tuple[StudentHit, PrescriptionDetail], ...]:
    """The active as-needed orders of one medication for the students of the desk's schools,
    by student name — "Give PRN…" from the formulary details picks one of them."""
    schools = desk.actor.school_ids
    if not schools:
        return ()
    with desk.sessions() as s:
        rows = s.execute(
            select(StudentMedication, Medication, Student)
            .join(Medication, Medication.id == StudentMedication.medication_id)
            .join(Student, Student.id == StudentMedication.student_id)
            .where(
                StudentMedication.medication_id == medication_id,
                StudentMedication.is_prn,
                StudentMedication.is_active,
                Student.is_active,
                Student.school_id.in_(schools),
            )
            .order_by(Student.last_name, Student.first_name, Student.student_number)
        ).all()
        return tuple((_hit(st), _detail(rx, med)) for rx, med, st in rows)
