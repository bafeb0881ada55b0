"""Corrections in the app (rule 5) on the committed school demo, the desk clock at 12:05 on a
school day: "Correct…" from the reminders and schedule rows and from the dose dialog's
"already given" refusal; the correction supersedes the original with the nurse's name and a
reason; both stay visible (the original struck through); the dose is due again after
"entered in error" and may be given again."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QFont
from sqlalchemy import select
from sqlalchemy.orm import Session

from medapp.db.models import MedicationLog
from medapp.domain.doses import DoseStatus
from medapp.runtime.context import AppContext
from medapp.services.corrections import CorrectionKind, correct_dose
from medapp.services.desk import Desk
from medapp.services.doses import DoseCommand, record_dose
from medapp.ui.dialogs.correction_dialog import CorrectionDialog
from medapp.ui.models.dose_history_model import COL_DETAILS, COL_RECORD, CurrentRole
from medapp.ui.panes.reminders_pane import RemindersPane
from medapp.ui.panes.schedule_pane import SchedulePane
from tests.ui.test_dose_dialog import (
    Rx,
    desk_of,
    find_rx,
    local,
    logs_of,
    lunchtime_on_a_school_day,
    open_dialog,
    other_nurse,
    scheduled,
)


@pytest.fixture
def ctx(desk_ctx: AppContext) -> AppContext:
    lunchtime_on_a_school_day(desk_ctx)
    return desk_ctx


def give(ctx: AppContext, rx: Rx, at: dt.datetime, due: dt.datetime, desk: Desk | None = None):  # noqa: ANN201
    desk = desk or ctx.desk
    cmd = DoseCommand(uuid.uuid4(), rx.id, desk.actor.user_id, "GIVEN", at, scheduled_for=due)
    record_dose(desk, cmd)
    return cmd.id


def open_correction(qtbot, ctx: AppContext, rx: Rx, log_id=None) -> CorrectionDialog:  # noqa: ANN001
    dialog = CorrectionDialog(ctx, rx.id, log_id)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.detail is not None, timeout=10_000)
    return dialog


def todays(dialog: CorrectionDialog, since: dt.datetime) -> list[int]:
    """Rows of the history (which holds the order's whole history) from ``since`` on."""
    return [
        r
        for r in range(dialog.model.rowCount())
        if dialog.model.entry_at(r).time_given >= since - dt.timedelta(hours=3)
    ]


def wait_history(qtbot, dialog: CorrectionDialog, rows: int, since: dt.datetime) -> None:  # noqa: ANN001
    qtbot.waitUntil(lambda: len(todays(dialog, since)) == rows, timeout=10_000)


def struck(dialog: CorrectionDialog, row: int) -> bool:
    font = dialog.model.index(row, COL_RECORD).data(Qt.ItemDataRole.FontRole)
    assert isinstance(font, QFont)
    return font.strikeOut()


def reminders(qtbot, ctx: AppContext) -> RemindersPane:  # noqa: ANN001
    pane = RemindersPane(ctx)
    qtbot.addWidget(pane)
    pane.resize(1200, 700)
    pane.show()
    qtbot.waitUntil(lambda: pane.reminders is not None, timeout=10_000)
    return pane


def status_of(pane: RemindersPane, rx: Rx, due: dt.datetime) -> DoseStatus:
    [item] = [
        i for i in pane.model.items() if i.rx.prescription_id == rx.id and i.scheduled_for == due
    ]
    return item.status


def test_entered_in_error_end_to_end_from_the_reminders(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    """Give → "Correct…" on the row → entered in error → both records listed, the original
    struck through → the row is due again → giving it again is allowed."""
    rx = find_rx(ctx, "Butler", "Ritalin")
    due = scheduled(ctx, rx)
    pane = reminders(qtbot, ctx)
    row = pane.model.index_of(lambda i: i.rx.prescription_id == rx.id and i.scheduled_for == due)
    dose = pane.open_dose(pane.model.item_at(row))
    qtbot.waitUntil(lambda: dose.sheet is not None and dose.preview is not None, timeout=10_000)
    with qtbot.waitSignal(dose.recorded, timeout=10_000):
        qtbot.mouseClick(dose.record_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: status_of(pane, rx, due) is DoseStatus.COMPLETED, timeout=10_000)
    [given] = logs_of(ctx, rx.id)

    index = pane.model.index_of(lambda i: i.rx.prescription_id == rx.id and i.scheduled_for == due)
    pane.view.setCurrentIndex(index)
    assert pane.correct_button.isEnabled()
    menu = pane.menu_for(pane.selected_item())
    assert [a.text() for a in menu.actions()] == [
        "Record dose…",
        "Correct…",
        "Report reaction…",
        "Student page…",
    ]
    assert all(a.isEnabled() for a in menu.actions())
    qtbot.mouseClick(pane.correct_button, Qt.MouseButton.LeftButton)
    dialog = pane.correction_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.detail is not None, timeout=10_000)
    assert dialog.selected_entry().log_id == given.id
    assert "Correcting: Given" in dialog.target.text()

    in_error = dialog.kind_buttons[CorrectionKind.ENTERED_IN_ERROR]
    qtbot.mouseClick(in_error, Qt.MouseButton.LeftButton, pos=QPoint(8, in_error.height() // 2))
    assert in_error.isChecked()
    qtbot.keyClicks(dialog.reason_edit, "Recorded for the wrong student; Butler was absent")
    with qtbot.waitSignal(dialog.corrected, timeout=10_000) as signal:
        qtbot.keyClick(dialog.reason_edit, Qt.Key.Key_Return)  # Enter records
    result = signal.args[0]
    assert result.outcome == "CORRECTED" and result.original_log_id == given.id
    assert "entered in error" in dialog.banner.text and "struck through" in dialog.banner.text

    wait_history(qtbot, dialog, 2, due)
    rows = {dialog.model.entry_at(r).log_id: r for r in todays(dialog, due)}
    original, correction = rows[given.id], rows[result.log_id]
    assert struck(dialog, original) and not struck(dialog, correction)
    assert dialog.model.index(original, 0).data(CurrentRole) is False
    details = dialog.model.index(correction, COL_DETAILS).data()
    assert ctx.user_name in details and "Butler was absent" in details
    assert f"Corrected by {ctx.user_name}" in dialog.model.index(original, COL_DETAILS).data()
    dialog.reject()

    # The row is due again, and the dose may be given again.
    qtbot.waitUntil(lambda: status_of(pane, rx, due) is not DoseStatus.COMPLETED, timeout=10_000)
    assert not pane.correct_button.isEnabled() or pane.selected_item().log_id is None
    again = open_dialog(qtbot, ctx, rx, due)
    assert not again.already_box.isVisible() and again.record_button.isEnabled()
    with qtbot.waitSignal(again.recorded, timeout=10_000) as recorded:
        qtbot.mouseClick(again.record_button, Qt.MouseButton.LeftButton)
    assert recorded.args[0].outcome == "RECORDED"
    qtbot.waitUntil(lambda: status_of(pane, rx, due) is DoseStatus.COMPLETED, timeout=10_000)


def test_one_command_per_dialog_and_a_second_press_is_idempotent(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    rx = find_rx(ctx, "Haile", "Ritalin")
    due = scheduled(ctx, rx)
    log_id = give(ctx, rx, due, due)
    dialog = open_correction(qtbot, ctx, rx, log_id)
    dialog.select_kind(CorrectionKind.WRONG_DOSE)
    assert dialog.dose_edit.isVisibleTo(dialog) and not dialog.time_edit.isVisibleTo(dialog)
    dialog.dose_edit.setText("2.5 mg")
    qtbot.keyClicks(dialog.reason_edit, "Half a tablet was given; the order was halved")
    command = dialog.command()
    results: list[object] = []
    dialog.corrected.connect(results.append)
    dialog.record()
    dialog.record()  # a double click: the second press is ignored while the first is in flight
    qtbot.waitUntil(lambda: len(results) == 1, timeout=10_000)
    assert dialog.command().id == command.id == dialog.command_id
    again = correct_dose(ctx.desk, command)  # a retry of the same command
    assert again.outcome == "ALREADY_RECORDED" and again.log_id == results[0].log_id
    with Session(ctx.db.engine) as s:
        rows = s.scalars(
            select(MedicationLog).where(MedicationLog.student_medication_id == rx.id)
        ).all()
        current = [r for r in rows if r.superseded_at is None and r.time_given >= due]
        assert [r.dosage_given for r in current] == ["2.5 mg"]
    assert not dialog.record_button.isEnabled()
    assert dialog.record_button.text() == "Recorded"


def test_already_given_shows_who_and_when_and_offers_correct(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    rx = find_rx(ctx, "Scott", "Adderall")
    due = scheduled(ctx, rx)
    dialog = open_dialog(qtbot, ctx, rx, due)
    assert not dialog.already_box.isVisible()
    nurse_id, nurse_name = other_nurse(ctx)
    at = due + dt.timedelta(minutes=2)
    log_id = give(ctx, rx, at, due, desk_of(ctx, nurse_id))

    qtbot.mouseClick(dialog.record_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.already_box.isVisible(), timeout=10_000)
    text = dialog.already_text.text()
    assert f"Already given at {local(ctx, at).strftime('%H:%M')} by {nurse_name}" in text
    assert "Correct…" in text  # the refusal points to it
    assert dialog.existing_log_id == log_id
    assert dialog.already_correct.isEnabled() and not dialog.record_button.isEnabled()
    assert dialog.controlled.isVisible()  # rule 8: also in the "already given" state

    qtbot.mouseClick(dialog.already_correct, Qt.MouseButton.LeftButton)
    correction = dialog.correction_dialog
    assert correction is not None
    qtbot.waitUntil(lambda: correction.detail is not None, timeout=10_000)
    assert correction.selected_entry().log_id == log_id
    assert nurse_name in correction.target.text()

    # Reopened later, the dialog starts in the "already given" state with "Correct…".
    correction.reject()
    fresh = open_dialog(qtbot, ctx, rx, due)
    assert fresh.already_box.isVisible() and fresh.existing_log_id == log_id
    assert len(logs_of(ctx, rx.id)) == 1


def test_each_kind_shows_its_fields_and_a_wrong_status_is_recorded(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    rx = find_rx(ctx, "Toussaint", "Methylin")
    due = scheduled(ctx, rx)
    log_id = give(ctx, rx, due, due)
    dialog = open_correction(qtbot, ctx, rx, log_id)
    fields = (dialog.time_edit, dialog.dose_edit, dialog.status_combo)
    visible = {}
    for kind in CorrectionKind:
        dialog.select_kind(kind)
        visible[kind] = tuple(w.isVisibleTo(dialog) for w in fields)
    assert visible == {
        CorrectionKind.ENTERED_IN_ERROR: (False, False, False),
        CorrectionKind.WRONG_TIME: (True, False, False),
        CorrectionKind.WRONG_DOSE: (False, True, False),
        CorrectionKind.WRONG_STATUS: (False, False, True),
    }
    dialog.select_kind(CorrectionKind.WRONG_STATUS)
    labels = [dialog.status_combo.itemText(i) for i in range(dialog.status_combo.count())]
    assert "Given" not in labels and "Not given — Refused" in labels  # it was given
    dialog.status_combo.setCurrentIndex(labels.index("Not given — Refused"))
    qtbot.keyClicks(dialog.reason_edit, "The student spat the tablet out; refused it")
    with qtbot.waitSignal(dialog.corrected, timeout=10_000):
        qtbot.mouseClick(dialog.record_button, Qt.MouseButton.LeftButton)
    wait_history(qtbot, dialog, 2, due)
    current = [dialog.model.entry_at(r) for r in todays(dialog, due)]
    current = [e for e in current if e.is_current]
    assert [(e.status, e.not_given_reason) for e in current] == [("NOT_GIVEN", "REFUSED")]


def test_problems_are_sentences_in_the_banner_never_a_traceback(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    lunchtime_on_a_school_day(ctx, dt.time(12, 40))  # its dose is at 12:30
    rx = find_rx(ctx, "Ellis", "Focalin")
    due = scheduled(ctx, rx)
    log_id = give(ctx, rx, due, due)
    dialog = open_correction(qtbot, ctx, rx, log_id)
    qtbot.mouseClick(dialog.record_button, Qt.MouseButton.LeftButton)
    assert dialog.banner.text == "Choose what is wrong with the record."
    dialog.select_kind(CorrectionKind.WRONG_TIME)
    qtbot.keyClicks(dialog.reason_edit, "late")
    assert "6 more needed" in dialog.reason_hint.text()
    qtbot.mouseClick(dialog.record_button, Qt.MouseButton.LeftButton)
    assert "at least 10 characters" in dialog.banner.text
    assert dialog.focusWidget() is dialog.reason_edit

    # Meanwhile another PC corrects the same record: the server refuses in one sentence.
    nurse_id, nurse_name = other_nurse(ctx)
    other = CorrectionDialog(ctx, rx.id, log_id)
    qtbot.addWidget(other)
    other.show()
    qtbot.waitUntil(lambda: other.detail is not None, timeout=10_000)
    other.select_kind(CorrectionKind.ENTERED_IN_ERROR)
    other.reason_edit.setText("Entered twice by mistake on the other PC")
    with qtbot.waitSignal(other.corrected, timeout=10_000):
        other.record()

    dialog.set_time_given(due + dt.timedelta(minutes=25))
    qtbot.keyClicks(dialog.reason_edit, "; it was given at 12:25")
    dialog.record()
    qtbot.waitUntil(lambda: dialog.banner.text.startswith("Not recorded:"), timeout=10_000)
    assert "Traceback" not in dialog.banner.text and len(dialog.banner.text) < 300
    assert dialog.record_button.isEnabled()  # nothing was recorded: the nurse may retry


def test_schedule_row_offers_correct_on_its_newest_record(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    lunchtime_on_a_school_day(ctx, dt.time(12, 40))  # its dose is at 12:30
    rx = find_rx(ctx, "Mensah", "Amphetamine")
    due = scheduled(ctx, rx)
    log_id = give(ctx, rx, due + dt.timedelta(minutes=1), due)
    pane = SchedulePane(ctx)
    qtbot.addWidget(pane)
    pane.resize(1300, 700)
    pane.show()
    qtbot.waitUntil(lambda: pane.view_data is not None, timeout=10_000)
    pane.search_edit.setText("Mensah")
    qtbot.waitUntil(
        lambda: pane.view_data is not None and pane.view_data.search == "Mensah", timeout=10_000
    )
    pane.select_prescription(rx.id)
    assert pane.correct_button.isEnabled() and pane.reaction_button.isEnabled()
    menu = pane.menu_for(pane.selected_entry())
    assert [a.text() for a in menu.actions()] == [
        "Record dose…",
        "Correct…",
        "Report reaction…",
        "Student page…",
    ]
    qtbot.mouseClick(pane.correct_button, Qt.MouseButton.LeftButton)
    dialog = pane.correction_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.detail is not None, timeout=10_000)
    assert dialog.selected_entry().log_id == log_id
    dialog.reject()
    qtbot.waitUntil(lambda: pane.correction_dialog is None, timeout=5_000)


def test_the_dose_dialog_history_opens_the_correction_list(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    lunchtime_on_a_school_day(ctx, dt.time(12, 40))  # its dose is at 12:30
    rx = find_rx(ctx, "Wang", "Amphetamine")
    due = scheduled(ctx, rx)
    log_id = give(ctx, rx, due, due)
    dialog = open_dialog(qtbot, ctx, rx, None)
    assert dialog.history_button.isEnabled()
    qtbot.mouseClick(dialog.history_button, Qt.MouseButton.LeftButton)
    correction = dialog.correction_dialog
    assert correction is not None
    qtbot.waitUntil(lambda: correction.detail is not None, timeout=10_000)
    assert correction.selected_entry().log_id == log_id
    assert todays(correction, due) == [0] and not struck(correction, 0)
