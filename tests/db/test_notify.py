"""Changes made on one PC reach the others: triggers NOTIFY, the listener delivers."""

from __future__ import annotations

import queue
import time
import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

from medapp.db.notify import Change, ChangeListener
from tests.db import factories as f


def wait_for_all(q: queue.Queue, seen: set[Change], *want: Change, timeout: float = 5.0) -> bool:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not set(want) <= seen:
        try:
            seen.add(q.get(timeout=0.1))
        except queue.Empty:
            continue
    return set(want) <= seen


def test_log_prescription_and_formulary_changes_are_announced(committed_db) -> None:  # noqa: ANN001
    changes: queue.Queue[Change] = queue.Queue()
    listener = ChangeListener(committed_db.engine, changes.put, poll_s=0.1)
    listener.start()
    try:
        assert listener.wait_ready()
        with Session(committed_db.engine) as s:
            sch = f.school(s, code=f"N{uuid.uuid4().hex[:6]}")
            who = f.nurse(s, sch, username=f"n{uuid.uuid4().hex[:6]}")
            stu = f.student(s, sch, number=f"N{uuid.uuid4().hex[:8]}")
            med = f.medication(s, ndc=None)
            rx = f.prescription(s, stu, med)
            s.commit()
            school = str(sch.id)
            seen: set[Change] = set()
            assert wait_for_all(
                changes, seen, Change("student_medications", school), Change("medications", "*")
            )
            f.log(s, rx, who)
            s.commit()
            assert wait_for_all(changes, seen, Change("medication_logs", school))
    finally:
        listener.stop()


def test_bulk_insert_sends_one_message_per_school(committed_db) -> None:  # noqa: ANN001
    with Session(committed_db.engine) as s:
        sch = f.school(s, code=f"B{uuid.uuid4().hex[:6]}")
        who = f.nurse(s, sch, username=f"b{uuid.uuid4().hex[:6]}")
        stu = f.student(s, sch, number=f"B{uuid.uuid4().hex[:8]}")
        rx = f.prescription(s, stu, f.medication(s, ndc=None))
        s.commit()
        rx_id, who_id = rx.id, who.id
    with committed_db.engine.connect() as conn:
        conn.execute(text("LISTEN medapp_changes"))
        conn.commit()
        with committed_db.engine.begin() as writer:
            writer.execute(
                text(
                    "INSERT INTO medication_logs (id, student_medication_id, nurse_id, time_given, status) "
                    "SELECT gen_random_uuid(), :rx, :n, now() - make_interval(hours => 2 * g), 'GIVEN' "
                    "FROM generate_series(1, 500) g"
                ),
                {"rx": rx_id, "n": who_id},
            )
        raw = conn.connection.driver_connection
        notes = list(raw.notifies(timeout=1.0, stop_after=1000))
    payloads = [n.payload for n in notes if n.payload.startswith("medication_logs:")]
    assert len(payloads) == 1
