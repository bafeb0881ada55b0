"""Recording a dose: one short transaction, safe to retry, impossible to double.

Why it is built this way:

* The log id comes from the client (``DoseCommand.id``), so pressing "Given" twice, a network
  retry, or an offline resend all land as one row (``INSERT … ON CONFLICT (id) DO NOTHING``).
* The prescription row is locked (``SELECT … FOR UPDATE``) before the rules look at its logs, so
  two PCs recording the same dose are serialised: the second sees the first's log and is told
  "already given at HH:MM by <nurse>". The partial unique index is the last line of defence.
* The rules (PRN interval and daily maximum, authorization, allergy, future time, already given)
  are the domain's ``check_can_give``; an override needs a written reason and is stored.
* Stock comes off the chosen lot in the same transaction, with an adjustment row saying why.
* When the server cannot be reached, the dose goes to the on-disk outbox and is sent later by
  ``sync_outbox`` with the same id — it lands exactly once, or is kept for review if the rules
  refuse it when it arrives.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from medapp.cache.outbox import Outbox
from medapp.cache.store import Cache, school_tag
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
from medapp.domain.checks import DoseRefused, Override, RuleWarning, WarningCode, check_can_give
from medapp.domain.doses import DoseLog, LogStatus, NotGivenReason, validate_new_log

log = logging.getLogger(__name__)

ONE_GIVEN_INDEX = "uq_medication_logs_one_given_per_dose"


class DoseInputError(ValueError):
    """The command itself is wrong (unknown prescription, missing reason, bad lot)."""


@dataclass(frozen=True)
class DoseCommand:
    id: uuid.UUID
    prescription_id: uuid.UUID
    nurse_id: uuid.UUID
    status: str  # "GIVEN" or "NOT_GIVEN"
    time_given: dt.datetime
    scheduled_for: dt.datetime | None = None
    dosage_given: str | None = None
    reason: str | None = None  # NotGivenReason value, for NOT_GIVEN
    notes: str | None = None
    side_effects: str | None = None
    inventory_id: uuid.UUID | None = None
    quantity_used: int | None = None
    override_reason: str | None = None
    witness_id: uuid.UUID | None = None

    def to_record(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> DoseCommand:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in record.items() if k in names})


@dataclass(frozen=True)
class DoseResult:
    log_id: uuid.UUID
    outcome: str  # "RECORDED", "ALREADY_RECORDED" (same id seen before), "QUEUED_OFFLINE"
    scheduled_for: dt.datetime | None = None
    notices: tuple[str, ...] = ()
    override: str | None = None
    stock_left: int | None = None


def _validate(cmd: DoseCommand) -> None:
    if cmd.time_given.tzinfo is None:
        raise DoseInputError("The time given must include a timezone.")
    if cmd.status == "GIVEN":
        if cmd.reason:
            raise DoseInputError("A dose that was given has no 'not given' reason.")
    elif cmd.status == "NOT_GIVEN":
        if not cmd.reason:
            raise DoseInputError(
                "Say why the dose was not given (refused, absent, held, no supply, parent called, other)."
            )
        try:
            reason = NotGivenReason(cmd.reason)
        except ValueError:
            raise DoseInputError(f"Unknown reason '{cmd.reason}'.") from None
        if reason is NotGivenReason.OTHER and not (cmd.notes or "").strip():
            raise DoseInputError("Reason 'Other' needs a note saying what happened.")
        if cmd.inventory_id is not None:
            raise DoseInputError("A dose that was not given takes nothing from stock.")
    else:
        raise DoseInputError("A dose is recorded as GIVEN or NOT_GIVEN.")
    if cmd.quantity_used is not None and cmd.quantity_used <= 0:
        raise DoseInputError("The quantity taken from stock must be positive.")


def _is_connection_error(exc: BaseException) -> bool:
    return isinstance(exc, (OperationalError, InterfaceError)) and not isinstance(
        exc, IntegrityError
    )


def record_dose(
    sessions: sessionmaker[Session],
    cmd: DoseCommand,
    *,
    now: dt.datetime | None = None,
    cache: Cache | None = None,
    outbox: Outbox | None = None,
) -> DoseResult:
    """Record ``cmd``. Raises DoseRefused (rules), DoseInputError (bad command)."""
    _validate(cmd)
    try:
        result, school_id = _record(sessions, cmd, now or dt.datetime.now(dt.UTC), offline=False)
    except (OperationalError, InterfaceError) as exc:
        if outbox is None or not _is_connection_error(exc):
            raise
        outbox.put(cmd.to_record())
        return DoseResult(cmd.id, "QUEUED_OFFLINE", cmd.scheduled_for)
    if cache is not None and school_id is not None:
        cache.evict_tag(school_tag(school_id))
    return result


def _day_logs(s: Session, prescription_id: uuid.UUID, around: dt.datetime) -> list[DoseLog]:
    """Logs within ±36 h: enough for 'already given', the window, and a rolling 24 h PRN count."""
    rows = s.execute(
        select(MedicationLog, User.first_name, User.last_name)
        .join(User, User.id == MedicationLog.nurse_id)
        .where(
            MedicationLog.student_medication_id == prescription_id,
            MedicationLog.time_given >= around - dt.timedelta(hours=36),
            MedicationLog.time_given < around + dt.timedelta(hours=36),
        )
    ).all()
    return [dose_log_from_row(r.MedicationLog, f"{r.first_name} {r.last_name}") for r in rows]


def _record(
    sessions: sessionmaker[Session], cmd: DoseCommand, now: dt.datetime, *, offline: bool
) -> tuple[DoseResult, uuid.UUID | None]:
    try:
        with sessions.begin() as s:
            return _record_in(s, cmd, now, offline=offline)
    except IntegrityError as exc:
        if ONE_GIVEN_INDEX not in str(exc.orig):
            raise
    # Lost a race the row lock could not see (e.g. a correction chain): report who won.
    with sessions() as s:
        winner = s.execute(
            select(MedicationLog, User.first_name, User.last_name)
            .join(User, User.id == MedicationLog.nurse_id)
            .where(
                MedicationLog.student_medication_id == cmd.prescription_id,
                MedicationLog.scheduled_for == cmd.scheduled_for,
                MedicationLog.status == "GIVEN",
                MedicationLog.superseded_at.is_(None),
            )
        ).first()
    who = f"{winner.first_name} {winner.last_name}" if winner else "another nurse"
    when = winner.MedicationLog.time_given.strftime("%H:%M") if winner else "?"
    warning = RuleWarning(WarningCode.ALREADY_GIVEN, f"Already given at {when} by {who}.")
    raise DoseRefused((warning,), warning.message)


def _record_in(
    s: Session, cmd: DoseCommand, now: dt.datetime, *, offline: bool
) -> tuple[DoseResult, uuid.UUID | None]:
    if s.get(MedicationLog, cmd.id) is not None:
        return DoseResult(cmd.id, "ALREADY_RECORDED", cmd.scheduled_for), None
    found = s.execute(
        select(StudentMedication, Student, Medication, School)
        .join(Student, Student.id == StudentMedication.student_id)
        .join(Medication, Medication.id == StudentMedication.medication_id)
        .join(School, School.id == Student.school_id)
        .where(StudentMedication.id == cmd.prescription_id)
        .with_for_update(of=StudentMedication)
    ).first()
    if found is None:
        raise DoseInputError("That prescription does not exist.")
    rx_row, student, med, school = found
    local_day = cmd.time_given.astimezone(ZoneInfo(school.timezone)).date()
    closures = s.scalars(
        select(SchoolClosure.closed_on).where(
            SchoolClosure.school_id == school.id,
            SchoolClosure.closed_on.between(
                local_day - dt.timedelta(days=1), local_day + dt.timedelta(days=1)
            ),
        )
    ).all()
    calendar = calendar_from_row(school, closures)
    prescription = prescription_from_row(rx_row)
    logs = _day_logs(s, cmd.prescription_id, cmd.time_given)

    notices: tuple[str, ...] = ()
    override_text: str | None = None
    scheduled_for = cmd.scheduled_for
    if cmd.status == "GIVEN":
        allergens = s.scalars(
            select(Allergy.allergen).where(Allergy.student_id == student.id, Allergy.is_active)
        ).all()
        decision = check_can_give(
            prescription,
            calendar,
            at=cmd.time_given,
            now=now,
            logs=logs,
            scheduled_for=cmd.scheduled_for,
            medication_names=_names(med),
            allergens=allergens,
        )
        override = Override(cmd.override_reason) if cmd.override_reason else None
        record = decision.authorize(override)
        override_text = record.as_text() if record else None
        scheduled_for = decision.scheduled_for
        notices = tuple(w.message for w in decision.notices)
    else:
        validate_new_log(
            DoseLog(
                id=cmd.id,
                prescription_id=cmd.prescription_id,
                status=LogStatus.NOT_GIVEN,
                time_given=cmd.time_given,
                scheduled_for=cmd.scheduled_for,
                reason=NotGivenReason(cmd.reason or ""),
                notes=cmd.notes,
            ),
            now,
        )

    inserted = s.execute(
        insert(MedicationLog)
        .values(
            id=cmd.id,
            student_medication_id=cmd.prescription_id,
            nurse_id=cmd.nurse_id,
            dosage_given=cmd.dosage_given or (rx_row.dosage if cmd.status == "GIVEN" else None),
            time_given=cmd.time_given,
            scheduled_for=scheduled_for,
            status=cmd.status,
            not_given_reason=cmd.reason if cmd.status == "NOT_GIVEN" else None,
            notes=cmd.notes,
            side_effects=cmd.side_effects,
            override_reason=override_text,
            witness_id=cmd.witness_id,
            inventory_id=cmd.inventory_id,
            quantity_used=cmd.quantity_used if cmd.inventory_id else None,
            recorded_offline=offline,
        )
        .on_conflict_do_nothing(index_elements=[MedicationLog.id])
        .returning(MedicationLog.id)
    ).first()
    if inserted is None:  # a concurrent resend of the same id won
        return DoseResult(cmd.id, "ALREADY_RECORDED", scheduled_for), None

    stock_left = None
    if cmd.inventory_id is not None and cmd.status == "GIVEN":
        stock_left = _take_from_stock(s, cmd, med.id)
    log.info(
        "dose recorded (status=%s, offline=%s, override=%s)",
        cmd.status,
        offline,
        bool(override_text),
    )
    return DoseResult(
        cmd.id, "RECORDED", scheduled_for, notices, override_text, stock_left
    ), school.id


def _names(med: Medication) -> list[str]:
    return [n for n in (med.name, med.generic_name) if n]


def _take_from_stock(s: Session, cmd: DoseCommand, medication_id: uuid.UUID) -> int:
    quantity = cmd.quantity_used or 1
    left = s.execute(
        update(MedicationInventory)
        .where(
            MedicationInventory.id == cmd.inventory_id,
            MedicationInventory.medication_id == medication_id,
            MedicationInventory.quantity >= quantity,
        )
        .values(quantity=MedicationInventory.quantity - quantity)
        .returning(MedicationInventory.quantity)
    ).scalar()
    if left is None:
        lot = s.get(MedicationInventory, cmd.inventory_id)
        if lot is None or lot.medication_id != medication_id:
            raise DoseInputError("The chosen stock lot is not this medication.")
        raise DoseInputError(
            f"Lot {lot.batch_number} shows {lot.quantity} left, fewer than {quantity}; "
            "choose another lot or correct the count first."
        )
    s.add(
        InventoryAdjustment(
            inventory_id=cmd.inventory_id,
            delta=-quantity,
            quantity_after=left,
            reason="dose given",
            user_id=cmd.nurse_id,
            witness_id=cmd.witness_id,
            medication_log_id=cmd.id,
        )
    )
    return int(left)


@dataclass(frozen=True)
class SyncReport:
    delivered: int
    already_there: int
    rejected: int
    still_waiting: int


def sync_outbox(
    sessions: sessionmaker[Session],
    outbox: Outbox,
    *,
    now: dt.datetime | None = None,
    cache: Cache | None = None,
) -> SyncReport:
    """Send doses recorded offline, oldest first. Each lands once; refusals are kept for review."""
    delivered = already = rejected = 0
    schools: set[uuid.UUID] = set()
    for record in _pending(outbox):
        cmd = DoseCommand.from_record(record)
        try:
            result, school_id = _record(sessions, cmd, now or dt.datetime.now(dt.UTC), offline=True)
        except (DoseRefused, DoseInputError, ValueError) as exc:
            outbox.reject(cmd.id, str(exc))
            rejected += 1
            continue
        except (OperationalError, InterfaceError):
            break  # still offline: try again at the next sync
        outbox.delivered(cmd.id)
        if result.outcome == "RECORDED":
            delivered += 1
        else:
            already += 1
        if school_id is not None:
            schools.add(school_id)
    if cache is not None:
        for school_id in schools:
            cache.evict_tag(school_tag(school_id))
    return SyncReport(delivered, already, rejected, len(outbox))


def _pending(outbox: Outbox) -> Iterable[dict[str, Any]]:
    return list(outbox.pending())
