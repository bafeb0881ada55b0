"""Correcting a dose record: a new record supersedes the old one; both stay in history.

Why this shape: dose logs are never rewritten (the database forbids it), so a wrong record is
fixed by a *correction record* written in the same transaction as the "superseded" stamp on the
original (the database checks both halves, migration 0004). The correction carries why
(``correction_reason``, a sentence), what kind of correction it is, and the name of the nurse
who made it (``nurse_id`` of the new record; the original keeps the nurse who gave the dose).

Kinds:

* ENTERED_IN_ERROR — the record should not exist (wrong student, wrong order): an
  ENTERED_IN_ERROR marker supersedes it, so the dose is due (or missed) again. If the original
  took stock from a lot, the quantity is put back with a ledger line "correction".
* WRONG_TIME — the same dose at another time (not in the future); stock unchanged.
* WRONG_DOSE — the same dose with another ``dosage_given``; stock unchanged.
* WRONG_STATUS — GIVEN → NOT_GIVEN (with a reason; stock taken by the original is put back,
  ledger line "correction") or NOT_GIVEN → GIVEN (documentation of a dose that was given; the
  database still allows only one current GIVEN per dose, and no stock is taken here — adjust the
  count separately if it came from a lot).

Only the newest record of a chain can be corrected; ``correct_dose`` is idempotent on
``cmd.id`` (a retry returns ALREADY_RECORDED).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from medapp.cache.store import school_tag
from medapp.db.mapping import calendar_from_row, dose_log_from_row, prescription_from_row
from medapp.db.models import (
    InventoryAdjustment,
    MedicationInventory,
    MedicationLog,
    School,
    Student,
    StudentMedication,
    User,
)
from medapp.domain.checks import (
    WarningCode,
    check_can_give,
    check_can_record_not_given,
    override_reason_problem,
)
from medapp.domain.doses import CLOCK_SKEW, DoseLog, NotGivenReason
from medapp.services.desk import Desk

__all__ = [
    "CorrectionCommand",
    "CorrectionError",
    "CorrectionKind",
    "CorrectionResult",
    "DoseHistoryEntry",
    "correct_dose",
    "dose_history",
]

log = logging.getLogger(__name__)


class CorrectionKind(StrEnum):
    ENTERED_IN_ERROR = "ENTERED_IN_ERROR"
    WRONG_TIME = "WRONG_TIME"
    WRONG_DOSE = "WRONG_DOSE"
    WRONG_STATUS = "WRONG_STATUS"

    @property
    def label(self) -> str:
        return {
            CorrectionKind.ENTERED_IN_ERROR: "Entered in error",
            CorrectionKind.WRONG_TIME: "Wrong time",
            CorrectionKind.WRONG_DOSE: "Wrong dose",
            CorrectionKind.WRONG_STATUS: "Wrong status",
        }[self]


class CorrectionError(ValueError):
    """The correction cannot be made; the message is one sentence for the nurse."""


@dataclass(frozen=True)
class CorrectionCommand:
    id: uuid.UUID  # client id of the new record
    original_log_id: uuid.UUID
    kind: CorrectionKind
    reason: str  # a sentence, >= 10 characters
    time_given: dt.datetime | None = None  # WRONG_TIME (and optionally WRONG_STATUS → GIVEN)
    dosage_given: str | None = None  # WRONG_DOSE (and optionally WRONG_STATUS → GIVEN)
    status: str | None = None  # WRONG_STATUS: "GIVEN" or "NOT_GIVEN"
    not_given_reason: str | None = None  # WRONG_STATUS → NOT_GIVEN
    notes: str | None = None


@dataclass(frozen=True)
class CorrectionResult:
    log_id: uuid.UUID
    original_log_id: uuid.UUID
    outcome: str  # "CORRECTED" | "ALREADY_RECORDED"
    stock_returned: int | None = None  # quantity put back on the original's lot


@dataclass(frozen=True)
class DoseHistoryEntry:
    log_id: uuid.UUID
    status: str  # GIVEN | NOT_GIVEN | ENTERED_IN_ERROR
    time_given: dt.datetime
    scheduled_for: dt.datetime | None
    dosage_given: str | None
    not_given_reason: str | None
    notes: str | None
    nurse_name: str
    override_reason: str | None
    is_current: (
        bool  # not superseded (an ENTERED_IN_ERROR marker is current but counts for nothing)
    )
    superseded_by_id: uuid.UUID | None
    supersedes_id: uuid.UUID | None
    correction_reason: str | None  # why this record superseded its original
    corrected_at: dt.datetime | None  # when this record was superseded (None: current)
    correction_kind: str | None = None
    quantity_used: int | None = None
    batch_number: str | None = None
    recorded_at: dt.datetime | None = None

    @property
    def counts(self) -> bool:
        """Counts for the dose's status (current and not an entered-in-error marker)."""
        return self.is_current and self.status != "ENTERED_IN_ERROR"

    @property
    def outcome_label(self) -> str:
        if self.status == "NOT_GIVEN" and self.not_given_reason:
            return f"Not given — {NotGivenReason(self.not_given_reason).label}"
        if self.status == "ENTERED_IN_ERROR":
            return "Entered in error"
        if self.status == "MISSED":
            return "Missed (end of day)"
        return "Given"


def _validate(cmd: CorrectionCommand) -> CorrectionKind:
    try:
        kind = CorrectionKind(cmd.kind)
    except ValueError:
        raise CorrectionError(
            "Choose what is wrong: entered in error, wrong time, wrong dose or wrong status."
        ) from None
    problem = override_reason_problem(cmd.reason)
    if problem is not None:
        raise CorrectionError(problem.replace("A written reason", "A correction reason"))
    if cmd.id == cmd.original_log_id:
        raise CorrectionError("A correction is a new record with its own id.")
    if kind is CorrectionKind.WRONG_TIME and cmd.time_given is None:
        raise CorrectionError("Give the time the dose was really given.")
    if cmd.time_given is not None and cmd.time_given.tzinfo is None:
        raise CorrectionError("The corrected time must include a timezone.")
    if kind is CorrectionKind.WRONG_DOSE and not (cmd.dosage_given or "").strip():
        raise CorrectionError("Give the dose that was really given.")
    if kind is CorrectionKind.WRONG_STATUS:
        if cmd.status not in ("GIVEN", "NOT_GIVEN"):
            raise CorrectionError("Say whether the dose was given or not given.")
        if cmd.status == "NOT_GIVEN":
            try:
                reason = NotGivenReason(cmd.not_given_reason or "")
            except ValueError:
                raise CorrectionError(
                    "Say why the dose was not given (refused, absent, held, no supply, "
                    "parent called, other)."
                ) from None
            if reason is NotGivenReason.OTHER and not (cmd.notes or "").strip():
                raise CorrectionError("Reason 'Other' needs a note saying what happened.")
    return kind


def correct_dose(desk: Desk, cmd: CorrectionCommand) -> CorrectionResult:
    """Supersede ``cmd.original_log_id`` with a correction record (see the module docstring).

    Raises CorrectionError (one sentence) or AccessDenied."""
    kind = _validate(cmd)
    actor = desk.actor
    actor.require_active()
    try:
        with desk.sessions.begin() as s:
            result, school_id = _correct_in(s, cmd, kind, desk)
    except IntegrityError as exc:
        text = str(exc.orig)
        if "already given" in text or "one_given_per_dose" in text:
            raise CorrectionError(
                "This dose already has another current 'given' record; correct that one "
                "instead (use Correct… on it)."
            ) from None
        raise
    if desk.cache is not None and school_id is not None:
        desk.cache.evict_tag(school_tag(school_id))
    return result


def _correct_in(
    s: Session, cmd: CorrectionCommand, kind: CorrectionKind, desk: Desk
) -> tuple[CorrectionResult, uuid.UUID | None]:
    existing = s.get(MedicationLog, cmd.id)
    if existing is not None:
        if existing.supersedes_id != cmd.original_log_id:
            raise CorrectionError("That correction id is already used by another record.")
        return CorrectionResult(cmd.id, cmd.original_log_id, "ALREADY_RECORDED"), None
    original = s.get(MedicationLog, cmd.original_log_id)
    if original is None:
        raise CorrectionError("The record to correct does not exist.")
    found = s.execute(
        select(StudentMedication, School)
        .join(Student, Student.id == StudentMedication.student_id)
        .join(School, School.id == Student.school_id)
        .where(StudentMedication.id == original.student_medication_id)
        .with_for_update(of=StudentMedication)
    ).first()
    assert found is not None  # the foreign key guarantees it
    rx, school = found
    desk.actor.require_write(school.id, "correct a dose record of this student")
    # The order lock serialises corrections and doses of this order; read the original again.
    s.refresh(original)
    if s.get(MedicationLog, cmd.id) is not None:
        return CorrectionResult(cmd.id, cmd.original_log_id, "ALREADY_RECORDED"), None
    if original.superseded_at is not None:
        newer = s.get(MedicationLog, original.superseded_by_id)
        when = (
            newer.created_at.astimezone(ZoneInfo(school.timezone)).strftime("%H:%M")
            if newer is not None
            else "?"
        )
        raise CorrectionError(
            f"This record was already corrected (at {when}); correct the newest record instead."
        )
    if original.status == "ENTERED_IN_ERROR":
        raise CorrectionError(
            "An 'entered in error' marker cannot be corrected; record the dose again if it was "
            "given."
        )
    if original.status == "MISSED":
        raise CorrectionError(
            "A 'missed' record of the end-of-day close is not corrected: record the dose as "
            "given or not given, and that record supersedes it."
        )
    now = desk.now()
    values = _replacement(original, cmd, kind, rx.dosage, now, ZoneInfo(school.timezone))
    if values["status"] == "NOT_GIVEN":
        _check_not_given(s, rx, school, original, values, now)
    elif values["status"] == "GIVEN":
        _check_given(s, rx, school, original, values, now)
    # Stamp first (the foreign key is deferred), so the replacement never meets a second
    # current GIVEN of the same dose; the database checks the pair at commit.
    stamped = s.execute(
        update(MedicationLog)
        .where(MedicationLog.id == original.id, MedicationLog.superseded_at.is_(None))
        .values(superseded_at=func.now(), superseded_by_id=cmd.id)
        .returning(MedicationLog.id)
    ).first()
    if stamped is None:
        raise CorrectionError("This record was just corrected by someone else; reload it.")
    s.add(
        MedicationLog(
            id=cmd.id,
            student_medication_id=original.student_medication_id,
            nurse_id=desk.actor.user_id,
            supersedes_id=original.id,
            correction_kind=kind.value,
            correction_reason=cmd.reason.strip(),
            recorded_offline=False,
            **values,
        )
    )
    s.flush()
    returned = None
    if values["status"] != "GIVEN" and original.status == "GIVEN":
        returned = _return_stock(s, original, cmd.id, desk.actor.user_id)
    log.info("dose record corrected (kind=%s, stock_returned=%s)", kind.value, bool(returned))
    return CorrectionResult(cmd.id, original.id, "CORRECTED", returned), school.id


def _other_logs(
    s: Session, rx: StudentMedication, original: MedicationLog, at: dt.datetime
) -> list[DoseLog]:
    """The order's records around ``at`` other than the one being corrected (it is superseded
    by the correction, so it must not count against it)."""
    rows = s.execute(
        select(MedicationLog, User.first_name, User.last_name)
        .join(User, User.id == MedicationLog.nurse_id)
        .where(
            MedicationLog.student_medication_id == rx.id,
            MedicationLog.id != original.id,
            MedicationLog.time_given >= at - dt.timedelta(hours=36),
            MedicationLog.time_given < at + dt.timedelta(hours=36),
        )
    ).all()
    return [dose_log_from_row(r.MedicationLog, f"{r.first_name} {r.last_name}") for r in rows]


def _check_not_given(
    s: Session,
    rx: StudentMedication,
    school: School,
    original: MedicationLog,
    values: dict[str, Any],
    now: dt.datetime,
) -> None:
    """A corrected NOT_GIVEN must not sit beside a current GIVEN (or a second NOT_GIVEN) of
    the same dose: the same rule as recording one."""
    at: dt.datetime = values["time_given"]
    decision = check_can_record_not_given(
        prescription_from_row(rx),
        calendar_from_row(school),
        at=at,
        now=now,
        logs=_other_logs(s, rx, original, at),
        scheduled_for=values["scheduled_for"],
    )
    blocking = [w for w in decision.blockers if w.code is not WarningCode.FUTURE_TIME]
    if blocking:
        raise CorrectionError(blocking[0].message)


def _check_given(
    s: Session,
    rx: StudentMedication,
    school: School,
    original: MedicationLog,
    values: dict[str, Any],
    now: dt.datetime,
) -> None:
    """A correction that makes (or moves) a GIVEN must not give a dose a second current GIVEN —
    the double-dosing record the dose path refuses: "not given" corrected to "given", or a
    given dose's time moved into another dose's window. The rest of the giving rules (late,
    early, PRN limits) are not applied: a correction documents what happened."""
    at: dt.datetime = values["time_given"]
    decision = check_can_give(
        prescription_from_row(rx),
        calendar_from_row(school),
        at=at,
        now=now,
        logs=_other_logs(s, rx, original, at),
        scheduled_for=values["scheduled_for"],
    )
    doubled = [w for w in decision.warnings if w.code is WarningCode.ALREADY_GIVEN]
    if doubled:
        raise CorrectionError(
            doubled[0].message + " Correct that record instead of adding a second dose."
        )


def _replacement(
    original: MedicationLog,
    cmd: CorrectionCommand,
    kind: CorrectionKind,
    order_dose: str,
    now: dt.datetime,
    tz: ZoneInfo,
) -> dict[str, Any]:
    """The new record's values: the original's, changed as the correction says."""
    same: dict[str, Any] = dict(
        dosage_given=original.dosage_given,
        time_given=original.time_given,
        scheduled_for=original.scheduled_for,
        status=original.status,
        not_given_reason=original.not_given_reason,
        notes=cmd.notes if cmd.notes is not None else original.notes,
        side_effects=original.side_effects,
        override_reason=original.override_reason,
        witness_id=original.witness_id,
        inventory_id=original.inventory_id,
        quantity_used=original.quantity_used,
    )
    if cmd.time_given is not None and cmd.time_given > now + CLOCK_SKEW:
        raise CorrectionError("The corrected time is in the future.")
    if kind is CorrectionKind.ENTERED_IN_ERROR:
        return same | dict(
            status="ENTERED_IN_ERROR",
            not_given_reason=None,
            dosage_given=None,
            notes=cmd.notes or cmd.reason.strip(),
            override_reason=None,
            inventory_id=None,
            quantity_used=None,
        )
    if kind is CorrectionKind.WRONG_TIME:
        assert cmd.time_given is not None
        if original.scheduled_for is not None and (
            cmd.time_given.astimezone(tz).date() != original.scheduled_for.astimezone(tz).date()
        ):
            raise CorrectionError(
                "The corrected time is on another day than the dose; mark this record entered "
                "in error and record the dose on its day."
            )
        return same | dict(time_given=cmd.time_given)
    if kind is CorrectionKind.WRONG_DOSE:
        if original.status != "GIVEN":
            raise CorrectionError("Only a dose that was given has a dose to correct.")
        return same | dict(dosage_given=(cmd.dosage_given or "").strip())
    # WRONG_STATUS
    if cmd.status == original.status:
        raise CorrectionError(f"The record already says {original.status.replace('_', ' ')}.")
    if cmd.status == "NOT_GIVEN":
        return same | dict(
            status="NOT_GIVEN",
            not_given_reason=cmd.not_given_reason,
            dosage_given=None,
            override_reason=None,
            inventory_id=None,
            quantity_used=None,
            side_effects=None,
            time_given=cmd.time_given or original.time_given,
        )
    return same | dict(
        status="GIVEN",
        not_given_reason=None,
        dosage_given=(cmd.dosage_given or "").strip() or order_dose,
        time_given=cmd.time_given or original.time_given,
        inventory_id=None,
        quantity_used=None,
    )


def _return_stock(
    s: Session, original: MedicationLog, correction_id: uuid.UUID, user_id: uuid.UUID
) -> int | None:
    """Put back what the original took from its lot, with a ledger line "correction"."""
    if original.inventory_id is None or not original.quantity_used:
        return None
    quantity = original.quantity_used
    left = s.execute(
        update(MedicationInventory)
        .where(MedicationInventory.id == original.inventory_id)
        .values(quantity=MedicationInventory.quantity + quantity)
        .returning(MedicationInventory.quantity)
    ).scalar()
    if left is None:
        return None
    s.add(
        InventoryAdjustment(
            inventory_id=original.inventory_id,
            delta=quantity,
            quantity_after=left,
            reason="correction",
            user_id=user_id,
            medication_log_id=correction_id,
        )
    )
    return quantity


def dose_history(
    desk: Desk, prescription_id: uuid.UUID, *, day: dt.date | None = None
) -> tuple[DoseHistoryEntry, ...]:
    """The order's dose records, newest first, superseded ones included (struck through in the
    UI); with ``day``, only the records of that school-local day."""
    with desk.sessions() as s:
        found = s.execute(
            select(School)
            .join(Student, Student.school_id == School.id)
            .join(StudentMedication, StudentMedication.student_id == Student.id)
            .where(StudentMedication.id == prescription_id)
        ).scalar()
        if found is None:
            raise CorrectionError("That prescription does not exist.")
        desk.actor.require_read(found.id, "this student's dose records")
        nurse = aliased(User)
        query = (
            select(
                MedicationLog, nurse.first_name, nurse.last_name, MedicationInventory.batch_number
            )
            .join(nurse, nurse.id == MedicationLog.nurse_id)
            .outerjoin(MedicationInventory, MedicationInventory.id == MedicationLog.inventory_id)
            .where(MedicationLog.student_medication_id == prescription_id)
        )
        if day is not None:
            tz = ZoneInfo(found.timezone)
            start = dt.datetime.combine(day, dt.time.min, tz)
            query = query.where(
                MedicationLog.time_given >= start,
                MedicationLog.time_given < start + dt.timedelta(days=1),
            )
        rows = s.execute(
            query.order_by(MedicationLog.time_given.desc(), MedicationLog.created_at.desc()).limit(
                2000
            )
        ).all()
        return tuple(
            DoseHistoryEntry(
                log_id=r.MedicationLog.id,
                status=r.MedicationLog.status,
                time_given=r.MedicationLog.time_given,
                scheduled_for=r.MedicationLog.scheduled_for,
                dosage_given=r.MedicationLog.dosage_given,
                not_given_reason=r.MedicationLog.not_given_reason,
                notes=r.MedicationLog.notes,
                nurse_name=f"{r.first_name} {r.last_name}",
                override_reason=r.MedicationLog.override_reason,
                is_current=r.MedicationLog.superseded_at is None,
                superseded_by_id=r.MedicationLog.superseded_by_id,
                supersedes_id=r.MedicationLog.supersedes_id,
                correction_reason=r.MedicationLog.correction_reason,
                corrected_at=r.MedicationLog.superseded_at,
                correction_kind=r.MedicationLog.correction_kind,
                quantity_used=r.MedicationLog.quantity_used,
                batch_number=r.batch_number,
                recorded_at=r.MedicationLog.created_at,
            )
            for r in rows
        )
