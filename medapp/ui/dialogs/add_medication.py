"""Add a medication the formulary lacks (an over-the-counter item, a compounded liquid).

The rules are ``add_medication``'s (``medapp.formulary.manual``): name and form required, an NDC
typed with its dashes and never one that is already in the formulary. Its refusals come back as
``MedicationEntryError(field, message)`` and are shown under that field; a lost connection is a
banner, and nothing is saved.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from medapp.db.models import DEA_SCHEDULES
from medapp.formulary.search import MedicationHit
from medapp.runtime.context import AppContext
from medapp.services.formulary_admin import add_formulary_item
from medapp.services.search import DuplicateNdcError, MedicationEntryError
from medapp.services.students import friendly_error
from medapp.ui.widgets import Banner, BusyIndicator
from medapp.ui.widgets.forms import FieldErrors
from medapp.ui.workers import run_in_background

FORMS = (
    "Tablet",
    "Chewable tablet",
    "Capsule",
    "Orally disintegrating tablet",
    "Solution",
    "Suspension",
    "Syrup",
    "Aerosol, metered (inhaler)",
    "Inhalation solution (nebulizer)",
    "Injection (auto-injector)",
    "Nasal spray",
    "Eye drops",
    "Ear drops",
    "Cream",
    "Ointment",
    "Gel",
    "Lozenge",
)
ROUTES = (
    "Oral",
    "Inhalation",
    "Intramuscular",
    "Subcutaneous",
    "Nasal",
    "Ophthalmic",
    "Otic",
    "Topical",
    "Buccal",
    "Sublingual",
    "Rectal",
)


def save_medication(ctx: AppContext, fields: dict[str, Any]) -> MedicationHit:
    """Runs on a worker: the formulary service validates and inserts."""
    return add_formulary_item(ctx.desk, **fields)


class AddMedicationDialog(QDialog):
    added = Signal(object)  # MedicationHit

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, *, name: str = "") -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("addMedicationDialog")
        self.setWindowTitle("Add a medication to the formulary")
        self.setModal(True)
        self.result_hit: MedicationHit | None = None
        self.errors = FieldErrors()
        self._saving = False

        outer = QVBoxLayout(self)
        outer.setSpacing(10)
        heading = QLabel("Add a medication")
        heading.setObjectName("addMedicationTitle")
        heading.setProperty("heading", True)
        outer.addWidget(heading)
        intro = QLabel(
            "For items the FDA list lacks — over-the-counter medicines, school stock. "
            "Fields marked * are required."
        )
        intro.setObjectName("addMedicationIntro")
        intro.setProperty("muted", True)
        intro.setWordWrap(True)
        outer.addWidget(intro)
        self.banner = Banner("addMedicationBanner")
        outer.addWidget(self.banner)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setVerticalSpacing(6)
        self.name_edit = self._line("medName", "Brand or product name, e.g. Children's Tylenol")
        self.name_edit.setText(name if name and not name.replace("-", "").isdigit() else "")
        self.generic_edit = self._line("medGeneric", "e.g. acetaminophen")
        self.strength_edit = self._line("medStrength", "e.g. 160 mg/5 mL")
        self.form_combo = self._combo("medForm", FORMS, "Tablet, solution, inhaler…")
        self.route_combo = self._combo("medRoute", ROUTES, "Oral, inhalation…")
        self.maker_edit = self._line("medManufacturer", "Labeler or manufacturer")
        self.ndc_edit = self._line("medNdc", "As printed on the box, with dashes: 50580-488-02")
        self.package_edit = self._line("medPackage", "e.g. 1 bottle, 120 mL")
        self.otc_check = QCheckBox("Sold over the counter")
        self.otc_check.setObjectName("medOtc")
        self.otc_check.setChecked(True)
        self.schedule_combo = QComboBox()
        self.schedule_combo.setObjectName("medSchedule")
        self.schedule_combo.setAccessibleName("DEA schedule")
        self.schedule_combo.addItem("Not controlled", None)
        for code in DEA_SCHEDULES:
            self.schedule_combo.addItem(f"Schedule {code[1:]} ({code})", code)
        self.schedule_combo.currentIndexChanged.connect(self._schedule_changed)

        rows: list[tuple[str, str, QWidget]] = [
            ("name", "Name *", self.name_edit),
            ("generic_name", "Generic name", self.generic_edit),
            ("strength", "Strength", self.strength_edit),
            ("dosage_form", "Form *", self.form_combo),
            ("route", "Route", self.route_combo),
            ("manufacturer", "Manufacturer", self.maker_edit),
            ("ndc", "NDC", self.ndc_edit),
            ("package_description", "Package", self.package_edit),
            ("dea_schedule", "Controlled", self.schedule_combo),
        ]
        for field, label, widget in rows:
            form.addRow(label, self.errors.wrap(field, widget, widget.objectName()))
        form.addRow("", self.otc_check)
        outer.addLayout(form)

        self.busy = BusyIndicator("Saving…", "addMedicationBusy")
        outer.addWidget(self.busy)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.setObjectName("addMedicationButtons")
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setObjectName("addMedicationSave")
        self.save_button.setText("Add to formulary")
        self.save_button.setDefault(True)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setObjectName("addMedicationCancel")
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        outer.addWidget(self.buttons)
        self.resize(self.fontMetrics().averageCharWidth() * 72, self.sizeHint().height())

    def _line(self, object_name: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(object_name)
        edit.setPlaceholderText(placeholder)
        edit.setAccessibleName(placeholder)
        edit.textEdited.connect(lambda _t: self.errors.clear())
        return edit

    def _combo(self, object_name: str, items: tuple[str, ...], placeholder: str) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName(object_name)
        combo.setEditable(True)
        combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        combo.addItems(items)
        combo.setCurrentIndex(-1)
        combo.setAccessibleName(placeholder)
        line = combo.lineEdit()
        if line is not None:
            line.setPlaceholderText(placeholder)
            line.setObjectName(f"{object_name}Edit")
            line.textEdited.connect(lambda _t: self.errors.clear())
        return combo

    @Slot(int)
    def _schedule_changed(self, _index: int) -> None:
        if self.schedule_combo.currentData():
            self.otc_check.setChecked(False)

    def fields(self) -> dict[str, Any]:
        form = self.form_combo.currentText().strip()
        if form.endswith(")") and "(" in form:  # "Aerosol, metered (inhaler)" → the form only
            form = form[: form.rindex("(")].strip()
        return {
            "name": self.name_edit.text(),
            "generic_name": self.generic_edit.text() or None,
            "strength": self.strength_edit.text(),
            "dosage_form": form,
            "route": self.route_combo.currentText() or None,
            "manufacturer": self.maker_edit.text() or None,
            "ndc": self.ndc_edit.text() or None,
            "package_description": self.package_edit.text() or None,
            "is_otc": self.otc_check.isChecked(),
            "dea_schedule": self.schedule_combo.currentData(),
        }

    @Slot()
    def save(self) -> None:
        if self._saving:
            return
        self.errors.clear()
        self.banner.clear()
        fields = self.fields()
        if not fields["name"].strip():
            self.errors.set("name", "The name is required.")
            return
        if not fields["dosage_form"]:
            self.errors.set("dosage_form", "The form is required (tablet, solution, inhaler…).")
            return
        self._saving = True
        self.save_button.setEnabled(False)
        self.busy.start()
        ctx = self.ctx
        run_in_background(self, lambda: save_medication(ctx, fields), self._saved, self._failed)

    def _saved(self, hit: MedicationHit) -> None:
        self._saving = False
        self.busy.stop()
        self.result_hit = hit
        self.ctx.announce_change("medications")
        self.added.emit(hit)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self._saving = False
        self.busy.stop()
        self.save_button.setEnabled(True)
        if isinstance(exc, MedicationEntryError):
            message = str(exc)
            if isinstance(exc, DuplicateNdcError) and exc.existing_name:
                message += " Search for it instead of adding it again."
            if self.errors.set(exc.field, message):
                return
        self.banner.show_message("error", f"Not saved: {friendly_error(exc)}")

    def keyPressEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self._saving:
            return
        super().keyPressEvent(event)
