"""What the nurse sees before recording a dose: the student card, the order, today's logs, the
stock on the shelf, and the rules' verdict *before* "Given" is pressed.

Every function takes the session factory (run it off the GUI thread) and returns frozen
dataclasses, never ORM objects:

* ``dose_sheet(desk, prescription_id, now=, scheduled_for=)`` — everything the dose dialog
  shows, in one session: :class:`StudentCard`, :class:`PrescriptionDetail` (with
  ``dose_conflict`` when the order's dose disagrees with the product's strength), the day's
  :class:`DoseLogInfo` rows with nurse names, the :class:`StockLot` rows the dose may come from
  and a :class:`DosePreview` for "given now";
* ``preview_dose(desk, prescription_id, at=, scheduled_for=, dosage_given=, quantity_used=,
  inventory_id=, status=)`` — the very verdict ``record_dose`` computes
  (``medapp.services.doses.decide_given`` / ``decide_not_given``), so the dialog can show red
  warnings while the nurse is still deciding;
* ``stock_lots(sessions, school_id, medication_id, student_id=, today=)`` and
  ``default_lot(lots)`` — the school's lots of a medication, and the one to use first;
* ``student_card``, ``prescription_detail``, ``day_logs``, ``reaction_sheet(desk, …)`` — the
  parts;
* ``school_schedule(sessions, school_id, start, end, search=)`` — the schedule pane's page with
  each order's authorization warning (the domain's ``authorization_status``);
* ``friendly_error(exc)`` — one sentence for a message box instead of a traceback.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from medapp.db.errors import DatabaseUnavailable
from medapp.db.mapping import calendar_from_row
from medapp.db.models import (
    Allergy,
    Medication,
    MedicationInventory,
    MedicationLog,
    School,
    Student,
    StudentMedication,
    User,
)
from medapp.db.repositories.schedule import ScheduleRow, schedule_page
from medapp.domain.checks import DoseRefused, RuleWarning
from medapp.domain.doses import NotGivenReason
from medapp.domain.plausibility import dose_strength_conflict
from medapp.domain.schedule import Prescription, authorization_status
from medapp.services.desk import AccessDenied, Desk
from medapp.services.doses import DoseCommand, decide_given, decide_not_given

__all__ = [
    "AllergyInfo",
    "DoseLogInfo",
    "DosePreview",
    "DoseSheet",
    "MedicationBrief",
    "PrescriptionDetail",
    "ReactionSheet",
    "ScheduleEntry",
    "ScheduleView",
    "StockLot",
    "StudentCard",
    "StudentNotFound",
    "day_logs",
    "default_lot",
    "dose_sheet",
    "friendly_error",
    "prescription_detail",
    "preview_dose",
    "reaction_sheet",
    "school_schedule",
    "stock_lots",
    "student_card",
]


class StudentNotFound(LookupError):
    """The student, prescription or medication asked for does not exist."""


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AllergyInfo:
    allergen: str
    severity: str  # MILD, MODERATE, SEVERE, LIFE_THREATENING
    reaction: str | None
    medication_id: uuid.UUID | None
    verified: bool

    @property
    def severity_label(self) -> str:
        return self.severity.replace("_", "-").lower()


@dataclass(frozen=True)
class StudentCard:
    id: uuid.UUID
    first_name: str
    last_name: str
    grade: str
    student_number: str
    school_id: uuid.UUID
    allergies: tuple[AllergyInfo, ...]  # active ones, most severe first

    @property
    def display_name(self) -> str:
        """As lists sort it: "Lovelace, Ada"."""
        return f"{self.last_name}, {self.first_name}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def initials(self) -> str:
        """For the photo placeholder: "AL" (letters only; "?" when a name is blank)."""
        letters = [
            next((c for c in part if c.isalpha()), "") for part in (self.first_name, self.last_name)
        ]
        return "".join(letters).upper() or "?"

    @property
    def grade_label(self) -> str:
        return "Kindergarten" if self.grade.upper() == "K" else f"Grade {self.grade}"


@dataclass(frozen=True)
class PrescriptionDetail:
    id: uuid.UUID
    student_id: uuid.UUID
    medication_id: uuid.UUID
    medication_name: str
    generic_name: str | None
    strength: str
    dosage_form: str
    dosage: str
    route: str
    frequency: str
    instructions: str | None
    administration_times: tuple[dt.time, ...]
    is_prn: bool
    prn_min_interval_minutes: int | None
    prn_max_per_day: int | None
    start_date: dt.date
    end_date: dt.date | None
    authorization_expires: dt.date | None
    is_active: bool
    is_controlled: bool
    dea_schedule: str | None
    prescribed_by: str
    #: a sentence when the order's dose disagrees with the product's strength ("Needs attention")
    dose_conflict: str | None = None

    @property
    def medication_label(self) -> str:
        """ "Ritalin 10 mg — 10 mg tablet": name, then strength and form unless the name says it."""
        extra = " ".join(p for p in (self.strength, self.dosage_form.lower()) if p)
        if self.strength and self.strength in self.medication_name:
            extra = self.dosage_form.lower()
        return f"{self.medication_name} — {extra}" if extra else self.medication_name

    @property
    def times_label(self) -> str:
        if self.administration_times:
            return ", ".join(t.strftime("%H:%M") for t in self.administration_times)
        return "as needed" if self.is_prn else "—"

    @property
    def prn_label(self) -> str:
        """ "every 4 h, max 2/day"; "" for a scheduled order."""
        if not self.is_prn:
            return ""
        parts = []
        if self.prn_min_interval_minutes:
            hours, minutes = divmod(self.prn_min_interval_minutes, 60)
            parts.append(
                f"every {hours} h" + (f" {minutes} min" if minutes else "")
                if hours
                else f"every {minutes} min"
            )
        if self.prn_max_per_day:
            parts.append(f"max {self.prn_max_per_day}/day")
        return ", ".join(parts) or "as needed (limits in the order text)"


@dataclass(frozen=True)
class DoseLogInfo:
    id: uuid.UUID
    time_given: dt.datetime
    scheduled_for: dt.datetime | None
    status: str  # GIVEN, NOT_GIVEN, ENTERED_IN_ERROR
    not_given_reason: str | None
    notes: str | None
    dosage_given: str | None
    nurse_name: str
    override_reason: str | None
    superseded: bool
    quantity_used: int | None
    batch_number: str | None
    supersedes_id: uuid.UUID | None = None
    superseded_by_id: uuid.UUID | None = None
    correction_kind: str | None = None
    correction_reason: str | None = None

    @property
    def outcome_label(self) -> str:
        if self.status == "NOT_GIVEN" and self.not_given_reason:
            return f"Not given — {NotGivenReason(self.not_given_reason).label}"
        if self.status == "ENTERED_IN_ERROR":
            return "Entered in error"
        if self.status == "MISSED":
            return "Missed (end of day)"
        return "Given"


@dataclass(frozen=True)
class StockLot:
    id: uuid.UUID
    medication_id: uuid.UUID
    batch_number: str
    quantity: int
    expiration_date: dt.date
    student_id: uuid.UUID | None  # set: a student's own supply kept in the office
    expired: bool

    @property
    def usable(self) -> bool:
        return self.quantity > 0 and not self.expired


@dataclass(frozen=True)
class DosePreview:
    """The rules' findings for a proposed GIVEN dose (``check_can_give``), before recording."""

    warnings: tuple[RuleWarning, ...]
    scheduled_for: dt.datetime | None
    at: dt.datetime
    #: the NOT_GIVEN this GIVEN would supersede (after a written reason)
    supersedes_id: uuid.UUID | None = None
    status: str = "GIVEN"

    @property
    def existing_log_id(self) -> uuid.UUID | None:
        """The log that makes this record impossible (offer "Correct…" on it)."""
        found = next((w.log_id for w in self.blockers if w.log_id is not None), None)
        return found if isinstance(found, uuid.UUID) else None

    @property
    def blockers(self) -> tuple[RuleWarning, ...]:
        return tuple(w for w in self.warnings if w.blocking and not w.overridable)

    @property
    def needs_override(self) -> tuple[RuleWarning, ...]:
        return tuple(w for w in self.warnings if w.blocking and w.overridable)

    @property
    def notices(self) -> tuple[RuleWarning, ...]:
        return tuple(w for w in self.warnings if not w.blocking)


@dataclass(frozen=True)
class DoseSheet:
    student: StudentCard
    prescription: PrescriptionDetail
    school_id: uuid.UUID
    school_timezone: str
    day: dt.date  # school-local "today"
    logs: tuple[DoseLogInfo, ...]  # the day's logs of this prescription, oldest first
    lots: tuple[StockLot, ...]  # office stock and the student's own supply, soonest expiry first
    preview: DosePreview

    @property
    def dose_conflict(self) -> str | None:
        """The order's dose disagrees with the product's strength (a sentence), or None."""
        return self.prescription.dose_conflict


@dataclass(frozen=True)
class MedicationBrief:
    id: uuid.UUID
    name: str
    generic_name: str | None
    strength: str
    dosage_form: str

    @property
    def label(self) -> str:
        extra = (
            self.dosage_form.lower()
            if self.strength in self.name
            else f"{self.strength} {self.dosage_form.lower()}"
        )
        return f"{self.name} — {extra.strip()}"


@dataclass(frozen=True)
class ReactionSheet:
    student: StudentCard
    medication: MedicationBrief
    school_timezone: str


@dataclass(frozen=True)
class ScheduleEntry:
    row: ScheduleRow
    authorization_code: str | None  # AUTHORIZATION_EXPIRED / AUTHORIZATION_EXPIRING / None
    authorization_message: str | None
    authorization_last_day: dt.date | None  # the order's own date, else the school year's end
    #: the order's dose disagrees with the product's strength (for "Needs attention")
    dose_conflict: str | None = None


@dataclass(frozen=True)
class ScheduleView:
    entries: tuple[ScheduleEntry, ...]
    total: int
    start: dt.date
    end: dt.date
    search: str


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------

_SEVERITY_ORDER = {"LIFE_THREATENING": 0, "SEVERE": 1, "MODERATE": 2, "MILD": 3}


def _card(s: Session, student_id: uuid.UUID) -> StudentCard:
    st = s.get(Student, student_id)
    if st is None:
        raise StudentNotFound("That student is not in the database.")
    allergies = s.execute(
        select(
            Allergy.allergen,
            Allergy.severity,
            Allergy.reaction,
            Allergy.medication_id,
            Allergy.verified,
        ).where(Allergy.student_id == student_id, Allergy.is_active)
    ).all()
    return StudentCard(
        id=st.id,
        first_name=st.first_name,
        last_name=st.last_name,
        grade=st.grade,
        student_number=st.student_number,
        school_id=st.school_id,
        allergies=tuple(
            sorted(
                (
                    AllergyInfo(a.allergen, a.severity, a.reaction, a.medication_id, a.verified)
                    for a in allergies
                ),
                key=lambda a: (_SEVERITY_ORDER.get(a.severity, 9), a.allergen.casefold()),
            )
        ),
    )


def log_student_opened(s: Session, student_id: uuid.UUID) -> None:
    """Opening a student's record is part of the audit trail (``medapp_log_read``, migration
    0005: it writes a READ row under the connected role, even for roles that may not write)."""
    s.execute(text("SELECT medapp_log_read('students', :id)"), {"id": student_id})
    s.commit()


def student_card(desk: Desk, student_id: uuid.UUID) -> StudentCard:
    """The student's card (name, allergies, school); opening it is logged."""
    with desk.sessions() as s:
        card = _card(s, student_id)
        desk.actor.require_read(card.school_id, "this student")
        log_student_opened(s, student_id)
        return card


def _detail(rx: StudentMedication, med: Medication) -> PrescriptionDetail:
    return PrescriptionDetail(
        id=rx.id,
        student_id=rx.student_id,
        medication_id=med.id,
        medication_name=med.name,
        generic_name=med.generic_name,
        strength=med.strength,
        dosage_form=med.dosage_form,
        dosage=rx.dosage,
        route=rx.route,
        frequency=rx.frequency,
        instructions=rx.instructions,
        administration_times=tuple(sorted(set(rx.administration_times or ()))),
        is_prn=rx.is_prn,
        prn_min_interval_minutes=rx.prn_min_interval_minutes,
        prn_max_per_day=rx.prn_max_per_day,
        start_date=rx.start_date,
        end_date=rx.end_date,
        authorization_expires=rx.authorization_expires,
        is_active=rx.is_active,
        is_controlled=med.is_controlled,
        dea_schedule=med.dea_schedule,
        prescribed_by=rx.prescribed_by,
        dose_conflict=dose_strength_conflict(rx.dosage, med.strength, frequency=rx.frequency),
    )


def _rx_row(
    s: Session, prescription_id: uuid.UUID
) -> tuple[StudentMedication, Medication, Student, School]:
    found = s.execute(
        select(StudentMedication, Medication, Student, School)
        .join(Medication, Medication.id == StudentMedication.medication_id)
        .join(Student, Student.id == StudentMedication.student_id)
        .join(School, School.id == Student.school_id)
        .where(StudentMedication.id == prescription_id)
    ).first()
    if found is None:
        raise StudentNotFound("That prescription is not in the database.")
    rx, med, student, school = found
    return rx, med, student, school


def prescription_detail(desk: Desk, prescription_id: uuid.UUID) -> PrescriptionDetail:
    with desk.sessions() as s:
        rx, med, _student, school = _rx_row(s, prescription_id)
        desk.actor.require_read(school.id, "this student's orders")
        return _detail(rx, med)


def _day_bounds(day: dt.date, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time.min, tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tz)
    return start, end


def _logs(
    s: Session, prescription_id: uuid.UUID, start: dt.datetime, end: dt.datetime
) -> tuple[DoseLogInfo, ...]:
    rows = s.execute(
        select(MedicationLog, User.first_name, User.last_name, MedicationInventory.batch_number)
        .join(User, User.id == MedicationLog.nurse_id)
        .outerjoin(MedicationInventory, MedicationInventory.id == MedicationLog.inventory_id)
        .where(
            MedicationLog.student_medication_id == prescription_id,
            MedicationLog.time_given >= start,
            MedicationLog.time_given < end,
        )
        .order_by(MedicationLog.time_given, MedicationLog.created_at)
    ).all()
    return tuple(
        DoseLogInfo(
            id=r.MedicationLog.id,
            time_given=r.MedicationLog.time_given,
            scheduled_for=r.MedicationLog.scheduled_for,
            status=r.MedicationLog.status,
            not_given_reason=r.MedicationLog.not_given_reason,
            notes=r.MedicationLog.notes,
            dosage_given=r.MedicationLog.dosage_given,
            nurse_name=f"{r.first_name} {r.last_name}",
            override_reason=r.MedicationLog.override_reason,
            superseded=r.MedicationLog.superseded_at is not None,
            quantity_used=r.MedicationLog.quantity_used,
            batch_number=r.batch_number,
            supersedes_id=r.MedicationLog.supersedes_id,
            superseded_by_id=r.MedicationLog.superseded_by_id,
            correction_kind=r.MedicationLog.correction_kind,
            correction_reason=r.MedicationLog.correction_reason,
        )
        for r in rows
    )


def day_logs(
    desk: Desk, prescription_id: uuid.UUID, day: dt.date, timezone: str
) -> tuple[DoseLogInfo, ...]:
    """The logs of one prescription on one school-local day, oldest first, nurses named."""
    with desk.sessions() as s:
        _rx, _med, _student, school = _rx_row(s, prescription_id)
        desk.actor.require_read(school.id, "this student's dose records")
        return _logs(s, prescription_id, *_day_bounds(day, ZoneInfo(timezone)))


def _lots(
    s: Session,
    school_id: uuid.UUID,
    medication_id: uuid.UUID,
    student_id: uuid.UUID | None,
    today: dt.date,
) -> tuple[StockLot, ...]:
    query = select(MedicationInventory).where(
        MedicationInventory.school_id == school_id,
        MedicationInventory.medication_id == medication_id,
    )
    if student_id is not None:
        query = query.where(
            or_(
                MedicationInventory.student_id.is_(None),
                MedicationInventory.student_id == student_id,
            )
        )
    rows = s.scalars(
        query.order_by(MedicationInventory.expiration_date, MedicationInventory.batch_number)
    ).all()
    return tuple(
        StockLot(
            id=r.id,
            medication_id=r.medication_id,
            batch_number=r.batch_number,
            quantity=r.quantity,
            expiration_date=r.expiration_date,
            student_id=r.student_id,
            expired=r.expiration_date < today,
        )
        for r in rows
    )


def stock_lots(
    desk: Desk,
    school_id: uuid.UUID,
    medication_id: uuid.UUID,
    *,
    student_id: uuid.UUID | None = None,
    today: dt.date | None = None,
) -> tuple[StockLot, ...]:
    """The school's lots of a medication, soonest expiry first (empty and expired ones too,
    flagged). With ``student_id``: office stock plus that student's own supply only — never
    another student's bottle."""
    desk.actor.require_read(school_id, "this school's stock")
    with desk.sessions() as s:
        return _lots(s, school_id, medication_id, student_id, today or dt.date.today())


def default_lot(lots: Sequence[StockLot]) -> StockLot | None:
    """The lot to take from first: the soonest-expiring one that is in date and not empty."""
    usable = [lot for lot in lots if lot.usable]
    return min(usable, key=lambda lot: (lot.expiration_date, lot.batch_number)) if usable else None


def _preview(
    s: Session,
    desk: Desk,
    prescription_id: uuid.UUID,
    *,
    at: dt.datetime,
    now: dt.datetime,
    scheduled_for: dt.datetime | None,
    status: str = "GIVEN",
    dosage_given: str | None = None,
    quantity_used: int | None = None,
    inventory_id: uuid.UUID | None = None,
) -> DosePreview:
    """``record_dose``'s verdict from ``record_dose``'s own code, without recording."""
    cmd = DoseCommand(
        id=uuid.uuid4(),
        prescription_id=prescription_id,
        nurse_id=desk.actor.user_id,
        status=status,
        time_given=at,
        scheduled_for=scheduled_for,
        dosage_given=dosage_given,
        inventory_id=inventory_id,
        quantity_used=quantity_used,
    )
    if status == "NOT_GIVEN":
        decision = decide_not_given(s, cmd, now)
    else:
        decision = decide_given(s, cmd, now)
    return DosePreview(
        decision.warnings,
        decision.scheduled_for,
        at,
        decision.supersedes_id,  # type: ignore[arg-type]
        status,
    )


def preview_dose(
    desk: Desk,
    prescription_id: uuid.UUID,
    *,
    at: dt.datetime,
    now: dt.datetime | None = None,
    scheduled_for: dt.datetime | None = None,
    status: str = "GIVEN",
    dosage_given: str | None = None,
    quantity_used: int | None = None,
    inventory_id: uuid.UUID | None = None,
) -> DosePreview:
    """What the rules would say to "given at ``at``" (or "not given", with ``status``) —
    without recording anything. ``now`` defaults to ``desk.now()``."""
    now = now or desk.now()
    with desk.sessions() as s:
        _rx, _med, _student, school = _rx_row(s, prescription_id)
        desk.actor.require_read(school.id, "this student")
        return _preview(
            s,
            desk,
            prescription_id,
            at=at,
            now=now,
            scheduled_for=scheduled_for,
            status=status,
            dosage_given=dosage_given,
            quantity_used=quantity_used,
            inventory_id=inventory_id,
        )


def dose_sheet(
    desk: Desk,
    prescription_id: uuid.UUID,
    *,
    now: dt.datetime | None = None,
    scheduled_for: dt.datetime | None = None,
) -> DoseSheet:
    """Everything the dose dialog shows, read in one session; the preview is for "given now".
    Opening the dialog opens the student's record: it is logged."""
    now = now or desk.now()
    with desk.sessions() as s:
        rx, med, student, school = _rx_row(s, prescription_id)
        desk.actor.require_read(school.id, "this student")
        log_student_opened(s, student.id)
        tz = ZoneInfo(school.timezone)
        day = now.astimezone(tz).date()
        return DoseSheet(
            student=_card(s, student.id),
            prescription=_detail(rx, med),
            school_id=school.id,
            school_timezone=school.timezone,
            day=day,
            logs=_logs(s, rx.id, *_day_bounds(day, tz)),
            lots=_lots(s, school.id, med.id, student.id, day),
            preview=_preview(
                s, desk, prescription_id, at=now, now=now, scheduled_for=scheduled_for
            ),
        )


def reaction_sheet(desk: Desk, student_id: uuid.UUID, medication_id: uuid.UUID) -> ReactionSheet:
    with desk.sessions() as s:
        card = _card(s, student_id)
        desk.actor.require_read(card.school_id, "this student")
        log_student_opened(s, student_id)
        med = s.get(Medication, medication_id)
        if med is None:
            raise StudentNotFound("That medication is not in the database.")
        school = s.get(School, card.school_id)
        return ReactionSheet(
            student=card,
            medication=MedicationBrief(
                med.id, med.name, med.generic_name, med.strength, med.dosage_form
            ),
            school_timezone=school.timezone if school else "America/New_York",
        )


def school_schedule(
    desk: Desk,
    school_id: uuid.UUID,
    start: dt.date,
    end: dt.date,
    *,
    search: str | None = None,
    today: dt.date | None = None,
    offset: int = 0,
    limit: int = 500,
) -> ScheduleView:
    """The schedule pane's page: active orders in the range, each with its logs in the range
    and its authorization warning as of ``today`` (school-local)."""
    desk.actor.require_read(school_id, "this school's schedule")
    with desk.sessions() as s:
        school = s.get(School, school_id)
        if school is None:
            raise StudentNotFound("That school is not in the database.")
        calendar = calendar_from_row(school)
        day = today or dt.datetime.now(calendar.tz).date()
        page = schedule_page(
            s,
            start,
            end,
            tz=calendar.tz,
            school_id=school_id,
            search=(search or "").strip() or None,
            offset=offset,
            limit=limit,
        )
    entries = []
    for row in page.rows:
        stub = _auth_stub(row)
        flag = authorization_status(stub, calendar, day)
        entries.append(
            ScheduleEntry(
                row=row,
                authorization_code=flag.code.value if flag else None,
                authorization_message=flag.message if flag else None,
                authorization_last_day=calendar.authorization_end(row.authorization_expires),
                dose_conflict=dose_strength_conflict(
                    row.dosage, row.strength, frequency=row.frequency
                ),
            )
        )
    return ScheduleView(tuple(entries), page.total, start, end, (search or "").strip())


def _auth_stub(row: ScheduleRow) -> Prescription:
    """The fields of a row that the authorization rule reads, as the domain's Prescription."""
    return Prescription(
        id=row.prescription_id,
        frequency=row.frequency,
        start_date=row.start_date,
        end_date=row.end_date,
        authorization_expires=row.authorization_expires,
    )


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


def friendly_error(exc: BaseException) -> str:
    """One sentence for the nurse: what went wrong and what to do, never a traceback."""
    if isinstance(exc, DoseRefused):
        return " ".join(w.message for w in exc.warnings) or str(exc)
    if isinstance(exc, DatabaseUnavailable | StudentNotFound | AccessDenied):
        return str(exc)
    if isinstance(exc, LookupError) and not isinstance(exc, KeyError | IndexError) and str(exc):
        return str(exc)  # a service's "not found" sentence
    if isinstance(exc, PoolTimeout):  # the desk's one connection stayed busy (connection budget)
        return (
            "The desk's database connection stayed busy too long (another task is still "
            "running). Nothing was saved; try again in a moment."
        )
    if isinstance(exc, OperationalError | InterfaceError):
        return "The database did not answer. Check the network connection; medapp keeps retrying."
    if isinstance(exc, DBAPIError):
        return "The database refused the request. Nothing was saved; try again or call IT."
    if isinstance(exc, ValueError) and str(exc):
        return str(exc)
    return f"Something went wrong ({type(exc).__name__}). Nothing was saved; try again."
