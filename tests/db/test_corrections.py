"""Corrections (issue 9, rule 5): a correction record supersedes the original with a reason and
the correcting nurse's name; both stay in history; entered-in-error makes the dose due again and
puts stock back; the refusal of a second dose points to "Correct…"."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from medapp.db.models import InventoryAdjustment, MedicationInventory, MedicationLog
from medapp.domain.checks import DoseRefused
from medapp.services.corrections import (
    CorrectionCommand,
    CorrectionError,
    CorrectionKind,
    correct_dose,
    dose_history,
)
from medapp.services.desk import AccessDenied, Role
from medapp.services.doses import DoseCommand, record_dose
from tests.db import factories as f
from tests.db.desks import desk_for

NY = ZoneInfo("America/New_York")
NOON = dt.datetime(2026, 11, 2, 12, 0, tzinfo=NY)
NOW = dt.datetime(2026, 11, 2, 12, 40, tzinfo=NY)
REASON = "Recorded on the wrong student by mistake"


@pytest.fixture
def world(committed_db):  # noqa: ANN001, ANN201
    tag = uuid.uuid4().hex[:6]
    with Session(committed_db.engine) as s:
        sch = f.school(s, code=f"C{tag}")
        n1 = f.nurse(s, sch, username=f"c1{tag}")
        n2 = f.nurse(s, sch, username=f"c2{tag}")
        n2.first_name, n2.last_name = "Paul", "Second"
        stu = f.student(s, sch, number=f"C{tag}")
        med = f.medication(s, ndc=None)
        rx = f.prescription(s, stu, med, authorization_expires=dt.date(2027, 6, 15))
        lot = f.lot(s, med, quantity=10)
        s.commit()
        ids = dict(n1=n1.id, n2=n2.id, rx=rx.id, lot=lot.id, school=sch.id)
    return committed_db, ids


def desk(db, ids, who: str = "n1", **kw):  # noqa: ANN001, ANN201
    return desk_for(db.sessions, ids[who], now=NOW, **kw)


def give(db, ids, who: str = "n1", **kw) -> uuid.UUID:  # noqa: ANN001
    values: dict[str, object] = dict(
        id=uuid.uuid4(),
        prescription_id=ids["rx"],
        nurse_id=ids[who],
        status="GIVEN",
        time_given=NOON + dt.timedelta(minutes=5),
        scheduled_for=NOON,
    )
    values.update(kw)
    return record_dose(desk(db, ids, who), DoseCommand(**values)).log_id  # type: ignore[arg-type]


def correction(original: uuid.UUID, kind: CorrectionKind, **kw) -> CorrectionCommand:  # noqa: ANN003
    return CorrectionCommand(
        id=uuid.uuid4(), original_log_id=original, kind=kind, reason=REASON, **kw
    )


def stock(db, ids) -> int:  # noqa: ANN001
    with Session(db.engine) as s:
        return s.get(MedicationInventory, ids["lot"]).quantity


def test_entered_in_error_makes_the_dose_due_again_and_puts_stock_back(world) -> None:  # noqa: ANN001
    db, ids = world
    original = give(db, ids, inventory_id=ids["lot"], quantity_used=1)
    assert stock(db, ids) == 9
    cmd = correction(original, CorrectionKind.ENTERED_IN_ERROR)
    result = correct_dose(desk(db, ids, "n2"), cmd)
    assert (result.outcome, result.stock_returned) == ("CORRECTED", 1)
    assert stock(db, ids) == 10
    with Session(db.engine) as s:
        ledger = s.scalars(
            select(InventoryAdjustment).where(InventoryAdjustment.inventory_id == ids["lot"])
        ).all()
        assert sorted((a.reason, a.delta) for a in ledger) == [
            ("correction", 1),
            ("dose given", -1),
        ]
    history = dose_history(desk(db, ids), ids["rx"], day=NOON.date())
    assert [(e.status, e.is_current, e.nurse_name) for e in history] == [
        ("ENTERED_IN_ERROR", True, "Paul Second"),
        ("GIVEN", False, "Nora Nurse"),
    ]
    marker, old = history
    assert marker.correction_reason == REASON and marker.supersedes_id == original
    assert old.superseded_by_id == marker.log_id and old.corrected_at is not None
    assert not marker.counts and not old.counts
    # the dose can be given again
    again = give(db, ids, "n2")
    assert again != original


def test_a_retry_of_the_same_correction_is_one_record(world) -> None:  # noqa: ANN001
    db, ids = world
    original = give(db, ids)
    cmd = correction(
        original, CorrectionKind.WRONG_TIME, time_given=NOON + dt.timedelta(minutes=20)
    )
    assert correct_dose(desk(db, ids), cmd).outcome == "CORRECTED"
    assert correct_dose(desk(db, ids), cmd).outcome == "ALREADY_RECORDED"
    assert len(dose_history(desk(db, ids), ids["rx"])) == 2


def test_wrong_time_and_wrong_dose_keep_the_dose_given(world) -> None:  # noqa: ANN001
    db, ids = world
    original = give(db, ids)
    later = NOON + dt.timedelta(minutes=25)
    first = correct_dose(
        desk(db, ids), correction(original, CorrectionKind.WRONG_TIME, time_given=later)
    )
    second = correct_dose(
        desk(db, ids), correction(first.log_id, CorrectionKind.WRONG_DOSE, dosage_given="5 mg")
    )
    newest = dose_history(desk(db, ids), ids["rx"])[0]
    assert newest.log_id == second.log_id and newest.counts
    assert (newest.time_given, newest.dosage_given, newest.scheduled_for) == (later, "5 mg", NOON)
    # still one current GIVEN: a second dose is refused and points at the newest record
    with pytest.raises(DoseRefused, match="Correct…") as refused:
        give(db, ids, "n2")
    assert refused.value.existing_log_id == second.log_id


def test_only_the_newest_record_can_be_corrected(world) -> None:  # noqa: ANN001
    db, ids = world
    original = give(db, ids)
    correct_dose(
        desk(db, ids), correction(original, CorrectionKind.WRONG_DOSE, dosage_given="5 mg")
    )
    with pytest.raises(CorrectionError, match="already corrected"):
        correct_dose(desk(db, ids), correction(original, CorrectionKind.ENTERED_IN_ERROR))


def test_wrong_status_given_to_not_given_returns_stock(world) -> None:  # noqa: ANN001
    db, ids = world
    original = give(db, ids, inventory_id=ids["lot"], quantity_used=1)
    with pytest.raises(CorrectionError, match="Say why"):
        correct_dose(
            desk(db, ids), correction(original, CorrectionKind.WRONG_STATUS, status="NOT_GIVEN")
        )
    result = correct_dose(
        desk(db, ids),
        correction(
            original, CorrectionKind.WRONG_STATUS, status="NOT_GIVEN", not_given_reason="REFUSED"
        ),
    )
    assert result.stock_returned == 1 and stock(db, ids) == 10
    newest = dose_history(desk(db, ids), ids["rx"])[0]
    assert (newest.status, newest.not_given_reason, newest.outcome_label) == (
        "NOT_GIVEN",
        "REFUSED",
        "Not given — Refused",
    )


def test_wrong_status_not_given_to_given(world) -> None:  # noqa: ANN001
    db, ids = world
    refused = record_dose(
        desk(db, ids),
        DoseCommand(uuid.uuid4(), ids["rx"], ids["n1"], "NOT_GIVEN", NOON, NOON, reason="ABSENT"),
    ).log_id
    result = correct_dose(
        desk(db, ids), correction(refused, CorrectionKind.WRONG_STATUS, status="GIVEN")
    )
    newest = dose_history(desk(db, ids), ids["rx"])[0]
    assert newest.log_id == result.log_id and newest.status == "GIVEN"
    assert newest.dosage_given == "10 mg"  # the order's dose


def test_a_correction_cannot_make_two_givens(world) -> None:  # noqa: ANN001
    db, ids = world
    refused = record_dose(
        desk(db, ids),
        DoseCommand(uuid.uuid4(), ids["rx"], ids["n1"], "NOT_GIVEN", NOON, NOON, reason="ABSENT"),
    ).log_id
    # the NOT_GIVEN was superseded by a GIVEN (after a reason) …
    give(db, ids, override_reason="Student came back after lunch")
    # … so the NOT_GIVEN is no longer the newest record
    with pytest.raises(CorrectionError, match="already corrected"):
        correct_dose(
            desk(db, ids), correction(refused, CorrectionKind.WRONG_STATUS, status="GIVEN")
        )
    with Session(db.engine) as s:
        current = s.scalars(
            select(MedicationLog).where(
                MedicationLog.student_medication_id == ids["rx"],
                MedicationLog.status == "GIVEN",
                MedicationLog.superseded_at.is_(None),
            )
        ).all()
        assert len(current) == 1


def test_not_given_after_the_window_cannot_be_corrected_into_a_second_given(world) -> None:  # noqa: ANN001
    """Found by the one-dose property (seed in issue 11's note): GIVEN at noon, a NOT_GIVEN
    untagged at 13:01 (just past the window), then "wrong status → given" on it made two
    current GIVENs of the noon dose; the correction must be refused like a second dose."""
    db, ids = world
    later = desk_for(db.sessions, ids["n1"], now=NOON + dt.timedelta(hours=3))
    give(db, ids, time_given=NOON, scheduled_for=None)
    after = record_dose(
        later,
        DoseCommand(
            uuid.uuid4(), ids["rx"], ids["n1"], "NOT_GIVEN", NOON + dt.timedelta(minutes=61),
            None, reason="ABSENT",
        ),
    ).log_id  # fmt: skip
    with pytest.raises(CorrectionError, match="Correct that record instead"):
        correct_dose(later, correction(after, CorrectionKind.WRONG_STATUS, status="GIVEN"))
    with Session(db.engine) as s:
        current = s.scalars(
            select(MedicationLog).where(
                MedicationLog.student_medication_id == ids["rx"],
                MedicationLog.status == "GIVEN",
                MedicationLog.superseded_at.is_(None),
            )
        ).all()
        assert len(current) == 1


def test_a_given_cannot_be_moved_onto_another_given_dose(world) -> None:  # noqa: ANN001
    db, ids = world
    later = desk_for(db.sessions, ids["n1"], now=NOON + dt.timedelta(hours=3))
    give(db, ids, time_given=NOON, scheduled_for=None)
    # a second record of the same dose cannot be made directly …
    with pytest.raises(DoseRefused):
        give(db, ids, time_given=NOON + dt.timedelta(minutes=10), scheduled_for=None)
    # … while moving the one GIVEN within its own dose's window is an ordinary correction
    first = dose_history(later, ids["rx"])[0].log_id
    moved = correct_dose(
        later,
        correction(first, CorrectionKind.WRONG_TIME, time_given=NOON + dt.timedelta(minutes=20)),
    )
    assert moved.outcome == "CORRECTED"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"reason": ""}, "correction reason is required"),
        ({"reason": "oops"}, "too short"),
        ({"reason": "!!!!!!!!!!!!"}, "words"),
        ({"kind": CorrectionKind.WRONG_TIME}, "time the dose was really given"),
        ({"kind": CorrectionKind.WRONG_DOSE}, "dose that was really given"),
        (
            {"kind": CorrectionKind.WRONG_TIME, "time_given": NOW + dt.timedelta(hours=1)},
            "future",
        ),
        ({"original_log_id": uuid.uuid4()}, "does not exist"),
    ],
)
def test_bad_corrections_are_refused_in_one_sentence(world, change, message) -> None:  # noqa: ANN001
    db, ids = world
    original = give(db, ids)
    cmd = dataclasses.replace(correction(original, CorrectionKind.ENTERED_IN_ERROR), **change)
    with pytest.raises(CorrectionError, match=message):
        correct_dose(desk(db, ids), cmd)
    assert len(dose_history(desk(db, ids), ids["rx"])) == 1


def test_who_may_correct_and_read(world) -> None:  # noqa: ANN001
    db, ids = world
    original = give(db, ids)
    outsider = desk_for(db.sessions, ids["n2"], now=NOW, schools=[uuid.uuid4()])
    with pytest.raises(AccessDenied):
        correct_dose(outsider, correction(original, CorrectionKind.ENTERED_IN_ERROR))
    with pytest.raises(AccessDenied):
        dose_history(outsider, ids["rx"])
    auditor = desk_for(db.sessions, ids["n2"], now=NOW, role=Role.AUDITOR)
    assert len(dose_history(auditor, ids["rx"])) == 1
    with pytest.raises(AccessDenied):
        correct_dose(auditor, correction(original, CorrectionKind.ENTERED_IN_ERROR))


def test_a_corrected_not_given_cannot_sit_beside_a_given(world) -> None:  # noqa: ANN001
    db, ids = world
    nine = dt.datetime(2026, 11, 2, 9, 0, tzinfo=NY)
    early = record_dose(
        desk(db, ids),
        DoseCommand(uuid.uuid4(), ids["rx"], ids["n1"], "NOT_GIVEN", nine, reason="HELD"),
    ).log_id
    give(db, ids)
    moved = correction(early, CorrectionKind.WRONG_TIME, time_given=NOON + dt.timedelta(minutes=10))
    with pytest.raises(CorrectionError, match="already given at 12:05 by Nora Nurse"):
        correct_dose(desk(db, ids), moved)
