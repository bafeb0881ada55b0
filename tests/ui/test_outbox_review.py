"""Offline doses the server refused are reachable at the desk: listed, retried after an edit,
or dismissed with a reason (kept on the PC, never lost); the dose dialog limits the text it
takes to what the record holds."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from PySide6.QtCore import Qt

from medapp.cache.outbox import Outbox
from medapp.db.models import MedicationLog
from medapp.runtime.context import AppContext
from medapp.services.doses import DoseCommand
from medapp.ui.dialogs.outbox_review import OutboxReviewDialog
from tests.ui.test_dose_dialog import find_rx, lunchtime_on_a_school_day, open_dialog, scheduled

NOON = dt.datetime(2026, 11, 2, 17, 0, tzinfo=dt.UTC)


def refused(
    outbox: Outbox, dosage: str, reason: str, kind: str, rx: uuid.UUID | None = None
) -> DoseCommand:
    cmd = DoseCommand(
        uuid.uuid4(), rx or uuid.uuid4(), uuid.uuid4(), "GIVEN", NOON, NOON, dosage_given=dosage
    )
    outbox.put(cmd.to_record())
    outbox.reject(cmd.id, reason, kind)
    return cmd


def test_review_lists_retries_after_an_edit_and_dismisses_with_a_reason(
    qtbot,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    outbox = Outbox(tmp_path / "outbox")
    long_one = refused(outbox, "10 mg " * 25, "The dose given is 150 characters long…", "data")
    conflict = refused(outbox, "10 mg", "Already given at 12:05 by Paul Second.", "conflict")
    dialog = OutboxReviewDialog(outbox, "Nora Nurse")
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.model.rowCount() == 2
    assert "Paul Second" in dialog.model.item(1, 4).text()
    assert dialog.dose_edit.maxLength() == MedicationLog.__table__.c.dosage_given.type.length

    dialog.view.selectRow(0)
    dialog.dose_edit.setText("10 mg")
    qtbot.mouseClick(dialog.retry_button, Qt.MouseButton.LeftButton)
    assert [r["id"] for r in outbox.pending()] == [long_one.id]
    assert next(iter(outbox.pending()))["dosage_given"] == "10 mg"
    assert dialog.model.rowCount() == 1

    dialog.view.selectRow(0)
    dialog.reason_edit.setText("dup")
    qtbot.mouseClick(dialog.dismiss_button, Qt.MouseButton.LeftButton)
    assert "10+ characters" in dialog.message.text()
    assert dialog.model.rowCount() == 1  # nothing dismissed without a reason
    dialog.reason_edit.setText("Paul's record of this dose is the right one")
    qtbot.mouseClick(dialog.dismiss_button, Qt.MouseButton.LeftButton)
    assert dialog.model.rowCount() == 0 and dialog.empty_label.isVisibleTo(dialog)
    (kept,) = outbox.dismissed()
    assert (kept["id"], kept["dismissed_by"]) == (conflict.id, "Nora Nurse")


def test_the_desk_menu_opens_the_review_and_the_dose_text_is_limited(
    qtbot,  # noqa: ANN001
    desk_ctx: AppContext,
) -> None:
    from medapp.ui.main_window import MainWindow

    lunchtime_on_a_school_day(desk_ctx)
    rx = find_rx(desk_ctx, "Mansour", "Methylphenidate")
    reason = "Already given at 12:05 by Paul Second."
    refused(desk_ctx.outbox, "10 mg", reason, "conflict", rx.id)
    window = MainWindow(desk_ctx)
    qtbot.addWidget(window)
    window.show()
    window.review_action.trigger()
    review = window.outbox_review
    qtbot.waitUntil(lambda: "Mansour" in review.model.item(0, 1).text(), timeout=10_000)
    assert "Methylphenidate" in review.model.item(0, 1).text()
    assert review.model.rowCount() == 1 and review.isVisible()
    review.close()

    dialog = open_dialog(qtbot, desk_ctx, rx, scheduled(desk_ctx, rx))
    assert dialog.dosage_edit.maxLength() == 100
    qtbot.keyClicks(dialog.dosage_edit, "x" * 120)
    assert len(dialog.dosage_edit.text()) == 100
