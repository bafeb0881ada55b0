"""The adverse reaction dialog on the committed school demo (rule 7): a reaction of any student
to any medication — one of her orders, the office stock, or one the parent gave (found in the
formulary) — becomes one reaction, one incident report and one *suspected* allergy/intolerance
to the product's active ingredients, and the dialog says so; the next dose of any product with
that ingredient warns."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from medapp.db.models import AdverseReaction, Allergy, IncidentReport
from medapp.runtime.context import AppContext
from medapp.services.doses import DoseCommand, record_dose
from medapp.ui.dialogs.reaction_dialog import ReactionDialog
from tests.ui.test_dose_dialog import find_rx, lunchtime_on_a_school_day, open_dialog, scheduled


def open_reaction(qtbot, ctx: AppContext, rx, log_id=None) -> ReactionDialog:  # noqa: ANN001
    dialog = ReactionDialog(
        ctx, rx.student_id, rx.medication_id, prescription_id=rx.id, log_id=log_id
    )
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.sheet is not None, timeout=10_000)
    return dialog


def counts(ctx: AppContext, student_id: uuid.UUID) -> tuple[int, int, int]:
    with Session(ctx.db.engine) as s:
        return (
            s.scalar(select(func.count()).where(AdverseReaction.student_id == student_id)),
            s.scalar(select(func.count()).where(IncidentReport.student_id == student_id)),
            s.scalar(
                select(func.count()).where(Allergy.student_id == student_id, Allergy.is_active)
            ),
        )


def test_severe_reaction_files_incident_and_allergy_once(qtbot, desk_ctx: AppContext) -> None:  # noqa: ANN001
    ctx = desk_ctx  # the real clock: a report cannot be in the future
    rx = find_rx(ctx, "Lin", "Cetirizine")
    dialog = open_reaction(qtbot, ctx, rx)
    assert dialog.student_label.text().startswith("Mariam Lin")
    assert dialog.medication_label.text().startswith("Reaction to Cetirizine 10 mg")
    assert "ordered for the student" in dialog.medication_label.text()
    assert not dialog.submit_button.isEnabled()  # nothing described yet
    assert not dialog.parent_notified.isChecked()
    # Said before saving: every reaction records a suspected allergy to the ingredients.
    assert dialog.allergy_note.isVisible() and "suspected mild" in dialog.allergy_note.text()

    dialog.severity.setCurrentIndex(dialog.severity.findData("SEVERE"))
    assert dialog.parent_notified.isChecked()  # serious: the parent is called
    note = dialog.allergy_note.text()
    assert "suspected severe allergy/intolerance to cetirizine" in note.lower()
    assert "Mariam's record" in note
    qtbot.keyClicks(dialog.reaction, "Hives on both arms, lip swelling")
    qtbot.keyClicks(dialog.action, "Diphenhydramine per standing order; 911 not needed")
    before = counts(ctx, rx.student_id)
    results: list[object] = []
    dialog.submitted.connect(results.append)
    qtbot.mouseClick(dialog.submit_button, Qt.MouseButton.LeftButton)
    dialog.submit()  # a second press while saving does nothing
    qtbot.waitUntil(lambda: len(results) == 1, timeout=10_000)

    result = results[0]
    assert result.allergy_created and result.allergy_id is not None
    text = dialog.banner.text
    assert text.startswith(
        f"Report saved. Incident report {str(result.incident_report_id)[:8]} created."
    )
    assert "recorded as suspected for Mariam" in text and "cetirizine" in text.lower()
    assert dialog.cancel_button.text() == "Close" and not dialog.submit_button.isVisible()
    assert counts(ctx, rx.student_id) == (before[0] + 1, before[1] + 1, before[2] + 1)
    with Session(ctx.db.engine) as s:
        saved = s.get(AdverseReaction, dialog.command_id)
        assert saved is not None and saved.severity == "SEVERE"
        assert (saved.student_medication_id, saved.reaction) == (
            rx.id,
            "Hives on both arms, lip swelling",
        )
        incident = s.get(IncidentReport, saved.incident_report_id)
        assert incident.parent_notified and incident.actions_taken.startswith("Diphenhydramine")
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()


def test_a_mild_reaction_also_records_a_suspected_allergy(qtbot, desk_ctx: AppContext) -> None:  # noqa: ANN001
    ctx = desk_ctx
    rx = find_rx(ctx, "Russell", "Oxybutynin")
    dialog = open_reaction(qtbot, ctx, rx)
    qtbot.keyClicks(dialog.reaction, "Dry mouth, flushed")
    assert dialog.submit_button.isEnabled()
    before = counts(ctx, rx.student_id)
    qtbot.mouseClick(dialog.submit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: dialog.result_ is not None or "Not" in dialog.banner.text, timeout=10_000
    )
    assert dialog.result_ is not None, dialog.banner.text
    result = dialog.result_
    assert result.allergy_id is not None
    assert dialog.banner.text.startswith("Report saved.")
    assert "recorded as suspected" in dialog.banner.text
    assert counts(ctx, rx.student_id) == (before[0] + 1, before[1] + 1, before[2] + 1)
    with Session(ctx.db.engine) as s:
        allergy = s.get(Allergy, result.allergy_id)
        assert (allergy.severity, allergy.verified) == ("MILD", False)
        assert "oxybutynin" in allergy.allergen.lower()


def test_a_report_in_the_future_is_refused_in_words(qtbot, desk_ctx: AppContext) -> None:  # noqa: ANN001
    ctx = desk_ctx
    rx = find_rx(ctx, "Moore", "Guanfacine")
    dialog = open_reaction(qtbot, ctx, rx)
    before = counts(ctx, rx.student_id)
    dialog.occurred.setDateTime(dialog.occurred.dateTime().addSecs(3 * 3600))
    qtbot.keyClicks(dialog.reaction, "Dizzy")
    qtbot.mouseClick(dialog.submit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.banner.text.startswith("Not saved"), timeout=10_000)
    assert "cannot be in the future" in dialog.banner.text
    assert dialog.submit_button.isEnabled() and counts(ctx, rx.student_id) == before


@pytest.fixture
def lunch_ctx(desk_ctx: AppContext) -> AppContext:
    lunchtime_on_a_school_day(desk_ctx)
    return desk_ctx


def test_opened_from_the_dose_dialog_with_todays_dose(qtbot, lunch_ctx: AppContext) -> None:  # noqa: ANN001
    ctx = lunch_ctx
    rx = find_rx(ctx, "Eze", "Ritalin")
    due = scheduled(ctx, rx)
    log_id = uuid.uuid4()
    record_dose(
        ctx.desk,
        DoseCommand(
            log_id, rx.id, ctx.user_id, "GIVEN", due + dt.timedelta(minutes=3), scheduled_for=due
        ),
    )
    dose = open_dialog(qtbot, ctx, rx, due)
    qtbot.mouseClick(dose.reaction_button, Qt.MouseButton.LeftButton)
    reaction = dose.reaction_dialog
    qtbot.waitUntil(lambda: reaction.sheet is not None, timeout=10_000)
    assert (reaction.student_id, reaction.medication_id) == (rx.student_id, rx.medication_id)
    assert (reaction.prescription_id, reaction.log_id) == (rx.id, log_id)
    assert reaction.student_label.text().startswith("Linh Eze") and reaction.isVisible()


def test_choices_are_the_students_orders_the_office_stock_and_a_search(
    qtbot, desk_ctx: AppContext
) -> None:  # noqa: ANN001
    ctx = desk_ctx
    rx = find_rx(ctx, "Moore", "Guanfacine")
    dialog = ReactionDialog(ctx, rx.student_id)  # no medication chosen yet
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.sheet is not None, timeout=10_000)
    texts = [dialog.medication_combo.itemText(i) for i in range(dialog.medication_combo.count())]
    assert any(t.startswith("Order: Guanfacine") for t in texts)
    assert any(t.startswith("Office stock: ") for t in texts)
    assert texts[-1].startswith("Another medication (given by the parent")
    assert dialog.medication_id is not None  # the first order is preselected
    dialog.choose_other("ibuprofen")
    assert dialog.search_box.isVisible() and dialog.medication_id is None
    assert not dialog.submit_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.search_model.rowCount() > 0, timeout=10_000)
    assert "found" in dialog.search_status.text()


def test_a_parent_given_medication_records_a_suspected_allergy_and_the_next_dose_warns(
    qtbot, desk_ctx: AppContext
) -> None:  # noqa: ANN001
    """A rash after amoxicillin the parent gave at home: reported from the reminders pane's
    row of another order of the student; the next Augmentin (amoxicillin + clavulanate) warns."""
    from medapp.db.models import Medication, StudentMedication
    from medapp.domain.checks import WarningCode
    from medapp.ui.panes.reminders_pane import RemindersPane
    from tests.ui.test_dose_dialog import Rx

    ctx = desk_ctx
    lunchtime_on_a_school_day(ctx)
    rx = find_rx(ctx, "Delgado", "Ritalin")
    pane = RemindersPane(ctx)
    qtbot.addWidget(pane)
    pane.show()
    qtbot.waitUntil(lambda: pane.reminders is not None, timeout=10_000)
    index = pane.model.index_of(lambda i: i.rx.prescription_id == rx.id)
    assert index.isValid(), [i.rx.student_name for i in pane.model.items()][:5]
    pane.view.setCurrentIndex(index)
    assert pane.reaction_button.isEnabled()  # any dose row: given or not
    ctx.clock = None  # the report is about now (a reaction cannot be in the future)
    qtbot.mouseClick(pane.reaction_button, Qt.MouseButton.LeftButton)
    dialog = pane.reaction_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.sheet is not None, timeout=10_000)

    dialog.choose_other("amoxicillin oral suspension 400")
    qtbot.waitUntil(lambda: dialog.search_model.rowCount() > 0, timeout=10_000)
    hit = next(c for c in dialog.search_model.choices() if c.name.startswith("Amoxicillin Oral"))
    dialog.choose_result(hit.id)
    assert dialog.medication_id == hit.id and dialog.prescription_id is None
    assert "given by the parent" in dialog.medication_label.text()
    dialog.severity.setCurrentIndex(dialog.severity.findData("MODERATE"))
    assert "suspected moderate allergy/intolerance to amoxicillin" in dialog.allergy_note.text()
    qtbot.keyClicks(dialog.reaction, "Rash on the trunk since the morning dose at home")
    with qtbot.waitSignal(dialog.submitted, timeout=10_000) as signal:
        qtbot.mouseClick(dialog.submit_button, Qt.MouseButton.LeftButton)
    result = signal.args[0]
    first = dialog.card.first_name
    text = dialog.banner.text
    assert f"recorded as suspected for {first}" in text and "amoxicillin" in text.lower()
    with Session(ctx.db.engine) as s:
        saved = s.get(AdverseReaction, dialog.command_id)
        assert saved.medication_id == hit.id and saved.student_medication_id is None
        allergy = s.get(Allergy, result.allergy_id)
        assert (allergy.severity, allergy.verified, allergy.is_active) == (
            "MODERATE",
            False,
            True,
        )
        augmentin = s.scalars(
            select(Medication).where(Medication.name.startswith("Augmentin"))
        ).first()
        now = dt.datetime.now(dt.UTC)
        order = StudentMedication(
            student_id=rx.student_id,
            medication_id=augmentin.id,
            dosage="250 mg (5 mL)",
            frequency="at 12:00",
            route="PO",
            start_date=now.date() - dt.timedelta(days=1),
            end_date=now.date() + dt.timedelta(days=30),
            prescribed_by="Dr. Outside",
            administration_times=[dt.time(12, 0)],
            authorization_expires=now.date() + dt.timedelta(days=120),
        )
        s.add(order)
        s.commit()
        next_rx = Rx(order.id, order.student_id, augmentin.id, (dt.time(12, 0),))
    lunchtime_on_a_school_day(ctx)
    dose = open_dialog(qtbot, ctx, next_rx, scheduled(ctx, next_rx))
    assert WarningCode.ALLERGY.value in [w.code.value for w in dose.warning_list.warnings]
    assert "amoxicillin" in dose.allergies.text().lower()
