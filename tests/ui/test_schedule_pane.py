"""The schedule pane on the committed school demo: the day's orders, a typed filter, the range,
authorization warnings, sorting, and opening the dose dialog from a row."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt

from medapp.runtime.context import AppContext
from medapp.services.students import school_schedule
from medapp.ui.models.schedule_model import (
    COL_AUTH,
    COL_GRADE,
    COL_LOGS,
    COL_MED,
    COL_PRN,
    COL_STUDENT,
    COL_TIMES,
    AuthorizationRole,
    EntryRole,
)
from medapp.ui.panes.schedule_pane import SchedulePane
from tests.ui.test_dose_dialog import find_rx, local, lunchtime_on_a_school_day


@pytest.fixture
def ctx(desk_ctx: AppContext) -> AppContext:
    lunchtime_on_a_school_day(desk_ctx)
    return desk_ctx


def make_pane(qtbot, ctx: AppContext) -> SchedulePane:  # noqa: ANN001
    pane = SchedulePane(ctx)
    qtbot.addWidget(pane)
    pane.resize(1300, 700)
    pane.show()
    qtbot.waitUntil(lambda: pane.view_data is not None, timeout=10_000)
    return pane


def column(pane: SchedulePane, col: int) -> list[str]:
    return [pane.proxy.index(r, col).data() for r in range(pane.proxy.rowCount())]


def row_of(pane: SchedulePane, student: str, medication: str) -> int:
    for r in range(pane.proxy.rowCount()):
        if (
            pane.proxy.index(r, COL_STUDENT).data() == student
            and medication in pane.proxy.index(r, COL_MED).data()
        ):
            return r
    raise AssertionError(f"no row for {student} / {medication}")


def type_filter(qtbot, pane: SchedulePane, text: str) -> None:  # noqa: ANN001
    generation = pane._latest.generation
    pane.search_edit.clear()
    qtbot.keyClicks(pane.search_edit, text)
    # the pause after typing starts one load; its answer is the one shown
    qtbot.waitUntil(
        lambda: pane._latest.generation > generation and pane.view_data.search == text.strip(),
        timeout=10_000,
    )


def test_the_days_orders_with_times_limits_and_authorization(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    pane = make_pane(qtbot, ctx)
    today = local(ctx, ctx.clock()).date()  # type: ignore[attr-defined]
    expected = school_schedule(ctx.desk, ctx.school_id, today, today, today=today)
    assert pane.proxy.rowCount() == expected.total > 50
    assert pane.count_label.text().startswith(f"{expected.total} orders")
    students = column(pane, COL_STUDENT)
    assert students == sorted(students, key=str.casefold)  # by student, as the header says

    r = row_of(pane, "Simmons, Daniel", "Methylphenidate")
    assert pane.proxy.index(r, COL_TIMES).data() == "11:30"
    assert pane.proxy.index(r, COL_PRN).data() == ""
    r = row_of(pane, "Popov, Adriana", "Ibuprofen")
    assert (pane.proxy.index(r, COL_TIMES).data(), pane.proxy.index(r, COL_PRN).data()) == (
        "as needed",
        "≥ 6 h apart, max 2/day",
    )
    r = row_of(pane, "Figueroa, Isha", "Proventil")
    auth = pane.proxy.index(r, COL_AUTH)
    assert (
        auth.data().startswith("Expired ")
        and auth.data(AuthorizationRole) == "AUTHORIZATION_EXPIRED"
    )
    assert not auth.data(Qt.ItemDataRole.DecorationRole).isNull()  # an icon, not colour alone
    r = row_of(pane, "Dimitrov, Dayana", "Creon")
    assert pane.proxy.index(r, COL_AUTH).data().startswith("Expires ")
    r = row_of(pane, "Lin, Ling", "Methylphenidate")
    assert pane.proxy.index(r, COL_AUTH).data(AuthorizationRole) is None


def test_typed_filter_by_name_or_number(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    pane = make_pane(qtbot, ctx)
    all_rows = pane.proxy.rowCount()
    type_filter(qtbot, pane, "kuz")
    medications = sorted(m.split("  (")[0] for m in column(pane, COL_MED))  # minus "(controlled)"
    assert medications == ["Ventolin HFA 90 mcg/actuation", "Vyvanse 30 mg"]
    assert set(column(pane, COL_STUDENT)) == {"Kuznetsov, Sofiya"}
    number = pane.proxy.index(0, 0).data(EntryRole).row.student_number
    type_filter(qtbot, pane, number)
    assert set(column(pane, COL_STUDENT)) == {"Kuznetsov, Sofiya"}
    type_filter(qtbot, pane, "zzz-no-such-student")
    assert pane.proxy.rowCount() == 0 and pane.empty_label.isVisible()
    assert "zzz-no-such-student" in pane.empty_label.text()
    pane.search_edit.clear()
    qtbot.waitUntil(lambda: pane.proxy.rowCount() == all_rows, timeout=10_000)


def test_fast_typing_shows_only_the_last_answer(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    pane = make_pane(qtbot, ctx)
    pane.search_edit.setText("a")
    pane.refresh()  # an answer for "a" is on its way…
    pane.search_edit.setText("Simmons")
    pane.refresh()  # …and one for "Simmons"
    qtbot.waitUntil(lambda: pane.view_data.search == "Simmons", timeout=10_000)
    qtbot.wait(300)  # the "a" answer, whenever it lands, is dropped
    assert set(column(pane, COL_STUDENT)) == {"Simmons, Daniel"}


def test_range_week_and_logged_doses(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    pane = make_pane(qtbot, ctx)
    start = local(ctx, ctx.clock()).date()  # type: ignore[attr-defined]
    pane.date_edit.setDate(pane.date_edit.date().addDays(-7))
    qtbot.waitUntil(lambda: pane.view_data.start == start - dt.timedelta(days=7), timeout=10_000)
    pane.range_combo.setCurrentIndex(pane.range_combo.findText("Week"))
    qtbot.waitUntil(lambda: pane.view_data.end == start - dt.timedelta(days=1), timeout=10_000)
    assert " – " in pane.count_label.text()
    r = row_of(pane, "Simmons, Daniel", "Methylphenidate")
    logged = pane.proxy.index(r, COL_LOGS).data()  # the demo's history: last week's doses
    assert " given · last " in logged
    qtbot.mouseClick(pane.today_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.view_data.start == start, timeout=10_000)
    r = row_of(pane, "Simmons, Daniel", "Methylphenidate")
    assert pane.proxy.index(r, COL_LOGS).data() == "none"  # today: nothing yet


def test_sorting_by_grade_puts_kindergarten_first(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    pane = make_pane(qtbot, ctx)
    pane.table.sortByColumn(COL_GRADE, Qt.SortOrder.AscendingOrder)
    grades = column(pane, COL_GRADE)
    assert grades[0] == "K" and grades[-1] == "8"
    assert [g for g in grades if g != "K"] == sorted((g for g in grades if g != "K"), key=int)


def test_enter_and_double_click_open_the_dose_dialog(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    pane = make_pane(qtbot, ctx)
    r = row_of(pane, "Zhao, Stella", "Glycopyrrolate")
    pane.table.setFocus()
    pane.table.setCurrentIndex(pane.proxy.index(r, COL_STUDENT))
    with qtbot.waitSignal(pane.dialog_opened, timeout=5000) as opened:
        qtbot.keyClick(pane.table, Qt.Key.Key_Return)
    dialog = opened.args[0]
    assert dialog.prescription_id == find_rx(ctx, "Zhao", "Glycopyrrolate").id
    assert dialog.scheduled_for is None  # the rules match the dose to the time given
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=10_000)
    assert dialog.time_label.text() == "Scheduled 11:30 today (matched to the time given)"
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: pane.dose_dialog is None)

    r = row_of(pane, "Lin, Mariam", "Cetirizine")
    pane.table.scrollTo(pane.proxy.index(r, COL_MED))
    rect = pane.table.visualRect(pane.proxy.index(r, COL_MED))
    with qtbot.waitSignal(pane.dialog_opened, timeout=5000) as opened:
        # a real double click: press, release, then the double-click press
        qtbot.mouseClick(pane.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(pane.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened.args[0].prescription_id == find_rx(ctx, "Lin", "Cetirizine").id


def test_a_row_without_records_offers_a_reaction_but_nothing_to_correct(
    qtbot, ctx: AppContext
) -> None:  # noqa: ANN001
    pane = make_pane(qtbot, ctx)
    assert not pane.correct_button.isEnabled() and not pane.reaction_button.isEnabled()
    target = next(
        r
        for r in range(pane.proxy.rowCount())
        if not [
            log for log in pane.proxy.index(r, 0).data(EntryRole).row.logs if not log.superseded
        ]
    )
    pane.table.setCurrentIndex(pane.proxy.index(target, 0))
    assert pane.reaction_button.isEnabled() and not pane.correct_button.isEnabled()
    menu = pane.menu_for(pane.selected_entry())
    assert [a.text() for a in menu.actions()] == [
        "Record dose…",
        "Correct…",
        "Report reaction…",
        "Student page…",
    ]
    assert [a.isEnabled() for a in menu.actions()] == [True, False, True, True]
    qtbot.mouseClick(pane.reaction_button, Qt.MouseButton.LeftButton)
    dialog = pane.reaction_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.sheet is not None, timeout=10_000)
    assert dialog.student_id == pane.selected_entry().row.student_id
    dialog.reject()


def test_an_order_whose_dose_disagrees_with_its_product_is_marked(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    from sqlalchemy.orm import Session

    from medapp.db.models import StudentMedication
    from medapp.ui.models.schedule_model import COL_DOSE

    rx = find_rx(ctx, "Butler", "Ritalin")  # Ritalin 10 mg
    with Session(ctx.db.engine) as s:
        order = s.get(StudentMedication, rx.id)
        assert order is not None
        order.dosage = "25 mg"
        s.commit()
    pane = make_pane(qtbot, ctx)
    row = row_of(pane, "Butler, Kavya", "Ritalin")
    cell = pane.proxy.index(row, COL_DOSE)
    assert cell.data() == "25 mg"
    assert cell.data(Qt.ItemDataRole.DecorationRole) is not None
    assert "prescriber" in cell.data(Qt.ItemDataRole.ToolTipRole)
    other = pane.proxy.index(row_of(pane, "Lin, Mariam", "Cetirizine"), COL_DOSE)
    assert other.data(Qt.ItemDataRole.DecorationRole) is None
