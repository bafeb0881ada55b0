"""Property (issue 9): whatever sequence of commands reaches one dose — GIVEN and NOT_GIVEN with
tags inside or outside the window, overrides, corrections, resends of the same command, two PCs
at once — the order ends with at most one current GIVEN. Run against the real database."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import uuid
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from medapp.db.models import Medication, MedicationLog, Student
from medapp.domain.checks import DoseRefused
from medapp.services.corrections import CorrectionCommand, CorrectionError, correct_dose
from medapp.services.doses import DoseCommand, DoseInputError, record_dose
from tests.db import factories as f
from tests.db.desks import desk_for

NY = ZoneInfo("America/New_York")
NOON = dt.datetime(2026, 11, 2, 12, 0, tzinfo=NY)
NOW = NOON + dt.timedelta(hours=3)
EXPECTED = (DoseRefused, DoseInputError, CorrectionError)

TAGS = st.sampled_from(
    [
        None,
        dt.timedelta(0),
        dt.timedelta(seconds=1),
        dt.timedelta(seconds=59),
        dt.timedelta(seconds=-30),
        dt.timedelta(minutes=1),
        dt.timedelta(minutes=70),
        dt.timedelta(minutes=-90),
    ]
)
MINUTES = st.integers(min_value=-150, max_value=170)
WHO = st.sampled_from(["n1", "n2"])
REASONS = st.sampled_from([None, "Parent asked for it on the phone", "ok"])

GIVE = st.tuples(st.just("give"), WHO, MINUTES, TAGS, REASONS)
NOT_GIVEN = st.tuples(
    st.just("not_given"), WHO, MINUTES, TAGS, st.sampled_from(["ABSENT", "REFUSED"])
)
CORRECT = st.tuples(
    st.just("correct"),
    WHO,
    st.integers(min_value=0, max_value=7),
    st.sampled_from(["ENTERED_IN_ERROR", "WRONG_TIME", "WRONG_DOSE", "WRONG_STATUS"]),
    MINUTES,
)
RESEND = st.tuples(st.just("resend"), WHO, st.integers(min_value=0, max_value=7))
RACE = st.tuples(st.just("race"), TAGS, TAGS, MINUTES)
OPS = st.lists(st.one_of(GIVE, NOT_GIVEN, CORRECT, RESEND, RACE), min_size=1, max_size=8)


@pytest.fixture(scope="module")
def place(committed_db):  # noqa: ANN001, ANN201
    tag = uuid.uuid4().hex[:6]
    with Session(committed_db.engine) as s:
        sch = f.school(s, code=f"H{tag}")
        n1 = f.nurse(s, sch, username=f"h1{tag}")
        n2 = f.nurse(s, sch, username=f"h2{tag}")
        stu = f.student(s, sch, number=f"H{tag}")
        med = f.medication(s, ndc=None)
        s.commit()
        return committed_db, dict(n1=n1.id, n2=n2.id, student=stu.id, med=med.id)


def _new_order(db, ids) -> uuid.UUID:  # noqa: ANN001
    with Session(db.engine) as s:
        rx = f.prescription(
            s,
            s.get(Student, ids["student"]),
            s.get(Medication, ids["med"]),
            authorization_expires=dt.date(2027, 6, 15),
        )
        s.commit()
        return rx.id


def _at(minutes: int) -> dt.datetime:
    return NOON + dt.timedelta(minutes=minutes)


def _tag(offset: dt.timedelta | None) -> dt.datetime | None:
    return None if offset is None else NOON + offset


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=OPS)
def test_any_sequence_leaves_at_most_one_current_given(place, ops) -> None:  # noqa: ANN001
    db, ids = place
    rx = _new_order(db, ids)
    desks = {who: desk_for(db.sessions, ids[who], now=NOW) for who in ("n1", "n2")}
    sent: list[DoseCommand] = []
    logs: list[uuid.UUID] = []

    def send(cmd: DoseCommand, who: str) -> None:
        try:
            result = record_dose(desks[who], cmd)
        except EXPECTED:
            return
        sent.append(cmd)
        if result.outcome == "RECORDED":
            logs.append(result.log_id)

    for op in ops:
        kind = op[0]
        if kind == "give":
            _, who, minutes, offset, reason = op
            cmd = DoseCommand(
                uuid.uuid4(), rx, ids[who], "GIVEN", _at(minutes), _tag(offset),
                override_reason=reason,
            )  # fmt: skip
            send(cmd, who)
        elif kind == "not_given":
            _, who, minutes, offset, why = op
            send(
                DoseCommand(uuid.uuid4(), rx, ids[who], "NOT_GIVEN", _at(minutes), _tag(offset),
                            reason=why),
                who,
            )  # fmt: skip
        elif kind == "correct" and logs:
            _, who, pick, what, minutes = op
            original = logs[pick % len(logs)]
            extra: dict[str, object] = {}
            if what == "WRONG_TIME":
                extra["time_given"] = _at(minutes)
            elif what == "WRONG_DOSE":
                extra["dosage_given"] = "5 mg"
            elif what == "WRONG_STATUS":
                extra.update(status="GIVEN" if minutes % 2 else "NOT_GIVEN",
                             not_given_reason="REFUSED")  # fmt: skip
            cmd = CorrectionCommand(
                uuid.uuid4(),
                original,
                what,
                "Corrected after checking the paper log",  # type: ignore[arg-type]
                **extra,  # type: ignore[arg-type]
            )
            try:
                result = correct_dose(desks[who], cmd)
                logs.append(result.log_id)
            except EXPECTED:
                pass
        elif kind == "resend" and sent:
            _, who, pick = op
            again = sent[pick % len(sent)]
            # the same command again, maybe from the other PC's outbox (same id, same nurse)
            nurse = "n1" if again.nurse_id == ids["n1"] else "n2"
            send(dataclasses.replace(again), nurse)
        elif kind == "race":
            _, first, second, minutes = op
            barrier = threading.Barrier(2)
            moment = _at(minutes)

            def pc(
                who: str,
                offset: dt.timedelta | None,
                at: dt.datetime = moment,
                gate: threading.Barrier = barrier,
            ) -> None:
                cmd = DoseCommand(uuid.uuid4(), rx, ids[who], "GIVEN", at, _tag(offset))
                gate.wait()
                send(cmd, who)

            threads = [
                threading.Thread(target=pc, args=("n1", first)),
                threading.Thread(target=pc, args=("n2", second)),
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)

    with Session(db.engine) as s:
        current = s.scalar(
            select(func.count())
            .select_from(MedicationLog)
            .where(
                MedicationLog.student_medication_id == rx,
                MedicationLog.status == "GIVEN",
                MedicationLog.superseded_at.is_(None),
            )
        )
    assert current <= 1
