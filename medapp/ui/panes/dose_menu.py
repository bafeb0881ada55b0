"""The context menu of a dose row — the same on the Reminders and Schedule panes: record, correct,
report a reaction, the student's page, and (for lead nurses and auditors) the order's and the
student's history."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from PySide6.QtWidgets import QMenu, QWidget

from medapp.runtime.context import AppContext
from medapp.ui.dialogs.history_dialog import add_history_actions
from medapp.ui.panes.student_page import open_student_page


def dose_row_menu(
    parent: QWidget,
    ctx: AppContext,
    *,
    object_name: str,
    record: Callable[[], object],
    correct: Callable[[], object] | None,
    report_reaction: Callable[[], object],
    prescription_id: uuid.UUID,
    student_id: uuid.UUID,
    student_name: str,
    medication_name: str,
) -> QMenu:
    """``correct`` None: the row has no record to correct (the action is shown, disabled)."""
    menu = QMenu(parent)
    menu.setObjectName(object_name)
    record_action = menu.addAction("Record dose…")
    record_action.setObjectName("menuRecordDose")
    record_action.triggered.connect(lambda: record())
    correct_action = menu.addAction("Correct…")
    correct_action.setObjectName("menuCorrect")
    correct_action.setEnabled(correct is not None)
    if correct is not None:
        correct_action.triggered.connect(lambda: correct())
    reaction = menu.addAction("Report reaction…")
    reaction.setObjectName("menuReaction")
    reaction.triggered.connect(lambda: report_reaction())
    page = menu.addAction("Student page…")
    page.setObjectName("menuStudentPage")
    page.triggered.connect(lambda: open_student_page(ctx, student_id, parent))
    add_history_actions(
        menu,
        ctx,
        parent,
        prescription_id=prescription_id,
        student_id=student_id,
        student_name=student_name,
        medication_name=medication_name,
    )
    return menu
