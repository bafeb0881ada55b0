"""Reporting an adverse reaction: severity, what happened, what was done; written in one
transaction with its incident report (and, when severe, the allergy that blocks the medication
from then on), then confirmed on screen with what was created."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, QDateTime, Qt, QTime, QTimeZone, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from medapp.db.models import ALLERGY_SEVERITIES
from medapp.services.reactions import (
    SERIOUS,
    ReactionCommand,
    ReactionInputError,
    ReactionResult,
    report_adverse_reaction,
)
from medapp.services.students import ReactionSheet, friendly_error, reaction_sheet
from medapp.ui.context import AppContext
from medapp.ui.dialogs.dose_dialog import (
    desk_now,
    initials_pixmap,
    school_tz,
    set_tone,
    soon,
)
from medapp.ui.widgets import Banner, BusyIndicator
from medapp.ui.workers import run_in_background

SEVERITY_LABELS = {
    "MILD": "Mild",
    "MODERATE": "Moderate",
    "SEVERE": "Severe",
    "LIFE_THREATENING": "Life-threatening",
}
_WALL_CLOCK = QTimeZone.utc()


class ReactionDialog(QDialog):
    #: the ReactionResult once the report is saved
    submitted = Signal(object)
    loaded = Signal(bool)

    def __init__(
        self,
        ctx: AppContext,
        student_id: uuid.UUID,
        medication_id: uuid.UUID,
        prescription_id: uuid.UUID | None = None,
        log_id: uuid.UUID | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.student_id = student_id
        self.medication_id = medication_id
        self.prescription_id = prescription_id
        self.log_id = log_id
        self.command_id = uuid.uuid4()  # once per dialog: a retry never files a second report
        self.sheet: ReactionSheet | None = None
        self.result_: ReactionResult | None = None
        self._tz = school_tz(ctx)
        self._in_flight = False
        self._parent_touched = False
        self.setObjectName("reactionDialog")
        self.setWindowTitle("Report an adverse reaction")
        self.setModal(True)
        self._build()
        self._load()

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        em = self.fontMetrics().height()
        header = QHBoxLayout()
        self.photo = QLabel()
        self.photo.setObjectName("reactionStudentPhoto")
        self.photo.setFixedSize(int(em * 2.6) + 4, int(em * 2.6) + 4)
        self.photo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        header.addWidget(self.photo, 0, Qt.AlignmentFlag.AlignTop)
        who = QVBoxLayout()
        self.student_label = QLabel("Loading…")
        self.student_label.setObjectName("reactionStudent")
        font = self.student_label.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.student_label.setFont(font)
        self.medication_label = QLabel()
        self.medication_label.setObjectName("reactionMedication")
        self.medication_label.setWordWrap(True)
        who.addWidget(self.student_label)
        who.addWidget(self.medication_label)
        header.addLayout(who, 1)
        outer.addLayout(header)

        self.banner = Banner("reactionBanner")
        outer.addWidget(self.banner)
        self.busy = BusyIndicator("Working…", "reactionBusy")
        outer.addWidget(self.busy)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.severity = QComboBox()
        self.severity.setObjectName("reactionSeverity")
        self.severity.setAccessibleName("Severity")
        for value in ALLERGY_SEVERITIES:
            self.severity.addItem(SEVERITY_LABELS.get(value, value.title()), value)
        self.severity.currentIndexChanged.connect(self._severity_changed)
        form.addRow("Severity:", self.severity)

        self.reaction = QLineEdit()
        self.reaction.setObjectName("reactionText")
        self.reaction.setAccessibleName("Reaction")
        self.reaction.setPlaceholderText("What you saw, e.g. hives on both arms, wheezing")
        self.reaction.textChanged.connect(self._update_submit)
        form.addRow("Reaction:", self.reaction)

        self.occurred = QDateTimeEdit()
        self.occurred.setObjectName("reactionTime")
        self.occurred.setAccessibleName("When it started")
        self.occurred.setDisplayFormat("ddd d MMM yyyy  HH:mm")
        self.occurred.setCalendarPopup(True)
        self.occurred.setTimeZone(_WALL_CLOCK)
        local = desk_now(self.ctx).astimezone(self._tz)
        self.occurred.setDateTime(
            QDateTime(
                QDate(local.year, local.month, local.day),
                QTime(local.hour, local.minute),
                _WALL_CLOCK,
            )
        )
        form.addRow("Started at:", self.occurred)

        self.action = QPlainTextEdit()
        self.action.setObjectName("reactionAction")
        self.action.setAccessibleName("Action taken")
        self.action.setTabChangesFocus(True)
        self.action.setPlaceholderText("e.g. gave diphenhydramine per standing order, called 911")
        self.action.setFixedHeight(int(em * 3.6))
        form.addRow("Action taken:", self.action)

        self.notes = QPlainTextEdit()
        self.notes.setObjectName("reactionNotes")
        self.notes.setAccessibleName("Notes")
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(int(em * 3.6))
        form.addRow("Notes:", self.notes)

        self.parent_notified = QCheckBox("Parent/guardian notified")
        self.parent_notified.setObjectName("parentNotified")
        self.parent_notified.clicked.connect(self._parent_clicked)
        form.addRow("", self.parent_notified)
        outer.addLayout(form)

        self.serious_note = QLabel()
        self.serious_note.setObjectName("reactionSeriousNote")
        self.serious_note.setWordWrap(True)
        self.serious_note.hide()
        outer.addWidget(self.serious_note)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("reactionCancel")
        self.cancel_button.clicked.connect(self.reject)
        self.submit_button = QPushButton("Submit report")
        self.submit_button.setObjectName("reactionSubmit")
        self.submit_button.setProperty("primary", True)
        self.submit_button.clicked.connect(self.submit)
        for b in (self.cancel_button, self.submit_button):
            b.setAutoDefault(False)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.submit_button)
        outer.addLayout(buttons)
        self.setMinimumWidth(int(em * 30))
        self._severity_changed()

    # -- loading ---------------------------------------------------------------------------

    def _load(self) -> None:
        desk = self.ctx.desk
        student_id, medication_id = self.student_id, self.medication_id
        self.busy.start()
        run_in_background(
            self,
            lambda: reaction_sheet(desk, student_id, medication_id),
            self._show_sheet,
            self._load_failed,
        )

    def _show_sheet(self, sheet: ReactionSheet) -> None:
        self.busy.reset()
        self.sheet = sheet
        self._tz = ZoneInfo(sheet.school_timezone)
        card = sheet.student
        size = int(self.fontMetrics().height() * 2.6)
        self.photo.setPixmap(initials_pixmap(card, size, self.devicePixelRatioF()))
        self.student_label.setText(
            f"{card.full_name}  ·  {card.grade_label}  ·  no. {card.student_number}"
        )
        self.medication_label.setText(f"Reaction to {sheet.medication.label}")
        self.setWindowTitle(f"Adverse reaction — {card.full_name}")
        self._severity_changed()
        self._update_submit()
        soon(self, lambda: self.loaded.emit(True))

    def _load_failed(self, exc: BaseException) -> None:
        self.busy.reset()
        self.student_label.setText("Not available")
        self.banner.show_message("error", f"Could not open this report: {friendly_error(exc)}")
        self._update_submit()
        soon(self, lambda: self.loaded.emit(False))

    # -- inputs ----------------------------------------------------------------------------

    @Slot()
    def _severity_changed(self, *_args: object) -> None:
        serious = self.severity.currentData() in SERIOUS
        if not self._parent_touched:
            self.parent_notified.setChecked(serious)
        if serious:
            medicine = self.sheet.medication.name if self.sheet else "this medication"
            first = self.sheet.student.first_name if self.sheet else "the student"
            self.serious_note.setText(
                f"A {SEVERITY_LABELS[self.severity.currentData()].lower()} reaction also adds "
                f"{medicine} to {first}'s allergies (unverified), so the dose check warns from "
                "now on. A follow-up is required."
            )
            set_tone(self.serious_note, "error")
            self.serious_note.show()
        else:
            self.serious_note.hide()

    @Slot(bool)
    def _parent_clicked(self, _checked: bool) -> None:
        self._parent_touched = True

    def _update_submit(self) -> None:
        ready = (
            self.sheet is not None
            and not self._in_flight
            and self.result_ is None
            and self.ctx.user_id is not None
            and bool(self.reaction.text().strip())
        )
        self.submit_button.setEnabled(ready)
        if self.ctx.user_id is None:
            self.submit_button.setToolTip("Choose who is at the desk first.")
        elif not self.reaction.text().strip():
            self.submit_button.setToolTip("Describe the reaction.")
        else:
            self.submit_button.setToolTip("")

    def _occurred_at(self) -> dt.datetime:
        value = self.occurred.dateTime()
        d, t = value.date(), value.time()
        naive = dt.datetime(d.year(), d.month(), d.day(), t.hour(), t.minute())
        return naive.replace(tzinfo=self._tz).astimezone(dt.UTC)

    def command(self) -> ReactionCommand:
        assert self.ctx.user_id is not None
        return ReactionCommand(
            id=self.command_id,
            student_id=self.student_id,
            medication_id=self.medication_id,
            reported_by_id=self.ctx.user_id,
            severity=str(self.severity.currentData()),
            reaction=self.reaction.text().strip(),
            occurred_at=self._occurred_at(),
            action_taken=self.action.toPlainText().strip() or None,
            notes=self.notes.toPlainText().strip() or None,
            student_medication_id=self.prescription_id,
            medication_log_id=self.log_id,
            parent_notified=self.parent_notified.isChecked(),
        )

    # -- submitting ------------------------------------------------------------------------

    @Slot()
    def submit(self) -> None:
        if not self.submit_button.isEnabled():
            return
        cmd = self.command()
        self._in_flight = True
        self._update_submit()
        self.banner.clear()
        self.busy.start()
        desk = self.ctx.desk
        run_in_background(
            self,
            lambda: report_adverse_reaction(desk, cmd),
            self._submitted,
            self._failed,
        )

    def _submitted(self, result: ReactionResult) -> None:
        self._in_flight = False
        self.busy.reset()
        self.result_ = result
        self.banner.show_message("success", self.confirmation(result))
        for widget in (self.severity, self.reaction, self.occurred, self.action, self.notes):
            widget.setEnabled(False)
        self.parent_notified.setEnabled(False)
        self.submit_button.hide()
        self.cancel_button.setText("Close")
        self.cancel_button.setFocus()
        soon(self, lambda: self._announce(result))

    def _announce(self, result: ReactionResult) -> None:
        school = str(self.ctx.school_id or (self.sheet.student.school_id if self.sheet else "*"))
        self.ctx.announce_change("incident_reports", school)
        if result.allergy_id is not None:
            self.ctx.announce_change("allergies", school)
        self.submitted.emit(result)

    def confirmation(self, result: ReactionResult) -> str:
        first = self.sheet.student.first_name if self.sheet else "the student"
        medicine = self.sheet.medication.name if self.sheet else "the medication"
        if result.already_reported:
            return "This report was already saved; nothing was filed twice."
        lines = [f"Report saved. Incident report {str(result.incident_report_id)[:8]} created."]
        if result.allergy_created:
            lines.append(
                f"Allergy to {medicine} added to {first}'s record (unverified): the dose check "
                "warns from now on."
            )
        elif result.allergy_id is not None:
            lines.append(
                f"{first}'s allergy to {medicine} was already on file; the report is linked to it."
            )
        return " ".join(lines)

    def _failed(self, exc: BaseException) -> None:
        self._in_flight = False
        self.busy.reset()
        if isinstance(exc, ReactionInputError):
            self.banner.show_message("error", f"Not saved: {exc}")
        else:
            self.banner.show_message("error", f"Not saved: {friendly_error(exc)}")
        self._update_submit()

    def reject(self) -> None:
        if self._in_flight:
            self.banner.show_message("info", "Saving… the dialog closes when the server answers.")
            return
        super().reject()
