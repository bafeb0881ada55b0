"""Supplies and letters…: students' own supplies, refill and authorization letters, field trips.

Everything is read and written through ``services.supplies`` / ``services.letters`` on a worker
(``run_in_background``); the letter's PDF is laid out here on the GUI thread with Qt's own PDF
writer (``reports.pdf.write_pdf``, one page). Three parts:

* "Needs attention": refill notices (5 school days left or fewer) and authorizations expiring
  within 30 days; "Letter…" writes the letter to the parent as a PDF;
* "Own supplies": one row per student and medication — doses left, school doses per day,
  school days left, the day it runs out;
* "Field trip": sign doses of the selected supply out to a teacher (count, trip, her name) and
  count back an open trip (returned, given on the trip, who brought them back; a shortfall
  needs a note). Both names are recorded, the count moves through the ledger.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QStandardPaths,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from medapp.reports.letters import letter_filename, letter_html, letter_title
from medapp.reports.pdf import write_pdf
from medapp.runtime.context import AppContext
from medapp.services.inventory_admin import InventoryInputError
from medapp.services.letters import LetterData, letter_data
from medapp.services.students import friendly_error
from medapp.services.supplies import (
    AttentionItem,
    SupplyLine,
    TripBack,
    TripOut,
    TripRow,
    count_back_trip,
    open_trips,
    school_supplies,
    sign_out_trip,
    supply_attention,
)
from medapp.ui.widgets import Banner
from medapp.ui.workers import run_in_background

HEADERS = ("Student", "Medication", "Left", "Per day", "School days", "Runs out")
_Index = QModelIndex | QPersistentModelIndex


class SupplyModel(QAbstractTableModel):
    """Students' own supplies as table rows (refill-due rows in bold)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lines: list[SupplyLine] = []

    def set_lines(self, lines: tuple[SupplyLine, ...]) -> None:
        self.beginResetModel()
        self.lines = list(lines)
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.lines)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        line = self.lines[index.row()]
        if role == Qt.ItemDataRole.FontRole and line.refill_due:
            from PySide6.QtGui import QFont

            font = QFont()
            font.setBold(True)
            return font
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        days = "—" if line.school_days_left is None else str(line.school_days_left)
        runs_out = line.runs_out_on.strftime("%a %d %b") if line.runs_out_on else "—"
        return (
            line.student_name,
            line.medication_label,
            str(line.quantity),
            str(line.doses_per_day) if line.doses_per_day else "PRN",
            days,
            runs_out,
        )[index.column()]


class SuppliesDialog(QDialog):
    """Students' own supplies of the desk's school, their letters and field trips."""

    loaded = Signal()
    letter_written = Signal(object)  # Path
    trip_recorded = Signal(object)  # TripRow

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("suppliesDialog")
        self.setWindowTitle("Supplies and letters")
        self.resize(900, 640)
        self.attention_items: tuple[AttentionItem, ...] = ()
        self.trips: tuple[TripRow, ...] = ()
        self._out_id = uuid.uuid4()  # one id per filled form: a double press records once
        self._back_id = uuid.uuid4()
        self.banner = Banner("suppliesBanner")

        self.attention_list = QListWidget()
        self.attention_list.setObjectName("supplyAttentionList")
        self.attention_list.setAccessibleName("Refills and authorizations that need a letter")
        self.attention_list.itemActivated.connect(lambda _i: self.save_letter())
        self.letter_button = QPushButton("Letter to the parent…")
        self.letter_button.setObjectName("supplyLetterButton")
        self.letter_button.clicked.connect(lambda: self.save_letter())
        attention = QGroupBox("Needs attention")
        attention.setObjectName("supplyAttentionGroup")
        box = QVBoxLayout(attention)
        box.addWidget(self.attention_list)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.letter_button)
        box.addLayout(row)

        self.model = SupplyModel(self)
        self.view = QTableView()
        self.view.setObjectName("supplyTable")
        self.view.setAccessibleName("Students' own supplies")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.verticalHeader().hide()
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        supplies = QGroupBox("Own supplies (kept in the office)")
        QVBoxLayout(supplies).addWidget(self.view)

        self.trip_doses = QSpinBox()
        self.trip_doses.setObjectName("tripDoses")
        self.trip_doses.setAccessibleName("Doses sent")
        self.trip_doses.setRange(1, 100)
        self.trip_name = QLineEdit()
        self.trip_name.setObjectName("tripName")
        self.trip_name.setAccessibleName("Trip")
        self.trip_name.setPlaceholderText("Where and when, e.g. Science museum, Nov 12")
        self.trip_teacher = QLineEdit()
        self.trip_teacher.setObjectName("tripTeacher")
        self.trip_teacher.setAccessibleName("Teacher who takes the doses")
        self.trip_teacher.setPlaceholderText("Full name, as she signs")
        self.sign_out_button = QPushButton("Sign out for the selected supply")
        self.sign_out_button.setObjectName("tripSignOutButton")
        self.sign_out_button.clicked.connect(self.sign_out)
        out_form = QFormLayout()
        out_form.addRow("Doses sent", self.trip_doses)
        out_form.addRow("Trip", self.trip_name)
        out_form.addRow("Teacher", self.trip_teacher)
        out_form.addRow("", self.sign_out_button)

        self.trips_list = QListWidget()
        self.trips_list.setObjectName("openTripsList")
        self.trips_list.setAccessibleName("Trips not counted back yet")
        rows = self.fontMetrics().lineSpacing()
        self.trips_list.setMaximumHeight(rows * 4 + 8)  # the supplies table gets the room
        self.trips_list.setWordWrap(True)
        self.trips_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.attention_list.setMaximumHeight(rows * 6 + 8)
        self.back_returned = QSpinBox()
        self.back_returned.setObjectName("tripReturned")
        self.back_returned.setAccessibleName("Doses returned")
        self.back_returned.setRange(0, 100)
        self.back_given = QSpinBox()
        self.back_given.setObjectName("tripGiven")
        self.back_given.setAccessibleName("Doses given on the trip")
        self.back_given.setRange(0, 100)
        self.back_by = QLineEdit()
        self.back_by.setObjectName("tripReturnedBy")
        self.back_by.setAccessibleName("Who brings them back")
        self.back_notes = QLineEdit()
        self.back_notes.setObjectName("tripNotes")
        self.back_notes.setAccessibleName("Notes")
        self.back_notes.setPlaceholderText("Required when doses are missing")
        self.count_back_button = QPushButton("Count back the selected trip")
        self.count_back_button.setObjectName("tripCountBackButton")
        self.count_back_button.clicked.connect(self.count_back)
        back_form = QFormLayout()
        back_form.addRow(self.trips_list)
        back_form.addRow("Returned", self.back_returned)
        back_form.addRow("Given on the trip", self.back_given)
        back_form.addRow("Brought back by", self.back_by)
        back_form.addRow("Notes", self.back_notes)
        back_form.addRow("", self.count_back_button)
        trip = QGroupBox("Field trip")
        trip.setObjectName("fieldTripGroup")
        trip_row = QHBoxLayout(trip)
        trip_row.addLayout(out_form, 1)
        trip_row.addLayout(back_form, 1)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(attention)
        layout.addWidget(supplies, 1)
        layout.addWidget(trip)
        self.status = QLabel("Loading…")
        self.status.setObjectName("suppliesStatus")
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.refresh()

    # -- loading ---------------------------------------------------------------------------

    def refresh(self) -> None:
        school_id = self.ctx.school_id
        if school_id is None:
            self.status.setText("No school is chosen for this desk.")
            return
        desk = self.ctx.desk

        def load() -> tuple[tuple[AttentionItem, ...], tuple[SupplyLine, ...], tuple[TripRow, ...]]:
            return (
                supply_attention(desk, school_id),
                school_supplies(desk, school_id),
                open_trips(desk, school_id),
            )

        run_in_background(self, load, self._loaded, self._failed)

    def _loaded(
        self, found: tuple[tuple[AttentionItem, ...], tuple[SupplyLine, ...], tuple[TripRow, ...]]
    ) -> None:
        self.attention_items, lines, self.trips = found
        self.attention_list.clear()
        for item in self.attention_items:
            row = QListWidgetItem(item.text)
            row.setData(Qt.ItemDataRole.UserRole, item)
            self.attention_list.addItem(row)
        if self.attention_items:
            self.attention_list.setCurrentRow(0)
        self.letter_button.setEnabled(bool(self.attention_items))
        self.model.set_lines(lines)
        if lines and not self.view.currentIndex().isValid():
            self.view.selectRow(0)
        self.trips_list.clear()
        for t in self.trips:
            row = QListWidgetItem(
                f"{t.student_name} — {t.medication_label}: {t.doses} out with {t.other_person} "
                f"({t.trip})"
            )
            row.setData(Qt.ItemDataRole.UserRole, t)
            self.trips_list.addItem(row)
        if self.trips:
            self.trips_list.setCurrentRow(0)
        due = sum(1 for line in lines if line.refill_due)
        trips = len(self.trips)
        self.status.setText(
            f"{len(lines)} own supplies · {due} to refill · "
            f"{trips} trip{'' if trips == 1 else 's'} out"
        )
        self.loaded.emit()

    def _failed(self, exc: BaseException) -> None:
        self.banner.show_message("error", f"Not done: {friendly_error(exc)}")
        self.status.setText("")

    # -- letters ---------------------------------------------------------------------------

    def select_attention(self, notice: AttentionItem) -> bool:
        for row in range(self.attention_list.count()):
            if self.attention_list.item(row).data(Qt.ItemDataRole.UserRole) == notice:
                self.attention_list.setCurrentRow(row)
                return True
        return False

    def selected_attention(self) -> AttentionItem | None:
        row = self.attention_list.currentItem()
        return row.data(Qt.ItemDataRole.UserRole) if row is not None else None

    @Slot()
    def save_letter(self, path: Path | str | None = None) -> None:
        """Write the selected item's letter as a PDF (asks where when ``path`` is None)."""
        item = self.selected_attention()
        if item is None:
            return
        desk = self.ctx.desk
        run_in_background(
            self,
            lambda: letter_data(desk, item.letter, item.order_id),
            lambda data: self._write_letter(data, path),
            self._failed,
        )

    def _write_letter(self, data: LetterData, path: Path | str | None) -> None:
        if path is None:
            folder = QStandardPaths.writableLocation(
                QStandardPaths.StandardLocation.DocumentsLocation
            )
            chosen, _f = QFileDialog.getSaveFileName(
                self, "Save the letter", str(Path(folder) / letter_filename(data)), "PDF (*.pdf)"
            )
            if not chosen:
                return
            path = chosen
        try:
            out = write_pdf(letter_html(data), path, title=letter_title(data))
        except OSError as exc:
            self._failed(exc)
            return
        self.banner.show_message("info", f"Letter saved: {out}")
        self.letter_written.emit(out)

    # -- field trips -----------------------------------------------------------------------

    def selected_supply(self) -> SupplyLine | None:
        index = self.view.currentIndex()
        return self.model.lines[index.row()] if index.isValid() else None

    @Slot()
    def sign_out(self) -> None:
        line = self.selected_supply()
        if line is None or not line.lot_ids:
            self.banner.show_message("error", "Choose a student's supply with doses on the shelf.")
            return
        cmd = TripOut(
            self._out_id,
            line.lot_ids[0],
            self.trip_doses.value(),
            self.trip_name.text(),
            self.trip_teacher.text(),
        )
        desk = self.ctx.desk
        run_in_background(self, lambda: sign_out_trip(desk, cmd), self._trip_done, self._failed)

    def selected_trip(self) -> TripRow | None:
        row = self.trips_list.currentItem()
        return row.data(Qt.ItemDataRole.UserRole) if row is not None else None

    @Slot()
    def count_back(self) -> None:
        trip = self.selected_trip()
        if trip is None:
            self.banner.show_message("error", "No trip is waiting to be counted back.")
            return
        cmd = TripBack(
            self._back_id,
            trip.id,
            self.back_returned.value(),
            self.back_given.value(),
            self.back_by.text(),
            self.back_notes.text() or None,
        )
        desk = self.ctx.desk
        run_in_background(self, lambda: count_back_trip(desk, cmd), self._trip_done, self._failed)

    def _trip_done(self, row: TripRow) -> None:
        if row.direction == "OUT":
            self._out_id = uuid.uuid4()
            what = f"{row.doses} signed out to {row.other_person}"
        else:
            self._back_id = uuid.uuid4()
            what = f"{row.doses} counted back from {row.other_person}"
        left = f"; {row.quantity_after} left on the shelf" if row.quantity_after is not None else ""
        self.banner.show_message("info", f"{row.student_name}: {what}{left}.")
        self.ctx.announce_change("medication_inventory", str(self.ctx.school_id or "*"))
        self.trip_recorded.emit(row)
        self.refresh()


__all__ = ["InventoryInputError", "SuppliesDialog", "SupplyModel"]
