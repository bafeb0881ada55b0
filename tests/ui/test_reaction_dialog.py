"""The adverse reaction dialog on the committed school demo: what is typed becomes one
reaction, one incident report and (when severe) one allergy, and the dialog says so."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from medapp.db.models import AdverseReaction, Allergy, IncidentReport
from medapp.services.doses import DoseCommand, record_dose
from medapp.ui.context import AppContext
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
    assert not dialog.submit_button.isEnabled()  # nothing described yet
    assert not dialog.parent_notified.isChecked() and not dialog.serious_note.isVisible()

    dialog.severity.setCurrentIndex(dialog.severity.findData("SEVERE"))
    assert dialog.parent_notified.isChecked()  # serious: the parent is called
    assert (
        dialog.serious_note.isVisible()
        and "Cetirizine 10 mg to Mariam's allergies" in dialog.serious_note.text()
    )
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
    assert "Allergy to Cetirizine 10 mg added to Mariam's record (unverified)" in text
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


def test_mild_reaction_adds_a_suspected_allergy(qtbot, desk_ctx: AppContext) -> None:  # noqa: ANN001
    ctx = desk_ctx
    rx = find_rx(ctx, "Russell", "Oxybutynin")
    dialog = open_reaction(qtbot, ctx, rx)
    qtbot.keyClicks(dialog.reaction, "Dry mouth, flushed")
    assert dialog.submit_button.isEnabled()
    before = counts(ctx, rx.student_id)
    with qtbot.waitSignal(dialog.submitted, timeout=10_000) as signal:
        qtbot.mouseClick(dialog.submit_button, Qt.MouseButton.LeftButton)
    # issue 9: every reaction records a suspected (unverified) allergy to the ingredients
    assert signal.args[0].allergy_id is not None and signal.args[0].allergy_created
    assert dialog.banner.text.startswith("Report saved.") and "Allergy" in dialog.banner.text
    assert counts(ctx, rx.student_id) == (before[0] + 1, before[1] + 1, before[2] + 1)


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
