"""Stock dialogs: correct a lot's count (with a recorded reason), and receive a new lot.

Both write through ``services.inventory_admin`` on a worker, with an id made when the dialog
opens (pressing Save twice changes stock once). A controlled substance needs a witness, chosen
from the other people of this desk, who types her own password (checked by the service). The service's refusals (``InventoryInputError``) appear under
the field concerned; a count changed meanwhile on another PC (``LotChanged``) shows the new
count and asks the nurse to check before saving again.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from PySide6.QtCore import QDate, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from medapp.formulary.search import MedicationHit
from medapp.runtime.context import AppContext
from medapp.services.inventory_admin import (
    MAX_QUANTITY,
    AdjustResult,
    InventoryInputError,
    LotAdjustment,
    LotChanged,
    LotRow,
    NewLot,
    add_lot,
    adjust_lot,
    school_today,
)
from medapp.services.people import DeskUser, desk_users
from medapp.services.students import friendly_error
from medapp.services.supplies import SupplyOwner, supply_owners
from medapp.ui.models.inventory_model import expires_text, medication_label, status_text
from medapp.ui.models.search_model import title_case_form
from medapp.ui.widgets import Banner, BusyIndicator, StatusBadge
from medapp.ui.widgets.forms import FieldErrors
from medapp.ui.workers import run_in_background

ADJUST_REASONS = (
    "Physical count correction",
    "Wasted (dropped or contaminated)",
    "Expired — disposed of",
    "Returned to parent or guardian",
    "Damaged",
    "Received more of this lot",
    "Other (say what happened)",
)
RECEIVE_REASONS = (
    "Received from supplier",
    "Brought in by parent or guardian",
    "Transferred from another school",
    "Other (say what happened)",
)
OTHER = "Other (say what happened)"


@dataclass(frozen=True)
class MedicationChoice:
    """The medication a new lot is of (from a search result or an existing lot)."""

    id: uuid.UUID
    name: str
    strength: str
    dosage_form: str
    is_controlled: bool
    dea_schedule: str | None

    @classmethod
    def from_hit(cls, hit: MedicationHit) -> MedicationChoice:
        return cls(
            hit.id, hit.name, hit.strength, hit.dosage_form, hit.is_controlled, hit.dea_schedule
        )

    @classmethod
    def from_lot(cls, lot: LotRow) -> MedicationChoice:
        return cls(
            lot.medication_id,
            lot.medication_name,
            lot.strength,
            lot.dosage_form,
            lot.is_controlled,
            lot.dea_schedule,
        )

    @property
    def label(self) -> str:
        return medication_label(self.name, self.strength)


def _reason_text(combo: QComboBox, details: QLineEdit) -> str:
    choice = combo.currentText()
    extra = details.text().strip()
    if choice == OTHER:
        return extra
    return f"{choice}: {extra}" if extra else choice


class _StockDialog(QDialog):
    """What both dialogs share: banner, busy bar, witness picker, reason, Save/Cancel."""

    def __init__(
        self, ctx: AppContext, object_name: str, controlled: bool, parent: QWidget | None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName(object_name)
        self.setModal(True)
        self.request_id = uuid.uuid4()  # one id per dialog: a double press saves once
        self.errors = FieldErrors()
        self.controlled = controlled
        self._saving = False
        self.outer = QVBoxLayout(self)
        self.outer.setSpacing(10)
        self.banner = Banner(f"{object_name}Banner")
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setVerticalSpacing(6)
        self.witness_combo = QComboBox()
        self.witness_combo.setObjectName(f"{object_name}Witness")
        self.witness_combo.setAccessibleName("Witness")
        self.witness_combo.addItem("Loading…", None)
        self.witness_combo.setEnabled(False)
        self.witness_combo.currentIndexChanged.connect(lambda _i: self.errors.clear("witness"))
        self.witness_password = QLineEdit()
        self.witness_password.setObjectName(f"{object_name}WitnessPassword")
        self.witness_password.setAccessibleName("Witness's password")
        self.witness_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.witness_password.setPlaceholderText("The witness types her own password")
        self.witness_password.textEdited.connect(lambda _t: self.errors.clear("witness_password"))
        self.busy = BusyIndicator("Saving…", f"{object_name}Busy")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.setObjectName(f"{object_name}Buttons")
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setObjectName(f"{object_name}Save")
        self.save_button.setDefault(True)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setObjectName(f"{object_name}Cancel")
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

    def _header(self, title: str, subtitle: str, badge: str | None) -> None:
        head = QVBoxLayout()
        head.setSpacing(2)
        name = QLabel(title)
        name.setObjectName(f"{self.objectName()}Title")
        name.setProperty("heading", True)
        name.setWordWrap(True)
        head.addWidget(name)
        sub = QHBoxLayout()
        info = QLabel(subtitle)
        info.setObjectName(f"{self.objectName()}Subtitle")
        info.setProperty("muted", True)
        info.setWordWrap(True)
        sub.addWidget(info, 1)
        if badge:
            sub.addWidget(StatusBadge("controlled", badge, f"{self.objectName()}Controlled"))
        head.addLayout(sub)
        self.outer.addLayout(head)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setProperty("muted", True)
        self.outer.addWidget(line)
        self.outer.addWidget(self.banner)

    def _reason_rows(self, reasons: tuple[str, ...]) -> None:
        name = self.objectName()
        self.reason_combo = QComboBox()
        self.reason_combo.setObjectName(f"{name}Reason")
        self.reason_combo.setAccessibleName("Reason")
        self.reason_combo.addItems(reasons)
        self.reason_combo.currentIndexChanged.connect(lambda _i: self.errors.clear("reason"))
        self.details_edit = QLineEdit()
        self.details_edit.setObjectName(f"{name}Details")
        self.details_edit.setPlaceholderText("Details (required for “Other”)")
        self.details_edit.setAccessibleName("Reason details")
        self.details_edit.setMaxLength(200)
        self.details_edit.textEdited.connect(lambda _t: self.errors.clear("reason"))
        self.form.addRow("Reason", self.reason_combo)
        self.form.addRow("Details", self.errors.wrap("reason", self.details_edit, f"{name}Details"))

    def _witness_row(self) -> None:
        if not self.controlled:
            self.witness_combo.hide()
            self.witness_password.hide()
            return
        self.form.addRow(
            "Witness *",
            self.errors.wrap("witness", self.witness_combo, self.witness_combo.objectName()),
        )
        self.form.addRow(
            "Witness's password *",
            self.errors.wrap(
                "witness_password", self.witness_password, self.witness_password.objectName()
            ),
        )
        desk, school_id = self.ctx.desk, self.ctx.school_id
        run_in_background(
            self,
            lambda: desk_users(desk, school_id),
            self._witnesses_loaded,
            lambda exc: self._witnesses_failed(exc),
        )

    def _witnesses_loaded(self, users: tuple[DeskUser, ...]) -> None:
        self.witness_combo.clear()
        self.witness_combo.addItem("Choose the second person…", None)
        for user in users:
            if user.id != self.ctx.user_id:
                self.witness_combo.addItem(
                    f"{user.display_name} — {user.role_label}", user.username
                )
        self.witness_combo.setEnabled(True)

    def _witnesses_failed(self, exc: BaseException) -> None:
        self.witness_combo.clear()
        self.witness_combo.addItem("Could not load the list", None)
        self.banner.show_message("error", f"The witness list did not load: {friendly_error(exc)}")

    def _finish_layout(self) -> None:
        self.outer.addLayout(self.form)
        self.outer.addWidget(self.busy)
        self.outer.addWidget(self.buttons)
        self.resize(self.fontMetrics().averageCharWidth() * 70, self.sizeHint().height())

    def _begin_save(self) -> bool:
        if self._saving:
            return False
        self.errors.clear()
        self.banner.clear()
        if self.ctx.user_id is None:
            self.banner.show_message("error", "Nobody is signed in at this desk.")
            return False
        if self.reason_combo.currentText() == OTHER and not self.details_edit.text().strip():
            self.errors.set("reason", "Say what happened: “Other” needs details.")
            return False
        if self.controlled and self.witness_combo.currentData() is None:
            self.errors.set(
                "witness", "A controlled substance is counted with a witness: choose who."
            )
            return False
        if self.controlled and not self.witness_password.text():
            self.errors.set(
                "witness_password", "The witness types her own password to confirm the count."
            )
            return False
        self._saving = True
        self.save_button.setEnabled(False)
        self.busy.start()
        return True

    def _end_save(self) -> None:
        self._saving = False
        self.busy.stop()
        self.save_button.setEnabled(True)

    def _witness(self) -> dict[str, str | None]:
        if not self.controlled:
            return {}
        return {
            "witness_username": self.witness_combo.currentData(),
            "witness_password": self.witness_password.text(),
        }

    def _show_failure(self, exc: BaseException) -> None:
        self._end_save()
        if isinstance(exc, InventoryInputError) and exc.field == "witness_password":
            self.witness_password.clear()
        if isinstance(exc, InventoryInputError) and self.errors.set(exc.field, str(exc)):
            return
        self.banner.show_message("error", f"Not saved: {friendly_error(exc)}")

    def save(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class AdjustStockDialog(_StockDialog):
    """Correct one lot's count; the change and its reason go to the ledger."""

    adjusted = Signal(object)  # AdjustResult

    def __init__(self, ctx: AppContext, lot: LotRow, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "adjustStockDialog", lot.is_controlled, parent)
        self.lot = lot
        self.expected = lot.quantity
        self.result_value: AdjustResult | None = None
        self.setWindowTitle("Adjust stock")
        owner = f"  ·  {lot.student_name}'s own supply" if lot.student_name else ""
        self._header(
            lot.label,
            f"Lot {lot.batch_number}  ·  {title_case_form(lot.dosage_form)}  ·  expires "
            f"{expires_text(lot).strip()}{owner}",
            f"Controlled {lot.dea_schedule}" if lot.is_controlled else None,
        )
        self.current_label = QLabel()
        self.current_label.setObjectName("adjustCurrent")
        self.count_spin = QSpinBox()
        self.count_spin.setObjectName("adjustNewCount")
        self.count_spin.setAccessibleName("New count")
        self.count_spin.setRange(0, MAX_QUANTITY)
        self.count_spin.setValue(lot.quantity)
        self.count_spin.setMinimumWidth(self.fontMetrics().averageCharWidth() * 12)
        self.count_spin.valueChanged.connect(self._count_changed)
        self.change_label = QLabel()
        self.change_label.setObjectName("adjustChange")
        count_row = QHBoxLayout()
        count_row.addWidget(self.count_spin)
        count_row.addWidget(self.change_label, 1)
        count_box = QWidget()
        count_box.setLayout(count_row)
        count_row.setContentsMargins(0, 0, 0, 0)
        self.form.addRow("On the shelf now", self.current_label)
        self.form.addRow("New count", self.errors.wrap("quantity", count_box, "adjustNewCount"))
        self._reason_rows(ADJUST_REASONS)
        self._witness_row()
        self._finish_layout()
        self._show_current()
        self.save_button.setText("Save change")
        self.count_spin.setFocus()
        self.count_spin.selectAll()

    def _show_current(self) -> None:
        self.current_label.setText(
            f"{self.expected:,}   (reorder at {self.lot.reorder_level:,}; {status_text(self.lot).lower()})"
        )
        self._count_changed(self.count_spin.value())

    @Slot(int)
    def _count_changed(self, value: int) -> None:
        self.errors.clear("quantity")
        delta = value - self.expected
        if delta == 0:
            self.change_label.setText("no change")
        else:
            self.change_label.setText(f"{delta:+,}  (from {self.expected:,} to {value:,})")
        self.save_button.setEnabled(delta != 0 and not self._saving)

    @property
    def delta(self) -> int:
        return self.count_spin.value() - self.expected

    @Slot()
    def save(self) -> None:
        if self.delta == 0:
            self.errors.set("quantity", "The new count is the same as the count on the shelf.")
            return
        if not self._begin_save():
            return
        cmd = LotAdjustment(
            id=self.request_id,
            inventory_id=self.lot.id,
            reason=_reason_text(self.reason_combo, self.details_edit),
            new_quantity=self.count_spin.value(),
            expected_quantity=self.expected,
            **self._witness(),  # type: ignore[arg-type]
        )
        desk = self.ctx.desk
        run_in_background(self, lambda: adjust_lot(desk, cmd), self._saved, self._failed)

    def _saved(self, result: AdjustResult) -> None:
        self._end_save()
        self.result_value = result
        school = str(result.school_id) if result.school_id else "*"
        self.ctx.announce_change("medication_inventory", school)
        self.adjusted.emit(result)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, LotChanged):
            self.expected = exc.current
            self._show_current()
        self._show_failure(exc)
        if isinstance(exc, LotChanged):
            self.save_button.setEnabled(self.delta != 0)


class AddLotDialog(_StockDialog):
    """Put a newly received lot of one medication on this school's shelf."""

    added = Signal(object)  # LotRow

    def __init__(
        self, ctx: AppContext, medication: MedicationChoice, parent: QWidget | None = None
    ) -> None:
        super().__init__(ctx, "addLotDialog", medication.is_controlled, parent)
        self.medication = medication
        self.result_value: LotRow | None = None
        self.setWindowTitle("Receive stock")
        school = ctx.school_name or "this school"
        self._header(
            medication.label,
            f"{title_case_form(medication.dosage_form)}  ·  new lot on the shelf at {school}",
            f"Controlled {medication.dea_schedule or ''}".strip()
            if medication.is_controlled
            else None,
        )
        self.batch_edit = QLineEdit()
        self.batch_edit.setObjectName("lotBatch")
        self.batch_edit.setPlaceholderText("Lot number printed on the box")
        self.batch_edit.setAccessibleName("Lot number")
        self.batch_edit.setMaxLength(64)
        self.batch_edit.textEdited.connect(lambda _t: self.errors.clear("batch"))
        self.quantity_spin = QSpinBox()
        self.quantity_spin.setObjectName("lotQuantity")
        self.quantity_spin.setAccessibleName("Quantity received")
        self.quantity_spin.setRange(1, MAX_QUANTITY)
        self.quantity_spin.setValue(30)
        self.reorder_spin = QSpinBox()
        self.reorder_spin.setObjectName("lotReorder")
        self.reorder_spin.setAccessibleName("Reorder level")
        self.reorder_spin.setRange(0, MAX_QUANTITY)
        self.reorder_spin.setValue(5)
        self.reorder_spin.setToolTip("Warn when the lot holds this many or fewer")
        today = school_today(ctx.school_timezone, ctx.now())
        self.today = today
        self.expiry_edit = QDateEdit()
        self.expiry_edit.setObjectName("lotExpiry")
        self.expiry_edit.setAccessibleName("Expiry date")
        self.expiry_edit.setCalendarPopup(True)
        self.expiry_edit.setDisplayFormat("dd MMM yyyy")
        self.expiry_edit.setMinimumDate(QDate(today.year, today.month, today.day))
        next_year = today + dt.timedelta(days=365)
        self.expiry_edit.setDate(QDate(next_year.year, next_year.month, next_year.day))
        self.expiry_edit.dateChanged.connect(lambda _d: self.errors.clear("expiry"))
        for spin in (self.quantity_spin, self.reorder_spin):
            spin.setMinimumWidth(self.fontMetrics().averageCharWidth() * 12)
        self.form.addRow("Lot number *", self.errors.wrap("batch", self.batch_edit, "lotBatch"))
        self.form.addRow(
            "Quantity *", self.errors.wrap("quantity", self.quantity_spin, "lotQuantity")
        )
        self.form.addRow("Reorder at", self.errors.wrap("reorder", self.reorder_spin, "lotReorder"))
        self.form.addRow("Expires *", self.errors.wrap("expiry", self.expiry_edit, "lotExpiry"))
        self._owner_rows()
        self._reason_rows(RECEIVE_REASONS)
        self._witness_row()
        self._finish_layout()
        self.save_button.setText("Put on the shelf")
        self.batch_edit.setFocus()

    # -- whose stock: office stock or a student's own supply (issue 14) ---------------------

    @property
    def student_only(self) -> bool:
        """A schedule II medication is never office stock (the service refuses it too)."""
        return self.medication.dea_schedule == "CII"

    def _owner_rows(self) -> None:
        self.owner_combo = QComboBox()
        self.owner_combo.setObjectName("lotOwner")
        self.owner_combo.setAccessibleName("Whose stock")
        self.owner_combo.addItem("Loading…", None)
        self.owner_combo.setEnabled(False)
        self.owner_combo.setToolTip(
            "Medication a parent brings in is that student's own supply; her doses count it down."
        )
        self.owner_combo.currentIndexChanged.connect(self._owner_changed)
        self.brought_by_edit = QLineEdit()
        self.brought_by_edit.setObjectName("lotBroughtBy")
        self.brought_by_edit.setAccessibleName("Brought in by")
        self.brought_by_edit.setPlaceholderText("Parent or guardian who handed it in")
        self.brought_by_edit.setMaxLength(120)
        self.brought_by_edit.textEdited.connect(lambda _t: self.errors.clear("brought_by"))
        self.form.addRow("For *", self.errors.wrap("student", self.owner_combo, "lotOwner"))
        self.form.addRow(
            "Brought in by", self.errors.wrap("brought_by", self.brought_by_edit, "lotBroughtBy")
        )
        school_id = self.ctx.school_id
        if school_id is None:
            self._owners_loaded(())
            return
        desk, med_id = self.ctx.desk, self.medication.id
        run_in_background(
            self,
            lambda: supply_owners(desk, school_id, med_id),
            self._owners_loaded,
            lambda exc: self._owners_loaded((), exc),
        )

    def _owners_loaded(
        self, owners: tuple[SupplyOwner, ...], exc: BaseException | None = None
    ) -> None:
        self.owner_combo.blockSignals(True)
        self.owner_combo.clear()
        if self.student_only:
            self.owner_combo.addItem("Choose the student it was brought for…", None)
        else:
            self.owner_combo.addItem("Office stock", None)
        for owner in owners:
            self.owner_combo.addItem(f"{owner.label} — own supply", owner.student_id)
        if self.student_only and len(owners) == 1:
            self.owner_combo.setCurrentIndex(1)
        self.owner_combo.setEnabled(True)
        self.owner_combo.blockSignals(False)
        self._owner_changed()
        if exc is not None:
            self.banner.show_message(
                "error", f"The list of students did not load: {friendly_error(exc)}"
            )

    @Slot()
    def _owner_changed(self, *_args: object) -> None:
        self.errors.clear("student")
        reasons: QComboBox | None = getattr(self, "reason_combo", None)
        if reasons is not None and self.owner_combo.currentData() is not None:
            i = reasons.findText("Brought in by parent or guardian")
            if i >= 0 and reasons.currentText() == RECEIVE_REASONS[0]:
                reasons.setCurrentIndex(i)

    def select_owner(self, student_id: uuid.UUID | None) -> bool:
        for i in range(self.owner_combo.count()):
            if self.owner_combo.itemData(i) == student_id:
                self.owner_combo.setCurrentIndex(i)
                return True
        return False

    def owner_ids(self) -> list[uuid.UUID | None]:
        return [self.owner_combo.itemData(i) for i in range(self.owner_combo.count())]

    @Slot()
    def save(self) -> None:
        if not self.batch_edit.text().strip():
            self.errors.set("batch", "The lot number printed on the box is required.")
            return
        if self.ctx.school_id is None:
            self.banner.show_message("error", "No school is chosen for this desk.")
            return
        owner: uuid.UUID | None = self.owner_combo.currentData()
        if self.student_only and owner is None:
            self.errors.set(
                "student",
                "A schedule II medication is kept only as a student's own supply: choose her.",
            )
            return
        if self.brought_by_edit.text().strip() and owner is None:
            self.errors.set(
                "student", "Medication a parent brings in is that student's own supply."
            )
            return
        if not self._begin_save():
            return
        q = self.expiry_edit.date()
        cmd = NewLot(
            student_id=owner,
            brought_by=self.brought_by_edit.text() or None,
            id=self.request_id,
            medication_id=self.medication.id,
            school_id=self.ctx.school_id,
            batch_number=self.batch_edit.text(),
            quantity=self.quantity_spin.value(),
            reorder_level=self.reorder_spin.value(),
            expiration_date=dt.date(q.year(), q.month(), q.day()),
            reason=_reason_text(self.reason_combo, self.details_edit),
            **self._witness(),
        )
        desk = self.ctx.desk
        today = self.today
        run_in_background(
            self, lambda: add_lot(desk, cmd, today=today), self._saved, self._show_failure
        )

    def _saved(self, lot: LotRow) -> None:
        self._end_save()
        self.result_value = lot
        self.ctx.announce_change("medication_inventory", str(self.ctx.school_id or "*"))
        self.added.emit(lot)
        self.accept()


__all__ = ["AddLotDialog", "AdjustStockDialog", "MedicationChoice", "Qt"]
