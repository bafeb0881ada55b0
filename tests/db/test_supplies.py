"""Students' own supplies on a real database (issue 14): the count goes down with each GIVEN
dose and comes back with a correction (ledger lines), the refill notice at 5 school days left
with a controlled clock, expiring authorizations, letters, and field-trip sign-out and
count-back with both names."""

from __future__ import annotations

import datetime as dt
import unicodedata
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from medapp.db.models import FieldTripSignout, InventoryAdjustment, MedicationInventory
from medapp.domain.supplies import refill_due, runs_out_on, school_days_left
from medapp.services.corrections import CorrectionCommand, CorrectionKind, correct_dose
from medapp.services.desk import AccessDenied
from medapp.services.doses import DoseCommand, record_dose
from medapp.services.inventory_admin import InventoryInputError
from medapp.services.letters import letter_data
from medapp.services.supplies import (
    TripBack,
    TripOut,
    count_back_trip,
    open_trips,
    school_supplies,
    sign_out_trip,
    student_supplies,
    supply_attention,
)
from tests.db import factories as f
from tests.db.desks import desk_for

NY = ZoneInfo("America/New_York")
MONDAY = dt.date(2026, 11, 2)
NOON = dt.datetime(2026, 11, 2, 12, 0, tzinfo=NY)


@pytest.fixture
def world(committed_db):  # noqa: ANN001, ANN201
    tag = uuid.uuid4().hex[:6]
    with Session(committed_db.engine) as s:
        sch = f.school(s, code=f"U{tag}")
        other = f.school(s, code=f"V{tag}")
        nurse = f.nurse(s, sch, username=f"u{tag}")
        stranger = f.nurse(s, other, username=f"v{tag}")
        ada = f.student(s, sch, number=f"A{tag}")
        med = f.medication(s, name=f"Guanfacine {tag}", ndc=None)
        med.is_controlled, med.dea_schedule = False, None
        rx = f.prescription(
            s, ada, med, dosage="1 mg", authorization_expires=MONDAY + dt.timedelta(days=20)
        )
        lot = f.lot(
            s,
            med,
            school_id=sch.id,
            student_id=ada.id,
            quantity=7,
            reorder_level=0,
            batch_number="OWN1",
            expiration_date=dt.date(2027, 6, 1),
        )
        s.add(
            InventoryAdjustment(
                inventory_id=lot.id, delta=7, quantity_after=7, reason="received", user_id=nurse.id
            )
        )
        s.commit()
        ids = dict(
            nurse=nurse.id,
            stranger=stranger.id,
            school=sch.id,
            other=other.id,
            student=ada.id,
            rx=rx.id,
            lot=lot.id,
            med=med.id,
        )
    return committed_db, ids


def desk(db, ids, now: dt.datetime = NOON, who: str = "nurse"):  # noqa: ANN001, ANN201
    return desk_for(db.sessions, ids[who], now=now)


def count(db, lot_id: uuid.UUID) -> int:  # noqa: ANN001
    with Session(db.engine) as s:
        lot = s.get(MedicationInventory, lot_id)
        assert lot is not None
        return lot.quantity


def ledger(db, lot_id: uuid.UUID) -> list[tuple[int, int, str]]:  # noqa: ANN001
    with Session(db.engine) as s:
        rows = s.scalars(
            select(InventoryAdjustment)
            .where(InventoryAdjustment.inventory_id == lot_id)
            .order_by(InventoryAdjustment.created_at, InventoryAdjustment.quantity_after.desc())
        )
        return [(r.delta, r.quantity_after, r.reason) for r in rows]


# --- pure rules ------------------------------------------------------------------------------


def test_school_days_left_and_the_refill_threshold() -> None:
    assert school_days_left(10, 2) == 5 and school_days_left(11, 2) == 5
    assert school_days_left(5, 0) is None  # PRN: no rate to run out at
    assert refill_due(5, 1) and refill_due(0, 1) and not refill_due(6, 1)
    assert not refill_due(3, 0)
    assert refill_due(12, 2, threshold_days=6) and not refill_due(12, 2, threshold_days=5)

    def weekday(d: dt.date) -> bool:
        return d.weekday() < 5

    # 2 doses left on a Thursday, one a day: Thu, Fri given; Monday is the first day without.
    assert runs_out_on(dt.date(2026, 11, 5), 2, weekday) == dt.date(2026, 11, 9)
    assert runs_out_on(MONDAY, 0, weekday) == MONDAY
    assert runs_out_on(MONDAY, 3, lambda _d: False) is None


# --- counting down ----------------------------------------------------------------------------


def test_each_given_dose_takes_one_from_her_supply_and_a_correction_gives_it_back(world) -> None:  # noqa: ANN001
    db, ids = world
    dose = DoseCommand(
        uuid.uuid4(),
        ids["rx"],
        ids["nurse"],
        "GIVEN",
        NOON + dt.timedelta(minutes=3),
        NOON,
        inventory_id=ids["lot"],
        quantity_used=1,
    )
    result = record_dose(desk(db, ids, NOON + dt.timedelta(minutes=5)), dose)
    assert result.outcome == "RECORDED" and result.stock_left == 6
    assert count(db, ids["lot"]) == 6
    again = record_dose(desk(db, ids, NOON + dt.timedelta(minutes=6)), dose)  # a retry
    assert again.outcome == "ALREADY_RECORDED" and count(db, ids["lot"]) == 6
    [line] = student_supplies(desk(db, ids), ids["student"], today=MONDAY)
    assert (line.quantity, line.doses_per_day, line.school_days_left) == (6, 1, 6)
    assert line.order_id == ids["rx"] and not line.refill_due

    correct_dose(
        desk(db, ids, NOON + dt.timedelta(minutes=20)),
        CorrectionCommand(
            id=uuid.uuid4(),
            original_log_id=dose.id,
            kind=CorrectionKind.ENTERED_IN_ERROR,
            reason="Charted on the wrong student by mistake",
        ),
    )
    assert count(db, ids["lot"]) == 7
    lines = ledger(db, ids["lot"])
    assert [(d, q) for d, q, _r in lines] == [(7, 7), (-1, 6), (1, 7)]
    assert lines[1][2] == "dose given"


# --- refill notice ----------------------------------------------------------------------------


def test_refill_notice_at_five_school_days_left(world) -> None:  # noqa: ANN001
    db, ids = world
    # 7 doses, 1 a school day: on Monday it lasts 7 school days — no notice (authorization aside).
    items = supply_attention(desk(db, ids), ids["school"], today=MONDAY, authorization_days=10)
    assert items == ()
    # Two doses given (Mon, Tue): 5 left on Wednesday → the notice, running out next Wednesday.
    for day in (0, 1):
        when = NOON + dt.timedelta(days=day)
        record_dose(
            desk(db, ids, when + dt.timedelta(minutes=2)),
            DoseCommand(
                uuid.uuid4(),
                ids["rx"],
                ids["nurse"],
                "GIVEN",
                when,
                when,
                inventory_id=ids["lot"],
                quantity_used=1,
            ),
        )
    wednesday = MONDAY + dt.timedelta(days=2)
    with Session(db.engine) as s:  # a closure: Friday is no school day
        s.execute(
            text("INSERT INTO school_closures (school_id, closed_on) VALUES (:s, :d)"),
            {"s": ids["school"], "d": MONDAY + dt.timedelta(days=4)},
        )
        s.commit()
    [line] = school_supplies(desk(db, ids), ids["school"], today=wednesday)
    assert (line.quantity, line.school_days_left, line.refill_due) == (5, 5, True)
    # 5 doses cover Wed, Thu, (Fri closed), Mon, Tue, Wed: Thursday 12th is the first without.
    assert line.runs_out_on == dt.date(2026, 11, 12)
    [item] = supply_attention(desk(db, ids), ids["school"], today=wednesday, authorization_days=10)
    assert item.kind == "REFILL" and item.letter == "refill" and item.order_id == ids["rx"]
    assert "5 left" in item.text and "Ada L." in item.text and "Lovelace" not in item.text
    # The threshold is a setting: at 4 school days, 5 left is not yet a notice.
    [later] = school_supplies(desk(db, ids), ids["school"], today=wednesday, threshold_days=4)
    assert not later.refill_due


def test_authorization_expiring_within_30_days_is_listed(world) -> None:  # noqa: ANN001
    db, ids = world
    items = supply_attention(desk(db, ids), ids["school"], today=MONDAY)
    assert [(i.kind, i.order_id) for i in items] == [("AUTHORIZATION", ids["rx"])]
    assert "2026-11-22" in items[0].text
    # 31+ days ahead it is not yet due.
    early = supply_attention(desk(db, ids), ids["school"], today=MONDAY - dt.timedelta(days=11))
    assert early == ()
    with pytest.raises(AccessDenied):
        supply_attention(desk(db, ids, who="stranger"), ids["school"], today=MONDAY)


def test_letter_data(world) -> None:  # noqa: ANN001
    db, ids = world
    data = letter_data(desk(db, ids), "refill", ids["rx"], today=MONDAY)
    assert (data.quantity_left, data.school_days_left, data.student_name) == (
        7,
        7,
        "Ada Lovelace",
    )
    auth = letter_data(desk(db, ids), "authorization", ids["rx"], today=MONDAY)
    assert auth.authorization_expires == dt.date(2026, 11, 22) and auth.nurse_name
    with pytest.raises(InventoryInputError):
        letter_data(desk(db, ids), "ransom", ids["rx"])
    with pytest.raises(AccessDenied):
        letter_data(desk(db, ids, who="stranger"), "refill", ids["rx"], today=MONDAY)


# --- field trip -------------------------------------------------------------------------------


def test_field_trip_out_and_back_moves_the_count_with_both_names(world) -> None:  # noqa: ANN001
    db, ids = world
    out = TripOut(uuid.uuid4(), ids["lot"], 2, "Zoo, Nov 2", "Mr. Teach")
    row = sign_out_trip(desk(db, ids), out)
    assert (row.direction, row.doses, row.other_person, row.quantity_after) == (
        "OUT",
        2,
        "Mr. Teach",
        5,
    )
    assert row.nurse_name == "Nora Nurse" and count(db, ids["lot"]) == 5
    assert sign_out_trip(desk(db, ids), out).id == out.id and count(db, ids["lot"]) == 5  # retry
    assert [t.id for t in open_trips(desk(db, ids), ids["school"])] == [out.id]

    with pytest.raises(InventoryInputError) as err:  # 1 missing dose needs a note
        count_back_trip(desk(db, ids), TripBack(uuid.uuid4(), out.id, 0, 1, "Mr. Teach"))
    assert err.value.field == "notes"
    with pytest.raises(InventoryInputError):  # more than went out
        count_back_trip(desk(db, ids), TripBack(uuid.uuid4(), out.id, 2, 1, "Mr. Teach"))
    back = TripBack(uuid.uuid4(), out.id, 1, 1, "Ms. Aide")
    row = count_back_trip(desk(db, ids), back)
    assert (row.direction, row.doses, row.given_on_trip, row.other_person) == (
        "BACK",
        1,
        1,
        "Ms. Aide",
    )
    assert count(db, ids["lot"]) == 6 and open_trips(desk(db, ids), ids["school"]) == ()
    with pytest.raises(InventoryInputError, match="already"):
        count_back_trip(desk(db, ids), TripBack(uuid.uuid4(), out.id, 1, 0, "Ms. Aide"))
    assert [d for d, _q, _r in ledger(db, ids["lot"])] == [7, -2, 1]
    assert "Mr. Teach" in ledger(db, ids["lot"])[1][2]

    # The rows are append-only.
    with Session(db.engine) as s, pytest.raises(DBAPIError, match="append-only"):
        s.execute(text("UPDATE field_trip_signouts SET doses = 9 WHERE id = :i"), {"i": out.id})
    with Session(db.engine) as s:
        assert s.get(FieldTripSignout, back.id).signout_id == out.id  # type: ignore[union-attr]


def test_field_trip_refuses_what_it_cannot_do(world) -> None:  # noqa: ANN001
    db, ids = world
    with pytest.raises(InventoryInputError) as err:
        sign_out_trip(desk(db, ids), TripOut(uuid.uuid4(), ids["lot"], 8, "Zoo", "Mr. Teach"))
    assert err.value.field == "doses"
    with pytest.raises(InventoryInputError) as err:
        sign_out_trip(desk(db, ids), TripOut(uuid.uuid4(), ids["lot"], 1, "Zoo", "  "))
    assert err.value.field == "teacher"
    with pytest.raises(AccessDenied):
        sign_out_trip(
            desk(db, ids, who="stranger"), TripOut(uuid.uuid4(), ids["lot"], 1, "Zoo", "Mr. T")
        )
    assert count(db, ids["lot"]) == 7


def pdf_words(path: Path) -> str:
    """The PDF's text, spaces collapsed and ligatures (ﬁ, ﬀ) spelled out."""
    from pypdf import PdfReader

    text_ = unicodedata.normalize(
        "NFKC", " ".join(page.extract_text() for page in PdfReader(path).pages)
    )
    return " ".join(unicodedata.normalize("NFKC", text_).split())


def test_letters_as_pdf_say_what_the_database_says(world, qapp, tmp_path: Path) -> None:  # noqa: ANN001
    from medapp.reports.letters import letter_filename, letter_html
    from medapp.reports.pdf import write_pdf

    db, ids = world
    refill = letter_data(desk(db, ids), "refill", ids["rx"], today=MONDAY)
    out = write_pdf(letter_html(refill), tmp_path / letter_filename(refill), title="Refill")
    assert "Lovelace" not in out.name and out.name.endswith(".pdf")
    words = pdf_words(out)
    assert "Medication refill needed" in words
    assert "7 doses left" in words and "Ada Lovelace" in words
    assert "November 11, 2026" in words  # 7 school days from Monday 2nd: runs out Wed 11th
    assert "Nora Nurse" in words

    auth = letter_data(desk(db, ids), "authorization", ids["rx"], today=MONDAY)
    out = write_pdf(letter_html(auth), tmp_path / letter_filename(auth), title="Authorization")
    words = pdf_words(out)
    assert "authorization" in words.lower() and "November 22, 2026" in words
