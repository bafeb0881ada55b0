"""The reminders pane on the committed school demo, the desk clock at 12:05 on a school day:
morning doses are missed, the lunchtime ones due; a click records one; a dose logged on another
PC (a real NOTIFY) and the passing minutes move rows between sections."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from PySide6.QtCore import QModelIndex, Qt
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from medapp.db.engine import Database
from medapp.db.repositories.reminders import ReminderItem
from medapp.domain.doses import DoseStatus
from medapp.runtime.context import AppContext
from medapp.services.doses import DoseCommand
from medapp.ui.dialogs.dose_dialog import DoseDialog
from medapp.ui.models.reminders_model import (
    COL_NOTE,
    COL_STATUS,
    COL_STUDENT,
    COL_TIME,
    ItemRole,
    RemindersModel,
)
from medapp.ui.panes.reminders_pane import REFRESH_MS, RemindersPane
from tests.ui.test_dose_dialog import (
    find_rx,
    local,
    lunchtime_on_a_school_day,
    other_nurse,
    record_as,
)


@pytest.fixture
def ctx(desk_ctx: AppContext) -> AppContext:
    lunchtime_on_a_school_day(desk_ctx)
    return desk_ctx


def make_pane(qtbot, ctx: AppContext) -> RemindersPane:  # noqa: ANN001
    pane = RemindersPane(ctx)
    qtbot.addWidget(pane)
    pane.resize(1200, 700)
    # Wait for the first load's "refreshed" itself (emitted a turn after the list is filled):
    # a test that then waits for the *next* refresh must not catch this one.
    with qtbot.waitSignal(pane.refreshed, timeout=10_000):
        pane.show()
    assert pane.reminders is not None
    return pane


def shown(model: RemindersModel) -> dict[str, list[tuple[str, str, str, str]]]:
    """What is on screen: section title → (time, student, status, note) of each row."""
    out: dict[str, list[tuple[str, str, str, str]]] = {}
    for s in range(model.rowCount()):
        section = model.index(s, 0)
        rows = []
        for r in range(model.rowCount(section)):
            cells = [
                model.index(r, c, section).data()
                for c in (COL_TIME, COL_STUDENT, COL_STATUS, COL_NOTE)
            ]
            rows.append(tuple(cells))
        out[section.data().rsplit(" (", 1)[0]] = rows
    return out


def row_index(pane: RemindersPane, student: str, time: str) -> QModelIndex:
    index = pane.model.index_of(
        lambda i: (
            i.rx.student_name == student
            and local(pane.ctx, i.scheduled_for).strftime("%H:%M") == time
        )
    )
    assert index.isValid(), f"no row for {student} at {time}"
    return index


def statuses_of(pane: RemindersPane, student: str) -> list[str]:
    return [i.status.value for i in pane.model.items() if i.rx.student_name == student]


def test_sections_counts_and_attention_strip(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    pane = make_pane(qtbot, ctx)
    screen = shown(pane.model)
    assert list(screen)[:2] == ["Due now", "Missed"]  # nothing given yet today
    assert ("11:30", "Simmons, Daniel", "Due now", "") in screen["Due now"]
    assert ("12:30", "O'Connor, Fatima", "Due now", "") in screen["Due now"]
    assert ("08:15", "Kuznetsov, Sofiya", "Missed", "") in screen["Missed"]
    times = [row[0] for row in screen["Due now"]]
    assert times == sorted(times)  # by time within a section
    assert pane.count_labels["DUE"].text() == f"Due now: {len(screen['Due now'])}"
    assert pane.count_labels["MISSED"].text() == f"Missed: {len(screen['Missed'])}"
    # Colour is never the only cue: every dose row has a status word and a status icon.
    section = pane.model.index(0, 0)
    first = pane.model.index(0, COL_STATUS, section)
    assert first.data() == "Due now" and not first.data(Qt.ItemDataRole.DecorationRole).isNull()
    attention = [pane.attention_list.item(i).text() for i in range(pane.attention_list.count())]
    assert pane.attention.isVisible()
    assert any(
        t.startswith("Figueroa, Isha — Proventil HFA: Authorization expired") for t in attention
    )
    assert pane.attention_title.text() == f"Needs attention ({len(attention)})"


def test_filter_typed_narrows_the_rows(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    pane = make_pane(qtbot, ctx)
    total_due = pane.model.counts["DUE"]
    qtbot.keyClicks(pane.filter_edit, "kuz")
    assert {row[1] for rows in shown(pane.model).values() for row in rows} == {"Kuznetsov, Sofiya"}
    assert pane.count_labels["DUE"].text() == f"Due now: {total_due}"  # counts stay the day's
    pane.filter_edit.clear()
    qtbot.keyClicks(pane.filter_edit, "nobody-like-this")
    assert pane.model.rowCount() == 0 and pane.empty_label.text() == "No dose matches the filter."


def test_click_records_and_the_row_turns_given(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    pane = make_pane(qtbot, ctx)
    index = row_index(pane, "Butler, Kavya", "11:30")
    with qtbot.waitSignal(pane.dialog_opened, timeout=5000) as opened:
        rect = pane.view.visualRect(index)
        qtbot.mouseClick(pane.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    dialog: DoseDialog = opened.args[0]
    assert dialog.scheduled_for == index.data(ItemRole).scheduled_for  # prefilled
    qtbot.waitUntil(lambda: dialog.sheet is not None and dialog.preview is not None, timeout=10_000)
    assert dialog.student_name.text() == "Kavya Butler"
    with qtbot.waitSignal(pane.refreshed, timeout=10_000):
        qtbot.mouseClick(dialog.record_button, Qt.MouseButton.LeftButton)
    now = local(ctx, ctx.clock()).strftime("%H:%M")  # type: ignore[attr-defined]
    assert ("11:30", "Butler, Kavya", "Given", f"{now} by {ctx.user_name}") in shown(pane.model)[
        "Given"
    ]
    assert pane.count_labels["DONE"].text() == "Given: 1"
    assert pane.dose_dialog is None


def test_enter_opens_the_dose_and_sections_do_not(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    pane = make_pane(qtbot, ctx)
    pane.view.setFocus()
    pane.view.setCurrentIndex(pane.model.index(0, 0))  # the "Due now" heading
    qtbot.keyClick(pane.view, Qt.Key.Key_Return)
    assert pane.dose_dialog is None
    pane.view.setCurrentIndex(row_index(pane, "Delgado, Minjun", "11:30"))
    with qtbot.waitSignal(pane.dialog_opened, timeout=5000) as opened:
        qtbot.keyClick(pane.view, Qt.Key.Key_Return)
    dialog = opened.args[0]
    assert dialog.prescription_id == find_rx(ctx, "Delgado", "Ritalin").id
    qtbot.keyClick(pane.view, Qt.Key.Key_Return)  # a second Enter: still one dialog
    assert pane.dose_dialog is dialog
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: pane.dose_dialog is None)


def test_dose_logged_on_another_pc_arrives_by_notify(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    pane = make_pane(qtbot, ctx)
    ctx.start_listening()
    rx = find_rx(ctx, "Yamamoto", "Methylphenidate")
    nurse_id, nurse_name = other_nurse(ctx)
    due = row_index(pane, "Yamamoto, Logan", "11:30").data(ItemRole).scheduled_for
    qtbot.wait(300)  # the listener's LISTEN is in place
    record_as(  # another PC: its own connection, its own cache
        ctx,
        DoseCommand(
            uuid.uuid4(),
            rx.id,
            nurse_id,
            "GIVEN",
            due + dt.timedelta(minutes=30),
            scheduled_for=due,
        ),
    )
    qtbot.waitUntil(lambda: statuses_of(pane, "Yamamoto, Logan") == ["COMPLETED"], timeout=15_000)
    given = [row for row in shown(pane.model)["Given"] if row[1] == "Yamamoto, Logan"]
    assert given == [("11:30", "Yamamoto, Logan", "Given", f"12:00 by {nurse_name}")]


def test_every_minute_due_doses_become_missed(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    pane = make_pane(qtbot, ctx)
    assert pane._timer.interval() == REFRESH_MS == 60_000 and pane._timer.isActive()
    assert statuses_of(pane, "Mansour, Aleksander") == [DoseStatus.DUE.value]
    later = ctx.clock() + dt.timedelta(minutes=30)  # type: ignore[attr-defined]
    ctx.clock = lambda: later  # type: ignore[attr-defined]
    with qtbot.waitSignal(pane.refreshed, timeout=10_000):
        pane._timer.timeout.emit()  # what the minute timer does
    assert statuses_of(pane, "Mansour, Aleksander") == [DoseStatus.MISSED.value]
    assert pane.updated_label.text() == f"updated {local(ctx, later).strftime('%H:%M')}"
    missed = pane.model.index(pane.model.section_keys().index("MISSED"), 0)
    pane.view.collapse(missed)  # the nurse folds a section away…
    with qtbot.waitSignal(pane.refreshed, timeout=10_000):
        pane._timer.timeout.emit()
    missed = pane.model.index(pane.model.section_keys().index("MISSED"), 0)
    assert not pane.view.isExpanded(missed)  # …and the minute's reload leaves it folded
    assert pane.view.isExpanded(pane.model.index(pane.model.section_keys().index("DUE"), 0))


def test_a_database_that_does_not_answer_is_a_banner_with_retry(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    pane = make_pane(qtbot, ctx)
    rows = len(pane.model.items())
    online = ctx.db
    engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/none")
    ctx.db = Database(engine, sessionmaker(engine), str(engine.url), embedded=False)
    ctx.cache.clear()
    try:
        pane.refresh()
        qtbot.waitUntil(lambda: pane.banner.isVisible(), timeout=10_000)
    finally:
        ctx.db = online
        engine.dispose()
    assert pane.banner.text.startswith("Could not load today's doses: The database did not answer")
    assert "out of date" in pane.banner.text and len(pane.model.items()) == rows
    with qtbot.waitSignal(pane.refreshed, timeout=10_000):
        qtbot.mouseClick(pane.banner.action, Qt.MouseButton.LeftButton)  # "Retry"
    assert not pane.banner.isVisible()


def test_correct_and_report_reaction_follow_the_selected_row(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    """ "Report reaction…" for any dose row (any student, any medication); "Correct…" only on a
    row with a record (nothing to correct on a dose not yet recorded)."""
    pane = make_pane(qtbot, ctx)
    due = pane.model.index_of(lambda i: i.status is DoseStatus.DUE and i.log_id is None)
    assert due.isValid()
    pane.view.setCurrentIndex(due)
    assert pane.reaction_button.isEnabled() and not pane.correct_button.isEnabled()
    menu = pane.menu_for(pane.selected_item())
    actions = {a.objectName(): a for a in menu.actions()}
    assert set(actions) == {"menuRecordDose", "menuCorrect", "menuReaction", "menuStudentPage"}
    assert not actions["menuCorrect"].isEnabled() and actions["menuReaction"].isEnabled()
    actions["menuReaction"].trigger()
    dialog = pane.reaction_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.sheet is not None, timeout=10_000)
    item = pane.selected_item()
    assert (dialog.student_id, dialog.medication_id) == (item.rx.student_id, item.rx.medication_id)
    assert dialog.medication_combo.count() >= 2  # her orders, the stock, "another medication"
    dialog.reject()


class CountedCalls:
    """Counts the pane's calls of the two services that fill it (the real ones still run)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import medapp.ui.panes.reminders_pane as pane_module

        self.days = 0
        self.patches: list[list[uuid.UUID]] = []
        real_day, real_patch = pane_module.school_day, pane_module.patch_school_day

        def school_day(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            self.days += 1
            return real_day(*args, **kwargs)

        def patch_school_day(desk, inputs, log_ids, **kwargs):  # noqa: ANN001, ANN003, ANN202
            self.patches.append(list(log_ids))
            return real_patch(desk, inputs, log_ids, **kwargs)

        monkeypatch.setattr(pane_module, "school_day", school_day)
        monkeypatch.setattr(pane_module, "patch_school_day", patch_school_day)


def due_items(pane: RemindersPane, n: int) -> list[ReminderItem]:
    """``n`` doses due now on different students (the desk database is shared by the tests)."""
    assert pane.reminders is not None
    picked: dict[str, ReminderItem] = {}
    for item in pane.reminders.items:
        if item.status == DoseStatus.DUE and item.rx.student_name not in picked:
            picked[item.rx.student_name] = item
    assert len(picked) >= n
    return list(picked.values())[:n]


def given_elsewhere(ctx: AppContext, item: ReminderItem) -> uuid.UUID:
    """Another PC records ``item``'s dose; returns the new log's id."""
    nurse_id, _ = other_nurse(ctx)
    log_id = uuid.uuid4()
    record_as(
        ctx,
        DoseCommand(
            log_id,
            item.rx.prescription_id,
            nurse_id,
            "GIVEN",
            item.scheduled_for + dt.timedelta(minutes=30),
            scheduled_for=item.scheduled_for,
        ),
    )
    return log_id


def status_of(pane: RemindersPane, item: ReminderItem) -> DoseStatus:
    assert pane.reminders is not None
    (now,) = (
        i.status
        for i in pane.reminders.items
        if i.rx.prescription_id == item.rx.prescription_id and i.scheduled_for == item.scheduled_for
    )
    return now


def test_a_notify_naming_its_log_rows_patches_them_without_reloading_the_day(
    qtbot,  # noqa: ANN001
    ctx: AppContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pane = make_pane(qtbot, ctx)
    calls = CountedCalls(monkeypatch)
    ctx.start_listening()
    qtbot.wait(300)  # the listener's LISTEN is in place
    (item,) = due_items(pane, 1)
    log_id = given_elsewhere(ctx, item)
    qtbot.waitUntil(lambda: status_of(pane, item) == DoseStatus.COMPLETED, timeout=15_000)
    assert calls.patches == [[log_id]]  # one statement by primary key…
    assert calls.days == 0  # …and the school's day was not read again


def test_a_burst_of_named_rows_is_one_patch_and_a_change_without_ids_reloads(
    qtbot,  # noqa: ANN001
    ctx: AppContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pane = make_pane(qtbot, ctx)
    calls = CountedCalls(monkeypatch)
    items = due_items(pane, 2)
    first, second = (given_elsewhere(ctx, item) for item in items)
    school = str(ctx.school_id)
    with qtbot.waitSignal(pane.refreshed, timeout=10_000):
        for log_id in (first, second):  # what the listener emits for two NOTIFYs
            ctx.hub.rows_changed.emit("medication_logs", school, (str(log_id),))
            ctx.hub.data_changed.emit("medication_logs", school)
    assert sorted(map(str, calls.patches[0])) == sorted([str(first), str(second)])
    assert len(calls.patches) == 1 and calls.days == 0
    assert [status_of(pane, item) for item in items] == [DoseStatus.COMPLETED] * 2

    with qtbot.waitSignal(pane.refreshed, timeout=10_000):
        ctx.hub.data_changed.emit("medication_logs", school)  # no ids: this PC, a job, a bulk
    assert calls.days == 1 and len(calls.patches) == 1


def test_a_refill_notice_is_listed_in_needs_attention(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    """A student's own supply with 2 school doses left: "Refill: First L. — …" in the strip;
    Enter on it opens Supplies and letters… with that notice selected (issue 14)."""
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from medapp.services.inventory_admin import NewLot, add_lot
    from medapp.ui.dialogs.supplies_dialog import SuppliesDialog

    with Session(ctx.db.engine) as s:
        med_id, student_id = s.execute(
            text(
                "SELECT sm.medication_id, st.id FROM student_medications sm "
                "JOIN students st ON st.id = sm.student_id "
                "JOIN medications m ON m.id = sm.medication_id "
                "WHERE st.school_id = :s AND st.is_active AND sm.is_active AND NOT sm.is_prn "
                "AND NOT m.is_controlled AND sm.administration_times IS NOT NULL "
                "AND NOT EXISTS (SELECT 1 FROM medication_inventory mi WHERE "
                "mi.student_id = st.id AND mi.medication_id = sm.medication_id) "
                "ORDER BY st.student_number DESC LIMIT 1"
            ),
            {"s": ctx.school_id},
        ).one()
    add_lot(
        ctx.desk,
        NewLot(
            uuid.uuid4(),
            med_id,
            ctx.school_id,
            f"RF{uuid.uuid4().hex[:5]}",
            2,
            ctx.now().date() + dt.timedelta(days=300),
            student_id=student_id,
        ),
    )
    pane = make_pane(qtbot, ctx)
    qtbot.waitUntil(
        lambda: any(n.student_id == student_id for n in pane.supply_notices), timeout=10_000
    )
    notice = next(n for n in pane.supply_notices if n.student_id == student_id)
    texts = [pane.attention_list.item(i).text() for i in range(pane.attention_list.count())]
    assert notice.text in texts and notice.text.startswith("Refill: ")
    assert pane.attention_title.text() == f"Needs attention ({len(texts)})"
    pane.attention_list.setCurrentRow(texts.index(notice.text))
    pane._attention_activated(pane.attention_list.currentItem())
    dialog = pane.findChild(SuppliesDialog)
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.selected_attention() == notice, timeout=10_000)
    dialog.close()
