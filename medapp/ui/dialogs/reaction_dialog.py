"""Reporting an adverse reaction — for any student, to any medication: one of the student's
orders, a product of the office stock, or any other medication found in the formulary (one the
parent gave at home). Severity, what happened, what was done; written in one transaction with
its incident report and a *suspected* allergy/intolerance to the product's active ingredients
(severity as reported, unverified), so the next order or dose of any product with that
ingredient warns. The dialog says so after saving.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QDate,
    QDateTime,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTime,
    QTimeZone,
    Signal,
    Slot,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from medapp.db.models import ALLERGY_SEVERITIES
from medapp.runtime.context import AppContext
from medapp.services.formulary_cache import SearchOutcome, SnapshotHolder, search_formulary
from medapp.services.reactions import (
    ReactionChoices,
    ReactionCommand,
    ReactionInputError,
    ReactionResult,
    reaction_choices,
    report_adverse_reaction,
)
from medapp.services.students import (
    MedicationBrief,
    StudentCard,
    friendly_error,
    reaction_sheet,
    student_card,
)
from medapp.ui.dialogs.dose_dialog import (
    desk_now,
    initials_pixmap,
    school_tz,
    set_tone,
)
from medapp.ui.widgets import Banner, BusyIndicator
from medapp.ui.workers import Latest, coalescing_timer, run_in_background

SEVERITY_LABELS = {
    "MILD": "Mild",
    "MODERATE": "Moderate",
    "SEVERE": "Severe",
    "LIFE_THREATENING": "Life-threatening",
}
SERIOUS = frozenset({"SEVERE", "LIFE_THREATENING"})
_WALL_CLOCK = QTimeZone.utc()
ORIGIN_LABELS = {
    "order": "Order",
    "stock": "Office stock",
    "other": "Given by the parent / elsewhere",
}
OTHER_CHOICE = "Another medication (given by the parent…): search"
_ROOT = QModelIndex()
ChoiceRole = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True)
class MedicationChoice:
    """One medication the reaction may be reported for, and where it came from."""

    id: uuid.UUID
    name: str
    generic_name: str | None
    label: str
    origin: str  # "order" | "stock" | "other"

    @property
    def ingredients(self) -> str:
        """What the suspected allergy is recorded for: the active ingredients (the generic
        name), else the product name."""
        return self.generic_name or self.name

    @classmethod
    def of(cls, brief: MedicationBrief, origin: str) -> MedicationChoice:
        return cls(brief.id, brief.name, brief.generic_name, brief.label, origin)


class MedicationChoiceModel(QAbstractListModel):
    """A list of :class:`MedicationChoice` (the combo's entries, or the search's results)."""

    def __init__(self, parent: Any = None, *, with_origin: bool = True) -> None:
        super().__init__(parent)
        self._choices: list[MedicationChoice] = []
        self._with_origin = with_origin
        self.trailer: str | None = None  # a last row that is not a medication ("Another …")

    def set_choices(self, choices: list[MedicationChoice], trailer: str | None = None) -> None:
        self.beginResetModel()
        self._choices = list(choices)
        self.trailer = trailer
        self.endResetModel()

    def choices(self) -> list[MedicationChoice]:
        return list(self._choices)

    def choice_at(self, row: int) -> MedicationChoice | None:
        return self._choices[row] if 0 <= row < len(self._choices) else None

    def row_of(self, medication_id: uuid.UUID) -> int:
        return next((i for i, c in enumerate(self._choices) if c.id == medication_id), -1)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._choices) + (1 if self.trailer else 0)

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid():
            return None
        choice = self.choice_at(index.row())
        if choice is None:
            if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
                return self.trailer
            return None
        if role == ChoiceRole:
            return choice
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            if not self._with_origin:
                return choice.label
            return f"{ORIGIN_LABELS[choice.origin]}: {choice.label}"
        if role == Qt.ItemDataRole.ToolTipRole:  # the whole name when the row is elided
            return f"{choice.label}\nActive ingredients: {choice.ingredients}"
        return None


class ReactionDialog(QDialog):
    """``medication_id`` preselects a medication (the dose dialog's order); without it the
    nurse chooses one. ``prescription_id`` / ``log_id`` link the report to that order and dose
    while the preselected medication stays chosen."""

    #: the ReactionResult once the report is saved
    submitted = Signal(object)
    loaded = Signal(bool)

    def __init__(
        self,
        ctx: AppContext,
        student_id: uuid.UUID,
        medication_id: uuid.UUID | None = None,
        prescription_id: uuid.UUID | None = None,
        log_id: uuid.UUID | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.student_id = student_id
        self.initial_medication_id = medication_id
        self.medication_id: uuid.UUID | None = medication_id
        self.choice: MedicationChoice | None = None
        self._initial_prescription_id = prescription_id
        self._initial_log_id = log_id
        self.command_id = uuid.uuid4()  # once per dialog: a retry never files a second report
        self.card: StudentCard | None = None
        self.choices: ReactionChoices | None = None
        self.result_: ReactionResult | None = None
        self._tz = school_tz(ctx)
        self._in_flight = False
        self._parent_touched = False
        self._search_latest = Latest()
        self._snapshot = SnapshotHolder(ctx.cache)
        self._search_timer = coalescing_timer(self, 250, self._search)  # a pause in typing
        self.setObjectName("reactionDialog")
        self.setWindowTitle("Report an adverse reaction")
        self.setModal(True)
        self._build()
        self._load()

    @property
    def sheet(self) -> StudentCard | None:
        """The student once loaded (None while loading or when it failed)."""
        return self.card

    @property
    def prescription_id(self) -> uuid.UUID | None:
        """The order the report is linked to: only while its medication is the one chosen."""
        if self.medication_id is not None and self.medication_id == self.initial_medication_id:
            return self._initial_prescription_id
        return None

    @property
    def log_id(self) -> uuid.UUID | None:
        if self.medication_id is not None and self.medication_id == self.initial_medication_id:
            return self._initial_log_id
        return None

    # -- layout ----------------------------------------------------------------------------

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
        self.student_label.setWordWrap(True)
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
        self.form = form
        self.choice_model = MedicationChoiceModel(self)
        self.medication_combo = QComboBox()
        self.medication_combo.setObjectName("reactionMedicationChoice")
        self.medication_combo.setAccessibleName("Medication the reaction followed")
        self.medication_combo.setModel(self.choice_model)
        self.medication_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.medication_combo.setMinimumContentsLength(30)
        self.medication_combo.currentIndexChanged.connect(self._combo_changed)
        form.addRow("Medication:", self.medication_combo)

        self.search_box = QWidget()
        self.search_box.setObjectName("reactionSearchBox")
        search_layout = QVBoxLayout(self.search_box)
        search_layout.setContentsMargins(0, 0, 0, 0)
        self.search_edit = QLineEdit()
        self.search_edit.setObjectName("reactionMedSearch")
        self.search_edit.setAccessibleName("Search the formulary")
        self.search_edit.setPlaceholderText("Brand or generic name, e.g. amoxicillin")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.textChanged.connect(lambda _t: self._search_timer.start())
        self.search_model = MedicationChoiceModel(self, with_origin=False)
        self.search_results = QListView()
        self.search_results.setObjectName("reactionMedResults")
        self.search_results.setAccessibleName("Medications found")
        self.search_results.setModel(self.search_model)
        self.search_results.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.search_results.setFixedHeight(int(em * 6.5))  # a list: it scrolls its own rows
        self.search_results.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.search_results.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.search_results.setUniformItemSizes(True)
        self.search_results.selectionModel().currentRowChanged.connect(self._result_chosen)
        self.search_status = QLabel()
        self.search_status.setObjectName("reactionSearchStatus")
        self.search_status.setWordWrap(True)
        set_tone(self.search_status, "muted")
        search_layout.addWidget(self.search_edit)
        search_layout.addWidget(self.search_results)
        search_layout.addWidget(self.search_status)
        form.addRow("Find:", self.search_box)
        form.setRowVisible(self.search_box, False)

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

        self.allergy_note = QLabel()
        self.allergy_note.setObjectName("reactionAllergyNote")
        self.allergy_note.setWordWrap(True)
        outer.addWidget(self.allergy_note)
        self.serious_note = self.allergy_note  # the old name (panes and tests)

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
        self.setMinimumWidth(int(em * 42))
        self._severity_changed()

    # -- loading ---------------------------------------------------------------------------

    def _load(self) -> None:
        student_id, wanted = self.student_id, self.medication_id
        try:
            desk = self.ctx.desk
        except Exception as exc:  # noqa: BLE001 - nobody signed in: say so, do not crash
            self._load_failed(exc)
            return
        self.busy.start()

        def op() -> tuple[StudentCard, ReactionChoices, MedicationBrief | None]:
            card = student_card(desk, student_id)
            choices = reaction_choices(desk, student_id)
            known = {m.id for m in (*choices.orders, *choices.stock)}
            extra = None
            if wanted is not None and wanted not in known:
                extra = reaction_sheet(desk, student_id, wanted).medication
            return card, choices, extra

        run_in_background(self, op, lambda found: self._show_loaded(*found), self._load_failed)

    def _show_loaded(
        self, card: StudentCard, choices: ReactionChoices, extra: MedicationBrief | None
    ) -> None:
        self.busy.reset()
        self.card = card
        self.choices = choices
        size = int(self.fontMetrics().height() * 2.6)
        self.photo.setPixmap(initials_pixmap(card, size, self.devicePixelRatioF()))
        self.student_label.setText(
            f"{card.full_name}  ·  {card.grade_label}  ·  no. {card.student_number}"
        )
        self.setWindowTitle(f"Adverse reaction — {card.full_name}")
        entries = [MedicationChoice.of(m, "order") for m in choices.orders]
        seen = {c.id for c in entries}
        entries += [MedicationChoice.of(m, "stock") for m in choices.stock if m.id not in seen]
        if extra is not None:
            entries.append(MedicationChoice.of(extra, "other"))
        self.medication_combo.blockSignals(True)
        self.choice_model.set_choices(entries, OTHER_CHOICE)
        row = self.choice_model.row_of(self.medication_id) if self.medication_id else -1
        self.medication_combo.setCurrentIndex(row if row >= 0 else 0 if entries else -1)
        self.medication_combo.blockSignals(False)
        self._combo_changed(self.medication_combo.currentIndex())
        self.loaded.emit(True)

    def _load_failed(self, exc: BaseException) -> None:
        self.busy.reset()
        self.student_label.setText("Not available")
        self.banner.show_message("error", f"Could not open this report: {friendly_error(exc)}")
        self._update_submit()
        self.loaded.emit(False)

    # -- choosing the medication ---------------------------------------------------------

    @Slot(int)
    def _combo_changed(self, row: int) -> None:
        choice = self.choice_model.choice_at(row)
        other = row >= 0 and choice is None and self.choice_model.trailer is not None
        self.form.setRowVisible(self.search_box, other)
        if other:
            layout = self.layout()
            if layout is not None:
                layout.activate()
            self.resize(self.width(), max(self.height(), self.sizeHint().height()))
            found = self.search_model.choice_at(self.search_results.currentIndex().row())
            self._choose(found)
            self.search_edit.setFocus()
        else:
            self._choose(choice)

    @Slot(QModelIndex, QModelIndex)
    def _result_chosen(self, current: QModelIndex, _previous: QModelIndex) -> None:
        found = self.search_model.choice_at(current.row()) if current.isValid() else None
        if found is not None:
            self._choose(found)

    def _choose(self, choice: MedicationChoice | None) -> None:
        self.choice = choice
        self.medication_id = choice.id if choice else None
        if choice is None:
            self.medication_label.setText("Choose the medication the reaction followed.")
        else:
            where = {
                "order": "ordered for the student",
                "stock": "from the office stock",
                "other": "given by the parent / elsewhere",
            }[choice.origin]
            self.medication_label.setText(f"Reaction to {choice.label} ({where})")
        self._severity_changed()
        self._update_submit()

    def choose_other(self, query: str) -> None:
        """Switch to "another medication" and search for ``query`` (tests, screens)."""
        self.medication_combo.setCurrentIndex(self.choice_model.rowCount() - 1)
        self.search_edit.setText(query)
        self._search_timer.stop()
        self._search()

    def choose_result(self, medication_id: uuid.UUID) -> None:
        row = self.search_model.row_of(medication_id)
        if row < 0:
            raise KeyError(medication_id)
        self.search_results.setCurrentIndex(self.search_model.index(row))

    @Slot()
    def _search(self) -> None:
        query = self.search_edit.text().strip()
        generation = self._search_latest.next()
        if len(query) < 2:
            self.search_model.set_choices([])
            self.search_status.setText("Type at least two letters.")
            return
        desk, holder = self.ctx.desk, self._snapshot
        self.search_status.setText("Searching…")
        run_in_background(
            self,
            lambda: search_formulary(desk, holder, query, limit=30),
            lambda outcome: self._search_done(generation, outcome),
            lambda exc: self._search_failed(generation, exc),
        )

    def _search_done(self, generation: int, outcome: SearchOutcome) -> None:
        if not self._search_latest.is_current(generation):
            return  # an older answer
        found = [
            MedicationChoice(
                h.id,
                h.name,
                h.generic_name,
                MedicationBrief(h.id, h.name, h.generic_name, h.strength, h.dosage_form).label,
                "other",
            )
            for h in outcome.hits
        ]
        self.search_model.set_choices(found)
        if not found:
            self.search_status.setText(outcome.message or "Nothing found; try another spelling.")
        else:
            more = f" of {outcome.total}" if outcome.total > len(found) else ""
            self.search_status.setText(f"{len(found)}{more} found: choose one.")

    def _search_failed(self, generation: int, exc: BaseException) -> None:
        if self._search_latest.is_current(generation):
            self.search_status.setText(f"The search failed: {friendly_error(exc)}")

    # -- inputs ----------------------------------------------------------------------------

    @Slot()
    def _severity_changed(self, *_args: object) -> None:
        severity = self.severity.currentData()
        serious = severity in SERIOUS
        if not self._parent_touched:
            self.parent_notified.setChecked(serious)
        first = self.card.first_name if self.card else "the student"
        if self.choice is None:
            self.allergy_note.setText(
                "Saving also records a suspected allergy/intolerance to the medication's active "
                "ingredients, so later orders and doses with them warn."
            )
        else:
            self.allergy_note.setText(
                f"Saving also records a suspected {SEVERITY_LABELS[severity].lower()} "
                f"allergy/intolerance to {self.choice.ingredients} on {first}'s record "
                "(unverified), so every later order or dose of a product with it warns."
                + (" A follow-up is required." if severity != "MILD" else "")
            )
        set_tone(self.allergy_note, "error" if serious else "warning")

    @Slot(bool)
    def _parent_clicked(self, _checked: bool) -> None:
        self._parent_touched = True

    def _update_submit(self) -> None:
        missing = None
        if self.ctx.user_id is None:
            missing = "Choose who is at the desk first."
        elif self.medication_id is None:
            missing = "Choose the medication the reaction followed."
        elif not self.reaction.text().strip():
            missing = "Describe the reaction."
        ready = (
            self.card is not None
            and not self._in_flight
            and self.result_ is None
            and missing is None
        )
        self.submit_button.setEnabled(ready)
        self.submit_button.setToolTip(missing or "")

    def _occurred_at(self) -> dt.datetime:
        value = self.occurred.dateTime()
        d, t = value.date(), value.time()
        naive = dt.datetime(d.year(), d.month(), d.day(), t.hour(), t.minute())
        return naive.replace(tzinfo=self._tz).astimezone(dt.UTC)

    def command(self) -> ReactionCommand:
        assert self.ctx.user_id is not None and self.medication_id is not None
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
        for widget in (
            self.medication_combo,
            self.search_edit,
            self.search_results,
            self.severity,
            self.reaction,
            self.occurred,
            self.action,
            self.notes,
        ):
            widget.setEnabled(False)
        self.parent_notified.setEnabled(False)
        self.allergy_note.hide()
        self.submit_button.hide()
        self.cancel_button.setText("Close")
        self.cancel_button.setFocus()
        self._announce(result)

    def _announce(self, result: ReactionResult) -> None:
        school = str(self.ctx.school_id or (self.card.school_id if self.card else "*"))
        self.ctx.announce_change("incident_reports", school)
        if result.allergy_id is not None:
            self.ctx.announce_change("allergies", school)
        self.submitted.emit(result)

    def confirmation(self, result: ReactionResult) -> str:
        first = self.card.first_name if self.card else "the student"
        if result.already_reported:
            return "This report was already saved; nothing was filed twice."
        lines = [f"Report saved. Incident report {str(result.incident_report_id)[:8]} created."]
        if result.allergy_id is not None:
            ingredients = ", ".join(result.allergens_added) or (
                self.choice.ingredients if self.choice else "the medication"
            )
            if result.allergy_created:
                lines.append(
                    f"An allergy/intolerance to {ingredients} was recorded as suspected for "
                    f"{first} (unverified): the next order or dose of any product with it warns."
                )
            else:
                lines.append(
                    f"{first}'s allergy/intolerance to {ingredients} was already on file; the "
                    "report is linked to it."
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
