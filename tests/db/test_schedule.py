from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from medapp.db.repositories.schedule import schedule_page
from tests.db import factories as f

NY = ZoneInfo("America/New_York")


@pytest.fixture
def statements(connection):  # noqa: ANN001, ANN201
    seen: list[str] = []

    def count(conn, cursor, statement, *args):  # noqa: ANN001, ANN002, ANN202
        seen.append(statement)

    event.listen(connection, "before_cursor_execute", count)
    yield seen
    event.remove(connection, "before_cursor_execute", count)


def _world(session, students: int = 12, logs_each: int = 60):  # noqa: ANN001, ANN202
    sch = f.school(session)
    who = f.nurse(session, sch)
    med = f.medication(session)
    other_school = f.school(session, code="OTHER")
    stranger = f.student(session, other_school, number="X1")
    f.prescription(session, stranger, med)
    rxs = []
    for i in range(students):
        stu = f.student(session, sch, number=f"S{i:05d}")
        stu.last_name = f"Zed{i:02d}"
        rx = f.prescription(session, stu, med)
        rxs.append(rx)
        base = dt.datetime(2026, 11, 2, 17, 0, tzinfo=dt.UTC)
        for k in range(logs_each):
            when = base + dt.timedelta(hours=k)
            f.log(session, rx, who, id=uuid.uuid4(), time_given=when, scheduled_for=when)
    session.flush()
    return sch, who, rxs


def test_two_statements_whatever_the_page_size(session, statements) -> None:  # noqa: ANN001
    sch, _, _ = _world(session)
    statements.clear()
    page = schedule_page(
        session, dt.date(2026, 11, 1), dt.date(2026, 11, 30), tz=NY, school_id=sch.id, limit=10
    )
    assert len(statements) == 2
    assert page.total == 12 and len(page.rows) == 10
    assert [r.student_name for r in page.rows] == sorted(r.student_name for r in page.rows)
    assert all(len(r.logs) == 50 for r in page.rows)  # capped at 50 per prescription
    newest_first = [log.time_given for log in page.rows[0].logs]
    assert newest_first == sorted(newest_first, reverse=True)
    assert page.rows[0].logs[0].nurse_name == "Nora Nurse"


def test_range_and_school_are_respected(session) -> None:  # noqa: ANN001
    sch, _, _ = _world(session, students=2, logs_each=30)
    # 2026-11-02 17:00 UTC + 29 h → logs span Nov 2 and Nov 3 (New York time)
    page = schedule_page(
        session, dt.date(2026, 11, 3), dt.date(2026, 11, 3), tz=NY, school_id=sch.id
    )
    assert page.total == 2  # the other school's student is not listed
    for row in page.rows:
        assert row.logs and all(
            log.time_given.astimezone(NY).date() == dt.date(2026, 11, 3) for log in row.logs
        )


def test_search_filters_by_student_and_escapes_wildcards(session) -> None:  # noqa: ANN001
    sch, _, _ = _world(session, students=3, logs_each=0)
    hit = schedule_page(
        session, dt.date(2026, 11, 1), dt.date(2026, 11, 1), tz=NY, school_id=sch.id, search="zed01"
    )
    assert [r.student_number for r in hit.rows] == ["S00001"]
    none = schedule_page(
        session, dt.date(2026, 11, 1), dt.date(2026, 11, 1), tz=NY, school_id=sch.id, search="%"
    )
    assert none.total == 0 and none.rows == ()


def test_bad_ranges_are_refused(session) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match="before its start"):
        schedule_page(
            session, dt.date(2026, 11, 2), dt.date(2026, 11, 1), tz=NY, school_id=uuid.uuid4()
        )
    with pytest.raises(ValueError, match="one school or one nurse"):
        schedule_page(session, dt.date(2026, 11, 1), dt.date(2026, 11, 1), tz=NY)
