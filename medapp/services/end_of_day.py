"""The end of the school day: undocumented school doses become MISSED records, and the day's
summary (given, late, missed, not given with reasons, PRN given, reactions, stock alerts).

Why it is built this way:

* **Who writes a MISSED record.** The close runs at a desk, as the nurse signed in there (the
  job of the running app, or "End of day…" in the menu): ``nurse_id`` is her, and the audit
  trail's actor is her database role, with a system note saying the end-of-day close wrote it.
  There is no "system" login on the district server that could write for a school without being
  a person, and a district-wide job run by IT would have to hold a nurse's rights to every
  school (the row-level security refuses anyone else). A desk that nobody signs in to on a day
  is closed by the next nurse who signs in (the job closes the past week's days at start).
* **Idempotent.** The record id is ``uuid5(order, dose time)`` (``domain.end_of_day``) and the
  insert is ``ON CONFLICT DO NOTHING`` (primary key and the one-MISSED-per-dose index of
  migration 0006): two PCs closing the same day, or one closing it twice, write each record
  once. A dose documented since (even after its MISSED record was written) is not closed again.
* **Later documentation wins.** A GIVEN or NOT_GIVEN recorded afterwards for that dose
  supersedes the MISSED record in its own transaction (``services/doses.py``), with a reason.
* Only after the close moment (last dose window + grace): closing early is refused with the
  time it becomes possible, so a dose still being given is never written down as missed.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from medapp.cache.store import school_tag
from medapp.db.models import AdverseReaction, Medication, MedicationLog, School, Student, User
from medapp.db.repositories.reminders import (
    ReminderInputs,
    load_inputs,
    reminders_from_inputs,
)
from medapp.domain.doses import DoseStatus, LogStatus, NotGivenReason
from medapp.domain.end_of_day import (
    DEFAULT_GRACE,
    DaySummaryCounts,
    close_moment,
    missed_log_id,
    missed_note,
    summarize,
)
from medapp.services.desk import Desk
from medapp.services.inventory import inventory_alerts

__all__ = [
    "CloseResult",
    "DayTooEarly",
    "EndOfDaySummary",
    "SummaryLine",
    "close_school_day",
    "end_of_day_grace",
    "end_of_day_summary",
]

log = logging.getLogger(__name__)

GRACE_ENV = "MEDAPP_END_OF_DAY_GRACE_MINUTES"


def end_of_day_grace() -> dt.timedelta:
    """The grace after the last dose window (``MEDAPP_END_OF_DAY_GRACE_MINUTES``, default 30)."""
    raw = os.environ.get(GRACE_ENV, "").strip()
    if raw:
        try:
            minutes = int(raw)
        except ValueError:
            minutes = -1
        if minutes >= 0:
            return dt.timedelta(minutes=minutes)
        log.warning("%s is not a whole number of minutes; using 30", GRACE_ENV)
    return DEFAULT_GRACE


class DayTooEarly(ValueError):
    """The day cannot be closed yet; the message says when it can."""


@dataclass(frozen=True)
class CloseResult:
    school_id: uuid.UUID
    day: dt.date
    closes_at: dt.datetime
    written: int  # MISSED records written now
    already: int  # MISSED records that were there already (an earlier close)
    school_day: bool = True  # False: a weekend or closure (nothing to close)


def _inputs(desk: Desk, school_id: uuid.UUID, day: dt.date) -> ReminderInputs:
    with desk.sessions() as s:
        return load_inputs(s, day, [school_id])


def _closes_at(inputs: ReminderInputs, school_id: uuid.UUID, grace: dt.timedelta) -> dt.datetime:
    calendar = inputs.calendars[school_id]
    times = [d.scheduled_for for plan in inputs.plans.values() for d in plan.doses]
    return close_moment(calendar, inputs.day, times, grace)


def close_school_day(
    desk: Desk,
    school_id: uuid.UUID,
    day: dt.date,
    *,
    grace: dt.timedelta | None = None,
) -> CloseResult:
    """Write a MISSED record for every undocumented scheduled school dose of ``day``.

    Raises DayTooEarly before the close moment, AccessDenied when the actor may not record for
    this school. Safe to run any number of times."""
    actor = desk.actor
    actor.require_write(school_id, "close this school's day")
    grace = end_of_day_grace() if grace is None else grace
    inputs = _inputs(desk, school_id, day)
    if school_id not in inputs.calendars:
        raise ValueError("That school does not exist.")
    calendar = inputs.calendars[school_id]
    closes_at = _closes_at(inputs, school_id, grace)
    if not calendar.is_school_day(day):
        return CloseResult(school_id, day, closes_at, 0, 0, school_day=False)
    now = desk.now()
    if now < closes_at:
        local = closes_at.astimezone(calendar.tz).strftime("%H:%M")
        raise DayTooEarly(
            f"The school day of {day.isoformat()} can be closed from {local} (30 minutes after "
            "the last dose window), so that a dose still being given is not written down as "
            "missed."
            if grace == DEFAULT_GRACE
            else f"The school day of {day.isoformat()} can be closed from {local}."
        )
    # Just past the close moment, every window has closed: undocumented doses read MISSED.
    day_status = reminders_from_inputs(inputs, max(now, closes_at + dt.timedelta(seconds=1)))
    existing = {log.id for log in inputs.logs if log.status is LogStatus.MISSED}
    note = missed_note(
        closes_at.astimezone(calendar.tz).strftime("%H:%M"), actor.username or actor.display_name
    )
    rows: list[dict[str, Any]] = []
    already = 0
    for item in day_status.items:
        if item.status is not DoseStatus.MISSED or item.log_id is not None:
            continue
        log_id = missed_log_id(item.rx.prescription_id, item.scheduled_for)
        if log_id in existing:
            already += 1
            continue
        rows.append(
            {
                "id": log_id,
                "student_medication_id": item.rx.prescription_id,
                "nurse_id": actor.user_id,
                "time_given": closes_at,
                "scheduled_for": item.scheduled_for,
                "status": LogStatus.MISSED.value,
                "notes": note,
            }
        )
    written = 0
    if rows:
        with desk.sessions.begin() as s:
            written = len(
                s.execute(
                    insert(MedicationLog)
                    .values(rows)
                    .on_conflict_do_nothing()
                    .returning(MedicationLog.id)
                ).all()
            )
        already += len(rows) - written
    if written and desk.cache is not None:
        desk.cache.evict_tag(school_tag(school_id))
    log.info("end-of-day close: %d missed records written, %d already there", written, already)
    return CloseResult(school_id, day, closes_at, written, already)


# -- the summary --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SummaryLine:
    """One dose of the day as the summary and the printed report list it."""

    time: dt.datetime  # scheduled time, or the time given for a PRN dose
    student_name: str  # "Last, First"
    student_number: str
    medication: str
    dosage: str
    status: str  # DoseStatus value, or "PRN" for an as-needed dose given
    detail: str  # reason of a NOT_GIVEN, "given 13:40" of a late dose, ...
    nurse_name: str


@dataclass(frozen=True)
class ReactionLine:
    occurred_at: dt.datetime
    student_name: str
    medication: str
    severity: str
    reaction: str
    reported_by: str


@dataclass(frozen=True)
class StockLine:
    medication: str
    batch_number: str
    quantity: int
    expiration_date: dt.date
    alerts: tuple[str, ...]  # EXPIRED, NEAR_EXPIRY, LOW_STOCK, WARNING


@dataclass(frozen=True)
class EndOfDaySummary:
    school_id: uuid.UUID
    school_name: str
    timezone: str
    day: dt.date
    now: dt.datetime
    closes_at: dt.datetime
    counts: DaySummaryCounts
    doses: tuple[SummaryLine, ...]  # every scheduled school dose, in time order
    prn_given: tuple[SummaryLine, ...]
    reactions: tuple[ReactionLine, ...]
    stock: tuple[StockLine, ...]
    missed_records: int  # MISSED records on file for the day (0 until the day is closed)

    @property
    def closed(self) -> bool:
        return self.missed_records > 0 or (self.now >= self.closes_at and not self.counts.missed)


def _local(moment: dt.datetime, tz: Any) -> str:
    return moment.astimezone(tz).strftime("%H:%M")


def end_of_day_summary(
    desk: Desk, school_id: uuid.UUID, day: dt.date, *, grace: dt.timedelta | None = None
) -> EndOfDaySummary:
    """The day of one school at the desk's clock (its doses' status now)."""
    desk.actor.require_read(school_id, "this school's day")
    grace = end_of_day_grace() if grace is None else grace
    inputs = _inputs(desk, school_id, day)
    if school_id not in inputs.calendars:
        raise ValueError("That school does not exist.")
    calendar = inputs.calendars[school_id]
    tz = calendar.tz
    now = desk.now()
    reminders = reminders_from_inputs(inputs, now)
    logs_by_id = {log.id: log for log in inputs.logs}
    doses: list[SummaryLine] = []
    for item in reminders.items:
        detail = ""
        if item.status is DoseStatus.NOT_GIVEN and item.not_given_reason:
            found = logs_by_id.get(item.log_id) if item.log_id is not None else None
            detail = NotGivenReason(item.not_given_reason).label
            if found is not None and found.notes and item.not_given_reason == "OTHER":
                detail = f"{detail}: {found.notes}"
        elif item.given_at is not None:
            detail = f"given {_local(item.given_at, tz)}"
        doses.append(
            SummaryLine(
                item.scheduled_for,
                item.rx.student_name,
                item.rx.student_number,
                _med_label(item.rx.medication_name, item.rx.strength),
                item.rx.dosage,
                item.status.value,
                detail,
                item.nurse_name or "",
            )
        )
    prn: list[SummaryLine] = []
    for dose_log in inputs.logs:
        rx = inputs.prescriptions.get(dose_log.prescription_id)  # type: ignore[call-overload]
        if (
            rx is None
            or not rx.is_prn
            or dose_log.status is not LogStatus.GIVEN
            or not dose_log.is_current
        ):
            continue
        prn.append(
            SummaryLine(
                dose_log.time_given,
                rx.student_name,
                rx.student_number,
                _med_label(rx.medication_name, rx.strength),
                rx.dosage,
                "PRN",
                f"given {_local(dose_log.time_given, tz)}",
                dose_log.nurse_name,
            )
        )
    prn.sort(key=lambda line: line.time)
    start = calendar.start_of_day(day)
    end = calendar.start_of_day(day + dt.timedelta(days=1))
    with desk.sessions() as s:
        school_name = s.scalar(select(School.name).where(School.id == school_id)) or ""
        reaction_rows = s.execute(
            select(
                AdverseReaction.occurred_at,
                AdverseReaction.severity,
                AdverseReaction.reaction,
                Student.first_name,
                Student.last_name,
                Medication.name.label("medication_name"),
                User.first_name.label("nurse_first"),
                User.last_name.label("nurse_last"),
            )
            .join(Student, Student.id == AdverseReaction.student_id)
            .join(Medication, Medication.id == AdverseReaction.medication_id)
            .join(User, User.id == AdverseReaction.reported_by_id)
            .where(
                Student.school_id == school_id,
                AdverseReaction.occurred_at >= start,
                AdverseReaction.occurred_at < end,
            )
            .order_by(AdverseReaction.occurred_at)
        ).all()
    reactions = tuple(
        ReactionLine(
            r.occurred_at,
            f"{r.last_name}, {r.first_name}",
            r.medication_name,
            r.severity,
            r.reaction,
            f"{r.nurse_first} {r.nurse_last}",
        )
        for r in reaction_rows
    )
    alerts = inventory_alerts(desk, school_id=school_id, today=day, force_live=True)
    stock = tuple(
        StockLine(
            _med_label(lot.medication_name, lot.strength),
            lot.batch_number,
            lot.quantity,
            lot.expiration_date,
            tuple(a for a in (lot.expiry_status, lot.stock_status) if a != "OK"),
        )
        for lot in alerts.lots
        if lot.quantity > 0
    )
    missed_records = sum(1 for dose_log in inputs.logs if dose_log.status is LogStatus.MISSED)
    return EndOfDaySummary(
        school_id=school_id,
        school_name=school_name,
        timezone=calendar.timezone,
        day=day,
        now=now,
        closes_at=_closes_at(inputs, school_id, grace),
        counts=summarize((item.status, item.not_given_reason) for item in reminders.items),
        doses=tuple(doses),
        prn_given=tuple(prn),
        reactions=reactions,
        stock=stock,
        missed_records=missed_records,
    )


def _med_label(name: str, strength: str | None) -> str:
    strength = (strength or "").strip()
    if not strength or strength.lower() in name.lower():
        return name
    return f"{name} {strength}"
