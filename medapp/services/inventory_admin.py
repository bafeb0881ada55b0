"""The office shelf, lot by lot: list a school's lots, correct a count, receive a new lot.

Every function takes the session factory (run it off the GUI thread) and returns frozen
dataclasses, never ORM objects:

* ``school_lots(sessions, school_id, medication_ids=None, today=None)`` — every lot of the
  school (office stock and students' own supplies) with its medication and both alert classes
  (``medapp.domain.inventory.classify_lot``, the same rules as the alert view); empty lots are
  listed but raise no alert, as in the view;
* ``adjust_lot(desk, LotAdjustment(...))`` — change one lot's quantity by ``delta`` or to a
  counted ``new_quantity``, with a reason: the lot row is locked, the change and its ledger row
  (``inventory_adjustments``) are written in one transaction, a count never goes below zero, and
  a controlled substance needs a second person as witness, who types her own password
  (checked now through ``desk.check_password``: a name picked from a list proves nothing);
* ``add_lot(desk, NewLot(...))`` — put a newly received lot on the shelf, with its receipt
  in the ledger (witnessed the same way for controlled substances). A lot may be a student's
  own supply (``student_id``): medication a parent brings in (``brought_by``, recorded in the
  receipt's ledger line) always is, and so is a schedule II medication (a stimulant is
  prescribed to one child: it is never office stock). The receipt's ledger line holds the
  count received, who counted it (``user_id``) and the witness.

Both follow the desk convention: ``desk.actor`` is who changes the stock (she must be a nurse or
lead nurse of the lot's school; an auditor or a district administrator is refused) and is
written to the ledger as ``user_id``.

Ids of the adjustment and of the new lot come from the caller (made once, when the dialog
opens), so pressing the button twice or retrying after a timeout changes stock once at most.
Mistakes the nurse can fix raise :class:`InventoryInputError` (a ``ValueError``) naming the
field; a count that changed on another PC meanwhile raises :class:`LotChanged`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from medapp.db.models import (
    InventoryAdjustment,
    Medication,
    MedicationInventory,
    School,
    Student,
)
from medapp.domain.inventory import DEFAULT_NEAR_EXPIRY_DAYS, classify_lot
from medapp.services.desk import CLINICAL_WRITERS, Desk

__all__ = [
    "ALERT_KINDS",
    "AdjustResult",
    "InventoryInputError",
    "InventoryOverview",
    "LotAdjustment",
    "LotChanged",
    "LotRow",
    "NewLot",
    "add_lot",
    "adjust_lot",
    "alert_counts",
    "school_lots",
    "school_today",
]

#: the alert classes, most urgent first (the chips of the inventory pane)
ALERT_KINDS = ("EXPIRED", "NEAR_EXPIRY", "LOW_STOCK", "WARNING")
MAX_REASON_CHARS = 300
MAX_BATCH_CHARS = 64
MAX_QUANTITY = 100_000


class InventoryInputError(ValueError):
    """A stock change that cannot be saved; ``field`` names the input to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class LotChanged(InventoryInputError):
    """The lot's count changed (on another PC) since it was shown; ``current`` is the count now."""

    def __init__(self, current: int) -> None:
        super().__init__(
            "quantity",
            f"This lot's count changed meanwhile (another dose or correction): it now shows "
            f"{current}. Check the new count and save again.",
        )
        self.current = current


@dataclass(frozen=True)
class LotRow:
    id: uuid.UUID
    medication_id: uuid.UUID
    medication_name: str
    generic_name: str | None
    strength: str
    dosage_form: str
    is_controlled: bool
    dea_schedule: str | None
    batch_number: str
    quantity: int
    reorder_level: int
    expiration_date: dt.date
    student_id: uuid.UUID | None  # set: a student's own supply kept in the office
    student_name: str | None
    expiry_status: str  # EXPIRED | NEAR_EXPIRY | OK
    stock_status: str  # LOW_STOCK | WARNING | OK
    days_left: int  # days until expiry (negative: expired that many days ago)

    @property
    def empty(self) -> bool:
        return self.quantity == 0

    @property
    def alerts(self) -> tuple[str, ...]:
        """Alert classes of a lot on the shelf (an empty lot raises none, as in the view)."""
        if self.empty:
            return ()
        return tuple(k for k in (self.expiry_status, self.stock_status) if k != "OK")

    @property
    def status(self) -> str:
        """The one word a table shows: EMPTY, the most urgent alert, or OK."""
        if self.empty:
            return "EMPTY"
        return self.alerts[0] if self.alerts else "OK"

    @property
    def label(self) -> str:
        """ "Ritalin 10 mg" (the strength once, even when the name already holds it)."""
        strength = (self.strength or "").strip()
        if not strength or strength.lower() in self.medication_name.lower():
            return self.medication_name
        return f"{self.medication_name} {strength}"


@dataclass(frozen=True)
class InventoryOverview:
    school_id: uuid.UUID
    today: dt.date
    lots: tuple[LotRow, ...]  # soonest expiry first
    counts: dict[str, int]  # EXPIRED, NEAR_EXPIRY, LOW_STOCK, WARNING

    @property
    def attention(self) -> int:
        return sum(1 for lot in self.lots if lot.alerts)


@dataclass(frozen=True)
class LotAdjustment:
    """Change one lot's count: give ``delta`` (+ received, − removed) or a counted
    ``new_quantity``. ``expected_quantity`` is the count the nurse saw; if the lot shows
    another one now the change is refused (:class:`LotChanged`) instead of guessed."""

    id: uuid.UUID
    inventory_id: uuid.UUID
    reason: str
    delta: int | None = None
    new_quantity: int | None = None
    expected_quantity: int | None = None
    #: the second person of a controlled-substance change, with her own password
    witness_username: str | None = None
    witness_password: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class AdjustResult:
    adjustment_id: uuid.UUID
    inventory_id: uuid.UUID
    school_id: uuid.UUID | None
    delta: int
    quantity_after: int
    already_recorded: bool = False


@dataclass(frozen=True)
class NewLot:
    id: uuid.UUID
    medication_id: uuid.UUID
    school_id: uuid.UUID
    batch_number: str
    quantity: int
    expiration_date: dt.date
    reorder_level: int = 0
    witness_username: str | None = None
    witness_password: str | None = field(default=None, repr=False)
    student_id: uuid.UUID | None = None
    reason: str = "received"
    #: the parent or guardian who handed the medication in (then it is the student's supply)
    brought_by: str | None = None


def school_today(timezone: str, now: dt.datetime | None = None) -> dt.date:
    """The school-local date (the alert rules' "today")."""
    try:
        zone = ZoneInfo(timezone)
    except Exception:  # noqa: BLE001 - a bad setting must not stop the desk
        zone = ZoneInfo("America/New_York")
    return (now or dt.datetime.now(dt.UTC)).astimezone(zone).date()


def alert_counts(lots: Iterable[LotRow]) -> dict[str, int]:
    counts = dict.fromkeys(ALERT_KINDS, 0)
    for lot in lots:
        for kind in lot.alerts:
            counts[kind] += 1
    return counts


def _row(
    lot: MedicationInventory,
    med: Medication,
    student: Student | None,
    today: dt.date,
    near_days: int,
) -> LotRow:
    status = classify_lot(lot.quantity, lot.reorder_level, lot.expiration_date, today, near_days)
    return LotRow(
        id=lot.id,
        medication_id=med.id,
        medication_name=med.name,
        generic_name=med.generic_name,
        strength=med.strength,
        dosage_form=med.dosage_form,
        is_controlled=med.is_controlled,
        dea_schedule=med.dea_schedule,
        batch_number=lot.batch_number,
        quantity=lot.quantity,
        reorder_level=lot.reorder_level,
        expiration_date=lot.expiration_date,
        student_id=lot.student_id,
        student_name=f"{student.last_name}, {student.first_name}" if student else None,
        expiry_status=status.expiry.value,
        stock_status=status.stock.value,
        days_left=(lot.expiration_date - today).days,
    )


def school_lots(
    desk: Desk,
    school_id: uuid.UUID,
    *,
    medication_ids: Sequence[uuid.UUID] | None = None,
    today: dt.date | None = None,
    near_days: int = DEFAULT_NEAR_EXPIRY_DAYS,
) -> InventoryOverview:
    """The school's lots (of ``medication_ids`` only, when given), soonest expiry first."""
    desk.actor.require_read(school_id, "this school's stock")
    with desk.sessions() as s:
        school = s.get(School, school_id)
        if school is None:
            raise InventoryInputError("school", "That school is not in the database.")
        today = today or school_today(school.timezone)
        query = (
            select(MedicationInventory, Medication, Student)
            .join(Medication, Medication.id == MedicationInventory.medication_id)
            .outerjoin(Student, Student.id == MedicationInventory.student_id)
            .where(MedicationInventory.school_id == school_id)
            .order_by(
                MedicationInventory.expiration_date,
                Medication.name,
                MedicationInventory.batch_number,
            )
        )
        if medication_ids is not None:
            ids = list(medication_ids)
            if not ids:
                return InventoryOverview(school_id, today, (), alert_counts(()))
            query = query.where(MedicationInventory.medication_id.in_(ids))
        lots = tuple(_row(lot, med, stu, today, near_days) for lot, med, stu in s.execute(query))
    return InventoryOverview(school_id, today, lots, alert_counts(lots))


# --- writes ---------------------------------------------------------------------------------


def _reason(text: str | None) -> str:
    cleaned = " ".join((text or "").split())
    if not cleaned:
        raise InventoryInputError("reason", "Say why the count changes (the reason is recorded).")
    if len(cleaned) > MAX_REASON_CHARS:
        raise InventoryInputError(
            "reason", f"The reason is longer than {MAX_REASON_CHARS} characters."
        )
    return cleaned


def _witness(
    desk: Desk, med: Medication, username: str | None, password: str | None
) -> uuid.UUID | None:
    """The witness's user id after checking her own password now; None when not needed.

    A controlled substance needs one; for other stock a named witness is checked the same way
    (never recorded unchecked). The witness is an active nurse or lead nurse other than the
    person at the desk.
    """
    name = (username or "").strip().lower()
    if not name:
        if med.is_controlled:
            schedule = f" (schedule {med.dea_schedule})" if med.dea_schedule else ""
            raise InventoryInputError(
                "witness",
                f"{med.name} is a controlled substance{schedule}: a second person must witness "
                "the count. Choose the witness.",
            )
        return None
    if name == desk.actor.username.lower():
        raise InventoryInputError("witness", "The witness must be someone else.")
    if not password:
        raise InventoryInputError(
            "witness_password", "The witness types her own password to confirm the count."
        )
    if desk.check_password is None:
        raise InventoryInputError(
            "witness", "This desk cannot check the witness's password; sign in again."
        )
    from medapp.services.signin import SignInFailed

    try:
        witness = desk.check_password(name, password)
    except SignInFailed as exc:
        raise InventoryInputError("witness_password", f"Witness: {exc}") from None
    if witness.user_id == desk.actor.user_id:
        raise InventoryInputError("witness", "The witness must be someone else.")
    if not witness.is_active or witness.role not in CLINICAL_WRITERS:
        raise InventoryInputError(
            "witness", "The witness must be an active nurse or lead nurse of the district."
        )
    return witness.user_id


def _existing_adjustment(s: Session, adjustment_id: uuid.UUID) -> InventoryAdjustment | None:
    return s.get(InventoryAdjustment, adjustment_id)


def adjust_lot(desk: Desk, cmd: LotAdjustment) -> AdjustResult:
    """Apply one recorded change to a lot's quantity (one transaction; see the module doc)."""
    if (cmd.delta is None) == (cmd.new_quantity is None):
        raise InventoryInputError("quantity", "Give either the change or the new count.")
    reason = _reason(cmd.reason)
    if cmd.new_quantity is not None and not 0 <= cmd.new_quantity <= MAX_QUANTITY:
        raise InventoryInputError("quantity", f"The count must be between 0 and {MAX_QUANTITY:,}.")
    if cmd.delta is not None and abs(cmd.delta) > MAX_QUANTITY:
        raise InventoryInputError("quantity", f"The change must be at most {MAX_QUANTITY:,}.")
    actor = desk.actor
    actor.require_active()
    with desk.sessions.begin() as s:
        lot = s.execute(
            select(MedicationInventory)
            .where(MedicationInventory.id == cmd.inventory_id)
            .with_for_update()
        ).scalar_one_or_none()
        if lot is None:
            raise InventoryInputError("lot", "That stock lot is not in the database.")
        done = _existing_adjustment(s, cmd.id)
        if done is not None:  # the same press arrived twice: it counts once
            return AdjustResult(
                cmd.id, lot.id, lot.school_id, done.delta, done.quantity_after, True
            )
        actor.require_write(lot.school_id, "change this school's stock")
        med = s.get(Medication, lot.medication_id)
        assert med is not None
        if cmd.expected_quantity is not None and lot.quantity != cmd.expected_quantity:
            raise LotChanged(lot.quantity)
        before = lot.quantity
        after = cmd.new_quantity if cmd.new_quantity is not None else before + (cmd.delta or 0)
        if after < 0:
            raise InventoryInputError(
                "quantity",
                f"Lot {lot.batch_number} holds {before}; it cannot give up {before - after}. "
                "A count never goes below zero.",
            )
        if after == before:
            raise InventoryInputError("quantity", "The new count is the same as the old one.")
        witness_id = _witness(desk, med, cmd.witness_username, cmd.witness_password)
        lot.quantity = after
        s.add(
            InventoryAdjustment(
                id=cmd.id,
                inventory_id=lot.id,
                delta=after - before,
                quantity_after=after,
                reason=reason,
                user_id=actor.user_id,
                witness_id=witness_id,
            )
        )
        s.flush()
        return AdjustResult(cmd.id, lot.id, lot.school_id, after - before, after)


def add_lot(desk: Desk, cmd: NewLot, *, today: dt.date | None = None) -> LotRow:
    """Put a received lot on the shelf, with its receipt in the ledger (one transaction)."""
    batch = " ".join((cmd.batch_number or "").split())
    if not batch:
        raise InventoryInputError("batch", "The lot (batch) number printed on the box is required.")
    if len(batch) > MAX_BATCH_CHARS:
        raise InventoryInputError(
            "batch", f"The lot number is longer than {MAX_BATCH_CHARS} characters."
        )
    if not 1 <= cmd.quantity <= MAX_QUANTITY:
        raise InventoryInputError(
            "quantity", f"The quantity received must be between 1 and {MAX_QUANTITY:,}."
        )
    if not 0 <= cmd.reorder_level <= MAX_QUANTITY:
        raise InventoryInputError("reorder", "The reorder level cannot be negative.")
    reason = _reason(cmd.reason)
    brought_by = " ".join((cmd.brought_by or "").split())
    if len(brought_by) > 120:
        raise InventoryInputError("brought_by", "The name is longer than 120 characters.")
    if brought_by:
        if cmd.student_id is None:
            raise InventoryInputError(
                "student",
                "Medication a parent brings in is that student's own supply: choose the student.",
            )
        reason = f"{reason} — brought in by {brought_by}"[:MAX_REASON_CHARS]
    actor = desk.actor
    actor.require_write(cmd.school_id, "receive stock for this school")
    with desk.sessions.begin() as s:
        existing = s.get(MedicationInventory, cmd.id)
        school = s.get(School, cmd.school_id)
        if school is None:
            raise InventoryInputError("school", "That school is not in the database.")
        today = today or school_today(school.timezone)
        med = s.get(Medication, cmd.medication_id)
        if med is None:
            raise InventoryInputError("medication", "That medication is not in the formulary.")
        student = s.get(Student, cmd.student_id) if cmd.student_id else None
        if existing is None:
            if cmd.expiration_date <= today:
                raise InventoryInputError(
                    "expiry",
                    "This lot has already expired: it must not go on the shelf. "
                    "Check the expiry date printed on the box.",
                )
            if cmd.student_id is not None and (student is None or student.school_id != school.id):
                raise InventoryInputError("student", "That student is not at this school.")
            witness_id = _witness(desk, med, cmd.witness_username, cmd.witness_password)
            if cmd.student_id is None and med.dea_schedule == "CII":
                raise InventoryInputError(
                    "student",
                    f"{med.name} is a schedule II medication: it is kept only as a student's "
                    "own supply, never as office stock. Choose the student it was brought for.",
                )
            duplicate = s.scalars(
                select(MedicationInventory.id).where(
                    MedicationInventory.school_id == school.id,
                    MedicationInventory.medication_id == med.id,
                    MedicationInventory.batch_number == batch,
                    MedicationInventory.expiration_date == cmd.expiration_date,
                    MedicationInventory.student_id.is_(None)
                    if cmd.student_id is None
                    else MedicationInventory.student_id == cmd.student_id,
                )
            ).first()
            if duplicate is not None:
                raise InventoryInputError(
                    "batch",
                    f"Lot {batch} of {med.name} is already on the shelf: adjust its quantity "
                    "instead of adding it again.",
                )
            existing = MedicationInventory(
                id=cmd.id,
                medication_id=med.id,
                school_id=school.id,
                student_id=cmd.student_id,
                batch_number=batch,
                quantity=cmd.quantity,
                reorder_level=cmd.reorder_level,
                expiration_date=cmd.expiration_date,
            )
            s.add(existing)
            s.flush()
            s.add(
                InventoryAdjustment(
                    inventory_id=existing.id,
                    delta=cmd.quantity,
                    quantity_after=cmd.quantity,
                    reason=reason,
                    user_id=actor.user_id,
                    witness_id=witness_id,
                )
            )
            s.flush()
        return _row(existing, med, student, today, DEFAULT_NEAR_EXPIRY_DAYS)
