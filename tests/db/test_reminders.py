"""Today's reminder list from a real database: statuses, flags, school scoping, caching."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from medapp.cache.store import Cache
from medapp.db.models import StudentMedication
from medapp.services.desk import Role
from medapp.services.doses import DoseCommand, record_dose
from medapp.services.reminders import reminders_for_district, reminders_for_school
from tests.db import factories as f
from tests.db.desks import desk_for, reader_desk

NY = ZoneInfo("America/New_York")
DAY = dt.date(2026, 11, 2)  # Monday
NOW = dt.datetime(2026, 11, 2, 12, 20, tzinfo=NY)


def at(h: int, m: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, 2, h, m, tzinfo=NY)


@pytest.fixture
def world(committed_db):  # noqa: ANN001, ANN201
    tag = uuid.uuid4().hex[:6]
    with Session(committed_db.engine) as s:
        sch = f.school(s, code=f"M{tag}")
        other = f.school(s, code=f"O{tag}")
        nurse = f.nurse(s, sch, username=f"m{tag}")
        med = f.medication(s, ndc=None)
        rx = {}
        specs = {
            "completed": dict(administration_times=[dt.time(12, 0)]),
            "missed": dict(administration_times=[dt.time(9, 0)]),
            "due": dict(administration_times=[dt.time(12, 30)]),
            "upcoming": dict(administration_times=[dt.time(14, 0)]),
            "absent": dict(administration_times=[dt.time(10, 0)]),
            "expired": dict(
                administration_times=[dt.time(11, 0)], authorization_expires=dt.date(2026, 10, 1)
            ),
            "bid": dict(frequency="twice daily", administration_times=None),
            "prn": dict(frequency="q4h prn", administration_times=None, is_prn=True),
            "conflict": dict(
                dosage="15 mg", frequency="1 tab PO at 14:30", administration_times=None
            ),
        }
        for i, (name, spec) in enumerate(specs.items()):
            stu = f.student(s, sch, number=f"{tag}{i:03d}")
            stu.last_name = name.title()
            spec.setdefault("authorization_expires", dt.date(2027, 6, 15))
            rx[name] = f.prescription(s, stu, med, **spec).id
        outsider = f.student(s, other, number=f"{tag}X")
        f.prescription(s, outsider, med, authorization_expires=dt.date(2027, 6, 15))
        f.log(
            s,
            s.get(StudentMedication, rx["completed"]),
            nurse,
            time_given=at(12, 10),
            scheduled_for=at(12),
        )
        f.log(
            s,
            s.get(StudentMedication, rx["absent"]),
            nurse,
            status="NOT_GIVEN",
            not_given_reason="ABSENT",
            time_given=at(9, 50),
            scheduled_for=at(10),
            dosage_given=None,
        )
        school_id, nurse_id = sch.id, nurse.id
        s.commit()
    return committed_db, school_id, nurse_id, rx


def status_by_student(reminders) -> dict[str, str]:  # noqa: ANN001
    return {i.rx.student_name.split(",")[0]: i.status.value for i in reminders.items}


def test_every_status_and_flag(world) -> None:  # noqa: ANN001
    db, school_id, _, _ = world
    r = reminders_for_school(reader_desk(db.sessions, [school_id]), school_id, DAY, now=NOW)
    assert status_by_student(r) == {
        "Completed": "COMPLETED",
        "Missed": "MISSED",
        "Due": "DUE",
        "Upcoming": "UPCOMING",
        "Absent": "NOT_GIVEN",
        "Conflict": "UPCOMING",
        # "Bid": "twice daily" names no school time: both doses are given at home (issue 9)
    }
    assert [i.scheduled_for for i in r.items] == sorted(i.scheduled_for for i in r.items)
    completed = next(i for i in r.items if i.status.value == "COMPLETED")
    assert completed.nurse_name == "Nora Nurse"
    expired = [fp for fp in r.flagged if fp.rx.student_name.startswith("Expired")]
    assert expired and expired[0].blocking and expired[0].flags[0][0] == "AUTHORIZATION_EXPIRED"
    assert r.counts["MISSED"] == 1 and r.counts["DUE"] == 1


def test_query_count_is_fixed(world) -> None:  # noqa: ANN001
    db, school_id, _, _ = world
    seen: list[str] = []

    def count(conn, cursor, statement, *args):  # noqa: ANN001, ANN002, ANN202
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        reminders_for_school(reader_desk(db.sessions, [school_id]), school_id, DAY, now=NOW)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len([q for q in seen if q.lstrip().upper().startswith("SELECT")]) == 3


def test_district_view_includes_every_school(world) -> None:  # noqa: ANN001
    db, school_id, _, _ = world
    r = reminders_for_district(reader_desk(db.sessions, role=Role.AUDITOR), DAY, now=NOW)
    schools = {i.rx.school_id for i in r.items}
    assert school_id in schools and len(schools) >= 2


def test_cached_list_is_dropped_when_a_dose_is_logged(world, tmp_path) -> None:  # noqa: ANN001
    db, school_id, nurse_id, rx = world
    cache = Cache(tmp_path / "cache")
    first = reminders_for_school(
        reader_desk(db.sessions, [school_id], cache=cache), school_id, DAY, now=NOW
    )
    assert status_by_student(first)["Due"] == "DUE"
    again = reminders_for_school(
        reader_desk(db.sessions, [school_id], cache=cache), school_id, DAY, now=NOW
    )
    assert cache.hits == 1 and again.items == first.items
    record_dose(
        desk_for(db.sessions, nurse_id, now=NOW, cache=cache),
        DoseCommand(
            id=uuid.uuid4(),
            prescription_id=rx["due"],
            nurse_id=nurse_id,
            status="GIVEN",
            time_given=at(12, 15),
            scheduled_for=at(12, 30),
        ),
    )
    after = reminders_for_school(
        reader_desk(db.sessions, [school_id], cache=cache), school_id, DAY, now=NOW
    )
    assert status_by_student(after)["Due"] == "COMPLETED"


def test_needs_attention_names_home_only_orders_and_dose_conflicts(world) -> None:  # noqa: ANN001
    db, school_id, _, _ = world
    r = reminders_for_school(reader_desk(db.sessions, [school_id]), school_id, DAY, now=NOW)
    codes = {fp.rx.student_name.split(",")[0]: {c for c, _m in fp.flags} for fp in r.flagged}
    assert "HOME_DOSES_ONLY" in codes["Bid"]  # "twice daily": no school time named
    assert codes["Conflict"] == {"DOSE_STRENGTH_CONFLICT"}  # 1 tab of 10 mg is not 15 mg
    message = next(m for fp in r.flagged for c, m in fp.flags if c == "DOSE_STRENGTH_CONFLICT")
    assert "15 mg" in message
    assert "Completed" not in codes  # an order in good standing needs nothing
