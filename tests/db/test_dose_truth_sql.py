"""One dose, one truth in the database itself (migration 0004): raw SQL, as a script or another
program would write it, cannot store a second current GIVEN for one dose — whatever its tag —
nor stamp a log "superseded" outside a correction of the same order and dose in the same
transaction."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from tests.db import factories as f

NY = ZoneInfo("America/New_York")
NOON = dt.datetime(2026, 11, 2, 12, 0, tzinfo=NY)


@pytest.fixture
def world(committed_db):  # noqa: ANN001, ANN201
    tag = uuid.uuid4().hex[:6]
    with Session(committed_db.engine) as s:
        sch = f.school(s, code=f"T{tag}")
        nurse = f.nurse(s, sch, username=f"t{tag}")
        stu = f.student(s, sch, number=f"T{tag}")
        med = f.medication(s, ndc=None)
        rx = f.prescription(s, stu, med)
        other = f.prescription(s, stu, med, administration_times=[dt.time(13, 30)])
        prn = f.prescription(
            s, stu, med, frequency="q4h prn", administration_times=None, is_prn=True
        )
        worded = f.prescription(
            s, stu, med, frequency="2 puffs q4h PRN wheezing", administration_times=None
        )
        s.commit()
        return committed_db.engine, dict(
            nurse=nurse.id, rx=rx.id, other=other.id, prn=prn.id, worded=worded.id
        )


INSERT = text(
    "INSERT INTO medication_logs (id, student_medication_id, nurse_id, time_given, "
    "scheduled_for, status, dosage_given, supersedes_id, not_given_reason) "
    "VALUES (:id, :rx, :nurse, :at, :tag, :status, '10 mg', :supersedes, :reason) "
    "ON CONFLICT (id) DO NOTHING"
)


def insert(
    conn: Connection,
    ids: dict,
    *,
    rx: str = "rx",
    at: dt.datetime = NOON,
    tag: dt.datetime | None = NOON,
    status: str = "GIVEN",
    id: uuid.UUID | None = None,
    supersedes: uuid.UUID | None = None,
) -> uuid.UUID:
    new = id or uuid.uuid4()
    conn.execute(
        INSERT,
        dict(
            id=new,
            rx=ids[rx],
            nurse=ids["nurse"],
            at=at,
            tag=tag,
            status=status,
            supersedes=supersedes,
            reason="REFUSED" if status == "NOT_GIVEN" else None,
        ),
    )
    return new


def count_current_given(engine, rx_id) -> int:  # noqa: ANN001
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT count(*) FROM medication_logs WHERE student_medication_id = :rx "
                "AND status = 'GIVEN' AND superseded_at IS NULL"
            ),
            {"rx": rx_id},
        ).scalar_one()


@pytest.mark.parametrize(
    "offset",
    [
        dt.timedelta(0),
        dt.timedelta(seconds=1),
        dt.timedelta(seconds=59),
        dt.timedelta(seconds=-1),
        dt.timedelta(minutes=1),
        dt.timedelta(minutes=59),
    ],
)
def test_a_second_given_within_the_window_is_refused(world, offset: dt.timedelta) -> None:  # noqa: ANN001
    engine, ids = world
    with engine.begin() as conn:
        first = insert(conn, ids)
    with pytest.raises(IntegrityError, match=f"already given \\(log {first}"):
        with engine.begin() as conn:
            insert(conn, ids, at=NOON + offset, tag=NOON + offset)
    assert count_current_given(engine, ids["rx"]) == 1


def test_an_untagged_given_counts_by_its_time(world) -> None:  # noqa: ANN001
    engine, ids = world
    with engine.begin() as conn:
        insert(conn, ids, at=NOON + dt.timedelta(minutes=10), tag=None)
    with pytest.raises(IntegrityError, match="already given"):
        with engine.begin() as conn:
            insert(conn, ids, at=NOON + dt.timedelta(minutes=30), tag=NOON)
    with pytest.raises(IntegrityError, match="already given"):
        with engine.begin() as conn:
            insert(conn, ids, at=NOON + dt.timedelta(minutes=40), tag=None)
    assert count_current_given(engine, ids["rx"]) == 1


def test_another_dose_or_another_order_is_not_blocked(world) -> None:  # noqa: ANN001
    engine, ids = world
    with engine.begin() as conn:
        insert(conn, ids)
        insert(conn, ids, at=NOON + dt.timedelta(days=1), tag=NOON + dt.timedelta(days=1))
        insert(conn, ids, rx="other", at=NOON, tag=NOON + dt.timedelta(minutes=90))
        # a NOT_GIVEN is not a second GIVEN (the service refuses it; the index does not care)
        insert(conn, ids, status="NOT_GIVEN", tag=NOON + dt.timedelta(hours=2))
    assert count_current_given(engine, ids["rx"]) == 2


@pytest.mark.parametrize("rx", ["prn", "worded"])
def test_prn_doses_without_a_tag_may_repeat(world, rx: str) -> None:  # noqa: ANN001
    engine, ids = world
    with engine.begin() as conn:
        insert(conn, ids, rx=rx, tag=None)
        insert(conn, ids, rx=rx, at=NOON + dt.timedelta(minutes=20), tag=None)
    assert count_current_given(engine, ids[rx]) == 2
    with pytest.raises(IntegrityError, match="already given"):  # but a tagged dose is a dose
        with engine.begin() as conn:
            insert(conn, ids, rx=rx, tag=NOON)
            insert(conn, ids, rx=rx, tag=NOON + dt.timedelta(seconds=1))


def test_a_resend_of_the_same_id_is_quietly_one_row(world) -> None:  # noqa: ANN001
    engine, ids = world
    same = uuid.uuid4()
    with engine.begin() as conn:
        insert(conn, ids, id=same)
    with engine.begin() as conn:
        insert(conn, ids, id=same, tag=NOON + dt.timedelta(seconds=1))
    assert count_current_given(engine, ids["rx"]) == 1


def test_two_connections_at_once_exactly_one_wins(world) -> None:  # noqa: ANN001
    engine, ids = world
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(seconds: int) -> None:
        try:
            with engine.begin() as conn:
                barrier.wait()
                moment = NOON + dt.timedelta(seconds=seconds)
                insert(conn, ids, at=moment, tag=moment)
            outcomes.append("ok")
        except IntegrityError:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt, args=(s,)) for s in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(outcomes) == ["ok", "refused"]
    assert count_current_given(engine, ids["rx"]) == 1


# --- superseded stamp ----------------------------------------------------------------------

STAMP = text(
    "UPDATE medication_logs SET superseded_at = now(), superseded_by_id = :by WHERE id = :id"
)


def test_a_correction_in_one_transaction_is_accepted(world) -> None:  # noqa: ANN001
    engine, ids = world
    with engine.begin() as conn:
        original = insert(conn, ids)
    fixed = uuid.uuid4()
    with engine.begin() as conn:  # stamp first (deferred key), then the corrected GIVEN
        conn.execute(STAMP, {"by": fixed, "id": original})
        insert(conn, ids, id=fixed, at=NOON + dt.timedelta(minutes=3), supersedes=original)
    assert count_current_given(engine, ids["rx"]) == 1


def test_stamping_superseded_directly_is_refused(world) -> None:  # noqa: ANN001
    engine, ids = world
    with engine.begin() as conn:
        original = insert(conn, ids)
        older = insert(conn, ids, at=NOON - dt.timedelta(days=1), tag=NOON - dt.timedelta(days=1))
    # without a "by", the pair check refuses; with another log of the order as "by", the
    # commit-time check refuses (that log is no correction of this one)
    with pytest.raises((IntegrityError, DBAPIError)):
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE medication_logs SET superseded_at = now() WHERE id = :id"),
                {"id": original},
            )
    with pytest.raises(IntegrityError, match="same order and dose"):
        with engine.begin() as conn:
            conn.execute(STAMP, {"by": older, "id": original})
    assert count_current_given(engine, ids["rx"]) == 2


def test_superseded_by_another_orders_log_is_refused(world) -> None:  # noqa: ANN001
    engine, ids = world
    with engine.begin() as conn:
        original = insert(conn, ids)
    foreign = uuid.uuid4()
    with pytest.raises(IntegrityError, match="same order and dose"):
        with engine.begin() as conn:
            conn.execute(STAMP, {"by": foreign, "id": original})
            insert(
                conn,
                ids,
                rx="other",
                id=foreign,
                tag=NOON + dt.timedelta(minutes=90),
                supersedes=original,
            )
    assert count_current_given(engine, ids["rx"]) == 1


def test_superseded_by_a_log_of_another_dose_is_refused(world) -> None:  # noqa: ANN001
    engine, ids = world
    with engine.begin() as conn:
        original = insert(conn, ids)
    other_dose = uuid.uuid4()
    with pytest.raises(IntegrityError, match="same order and dose"):
        with engine.begin() as conn:
            conn.execute(STAMP, {"by": other_dose, "id": original})
            insert(
                conn,
                ids,
                id=other_dose,
                at=NOON + dt.timedelta(days=1),
                tag=NOON + dt.timedelta(days=1),
                supersedes=original,
            )


def test_a_correction_that_does_not_stamp_its_original_is_refused(world) -> None:  # noqa: ANN001
    engine, ids = world
    with engine.begin() as conn:
        original = insert(conn, ids, status="NOT_GIVEN")
    with pytest.raises(IntegrityError, match="must stamp"):
        with engine.begin() as conn:
            insert(conn, ids, supersedes=original)
    assert count_current_given(engine, ids["rx"]) == 0


def test_an_old_correction_cannot_be_reused_later(world) -> None:  # noqa: ANN001
    """A log inserted in an earlier transaction cannot become the "by" of a new stamp."""
    engine, ids = world
    with engine.begin() as conn:
        first = insert(conn, ids, status="NOT_GIVEN")
        fixer = uuid.uuid4()
        conn.execute(STAMP, {"by": fixer, "id": first})
        insert(conn, ids, id=fixer, supersedes=first)
    with engine.begin() as conn:
        second = insert(conn, ids, status="NOT_GIVEN", tag=NOON + dt.timedelta(hours=2))
    with pytest.raises(IntegrityError, match="same order and dose"):
        with engine.begin() as conn:
            conn.execute(STAMP, {"by": fixer, "id": second})
