"""Printed records (issue 14): the MAR's content against the database, the end-of-day report and
the count sheet as PDFs whose text says what the database says."""

from __future__ import annotations

import datetime as dt
import unicodedata
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from sqlalchemy import text
from sqlalchemy.orm import Session

from medapp.db.models import Allergy, InventoryAdjustment, SchoolClosure, User, UserSchool
from medapp.reports.html import count_sheet_html, day_report_html, mar_html
from medapp.reports.pdf import write_pdf
from medapp.services.desk import AccessDenied, Role
from medapp.services.doses import DoseCommand, record_dose
from medapp.services.end_of_day import close_school_day, end_of_day_summary
from medapp.services.reports import ReportInputError, count_sheet, monthly_mar, parse_month
from tests.db import factories as f
from tests.db.desks import desk_for

NY = ZoneInfo("America/New_York")


def noon(day: int) -> dt.datetime:
    return dt.datetime(2026, 11, day, 12, 0, tzinfo=NY)


NOW = dt.datetime(2026, 11, 30, 16, 0, tzinfo=NY)


@pytest.fixture
def world(committed_db):  # noqa: ANN001, ANN201
    tag = uuid.uuid4().hex[:6]
    with Session(committed_db.engine) as s:
        sch = f.school(s, code=f"R{tag}")
        sch.name = f"Report Elementary {tag}"
        nurse = f.nurse(s, sch, username=f"r{tag}")
        nurse.first_name, nurse.last_name = "Maria", "Rivera"
        other = User(
            first_name="Paul",
            last_name="Second",
            username=f"w{tag}",
            role="NURSE",
            school_id=sch.id,
        )
        s.add(other)
        s.flush()
        s.add(UserSchool(user_id=other.id, school_id=sch.id))
        stu = f.student(s, sch, number=f"M{tag}")
        s.add(Allergy(student_id=stu.id, allergen="Peanut", severity="SEVERE", reaction="hives"))
        s.add(SchoolClosure(school_id=sch.id, closed_on=dt.date(2026, 11, 26), reason="Holiday"))
        med = f.medication(s, ndc=None)
        rx = f.prescription(
            s,
            stu,
            med,
            start_date=dt.date(2026, 11, 2),
            authorization_expires=dt.date(2027, 6, 15),
        )
        lot = f.lot(s, med, school_id=sch.id, batch_number=f"CII-{tag}", quantity=30)
        s.commit()
        ids = dict(
            nurse=nurse.id,
            other=other.id,
            school=sch.id,
            rx=rx.id,
            lot=lot.id,
            number=stu.student_number,
            tag=tag,
        )
    db = committed_db
    give = desk_for(db.sessions, ids["nurse"], now=NOW)
    record_dose(
        give,
        DoseCommand(
            uuid.uuid4(), rx.id, ids["nurse"], "GIVEN", noon(2) + dt.timedelta(minutes=4), noon(2)
        ),
    )
    record_dose(
        give,
        DoseCommand(
            uuid.uuid4(), rx.id, ids["nurse"], "NOT_GIVEN", noon(3), noon(3), reason="REFUSED"
        ),
    )
    record_dose(
        give,
        DoseCommand(
            uuid.uuid4(), rx.id, ids["nurse"], "NOT_GIVEN", noon(4), noon(4), reason="ABSENT"
        ),
    )
    record_dose(
        give,
        DoseCommand(
            uuid.uuid4(),
            rx.id,
            ids["nurse"],
            "GIVEN",
            noon(5) + dt.timedelta(minutes=90),
            noon(5),
            override_reason="Student was at an assembly until half past one.",
        ),
    )
    close_school_day(
        desk_for(db.sessions, ids["nurse"], now=NOW), ids["school"], dt.date(2026, 11, 6)
    )
    with Session(db.engine) as s:
        s.add(
            InventoryAdjustment(
                inventory_id=ids["lot"],
                delta=-2,
                quantity_after=28,
                reason="count: 2 tablets short",
                user_id=ids["nurse"],
                witness_id=ids["other"],
            )
        )
        s.execute(
            text("UPDATE medication_inventory SET quantity = 28 WHERE id = :id"), {"id": ids["lot"]}
        )
        s.commit()
    return db, ids


def pdf_text(path: Path) -> str:
    """The PDF's words, one space apart (the writer separates words with tabs, lines with
    newlines)."""
    reader = PdfReader(str(path))
    assert len(reader.pages) >= 1
    text = " ".join(page.extract_text() or "" for page in reader.pages)
    return " ".join(unicodedata.normalize("NFKC", text).split())  # "ﬀ" → "ff"


def test_the_mar_grid_matches_the_database(world) -> None:  # noqa: ANN001
    db, ids = world
    mar = monthly_mar(desk_for(db.sessions, ids["nurse"], now=NOW), ids["number"], 2026, 11)
    assert mar.days == 30 and mar.allergies == ("Peanut (severe): hives",)
    (order,) = mar.orders
    assert order.authorization_expires == dt.date(2027, 6, 15)
    (row,) = mar.rows
    assert row.time == dt.time(12, 0)
    cells = dict(enumerate(row.cells, start=1))
    assert cells[1] == ""  # a Sunday before the order started: nothing to say
    assert (cells[2], cells[3], cells[4], cells[5], cells[6]) == ("MR", "R", "A", "MR*", "M")
    assert cells[7] == cells[8] == "X"  # weekend
    assert cells[26] == "X"  # closure
    assert cells[9] == "M"  # past, nothing documented, not closed: missed by the clock
    outcomes = [(a.at.day, a.outcome, a.nurse_name) for a in mar.administrations]
    assert (2, "Given", "Maria Rivera") in outcomes
    assert (3, "Not given — Refused", "Maria Rivera") in outcomes
    assert any(day == 6 and outcome.startswith("Missed") for day, outcome, _ in outcomes)


def test_the_mar_pdf_says_what_the_database_says(world, qapp, tmp_path: Path) -> None:  # noqa: ANN001
    db, ids = world
    mar = monthly_mar(desk_for(db.sessions, ids["nurse"], now=NOW), ids["number"], 2026, 11)
    out = write_pdf(mar_html(mar), tmp_path / "mar.pdf", title="MAR", landscape=True)
    assert out.read_bytes().startswith(b"%PDF")
    words = pdf_text(out)
    for expected in (
        "Medication Administration Record",
        "November 2026",
        ids["number"],
        "Lovelace, Ada",
        "Peanut",
        "2027-06-15",
        "Maria Rivera",
        "Refused",
        "parent called",
        "no school",
    ):
        assert expected in words, expected


def test_opening_a_mar_is_audited_and_needs_the_school(world) -> None:  # noqa: ANN001
    db, ids = world
    monthly_mar(desk_for(db.sessions, ids["nurse"], now=NOW), ids["number"], 2026, 11)
    with Session(db.engine) as s:
        reads = s.execute(
            text(
                "SELECT count(*) FROM audit_log WHERE action = 'READ' AND table_name = 'students'"
                " AND row_id = (SELECT id::text FROM students WHERE student_number = :n)"
            ),
            {"n": ids["number"]},
        ).scalar()
    assert reads == 1
    stranger = desk_for(db.sessions, ids["nurse"], now=NOW, schools=[uuid.uuid4()])
    with pytest.raises(AccessDenied):
        monthly_mar(stranger, ids["number"], 2026, 11)
    with pytest.raises(ReportInputError, match="No student"):
        monthly_mar(desk_for(db.sessions, ids["nurse"], now=NOW), "NOPE", 2026, 11)
    with pytest.raises(ReportInputError, match="YYYY-MM"):
        parse_month("11/2026")


def test_the_day_report_pdf(world, qapp, tmp_path: Path) -> None:  # noqa: ANN001
    db, ids = world
    at = dt.datetime(2026, 11, 6, 16, 0, tzinfo=NY)
    summary = end_of_day_summary(
        desk_for(db.sessions, ids["nurse"], now=at), ids["school"], dt.date(2026, 11, 6)
    )
    assert summary.counts.missed == 1 and summary.missed_records == 1 and summary.closed
    out = write_pdf(day_report_html(summary), tmp_path / "day.pdf", title="Day")
    words = pdf_text(out)
    assert "End-of-day report" in words and "Missed" in words and "Lovelace, Ada" in words


def test_the_count_sheet_names_both_people(world, qapp, tmp_path: Path) -> None:  # noqa: ANN001
    db, ids = world
    desk = desk_for(db.sessions, ids["nurse"], now=NOW, role=Role.NURSE)
    sheet = count_sheet(desk, f"CII-{ids['tag']}")
    assert [(line.delta, line.by, line.witness) for line in sheet.lines] == [
        (-2, "Maria Rivera", "Paul Second")
    ]
    assert sheet.quantity == 28
    out = write_pdf(count_sheet_html(sheet), tmp_path / "count.pdf", title="Count")
    words = pdf_text(out)
    assert "Paul Second" in words and "Maria Rivera" in words and "2 tablets short" in words
