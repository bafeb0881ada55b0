"""The database itself refuses bad clinical data, whatever client writes it."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from medapp.db.models import MedicationInventory, MedicationLog
from tests.db import factories as f


@pytest.fixture
def world(session: Session):  # noqa: ANN201
    sch = f.school(session)
    who = f.nurse(session, sch)
    stu = f.student(session, sch)
    med = f.medication(session)
    rx = f.prescription(session, stu, med)
    return session, sch, who, stu, med, rx


def _fails(session: Session, fn, match: str) -> None:  # noqa: ANN001
    with pytest.raises((IntegrityError, DBAPIError), match=match):
        with session.begin_nested():
            fn()
            session.flush()


def test_second_given_for_same_scheduled_dose_is_impossible(world) -> None:  # noqa: ANN001
    session, _, who, _, _, rx = world
    first = f.log(session, rx, who)
    _fails(
        session,
        lambda: f.log(session, rx, who, scheduled_for=first.scheduled_for),
        "uq_medication_logs_one_given_per_dose|already given",
    )


def test_not_given_needs_a_reason_and_other_needs_notes(world) -> None:  # noqa: ANN001
    session, _, who, _, _, rx = world
    _fails(session, lambda: f.log(session, rx, who, status="NOT_GIVEN"), "not_given_has_reason")
    _fails(
        session,
        lambda: f.log(session, rx, who, status="NOT_GIVEN", not_given_reason="OTHER"),
        "other_reason_has_notes",
    )
    _fails(
        session,
        lambda: f.log(session, rx, who, status="GIVEN", not_given_reason="ABSENT"),
        "not_given_has_reason",
    )
    ok = f.log(session, rx, who, status="NOT_GIVEN", not_given_reason="ABSENT")
    assert ok.not_given_reason == "ABSENT"


def test_logs_are_never_deleted_or_rewritten(world) -> None:  # noqa: ANN001
    session, _, who, _, _, rx = world
    entry = f.log(session, rx, who)
    _fails(
        session,
        lambda: session.execute(delete(MedicationLog).where(MedicationLog.id == entry.id)),
        "never deleted",
    )
    _fails(
        session,
        lambda: session.execute(
            update(MedicationLog).where(MedicationLog.id == entry.id).values(dosage_given="20 mg")
        ),
        "append-only",
    )


def test_a_correction_supersedes_and_frees_the_dose(world) -> None:  # noqa: ANN001
    session, _, who, _, _, rx = world
    wrong = f.log(session, rx, who)
    correction = f.log(
        session,
        rx,
        who,
        status="ENTERED_IN_ERROR",
        supersedes_id=wrong.id,
        scheduled_for=None,
        dosage_given=None,
    )
    session.execute(
        update(MedicationLog)
        .where(MedicationLog.id == wrong.id)
        .values(superseded_at=text("now()"), superseded_by_id=correction.id)
    )
    # the superseded row is still there (history), and the dose can be recorded again
    again = f.log(session, rx, who, scheduled_for=wrong.scheduled_for)
    assert session.get(MedicationLog, wrong.id) is not None
    assert again.id != wrong.id
    # but a superseded row cannot be un-superseded
    _fails(
        session,
        lambda: session.execute(
            update(MedicationLog)
            .where(MedicationLog.id == wrong.id)
            .values(superseded_at=None, superseded_by_id=None)
        ),
        "append-only",
    )


def test_inventory_quantity_never_negative(world) -> None:  # noqa: ANN001
    session, _, _, _, med, _ = world
    _fails(session, lambda: f.lot(session, med, quantity=-1), "quantity_not_negative")
    row = f.lot(session, med)
    _fails(
        session,
        lambda: session.execute(
            update(MedicationInventory).where(MedicationInventory.id == row.id).values(quantity=-5)
        ),
        "quantity_not_negative",
    )


def test_prescription_end_not_before_start(world) -> None:  # noqa: ANN001
    session, _, _, stu, med, _ = world
    _fails(
        session,
        lambda: f.prescription(
            session, stu, med, start_date=dt.date(2026, 9, 2), end_date=dt.date(2026, 9, 1)
        ),
        "end_after_start",
    )


def test_prescriptions_are_never_deleted(world) -> None:  # noqa: ANN001
    session, *_, rx = world
    _fails(
        session,
        lambda: session.execute(
            text("DELETE FROM student_medications WHERE id = :i"), {"i": rx.id}
        ),
        "never deleted",
    )


def test_unknown_enumerations_rejected(world) -> None:  # noqa: ANN001
    session, _, who, _, _, rx = world
    _fails(session, lambda: f.log(session, rx, who, status="MAYBE"), "status_known")
    _fails(
        session,
        lambda: (
            f.medication(session, ndc="1111-1111")
            and session.execute(
                text("UPDATE medications SET dea_schedule = 'C9' WHERE ndc = '1111-1111'")
            )
        ),
        "dea_schedule_known",
    )


def test_client_generated_log_id_makes_resend_idempotent(world) -> None:  # noqa: ANN001
    session, _, who, _, _, rx = world
    log_id = uuid.uuid4()
    stmt = text(
        "INSERT INTO medication_logs (id, student_medication_id, nurse_id, time_given, status) "
        "VALUES (:id, :rx, :n, now(), 'GIVEN') ON CONFLICT (id) DO NOTHING"
    )
    first = session.execute(stmt, {"id": log_id, "rx": rx.id, "n": who.id})
    second = session.execute(stmt, {"id": log_id, "rx": rx.id, "n": who.id})
    assert (first.rowcount, second.rowcount) == (1, 0)
