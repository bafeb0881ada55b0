"""History…: who changed what on a student, an order or a stock lot (lead nurses, auditors).

The entries come from ``services.history.record_history`` (the database's append-only audit
trail) on a worker; the dialog only shows them: one row per change, newest first, with the
changed fields in the last column and in full in the tooltip. Times are school time.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMenu,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from medapp.runtime.context import AppContext
from medapp.services.desk import HISTORY_READERS
from medapp.services.history import HistoryEntry, HistorySubject, record_history
from medapp.services.students import friendly_error
from medapp.ui.widgets import Banner, BusyIndicator
from medapp.ui.widgets.tables import setup_row_view
from medapp.ui.workers import run_in_background

HEADERS = ("When", "Who", "What", "Details")
_Index = QModelIndex | QPersistentModelIndex


def _details(entry: HistoryEntry, *, full: bool) -> str:
    parts = []
    for change in entry.changes:
        if entry.action == "UPDATE":
            parts.append(f"{change.field}: {change.before or '—'} → {change.after or '—'}")
        else:
            parts.append(
                f"{change.field}: {change.after if change.after is not None else change.before}"
            )
    sep = "\n" if full else "; "
    text = sep.join(parts)
    return text if full or len(text) <= 160 else text[:157] + "…"


class HistoryModel(QAbstractTableModel):
    def __init__(self, zone: ZoneInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.zone = zone
        self.entries: list[HistoryEntry] = []

    def set_entries(self, entries: Sequence[HistoryEntry]) -> None:
        self.beginResetModel()
        self.entries = list(entries)
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.entries)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        entry = self.entries[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return entry.occurred_at.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S")
            if col == 1:
                return entry.actor_name
            if col == 2:
                return entry.summary
            return _details(entry, full=False)
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == 1:
                return f"Database role: {entry.actor}"
            if col == 3:
                return _details(entry, full=True)
        if role == Qt.ItemDataRole.UserRole:
            return entry.occurred_at.timestamp() if col == 0 else self.data(index)
        return None


class HistoryDialog(QDialog):
    def __init__(
        self,
        ctx: AppContext,
        subject: HistorySubject,
        row_id: uuid.UUID,
        title: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("historyDialog")
        self.setWindowTitle(f"History — {title}")
        outer = QVBoxLayout(self)
        heading = QLabel(f"History of {title}")
        heading.setObjectName("historyTitle")
        heading.setProperty("heading", True)
        heading.setWordWrap(True)
        outer.addWidget(heading)
        self.banner = Banner("historyBanner")
        outer.addWidget(self.banner)
        self.busy = BusyIndicator("Loading the history…", "historyBusy")
        outer.addWidget(self.busy)
        try:
            zone = ZoneInfo(ctx.school_timezone)
        except Exception:  # noqa: BLE001 - a bad setting must not hide the history
            zone = ZoneInfo("UTC")
        self.model = HistoryModel(zone, self)
        self.view = QTableView()
        setup_row_view(
            self.view,
            self.model,
            object_name="historyTable",
            accessible_name="Changes, newest first",
            sort_column=0,
        )
        self.view.setSortingEnabled(False)
        self.view.verticalHeader().setVisible(False)
        self.view.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.view.setWordWrap(False)
        outer.addWidget(self.view, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.setObjectName("historyButtons")
        buttons.rejected.connect(self.reject)
        outer.addWidget(buttons)
        cw = self.fontMetrics().averageCharWidth()
        self.resize(cw * 130, self.fontMetrics().height() * 30)
        self.busy.start()
        desk = ctx.desk
        run_in_background(
            self,
            lambda: record_history(desk, subject, row_id),
            self._loaded,
            self._failed,
        )

    def _loaded(self, entries: tuple[HistoryEntry, ...]) -> None:
        self.busy.stop()
        self.model.set_entries(entries)
        self.view.resizeColumnsToContents()
        self.view.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        if not entries:
            self.banner.show_message("info", "No changes are recorded for this yet.")

    def _failed(self, exc: BaseException) -> None:
        self.busy.stop()
        self.banner.error(friendly_error(exc))


def may_read_history(ctx: AppContext) -> bool:
    actor = ctx.actor
    return actor is not None and actor.role in HISTORY_READERS


def add_history_actions(
    menu: QMenu,
    ctx: AppContext,
    parent: QWidget,
    *,
    prescription_id: uuid.UUID,
    student_id: uuid.UUID,
    student_name: str,
    medication_name: str,
) -> None:
    """ "Order history…" and "Student history…" on a dose row's menu, for the people who review
    (lead nurses, auditors); nothing for the others."""
    if not may_read_history(ctx):
        return
    menu.addSeparator()
    order = menu.addAction("Order history…")
    order.setObjectName("menuOrderHistory")
    order.triggered.connect(
        lambda: HistoryDialog(
            ctx,
            HistorySubject.ORDER,
            prescription_id,
            f"{student_name}'s order of {medication_name}",
            parent,
        ).open()
    )
    student = menu.addAction("Student history…")
    student.setObjectName("menuStudentHistory")
    student.triggered.connect(
        lambda: HistoryDialog(ctx, HistorySubject.STUDENT, student_id, student_name, parent).open()
    )
