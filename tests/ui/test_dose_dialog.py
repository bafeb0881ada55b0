"""The dose dialog against the committed school demo: what the nurse sees before pressing
"Record", and what lands in the database after.

The desk clock (``ctx.clock``) stands on the next school day at 12:05, so doses at 11:30–12:30
are due whatever day and hour the tests run.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import pytest
from PySide6.QtCore import QPoint, Qt
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from medapp.db.engine import Database
from medapp.db.mapping import calendar_from_row
from medapp.db.models import (
    Allergy,
    Medication,
    MedicationLog,
    School,
    SchoolClosure,
    Student,
    StudentMedication,
    User,
)
from medapp.domain.checks import WarningCode
from medapp.domain.doses import NotGivenReason
from medapp.runtime.context import AppContext
from medapp.services.desk import Actor, Desk, Role
from medapp.services.doses import DoseCommand, DoseResult, record_dose
from medapp.services.students import stock_lots
from medapp.ui.dialogs.dose_dialog import OFFLINE_MESSAGE, DoseDialog
from medapp.ui.models.reminders_model import tone

# --------------------------------------------------------------------------------------------
# Helpers shared by the GUI tests of this part (imported by the pane and e2e tests)
# --------------------------------------------------------------------------------------------


def lunchtime_on_a_school_day(ctx: AppContext, wall: dt.time = dt.time(12, 5)) -> dt.datetime:
    """Set ``ctx.clock`` to ``wall`` on the first school day from today (the demo's history
    ends yesterday, so nothing of that day is recorded yet); returns that moment (UTC)."""
    with Session(ctx.db.engine) as s:
        school = s.get(School, ctx.school_id)
        assert school is not None
        closures = s.scalars(
            select(SchoolClosure.closed_on).where(SchoolClosure.school_id == school.id)
        ).all()
        calendar = calendar_from_row(school, closures)
    day = dt.date.today()
    while not calendar.is_school_day(day):
        day += dt.timedelta(days=1)
    moment = calendar.at(day, wall).astimezone(dt.UTC)
    ctx.clock = lambda: moment  # type: ignore[attr-defined]
    return moment


def local(ctx: AppContext, moment: dt.datetime) -> dt.datetime:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(ctx.school_timezone))


@dataclass(frozen=True)
class Rx:
    id: uuid.UUID
    student_id: uuid.UUID
    medication_id: uuid.UUID
    times: tuple[dt.time, ...]


def find_rx(ctx: AppContext, last_name: str, medication: str) -> Rx:
    """The active order of the demo student ``last_name`` whose medication name contains
    ``medication``."""
    with Session(ctx.db.engine) as s:
        row = s.execute(
            select(StudentMedication)
            .join(Student, Student.id == StudentMedication.student_id)
            .join(Medication, Medication.id == StudentMedication.medication_id)
            .where(
                Student.last_name == last_name,
                Medication.name.contains(medication),
                StudentMedication.is_active,
            )
        ).scalar_one()
        return Rx(row.id, row.student_id, row.medication_id, tuple(row.administration_times or ()))


def scheduled(ctx: AppContext, rx: Rx, index: int = 0) -> dt.datetime:
    now = local(ctx, ctx.clock())  # type: ignore[attr-defined]
    return dt.datetime.combine(now.date(), rx.times[index], now.tzinfo)


def logs_of(ctx: AppContext, rx_id: uuid.UUID) -> list[MedicationLog]:
    with Session(ctx.db.engine) as s:
        return list(
            s.scalars(
                select(MedicationLog)
                .where(MedicationLog.student_medication_id == rx_id)
                .where(MedicationLog.time_given >= ctx.clock() - dt.timedelta(hours=12))  # type: ignore[attr-defined]
            )
        )


def other_nurse(ctx: AppContext) -> tuple[uuid.UUID, str]:
    with Session(ctx.db.engine) as s:
        user = s.scalars(
            select(User).where(User.role == "NURSE", User.id != ctx.user_id).order_by(User.username)
        ).first()
        assert user is not None
        return user.id, f"{user.first_name} {user.last_name}"


def desk_of(ctx: AppContext, user_id: uuid.UUID | None = None) -> Desk:
    """The desk of a nurse of the desk's school (another PC when ``user_id`` is another
    nurse's), on the same database and clock."""
    user_id = user_id or ctx.user_id
    assert user_id is not None
    schools = frozenset({ctx.school_id}) if ctx.school_id else frozenset()
    return Desk(ctx.db.sessions, Actor(user_id, "", "", "", Role.NURSE, schools), ctx.now)


def record_as(ctx: AppContext, cmd: DoseCommand) -> DoseResult:
    """``record_dose`` on the desk of the command's nurse (``cmd.nurse_id``)."""
    return record_dose(desk_of(ctx, cmd.nurse_id), cmd)


def open_dialog(qtbot, ctx: AppContext, rx: Rx, at: dt.datetime | None) -> DoseDialog:  # noqa: ANN001
    dialog = DoseDialog(ctx, rx.id, at)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.sheet is not None and dialog.preview is not None, timeout=10_000)
    return dialog


def warning_codes(dialog: DoseDialog) -> list[str]:
    return [w.code.value for w in dialog.warning_list.warnings]


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------


@pytest.fixture
def ctx(desk_ctx: AppContext) -> AppContext:
    lunchtime_on_a_school_day(desk_ctx)
    return desk_ctx


def test_five_rights_then_given_from_the_default_lot(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    rx = find_rx(ctx, "O'Connor", "Focalin")
    due = scheduled(ctx, rx)
    dialog = open_dialog(qtbot, ctx, rx, due)

    assert dialog.student_name.text() == "Fatima O'Connor"
    assert "Grade 1" in dialog.student_details.text()
    assert "Student no. S" in dialog.student_details.text()
    assert not dialog.photo.pixmap().isNull() and "FO" in dialog.photo.toolTip()
    assert "Milk" in dialog.allergies.text() and "Peanuts" in dialog.allergies.text()
    assert dialog.allergies.palette().color(dialog.allergies.foregroundRole()) == tone("error")
    assert dialog.medication.text().startswith("Focalin 5 mg")
    assert dialog.controlled.text().startswith("Controlled substance (schedule CII)")
    assert (dialog.dose.text(), dialog.route.text()) == ("5 mg", "PO")
    assert dialog.time_label.text() == f"Scheduled {due.strftime('%H:%M')} today"
    assert dialog.warning_list.warnings == ()  # milk and peanuts are not Focalin
    assert dialog.today_logs.text().startswith("Today: nothing recorded")

    lot = dialog.selected_lot()
    assert lot is not None and lot.usable
    usable = [x for x in dialog.sheet.lots if x.usable]
    assert lot.expiration_date == min(x.expiration_date for x in usable)
    before = lot.quantity
    assert dialog.record_button.isEnabled() and dialog.record_button.text() == "Record: Given"
    with qtbot.waitSignal(dialog.recorded, timeout=10_000) as signal:
        qtbot.mouseClick(dialog.record_button, Qt.MouseButton.LeftButton)
    assert signal.args[0].outcome == "RECORDED"
    qtbot.waitUntil(lambda: not dialog.isVisible())

    [row] = logs_of(ctx, rx.id)
    assert (row.id, row.status, row.nurse_id) == (dialog.command_id, "GIVEN", ctx.user_id)
    assert (row.scheduled_for, row.inventory_id, row.quantity_used) == (due, lot.id, 1)
    after = stock_lots(
        ctx.desk, ctx.school_id, rx.medication_id, student_id=rx.student_id, today=due.date()
    )
    assert next(x.quantity for x in after if x.id == lot.id) == before - 1


def test_allergy_is_red_before_pressing_and_an_override_needs_a_reason(
    qtbot, ctx: AppContext
) -> None:  # noqa: ANN001
    """A student allergic to amoxicillin gets an amoxicillin order (say, from an outside
    prescriber): the dialog warns before anything is pressed; giving needs a written reason."""
    now = ctx.clock()  # type: ignore[attr-defined]
    with Session(ctx.db.engine) as s:
        allergy = s.scalars(
            select(Allergy).where(Allergy.allergen == "Amoxicillin", Allergy.is_active)
        ).first()
        med = s.scalars(select(Medication).where(Medication.name.startswith("Amoxicillin"))).first()
        assert allergy is not None and med is not None
        order = StudentMedication(
            student_id=allergy.student_id,
            medication_id=med.id,
            dosage="250 mg (5 mL)",
            frequency="tid",
            route="PO",
            start_date=now.date() - dt.timedelta(days=1),
            end_date=now.date() + dt.timedelta(days=9),
            prescribed_by="Dr. Outside",
            administration_times=[dt.time(12, 0)],
            authorization_expires=now.date() + dt.timedelta(days=120),
        )
        s.add(order)
        s.commit()
        rx = Rx(order.id, order.student_id, med.id, (dt.time(12, 0),))
    dialog = open_dialog(qtbot, ctx, rx, scheduled(ctx, rx))

    assert warning_codes(dialog) == [WarningCode.ALLERGY.value]
    label = dialog.warning_list.findChild(type(dialog.student_name), "doseWarning")
    assert "Amoxicillin" in label.text() and label.property("severity") == "override"
    assert label.palette().color(label.foregroundRole()) == tone("error")
    assert dialog.override_edit.isVisible()

    qtbot.mouseClick(dialog.record_button, Qt.MouseButton.LeftButton)  # no reason yet
    assert "despite the warning" in dialog.banner.text
    assert logs_of(ctx, rx.id) == []

    qtbot.keyClicks(dialog.override_edit, "Rash was a virus per Dr. Lee (phoned 11:50)")
    with qtbot.waitSignal(dialog.recorded, timeout=10_000):
        qtbot.mouseClick(dialog.record_button, Qt.MouseButton.LeftButton)
    [row] = logs_of(ctx, rx.id)
    assert row.override_reason == "Overrode ALLERGY: Rash was a virus per Dr. Lee (phoned 11:50)"


def test_expired_authorization_blocks_given_but_not_a_refusal(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    rx = find_rx(ctx, "Figueroa", "Proventil")
    dialog = open_dialog(qtbot, ctx, rx, None)
    assert WarningCode.AUTHORIZATION_EXPIRED.value in warning_codes(dialog)
    assert not dialog.record_button.isEnabled()
    assert not dialog.override_edit.isVisible()  # no override lifts an expired authorization

    refused = dialog.outcome_buttons["outcomeRefused"]
    # On the round indicator (a radio button only takes clicks on its indicator and text).
    qtbot.mouseClick(refused, Qt.MouseButton.LeftButton, pos=QPoint(8, refused.height() // 2))
    assert refused.isChecked()
    assert dialog.record_button.isEnabled()
    assert dialog.record_button.text() == "Record: Not given (Refused)"
    assert not dialog.lot_combo.isEnabled()  # nothing comes off the shelf

    dialog.select_outcome(NotGivenReason.OTHER)  # "Other" needs a note
    assert not dialog.record_button.isEnabled()
    qtbot.keyClicks(dialog.notes, "Inhaler left at home; parent bringing it")
    assert dialog.record_button.isEnabled()
    with qtbot.waitSignal(dialog.recorded, timeout=10_000):
        qtbot.mouseClick(dialog.record_button, Qt.MouseButton.LeftButton)
    [row] = logs_of(ctx, rx.id)
    assert (row.status, row.not_given_reason, row.inventory_id) == ("NOT_GIVEN", "OTHER", None)
    assert row.notes == "Inhaler left at home; parent bringing it"


def test_given_on_another_pc_meanwhile_is_refused_with_who_and_when(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    rx = find_rx(ctx, "Simmons", "Methylphenidate")
    due = scheduled(ctx, rx)
    dialog = open_dialog(qtbot, ctx, rx, due)
    assert dialog.record_button.isEnabled() and dialog.warning_list.warnings == ()

    nurse_id, nurse_name = other_nurse(ctx)
    at = due + dt.timedelta(minutes=20)
    record_as(
        ctx,
        DoseCommand(uuid.uuid4(), rx.id, nurse_id, "GIVEN", at, scheduled_for=due),
    )
    qtbot.mouseClick(dialog.record_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Not recorded" in dialog.banner.text, timeout=10_000)
    # Said once, in the "already given" box (with Correct… on that record), not repeated below.
    assert WarningCode.ALREADY_GIVEN in {w.code for w in dialog.preview.warnings}
    assert warning_codes(dialog) == []
    expected = f"Already given at {local(ctx, at).strftime('%H:%M')} by {nurse_name}"
    assert dialog.already_box.isVisible() and expected in dialog.already_text.text()
    assert dialog.isVisible() and not dialog.record_button.isEnabled()
    assert len(logs_of(ctx, rx.id)) == 1


def test_pressing_twice_or_retrying_makes_one_row(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    rx = find_rx(ctx, "Saleh", "Methylphenidate")
    dialog = open_dialog(qtbot, ctx, rx, scheduled(ctx, rx))
    dialog.select_lot(None)  # the student's own supply
    command = dialog.command()
    results: list[object] = []
    dialog.recorded.connect(results.append)
    dialog.record()
    dialog.record()  # a double click: ignored while the first is in flight
    qtbot.waitUntil(lambda: len(results) == 1, timeout=10_000)
    qtbot.wait(200)
    assert results[0].outcome == "RECORDED" and len(results) == 1
    # A retry of the same command (say after a timeout) lands on the same row.
    again = record_as(ctx, command)
    assert again.outcome == "ALREADY_RECORDED"
    assert [row.id for row in logs_of(ctx, rx.id)] == [command.id]


def test_future_time_is_refused_before_pressing(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    rx = find_rx(ctx, "Hoffman", "Methylphenidate")
    dialog = open_dialog(qtbot, ctx, rx, scheduled(ctx, rx))
    dialog.set_time_given(ctx.clock() + dt.timedelta(minutes=40))  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: WarningCode.FUTURE_TIME.value in warning_codes(dialog), timeout=10_000)
    assert not dialog.record_button.isEnabled()
    dialog.set_time_given(ctx.clock())  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: warning_codes(dialog) == [], timeout=10_000)
    assert dialog.record_button.isEnabled()


def test_prn_interval_shows_the_earliest_time_and_offers_an_override(
    qtbot, ctx: AppContext
) -> None:  # noqa: ANN001
    rx = find_rx(ctx, "Jung", "Ventolin")
    earlier = ctx.clock() - dt.timedelta(hours=1)  # type: ignore[attr-defined]
    record_as(
        ctx,
        DoseCommand(uuid.uuid4(), rx.id, ctx.user_id, "GIVEN", earlier),
    )
    dialog = open_dialog(qtbot, ctx, rx, None)
    assert warning_codes(dialog) == [WarningCode.PRN_MIN_INTERVAL.value]
    earliest = local(ctx, earlier + dt.timedelta(hours=4)).strftime("%H:%M")
    assert earliest in dialog.warning_list.texts()[0]
    assert dialog.override_edit.isVisible() and dialog.record_button.isEnabled()
    assert dialog.time_label.text().startswith("As needed")
    hhmm = local(ctx, earlier).strftime("%H:%M")
    assert f"{hhmm} Given by {ctx.user_name}" in dialog.today_logs.text()


def test_offline_dose_is_kept_on_this_pc(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    rx = find_rx(ctx, "Villanueva", "Methylphenidate")
    dialog = open_dialog(qtbot, ctx, rx, scheduled(ctx, rx))
    online = ctx.db
    engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/none")  # nobody listens
    ctx.db = Database(engine, sessionmaker(engine), str(engine.url), embedded=False)
    try:
        with qtbot.waitSignal(dialog.recorded, timeout=15_000) as signal:
            qtbot.mouseClick(dialog.record_button, Qt.MouseButton.LeftButton)
    finally:
        ctx.db = online
        engine.dispose()
    assert signal.args[0].outcome == "QUEUED_OFFLINE"
    assert dialog.banner.text == OFFLINE_MESSAGE
    assert dialog.isVisible() and dialog.cancel_button.text() == "Close"
    assert [record["id"] for record in ctx.outbox.pending()] == [dialog.command_id]
    with Session(ctx.db.engine) as s:
        assert s.scalar(select(func.count()).where(MedicationLog.id == dialog.command_id)) == 0


def test_escape_closes_and_a_failed_load_is_a_message(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    rx = find_rx(ctx, "Lee", "Zenzedi")
    dialog = open_dialog(qtbot, ctx, rx, None)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()

    missing = DoseDialog(ctx, uuid.uuid4())
    qtbot.addWidget(missing)
    missing.show()
    qtbot.waitUntil(lambda: "Could not open this dose" in missing.banner.text, timeout=10_000)
    assert "not in the database" in missing.banner.text
    assert not missing.record_button.isEnabled()


# --------------------------------------------------------------------------------------------
# Rule 8: layout, keyboard, the controlled-substance line
# --------------------------------------------------------------------------------------------


def clipped_labels(dialog: DoseDialog) -> list[str]:
    """Visible labels whose text does not fit the space they were given (a wrapped label needs
    its height-for-width; a one-line label its width)."""
    from PySide6.QtWidgets import QLabel

    bad = []
    for label in dialog.findChildren(QLabel):
        if not label.isVisibleTo(dialog) or not label.text():
            continue
        if label.wordWrap():
            if label.height() < label.heightForWidth(label.width()):
                bad.append(f"{label.objectName() or label.text()[:30]}: height {label.height()}")
        elif label.width() < label.minimumSizeHint().width():
            bad.append(f"{label.objectName() or label.text()[:30]}: width {label.width()}")
    return bad


def make_order_long(ctx: AppContext, rx: Rx) -> None:
    with Session(ctx.db.engine) as s:
        order = s.get(StudentMedication, rx.id)
        assert order is not None
        order.instructions = (
            "Give with a full glass of water and a snack from the lunch box; if the student "
            "feels dizzy or has a headache afterwards, let her rest in the health office and "
            "call the parent before she goes back to class. Do not give after 13:00."
        )
        order.prescribed_by = "Dr. Alexandra Montgomery-Richardson, Pediatric Neurology"
        s.commit()


@pytest.mark.parametrize("size", [(1024, 700), (1280, 800), (1920, 1080)])
def test_no_clipped_text_at_any_size_from_1024x700(qtbot, ctx: AppContext, size) -> None:  # noqa: ANN001
    rx = find_rx(ctx, "Hughes", "Amphetamine")  # a long generic name, and long order text
    make_order_long(ctx, rx)
    dialog = open_dialog(qtbot, ctx, rx, scheduled(ctx, rx))
    dialog.resize(*size)
    qtbot.waitUntil(lambda: dialog.width() == size[0], timeout=5_000)
    qtbot.wait(50)  # the layout settles on the next turns of the loop
    assert clipped_labels(dialog) == []
    for label in dialog.rights_labels:  # the five-rights box: every line wraps, none is cut
        if label.isVisibleTo(dialog):
            assert label.wordWrap() and label.height() >= label.heightForWidth(label.width())
    assert "Do not give after 13:00" in dialog.order.text()
    # Nothing of the body is cut off: it scrolls instead (the button row stays in view).
    assert dialog.record_button.isVisible() and dialog.record_button.geometry().bottom() < size[1]
    body = dialog.body_scroll.widget()
    assert body.height() >= body.minimumSizeHint().height()


def test_controlled_line_is_shown_before_and_after_the_dose_is_given(
    qtbot, ctx: AppContext
) -> None:  # noqa: ANN001
    rx = find_rx(ctx, "Huang", "Focalin")
    due = scheduled(ctx, rx)
    dialog = open_dialog(qtbot, ctx, rx, due)
    assert dialog.controlled.isVisibleTo(dialog)
    assert dialog.controlled.text().startswith("Controlled substance (schedule CII)")
    with qtbot.waitSignal(dialog.recorded, timeout=10_000):
        qtbot.mouseClick(dialog.record_button, Qt.MouseButton.LeftButton)

    again = open_dialog(qtbot, ctx, rx, due)  # the dose is given now: "already given"
    assert again.already_box.isVisibleTo(again)
    assert again.controlled.isVisibleTo(again)
    assert again.controlled.text().startswith("Controlled substance (schedule CII)")
    assert not again.record_button.isEnabled()

    plain = open_dialog(qtbot, ctx, find_rx(ctx, "Lin", "Cetirizine"), None)
    assert plain.controlled.isVisibleTo(plain) and plain.controlled.text().startswith("No")


def test_enter_in_a_single_line_field_records(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    rx = find_rx(ctx, "Mansour", "Methylphenidate")
    dialog = open_dialog(qtbot, ctx, rx, scheduled(ctx, rx))
    dialog.select_lot(None)
    with qtbot.waitSignal(dialog.recorded, timeout=10_000) as signal:
        qtbot.keyClick(dialog.dosage_edit, Qt.Key.Key_Return)
    assert signal.args[0].outcome == "RECORDED"
    assert [row.id for row in logs_of(ctx, rx.id)] == [dialog.command_id]

    other = find_rx(ctx, "Baptiste", "Methylphenidate")
    dialog = open_dialog(qtbot, ctx, other, scheduled(ctx, other))
    dialog.select_outcome(NotGivenReason.ABSENT)
    with qtbot.waitSignal(dialog.recorded, timeout=10_000):
        qtbot.keyClick(dialog.time_edit, Qt.Key.Key_Enter)
    [row] = logs_of(ctx, other.id)
    assert (row.status, row.not_given_reason) == ("NOT_GIVEN", "ABSENT")


def tabs_to_record(dialog: DoseDialog, start) -> int | None:  # noqa: ANN001
    """Tab presses from ``start`` until "Record" has the focus (None: not within 5)."""
    from PySide6.QtTest import QTest

    start.setFocus(Qt.FocusReason.OtherFocusReason)
    assert dialog.focusWidget() is start
    for presses in range(1, 6):
        QTest.keyClick(dialog.focusWidget(), Qt.Key.Key_Tab)
        if dialog.focusWidget() is dialog.record_button:
            return presses
    return None


def test_record_is_within_three_tabs_of_the_status_choice(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    rx = find_rx(ctx, "Kumar", "Amphetamine")
    dialog = open_dialog(qtbot, ctx, rx, scheduled(ctx, rx))
    given = dialog.outcome_buttons["outcomeGiven"]
    assert (n := tabs_to_record(dialog, given)) is not None and n <= 3
    dialog.select_outcome(NotGivenReason.REFUSED)
    refused = dialog.outcome_buttons["outcomeRefused"]
    assert (n := tabs_to_record(dialog, refused)) is not None and n <= 3
    dialog.select_outcome(None)
    dialog._reveal_override()  # an override reason sits between the choice and the button
    assert (n := tabs_to_record(dialog, given)) is not None and n <= 3
    # Shift+Tab from Record goes back to the choice side (nothing traps the focus).
    from PySide6.QtTest import QTest

    QTest.keyClick(dialog.record_button, Qt.Key.Key_Backtab)
    assert dialog.focusWidget() is dialog.override_edit


def test_override_reason_must_be_a_sentence_before_recording(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    rx = find_rx(ctx, "Reynolds", "Ventolin")
    earlier = ctx.clock() - dt.timedelta(hours=1)  # type: ignore[attr-defined]
    record_as(
        ctx,
        DoseCommand(uuid.uuid4(), rx.id, ctx.user_id, "GIVEN", earlier),
    )
    dialog = open_dialog(qtbot, ctx, rx, None)
    assert dialog.override_edit.isVisible() and dialog.override_hint.isVisible()
    assert "at least 10 characters" in dialog.override_hint.text()
    qtbot.keyClicks(dialog.override_edit, "ok dr")
    assert "5 more needed" in dialog.override_hint.text()
    qtbot.keyClick(dialog.override_edit, Qt.Key.Key_Return)
    assert "at least 10 characters" in dialog.banner.text
    assert len(logs_of(ctx, rx.id)) == 1  # only the earlier dose
    qtbot.keyClicks(dialog.override_edit, " Patel agreed: asthma flare at recess")
    with qtbot.waitSignal(dialog.recorded, timeout=10_000):
        qtbot.keyClick(dialog.override_edit, Qt.Key.Key_Return)
    assert len(logs_of(ctx, rx.id)) == 2


def test_order_and_product_that_disagree_show_a_warning_line(qtbot, ctx: AppContext) -> None:  # noqa: ANN001
    rx = find_rx(ctx, "Kumar", "Amphetamine")  # Amphetamine Salts 10 mg
    with Session(ctx.db.engine) as s:
        order = s.get(StudentMedication, rx.id)
        assert order is not None
        order.dosage = "25 mg"
        s.commit()
    dialog = open_dialog(qtbot, ctx, rx, scheduled(ctx, rx))
    assert dialog.dose_conflict_row.isVisibleTo(dialog)
    text = dialog.dose_conflict.text()
    assert "25 mg" in text and "10 mg" in text and "prescriber" in text
    assert dialog.dose_conflict.palette().color(dialog.dose_conflict.foregroundRole()) == tone(
        "warning"
    )
    plain = open_dialog(qtbot, ctx, find_rx(ctx, "Lin", "Cetirizine"), None)
    assert not plain.dose_conflict_row.isVisibleTo(plain)
