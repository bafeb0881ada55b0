"""Recording a dose: one short transaction, safe to retry, impossible to double.

Why it is built this way:

* The log id comes from the client (``DoseCommand.id``), so pressing "Given" twice, a network
  retry, or an offline resend all land as one row (``INSERT … ON CONFLICT (id) DO NOTHING``).
* The prescription row is locked (``SELECT … FOR UPDATE``) before the rules look at its logs, so
  two PCs recording the same dose are serialised: the second sees the first's log and is told
  "already given at HH:MM by <nurse>". The partial unique index is the last line of defence.
* The rules (PRN interval and daily maximum, authorization, allergy, future time, already given
  whatever the dose tag, early/late doses, plausibility of the dose and the quantity) are the
  domain's ``check_can_give`` (GIVEN) and ``check_can_record_not_given`` (NOT_GIVEN); an
  override needs a written reason (a sentence) and is stored.
* One dose, one truth: the dose tag stored is the school dose the rules matched (a tag off by
  seconds is snapped to it; an early/late dose given with an override is tagged with the dose
  it replaces; a PRN dose carries no tag). A GIVEN after a NOT_GIVEN of the same dose needs a
  written reason — the ``override_reason`` of the command is the "explicit yes" — and
  supersedes the NOT_GIVEN in the same transaction (``correction_kind`` GIVEN_AFTER_NOT_GIVEN).
  The database refuses a second current GIVEN within the dose window whatever writes it
  (migration 0004); a refusal names who gave it, when, and the log id (``existing_log_id``).
* An expired lot is refused; a dose taken from stock is checked against the order.
* Who: ``desk.actor`` must be allowed to write the student's school, and an online dose is
  recorded under her own id (``cmd.nurse_id``); an offline resend keeps the nurse who gave it.
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

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import (
    DataError,
    IntegrityError,
    InterfaceError,
    InternalError,
    OperationalError,
)
from sqlalchemy.orm import Session, sessionmaker

from medapp.cache.outbox import Outbox, OutboxBusy
from medapp.cache.store import school_tag
from medapp.db.errors import DatabaseUnavailable
from medapp.db.limits import INTEGER_MAX, text_limits
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
from medapp.domain.checks import (
    DoseRefused,
    GiveDecision,
    Override,
    OverrideReasonError,
    RuleWarning,
    WarningCode,
    check_can_give,
    check_can_record_not_given,
)
from medapp.domain.doses import DoseLog, NotGivenReason
from medapp.services.desk import AccessDenied, Actor, Desk

log = logging.getLogger(__name__)

ONE_GIVEN_INDEX = "uq_medication_logs_one_given_per_dose"
ONE_GIVEN_TRIGGER = "medapp_one_given_per_dose"


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
    #: why an as-needed dose was given ("headache"); ``services.student_page.give_prn``
    complaint: str | None = None

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
    superseded_id: uuid.UUID | None = None  # the NOT_GIVEN this GIVEN superseded


#: DoseCommand field → (medication_logs column, what the nurse calls it)
_TEXT_FIELDS = {
    "dosage_given": ("dosage_given", "The dose given"),
    "reason": ("not_given_reason", "The reason"),
    "notes": ("notes", "The note"),
    "side_effects": ("side_effects", "The side effects"),
    "override_reason": ("override_reason", "The override reason"),
}


def check_field_lengths(cmd: DoseCommand) -> None:
    """Every text fits its column (limits read from the model, so they follow the schema) and
    the quantity fits an integer: said in a sentence here, not refused by the server later,
    where an outbox record would have to wait for review."""
    limits = text_limits(MedicationLog)
    for name, (column, label) in _TEXT_FIELDS.items():
        value = getattr(cmd, name)
        limit = limits.get(column)
        if value is not None and limit is not None and len(value) > limit:
            raise DoseInputError(
                f"{label} is {len(value)} characters long; the record holds at most {limit}. "
                "Shorten it (put the rest in the note)."
            )
    if cmd.quantity_used is not None and cmd.quantity_used > INTEGER_MAX:
        raise DoseInputError("The quantity taken from stock is too large.")


def field_limit(name: str) -> int | None:
    """The most characters the DoseCommand field ``name`` may hold (None: no limit) — what
    the dose dialog gives its line edits as ``maxLength``."""
    column = _TEXT_FIELDS.get(name, (name, ""))[0]
    return text_limits(MedicationLog).get(column)


def _validate(cmd: DoseCommand) -> None:
    check_field_lengths(cmd)
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

    if cmd.scheduled_for is not None and cmd.scheduled_for.tzinfo is None:
        raise DoseInputError("The scheduled time must include a timezone.")


def _is_connection_error(exc: BaseException) -> bool:
    return isinstance(exc, (OperationalError, InterfaceError)) and not isinstance(
        exc, IntegrityError
    )


def _is_one_given_violation(exc: IntegrityError) -> bool:
    diag = getattr(exc.orig, "diag", None)
    name = getattr(diag, "constraint_name", None) or ""
    return name in (ONE_GIVEN_INDEX, ONE_GIVEN_TRIGGER) or ONE_GIVEN_INDEX in str(exc.orig)


def record_dose(desk: Desk, cmd: DoseCommand) -> DoseResult:
    """Record ``cmd`` for ``desk.actor``. Raises DoseRefused (rules), DoseInputError (bad
    command), AccessDenied (not her school, or another nurse's name on the command)."""
    actor = desk.actor
    actor.require_active()
    if cmd.nurse_id != actor.user_id:
        raise AccessDenied(
            f"A dose is recorded under the name of the nurse signed in ({actor.display_name}); "
            "sign in as the nurse who gave it."
        )
    _validate(cmd)
    try:
        result, school_id = _record(desk.sessions, cmd, desk.now(), actor=actor, offline=False)
    except (OperationalError, InterfaceError) as exc:
        if desk.outbox is None or not _is_connection_error(exc):
            raise
        desk.outbox.put(cmd.to_record())
        return DoseResult(cmd.id, "QUEUED_OFFLINE", cmd.scheduled_for)
    if desk.cache is not None and school_id is not None:
        desk.cache.evict_tag(school_tag(school_id))
    return result


def _logs_around(
    s: Session, prescription_id: uuid.UUID, *moments: dt.datetime | None
) -> list[DoseLog]:
    """The logs the rules need for a dose at these moments (time given and dose tag)."""
    points = [m for m in moments if m is not None]
    start = min(points) - dt.timedelta(hours=36)
    end = max(points) + dt.timedelta(hours=36)
    rows = s.execute(
        select(MedicationLog, User.first_name, User.last_name)
        .join(User, User.id == MedicationLog.nurse_id)
        .where(
            MedicationLog.student_medication_id == prescription_id,
            MedicationLog.time_given >= start,
            MedicationLog.time_given < end,
        )
    ).all()
    return [dose_log_from_row(r.MedicationLog, f"{r.first_name} {r.last_name}") for r in rows]


class _Lost(Exception):
    """A concurrent writer won between our checks and our insert: roll back, then explain."""


def _record(
    sessions: sessionmaker[Session],
    cmd: DoseCommand,
    now: dt.datetime,
    *,
    actor: Actor,
    offline: bool,
) -> tuple[DoseResult, uuid.UUID | None]:
    try:
        with sessions.begin() as s:
            return _record_in(s, cmd, now, actor=actor, offline=offline)
    except _Lost:
        return DoseResult(cmd.id, "ALREADY_RECORDED", cmd.scheduled_for), None
    except IntegrityError as exc:
        if not _is_one_given_violation(exc):
            raise
    # Lost a race the row lock could not see (another program wrote the log): report who won.
    with sessions() as s:
        decision = decide_given(s, cmd, now)
    pointing = [w for w in decision.warnings if w.code is WarningCode.ALREADY_GIVEN]
    if pointing:
        raise DoseRefused(tuple(pointing), pointing[0].message)
    warning = RuleWarning(
        WarningCode.ALREADY_GIVEN,
        "Already given by another nurse a moment ago. If that record is wrong, use Correct… on it.",
    )
    raise DoseRefused((warning,), warning.message)


@dataclass
class _Order:
    rx: StudentMedication
    student: Student
    med: Medication
    school: School
    calendar: Any


def _load_order(s: Session, cmd: DoseCommand, *, lock: bool) -> _Order:
    query = (
        select(StudentMedication, Student, Medication, School)
        .join(Student, Student.id == StudentMedication.student_id)
        .join(Medication, Medication.id == StudentMedication.medication_id)
        .join(School, School.id == Student.school_id)
        .where(StudentMedication.id == cmd.prescription_id)
    )
    if lock:
        query = query.with_for_update(of=StudentMedication)
    found = s.execute(query).first()
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
    return _Order(rx_row, student, med, school, calendar_from_row(school, closures))


def decide_given(
    s: Session, cmd: DoseCommand, now: dt.datetime, order: _Order | None = None
) -> GiveDecision:
    """The rules' verdict on ``cmd`` (a GIVEN) — what ``record_dose`` applies and what
    ``preview_dose`` shows, from the same inputs."""
    order = order or _load_order(s, cmd, lock=False)
    allergens = s.scalars(
        select(Allergy.allergen).where(Allergy.student_id == order.student.id, Allergy.is_active)
    ).all()
    return check_can_give(
        prescription_from_row(order.rx),
        order.calendar,
        at=cmd.time_given,
        now=now,
        logs=_logs_around(s, cmd.prescription_id, cmd.time_given, cmd.scheduled_for),
        scheduled_for=cmd.scheduled_for,
        medication_names=_names(order.med),
        allergens=allergens,
        order_dose=order.rx.dosage,
        dosage_given=cmd.dosage_given,
        quantity_used=cmd.quantity_used if cmd.inventory_id is not None else None,
        product_strength=order.med.strength,
    )


def decide_not_given(
    s: Session, cmd: DoseCommand, now: dt.datetime, order: _Order | None = None
) -> GiveDecision:
    """The rules' verdict on ``cmd`` as a NOT_GIVEN (nothing there can be overridden)."""
    order = order or _load_order(s, cmd, lock=False)
    return check_can_record_not_given(
        prescription_from_row(order.rx),
        order.calendar,
        at=cmd.time_given,
        now=now,
        logs=_logs_around(s, cmd.prescription_id, cmd.time_given, cmd.scheduled_for),
        scheduled_for=cmd.scheduled_for,
    )


def authorize_with_reason(decision: GiveDecision, reason: str | None) -> str | None:
    """The override text to store, or DoseRefused / DoseInputError (a reason that is not a
    sentence, said clearly). A reason given when nothing needs one is not stored."""
    if decision.blockers or not decision.needs_override:
        decision.authorize(None)  # raises for blockers; returns None when nothing is needed
        return None
    override = None
    if reason is not None and reason.strip():
        try:
            override = Override(reason)
        except OverrideReasonError as exc:
            raise DoseInputError(str(exc)) from None
    record = decision.authorize(override)
    return record.as_text() if record else None


def _record_in(
    s: Session, cmd: DoseCommand, now: dt.datetime, *, actor: Actor, offline: bool
) -> tuple[DoseResult, uuid.UUID | None]:
    if s.get(MedicationLog, cmd.id) is not None:
        return DoseResult(cmd.id, "ALREADY_RECORDED", cmd.scheduled_for), None
    order = _load_order(s, cmd, lock=True)
    actor.require_write(order.school.id, "record a dose for this student")
    # The row lock may have waited for another PC: look again for our own id.
    if s.get(MedicationLog, cmd.id) is not None:
        return DoseResult(cmd.id, "ALREADY_RECORDED", cmd.scheduled_for), None

    notices: tuple[str, ...] = ()
    override_text: str | None = None
    supersedes: uuid.UUID | None = None
    if cmd.status == "GIVEN":
        lot = _usable_lot(s, cmd, order, now) if cmd.inventory_id is not None else None
        decision = decide_given(s, cmd, now, order)
        override_text = authorize_with_reason(decision, cmd.override_reason)
        notices = tuple(w.message for w in decision.notices)
        supersedes = decision.supersedes_id  # type: ignore[assignment]
        scheduled_for = decision.scheduled_for
    else:
        lot = None
        refusal = decide_not_given(s, cmd, now, order)
        refusal.authorize(None)
        scheduled_for = refusal.scheduled_for

    correction_kind = "GIVEN_AFTER_NOT_GIVEN" if supersedes is not None else None
    correction_reason = (
        cmd.override_reason.strip() if supersedes is not None and cmd.override_reason else None
    )
    if supersedes is None and scheduled_for is not None:
        # Documented after the end-of-day close wrote this dose down as MISSED (0006): the
        # new record supersedes the MISSED one in this transaction, with its reason.
        missed = _current_missed(s, cmd.prescription_id, scheduled_for)
        if missed is not None:
            supersedes = missed
            correction_kind = "DOCUMENTED_AFTER_MISSED"
            correction_reason = (cmd.override_reason or "").strip() or (
                "Documented after the end-of-day close had recorded this dose as missed."
            )
    if supersedes is not None:
        # Stamp first (the foreign key is deferred), then insert the record that replaces it.
        s.execute(
            update(MedicationLog)
            .where(MedicationLog.id == supersedes, MedicationLog.superseded_at.is_(None))
            .values(superseded_at=func.now(), superseded_by_id=cmd.id)
        )
    inserted = s.execute(
        insert(MedicationLog)
        .values(
            id=cmd.id,
            student_medication_id=cmd.prescription_id,
            nurse_id=cmd.nurse_id,
            dosage_given=cmd.dosage_given or (order.rx.dosage if cmd.status == "GIVEN" else None),
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
            supersedes_id=supersedes,
            correction_kind=correction_kind,
            correction_reason=correction_reason,
            complaint=cmd.complaint,
        )
        .on_conflict_do_nothing(index_elements=[MedicationLog.id])
        .returning(MedicationLog.id)
    ).first()
    if inserted is None:  # a concurrent resend of the same id won
        raise _Lost()

    stock_left = None
    if lot is not None:
        stock_left = _take_from_stock(s, cmd, order.med.id)
    log.info(
        "dose recorded (status=%s, offline=%s, override=%s, supersedes=%s)",
        cmd.status,
        offline,
        bool(override_text),
        supersedes is not None,
    )
    return DoseResult(
        cmd.id,
        "RECORDED",
        scheduled_for,
        notices,
        override_text,
        stock_left,
        supersedes,
    ), order.school.id


def _current_missed(
    s: Session, prescription_id: uuid.UUID, scheduled_for: dt.datetime
) -> uuid.UUID | None:
    """The current MISSED record of this dose (end-of-day close), if any."""
    return s.execute(
        select(MedicationLog.id).where(
            MedicationLog.student_medication_id == prescription_id,
            MedicationLog.scheduled_for == scheduled_for,
            MedicationLog.status == "MISSED",
            MedicationLog.superseded_at.is_(None),
        )
    ).scalar()


def _usable_lot(
    s: Session, cmd: DoseCommand, order: _Order, now: dt.datetime
) -> MedicationInventory:
    lot = s.get(MedicationInventory, cmd.inventory_id)
    if lot is None or lot.medication_id != order.med.id:
        raise DoseInputError("The chosen stock lot is not this medication.")
    if lot.student_id is not None and lot.student_id != order.student.id:
        raise DoseInputError(f"Lot {lot.batch_number} is another student's own supply.")
    today = now.astimezone(order.calendar.tz).date()
    if lot.expiration_date < today:
        raise DoseInputError(
            f"Lot {lot.batch_number} expired on {lot.expiration_date.isoformat()}; do not give "
            "it — choose another lot (and set the expired one aside for disposal)."
        )
    return lot


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
    """What one sending pass did, counted exactly (each record in one count)."""

    delivered: int  # recorded on the server now
    already_there: int  # the server had it already (a resend, or a crash after the commit)
    rejected: int  # moved to "to review" (refused for its data, or a real conflict)
    still_waiting: int  # left in the queue (server unreachable, or another window is sending)
    busy: bool = False  # another process held the outbox: nothing was sent by this one
    skipped: int = 0  # of still_waiting: not this nurse's school to send (left for her)

    @property
    def to_review(self) -> int:
        return self.rejected

    def status_text(self) -> str:
        """One line for the status bar, e.g. "Offline doses: 3 sent, 1 already on the server,
        1 to review, 2 waiting"."""
        if self.busy:
            return f"Offline doses: being sent by another window ({self.still_waiting} waiting)"
        parts = [f"{self.delivered} sent"]
        if self.already_there:
            parts.append(f"{self.already_there} already on the server")
        if self.rejected:
            parts.append(f"{self.rejected} to review")
        if self.still_waiting:
            parts.append(f"{self.still_waiting} waiting")
        return "Offline doses: " + ", ".join(parts)


def _refusal_kind(exc: BaseException) -> str:
    if isinstance(exc, DoseRefused) and any(
        w.code is WarningCode.ALREADY_GIVEN for w in exc.warnings
    ):
        return "conflict"
    return "rules" if isinstance(exc, DoseRefused) else "data"


def _server_refusal(exc: BaseException) -> str:
    """A sentence for a refusal the server made about the values (no PHI: the database's
    message names the constraint or the type, not the data)."""
    orig = getattr(exc, "orig", None)
    diag = getattr(orig, "diag", None)
    primary = getattr(diag, "message_primary", None) or str(orig or exc).splitlines()[0]
    return f"The server refused this record: {primary}."


def sync_outbox(desk: Desk, *, lock_timeout: float = 30.0) -> SyncReport:
    """Send doses recorded offline, oldest first. Each lands once; refusals are kept for review.

    * A record the server refuses — its rules (another nurse gave that dose meanwhile: a real
      conflict), or its data (IntegrityError, DataError, a check or trigger) — moves to "to
      review" with the reason, and the records behind it are sent.
    * A connection error stops the pass: the rest stay in order for the next one.
    * The pass holds the outbox's cross-process lock, so two desks on this PC never send the
      same record (the second waits up to ``lock_timeout`` s, then reports ``busy``).

    A resend keeps the nurse who gave the dose (``nurse_id`` of the record); the desk's actor
    must still be allowed to write that student's school (a record of a school she cannot
    write is left waiting for a nurse who can, and does not block the others)."""
    outbox = desk.outbox
    if outbox is None:
        return SyncReport(0, 0, 0, 0)
    try:
        with outbox.sync_lock(lock_timeout):
            return _send_pending(desk, outbox)
    except OutboxBusy:
        return SyncReport(0, 0, 0, len(outbox), busy=True)


def _send_pending(desk: Desk, outbox: Outbox) -> SyncReport:
    delivered = already = rejected = skipped = 0
    schools: set[uuid.UUID] = set()
    now = desk.now()
    for record in _pending(outbox):
        try:
            cmd = DoseCommand.from_record(record)
        except (TypeError, ValueError) as exc:  # an unreadable record: kept, never sent
            outbox.reject(record.get("id"), f"This record cannot be read ({exc}).", "data")
            rejected += 1
            continue
        try:
            _validate(cmd)
            result, school_id = _record(desk.sessions, cmd, now, actor=desk.actor, offline=True)
        except AccessDenied:
            skipped += 1  # not this nurse's school: waits for one who may send it
            continue
        except (DoseRefused, DoseInputError, ValueError) as exc:
            outbox.reject(cmd.id, str(exc), _refusal_kind(exc))
            rejected += 1
            continue
        except (IntegrityError, DataError, InternalError) as exc:
            outbox.reject(cmd.id, _server_refusal(exc), "data")
            rejected += 1
            continue
        except (OperationalError, InterfaceError, DatabaseUnavailable):
            break  # still offline (or the server is busy): the rest wait, in order
        except Exception as exc:  # noqa: BLE001 - one record must never jam the queue
            log.warning("offline dose could not be sent (%s)", type(exc).__name__)
            reason = f"This record could not be sent ({type(exc).__name__}); retry it or tell IT."
            outbox.reject(cmd.id, reason, "error")
            rejected += 1
            continue
        outbox.delivered(cmd.id)
        if result.outcome == "RECORDED":
            delivered += 1
        else:
            already += 1
        if school_id is not None:
            schools.add(school_id)
    if desk.cache is not None:
        for school_id in schools:
            desk.cache.evict_tag(school_tag(school_id))
    report = SyncReport(delivered, already, rejected, len(outbox), skipped=skipped)
    log.info(
        "outbox sync: %d sent, %d already there, %d to review, %d waiting",
        delivered,
        already,
        rejected,
        report.still_waiting,
    )
    return report


def describe_orders(desk: Desk, prescription_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """ "Last, First — Medication dose" per order the desk may read (the offline doses under
    review name only their order's id). Orders she may not read are simply left out."""
    desk.actor.require_active()
    wanted = {p for p in prescription_ids if isinstance(p, uuid.UUID)}
    if not wanted:
        return {}
    with desk.sessions() as s:
        rows = s.execute(
            select(
                StudentMedication.id,
                StudentMedication.dosage,
                Student.last_name,
                Student.first_name,
                Student.school_id,
                Medication.name,
            )
            .join(Student, Student.id == StudentMedication.student_id)
            .join(Medication, Medication.id == StudentMedication.medication_id)
            .where(StudentMedication.id.in_(wanted))
        ).all()
    return {
        r.id: f"{r.last_name}, {r.first_name} — {r.name} {r.dosage}"
        for r in rows
        if desk.actor.sees_school(r.school_id)
    }


def _pending(outbox: Outbox) -> Iterable[dict[str, Any]]:
    return list(outbox.pending())
