"""The student's page: allergies, conditions, emergency contacts, orders with their
authorization, today's doses, the last 30 days (corrections kept, the original struck
through), reactions and the student's own supply — and "Give PRN…" / "Record outcome…".

Reached from the Search pane (a student's name or number, or a scanned student ID card) and
from any dose row's menu ("Student page…"). Everything is read by
``services.student_page.student_page`` on a worker (opening it is audited as a READ); the
dialogs here only show plain dataclasses and send commands. "Correct…" on a dose reuses the
correction dialog; "Give PRN…" goes through ``record_dose``'s rules (PRN interval, daily
maximum, allergy), with the complaint required; the outcome is recorded later, once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from medapp.runtime.context import AppContext
from medapp.services.doses import DoseCommand, DoseResult
from medapp.services.student_page import (
    OUTCOME_LABELS,
    PageDose,
    PrnOutcomeCommand,
    StudentHit,
    StudentPage,
    give_prn,
    prn_orders_of_medication,
    record_prn_outcome,
    student_page,
)
from medapp.services.students import PrescriptionDetail, friendly_error
from medapp.ui.widgets import Banner, BusyIndicator
from medapp.ui.widgets.tables import setup_row_view
from medapp.ui.workers import run_in_background

_Index = QModelIndex | QPersistentModelIndex


class RowsModel(QAbstractTableModel):
    """Read-only rows of text for the page's lists; a row may be struck through (a record
    a correction superseded) and carries a payload (the dataclass behind it)."""

    def __init__(self, headers: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.headers = tuple(headers)
        self.rows: list[tuple[str, ...]] = []
        self.payloads: list[object] = []
        self.struck: list[bool] = []

    def set_rows(
        self,
        rows: Sequence[tuple[str, ...]],
        payloads: Sequence[object] | None = None,
        struck: Sequence[bool] | None = None,
    ) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.payloads = list(payloads) if payloads is not None else [None] * len(self.rows)
        self.struck = list(struck) if struck is not None else [False] * len(self.rows)
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.headers)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.headers[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self.rows[row][col]
        if role == Qt.ItemDataRole.FontRole and self.struck[row]:
            font = QFont()
            font.setStrikeOut(True)
            return font
        return None

    def payload(self, row: int) -> object:
        return self.payloads[row] if 0 <= row < len(self.payloads) else None


def _table(model: RowsModel, name: str, accessible: str) -> QTableView:
    view = QTableView()
    setup_row_view(view, model, object_name=name, accessible_name=accessible, sort_column=0)
    view.setSortingEnabled(False)
    view.verticalHeader().setVisible(False)
    view.setWordWrap(False)
    view.setAlternatingRowColors(True)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setTextElideMode(Qt.TextElideMode.ElideRight)
    return view


def _section(title: str, name: str) -> tuple[QFrame, QLabel]:
    frame = QFrame()
    frame.setProperty("card", True)
    box = QVBoxLayout(frame)
    box.setContentsMargins(10, 8, 10, 8)
    box.setSpacing(4)
    caption = QLabel(title)
    caption.setProperty("subheading", True)
    body = QLabel()
    body.setObjectName(name)
    body.setWordWrap(True)
    body.setTextFormat(Qt.TextFormat.PlainText)
    body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.addWidget(caption)
    box.addWidget(body)
    box.addStretch(1)
    return frame, body


def _dose_row(d: PageDose, zone: ZoneInfo, *, with_day: bool) -> tuple[str, ...]:
    local = d.log.time_given.astimezone(zone)
    when = local.strftime("%a %d %b %H:%M" if with_day else "%H:%M")
    outcome = d.log.outcome_label
    if d.log.correction_kind:
        outcome += f" (correction: {d.log.correction_reason or d.log.correction_kind})"
    return (
        when,
        d.medication_name,
        d.log.dosage_given or "",
        outcome,
        d.complaint or "",
        d.outcome_label if d.is_prn else "",
        d.log.nurse_name,
    )


DOSE_HEADERS = ("When", "Medication", "Dose", "Record", "Complaint", "PRN outcome", "Nurse")


class StudentPageDialog(QDialog):
    """One student's page (window-modal; reads on a worker, refreshes after a record)."""

    loaded = Signal(object)  # StudentPage
    recorded = Signal()  # a PRN dose, an outcome or a correction was written

    def __init__(
        self, ctx: AppContext, student_id: uuid.UUID, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.student_id = student_id
        self.page: StudentPage | None = None
        self.child: QDialog | None = None
        self.setObjectName("studentPage")
        self.setWindowTitle("Student page")
        try:
            self.zone = ZoneInfo(ctx.school_timezone)
        except Exception:  # noqa: BLE001 - a bad setting must not hide the page
            self.zone = ZoneInfo("UTC")
        self._build()
        cw = self.fontMetrics().averageCharWidth()
        self.resize(min(cw * 150, 1000), self.fontMetrics().height() * 40)
        self.reload()

    # -- layout ----------------------------------------------------------------------------

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setSpacing(8)
        self.name = QLabel("Loading…")
        self.name.setObjectName("studentPageName")
        self.name.setProperty("heading", True)
        self.meta = QLabel()
        self.meta.setObjectName("studentPageMeta")
        self.meta.setProperty("muted", True)
        self.allergies = QLabel()
        self.allergies.setObjectName("studentPageAllergies")
        self.allergies.setWordWrap(True)
        self.allergies.setTextFormat(Qt.TextFormat.PlainText)
        outer.addWidget(self.name)
        outer.addWidget(self.meta)
        outer.addWidget(self.allergies)
        self.banner = Banner("studentPageBanner")
        outer.addWidget(self.banner)
        self.busy = BusyIndicator("Opening the student's page…", "studentPageBusy")
        outer.addWidget(self.busy)

        cards = QHBoxLayout()
        cards.setSpacing(8)
        frame, self.conditions = _section("Conditions", "studentPageConditions")
        cards.addWidget(frame, 1)
        frame, self.contacts = _section("Emergency contacts", "studentPageContacts")
        cards.addWidget(frame, 1)
        frame, self.reactions_summary = _section("Reactions", "studentPageReactionSummary")
        cards.addWidget(frame, 1)
        outer.addLayout(cards)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("studentPageTabs")
        self.orders_model = RowsModel(
            ("Medication", "Dose", "Route", "When", "Authorization", "Prescriber"), self
        )
        self.today_model = RowsModel(DOSE_HEADERS, self)
        self.history_model = RowsModel(DOSE_HEADERS, self)
        self.reactions_model = RowsModel(
            ("When", "Medication", "Severity", "Reaction", "Action"), self
        )
        self.supplies_model = RowsModel(("Medication", "Lot", "Count", "Expires"), self)
        self.orders_view = _table(self.orders_model, "studentPageOrders", "The student's orders")
        self.today_view = _table(self.today_model, "studentPageToday", "Today's dose records")
        self.history_view = _table(
            self.history_model, "studentPageHistory", "Dose records of the last 30 days"
        )
        self.reactions_view = _table(self.reactions_model, "studentPageReactions", "Reactions")
        self.supplies_view = _table(
            self.supplies_model, "studentPageSupplies", "The student's own supply in the office"
        )
        self.tabs.addTab(self.orders_view, "Orders")
        self.tabs.addTab(self.today_view, "Today")
        self.tabs.addTab(self.history_view, "History (30 days)")
        self.tabs.addTab(self.reactions_view, "Reactions")
        self.tabs.addTab(self.supplies_view, "Supply")
        outer.addWidget(self.tabs, 1)

        buttons = QHBoxLayout()
        self.give_prn_button = QPushButton("Give PRN…")
        self.give_prn_button.setObjectName("studentPageGivePrn")
        self.give_prn_button.setToolTip("Give an as-needed dose and record the complaint")
        self.give_prn_button.setEnabled(False)
        self.give_prn_button.clicked.connect(self.open_give_prn)
        self.outcome_button = QPushButton("Record outcome…")
        self.outcome_button.setObjectName("studentPageOutcome")
        self.outcome_button.setToolTip("What became of an as-needed dose given earlier")
        self.outcome_button.setEnabled(False)
        self.outcome_button.clicked.connect(self.open_outcome)
        self.correct_button = QPushButton("Correct…")
        self.correct_button.setObjectName("studentPageCorrect")
        self.correct_button.setToolTip("Correct the selected dose record (Today or History)")
        self.correct_button.clicked.connect(self.open_correction)
        for b in (self.give_prn_button, self.outcome_button, self.correct_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.setObjectName("studentPageButtons")
        close.rejected.connect(self.reject)
        buttons.addWidget(close)
        outer.addLayout(buttons)

    # -- data ------------------------------------------------------------------------------

    def reload(self) -> None:
        self.busy.start()
        desk = self.ctx.desk
        student_id = self.student_id
        run_in_background(self, lambda: student_page(desk, student_id), self._loaded, self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.busy.stop()
        self.banner.error(friendly_error(exc))

    def _loaded(self, page: StudentPage) -> None:
        self.busy.stop()
        self.page = page
        card = page.student
        self.setWindowTitle(f"Student page — {card.display_name}")
        self.name.setText(card.full_name)
        self.meta.setText(
            f"{card.grade_label} · {card.student_number} · born "
            f"{page.date_of_birth.strftime('%d %b %Y')} · {page.school_name}"
        )
        if card.allergies:
            parts = [f"{a.allergen} ({a.severity_label})" for a in card.allergies]
            self.allergies.setText("Allergies: " + "; ".join(parts))
            self.allergies.setProperty("alert", True)
        else:
            self.allergies.setText("No known allergies recorded.")
            self.allergies.setProperty("alert", False)
        self.allergies.style().unpolish(self.allergies)
        self.allergies.style().polish(self.allergies)
        self.conditions.setText(
            "\n".join(
                f"{c.name}" + (f" — {c.care_plan}" if c.care_plan else "") for c in page.conditions
            )
            or "None recorded."
        )
        self.contacts.setText(
            "\n".join(
                f"{c.priority}. {c.name} ({c.relationship}) {c.phone}"
                + (f" — {c.notes}" if c.notes else "")
                for c in page.contacts
            )
            or "None recorded — ask the office for a contact."
        )
        self.reactions_summary.setText(
            "\n".join(
                f"{r.occurred_at.astimezone(self.zone).strftime('%d %b %Y')}: "
                f"{r.medication_name} ({r.severity.replace('_', '-').lower()})"
                for r in page.reactions[:4]
            )
            or "None reported."
        )
        self.orders_model.set_rows(
            [
                (
                    o.detail.medication_label,
                    o.detail.dosage,
                    o.detail.route,
                    (
                        f"as needed, {o.detail.prn_label}"
                        if o.detail.is_prn
                        else o.detail.times_label
                    )
                    + ("" if o.detail.is_active else " (ended)"),
                    o.authorization_message
                    or (
                        f"until {o.detail.authorization_expires.strftime('%d %b %Y')}"
                        if o.detail.authorization_expires
                        else "school year"
                    ),
                    o.detail.prescribed_by,
                )
                for o in page.orders
            ],
            [o.detail for o in page.orders],
            [not o.detail.is_active for o in page.orders],
        )
        self.today_model.set_rows(
            [_dose_row(d, self.zone, with_day=False) for d in page.today],
            list(page.today),
            [d.log.superseded for d in page.today],
        )
        self.history_model.set_rows(
            [_dose_row(d, self.zone, with_day=True) for d in page.history],
            list(page.history),
            [d.log.superseded for d in page.history],
        )
        self.reactions_model.set_rows(
            [
                (
                    r.occurred_at.astimezone(self.zone).strftime("%d %b %Y %H:%M"),
                    r.medication_name,
                    r.severity.replace("_", "-").lower(),
                    r.reaction,
                    r.action_taken or "",
                )
                for r in page.reactions
            ]
        )
        self.supplies_model.set_rows(
            [
                (s.medication_name, s.batch_number, str(s.quantity), s.expiration_date.isoformat())
                for s in page.supplies
            ]
        )
        for view in (self.orders_view, self.today_view, self.history_view):
            view.resizeColumnsToContents()
            view.horizontalHeader().setSectionResizeMode(
                view.model().columnCount() - 1, QHeaderView.ResizeMode.Stretch
            )
        self.give_prn_button.setEnabled(bool(page.prn_orders))
        self.outcome_button.setEnabled(bool(page.awaiting_outcome))
        if not page.supplies:
            self.tabs.setTabText(4, "Supply (none)")
        self.loaded.emit(page)

    def selected_dose(self) -> PageDose | None:
        view = self.history_view if self.tabs.currentWidget() is self.history_view else None
        view = view or self.today_view
        model = view.model()
        assert isinstance(model, RowsModel)
        rows = view.selectionModel().selectedRows()
        if not rows:
            return None
        dose = model.payload(rows[0].row())
        return dose if isinstance(dose, PageDose) else None

    # -- actions ---------------------------------------------------------------------------

    def _child(self, dialog: QDialog) -> QDialog:
        self.child = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: self._child_closed(dialog))
        dialog.open()
        return dialog

    def _child_closed(self, dialog: QDialog) -> None:
        if self.child is dialog:
            self.child = None

    def open_give_prn(self) -> GivePrnDialog | None:
        if self.page is None or not self.page.prn_orders or self.child is not None:
            return None
        dialog = GivePrnDialog(self.ctx, self.page.student.full_name, self.page.prn_orders, self)
        dialog.recorded.connect(self._after_record)
        self._child(dialog)
        return dialog

    def open_outcome(self) -> PrnOutcomeDialog | None:
        if self.page is None or self.child is not None:
            return None
        waiting = self.page.awaiting_outcome
        chosen = self.selected_dose()
        if chosen is None or not chosen.waiting_for_outcome:
            chosen = waiting[-1] if waiting else None
        if chosen is None:
            self.banner.show_message("info", "No as-needed dose is waiting for an outcome.")
            return None
        dialog = PrnOutcomeDialog(self.ctx, chosen, self.zone, self)
        dialog.recorded.connect(self._after_record)
        self._child(dialog)
        return dialog

    def open_correction(self) -> QDialog | None:
        from medapp.ui.dialogs.correction_dialog import CorrectionDialog

        dose = self.selected_dose()
        if dose is None or self.child is not None:
            if dose is None:
                self.banner.show_message(
                    "info", "Select a dose record under Today or History, then Correct…"
                )
            return None
        dialog = CorrectionDialog(self.ctx, dose.prescription_id, dose.log.id, parent=self)
        dialog.finished.connect(lambda result: self._after_record() if result else None)
        self._child(dialog)
        return dialog

    def _after_record(self, *_args: object) -> None:
        self.recorded.emit()
        self.reload()


class GivePrnDialog(QDialog):
    """An as-needed dose: which order, the complaint (required) and a note. Recorded through
    ``give_prn`` → ``record_dose`` (PRN interval and daily maximum, allergy, authorization)."""

    recorded = Signal(object)  # DoseResult

    def __init__(
        self,
        ctx: AppContext,
        student_name: str,
        orders: Sequence[PrescriptionDetail],
        parent: QWidget | None = None,
        *,
        labels: Sequence[str] | None = None,
    ) -> None:
        """``labels``: one per order, when the orders are of several students (from the
        formulary details: "Okafor, Mira · S000114 · 2 puffs · every 4 h")."""
        super().__init__(parent)
        self.ctx = ctx
        self.orders = tuple(orders)
        self.command_id = uuid.uuid4()  # once per dialog: a second press is the same dose
        self.setObjectName("givePrnDialog")
        self.setWindowTitle(f"Give PRN — {student_name}")
        outer = QVBoxLayout(self)
        heading = QLabel(
            f"As-needed dose for {student_name}" if labels is None else f"Give PRN — {student_name}"
        )
        heading.setProperty("heading", True)
        outer.addWidget(heading)
        self.banner = Banner("givePrnBanner")
        outer.addWidget(self.banner)
        form = QFormLayout()
        self.order = QComboBox()
        self.order.setObjectName("givePrnOrder")
        self.order.setAccessibleName("As-needed order")
        for i, o in enumerate(self.orders):
            text = labels[i] if labels is not None else o.medication_label
            self.order.addItem(f"{text} · {o.dosage} · {o.prn_label}", o.id)
        if len(self.orders) > 1:
            # several as-needed orders (an inhaler and an epinephrine pen): the nurse picks one
            self.order.setPlaceholderText("Choose the as-needed order…")
            self.order.setCurrentIndex(-1)
        self.complaint = QLineEdit()
        self.complaint.setObjectName("givePrnComplaint")
        self.complaint.setAccessibleName("Complaint")
        self.complaint.setPlaceholderText("Why — e.g. headache, stomach ache, asthma symptoms")
        self.complaint.setMaxLength(200)
        self.note = QLineEdit()
        self.note.setObjectName("givePrnNote")
        self.note.setAccessibleName("Note")
        self.note.setPlaceholderText("Optional note")
        form.addRow("Order", self.order)
        form.addRow("Complaint", self.complaint)
        form.addRow("Note", self.note)
        outer.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.setObjectName("givePrnButtons")
        self.give_button = buttons.addButton("Given now", QDialogButtonBox.ButtonRole.AcceptRole)
        self.give_button.setObjectName("givePrnGive")
        self.give_button.setProperty("primary", True)
        buttons.accepted.connect(self.give)
        buttons.rejected.connect(self.reject)
        outer.addWidget(buttons)
        self.complaint.returnPressed.connect(self.give)
        self.complaint.setFocus()

    def command(self) -> DoseCommand:
        actor = self.ctx.desk.actor
        return DoseCommand(
            id=self.command_id,
            prescription_id=self.order.currentData(),
            nurse_id=actor.user_id,
            status="GIVEN",
            time_given=self.ctx.now(),
            notes=self.note.text().strip() or None,
        )

    def select_order(self, prescription_id: uuid.UUID) -> bool:
        index = self.order.findData(prescription_id)
        if index >= 0:
            self.order.setCurrentIndex(index)
        return index >= 0

    def give(self) -> None:
        if self.order.currentIndex() < 0:
            self.banner.error("Choose the as-needed order the dose is given from.")
            self.order.setFocus()
            return
        complaint = self.complaint.text()
        if not complaint.strip():
            self.complaint.setProperty("invalid", True)
            self.banner.error('Say why the dose is given (the complaint, e.g. "headache").')
            self.complaint.setFocus()
            return
        self.give_button.setEnabled(False)
        desk, cmd = self.ctx.desk, self.command()
        run_in_background(
            self, lambda: give_prn(desk, cmd, complaint=complaint), self._done, self._failed
        )

    def _done(self, result: DoseResult) -> None:
        self.recorded.emit(result)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.give_button.setEnabled(True)
        self.banner.error(friendly_error(exc))


class PrnOutcomeDialog(QDialog):
    """What became of an as-needed dose: resolved / sent home / no change / other + note. Set
    once: the database keeps the first outcome and refuses a change."""

    recorded = Signal()

    def __init__(
        self, ctx: AppContext, dose: PageDose, zone: ZoneInfo, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.dose = dose
        self.command_id = uuid.uuid4()
        self.setObjectName("prnOutcomeDialog")
        self.setWindowTitle("PRN outcome")
        outer = QVBoxLayout(self)
        given = dose.log.time_given.astimezone(zone).strftime("%H:%M")
        about = QLabel(
            f"{dose.medication_name} given at {given} by {dose.log.nurse_name}"
            + (f" for {dose.complaint}" if dose.complaint else "")
        )
        about.setObjectName("prnOutcomeAbout")
        about.setWordWrap(True)
        outer.addWidget(about)
        self.banner = Banner("prnOutcomeBanner")
        outer.addWidget(self.banner)
        form = QFormLayout()
        self.outcome = QComboBox()
        self.outcome.setObjectName("prnOutcomeChoice")
        self.outcome.setAccessibleName("Outcome")
        for value, label in OUTCOME_LABELS.items():
            self.outcome.addItem(label, value)
        self.note = QLineEdit()
        self.note.setObjectName("prnOutcomeNote")
        self.note.setAccessibleName("Note")
        self.note.setPlaceholderText("e.g. back to class at 10:40; mother picked up")
        form.addRow("Outcome", self.outcome)
        form.addRow("Note", self.note)
        outer.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.save_button = buttons.addButton(
            "Record outcome", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.save_button.setObjectName("prnOutcomeSave")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        outer.addWidget(buttons)

    def save(self) -> None:
        desk = self.ctx.desk
        now: dt.datetime = self.ctx.now()
        cmd = PrnOutcomeCommand(
            id=self.command_id,
            medication_log_id=self.dose.log.id,
            outcome=str(self.outcome.currentData()),
            recorded_by_id=desk.actor.user_id,
            observed_at=max(now, self.dose.log.time_given),
            note=self.note.text().strip() or None,
        )
        self.save_button.setEnabled(False)
        run_in_background(self, lambda: record_prn_outcome(desk, cmd), self._done, self._failed)

    def _done(self, _written: bool) -> None:
        self.recorded.emit()
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        self.banner.error(friendly_error(exc))


def open_student_page(ctx: AppContext, student_id: uuid.UUID, parent: QWidget) -> StudentPageDialog:
    """Open the student's page over ``parent`` — or raise the one already open there for
    this student (a double-click and a menu never open two)."""
    for existing in parent.findChildren(StudentPageDialog):
        if existing.student_id == student_id and existing.isVisible():
            existing.raise_()
            existing.activateWindow()
            return existing
    dialog = StudentPageDialog(ctx, student_id, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog


class StudentMatches(QWidget):
    """The Search pane's strip of students whose name or number matches what was typed: one
    button per student (at most six); clicking one opens her page."""

    chosen = Signal(object)  # student id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("studentMatches")
        self.hits: tuple[StudentHit, ...] = ()
        self._row = QHBoxLayout(self)
        self._row.setContentsMargins(0, 0, 0, 0)
        self._row.setSpacing(6)
        caption = QLabel("Students:")
        caption.setProperty("muted", True)
        self._row.addWidget(caption)
        self.buttons: list[QPushButton] = []
        self._row.addStretch(1)
        self.hide()

    def show_hits(self, hits: Sequence[StudentHit]) -> None:
        for b in self.buttons:
            self._row.removeWidget(b)
            b.deleteLater()
        self.buttons = []
        self.hits = tuple(hits)
        for i, hit in enumerate(self.hits):
            button = QPushButton(hit.label)
            button.setObjectName(f"studentMatch{i}")
            button.setProperty("chip", True)
            button.setToolTip("Open this student's page")
            button.clicked.connect(lambda _c=False, sid=hit.id: self.chosen.emit(sid))
            self._row.insertWidget(1 + i, button)
            self.buttons.append(button)
        self.setVisible(bool(self.hits))


def open_give_prn_for_medication(
    ctx: AppContext, medication_id: uuid.UUID, medication_name: str, parent: QWidget
) -> None:
    """ "Give PRN…" from the formulary details: the students of this desk's school with an
    as-needed order of the medication, one to choose; a sentence when there is none."""
    desk = ctx.desk

    def show(found: tuple[tuple[StudentHit, PrescriptionDetail], ...]) -> None:
        if not found:
            banner = getattr(parent, "banner", None)
            if isinstance(banner, Banner):
                banner.show_message(
                    "info",
                    f"No student of this school has an as-needed order of {medication_name}. "
                    "Enter the order first (the parent's signed form).",
                )
            return
        dialog = GivePrnDialog(
            ctx,
            medication_name,
            [detail for _hit, detail in found],
            parent,
            labels=[hit.label for hit, _detail in found],
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    run_in_background(parent, lambda: prn_orders_of_medication(desk, medication_id), show)
