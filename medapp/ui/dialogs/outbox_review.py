"""Offline doses the server refused: listed for the nurse, retried after an edit or dismissed.

A record lands here when the server refuses it on arrival — a real conflict (another nurse
recorded that dose meanwhile) or a value the server cannot store — and never blocks the doses
queued behind it. Nothing here is lost: *Retry* puts the record back in the queue (with the
dose text the nurse corrected), *Dismiss* keeps it in the outbox's dismissed store with her
name and her reason. Everything is on this PC's disk (the outbox), so the dialog works offline.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from medapp.cache.outbox import Outbox, ReviewError
from medapp.services.desk import Desk
from medapp.services.doses import (
    DoseCommand,
    DoseInputError,
    check_field_lengths,
    describe_orders,
    field_limit,
)
from medapp.ui.workers import log_only, run_in_background

COLUMNS = ("Time given", "Student and order", "Status", "Dose given", "Why it is kept for review")
COL_ORDER = 1
RecordRole = Qt.ItemDataRole.UserRole + 1


def _when(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone().strftime("%a %d %b %H:%M")
    return "—"


class OutboxReviewDialog(QDialog):
    names_loaded = Signal()

    def __init__(
        self,
        outbox: Outbox,
        nurse: str,
        parent: QWidget | None = None,
        *,
        desk: Desk | None = None,
    ) -> None:
        """``desk``: who is signed in, to name each record's student and order (read off the
        GUI thread; without it, or offline, the order column stays "—")."""
        super().__init__(parent)
        self.setObjectName("outboxReviewDialog")
        self.setWindowTitle("Offline doses to review")
        self.outbox = outbox
        self.nurse = nurse
        self.desk = desk
        self.order_names: dict[uuid.UUID, str] = {}
        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(COLUMNS))

        self.view = QTableView()
        self.view.setObjectName("outboxReviewTable")
        self.view.setAccessibleName("Offline doses to review")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.selectionModel().currentRowChanged.connect(lambda *_a: self._selected())

        self.empty_label = QLabel("Nothing to review: every offline dose reached the server.")
        self.empty_label.setObjectName("outboxReviewEmpty")

        self.dose_edit = QLineEdit()
        self.dose_edit.setObjectName("reviewDoseGiven")
        self.dose_edit.setAccessibleName("Dose given (edit before retrying)")
        self.dose_edit.setMaxLength(field_limit("dosage_given") or 32767)
        self.retry_button = QPushButton("Retry")
        self.retry_button.setObjectName("reviewRetry")
        self.retry_button.clicked.connect(self.retry_selected)
        self.reason_edit = QLineEdit()
        self.reason_edit.setObjectName("reviewDismissReason")
        self.reason_edit.setAccessibleName("Why this record is not sent")
        self.reason_edit.setPlaceholderText("e.g. the other nurse's record is the right one")
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.setObjectName("reviewDismiss")
        self.dismiss_button.clicked.connect(self.dismiss_selected)
        self.message = QLabel()
        self.message.setObjectName("reviewMessage")
        self.message.setWordWrap(True)

        form = QFormLayout()
        retry_row = QHBoxLayout()
        retry_row.addWidget(self.dose_edit, 1)
        retry_row.addWidget(self.retry_button)
        form.addRow("Dose given:", retry_row)
        dismiss_row = QHBoxLayout()
        dismiss_row.addWidget(self.reason_edit, 1)
        dismiss_row.addWidget(self.dismiss_button)
        form.addRow("Dismiss because:", dismiss_row)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.setObjectName("reviewButtons")
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.empty_label)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.resize(900, 420)
        self.reload()
        self.load_names()

    def reload(self) -> None:
        self.model.removeRows(0, self.model.rowCount())
        for record in self.outbox.to_review():
            row = [
                QStandardItem(_when(record.get("time_given"))),
                QStandardItem(self._order_name(record)),
                QStandardItem(str(record.get("status") or "")),
                QStandardItem(str(record.get("dosage_given") or "")),
                QStandardItem(str(record.get("rejected_reason") or "")),
            ]
            row[0].setData(record, RecordRole)
            self.model.appendRow(row)
        empty = self.model.rowCount() == 0
        self.view.setVisible(not empty)
        self.empty_label.setVisible(empty)
        for widget in (self.dose_edit, self.retry_button, self.reason_edit, self.dismiss_button):
            widget.setEnabled(not empty)
        if not empty:
            self.view.selectRow(0)
        self._selected()

    def load_names(self) -> None:
        """Name each record's student and order (the records hold only the order's id)."""
        desk = self.desk
        if desk is None:
            return
        wanted = [r.get("prescription_id") for r in self.outbox.to_review()]
        run_in_background(
            self,
            lambda: describe_orders(desk, [w for w in wanted if isinstance(w, uuid.UUID)]),
            self._names_loaded,
            log_only("order names for review"),  # offline: the column stays "—"
        )

    def _order_name(self, record: dict[str, Any]) -> str:
        rx = record.get("prescription_id")
        return self.order_names.get(rx, "—") if isinstance(rx, uuid.UUID) else "—"

    def _names_loaded(self, names: dict[uuid.UUID, str]) -> None:
        self.order_names.update(names)
        for row in range(self.model.rowCount()):
            record = self.model.item(row, 0).data(RecordRole)
            if isinstance(record, dict):
                self.model.item(row, COL_ORDER).setText(self._order_name(record))
        self.names_loaded.emit()

    def selected_record(self) -> dict[str, Any] | None:
        index = self.view.currentIndex()
        if not index.isValid():
            return None
        record = self.model.item(index.row(), 0).data(RecordRole)
        return record if isinstance(record, dict) else None

    def _selected(self) -> None:
        record = self.selected_record()
        self.dose_edit.setText(str(record.get("dosage_given") or "") if record else "")

    def retry_selected(self) -> None:
        record = self.selected_record()
        if record is None:
            return
        changes = {"dosage_given": self.dose_edit.text().strip() or None}
        try:
            check_field_lengths(DoseCommand.from_record({**record, **changes}))
            self.outbox.retry(record["id"], changes)
        except (DoseInputError, ReviewError) as exc:
            self.message.setText(str(exc))
            return
        self.message.setText("Back in the queue: it is sent at the next sync.")
        self.reload()

    def dismiss_selected(self) -> None:
        record = self.selected_record()
        if record is None:
            return
        try:
            self.outbox.dismiss(record["id"], self.reason_edit.text(), by=self.nurse)
        except ReviewError as exc:
            self.message.setText(str(exc))
            return
        self.reason_edit.clear()
        self.message.setText("Dismissed; kept on this PC with your name and reason.")
        self.reload()
