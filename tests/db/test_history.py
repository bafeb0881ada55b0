"""History…: the audit trail read back for a student, an order and a lot — who changed which
field, newest first — only for lead nurses (their schools) and auditors."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session, sessionmaker

from medapp.db.models import (
    EmergencyContact,
    FieldTripSignout,
    InventoryAdjustment,
    PrnOutcome,
    School,
    StudentCondition,
    StudentMedication,
)
from medapp.services.desk import AccessDenied, Actor, Desk, Role
from medapp.services.history import HistorySubject, field_changes, record_history
from tests.db import factories as f


def desk_for(connection: Connection, role: Role, schools: frozenset[uuid.UUID]) -> Desk:
    sessions = sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
    actor = Actor(uuid.uuid4(), "reviewer", "Rita", "Reviewer", role, schools)
    return Desk(sessions, actor)


@pytest.fixture
def records(session: Session) -> dict[str, object]:
    who = session.execute(text("SELECT session_user")).scalar()
    sch = f.school(session)
    other = f.school(session, code="OTHER")
    # the connected role is a known user: the history shows her name, not the role
    session.add(f.nurse(session, sch, username=str(who)))
    nurse = f.nurse(session, sch)
    stu = f.student(session, sch)
    med = f.medication(session)
    rx = f.prescription(session, stu, med)
    f.log(session, rx, nurse)
    rx.dosage = "15 mg"
    lot = f.lot(session, med, school_id=sch.id)
    session.flush()
    session.add(
        InventoryAdjustment(
            inventory_id=lot.id, delta=-2, quantity_after=8, reason="count", user_id=nurse.id
        )
    )
    lot.quantity = 8
    session.flush()
    return {
        "school": sch.id,
        "other": other.id,
        "student": stu.id,
        "order": rx.id,
        "lot": lot.id,
        "who": who,
    }


def test_a_students_history_has_her_order_and_its_dose_records(
    connection: Connection, records: dict
) -> None:
    desk = desk_for(connection, Role.LEAD_NURSE, frozenset({records["school"]}))
    entries = record_history(desk, HistorySubject.STUDENT, records["student"])
    tables = {(e.table_name, e.action) for e in entries}
    assert {
        ("students", "INSERT"),
        ("student_medications", "INSERT"),
        ("medication_logs", "INSERT"),
        ("student_medications", "UPDATE"),
    } <= tables
    update = next(
        e for e in entries if e.table_name == "student_medications" and e.action == "UPDATE"
    )
    assert [(c.field, c.before, c.after) for c in update.changes] == [("dosage", "10 mg", "15 mg")]
    assert update.summary == "order changed: dosage"
    assert update.actor == records["who"] and update.actor_name == "Nora Nurse"
    assert [e.occurred_at for e in entries] == sorted(
        (e.occurred_at for e in entries), reverse=True
    )


def test_an_orders_history_and_a_lots_ledger(connection: Connection, records: dict) -> None:
    desk = desk_for(connection, Role.AUDITOR, frozenset())
    order = record_history(desk, HistorySubject.ORDER, records["order"])
    assert {e.table_name for e in order} == {"student_medications", "medication_logs"}
    lot = record_history(desk, HistorySubject.LOT, records["lot"])
    assert ("inventory_adjustments", "INSERT") in {(e.table_name, e.action) for e in lot}
    change = next(e for e in lot if e.table_name == "medication_inventory" and e.action == "UPDATE")
    assert ("quantity", "10", "8") in {(c.field, c.before, c.after) for c in change.changes}


def test_the_student_pages_records_are_in_her_history(
    connection: Connection, session: Session, records: dict
) -> None:
    """Conditions, contacts, as-needed outcomes (0008) and field-trip sign-outs (0009) hang from
    the student (and the outcome from its order, the sign-out from its lot) like her allergies."""
    student, order, lot = records["student"], records["order"], records["lot"]
    nurse = f.nurse(session, session.get(School, records["school"]), username="n.history")
    log = f.log(
        session,
        session.get(StudentMedication, order),
        nurse,
        time_given=dt.datetime(2026, 11, 3, 17, 0, tzinfo=dt.UTC),
        scheduled_for=dt.datetime(2026, 11, 3, 17, 0, tzinfo=dt.UTC),
    )
    session.add_all(
        [
            StudentCondition(student_id=student, name="Asthma"),
            EmergencyContact(student_id=student, name="Pat", relationship="Mother", phone="555"),
            PrnOutcome(
                id=uuid.uuid4(),
                medication_log_id=log.id,
                outcome="RESOLVED",
                recorded_by_id=nurse.id,
                observed_at=dt.datetime(2026, 11, 2, 17, 30, tzinfo=dt.UTC),
            ),
            FieldTripSignout(
                id=uuid.uuid4(),
                inventory_id=lot,
                student_id=student,
                direction="OUT",
                doses=1,
                trip="Zoo",
                other_person="Mr. Teach",
                nurse_id=nurse.id,
            ),
        ]
    )
    session.flush()
    desk = desk_for(connection, Role.LEAD_NURSE, frozenset({records["school"]}))
    new = {"student_conditions", "emergency_contacts", "prn_outcomes", "field_trip_signouts"}
    history = record_history(desk, HistorySubject.STUDENT, student)
    assert new <= {e.table_name for e in history}
    assert "prn_outcomes" in {
        e.table_name for e in record_history(desk, HistorySubject.ORDER, order)
    }
    assert "field_trip_signouts" in {
        e.table_name for e in record_history(desk, HistorySubject.LOT, lot)
    }
    contact = next(e for e in history if e.table_name == "emergency_contacts")
    assert contact.summary == "emergency contact added"


@pytest.mark.parametrize(
    ("role", "own_school"),
    [(Role.NURSE, True), (Role.DISTRICT_ADMIN, True), (Role.LEAD_NURSE, False)],
)
def test_who_may_not_read_history(
    connection: Connection, records: dict, role: Role, own_school: bool
) -> None:
    school = records["school"] if own_school else records["other"]
    desk = desk_for(connection, role, frozenset({school}))
    with pytest.raises(AccessDenied) as refused:
        record_history(desk, HistorySubject.STUDENT, records["student"])
    assert str(refused.value).endswith(".") and "\n" not in str(refused.value)


def test_unknown_record_is_one_sentence(connection: Connection, records: dict) -> None:
    desk = desk_for(connection, Role.AUDITOR, frozenset())
    with pytest.raises(LookupError):
        record_history(desk, HistorySubject.ORDER, uuid.uuid4())


def test_secrets_never_leave_the_trail() -> None:
    changes = field_changes(
        "UPDATE",
        {"password_hash": "$argon2id$a", "role": "NURSE"},
        {"password_hash": "$argon2id$b", "role": "NURSE"},
    )
    assert [(c.field, c.before, c.after) for c in changes] == [("password_hash", None, "(changed)")]
    assert field_changes("UPDATE", {"updated_at": "x"}, {"updated_at": "y"}) == ()
