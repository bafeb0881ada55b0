"""The nurse's desk, end to end, on the committed school demo (real PostgreSQL, real NOTIFY,
real worker threads, offscreen Qt), the desk clock at 12:05 on a school day:

search "amox" → a new amoxicillin order's lunchtime dose is DUE on the reminders list → open
it with a click → record GIVEN from an office lot → the row turns COMPLETED and the lot has one
less → a second GIVEN for the same dose, from another PC whose dialog was already open, is
refused with the first nurse's name and time; reopening the dose shows the same in red before
anything is pressed; the schedule shows the dose logged.

The main window does not take an AppContext yet, so the flow runs across the panes and the
formulary search service directly.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from medapp.cache.outbox import Outbox
from medapp.cache.store import Cache
from medapp.db.models import (
    Allergy,
    MedicationInventory,
    MedicationLog,
    Student,
    StudentMedication,
    User,
)
from medapp.domain.checks import WarningCode
from medapp.formulary.search import search_medications
from medapp.services.students import stock_lots
from medapp.ui.context import AppContext
from medapp.ui.dialogs.dose_dialog import DoseDialog
from medapp.ui.models.reminders_model import COL_NOTE, COL_STATUS, COL_STUDENT, COL_TIME, ItemRole
from medapp.ui.models.schedule_model import COL_LOGS, COL_MED
from medapp.ui.panes.reminders_pane import RemindersPane
from medapp.ui.panes.schedule_pane import SchedulePane
from tests.ui.conftest import demo_db, desk_ctx  # noqa: F401 - the GUI fixtures, used below
from tests.ui.test_dose_dialog import local, lunchtime_on_a_school_day


def visible_rows(pane: RemindersPane) -> list[tuple[str, str, str, str]]:
    model, rows = pane.model, []
    for s in range(model.rowCount()):
        section = model.index(s, 0)
        for r in range(model.rowCount(section)):
            rows.append(
                tuple(
                    model.index(r, c, section).data()
                    for c in (COL_TIME, COL_STUDENT, COL_STATUS, COL_NOTE)
                )
            )
    return rows


def test_search_give_due_dose_stock_drops_second_given_refused(
    qtbot,  # noqa: ANN001
    desk_ctx: AppContext,  # noqa: F811 - the fixture imported above
    tmp_path,  # noqa: ANN001
) -> None:
    ctx = desk_ctx
    now = lunchtime_on_a_school_day(ctx)
    today = local(ctx, now).date()
    ctx.start_listening()

    # 1. The nurse searches the formulary for "amox".
    with ctx.db.sessions() as s:
        page = search_medications(s, "amox")
    amoxicillin = next(hit for hit in page.items if hit.name.startswith("Amoxicillin"))
    assert (
        page.total >= 1 and "amoxicillin" in (amoxicillin.generic_name or amoxicillin.name).lower()
    )

    # 2. A new order for it (a student with no allergies on file), and a bottle on the shelf.
    with Session(ctx.db.engine) as s:
        student = s.scalars(
            select(Student)
            .where(Student.school_id == ctx.school_id, Student.is_active)
            .where(~exists().where(Allergy.student_id == Student.id))
            .where(~exists().where(StudentMedication.student_id == Student.id))
            .order_by(Student.last_name, Student.first_name)
        ).first()
        order = StudentMedication(
            student_id=student.id,
            medication_id=amoxicillin.id,
            dosage="250 mg (5 mL)",
            frequency="tid",
            route="PO",
            start_date=today - dt.timedelta(days=1),
            end_date=today + dt.timedelta(days=8),
            prescribed_by="Dr. Amira Haddad",
            administration_times=[dt.time(12, 0)],
            authorization_expires=today + dt.timedelta(days=60),
        )
        lot = MedicationInventory(
            medication_id=amoxicillin.id,
            school_id=ctx.school_id,
            batch_number="E2E-AMX-1",
            quantity=5,
            reorder_level=1,
            expiration_date=today + dt.timedelta(days=200),
        )
        s.add_all([order, lot])
        s.commit()
        name = f"{student.last_name}, {student.first_name}"
        number, rx_id, lot_id = student.student_number, order.id, lot.id
        other = s.scalars(select(User).where(User.role == "NURSE", User.id != ctx.user_id)).first()
    ctx.announce_change("student_medications", str(ctx.school_id))

    # 3. The reminders list: typed "amox" leaves the new order's noon dose, DUE.
    pane = RemindersPane(ctx)
    qtbot.addWidget(pane)
    pane.resize(1200, 700)
    pane.show()
    qtbot.waitUntil(lambda: any(row[1] == name for row in visible_rows(pane)), timeout=15_000)
    qtbot.keyClicks(pane.filter_edit, "amox")
    assert visible_rows(pane) == [("12:00", name, "Due now", "")]

    # Another PC has the same dose open already (a second nurse, her own cache and outbox).
    elsewhere = AppContext(
        db=ctx.db,
        cache=Cache(tmp_path / "pc2-cache"),
        outbox=Outbox(tmp_path / "pc2-outbox"),
        school_id=ctx.school_id,
        school_name=ctx.school_name,
        school_timezone=ctx.school_timezone,
        user_id=other.id,
        user_name=f"{other.first_name} {other.last_name}",
    )
    elsewhere.clock = ctx.clock  # type: ignore[attr-defined]
    due = pane.model.items()[0].scheduled_for
    second = DoseDialog(elsewhere, rx_id, due)
    qtbot.addWidget(second)
    second.show()
    qtbot.waitUntil(lambda: second.preview is not None, timeout=10_000)
    assert second.record_button.isEnabled() and second.warning_list.warnings == ()

    # 4. One click opens the dose, prefilled; the five rights and the office lot are shown.
    index = pane.model.index_of(lambda item: item.rx.prescription_id == rx_id)
    with qtbot.waitSignal(pane.dialog_opened, timeout=5000) as opened:
        rect = pane.view.visualRect(index)
        qtbot.mouseClick(pane.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    dialog: DoseDialog = opened.args[0]
    assert dialog.scheduled_for == index.data(ItemRole).scheduled_for == due
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=10_000)
    assert dialog.student_name.text() == f"{student.first_name} {student.last_name}"
    assert (
        dialog.medication.text().startswith("Amoxicillin") and dialog.dose.text() == "250 mg (5 mL)"
    )
    assert dialog.time_label.text() == "Scheduled 12:00 today"
    assert dialog.selected_lot().id == lot_id and dialog.quantity.value() == 1

    def on_shelf() -> int:
        lots = stock_lots(
            ctx.db.sessions, ctx.school_id, amoxicillin.id, student_id=student.id, today=today
        )
        return next(x.quantity for x in lots if x.id == lot_id)

    before = on_shelf()

    # 5. GIVEN: the row turns COMPLETED with who and when; the lot has one less.
    qtbot.mouseClick(dialog.record_button, Qt.MouseButton.LeftButton)
    given_at = local(ctx, now).strftime("%H:%M")
    qtbot.waitUntil(
        lambda: visible_rows(pane) == [("12:00", name, "Given", f"{given_at} by {ctx.user_name}")],
        timeout=15_000,
    )
    assert [item.status.value for item in pane.model.items()] == ["COMPLETED"]
    assert on_shelf() == before - 1

    # 6. The other PC presses GIVEN for the same dose: refused, naming who gave it and when.
    qtbot.mouseClick(second.record_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: second.banner.text.startswith("Not recorded"), timeout=10_000)
    assert [w.code for w in second.warning_list.warnings] == [WarningCode.ALREADY_GIVEN]
    assert f"Already given at {given_at} by {ctx.user_name}" in second.warning_list.texts()[0]
    assert not second.record_button.isEnabled()
    with Session(ctx.db.engine) as s:
        given = s.scalar(
            select(func.count()).where(
                MedicationLog.student_medication_id == rx_id, MedicationLog.status == "GIVEN"
            )
        )
    assert given == 1 and on_shelf() == before - 1

    # 7. Reopening the completed dose shows the same in red before anything is pressed.
    qtbot.waitUntil(lambda: pane.dose_dialog is None)
    index = pane.model.index_of(lambda item: item.rx.prescription_id == rx_id)
    with qtbot.waitSignal(pane.dialog_opened, timeout=5000) as opened:
        qtbot.mouseClick(
            pane.view.viewport(),
            Qt.MouseButton.LeftButton,
            pos=pane.view.visualRect(index).center(),
        )
    again: DoseDialog = opened.args[0]
    qtbot.waitUntil(lambda: again.preview is not None, timeout=10_000)
    assert f"Already given at {given_at} by {ctx.user_name}" in again.warning_list.texts()[0]
    assert not again.record_button.isEnabled()
    assert f"{given_at} Given (the 12:00 dose) by {ctx.user_name}" in again.today_logs.text()
    qtbot.keyClick(again, Qt.Key.Key_Escape)

    # 8. The schedule (found by the student's number) shows the order with today's dose.
    schedule = SchedulePane(ctx)
    qtbot.addWidget(schedule)
    schedule.show()
    qtbot.waitUntil(lambda: schedule.view_data is not None, timeout=10_000)
    qtbot.keyClicks(schedule.search_edit, number)
    qtbot.waitUntil(lambda: schedule.view_data.search == number, timeout=10_000)
    rows = [
        (schedule.proxy.index(r, COL_MED).data(), schedule.proxy.index(r, COL_LOGS).data())
        for r in range(schedule.proxy.rowCount())
    ]
    [(medication, logged)] = rows  # the student's only order
    assert medication.startswith("Amoxicillin")
    assert logged == f"1 given · last {local(ctx, now).strftime('%b %d %H:%M')} ({ctx.user_name})"
    elsewhere.cache.close()
