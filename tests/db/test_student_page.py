"""The student's page from a real database (allergies, conditions, contacts, orders, today's
doses, history with corrections, reactions, own supply) and the PRN complaint and outcome —
through ``record_dose``'s own rules, with the set-once outcome enforced by the database."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import or_, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from medapp.cache.outbox import Outbox
from medapp.db.engine import make_engine
from medapp.db.models import (
    Allergy,
    AuditLog,
    EmergencyContact,
    MedicationInventory,
    MedicationLog,
    PrnOutcome,
    StudentCondition,
)
from medapp.domain.checks import DoseRefused
from medapp.services.corrections import CorrectionCommand, CorrectionKind, correct_dose
from medapp.services.desk import AccessDenied
from medapp.services.doses import DoseCommand, DoseInputError
from medapp.services.student_page import (
    PrnOutcomeCommand,
    PrnOutcomeInputError,
    find_students,
    give_prn,
    looks_like_student_number,
    record_prn_outcome,
    student_by_number,
    student_page,
)
from tests.db import factories as f
from tests.db.desks import desk_for

NY = ZoneInfo("America/New_York")
NOW = dt.datetime(2026, 11, 2, 13, 0, tzinfo=NY)  # a Monday


@pytest.fixture
def world(committed_db):  # noqa: ANN001, ANN201
    tag = uuid.uuid4().hex[:6]
    with Session(committed_db.engine) as s:
        sch = f.school(s, code=f"SP{tag}")
        n1 = f.nurse(s, sch, username=f"sp{tag}")
        stu = f.student(s, sch, number=f"Q{tag}")
        stu.first_name, stu.last_name = "Mira", f"Okafor{tag}"
        med = f.medication(s, name=f"Ibuprofen {tag}", ndc=None)
        med.is_controlled, med.dea_schedule = False, None
        rx = f.prescription(s, stu, med, authorization_expires=dt.date(2026, 11, 10))
        prn = f.prescription(
            s,
            stu,
            med,
            frequency="q4h prn pain, max 2 per day",
            administration_times=None,
            is_prn=True,
            prn_min_interval_minutes=240,
            prn_max_per_day=2,
        )
        s.add_all(
            [
                Allergy(student_id=stu.id, allergen="Peanuts", severity="LIFE_THREATENING"),
                StudentCondition(student_id=stu.id, name="Asthma", care_plan="Inhaler in bag"),
                EmergencyContact(
                    student_id=stu.id,
                    name="Ada Okafor",
                    relationship="Mother",
                    phone="555-0101",
                    priority=1,
                ),
                EmergencyContact(
                    student_id=stu.id,
                    name="Ben Okafor",
                    relationship="Father",
                    phone="555-0102",
                    priority=2,
                ),
            ]
        )
        own = f.lot(s, med, batch_number="OWN", quantity=12, student_id=stu.id)
        f.lot(s, med, batch_number="OFFICE", quantity=50, school_id=sch.id)
        yesterday = dt.datetime(2026, 10, 30, 12, 0, tzinfo=NY)
        old = f.log(s, rx, n1, time_given=yesterday, scheduled_for=yesterday)
        s.commit()
        ids = {
            "school": sch.id,
            "nurse": n1.id,
            "student": stu.id,
            "rx": rx.id,
            "prn": prn.id,
            "own": own.id,
            "old": old.id,
            "tag": tag,
        }
    return committed_db, ids


def _prn_cmd(ids: dict, at: dt.datetime = NOW) -> DoseCommand:
    return DoseCommand(
        id=uuid.uuid4(),
        prescription_id=ids["prn"],
        nurse_id=ids["nurse"],
        status="GIVEN",
        time_given=at,
    )


def test_page_shows_everything_and_is_logged(world) -> None:  # noqa: ANN001
    db, ids = world
    desk = desk_for(db.sessions, ids["nurse"], now=NOW)
    page = student_page(desk, ids["student"])
    assert page.student.first_name == "Mira"
    assert [a.allergen for a in page.student.allergies] == ["Peanuts"]
    assert [(c.name, c.care_plan) for c in page.conditions] == [("Asthma", "Inhaler in bag")]
    assert [(c.name, c.priority) for c in page.contacts] == [("Ada Okafor", 1), ("Ben Okafor", 2)]
    assert {o.detail.id for o in page.orders} == {ids["rx"], ids["prn"]}
    scheduled = next(o for o in page.orders if o.detail.id == ids["rx"])
    assert scheduled.authorization_message and "expir" in scheduled.authorization_message.lower()
    assert [p.id for p in page.prn_orders] == [ids["prn"]]
    assert [(lot.batch_number, lot.quantity) for lot in page.supplies] == [("OWN", 12)]
    assert page.today == ()
    assert [d.log.id for d in page.history] == [ids["old"]]
    with Session(db.engine) as s:
        reads = s.scalars(
            select(AuditLog).where(
                AuditLog.table_name == "students",
                AuditLog.row_id == str(ids["student"]),
                AuditLog.action == "READ",
            )
        ).all()
    assert reads


def test_history_keeps_the_corrected_record(world) -> None:  # noqa: ANN001
    db, ids = world
    desk = desk_for(db.sessions, ids["nurse"], now=NOW)
    correct_dose(
        desk,
        CorrectionCommand(
            id=uuid.uuid4(),
            original_log_id=ids["old"],
            kind=CorrectionKind.ENTERED_IN_ERROR,
            reason="Recorded for the wrong student by mistake",
        ),
    )
    page = student_page(desk, ids["student"])
    statuses = sorted((d.log.status, d.log.superseded) for d in page.history)
    assert statuses == [("ENTERED_IN_ERROR", False), ("GIVEN", True)]


def test_find_by_name_and_number(world) -> None:  # noqa: ANN001
    db, ids = world
    desk = desk_for(db.sessions, ids["nurse"], now=NOW)
    tag = ids["tag"]
    assert [h.id for h in find_students(desk, f"okafor{tag}")] == [ids["student"]]
    assert [h.id for h in find_students(desk, f"Mira Okafor{tag}")] == [ids["student"]]
    assert [h.id for h in find_students(desk, f"q{tag}")] == [ids["student"]]
    assert find_students(desk, "zz-nobody") == ()
    hit = student_by_number(desk, f"q{tag}")
    assert hit is not None and hit.id == ids["student"]
    assert student_by_number(desk, "Q999999999") is None
    other = desk_for(db.sessions, ids["nurse"], now=NOW, schools=[uuid.uuid4()])
    assert student_by_number(other, f"Q{tag}") is None  # another school's desk


def test_student_number_pattern_is_not_a_barcode() -> None:
    assert looks_like_student_number("S000114")
    assert looks_like_student_number("  s000114 ")
    assert not looks_like_student_number("0002-3228-30")
    assert not looks_like_student_number("300450449108")  # a UPC-A is a medication
    assert not looks_like_student_number("ibuprofen")


def test_give_prn_records_the_complaint_and_keeps_the_limits(world) -> None:  # noqa: ANN001
    db, ids = world
    desk = desk_for(db.sessions, ids["nurse"], now=NOW)
    with pytest.raises(DoseInputError, match="complaint"):
        give_prn(desk, _prn_cmd(ids), complaint="   ")
    with pytest.raises(DoseInputError, match="not as-needed"):
        give_prn(desk, _sched(ids), complaint="headache")
    result = give_prn(desk, _prn_cmd(ids), complaint="  headache \n after PE ")
    assert result.outcome == "RECORDED"
    with Session(db.engine) as s:
        row = s.get(MedicationLog, result.log_id)
        assert row is not None and row.complaint == "headache after PE"
        assert row.scheduled_for is None
    # the PRN interval (every 4 h) of record_dose applies
    with pytest.raises(DoseRefused):
        give_prn(desk, _prn_cmd(ids, NOW + dt.timedelta(minutes=30)), complaint="headache")
    page = student_page(desk, ids["student"])
    assert [d.complaint for d in page.today] == ["headache after PE"]
    assert [d.log.id for d in page.awaiting_outcome] == [result.log_id]


def _sched(ids: dict) -> DoseCommand:
    return DoseCommand(
        id=uuid.uuid4(),
        prescription_id=ids["rx"],
        nurse_id=ids["nurse"],
        status="GIVEN",
        time_given=NOW,
    )


def test_outcome_is_recorded_once_and_never_changed(world) -> None:  # noqa: ANN001
    db, ids = world
    desk = desk_for(db.sessions, ids["nurse"], now=NOW + dt.timedelta(minutes=40))
    given = give_prn(desk, _prn_cmd(ids), complaint="stomach ache")
    cmd = PrnOutcomeCommand(
        id=uuid.uuid4(),
        medication_log_id=given.log_id,
        outcome="OTHER",
        recorded_by_id=ids["nurse"],
        observed_at=NOW + dt.timedelta(minutes=30),
    )
    with pytest.raises(PrnOutcomeInputError, match="note"):
        record_prn_outcome(desk, cmd)
    with pytest.raises(PrnOutcomeInputError, match="before"):
        record_prn_outcome(
            desk,
            PrnOutcomeCommand(
                **{
                    **cmd.__dict__,
                    "outcome": "RESOLVED",
                    "observed_at": NOW - dt.timedelta(hours=1),
                }
            ),
        )
    ok = PrnOutcomeCommand(**{**cmd.__dict__, "outcome": "SENT_HOME", "note": "Mother picked up"})
    assert record_prn_outcome(desk, ok) is True
    assert record_prn_outcome(desk, ok) is False  # the same command again: nothing new
    with pytest.raises(PrnOutcomeInputError, match="already"):
        record_prn_outcome(desk, PrnOutcomeCommand(**{**ok.__dict__, "id": uuid.uuid4()}))
    page = student_page(desk, ids["student"])
    dose = next(d for d in page.today if d.log.id == given.log_id)
    assert dose.outcome == "SENT_HOME" and dose.outcome_by == "Nora Nurse"
    assert dose.outcome_label == "Sent home: Mother picked up"
    assert page.awaiting_outcome == ()
    # set once: the database refuses a change, whoever asks
    with db.engine.connect() as conn, pytest.raises(DBAPIError, match="recorded once"):
        conn.execute(
            text("UPDATE prn_outcomes SET outcome = 'RESOLVED' WHERE id = :i"), {"i": ok.id}
        )
    with Session(db.engine) as s:
        assert s.get(PrnOutcome, ok.id) is not None


def test_outcome_only_for_a_prn_dose(world) -> None:  # noqa: ANN001
    db, ids = world
    desk = desk_for(db.sessions, ids["nurse"], now=NOW)
    with pytest.raises(PrnOutcomeInputError, match="as-needed"):
        record_prn_outcome(
            desk,
            PrnOutcomeCommand(
                id=uuid.uuid4(),
                medication_log_id=ids["old"],
                outcome="RESOLVED",
                recorded_by_id=ids["nurse"],
                observed_at=NOW,
            ),
        )


def test_another_schools_desk_cannot_open_the_page(world) -> None:  # noqa: ANN001
    db, ids = world
    desk = desk_for(db.sessions, ids["nurse"], now=NOW, schools=[uuid.uuid4()])
    with pytest.raises(AccessDenied):
        student_page(desk, ids["student"])
    assert find_students(desk, "Mira") == ()


def test_give_prn_takes_the_dose_from_the_students_own_supply(world) -> None:  # noqa: ANN001
    """Her count goes down with a PRN dose as with any other; office stock is not touched
    unless chosen."""
    db, ids = world
    desk = desk_for(db.sessions, ids["nurse"], now=NOW)
    result = give_prn(desk, _prn_cmd(ids), complaint="headache")
    with Session(db.engine) as s:
        row = s.get(MedicationLog, result.log_id)
        assert row is not None and row.inventory_id == ids["own"] and row.quantity_used == 1
        quantities = dict(
            s.execute(
                select(MedicationInventory.batch_number, MedicationInventory.quantity).where(
                    MedicationInventory.batch_number.in_(["OWN", "OFFICE"]),
                    or_(
                        MedicationInventory.student_id == ids["student"],
                        MedicationInventory.school_id == ids["school"],
                    ),
                )
            ).all()
        )
    assert quantities == {"OWN": 11, "OFFICE": 50}


def test_give_prn_offline_goes_to_the_outbox(world, tmp_path) -> None:  # noqa: ANN001
    """The server unreachable: the dose the nurse recorded is kept on disk, not refused."""
    db, ids = world
    outbox = Outbox(tmp_path / "outbox")
    dead = make_engine("postgresql://medapp@127.0.0.1:1/medapp")  # a closed port
    try:
        desk = desk_for(db.sessions, ids["nurse"], now=NOW, outbox=outbox, via=sessionmaker(dead))
        result = give_prn(desk, _prn_cmd(ids), complaint="headache")
    finally:
        dead.dispose()
    assert result.outcome == "QUEUED_OFFLINE"
    [queued] = outbox.pending()
    assert queued["complaint"] == "headache"
