"""End of the school day (issue 14): undocumented school doses become MISSED records once, and
later documentation supersedes them in the same transaction; the day's summary."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from medapp.db.models import MedicationLog, StudentMedication, User
from medapp.domain.end_of_day import missed_log_id
from medapp.services.corrections import (
    CorrectionCommand,
    CorrectionError,
    CorrectionKind,
    correct_dose,
    dose_history,
)
from medapp.services.doses import DoseCommand, record_dose
from medapp.services.end_of_day import DayTooEarly, close_school_day, end_of_day_summary
from tests.db import factories as f
from tests.db.desks import desk_for

NY = ZoneInfo("America/New_York")
DAY = dt.date(2026, 11, 2)  # a Monday
NOON = dt.datetime(2026, 11, 2, 12, 0, tzinfo=NY)
AFTER_CLOSE = dt.datetime(2026, 11, 2, 14, 0, tzinfo=NY)  # noon + 60 min window + 30 min grace


@pytest.fixture
def world(committed_db):  # noqa: ANN001, ANN201
    tag = uuid.uuid4().hex[:6]
    with Session(committed_db.engine) as s:
        sch = f.school(s, code=f"E{tag}")
        nurse = f.nurse(s, sch, username=f"e{tag}")
        a = f.student(s, sch, number=f"A{tag}")
        b = f.student(s, sch, number=f"B{tag}")
        med = f.medication(s, ndc=None)
        rx_a = f.prescription(s, a, med, authorization_expires=dt.date(2027, 6, 15))
        rx_b = f.prescription(s, b, med, authorization_expires=dt.date(2027, 6, 15))
        s.commit()
        ids = dict(nurse=nurse.id, school=sch.id, rx_a=rx_a.id, rx_b=rx_b.id)
    return committed_db, ids


def desk(db, ids, now: dt.datetime = AFTER_CLOSE):  # noqa: ANN001, ANN201
    return desk_for(db.sessions, ids["nurse"], now=now)


def logs(db, rx: uuid.UUID) -> list[MedicationLog]:  # noqa: ANN001
    with Session(db.engine) as s:
        return list(
            s.scalars(
                select(MedicationLog)
                .where(MedicationLog.student_medication_id == rx)
                .order_by(MedicationLog.created_at)
            )
        )


def test_close_writes_one_missed_record_per_undocumented_dose_and_twice_adds_nothing(
    world,  # noqa: ANN001
) -> None:
    db, ids = world
    given = record_dose(
        desk(db, ids, NOON + dt.timedelta(minutes=10)),
        DoseCommand(
            uuid.uuid4(), ids["rx_a"], ids["nurse"], "GIVEN", NOON + dt.timedelta(minutes=5), NOON
        ),
    )
    assert given.outcome == "RECORDED"

    first = close_school_day(desk(db, ids), ids["school"], DAY)
    assert (first.written, first.already) == (1, 0)
    assert first.closes_at == dt.datetime(2026, 11, 2, 13, 30, tzinfo=NY)
    (missed,) = logs(db, ids["rx_b"])
    assert missed.status == "MISSED"
    assert missed.id == missed_log_id(ids["rx_b"], NOON)
    assert missed.scheduled_for == NOON and missed.nurse_id == ids["nurse"]
    assert "end-of-day close" in (missed.notes or "")
    assert [log.status for log in logs(db, ids["rx_a"])] == ["GIVEN"]

    second = close_school_day(desk(db, ids), ids["school"], DAY)
    assert (second.written, second.already) == (0, 1)
    assert len(logs(db, ids["rx_b"])) == 1


def test_the_database_allows_one_missed_record_per_dose(world) -> None:  # noqa: ANN001
    db, ids = world
    close_school_day(desk(db, ids), ids["school"], DAY)
    with Session(db.engine) as s, pytest.raises(IntegrityError) as err:
        f.log(
            s,
            s.get_one(StudentMedication, ids["rx_b"]),
            s.get_one(User, ids["nurse"]),
            status="MISSED",
            scheduled_for=NOON,
            time_given=AFTER_CLOSE,
            dosage_given=None,
            notes="System: a second close",
        )
    assert "uq_medication_logs_one_missed_per_dose" in str(err.value)


def test_a_missed_record_needs_its_dose_and_a_note(world) -> None:  # noqa: ANN001
    db, ids = world
    with db.engine.connect() as conn, pytest.raises(IntegrityError) as err:
        conn.execute(
            text(
                "INSERT INTO medication_logs (id, student_medication_id, nurse_id, time_given,"
                " status) VALUES (:id, :rx, :n, now(), 'MISSED')"
            ),
            {"id": uuid.uuid4(), "rx": ids["rx_a"], "n": ids["nurse"]},
        )
    assert "missed_has_dose_and_note" in str(err.value)


def test_closing_before_the_last_window_and_grace_is_refused(world) -> None:  # noqa: ANN001
    db, ids = world
    early = dt.datetime(2026, 11, 2, 13, 20, tzinfo=NY)
    with pytest.raises(DayTooEarly, match="13:30"):
        close_school_day(desk(db, ids, early), ids["school"], DAY)
    assert logs(db, ids["rx_b"]) == []
    assert close_school_day(desk(db, ids), ids["school"], DAY, grace=dt.timedelta(0)).written == 2


def test_a_weekend_has_nothing_to_close(world) -> None:  # noqa: ANN001
    db, ids = world
    sunday = dt.date(2026, 11, 1)
    result = close_school_day(
        desk(db, ids, AFTER_CLOSE + dt.timedelta(days=1)), ids["school"], sunday
    )
    assert not result.school_day and result.written == 0


def test_a_later_given_supersedes_the_missed_record_with_a_reason(world) -> None:  # noqa: ANN001
    db, ids = world
    close_school_day(desk(db, ids), ids["school"], DAY)
    late = AFTER_CLOSE + dt.timedelta(minutes=5)
    result = record_dose(
        desk(db, ids, late + dt.timedelta(minutes=1)),
        DoseCommand(
            uuid.uuid4(),
            ids["rx_b"],
            ids["nurse"],
            "GIVEN",
            late,
            NOON,
            override_reason="Student came to the office late after a field trip.",
        ),
    )
    assert result.outcome == "RECORDED"
    assert result.superseded_id == missed_log_id(ids["rx_b"], NOON)
    missed, given = logs(db, ids["rx_b"])
    assert missed.superseded_by_id == given.id and missed.superseded_at is not None
    assert given.supersedes_id == missed.id
    assert given.correction_kind == "DOCUMENTED_AFTER_MISSED"
    assert given.correction_reason == "Student came to the office late after a field trip."

    history = dose_history(desk(db, ids, late), ids["rx_b"], day=DAY)
    assert [(h.outcome_label, h.is_current) for h in history] == [
        ("Given", True),
        ("Missed (end of day)", False),
    ]
    again = close_school_day(desk(db, ids, late + dt.timedelta(minutes=2)), ids["school"], DAY)
    assert again.written == 0
    summary = end_of_day_summary(desk(db, ids, late + dt.timedelta(minutes=2)), ids["school"], DAY)
    assert (summary.counts.late, summary.counts.missed, summary.counts.given) == (1, 1, 0)


def test_a_later_not_given_supersedes_the_missed_record(world) -> None:  # noqa: ANN001
    db, ids = world
    close_school_day(desk(db, ids), ids["school"], DAY)
    at = AFTER_CLOSE + dt.timedelta(minutes=10)
    record_dose(
        desk(db, ids, at),
        DoseCommand(
            uuid.uuid4(), ids["rx_a"], ids["nurse"], "NOT_GIVEN", at, NOON, reason="ABSENT"
        ),
    )
    missed, absent = logs(db, ids["rx_a"])
    assert missed.status == "MISSED" and missed.superseded_by_id == absent.id
    assert absent.correction_kind == "DOCUMENTED_AFTER_MISSED"
    assert "end-of-day close" in (absent.correction_reason or "")
    summary = end_of_day_summary(desk(db, ids, at), ids["school"], DAY)
    assert summary.counts.not_given == 1 and summary.counts.not_given_reasons == {"ABSENT": 1}
    assert summary.counts.missed == 1 and summary.missed_records == 2


def test_a_missed_record_is_not_corrected_but_documented(world) -> None:  # noqa: ANN001
    db, ids = world
    close_school_day(desk(db, ids), ids["school"], DAY)
    with pytest.raises(CorrectionError, match="given or not given"):
        correct_dose(
            desk(db, ids),
            CorrectionCommand(
                uuid.uuid4(),
                missed_log_id(ids["rx_a"], NOON),
                CorrectionKind.WRONG_STATUS,
                "The dose was given at lunch after all.",
                status="GIVEN",
            ),
        )


def test_the_close_is_audited_under_the_nurse_who_ran_it(world) -> None:  # noqa: ANN001
    db, ids = world
    close_school_day(desk(db, ids), ids["school"], DAY)
    with Session(db.engine) as s:
        row = s.execute(
            text(
                "SELECT new_row->>'status' AS status, new_row->>'nurse_id' AS nurse "
                "FROM audit_log WHERE table_name = 'medication_logs' AND row_id = :id"
            ),
            {"id": str(missed_log_id(ids["rx_b"], NOON))},
        ).one()
    assert row.status == "MISSED" and row.nurse == str(ids["nurse"])
