"""The nurse's desk, end to end, in the main window on the committed school demo (real
PostgreSQL, real NOTIFY, real worker threads, offscreen Qt), the desk clock at 12:05 on a school
day:

search "amox" (Ctrl+1) → a new amoxicillin order's lunchtime dose is DUE on the reminders list
(Ctrl+3, Ctrl+F filter) → open it with a click → record GIVEN from an office lot → the row
turns COMPLETED and the lot has one less → a second GIVEN for the same dose, from another PC
whose dialog was already open, is refused with the first nurse's name and time; reopening the
dose shows the same in red before anything is pressed; the schedule (Ctrl+2) shows the dose.
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
from medapp.runtime.context import AppContext
from medapp.services.students import stock_lots
from medapp.ui.dialogs.dose_dialog import DoseDialog
from medapp.ui.main_window import MainWindow
from medapp.ui.models.reminders_model import COL_NOTE, COL_STATUS, COL_STUDENT, COL_TIME, ItemRole
from medapp.ui.models.schedule_model import COL_LOGS, COL_MED
from medapp.ui.panes.reminders_pane import RemindersPane
from tests.ui.conftest import (  # noqa: F401 - the GUI fixtures, used below
    _qt_settings_in_tmp,
    demo_db,
    desk_ctx,
)
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


def shortcut(qtbot, window: MainWindow, keys: str) -> None:  # noqa: ANN001
    """Press a window shortcut ("Ctrl+3") the way the nurse does (in the active window)."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    key = getattr(Qt.Key, f"Key_{keys.split('+')[-1]}")
    qtbot.keyClick(window, key, Qt.KeyboardModifier.ControlModifier)


def test_search_give_due_dose_stock_drops_second_given_refused(
    qtbot,  # noqa: ANN001
    desk_ctx: AppContext,  # noqa: F811 - the fixture imported above
    tmp_path,  # noqa: ANN001
) -> None:
    ctx = desk_ctx
    now = lunchtime_on_a_school_day(ctx)
    today = local(ctx, now).date()

    # A new amoxicillin order (a student with no allergies and no orders), a bottle on the shelf.
    with Session(ctx.db.engine) as s:
        student = s.scalars(
            select(Student)
            .where(Student.school_id == ctx.school_id, Student.is_active)
            .where(~exists().where(Allergy.student_id == Student.id))
            .where(~exists().where(StudentMedication.student_id == Student.id))
            .order_by(Student.last_name, Student.first_name)
        ).first()
        other = s.scalars(select(User).where(User.role == "NURSE", User.id != ctx.user_id)).first()
        name = f"{student.last_name}, {student.first_name}"
        number, student_id = student.student_number, student.id

    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(lambda: window.is_ready, timeout=20_000)

    # 1. Ctrl+1, type "amox": the formulary has amoxicillin.
    shortcut(qtbot, window, "Ctrl+1")
    assert window.current_pane() is window.search_pane
    qtbot.keyClicks(window.search_pane.search_box, "amox")
    qtbot.waitUntil(
        lambda: (
            window.search_pane.outcome is not None
            and window.search_pane.outcome.query == "amox"
            and bool(window.search_pane.outcome.hits)
        ),
        timeout=10_000,
    )
    amoxicillin = next(
        hit for hit in window.search_pane.outcome.hits if hit.name.startswith("Amoxicillin")
    )

    with Session(ctx.db.engine) as s:
        order = StudentMedication(
            student_id=student_id,
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
        rx_id, lot_id = order.id, lot.id
    # (the order is written here; the reminders list hears of it through NOTIFY)

    # 2. Ctrl+3, Ctrl+F, "amox": the new order's noon dose is due.
    shortcut(qtbot, window, "Ctrl+3")
    pane = window.reminders_pane
    assert window.current_pane() is pane
    qtbot.waitUntil(lambda: any(row[1] == name for row in visible_rows(pane)), timeout=15_000)
    shortcut(qtbot, window, "Ctrl+F")
    assert pane.filter_edit.hasFocus()
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

    # 3. One click opens the dose, prefilled; the five rights and the office lot are shown.
    index = pane.model.index_of(lambda item: item.rx.prescription_id == rx_id)
    rect = pane.view.visualRect(index)
    qtbot.mouseClick(pane.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: pane.dose_dialog is not None, timeout=5000)
    dialog: DoseDialog = pane.dose_dialog
    assert dialog.scheduled_for == index.data(ItemRole).scheduled_for == due
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=10_000)
    assert dialog.student_name.text() == f"{student.first_name} {student.last_name}"
    assert dialog.medication.text().startswith("Amoxicillin")
    assert dialog.dose.text() == "250 mg (5 mL)" and dialog.route.text() == "PO"
    assert dialog.time_label.text() == "Scheduled 12:00 today"
    assert dialog.selected_lot().id == lot_id and dialog.quantity.value() == 1

    def on_shelf() -> int:
        lots = stock_lots(
            ctx.desk, ctx.school_id, amoxicillin.id, student_id=student_id, today=today
        )
        return next(x.quantity for x in lots if x.id == lot_id)

    before = on_shelf()

    # 4. GIVEN: the row turns COMPLETED with who and when; the lot has one less.
    qtbot.mouseClick(dialog.record_button, Qt.MouseButton.LeftButton)
    given_at = local(ctx, now).strftime("%H:%M")
    done = ("12:00", name, "Given", f"{given_at} by {ctx.user_name}")
    qtbot.waitUntil(lambda: visible_rows(pane) == [done], timeout=15_000)
    assert [item.status.value for item in pane.model.items()] == ["COMPLETED"]
    assert on_shelf() == before - 1

    # 5. The other PC presses GIVEN for the same dose: refused, naming who gave it and when.
    qtbot.mouseClick(second.record_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: second.banner.text.startswith("Not recorded"), timeout=10_000)
    # Said once, in the "already given" box with "Correct…" on that record (issue 9, rule 5).
    assert WarningCode.ALREADY_GIVEN in {w.code for w in second.preview.warnings}
    assert second.already_box.isVisible() and second.already_correct.isEnabled()
    assert f"Already given at {given_at} by {ctx.user_name}" in second.already_text.text()
    assert not second.record_button.isEnabled()
    with Session(ctx.db.engine) as s:
        given = s.scalar(
            select(func.count()).where(
                MedicationLog.student_medication_id == rx_id, MedicationLog.status == "GIVEN"
            )
        )
    assert given == 1 and on_shelf() == before - 1
    qtbot.keyClick(second, Qt.Key.Key_Escape)  # the other nurse closes her dialog
    assert not second.isVisible()

    # 6. Reopening the completed dose shows the same in red before anything is pressed.
    qtbot.waitUntil(lambda: pane.dose_dialog is None)
    index = pane.model.index_of(lambda item: item.rx.prescription_id == rx_id)
    pane.view.setFocus()
    pane.view.setCurrentIndex(index)
    qtbot.keyClick(pane.view, Qt.Key.Key_Return)  # Enter opens too
    qtbot.waitUntil(lambda: pane.dose_dialog is not None, timeout=5000)
    again: DoseDialog = pane.dose_dialog
    qtbot.waitUntil(lambda: again.preview is not None, timeout=10_000)
    qtbot.waitUntil(lambda: again.already_box.isVisible(), timeout=10_000)
    assert f"Already given at {given_at} by {ctx.user_name}" in again.already_text.text()
    assert not again.record_button.isEnabled()
    assert f"{given_at} Given (the 12:00 dose) by {ctx.user_name}" in again.today_logs.text()
    qtbot.keyClick(again, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: pane.dose_dialog is None)

    # 7. Ctrl+2, Ctrl+F, the student's number: the schedule shows the order with today's dose.
    shortcut(qtbot, window, "Ctrl+2")
    schedule = window.schedule_pane
    assert window.current_pane() is schedule
    shortcut(qtbot, window, "Ctrl+F")
    assert schedule.search_edit.hasFocus()
    qtbot.keyClicks(schedule.search_edit, number)
    qtbot.waitUntil(lambda: schedule.view_data.search == number, timeout=10_000)
    rows = [
        (schedule.proxy.index(r, COL_MED).data(), schedule.proxy.index(r, COL_LOGS).data())
        for r in range(schedule.proxy.rowCount())
    ]
    [(medication, logged)] = rows  # the student's only order
    assert medication.startswith("Amoxicillin")
    when = local(ctx, now).strftime("%b %d %H:%M")
    assert logged == f"1 given · last {when} ({ctx.user_name})"
    elsewhere.cache.close()
