"""The student's page on the school demo: everything about one student in one place, reached
from a dose row's menu and from Search (name, number, a scanned student ID card); Give PRN…
with the complaint required, then the outcome, both written to the real database."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from medapp.db.models import (
    EmergencyContact,
    Medication,
    MedicationLog,
    PrnOutcome,
    Student,
    StudentCondition,
    StudentMedication,
)
from medapp.runtime.context import AppContext
from medapp.ui.panes.search_pane import SearchPane
from medapp.ui.panes.student_page import (
    GivePrnDialog,
    PrnOutcomeDialog,
    StudentPageDialog,
    open_give_prn_for_medication,
)
from tests.ui.test_dose_dialog import lunchtime_on_a_school_day
from tests.ui.test_history_dialog import first_item
from tests.ui.test_reminders_pane import make_pane


@pytest.fixture
def ctx(desk_ctx: AppContext) -> AppContext:
    lunchtime_on_a_school_day(desk_ctx, dt.time(10, 5))
    return desk_ctx


def prn_student(ctx: AppContext) -> Student:
    """A demo student of the desk's school with an active as-needed order that is not an
    emergency medication, a condition and a contact, and no PRN dose in the last 8 hours."""
    with Session(ctx.db.engine) as s:
        recent = (
            select(MedicationLog.student_medication_id)
            .where(MedicationLog.time_given >= ctx.now() - dt.timedelta(hours=30))
            .scalar_subquery()
        )
        student = s.scalars(
            select(Student)
            .join(StudentMedication, StudentMedication.student_id == Student.id)
            .where(
                Student.school_id == ctx.school_id,
                StudentMedication.is_prn,
                StudentMedication.is_active,
                StudentMedication.id.not_in(recent),
                Student.id.in_(select(StudentCondition.student_id)),
                Student.id.in_(select(EmergencyContact.student_id)),
            )
            .order_by(Student.last_name, Student.first_name)
        ).first()
        assert student is not None
        s.expunge(student)
        return student


def open_page(qtbot, ctx: AppContext, student_id: uuid.UUID) -> StudentPageDialog:  # noqa: ANN001
    dialog = StudentPageDialog(ctx, student_id)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.loaded, timeout=15_000):
        dialog.show()
    return dialog


def test_the_page_shows_the_student(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    student = prn_student(ctx)
    dialog = open_page(qtbot, ctx, student.id)
    page = dialog.page
    assert page is not None
    assert dialog.name.text() == f"{student.first_name} {student.last_name}"
    assert student.student_number in dialog.meta.text()
    assert dialog.conditions.text() != "None recorded."
    assert page.contacts and page.contacts[0].phone in dialog.contacts.text()
    assert dialog.orders_model.rowCount() == len(page.orders) > 0
    assert dialog.history_model.rowCount() == len(page.history)
    assert dialog.give_prn_button.isEnabled()
    with Session(ctx.db.engine) as s:
        n_orders = s.scalar(
            select(func.count())
            .select_from(StudentMedication)
            .where(StudentMedication.student_id == student.id)
        )
    assert dialog.orders_model.rowCount() == n_orders


def test_give_prn_needs_a_complaint_then_records_it_and_its_outcome(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    student = prn_student(ctx)
    dialog = open_page(qtbot, ctx, student.id)
    give = dialog.open_give_prn()
    assert isinstance(give, GivePrnDialog)
    if len(give.orders) > 1:  # several as-needed orders: none is chosen for her
        assert give.order.currentIndex() == -1
        qtbot.mouseClick(give.give_button, Qt.MouseButton.LeftButton)
        assert "choose" in give.banner.text.lower()
        assert give.select_order(give.orders[0].id)
    qtbot.mouseClick(give.give_button, Qt.MouseButton.LeftButton)
    assert "complaint" in give.banner.text.lower()
    assert give.isVisible()
    give.complaint.setText("wheezing after recess")
    with qtbot.waitSignal(dialog.loaded, timeout=15_000):
        qtbot.mouseClick(give.give_button, Qt.MouseButton.LeftButton)
    assert dialog.page is not None
    complaints = [d.complaint for d in dialog.page.today]
    assert "wheezing after recess" in complaints
    assert dialog.outcome_button.isEnabled()

    outcome = dialog.open_outcome()
    assert isinstance(outcome, PrnOutcomeDialog)
    outcome.outcome.setCurrentIndex(outcome.outcome.findData("RESOLVED"))
    outcome.note.setText("back to class")
    with qtbot.waitSignal(dialog.loaded, timeout=15_000):
        qtbot.mouseClick(outcome.save_button, Qt.MouseButton.LeftButton)
    assert dialog.page is not None and dialog.page.awaiting_outcome == ()
    with Session(ctx.db.engine) as s:
        log = s.scalars(
            select(MedicationLog).where(MedicationLog.complaint == "wheezing after recess")
        ).one()
        row = s.scalars(select(PrnOutcome).where(PrnOutcome.medication_log_id == log.id)).one()
        assert (row.outcome, row.note, row.recorded_by_id) == (
            "RESOLVED",
            "back to class",
            ctx.user_id,
        )
    texts = [
        dialog.today_model.data(dialog.today_model.index(r, 5))
        for r in range(dialog.today_model.rowCount())
    ]
    assert "Resolved — back to class: back to class" in texts


def test_a_dose_row_menu_opens_the_page(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    lunchtime_on_a_school_day(ctx)
    pane = make_pane(qtbot, ctx)
    model = pane.model
    item = None
    for s in range(model.rowCount()):
        section = model.index(s, 0)
        if model.rowCount(section):
            from medapp.ui.models.reminders_model import ItemRole

            item = model.index(0, 0, section).data(ItemRole)
            break
    assert item is not None
    item = first_item(pane, item.rx.student_name)
    menu = pane.menu_for(item)
    action = next(a for a in menu.actions() if a.objectName() == "menuStudentPage")
    action.trigger()
    dialog = pane.findChild(StudentPageDialog)
    assert dialog is not None and dialog.student_id == item.rx.student_id
    qtbot.waitUntil(lambda: dialog.page is not None, timeout=15_000)
    dialog.close()


def test_search_finds_students_and_a_scanned_id_opens_the_page(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    student = prn_student(ctx)
    pane = SearchPane(ctx)
    qtbot.addWidget(pane)
    pane.show()
    qtbot.keyClicks(pane.search_box, student.last_name)
    qtbot.waitUntil(lambda: bool(pane.student_matches.hits), timeout=15_000)
    assert student.id in {h.id for h in pane.student_matches.hits}
    assert pane.student_matches.isVisible()

    # a barcode scanner types the number and Enter into the focused search box
    pane.search_box.clear()
    qtbot.keyClicks(pane.search_box, student.student_number)
    qtbot.keyClick(pane.search_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: pane.findChild(StudentPageDialog) is not None, timeout=15_000)
    dialog = pane.findChild(StudentPageDialog)
    assert dialog is not None and dialog.student_id == student.id
    qtbot.waitUntil(lambda: dialog.page is not None, timeout=15_000)
    dialog.close()


def test_give_prn_from_the_formulary_details(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    with Session(ctx.db.engine) as s:
        rx = s.scalars(
            select(StudentMedication)
            .join(Student, Student.id == StudentMedication.student_id)
            .where(
                Student.school_id == ctx.school_id,
                StudentMedication.is_prn,
                StudentMedication.is_active,
            )
        ).first()
        assert rx is not None
        medication_id = rx.medication_id
    pane = SearchPane(ctx)
    qtbot.addWidget(pane)
    pane.show()
    open_give_prn_for_medication(ctx, medication_id, "the medication", pane)
    qtbot.waitUntil(lambda: pane.findChild(GivePrnDialog) is not None, timeout=15_000)
    dialog = pane.findChild(GivePrnDialog)
    assert dialog is not None
    assert rx.id in {o.id for o in dialog.orders}
    assert {o.medication_id for o in dialog.orders} == {medication_id}
    # every choice names its student (orders of several students of the school)
    assert all("·" in dialog.order.itemText(i) for i in range(dialog.order.count()))
    dialog.close()
    # a medication nobody has an as-needed order of: a sentence, no dialog
    with Session(ctx.db.engine) as s:
        other = s.scalars(
            select(Medication.id).where(
                Medication.id.not_in(
                    select(StudentMedication.medication_id).where(StudentMedication.is_prn)
                )
            )
        ).first()
    open_give_prn_for_medication(ctx, other, "Nothingol", pane)
    qtbot.waitUntil(lambda: "Nothingol" in pane.banner.text, timeout=15_000)
