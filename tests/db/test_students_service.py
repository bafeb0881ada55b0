"""The dose dialog's data from a real database: the student card, the order, the day's logs,
the lots the dose may come from, and the rules' verdict before anything is recorded — which
must be the verdict ``record_dose`` then gives."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from medapp.db.models import Allergy
from medapp.domain.checks import DoseRefused, WarningCode
from medapp.services.desk import AccessDenied
from medapp.services.doses import DoseCommand, record_dose
from medapp.services.students import (
    StudentNotFound,
    default_lot,
    dose_sheet,
    friendly_error,
    preview_dose,
    reaction_sheet,
    school_schedule,
    stock_lots,
    student_card,
)
from tests.db import factories as f
from tests.db.desks import desk_for

NY = ZoneInfo("America/New_York")
DAY = dt.date(2026, 11, 2)  # a Monday
NOON = dt.datetime(2026, 11, 2, 12, 0, tzinfo=NY)
NOW = dt.datetime(2026, 11, 2, 12, 20, tzinfo=NY)


def rec(db, cmd: DoseCommand, now: dt.datetime = NOW):  # noqa: ANN001, ANN201
    return record_dose(desk_for(db.sessions, cmd.nurse_id, now=now), cmd)


@pytest.fixture
def world(committed_db):  # noqa: ANN001, ANN201
    tag = uuid.uuid4().hex[:6]
    with Session(committed_db.engine) as s:
        sch = f.school(s, code=f"P{tag}")
        n1 = f.nurse(s, sch, username=f"p1{tag}")
        n2 = f.nurse(s, sch, username=f"p2{tag}")
        n2.first_name, n2.last_name = "Paul", "Second"
        stu = f.student(s, sch, number=f"A{tag}")
        other = f.student(s, sch, number=f"B{tag}")
        other.first_name, other.last_name = "Bo", "Other"
        med = f.medication(s, name=f"Amoxicillin {tag}", ndc=None)
        med.generic_name, med.is_controlled, med.dea_schedule = "amoxicillin", False, None
        rx = f.prescription(
            s, stu, med, dosage="250 mg (5 mL)", authorization_expires=dt.date(2027, 6, 15)
        )
        prn = f.prescription(
            s,
            stu,
            med,
            frequency="q4h prn pain, max 2 per day",
            administration_times=None,
            is_prn=True,
            prn_min_interval_minutes=240,
            prn_max_per_day=2,
            authorization_expires=dt.date(2027, 6, 15),
        )
        expired = f.prescription(s, other, med, authorization_expires=dt.date(2026, 10, 31))
        s.add_all(
            [
                Allergy(student_id=stu.id, allergen="Latex", severity="MODERATE", is_active=True),
                Allergy(student_id=stu.id, allergen="Peanuts", severity="LIFE_THREATENING"),
                Allergy(student_id=stu.id, allergen="Eggs", severity="SEVERE", is_active=False),
            ]
        )
        lots = {
            "late": f.lot(
                s, med, batch_number="LATE", quantity=9, expiration_date=dt.date(2027, 9, 1)
            ),
            "soon": f.lot(
                s, med, batch_number="SOON", quantity=4, expiration_date=dt.date(2027, 1, 5)
            ),
            "empty": f.lot(
                s, med, batch_number="EMPTY", quantity=0, expiration_date=dt.date(2026, 12, 1)
            ),
            "expired": f.lot(
                s, med, batch_number="OLD", quantity=7, expiration_date=dt.date(2026, 10, 1)
            ),
            "own": f.lot(
                s, med, batch_number="OWN", quantity=3, expiration_date=dt.date(2027, 3, 1)
            ),
            "others": f.lot(
                s, med, batch_number="THEIRS", quantity=3, expiration_date=dt.date(2026, 12, 2)
            ),
            "elsewhere": f.lot(
                s, med, batch_number="AWAY", quantity=3, expiration_date=dt.date(2026, 11, 20)
            ),
        }
        for key, lot in lots.items():
            lot.school_id = None if key == "elsewhere" else sch.id
        lots["own"].student_id = stu.id
        lots["others"].student_id = other.id
        # Yesterday's dose (not today's) and today's refused-then-given history.
        f.log(
            s,
            rx,
            n1,
            time_given=NOON - dt.timedelta(days=1),
            scheduled_for=NOON - dt.timedelta(days=1),
        )
        s.commit()
        ids = dict(
            school=sch.id,
            n1=n1.id,
            n2=n2.id,
            student=stu.id,
            other=other.id,
            med=med.id,
            rx=rx.id,
            prn=prn.id,
            expired=expired.id,
            other_number=other.student_number,
            **{f"lot_{k}": v.id for k, v in lots.items()},
        )
    return committed_db, ids


def given(ids, rx_key: str = "rx", **kw) -> DoseCommand:  # noqa: ANN001
    values = dict(
        id=uuid.uuid4(),
        prescription_id=ids[rx_key],
        nurse_id=ids["n1"],
        status="GIVEN",
        time_given=NOON + dt.timedelta(minutes=5),
        scheduled_for=NOON if rx_key == "rx" else None,
    )
    values.update(kw)
    return DoseCommand(**values)


def test_student_card_names_initials_and_active_allergies_most_severe_first(world) -> None:  # noqa: ANN001
    db, ids = world
    card = student_card(db.sessions, ids["student"])
    assert (card.full_name, card.display_name, card.initials) == (
        "Ada Lovelace",
        "Lovelace, Ada",
        "AL",
    )
    assert card.grade_label == "Grade 3"
    assert [a.allergen for a in card.allergies] == ["Peanuts", "Latex"]  # Eggs is inactive
    assert card.allergies[0].severity_label == "life-threatening"


def test_unknown_ids_are_a_readable_error(world) -> None:  # noqa: ANN001
    db, ids = world
    with pytest.raises(StudentNotFound, match="student"):
        student_card(db.sessions, uuid.uuid4())
    with pytest.raises(StudentNotFound, match="prescription"):
        dose_sheet(desk_for(db.sessions, ids["n1"], now=NOW), uuid.uuid4(), now=NOW)


def test_dose_sheet_has_the_order_the_days_logs_and_usable_lots(world) -> None:  # noqa: ANN001
    db, ids = world
    rec(db, given(ids), now=NOW)
    sheet = dose_sheet(
        desk_for(db.sessions, ids["n1"], now=NOW), ids["rx"], now=NOW, scheduled_for=NOON
    )
    rx = sheet.prescription
    assert (rx.dosage, rx.route, rx.times_label) == ("250 mg (5 mL)", "PO", "12:00")
    assert rx.medication_name.startswith("Amoxicillin") and not rx.is_controlled
    assert sheet.day == DAY and sheet.school_timezone == "America/New_York"
    # Today's log only (yesterday's is not today's), with the nurse's name.
    assert [(e.status, e.nurse_name) for e in sheet.logs] == [("GIVEN", "Nora Nurse")]
    assert sheet.logs[0].time_given == NOON + dt.timedelta(minutes=5)
    # Office stock and the student's own supply; never another student's bottle or another
    # school's shelf.
    batches = [lot.batch_number for lot in sheet.lots]
    assert batches == ["OLD", "EMPTY", "SOON", "OWN", "LATE"]
    assert [lot.batch_number for lot in sheet.lots if lot.usable] == ["SOON", "OWN", "LATE"]
    assert default_lot(sheet.lots).batch_number == "SOON"
    assert sheet.preview.scheduled_for == NOON
    assert [w.code for w in sheet.preview.blockers] == [WarningCode.ALREADY_GIVEN]


def test_stock_lots_whole_school_or_one_students_view(world) -> None:  # noqa: ANN001
    db, ids = world
    everything = stock_lots(db.sessions, ids["school"], ids["med"], today=DAY)
    assert {lot.batch_number for lot in everything} == {
        "OLD",
        "EMPTY",
        "SOON",
        "OWN",
        "LATE",
        "THEIRS",
    }
    mine = stock_lots(db.sessions, ids["school"], ids["med"], student_id=ids["student"], today=DAY)
    assert "THEIRS" not in {lot.batch_number for lot in mine}
    assert default_lot(()) is None


def test_a_dose_from_a_lot_lowers_what_stock_lots_reports(world) -> None:  # noqa: ANN001
    db, ids = world

    def soon() -> int:
        lots = stock_lots(
            db.sessions, ids["school"], ids["med"], student_id=ids["student"], today=DAY
        )
        return next(lot.quantity for lot in lots if lot.batch_number == "SOON")

    before = soon()
    rec(db, given(ids, inventory_id=ids["lot_soon"], quantity_used=2), now=NOW)
    assert soon() == before - 2


@pytest.mark.parametrize(
    ("case", "codes"),
    [
        ("clean", []),
        ("already", [WarningCode.ALREADY_GIVEN]),
        ("future", [WarningCode.FUTURE_TIME]),
        ("expired", [WarningCode.AUTHORIZATION_EXPIRED]),
        ("prn_interval", [WarningCode.PRN_MIN_INTERVAL]),
        ("allergy", [WarningCode.ALLERGY]),
    ],
)
def test_preview_says_what_record_dose_then_does(world, case: str, codes) -> None:  # noqa: ANN001
    """The warnings shown before pressing "Given" are exactly the ones the server applies."""
    db, ids = world
    rx_key, at, scheduled = "rx", NOON + dt.timedelta(minutes=10), NOON
    if case == "already":
        rec(db, given(ids, nurse_id=ids["n2"]), now=NOW)
    elif case == "future":
        at = NOW + dt.timedelta(minutes=30)
    elif case == "expired":
        rx_key = "expired"
    elif case == "prn_interval":
        rx_key, scheduled = "prn", None
        rec(db, given(ids, "prn", time_given=NOON - dt.timedelta(hours=1)), now=NOW)
    elif case == "allergy":
        with Session(db.engine) as s:
            s.add(Allergy(student_id=ids["student"], allergen="Penicillin", severity="SEVERE"))
            s.commit()
    preview = preview_dose(
        desk_for(db.sessions, ids["n1"], now=NOW),
        ids[rx_key],
        at=at,
        now=NOW,
        scheduled_for=scheduled,
    )
    blocking = [w.code for w in preview.warnings if w.blocking]
    assert blocking == codes
    cmd = given(ids, rx_key, time_given=at, scheduled_for=scheduled)
    if codes:
        with pytest.raises(DoseRefused) as refused:
            rec(db, cmd, now=NOW)
        assert [w.code for w in refused.value.warnings] == codes
        if case == "already":
            assert "by Paul Second" in preview.blockers[0].message
            assert "12:05" in preview.blockers[0].message
        if case == "allergy":
            assert preview.needs_override and not preview.blockers
    else:
        assert rec(db, cmd, now=NOW).outcome == "RECORDED"


def test_reaction_sheet_and_schedule_with_authorization_warnings(world) -> None:  # noqa: ANN001
    db, ids = world
    sheet = reaction_sheet(desk_for(db.sessions, ids["n1"]), ids["student"], ids["med"])
    assert sheet.student.initials == "AL" and sheet.medication.name.startswith("Amoxicillin")
    view = school_schedule(db.sessions, ids["school"], DAY, DAY, today=DAY)
    codes = {(e.row.student_name, e.row.frequency): e.authorization_code for e in view.entries}
    assert codes == {
        ("Lovelace, Ada", "daily at noon"): None,
        ("Lovelace, Ada", "q4h prn pain, max 2 per day"): None,
        ("Other, Bo", "daily at noon"): "AUTHORIZATION_EXPIRED",
    }
    expiring = school_schedule(db.sessions, ids["school"], DAY, DAY, today=dt.date(2027, 6, 10))
    assert {e.authorization_code for e in expiring.entries} >= {"AUTHORIZATION_EXPIRING"}
    only = school_schedule(db.sessions, ids["school"], DAY, DAY, search="oth", today=DAY)
    assert [e.row.student_name for e in only.entries] == ["Other, Bo"] and only.total == 1
    number = school_schedule(db.sessions, ids["school"], DAY, DAY, search=ids["other_number"])
    assert {e.row.student_name for e in number.entries} == {"Other, Bo"}


def test_friendly_error_is_one_sentence_never_a_traceback() -> None:
    offline = OperationalError("SELECT 1", {}, Exception("connection refused"))
    assert "did not answer" in friendly_error(offline)
    assert friendly_error(StudentNotFound("That student is not in the database.")).startswith(
        "That"
    )
    assert "KeyError" in friendly_error(KeyError("x"))


@pytest.mark.parametrize(
    ("case", "codes"),
    [
        ("tag_off_by_a_second", [WarningCode.ALREADY_GIVEN]),
        ("later_day", [WarningCode.LATER_DAY]),
        ("not_given_after_given", [WarningCode.GIVEN_ON_FILE]),
        ("prn_with_a_tag", [WarningCode.PRN_MIN_INTERVAL]),
    ],
)
def test_preview_agrees_with_record_dose_on_issue_9_rules(world, case: str, codes) -> None:  # noqa: ANN001
    db, ids = world
    rx_key, at, scheduled, status = "rx", NOON + dt.timedelta(minutes=10), NOON, "GIVEN"
    reason = None
    if case == "tag_off_by_a_second":
        first = rec(db, given(ids, nurse_id=ids["n2"]))
        scheduled = NOON + dt.timedelta(seconds=1)
    elif case == "later_day":
        scheduled = NOON + dt.timedelta(days=1)
    elif case == "not_given_after_given":
        first = rec(db, given(ids, nurse_id=ids["n2"]))
        status, reason = "NOT_GIVEN", "REFUSED"
    elif case == "prn_with_a_tag":
        rx_key = "prn"
        rec(db, given(ids, "prn", time_given=NOON - dt.timedelta(hours=1)))
    desk = desk_for(db.sessions, ids["n1"], now=NOW)
    preview = preview_dose(desk, ids[rx_key], at=at, scheduled_for=scheduled, status=status)
    assert [w.code for w in preview.warnings if w.blocking] == codes
    with pytest.raises(DoseRefused) as refused:
        record_dose(
            desk,
            given(
                ids, rx_key, time_given=at, scheduled_for=scheduled, status=status, reason=reason
            ),
        )
    assert [w.code for w in refused.value.warnings] == codes
    if case in ("tag_off_by_a_second", "not_given_after_given"):
        assert preview.existing_log_id == refused.value.existing_log_id == first.log_id


def test_an_order_that_disagrees_with_its_product_is_flagged(world) -> None:  # noqa: ANN001
    db, ids = world
    with Session(db.engine) as s:
        from medapp.db.models import Medication, Student

        ritalin = f.medication(s, name=f"Ritalin 10 mg {uuid.uuid4().hex[:4]}", ndc=None)
        order = f.prescription(
            s,
            s.get(Student, ids["student"]),
            s.get(Medication, ritalin.id),
            dosage="15 mg",
            frequency="1 tab PO daily at 11:30",
            administration_times=[dt.time(11, 30)],
        )
        s.commit()
        order_id = order.id
    desk = desk_for(db.sessions, ids["n1"], now=NOW)
    sheet = dose_sheet(desk, order_id, now=NOW)
    assert sheet.dose_conflict == sheet.prescription.dose_conflict
    assert "1 tab (10 mg each) but its dose is 15 mg" in (sheet.dose_conflict or "")
    assert dose_sheet(desk, ids["rx"], now=NOW).dose_conflict is None
    view = school_schedule(db.sessions, ids["school"], DAY, DAY, today=DAY)
    flagged = {e.row.prescription_id for e in view.entries if e.dose_conflict}
    assert flagged == {order_id}


def test_reading_needs_the_students_school(world) -> None:  # noqa: ANN001
    db, ids = world
    outsider = desk_for(db.sessions, ids["n1"], now=NOW, schools=[uuid.uuid4()])
    with pytest.raises(AccessDenied):
        dose_sheet(outsider, ids["rx"], now=NOW)
    with pytest.raises(AccessDenied):
        preview_dose(outsider, ids["rx"], at=NOW)
    with pytest.raises(AccessDenied) as denied:
        reaction_sheet(outsider, ids["student"], ids["med"])
    assert friendly_error(denied.value) == str(denied.value)
