"""Correcting a dose record: what was wrong (entered in error, wrong time, wrong dose, wrong
status), the corrected value, and a sentence saying why.

Why a dialog of its own: records are never edited or deleted. ``correct_dose`` adds a
correction record that supersedes the original in one transaction; both stay in the order's
history, the original struck through, with the correcting nurse's name and reason. The command
id is made once, when the dialog opens, so a second press (or a retry after a timeout) records
one correction at most. Errors are one sentence in the banner, never a traceback.

Opened from every dose row: the reminders and schedule panes ("Correct…" button and context
menu), the dose dialog's history of the order, and its "already given" refusal.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import uuid
from zoneinfo import ZoneInfo

from PySide6.QtCore import (
    QDate,
    QDateTime,
    QItemSelectionModel,
    QModelIndex,
    QTime,
    QTimeZone,
    Signal,
    Slot,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from medapp.domain.checks import override_reason_problem
from medapp.domain.doses import NotGivenReason
from medapp.runtime.context import AppContext
from medapp.services.corrections import (
    CorrectionCommand,
    CorrectionError,
    CorrectionKind,
    CorrectionResult,
    DoseHistoryEntry,
    correct_dose,
    dose_history,
)
from medapp.services.desk import AccessDenied
from medapp.services.students import PrescriptionDetail, friendly_error, prescription_detail
from medapp.ui.dialogs.dose_dialog import (
    OVERRIDE_MIN_CHARS,
    school_tz,
    set_tone,
)
from medapp.ui.models.dose_history_model import (
    COL_DETAILS,
    CorrectableRole,
    DoseHistoryModel,
    is_correctable,
    record_label,
)
from medapp.ui.widgets import Banner, BusyIndicator
from medapp.ui.workers import Latest, run_in_background

log = logging.getLogger(__name__)

_WALL_CLOCK = QTimeZone.utc()

KINDS: tuple[tuple[str, CorrectionKind, str, str], ...] = (
    (
        "kindEnteredInError",
        CorrectionKind.ENTERED_IN_ERROR,
        "Entered in error",
        "The record should not exist (wrong student, wrong order, pressed by mistake). "
        "It is struck through and the dose counts as not recorded.",
    ),
    (
        "kindWrongTime",
        CorrectionKind.WRONG_TIME,
        "Wrong time",
        "The dose was given, at another time.",
    ),
    (
        "kindWrongDose",
        CorrectionKind.WRONG_DOSE,
        "Wrong dose",
        "The dose was given; the amount recorded is wrong.",
    ),
    (
        "kindWrongStatus",
        CorrectionKind.WRONG_STATUS,
        "Wrong status",
        "Given was recorded but it was not given, or the other way round.",
    ),
)
REASON_HINT = (
    f"A sentence (at least {OVERRIDE_MIN_CHARS} characters): what was wrong and how you know."
)


def reason_problem(text: str) -> str | None:
    """Why a correction reason is not yet a sentence (the domain's rule for written reasons,
    ``override_reason_problem``), or None; while typing, how many characters are missing."""
    reason = text.strip()
    if 0 < len(reason) < OVERRIDE_MIN_CHARS:
        return (
            f"Write the reason as a sentence of at least {OVERRIDE_MIN_CHARS} characters "
            f"({OVERRIDE_MIN_CHARS - len(reason)} more needed)."
        )
    return override_reason_problem(reason)


class CorrectionDialog(QDialog):
    """Correct one record of an order. ``log_id`` is the record to correct; None lets the nurse
    pick one from the order's history (the newest current record is preselected)."""

    #: the CorrectionResult once the correction is recorded
    corrected = Signal(object)
    #: the history finished loading (True) or failed to (False)
    loaded = Signal(bool)

    def __init__(
        self,
        ctx: AppContext,
        prescription_id: uuid.UUID,
        log_id: uuid.UUID | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.prescription_id = prescription_id
        self.wanted_log_id = log_id
        self.command_id = uuid.uuid4()  # once per dialog: a second press is the same correction
        self.detail: PrescriptionDetail | None = None
        self.history: tuple[DoseHistoryEntry, ...] = ()
        self.result_: CorrectionResult | None = None
        self._sent: CorrectionCommand | None = None
        self._tz: ZoneInfo = school_tz(ctx)
        self._in_flight = False
        self._latest = Latest()
        self.setObjectName("correctionDialog")
        self.setWindowTitle("Correct a dose record")
        self.setModal(True)
        self._build()
        self._load()

    # -- layout ----------------------------------------------------------------------------

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        em = self.fontMetrics().height()
        self.title = QLabel("Loading…")
        self.title.setObjectName("correctionTitle")
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.title.setFont(font)
        outer.addWidget(self.title)

        self.banner = Banner("correctionBanner")
        outer.addWidget(self.banner)
        self.busy = BusyIndicator("Loading the records…", "correctionBusy")
        outer.addWidget(self.busy)

        caption = QLabel("Records of this order (corrected ones are struck through):")
        caption.setObjectName("correctionHistoryCaption")
        caption.setWordWrap(True)
        outer.addWidget(caption)
        self.model = DoseHistoryModel(self)
        self.table = QTableView()
        self.table.setObjectName("correctionHistory")
        self.table.setAccessibleName("Dose records of this order")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.setMinimumHeight(int(em * 7))
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        outer.addWidget(self.table, 1)

        self.target = QLabel()
        self.target.setObjectName("correctionTarget")
        self.target.setWordWrap(True)
        outer.addWidget(self.target)

        kinds = QGroupBox("What is wrong")
        kinds.setObjectName("correctionKinds")
        grid = QGridLayout(kinds)
        self.kind_group = QButtonGroup(self)
        self.kind_buttons: dict[CorrectionKind, QRadioButton] = {}
        for i, (name, kind, label, tip) in enumerate(KINDS):
            button = QRadioButton(label)
            button.setObjectName(name)
            button.setToolTip(tip)
            self.kind_group.addButton(button, i)
            self.kind_buttons[kind] = button
            grid.addWidget(button, i // 2, i % 2)
        self.kind_help = QLabel()
        self.kind_help.setObjectName("correctionKindHelp")
        self.kind_help.setWordWrap(True)
        set_tone(self.kind_help, "muted")
        grid.addWidget(self.kind_help, 2, 0, 1, 2)
        self.kind_group.buttonToggled.connect(self._kind_changed)
        outer.addWidget(kinds)

        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.time_edit = QDateTimeEdit()
        self.time_edit.setObjectName("correctionTime")
        self.time_edit.setAccessibleName("Corrected time given")
        self.time_edit.setDisplayFormat("ddd d MMM yyyy  HH:mm")
        self.time_edit.setCalendarPopup(True)
        self.time_edit.setTimeZone(_WALL_CLOCK)
        self.form.addRow("Actual time given:", self.time_edit)
        self.dose_edit = QLineEdit()
        self.dose_edit.setObjectName("correctionDose")
        self.dose_edit.setAccessibleName("Corrected dose given")
        self.dose_edit.textChanged.connect(self._update_record_button)
        self.form.addRow("Actual dose given:", self.dose_edit)
        self.status_combo = QComboBox()
        self.status_combo.setObjectName("correctionStatus")
        self.status_combo.setAccessibleName("Corrected status")
        self.form.addRow("What really happened:", self.status_combo)
        self.reason_edit = QLineEdit()
        self.reason_edit.setObjectName("correctionReason")
        self.reason_edit.setAccessibleName("Reason for the correction")
        self.reason_edit.setPlaceholderText("e.g. Recorded for the wrong student; Maya was absent")
        self.reason_edit.textChanged.connect(self._reason_changed)
        self.reason_hint = QLabel(REASON_HINT)
        self.reason_hint.setObjectName("correctionReasonHint")
        self.reason_hint.setWordWrap(True)
        set_tone(self.reason_hint, "muted")
        reason_field = QVBoxLayout()
        reason_field.setSpacing(2)
        reason_field.addWidget(self.reason_edit)
        reason_field.addWidget(self.reason_hint)
        self.form.addRow("Reason:", reason_field)
        outer.addLayout(self.form)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.close_button = QPushButton("Cancel")
        self.close_button.setObjectName("correctionClose")
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.reject)
        self.record_button = QPushButton("Record correction")
        self.record_button.setObjectName("correctionRecord")
        self.record_button.setProperty("primary", True)
        self.record_button.setAutoDefault(False)
        self.record_button.setDefault(True)  # Enter in the reason (or any field) records
        self.record_button.clicked.connect(self.record)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.record_button)
        outer.addLayout(buttons)

        chain: list[QWidget] = [
            self.table,
            *self.kind_buttons.values(),
            self.time_edit,
            self.dose_edit,
            self.status_combo,
            self.reason_edit,
            self.record_button,
            self.close_button,
        ]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)
        self.setMinimumWidth(int(em * 44))
        self.resize(int(em * 56), int(em * 34))
        self._kind_changed()

    # -- loading ---------------------------------------------------------------------------

    def _load(self) -> None:
        generation = self._latest.next()
        try:
            desk = self.ctx.desk
        except AccessDenied as exc:
            self._load_failed(generation, exc)
            return
        rx_id = self.prescription_id
        self.busy.start()

        def op() -> tuple[PrescriptionDetail, tuple[DoseHistoryEntry, ...]]:
            return prescription_detail(desk, rx_id), dose_history(desk, rx_id)

        run_in_background(
            self,
            op,
            lambda found: self._loaded(generation, *found),
            lambda exc: self._load_failed(generation, exc),
        )

    def _loaded(
        self, generation: int, detail: PrescriptionDetail, history: tuple[DoseHistoryEntry, ...]
    ) -> None:
        if not self._latest.is_current(generation):
            return
        self.busy.reset()
        self.detail = detail
        self.history = history
        self.title.setText(f"Correct a record of {detail.medication_label} ({detail.dosage})")
        keep = self.selected_entry()
        self.model.set_entries(history, str(self._tz))
        self.table.resizeColumnsToContents()
        em = self.fontMetrics().averageCharWidth()
        self.table.setColumnWidth(COL_DETAILS, max(self.table.columnWidth(COL_DETAILS), em * 30))
        self.table.resizeRowsToContents()
        if self.result_ is not None:
            # Done: show the correction itself, next to the struck-through original.
            row = self.model.row_of(self.result_.log_id)
            if row >= 0:
                self.table.selectRow(row)
                self.table.scrollTo(self.model.index(row, 0))
            self.target.setText(
                "Correction recorded (selected); the original is struck through in the list."
            )
            set_tone(self.target, None)
            self.loaded.emit(True)
            return
        wanted = keep.log_id if keep is not None else self.wanted_log_id
        row = self.model.row_of(wanted)
        if row < 0 or not is_correctable(history[row]):
            row = next((i for i, e in enumerate(history) if is_correctable(e)), -1)
        if row >= 0:
            self.table.selectionModel().setCurrentIndex(
                self.model.index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
        else:
            self._current_changed(QModelIndex(), QModelIndex())
        if not history:
            self.target.setText("This order has no dose records to correct.")
        self.loaded.emit(True)

    def _load_failed(self, generation: int, exc: BaseException) -> None:
        if not self._latest.is_current(generation):
            return
        self.busy.reset()
        self.title.setText("Records not available")
        self.banner.show_message("error", f"Could not load the records: {_sentence(exc)}")
        self._update_record_button()
        self.loaded.emit(False)

    # -- inputs ----------------------------------------------------------------------------

    def selected_entry(self) -> DoseHistoryEntry | None:
        index = self.table.currentIndex()
        return self.model.entry_at(index.row()) if index.isValid() else None

    def select_log(self, log_id: uuid.UUID) -> None:
        row = self.model.row_of(log_id)
        if row < 0:
            raise KeyError(log_id)
        self.table.selectRow(row)

    def select_kind(self, kind: CorrectionKind) -> None:
        self.kind_buttons[kind].setChecked(True)

    def kind(self) -> CorrectionKind | None:
        checked = self.kind_group.checkedId()
        return KINDS[checked][1] if checked >= 0 else None

    @Slot(QModelIndex, QModelIndex)
    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self.result_ is not None:
            return  # recorded: the form is closed, the list is for reading
        entry = self.model.entry_at(current.row()) if current.isValid() else None
        if entry is None:
            self.target.setText("Choose the record to correct in the list.")
        elif not current.data(CorrectableRole):
            why = (
                "it was already corrected"
                if not entry.is_current
                else "it marks a record entered in error"
            )
            self.target.setText(f"This record cannot be corrected: {why}. Choose another.")
        else:
            when = entry.time_given.astimezone(self._tz).strftime("%a %d %b %H:%M")
            dose = f" ({entry.dosage_given})" if entry.dosage_given else ""
            self.target.setText(
                f"Correcting: {record_label(entry)}{dose} at {when} by {entry.nurse_name}"
            )
            self._prefill(entry)
        set_tone(self.target, None if entry is not None and is_correctable(entry) else "warning")
        self._update_record_button()

    def _prefill(self, entry: DoseHistoryEntry) -> None:
        local = entry.time_given.astimezone(self._tz)
        self.time_edit.setDateTime(
            QDateTime(
                QDate(local.year, local.month, local.day),
                QTime(local.hour, local.minute),
                _WALL_CLOCK,
            )
        )
        self.dose_edit.setText(entry.dosage_given or (self.detail.dosage if self.detail else ""))
        self.status_combo.clear()
        if entry.status != "GIVEN":
            self.status_combo.addItem("Given", ("GIVEN", None))
        for reason in NotGivenReason:
            if entry.status == "NOT_GIVEN" and entry.not_given_reason == reason.value:
                continue
            self.status_combo.addItem(f"Not given — {reason.label}", ("NOT_GIVEN", reason.value))

    @Slot(QAbstractButton, bool)
    def _kind_changed(self, *_args: object) -> None:
        kind = self.kind()
        for widget, wanted in (
            (self.time_edit, CorrectionKind.WRONG_TIME),
            (self.dose_edit, CorrectionKind.WRONG_DOSE),
            (self.status_combo, CorrectionKind.WRONG_STATUS),
        ):
            self.form.setRowVisible(widget, kind is wanted)
        help_text = next((tip for _n, k, _l, tip in KINDS if k is kind), "Choose what is wrong.")
        self.kind_help.setText(help_text)
        self._update_record_button()

    @Slot(str)
    def _reason_changed(self, text: str) -> None:
        problem = reason_problem(text) if text.strip() else None
        self.reason_hint.setText(REASON_HINT if problem is None else problem)
        set_tone(self.reason_hint, "warning" if problem else "muted")
        self._update_record_button()

    def _time_given(self) -> dt.datetime:
        value = self.time_edit.dateTime()
        d, t = value.date(), value.time()
        naive = dt.datetime(d.year(), d.month(), d.day(), t.hour(), t.minute())
        return naive.replace(tzinfo=self._tz).astimezone(dt.UTC)

    def set_time_given(self, moment: dt.datetime) -> None:
        local = moment.astimezone(self._tz)
        self.time_edit.setDateTime(
            QDateTime(
                QDate(local.year, local.month, local.day),
                QTime(local.hour, local.minute),
                _WALL_CLOCK,
            )
        )

    def _problem(self) -> str | None:
        """What stops the correction, as the sentence the Record button's tooltip shows."""
        entry = self.selected_entry()
        if self.detail is None or entry is None or not is_correctable(entry):
            return "Choose the record to correct in the list."
        kind = self.kind()
        if kind is None:
            return "Choose what is wrong with the record."
        if kind is CorrectionKind.WRONG_DOSE and not self.dose_edit.text().strip():
            return "Write the dose that was actually given."
        if kind is CorrectionKind.WRONG_STATUS and self.status_combo.currentData() is None:
            return "Choose what really happened."
        return reason_problem(self.reason_edit.text())

    def _update_record_button(self, *_args: object) -> None:
        if not hasattr(self, "record_button"):
            return
        done = self.result_ is not None
        problem = None if done else self._problem()
        self.record_button.setEnabled(not done and not self._in_flight)
        self.record_button.setToolTip(problem or "")

    def command(self) -> CorrectionCommand:
        """The command Record sends (the same id on every press)."""
        entry = self.selected_entry()
        kind = self.kind()
        assert entry is not None and kind is not None
        status: str | None = None
        not_given_reason: str | None = None
        if kind is CorrectionKind.WRONG_STATUS:
            status, not_given_reason = self.status_combo.currentData()
        return CorrectionCommand(
            id=self.command_id,
            original_log_id=entry.log_id,
            kind=kind,
            reason=self.reason_edit.text().strip(),
            time_given=self._time_given() if kind is CorrectionKind.WRONG_TIME else None,
            dosage_given=(
                self.dose_edit.text().strip() if kind is CorrectionKind.WRONG_DOSE else None
            ),
            status=status,
            not_given_reason=not_given_reason,
        )

    # -- recording -------------------------------------------------------------------------

    @Slot()
    def record(self) -> None:
        if self._in_flight:
            return
        if self.result_ is not None:
            # Already recorded: the same command again is harmless (the service answers
            # ALREADY_RECORDED), so a stray second press says so instead of doing nothing.
            assert self._sent is not None
            cmd = self._sent
        else:
            problem = self._problem()
            if problem is not None:
                self.banner.show_message("warning", problem)
                if self.kind() is not None and reason_problem(self.reason_edit.text()):
                    self.reason_edit.setFocus()
                return
            cmd = self.command()
        self._sent = cmd
        self._in_flight = True
        self._update_record_button()
        self.banner.clear()
        try:
            desk = self.ctx.desk
        except AccessDenied as exc:
            self._record_failed(exc)
            return
        self.busy.start()
        run_in_background(
            self, lambda: correct_dose(desk, cmd), self._recorded, self._record_failed
        )

    def _recorded(self, result: CorrectionResult) -> None:
        self._in_flight = False
        self.busy.reset()
        first = self.result_ is None
        self.result_ = result
        if result.outcome == "ALREADY_RECORDED" and not first:
            self.banner.show_message(
                "info", "This correction was already recorded; nothing was recorded twice."
            )
        else:
            self.banner.show_message("success", self.confirmation(self._sent or self.command()))
        for widget in (
            *self.kind_buttons.values(),
            self.time_edit,
            self.dose_edit,
            self.status_combo,
            self.reason_edit,
        ):
            widget.setEnabled(False)
        self.record_button.setText("Recorded")
        self.close_button.setText("Close")
        self.close_button.setDefault(True)
        self._update_record_button()
        self.close_button.setFocus()
        self._load()  # show both records: the original struck through, the correction
        self._announce(result)

    def confirmation(self, cmd: CorrectionCommand) -> str:
        who = self.ctx.user_name or "you"
        tail = "The original stays in the list, struck through."
        if cmd.kind is CorrectionKind.ENTERED_IN_ERROR:
            return (
                f"Correction recorded by {who}: the record was entered in error. {tail} "
                "The dose counts as not given; give and record it again if it is still due."
            )
        what = {
            CorrectionKind.WRONG_TIME: "the time",
            CorrectionKind.WRONG_DOSE: "the dose",
            CorrectionKind.WRONG_STATUS: "the status",
        }[cmd.kind]
        return f"Correction of {what} recorded by {who}. {tail}"

    def _announce(self, result: CorrectionResult) -> None:
        school = str(self.ctx.school_id or "*")
        self.ctx.announce_change("medication_logs", school)
        self.corrected.emit(result)

    def _record_failed(self, exc: BaseException) -> None:
        self._in_flight = False
        self.busy.reset()
        self.banner.show_message("error", f"Not recorded: {_sentence(exc)}")
        self._update_record_button()

    def reject(self) -> None:
        if self._in_flight:
            self.banner.show_message("info", "Saving… the dialog closes when the server answers.")
            return
        super().reject()


def _sentence(exc: BaseException) -> str:
    if isinstance(exc, CorrectionError | AccessDenied) and str(exc):
        return str(exc)
    if not isinstance(exc, ValueError):
        log.warning("correction failed: %s", type(exc).__name__)
    return friendly_error(exc)


__all__ = ["CorrectionDialog", "reason_problem"]
