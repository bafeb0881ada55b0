"""End of day…: the school day at a glance, closing it, printing its report.

The summary (``services.end_of_day.end_of_day_summary``) is gathered on a worker; the dialog
shows the counts, every scheduled dose and PRN dose in a table, the reactions and the stock
needing attention. "Close the day" writes the MISSED records (refused before the last dose
window + grace, with the time it opens); "Print…" goes through the system print dialog, "Save
as PDF…" writes the same report with Qt's PDF writer.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from medapp.reports.html import day_report_html
from medapp.reports.pdf import print_html, write_pdf
from medapp.runtime.context import AppContext
from medapp.services.end_of_day import (
    EndOfDaySummary,
    SummaryLine,
    close_school_day,
    end_of_day_summary,
)
from medapp.services.students import friendly_error
from medapp.ui.workers import run_in_background

HEADERS = ("Time", "Student", "Medication", "Dose", "Outcome", "Detail", "Nurse")
_Index = QModelIndex | QPersistentModelIndex
STOCK_SHOWN = 5  # lots named in the dialog; the printed report lists them all
_LABELS = {
    "COMPLETED": "Given",
    "LATE": "Given late",
    "MISSED": "Missed",
    "NOT_GIVEN": "Not given",
    "UPCOMING": "Upcoming",
    "DUE": "Due",
    "PRN": "As needed",
}


class DayLinesModel(QAbstractTableModel):
    """The day's doses (scheduled, then PRN) as table rows."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lines: list[SummaryLine] = []
        self.zone = ZoneInfo("UTC")

    def set_summary(self, summary: EndOfDaySummary) -> None:
        self.beginResetModel()
        self.zone = ZoneInfo(summary.timezone)
        self.lines = [*summary.doses, *summary.prn_given]
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
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        line = self.lines[index.row()]
        return (
            line.time.astimezone(self.zone).strftime("%H:%M"),
            line.student_name,
            line.medication,
            line.dosage,
            _LABELS.get(line.status, line.status),
            line.detail,
            line.nurse_name,
        )[index.column()]


class EndOfDayDialog(QDialog):
    """The day of the desk's school (``day``: default today in the school's timezone)."""

    loaded = Signal()

    def __init__(
        self, ctx: AppContext, parent: QWidget | None = None, day: dt.date | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("endOfDayDialog")
        self.setWindowTitle("End of day")
        self.resize(900, 560)
        zone = ZoneInfo(ctx.school_timezone)
        self.day = day or ctx.now().astimezone(zone).date()
        self.summary: EndOfDaySummary | None = None

        self.heading = QLabel(f"{ctx.school_name} — {self.day.isoformat()}")
        self.heading.setObjectName("endOfDayHeading")
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.heading.setFont(font)
        self.counts = QLabel("Loading the day…")
        self.counts.setObjectName("endOfDayCounts")
        self.counts.setWordWrap(True)
        self.state = QLabel("")
        self.state.setObjectName("endOfDayState")
        self.state.setWordWrap(True)
        self.model = DayLinesModel(self)
        self.table = QTableView()
        self.table.setObjectName("endOfDayTable")
        self.table.setAccessibleName("The day's doses")
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.extras = QLabel("")
        self.extras.setObjectName("endOfDayExtras")
        self.extras.setWordWrap(True)

        self.close_day_button = QPushButton("Close the day")
        self.close_day_button.setObjectName("closeDayButton")
        self.close_day_button.setToolTip(
            "Record every undocumented school dose of the day as missed (after the last dose "
            "window + 30 minutes). A dose documented later supersedes its missed record."
        )
        self.close_day_button.clicked.connect(self.close_day)
        self.print_button = QPushButton("Print…")
        self.print_button.setObjectName("printDayButton")
        self.print_button.clicked.connect(self.print_report)
        self.pdf_button = QPushButton("Save as PDF…")
        self.pdf_button.setObjectName("saveDayPdfButton")
        self.pdf_button.clicked.connect(self._ask_pdf)
        for button in (self.close_day_button, self.print_button, self.pdf_button):
            button.setEnabled(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.setObjectName("endOfDayButtons")
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.close_day_button)
        row.addWidget(self.print_button)
        row.addWidget(self.pdf_button)
        row.addStretch(1)
        row.addWidget(buttons)

        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.counts)
        layout.addWidget(self.state)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.extras)
        layout.addLayout(row)
        self.reload()

    # -- data ----------------------------------------------------------------------------------

    def reload(self) -> None:
        school_id = self.ctx.school_id
        if school_id is None:
            self.counts.setText("Choose a school first (Desk → School).")
            return
        desk = self.ctx.desk
        day = self.day
        run_in_background(
            self, lambda: end_of_day_summary(desk, school_id, day), self._show, self._failed
        )

    def _show(self, summary: EndOfDaySummary) -> None:
        self.summary = summary
        c = summary.counts
        reasons = ", ".join(
            f"{k.replace('_', ' ').lower()} {v}" for k, v in c.not_given_reasons.items()
        )
        self.counts.setText(
            f"Given {c.given} · late {c.late} · missed {c.missed} · not given {c.not_given}"
            + (f" ({reasons})" if reasons else "")
            + f" · still open {c.open} · as-needed doses given {len(summary.prn_given)}"
        )
        zone = ZoneInfo(summary.timezone)
        closes = summary.closes_at.astimezone(zone).strftime("%H:%M")
        if summary.closed:
            self.state.setText("The day is closed: undocumented doses are recorded as missed.")
        elif summary.now < summary.closes_at:
            self.state.setText(f"The day can be closed from {closes}.")
        else:
            self.state.setText(
                "The day is over: close it to record the undocumented doses as missed."
            )
        self.model.set_summary(summary)
        reactions = "; ".join(
            f"{r.occurred_at.astimezone(zone).strftime('%H:%M')} {r.student_name} — "
            f"{r.medication} ({r.severity.lower()})"
            for r in summary.reactions
        )
        stock = "; ".join(
            f"{lot.medication} lot {lot.batch_number} "
            f"({', '.join(a.replace('_', ' ').lower() for a in lot.alerts)})"
            for lot in summary.stock[:STOCK_SHOWN]
        )
        if len(summary.stock) > STOCK_SHOWN:
            stock += f"; and {len(summary.stock) - STOCK_SHOWN} more (Inventory)"
        self.extras.setText(
            f"Reactions: {reactions or 'none'}.\nStock needing attention: {stock or 'none'}."
        )
        can_write = self.ctx.desk.actor.writes_school(summary.school_id)
        self.close_day_button.setEnabled(
            can_write and summary.now >= summary.closes_at and not summary.closed
        )
        self.print_button.setEnabled(True)
        self.pdf_button.setEnabled(True)
        self.loaded.emit()

    def _failed(self, exc: BaseException) -> None:
        self.state.setText(friendly_error(exc))
        self.loaded.emit()

    def close_day(self) -> None:
        school_id = self.ctx.school_id
        if school_id is None:
            return
        desk = self.ctx.desk
        day = self.day
        self.close_day_button.setEnabled(False)

        def done(_result: object) -> None:
            self.ctx.announce_change("medication_logs", str(school_id))
            self.reload()

        run_in_background(self, lambda: close_school_day(desk, school_id, day), done, self._failed)

    # -- printing ------------------------------------------------------------------------------

    def report_html(self) -> str:
        assert self.summary is not None
        return day_report_html(self.summary)

    def save_pdf(self, path: Path | str) -> Path:
        return write_pdf(self.report_html(), path, title=f"End of day {self.day.isoformat()}")

    def _ask_pdf(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Save as PDF", f"end-of-day-{self.day.isoformat()}.pdf", "PDF (*.pdf)"
        )
        if name:
            self.save_pdf(name)

    def print_report(self) -> None:
        if self.summary is None:
            return
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintDialog(printer, self)
        dialog.setObjectName("printDialog")
        if dialog.exec() == QDialog.DialogCode.Accepted:
            print_html(self.report_html(), printer)
