"""The dose dialog: the "five rights" check (right student, medication, dose, route, time) and
the record of what happened — GIVEN, or NOT GIVEN with a reason.

How it stays safe:

* The rules run *before* the nurse presses the button (``preview_dose``, the same
  ``check_can_give`` that ``record_dose`` applies): allergies, a dose already given, PRN interval
  and daily maximum, an expired authorization show in red while the nurse is still deciding;
  findings no override can lift disable "Record" for a GIVEN dose.
* The log id is generated once, when the dialog opens: pressing the button twice, or retrying
  after a timeout, lands as one row at most.
* Overridable findings need a written reason (the "Override reason" field appears for them).
* The server has the last word: a refusal (``DoseRefused``) shows its warnings in red; a lost
  connection puts the dose in the outbox ("Saved on this PC …").

Also here, because every pane and dialog of this part uses them: ``desk_now`` (the clock; tests
set ``ctx.clock``) and ``set_tone``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from PySide6.QtCore import (
    QDate,
    QDateTime,
    QPointF,
    QRectF,
    QSize,
    Qt,
    QTime,
    QTimeZone,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QGuiApplication,
    QPainter,
    QPalette,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QBoxLayout,
    QButtonGroup,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from medapp.domain.checks import (
    MIN_REASON_LENGTH,
    DoseRefused,
    RuleWarning,
    WarningCode,
    override_reason_problem,
)
from medapp.domain.doses import NotGivenReason
from medapp.runtime.context import AppContext
from medapp.services.desk import AccessDenied, Desk
from medapp.services.doses import (
    DoseCommand,
    DoseInputError,
    DoseResult,
    field_limit,
    record_dose,
)
from medapp.services.students import (
    DoseLogInfo,
    DosePreview,
    DoseSheet,
    PrescriptionDetail,
    StockLot,
    StudentCard,
    default_lot,
    dose_sheet,
    friendly_error,
    preview_dose,
)
from medapp.ui.dialog_slot import DialogSlot
from medapp.ui.models.reminders_model import tone, warning_icon
from medapp.ui.widgets import Banner, BusyIndicator
from medapp.ui.workers import Latest, coalescing_timer, run_in_background

log = logging.getLogger(__name__)

OFFLINE_MESSAGE = "Saved on this PC; it will be sent when the server is back."
# Tables whose changes can alter what this dialog shows or what the rules say.
WATCHED_TABLES = frozenset({"medication_logs", "allergies", "student_medications", "*"})
# The time field shows the school's wall clock: a QDateTime in UTC has no DST jumps of its own.
_WALL_CLOCK = QTimeZone.utc()


# --------------------------------------------------------------------------------------------
# Shared helpers (panes and the reaction dialog use these too)
# --------------------------------------------------------------------------------------------


def desk_now(ctx: AppContext) -> dt.datetime:
    """Now, as an aware UTC datetime. ``ctx.clock`` (a zero-argument callable), when present,
    replaces the wall clock — tests use it to stand on a school day at lunchtime."""
    clock = getattr(ctx, "clock", None)
    now = clock() if callable(clock) else dt.datetime.now(dt.UTC)
    return now if now.tzinfo is not None else now.replace(tzinfo=dt.UTC)


def school_tz(ctx: AppContext) -> ZoneInfo:
    try:
        return ZoneInfo(ctx.school_timezone)
    except Exception:  # noqa: BLE001 - a bad setting must not stop the desk
        log.warning("unknown school timezone; using America/New_York")
        return ZoneInfo("America/New_York")


def repolish(widget: QWidget) -> None:
    """Re-apply the stylesheet after a dynamic property changed."""
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def set_tone(label: QLabel, name: str | None) -> None:
    """Colour a label's text by meaning (``tone``: "error", "warning", "muted", …).

    Sets the dynamic property ``tone`` (the stylesheet may style ``QLabel[tone="error"]`` so a
    theme switch recolours it) and the label's palette (the colour when no rule does)."""
    label.setProperty("tone", name or "")
    palette = label.palette()
    base = QGuiApplication.palette().color(QPalette.ColorRole.WindowText)
    palette.setColor(QPalette.ColorRole.WindowText, tone(name) if name else base)
    label.setPalette(palette)
    repolish(label)


def initials_pixmap(card: StudentCard, size: int, dpr: float = 1.0) -> QPixmap:
    """The photo placeholder: a calm coloured disc with the student's initials."""
    digest = hashlib.sha1(str(card.id).encode()).digest()
    hues = (200, 170, 260, 30, 320, 140, 220)
    colour = QColor.fromHsl(hues[digest[0] % len(hues)], 90, 110)
    pm = QPixmap(int(size * dpr), int(size * dpr))
    pm.setDevicePixelRatio(dpr)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(colour)
    p.drawEllipse(QRectF(0, 0, size, size))
    font = QFont()
    font.setPixelSize(int(size * 0.38))
    font.setBold(True)
    p.setFont(font)
    p.setPen(QColor("white"))
    p.drawText(
        QRectF(QPointF(0, 0), QRectF(0, 0, size, size).size()),
        Qt.AlignmentFlag.AlignCenter,
        card.initials,
    )
    p.end()
    return pm


def controlled_text(rx: PrescriptionDetail) -> str:
    """The five-rights line on controlled substances: on every dose of the order, before and
    after it is given (count and witness rules depend on it)."""
    if not rx.is_controlled:
        return "No — not a controlled substance"
    schedule = f" (schedule {rx.dea_schedule})" if rx.dea_schedule else ""
    return f"Controlled substance{schedule} — count the stock after giving"


# --------------------------------------------------------------------------------------------
# The dialog
# --------------------------------------------------------------------------------------------

OUTCOMES: tuple[tuple[str, str, NotGivenReason | None], ...] = (
    ("outcomeGiven", "Given", None),
    ("outcomeRefused", "Refused", NotGivenReason.REFUSED),
    ("outcomeAbsent", "Absent", NotGivenReason.ABSENT),
    ("outcomeHeld", "Held", NotGivenReason.HELD),
    ("outcomeNoSupply", "No supply", NotGivenReason.NO_SUPPLY),
    ("outcomeParentCalled", "Parent called", NotGivenReason.PARENT_CALLED),
    ("outcomeOther", "Other", NotGivenReason.OTHER),
)
OWN_SUPPLY_LABEL = "Student's own supply / not from office stock"
#: Said under the override field before the nurse presses Record (the service's rule too).
OVERRIDE_MIN_CHARS = MIN_REASON_LENGTH
OVERRIDE_HINT = (
    f"Write a sentence (at least {OVERRIDE_MIN_CHARS} characters): why the dose is safe to give "
    "and who agreed."
)
#: Findings that name an existing record the nurse may correct instead ("Correct…").
POINTS_AT_LOG = frozenset(
    {WarningCode.ALREADY_GIVEN, WarningCode.GIVEN_ON_FILE, WarningCode.ALREADY_NOT_GIVEN}
)


def override_problem(text: str) -> str | None:
    """Why a written reason is not yet a sentence (None when it is) — the domain's rule
    (``override_reason_problem``), with how many characters are still missing while typing."""
    reason = text.strip()
    if 0 < len(reason) < OVERRIDE_MIN_CHARS:
        more = OVERRIDE_MIN_CHARS - len(reason)
        return (
            f"Write a sentence of at least {OVERRIDE_MIN_CHARS} characters ({more} more "
            "needed): why the dose is safe to give and who agreed."
        )
    return override_reason_problem(reason)


@dataclass(frozen=True)
class TypedInputs:
    """What the nurse has typed, as ``preview_dose`` takes it (so the preview gives the
    verdict ``record_dose`` would give)."""

    at: dt.datetime
    status: str
    dosage_given: str | None
    quantity_used: int | None
    inventory_id: uuid.UUID | None

    def preview(
        self,
        desk: Desk,
        prescription_id: uuid.UUID,
        now: dt.datetime,
        scheduled_for: dt.datetime | None,
    ) -> DosePreview:
        return preview_dose(
            desk,
            prescription_id,
            at=self.at,
            now=now,
            scheduled_for=scheduled_for,
            status=self.status,
            dosage_given=self.dosage_given,
            quantity_used=self.quantity_used,
            inventory_id=self.inventory_id,
        )


class FittingScrollArea(QScrollArea):
    """A scroll area that asks for its content's full size (a plain one caps its size hint at
    about 24 lines), so the dialog opens big enough for everything and scrolls only when the
    screen is smaller than that."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def sizeHint(self) -> QSize:  # noqa: N802
        inner = self.widget()
        if inner is None:
            return super().sizeHint()
        hint = inner.sizeHint()
        margin = 2 * self.frameWidth()
        bar = self.verticalScrollBar().sizeHint().width()
        return QSize(hint.width() + margin + bar, hint.height() + margin)


class WarningList(QWidget):
    """The rules' findings, one line each, with a shape (triangle) as well as a colour: red for
    what blocks the dose, amber for what the nurse should know."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("doseWarnings")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self._warnings: tuple[RuleWarning, ...] = ()
        self.hide()

    def set_warnings(self, warnings: Sequence[RuleWarning]) -> None:
        while self._layout.count():
            child = self._layout.takeAt(0)
            widget = child.widget() if child is not None else None
            if widget is not None:
                widget.hide()  # gone from the screen now; deleted on the next turn
                widget.deleteLater()
        self._warnings = tuple(warnings)
        size = self.fontMetrics().height()
        for w in self._warnings:
            severity = "notice" if not w.blocking else ("override" if w.overridable else "blocking")
            row = QWidget()
            line = QHBoxLayout(row)
            line.setContentsMargins(0, 0, 0, 0)
            icon = QLabel()
            icon.setPixmap(
                warning_icon("warning" if severity == "notice" else "error").pixmap(size, size)
            )
            icon.setAlignment(Qt.AlignmentFlag.AlignTop)
            text = w.message
            if severity == "override":
                text += "  (can be overridden with a written reason)"
            label = QLabel(text)
            label.setObjectName("doseWarning")
            label.setProperty("severity", severity)
            label.setProperty("code", w.code.value)
            label.setWordWrap(True)
            font = label.font()
            font.setBold(w.blocking)
            label.setFont(font)
            set_tone(label, "warning" if severity == "notice" else "error")
            line.addWidget(icon)
            line.addWidget(label, 1)
            self._layout.addWidget(row)
        self.setVisible(bool(self._warnings))

    @property
    def warnings(self) -> tuple[RuleWarning, ...]:
        return self._warnings

    def texts(self) -> list[str]:
        return [w.message for w in self._warnings]


class DoseDialog(QDialog):
    """Record one dose of one prescription. ``scheduled_for`` is the scheduled dose being given
    (from the reminders list), or None to let the rules match the nearest one (or PRN)."""

    #: the DoseResult, after the dose was recorded (or queued offline)
    recorded = Signal(object)
    #: emitted when the dialog finished loading (True) or failed to (False)
    loaded = Signal(bool)

    def __init__(
        self,
        ctx: AppContext,
        prescription_id: uuid.UUID,
        scheduled_for: dt.datetime | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.prescription_id = prescription_id
        self.scheduled_for = scheduled_for
        self.command_id = uuid.uuid4()  # once per dialog: a retry can never make a second row
        self.sheet: DoseSheet | None = None
        self.preview: DosePreview | None = None
        self.result_: DoseResult | None = None
        self._tz = school_tz(ctx)
        self._in_flight = False
        self._finished_ok = False
        self._preview_latest = Latest()
        self._sheet_latest = Latest()
        #: the current GIVEN that makes this dose "already given" (Correct… acts on it)
        self.existing_log_id: uuid.UUID | None = None
        self._refusal: DoseRefused | None = None
        self._correction_slot: DialogSlot[QDialog] = DialogSlot(
            self, on_close=self._correction_closed
        )
        self._reaction_slot: DialogSlot[QDialog] = DialogSlot(self, single=False)
        self.setObjectName("doseDialog")
        self.setWindowTitle("Record a dose")
        self.setModal(True)
        self._preview_timer = coalescing_timer(self, 300, self._run_preview)
        self._build()
        ctx.hub.data_changed.connect(self._on_data_changed)
        self._load()

    # -- layout ----------------------------------------------------------------------------

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        em = self.fontMetrics().height()

        # Right student
        header = QHBoxLayout()
        self.photo = QLabel()
        self.photo.setObjectName("studentPhoto")
        self._photo_size = int(em * 3.4)
        self.photo.setFixedSize(self._photo_size + 4, self._photo_size + 4)  # room to not clip
        self.photo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.photo.setAccessibleName("Student photo placeholder")
        header.addWidget(self.photo, 0, Qt.AlignmentFlag.AlignTop)
        who = QVBoxLayout()
        self.student_name = QLabel("Loading…")
        self.student_name.setObjectName("studentName")
        self.student_name.setProperty("heading", True)
        self.student_name.setWordWrap(True)
        font = self.student_name.font()
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        self.student_name.setFont(font)
        self.student_details = QLabel()
        self.student_details.setObjectName("studentDetails")
        self.student_details.setWordWrap(True)
        self.allergies = QLabel()
        self.allergies.setObjectName("studentAllergies")
        self.allergies.setWordWrap(True)
        who.addWidget(self.student_name)
        who.addWidget(self.student_details)
        who.addWidget(self.allergies)
        header.addLayout(who, 1)
        outer.addLayout(header)

        self.banner = Banner("doseBanner")
        outer.addWidget(self.banner)
        self.busy = BusyIndicator("Loading…", "doseBusy")
        outer.addWidget(self.busy)

        # Everything between the header and the buttons scrolls when the window is too short for
        # it, so a line is never squeezed out of sight (rule: no clipped text at 1024×700 up).
        self.body = QWidget()
        self.body.setObjectName("doseBody")
        outer_body = QVBoxLayout(self.body)
        outer_body.setContentsMargins(0, 0, 0, 0)
        # Two columns when the window is wide enough (what to check | what happened), one
        # below the other when it is not: ``resizeEvent`` switches.
        self.columns = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.columns.setSpacing(int(em * 0.9))
        outer_body.addLayout(self.columns)
        body = QVBoxLayout()
        self.columns.addLayout(body, 1)
        self.body_scroll = FittingScrollArea()
        self.body_scroll.setObjectName("doseScroll")
        self.body_scroll.setWidget(self.body)
        outer.addWidget(self.body_scroll, 1)

        # Right medication, dose, route, time
        rights = QGroupBox("Five rights")
        rights.setObjectName("fiveRights")
        grid = QFormLayout(rights)
        grid.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        grid.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        self.medication = QLabel()
        self.medication.setObjectName("medicationLabel")
        self.controlled = QLabel()
        self.controlled.setObjectName("controlledLabel")
        self.dose = QLabel()
        self.dose.setObjectName("doseLabel")
        self.dose_conflict = QLabel()
        self.dose_conflict.setObjectName("doseConflict")
        self.route = QLabel()
        self.route.setObjectName("routeLabel")
        self.time_label = QLabel()
        self.time_label.setObjectName("scheduledLabel")
        self.order = QLabel()
        self.order.setObjectName("orderLabel")
        self.authorization = QLabel()
        self.authorization.setObjectName("authorizationLabel")
        self.rights_labels = (
            self.medication,
            self.controlled,
            self.dose,
            self.dose_conflict,
            self.route,
            self.time_label,
            self.order,
            self.authorization,
        )
        for line in self.rights_labels:
            line.setWordWrap(True)  # every line wraps: long names and orders never clip
            line.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            line.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bold = self.dose.font()
        bold.setBold(True)
        for line in (self.medication, self.dose, self.route, self.controlled):
            line.setFont(bold)
        grid.addRow("Medication:", self.medication)
        grid.addRow("Controlled:", self.controlled)
        # The dose, and under it (when the order and the product disagree) a warning line.
        dose_field = QVBoxLayout()
        dose_field.setContentsMargins(0, 0, 0, 0)
        dose_field.setSpacing(2)
        dose_field.addWidget(self.dose)
        self.dose_conflict_row = QWidget()
        self.dose_conflict_row.setObjectName("doseConflictRow")
        conflict_line = QHBoxLayout(self.dose_conflict_row)
        conflict_line.setContentsMargins(0, 0, 0, 0)
        self.dose_conflict_icon = QLabel()
        self.dose_conflict_icon.setAlignment(
            Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter
        )
        conflict_line.addWidget(self.dose_conflict_icon, 0, Qt.AlignmentFlag.AlignTop)
        conflict_line.addWidget(self.dose_conflict, 1)
        dose_field.addWidget(self.dose_conflict_row)
        self.dose_conflict_row.hide()
        grid.addRow("Dose:", dose_field)
        grid.addRow("Route:", self.route)
        grid.addRow("Time:", self.time_label)
        grid.addRow("Order:", self.order)
        grid.addRow("Authorized:", self.authorization)
        self.rights_form = grid
        body.addWidget(rights)

        # The order's records today, with "Correct…" on them (rule 5)
        history = QHBoxLayout()
        self.today_logs = QLabel()
        self.today_logs.setObjectName("todayLogs")
        self.today_logs.setWordWrap(True)
        self.today_logs.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.history_button = QPushButton("History / Correct…")
        self.history_button.setObjectName("historyCorrect")
        self.history_button.setToolTip("This order's dose records; correct one of them")
        self.history_button.clicked.connect(lambda: self.open_correction(None))
        history.addWidget(self.today_logs, 1)
        history.addWidget(self.history_button, 0, Qt.AlignmentFlag.AlignTop)
        body.addLayout(history)

        # "Already given": who and when, and "Correct…" on that record
        self.already_box = QFrame()
        self.already_box.setObjectName("alreadyGiven")
        self.already_box.setProperty("attention", True)
        self.already_box.setFrameShape(QFrame.Shape.StyledPanel)
        already = QHBoxLayout(self.already_box)
        already.setContentsMargins(8, 6, 8, 6)
        self.already_icon = QLabel()
        self.already_icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.already_text = QLabel()
        self.already_text.setObjectName("alreadyGivenText")
        self.already_text.setWordWrap(True)
        self.already_text.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        font = self.already_text.font()
        font.setBold(True)
        self.already_text.setFont(font)
        self.already_correct = QPushButton("Correct…")
        self.already_correct.setObjectName("alreadyGivenCorrect")
        self.already_correct.setToolTip("Correct the record that is already there")
        self.already_correct.clicked.connect(lambda: self.open_correction(self.existing_log_id))
        already.addWidget(self.already_icon, 0, Qt.AlignmentFlag.AlignTop)
        already.addWidget(self.already_text, 1)
        already.addWidget(self.already_correct, 0, Qt.AlignmentFlag.AlignTop)
        self.already_box.hide()
        body.addWidget(self.already_box)

        self.warning_list = WarningList()
        body.addWidget(self.warning_list)
        body.addStretch(1)
        body = QVBoxLayout()
        self.columns.addLayout(body, 1)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.time_edit = QDateTimeEdit()
        self.time_edit.setObjectName("timeGiven")
        self.time_edit.setDisplayFormat("ddd d MMM yyyy  HH:mm")
        self.time_edit.setCalendarPopup(True)
        self.time_edit.setTimeZone(_WALL_CLOCK)
        self.time_edit.setAccessibleName("Time given")
        self.time_edit.dateTimeChanged.connect(lambda _v: self._preview_timer.start())
        self.time_caption = QLabel("Time given:")
        form.addRow(self.time_caption, self.time_edit)

        self.dosage_edit = QLineEdit()
        self.dosage_edit.setObjectName("dosageGiven")
        self.dosage_edit.setAccessibleName("Dose given")
        self.dosage_edit.setMaxLength(field_limit("dosage_given") or 32767)
        self.dosage_edit.textEdited.connect(lambda _t: self._preview_timer.start())
        form.addRow("Dose given:", self.dosage_edit)

        stock_row = QHBoxLayout()
        self.lot_combo = QComboBox()
        self.lot_combo.setObjectName("stockLot")
        self.lot_combo.setAccessibleName("Stock lot")
        self.lot_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.lot_combo.setMinimumContentsLength(24)
        self.lot_combo.currentIndexChanged.connect(self._lot_changed)
        self.lot_combo.currentIndexChanged.connect(lambda _i: self._preview_timer.start())
        self.quantity = QSpinBox()
        self.quantity.setObjectName("stockQuantity")
        self.quantity.setAccessibleName("Quantity taken from stock")
        self.quantity.setRange(1, 1)
        self.quantity.valueChanged.connect(lambda _v: self._preview_timer.start())
        self.quantity_caption = QLabel("Quantity:")
        stock_row.addWidget(self.lot_combo, 1)
        self.stock_caption = QLabel("From stock:")
        form.addRow(self.stock_caption, stock_row)
        quantity_row = QHBoxLayout()
        quantity_row.addWidget(self.quantity)
        quantity_row.addStretch(1)
        form.addRow(self.quantity_caption, quantity_row)

        self.notes = QPlainTextEdit()
        self.notes.setObjectName("doseNotes")
        self.notes.setAccessibleName("Notes")
        self.notes.setTabChangesFocus(True)
        self.notes.setPlaceholderText("Notes (required for “Other”)")
        self.notes.setMinimumHeight(int(em * 2.6))
        self.notes.setMaximumHeight(int(em * 4.2))  # an edit box: it scrolls its own text
        self.notes.textChanged.connect(self._update_record_button)
        form.addRow("Notes:", self.notes)
        body.addLayout(form)

        # What happened: last before the button, so "Record" is one Tab away from the choice
        outcome_box = QGroupBox("What happened")
        outcome_box.setObjectName("outcomeBox")
        outcome_grid = QGridLayout(outcome_box)
        self.outcomes = QButtonGroup(self)
        self.outcomes.setExclusive(True)
        self.outcome_buttons: dict[str, QRadioButton] = {}
        for i, (name, label, _reason) in enumerate(OUTCOMES):
            button = QRadioButton(label if i else "Given")
            button.setObjectName(name)
            self.outcomes.addButton(button, i)
            self.outcome_buttons[name] = button
            if i == 0:
                outcome_grid.addWidget(button, 0, 0, 1, 3)
                font = button.font()
                font.setBold(True)
                button.setFont(font)
            else:
                outcome_grid.addWidget(button, 1 + (i - 1) // 3, (i - 1) % 3)
        self.outcome_buttons["outcomeGiven"].setChecked(True)
        self.outcomes.buttonToggled.connect(self._outcome_changed)
        body.addWidget(outcome_box)

        override = QFormLayout()
        override.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.override_caption = QLabel("Override reason:")
        self.override_edit = QLineEdit()
        self.override_edit.setObjectName("overrideReason")
        self.override_edit.setAccessibleName("Override reason")
        self.override_edit.setPlaceholderText(
            "A sentence: why the dose is given despite the warning, and who agreed"
        )
        self.override_edit.textChanged.connect(self._override_changed)
        self.override_hint = QLabel(OVERRIDE_HINT)
        self.override_hint.setObjectName("overrideHint")
        self.override_hint.setWordWrap(True)
        set_tone(self.override_hint, "muted")
        override_field = QVBoxLayout()
        override_field.setSpacing(2)
        override_field.addWidget(self.override_edit)
        override_field.addWidget(self.override_hint)
        override.addRow(self.override_caption, override_field)
        for widget in (self.override_caption, self.override_edit, self.override_hint):
            widget.hide()
        body.addLayout(override)
        body.addStretch(1)

        buttons = QHBoxLayout()
        self.reaction_button = QPushButton("Report reaction…")
        self.reaction_button.setObjectName("reactionButton")
        self.reaction_button.clicked.connect(self.open_reaction)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.clicked.connect(self.reject)
        self.record_button = QPushButton("Record")
        self.record_button.setObjectName("recordButton")
        self.record_button.setProperty("primary", True)
        self.record_button.clicked.connect(self.record)
        for b in (
            self.reaction_button,
            self.cancel_button,
            self.history_button,
            self.already_correct,
        ):
            b.setAutoDefault(False)  # Enter on a side button never presses it by accident
        # Enter in any single-line field (time, dose given, quantity, override reason) or on the
        # status choice records: the dialog's default button. The notes field keeps its Enter.
        self.record_button.setAutoDefault(False)
        self.record_button.setDefault(True)
        buttons.addWidget(self.reaction_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.record_button)
        outer.addLayout(buttons)

        # Top to bottom, then the outcome, the override reason and "Record" (1–2 Tabs away).
        chain: list[QWidget] = [
            self.time_edit,
            self.dosage_edit,
            self.lot_combo,
            self.quantity,
            self.notes,
            *self.outcome_buttons.values(),
            self.override_edit,
            self.record_button,
            self.cancel_button,
            self.reaction_button,
            self.history_button,
            self.already_correct,
        ]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)

        self._set_form_enabled(False)
        self._two_columns_from = int(em * 48)
        self.setMinimumWidth(int(em * 34))
        self.resize(int(em * 58), int(em * 36))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        wide = event.size().width() >= self._two_columns_from
        direction = QBoxLayout.Direction.LeftToRight if wide else QBoxLayout.Direction.TopToBottom
        if self.columns.direction() != direction:
            self.columns.setDirection(direction)
        super().resizeEvent(event)

    # -- loading ---------------------------------------------------------------------------

    def _load(self, *, keep_inputs: bool = False) -> None:
        generation = self._sheet_latest.next()
        try:
            desk = self.ctx.desk
        except AccessDenied as exc:
            self._load_failed(generation, exc)
            return
        now = desk_now(self.ctx)
        rx_id, scheduled = self.prescription_id, self.scheduled_for
        # Reloading (another PC wrote, a correction was made): the verdict for what is typed.
        typed = self._preview_args() if keep_inputs and self.sheet is not None else None
        self.busy.start()

        def op() -> DoseSheet:
            sheet = dose_sheet(desk, rx_id, now=now, scheduled_for=scheduled)
            if typed is not None:
                sheet = _with_preview(sheet, typed.preview(desk, rx_id, now, scheduled))
            return sheet

        run_in_background(
            self,
            op,
            lambda sheet: self._show_sheet(generation, sheet, keep_inputs),
            lambda exc: self._load_failed(generation, exc),
        )

    def _show_sheet(self, generation: int, sheet: DoseSheet, keep_inputs: bool) -> None:
        if not self._sheet_latest.is_current(generation):
            return
        self.busy.reset()
        self.sheet = sheet
        self._tz = ZoneInfo(sheet.school_timezone)
        card, rx = sheet.student, sheet.prescription
        self.setWindowTitle(f"Record a dose — {card.full_name}")
        self.photo.setPixmap(initials_pixmap(card, self._photo_size, self.devicePixelRatioF()))
        self.photo.setToolTip(f"No photo on file ({card.initials})")
        self.student_name.setText(card.full_name)
        self.student_details.setText(f"{card.grade_label}  ·  Student no. {card.student_number}")
        if card.allergies:
            parts = [f"{a.allergen} ({a.severity_label})" for a in card.allergies]
            self.allergies.setText("Allergies: " + "; ".join(parts))
            self.allergies.setProperty("alert", True)
            set_tone(self.allergies, "error")
        else:
            self.allergies.setText("No known allergies on file")
            self.allergies.setProperty("alert", False)
            set_tone(self.allergies, "muted")
        repolish(self.allergies)
        self.medication.setText(rx.medication_label)
        self.controlled.setText(controlled_text(rx))
        set_tone(self.controlled, "warning" if rx.is_controlled else "muted")
        self.dose.setText(rx.dosage)
        conflict = rx.dose_conflict
        self.dose_conflict.setText(conflict or "")
        set_tone(self.dose_conflict, "warning")
        size = self.fontMetrics().height()
        self.dose_conflict_icon.setPixmap(warning_icon("warning").pixmap(size, size))
        self.dose_conflict_row.setVisible(bool(conflict))
        self.route.setText(rx.route)
        self.order.setText(self._order_text())
        last = rx.authorization_expires
        until = f"until {last.isoformat()}" if last else "until the end of the school year"
        self.authorization.setText(f"{until} · prescribed by {rx.prescribed_by}")
        self._show_logs(sheet.logs)
        if not keep_inputs:
            self._fill_inputs(sheet)
            self._fit_to_screen()  # the content is known now: fit it (long names wrap)
        self._set_form_enabled(True)
        self._show_preview(sheet.preview)
        self.loaded.emit(True)

    def _fit_to_screen(self) -> None:
        """As big as the content asks (at the dialog's width, wrapped lines included), never
        bigger than the screen's free area: the body then scrolls instead of squeezing lines."""
        em = self.fontMetrics().height()
        screen = self.screen() or QGuiApplication.primaryScreen()
        free = screen.availableGeometry().size() if screen is not None else QSize(1920, 1080)
        width = min(max(self.width(), int(em * 64)), free.width() - 40)
        tallest = free.height() - 60
        self.resize(width, tallest)
        self.columns.setDirection(
            QBoxLayout.Direction.LeftToRight
            if width >= self._two_columns_from
            else QBoxLayout.Direction.TopToBottom
        )
        layout = self.layout()
        if layout is not None:
            layout.activate()
        viewport = self.body_scroll.viewport().width()
        needed = (
            self.body.heightForWidth(viewport)
            if self.body.hasHeightForWidth()
            else self.body.sizeHint().height()
        )
        rest = self.height() - self.body_scroll.height()
        self.resize(width, max(min(rest + needed + 2, tallest), self.minimumSizeHint().height()))

    def _order_text(self) -> str:
        assert self.sheet is not None
        rx = self.sheet.prescription
        parts = [f"“{rx.frequency}”"]
        if rx.is_prn:
            parts.append(f"PRN: {rx.prn_label}")
        if rx.instructions:
            parts.append(rx.instructions)
        return "\n".join(parts)

    def _fill_inputs(self, sheet: DoseSheet) -> None:
        now_local = desk_now(self.ctx).astimezone(self._tz)
        self.time_edit.blockSignals(True)  # the sheet's preview is already for "now"
        self._set_time_given(now_local)
        self.time_edit.blockSignals(False)
        self.dosage_edit.setText(sheet.prescription.dosage)
        self._fill_lots(sheet.lots)

    def _fill_lots(self, lots: Sequence[StockLot]) -> None:
        self.lot_combo.blockSignals(True)
        self.lot_combo.clear()
        chosen = default_lot(lots)
        select = -1
        for lot in lots:
            own = " · own supply" if lot.student_id is not None else ""
            expires = lot.expiration_date.isoformat()
            if lot.usable:
                label = f"Lot {lot.batch_number} · {lot.quantity} left · exp {expires}{own}"
            else:
                why = "expired" if lot.expired else "empty"
                label = f"Lot {lot.batch_number} · {why} · exp {expires}{own}"
            self.lot_combo.addItem(label, lot)
            if not lot.usable:
                item = self.lot_combo.model().item(self.lot_combo.count() - 1)  # type: ignore[attr-defined]
                item.setEnabled(False)
            if chosen is not None and lot.id == chosen.id:
                select = self.lot_combo.count() - 1
        self.lot_combo.addItem(OWN_SUPPLY_LABEL, None)
        self.lot_combo.setCurrentIndex(select if select >= 0 else self.lot_combo.count() - 1)
        self.lot_combo.blockSignals(False)
        self._lot_changed()

    def _show_logs(self, logs: Sequence[DoseLogInfo]) -> None:
        current = [
            entry for entry in logs if not entry.superseded and entry.status != "ENTERED_IN_ERROR"
        ]
        if not current:
            self.today_logs.setText("Today: nothing recorded yet for this order.")
            set_tone(self.today_logs, "muted")
            return
        lines = []
        for entry in current:
            when = entry.time_given.astimezone(self._tz).strftime("%H:%M")
            for_dose = ""
            if entry.scheduled_for is not None:
                for_dose = (
                    f" (the {entry.scheduled_for.astimezone(self._tz).strftime('%H:%M')} dose)"
                )
            lines.append(f"{when} {entry.outcome_label}{for_dose} by {entry.nurse_name}")
        self.today_logs.setText("Today: " + "; ".join(lines))
        set_tone(self.today_logs, None)

    def _load_failed(self, generation: int, exc: BaseException) -> None:
        if not self._sheet_latest.is_current(generation):
            return
        self.busy.reset()
        self.banner.show_message("error", f"Could not open this dose: {friendly_error(exc)}")
        if self.sheet is None:
            self.student_name.setText("Not available")
        self.loaded.emit(False)

    # -- preview (rules before pressing) ---------------------------------------------------

    @Slot()
    def _run_preview(self) -> None:
        if self.sheet is None:
            return
        generation = self._preview_latest.next()
        try:
            desk = self.ctx.desk
        except AccessDenied:
            return  # nobody signed in any more: "Record" says so
        rx_id, scheduled = self.prescription_id, self.scheduled_for
        typed, now = self._preview_args(), desk_now(self.ctx)
        run_in_background(
            self,
            lambda: typed.preview(desk, rx_id, now, scheduled),
            lambda preview: self._preview_ready(generation, preview),
            lambda exc: self._preview_failed(generation, exc),
        )

    def _preview_args(self) -> TypedInputs:
        """What the nurse has typed, as ``preview_dose`` takes it: the same verdict
        ``record_dose`` would give (quantity and dose text checked against the order too)."""
        given = self._given()
        lot = self.selected_lot() if given else None
        return TypedInputs(
            at=self._time_given(),
            status="GIVEN" if given else "NOT_GIVEN",
            dosage_given=(self.dosage_edit.text().strip() or None) if given else None,
            quantity_used=self.quantity.value() if lot is not None else None,
            inventory_id=lot.id if lot is not None else None,
        )

    def _preview_ready(self, generation: int, preview: DosePreview) -> None:
        if self._preview_latest.is_current(generation):
            self._show_preview(preview)

    def _preview_failed(self, generation: int, exc: BaseException) -> None:
        if self._preview_latest.is_current(generation):
            self.banner.show_message("warning", f"The checks could not run: {friendly_error(exc)}")

    def _show_preview(self, preview: DosePreview) -> None:
        if self._refusal is not None:
            # The server's last refusal may know more than the preview: its findings stay on
            # screen until the nurse presses Record again.
            seen = {w.code for w in preview.warnings}
            extra = tuple(w for w in self._refusal.warnings if w.code not in seen)
            preview = replace(preview, warnings=preview.warnings + extra)
        self.preview = preview
        self._update_time_label()
        status = "GIVEN" if self._given() else "NOT_GIVEN"
        if preview.status == status:
            self.warning_list.set_warnings(self._listed(preview.warnings))
            if preview.needs_override and not preview.blockers:
                self._reveal_override()
        else:
            # A verdict for the other choice (the new one is being checked): as notices.
            self.warning_list.set_warnings(
                [replace(w, blocking=False) for w in self._listed(preview.warnings)]
            )
            self._preview_timer.start()
        self._show_already_given(preview.warnings, preview.existing_log_id)
        self._update_record_button()

    def _listed(self, warnings: Sequence[RuleWarning]) -> list[RuleWarning]:
        """The findings for the warning list: those said elsewhere in the dialog (the
        "already given" box, the dose-conflict line under the dose) are not repeated."""
        shown_elsewhere = set(POINTS_AT_LOG)
        if self.dose_conflict_row.isVisibleTo(self):
            shown_elsewhere.add(WarningCode.DOSE_STRENGTH_CONFLICT)
        return [w for w in warnings if w.code not in shown_elsewhere]

    def _show_already_given(
        self, warnings: Sequence[RuleWarning], log_id: uuid.UUID | None
    ) -> None:
        """The "already given" state: who gave it and when (the rule's sentence), and
        "Correct…" on that record. Shown whatever the chosen outcome."""
        found = next((w for w in warnings if w.code in POINTS_AT_LOG), None)
        if found is None:
            self.existing_log_id = None
            self.already_box.hide()
            return
        pointed = found.log_id if isinstance(found.log_id, uuid.UUID) else None
        self.existing_log_id = log_id or pointed or self._given_log_for_target()
        text = found.message
        if "Correct…" not in text:
            text += " If that record is wrong, use Correct… on it."
        self.already_text.setText(text)
        set_tone(self.already_text, "error")
        size = self.fontMetrics().height()
        self.already_icon.setPixmap(warning_icon("error").pixmap(size, size))
        self.already_correct.setEnabled(self.existing_log_id is not None)
        self.already_box.show()

    def _given_log_for_target(self) -> uuid.UUID | None:
        """The current GIVEN of today that satisfies the dose this dialog is about: the one
        tagged for it, else the one nearest to it (the rule matches by window, not by tag)."""
        if self.sheet is None:
            return None
        given = [e for e in self.sheet.logs if e.status == "GIVEN" and not e.superseded]
        if not given:
            return None
        target = self.scheduled_for or (self.preview.scheduled_for if self.preview else None)
        if target is None:
            return given[-1].id
        tagged = [e for e in given if e.scheduled_for == target]
        if tagged:
            return tagged[-1].id
        return min(given, key=lambda e: abs((e.time_given - target).total_seconds())).id

    def _update_time_label(self) -> None:
        if self.sheet is None:
            return
        rx = self.sheet.prescription
        target = self.scheduled_for or (self.preview.scheduled_for if self.preview else None)
        if target is not None:
            local = target.astimezone(self._tz)
            day = "today" if local.date() == self.sheet.day else local.strftime("%a %d %b")
            text = f"Scheduled {local.strftime('%H:%M')} {day}"
            if self.scheduled_for is None:
                text += " (matched to the time given)"
        elif rx.is_prn:
            text = f"As needed — {rx.prn_label}"
        else:
            text = f"School times {rx.times_label}; no scheduled dose near the time given"
        self.time_label.setText(text)

    # -- inputs ----------------------------------------------------------------------------

    def _given(self) -> bool:
        return self.outcomes.checkedId() == 0

    def _reason(self) -> NotGivenReason | None:
        checked = self.outcomes.checkedId()
        return OUTCOMES[checked][2] if checked > 0 else None

    def _set_time_given(self, local: dt.datetime) -> None:
        self.time_edit.setDateTime(
            QDateTime(
                QDate(local.year, local.month, local.day),
                QTime(local.hour, local.minute),
                _WALL_CLOCK,
            )
        )

    def _time_given(self) -> dt.datetime:
        """The edited wall-clock time, in the school's timezone (aware)."""
        value = self.time_edit.dateTime()
        d, t = value.date(), value.time()
        naive = dt.datetime(d.year(), d.month(), d.day(), t.hour(), t.minute())
        return naive.replace(tzinfo=self._tz).astimezone(dt.UTC).astimezone(self._tz)

    def set_time_given(self, moment: dt.datetime) -> None:
        """Set the time given (tests, and a future "given at" shortcut)."""
        self._set_time_given(moment.astimezone(self._tz))

    @Slot(QAbstractButton, bool)
    def _outcome_changed(self, _button: QAbstractButton, checked: bool) -> None:
        if not checked:
            return
        given = self._given()
        self.time_caption.setText("Time given:" if given else "Time:")
        for part in (self.lot_combo, self.quantity, self.stock_caption, self.quantity_caption):
            part.setEnabled(given and self.sheet is not None)
        self.dosage_edit.setEnabled(given and self.sheet is not None)
        if not given:
            for widget in (self.override_caption, self.override_edit, self.override_hint):
                widget.hide()
        if self.preview is not None:
            self._show_preview(self.preview)
        self._update_record_button()

    @Slot()
    def _lot_changed(self, *_args: object) -> None:
        lot = self.selected_lot()
        if lot is None:
            self.quantity.setRange(1, 1)
            self.quantity.setEnabled(False)
        else:
            self.quantity.setRange(1, max(1, lot.quantity))
            self.quantity.setEnabled(self._given())

    def selected_lot(self) -> StockLot | None:
        data = self.lot_combo.currentData()
        return data if isinstance(data, StockLot) else None

    def select_lot(self, lot_id: uuid.UUID | None) -> None:
        for i in range(self.lot_combo.count()):
            data = self.lot_combo.itemData(i)
            if (data is None and lot_id is None) or (
                isinstance(data, StockLot) and data.id == lot_id
            ):
                self.lot_combo.setCurrentIndex(i)
                return
        raise KeyError(lot_id)

    def select_outcome(self, reason: NotGivenReason | None) -> None:
        name = next(n for n, _label, r in OUTCOMES if r == reason)
        self.outcome_buttons[name].setChecked(True)

    def _reveal_override(self) -> None:
        if not self.override_edit.isVisible():
            self.override_caption.show()
            self.override_edit.show()
            self.override_hint.show()

    @Slot(str)
    def _override_changed(self, text: str) -> None:
        problem = override_problem(text) if text.strip() else None
        self.override_hint.setText(OVERRIDE_HINT if problem is None else problem)
        set_tone(self.override_hint, "warning" if problem else "muted")
        self._update_record_button()

    def _set_form_enabled(self, enabled: bool) -> None:
        for button in self.outcome_buttons.values():
            button.setEnabled(enabled)
        for widget in (self.time_edit, self.notes, self.override_edit):
            widget.setEnabled(enabled)
        given = self._given()
        for part in (self.lot_combo, self.dosage_edit, self.stock_caption, self.quantity_caption):
            part.setEnabled(enabled and given)
        self.quantity.setEnabled(enabled and given and self.selected_lot() is not None)
        self.reaction_button.setEnabled(enabled)
        self.history_button.setEnabled(self.sheet is not None)
        self._update_record_button()

    def _update_record_button(self) -> None:
        if not hasattr(self, "record_button"):
            return
        reason = self._reason()
        label = "Record: Given" if reason is None else f"Record: Not given ({reason.label})"
        self.record_button.setText(label)
        ok, why = self._can_record()
        self.record_button.setEnabled(ok)
        self.record_button.setToolTip(why)

    def _can_record(self) -> tuple[bool, str]:
        if self.sheet is None or self._in_flight or self._finished_ok:
            return False, ""
        if self.ctx.user_id is None:
            return False, "Choose who is at the desk first."
        status = "GIVEN" if self._given() else "NOT_GIVEN"
        preview = self.preview
        if preview is not None and preview.status == status and preview.blockers:
            what = "as given" if status == "GIVEN" else "as not given"
            return False, f"The warnings in red do not allow this dose to be recorded {what}."
        if self._reason() is NotGivenReason.OTHER and not self.notes.toPlainText().strip():
            return False, "Reason “Other” needs a note saying what happened."
        return True, ""

    # -- recording -------------------------------------------------------------------------

    def command(self) -> DoseCommand:
        """The command the button sends (same id every time)."""
        assert self.sheet is not None and self.ctx.user_id is not None
        given = self._given()
        reason = self._reason()
        lot = self.selected_lot() if given else None
        notes = self.notes.toPlainText().strip() or None
        override = (
            self.override_edit.text().strip() if given and self.override_edit.isVisible() else ""
        )
        scheduled = self.scheduled_for
        if not given and scheduled is None and self.preview is not None:
            scheduled = self.preview.scheduled_for  # the dose this decision is about
        dosage = self.dosage_edit.text().strip() if given else ""
        return DoseCommand(
            id=self.command_id,
            prescription_id=self.prescription_id,
            nurse_id=self.ctx.user_id,
            status="GIVEN" if given else "NOT_GIVEN",
            time_given=self._time_given(),
            scheduled_for=scheduled,
            dosage_given=dosage or None,
            reason=reason.value if reason else None,
            notes=notes,
            inventory_id=lot.id if lot else None,
            quantity_used=self.quantity.value() if lot else None,
            override_reason=override or None,
        )

    @Slot()
    def record(self) -> None:
        ok, why = self._can_record()
        if not ok:
            if why:
                self.banner.show_message("warning", why)
            return
        if self._given() and self.preview is not None and self.preview.needs_override:
            if not self.override_edit.text().strip():
                self._reveal_override()
                self.override_edit.setFocus()
                self.banner.show_message(
                    "warning",
                    "Write why you are giving this dose despite the warning, then press Record again.",
                )
                return
        if self._given() and self.override_edit.isVisible() and self.override_edit.text().strip():
            problem = override_problem(self.override_edit.text())
            if problem is not None:
                self.override_edit.setFocus()
                self.banner.show_message("warning", problem)
                return
        cmd = self.command()
        self._refusal = None
        self._in_flight = True
        self._update_record_button()
        self.banner.clear()
        self.busy.start()
        desk = self.ctx.desk
        run_in_background(
            self,
            lambda: record_dose(desk, cmd),
            lambda result: self._recorded(result, cmd),
            self._record_failed,
        )

    def _recorded(self, result: DoseResult, cmd: DoseCommand) -> None:
        self._in_flight = False
        self.busy.reset()
        self.result_ = result
        self._finished_ok = True
        self._update_record_button()
        self._after_recorded(result, cmd)

    def _after_recorded(self, result: DoseResult, cmd: DoseCommand) -> None:
        if result.outcome == "QUEUED_OFFLINE":
            self.banner.show_message("info", OFFLINE_MESSAGE)
            self._set_form_enabled(False)
            self.record_button.hide()
            self.cancel_button.setText("Close")
            self.recorded.emit(result)
            return
        school = str(self.ctx.school_id or (self.sheet.school_id if self.sheet else "*"))
        self.ctx.announce_change("medication_logs", school)
        if cmd.inventory_id is not None:
            self.ctx.announce_change("medication_inventory", school)
        self.recorded.emit(result)
        self.accept()

    def _record_failed(self, exc: BaseException) -> None:
        self._in_flight = False
        self.busy.reset()
        if isinstance(exc, DoseRefused):
            self._refusal = exc
            self.warning_list.set_warnings(self._listed(exc.warnings))
            existing = exc.existing_log_id
            self._show_already_given(
                exc.warnings, existing if isinstance(existing, uuid.UUID) else None
            )
            if exc.warnings and all(w.overridable for w in exc.warnings):
                self._reveal_override()
                self.override_edit.setFocus()
                self.banner.show_message(
                    "error",
                    "Not recorded. To give it anyway, write an override reason and press Record again.",
                )
            else:
                self.banner.show_message("error", "Not recorded: " + friendly_error(exc))
            # What the server knows now (another PC may have recorded it) decides the button.
            self.preview = DosePreview(
                exc.warnings,
                self.preview.scheduled_for if self.preview else None,
                self._time_given(),
                status="GIVEN" if self._given() else "NOT_GIVEN",
            )
            # …and the order's records (who gave it, for "Correct…") are read again.
            self._load(keep_inputs=True)
        elif isinstance(exc, DoseInputError | ValueError):
            self.banner.show_message("error", f"Not recorded: {exc}")
        else:
            log.warning("recording a dose failed: %s", type(exc).__name__)
            self.banner.show_message("error", f"Not recorded: {friendly_error(exc)}")
        self._update_record_button()

    # -- other -----------------------------------------------------------------------------

    @Slot()
    def open_reaction(self) -> None:
        if self.sheet is None:
            return
        from medapp.ui.dialogs.reaction_dialog import ReactionDialog  # imports this module

        sheet = self.sheet
        given = [e for e in sheet.logs if e.status == "GIVEN" and not e.superseded]
        self._reaction_slot.open(
            lambda: ReactionDialog(
                self.ctx,
                sheet.student.id,
                sheet.prescription.medication_id,
                prescription_id=self.prescription_id,
                log_id=given[-1].id if given else None,
                parent=self,
            )
        )

    @property
    def reaction_dialog(self) -> QDialog | None:
        return self._reaction_slot.current

    @property
    def correction_dialog(self) -> QDialog | None:
        return self._correction_slot.current

    def open_correction(self, log_id: uuid.UUID | None) -> QDialog | None:
        """The correction dialog on ``log_id`` (or on this order's history, to pick one)."""
        if self.sheet is None:
            return None
        from medapp.ui.dialogs.correction_dialog import CorrectionDialog  # imports this module

        return self._correction_slot.open(
            lambda: CorrectionDialog(self.ctx, self.prescription_id, log_id, parent=self)
        )

    def _correction_closed(self) -> None:
        if not self._finished_ok and not self._in_flight:
            # A correction changes what this dose may be: read the order's records again.
            self._refusal = None
            self._load(keep_inputs=True)

    @Slot(str, str)
    def _on_data_changed(self, table: str, school: str) -> None:
        if (
            self.sheet is None
            or self._in_flight
            or self._finished_ok
            or table not in WATCHED_TABLES
        ):
            return
        if school not in ("*", str(self.sheet.school_id)):
            return
        self._load(keep_inputs=True)

    def reject(self) -> None:
        if self._in_flight:  # never leave the nurse unsure whether the dose was saved
            self.banner.show_message("info", "Saving… the dialog closes when the server answers.")
            return
        super().reject()

    def done(self, result: int) -> None:
        try:
            self.ctx.hub.data_changed.disconnect(self._on_data_changed)
        except (RuntimeError, TypeError):
            pass
        super().done(result)


def _with_preview(sheet: DoseSheet, preview: DosePreview) -> DoseSheet:
    return replace(sheet, preview=preview)
