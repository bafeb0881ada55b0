"""Prescriptions per student over a date range, with what the nurse must know at a glance:
school times, PRN limits, an authorization about to lapse, what was logged in the range.

Typing in the filter narrows by student name or number (on the server, after a short pause);
double-click or Enter opens the dose dialog for the order.
"""

from __future__ import annotations

import datetime as dt
import uuid

from PySide6.QtCore import (
    QDate,
    QModelIndex,
    QPoint,
    QSortFilterProxyModel,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from medapp.db.repositories.schedule import LogEntry
from medapp.runtime.context import AppContext
from medapp.services.students import ScheduleEntry, ScheduleView, friendly_error, school_schedule
from medapp.ui.dialog_slot import DialogSlot
from medapp.ui.dialogs.correction_dialog import CorrectionDialog
from medapp.ui.dialogs.dose_dialog import (
    DoseDialog,
    desk_now,
    school_tz,
    set_tone,
)
from medapp.ui.dialogs.reaction_dialog import ReactionDialog
from medapp.ui.models.schedule_model import (
    COL_DOSE,
    COL_LOGS,
    COL_MED,
    COL_ROUTE,
    COL_STUDENT,
    EntryRole,
    ScheduleModel,
    SortRole,
)
from medapp.ui.panes.dose_menu import dose_row_menu
from medapp.ui.widgets import Banner, BusyIndicator
from medapp.ui.widgets.elide import ElidedLabel
from medapp.ui.widgets.keys import down_moves_into
from medapp.ui.widgets.tables import setup_row_view
from medapp.ui.workers import Latest, coalescing_timer, run_in_background

RANGES = (("Day", 1), ("Week", 7), ("30 days", 30))
WATCHED_TABLES = frozenset(
    {"medication_logs", "student_medications", "students", "schools", "users", "*"}
)
PAGE_LIMIT = 500


class SchedulePane(QWidget):
    dialog_opened = Signal(object)
    refreshed = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("schedulePane")
        self.view_data: ScheduleView | None = None
        self._latest = Latest()
        self._sized = False
        self._build()
        # one dialog of each kind at a time; the focus goes back to the table when it closes
        self._dose_slot: DialogSlot[DoseDialog] = DialogSlot(
            self, focus_back=self.table, on_open=self.dialog_opened.emit
        )
        self._correction_slot: DialogSlot[CorrectionDialog] = DialogSlot(
            self, focus_back=self.table, on_open=self.dialog_opened.emit
        )
        self._reaction_slot: DialogSlot[ReactionDialog] = DialogSlot(self, single=False)
        self._search_timer = coalescing_timer(self, 250, self.refresh)  # typing pauses
        self._coalesce = coalescing_timer(self, 250, self.refresh)  # bursts of change notices
        ctx.hub.data_changed.connect(self._on_data_changed)
        self.refresh()

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        top = QHBoxLayout()
        title = QLabel("Schedule")
        title.setObjectName("scheduleTitle")
        title.setProperty("heading", True)
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(QLabel("From:"))
        self.date_edit = QDateEdit()
        self.date_edit.setObjectName("scheduleDate")
        self.date_edit.setAccessibleName("First day")
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("ddd d MMM yyyy")
        self.date_edit.setDate(self._today_q())
        self.date_edit.dateChanged.connect(lambda _d: self.refresh())
        top.addWidget(self.date_edit)
        self.range_combo = QComboBox()
        self.range_combo.setObjectName("scheduleRange")
        self.range_combo.setAccessibleName("Range")
        for label, days in RANGES:
            self.range_combo.addItem(label, days)
        self.range_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        top.addWidget(self.range_combo)
        self.today_button = QPushButton("Today")
        self.today_button.setObjectName("scheduleToday")
        self.today_button.clicked.connect(self.go_today)
        top.addWidget(self.today_button)
        self.search_edit = QLineEdit()
        self.search_edit.setObjectName("scheduleSearch")
        self.search_edit.setPlaceholderText("Student name or number (Ctrl+F)")
        self.search_edit.setAccessibleName("Filter by student name or number")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setMinimumWidth(self.fontMetrics().averageCharWidth() * 26)
        self.search_edit.textChanged.connect(lambda _t: self._search_timer.start())
        self.search_edit.returnPressed.connect(self._search_now)
        top.addWidget(self.search_edit)
        outer.addLayout(top)

        info = QHBoxLayout()
        self.count_label = ElidedLabel()
        self.count_label.setObjectName("scheduleCount")
        set_tone(self.count_label, "muted")
        info.addWidget(self.count_label)
        info.addStretch(1)
        self.correct_button = QPushButton("Correct…")
        self.correct_button.setObjectName("scheduleCorrect")
        self.correct_button.setToolTip("Correct a dose record of the selected order")
        self.correct_button.setEnabled(False)
        self.correct_button.clicked.connect(self.correct_selected)
        self.reaction_button = QPushButton("Report reaction…")
        self.reaction_button.setObjectName("scheduleReaction")
        self.reaction_button.setToolTip(
            "Report an adverse reaction of the selected student (to any medication)"
        )
        self.reaction_button.setEnabled(False)
        self.reaction_button.clicked.connect(self.report_reaction)
        info.addWidget(self.correct_button)
        info.addWidget(self.reaction_button)
        outer.addLayout(info)

        self.banner = Banner("scheduleBanner")
        self.banner.action.clicked.connect(self.refresh)
        outer.addWidget(self.banner)
        self.busy = BusyIndicator("Loading the schedule…", "scheduleBusy")
        outer.addWidget(self.busy)

        self.model = ScheduleModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SortRole)
        self.proxy.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.table: QTableView = QTableView()
        setup_row_view(
            self.table,
            self.proxy,
            object_name="scheduleView",
            accessible_name="Prescriptions in the range",
            sort_column=COL_STUDENT,
        )
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(int(self.fontMetrics().height() * 1.7))
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.doubleClicked.connect(self._open_index)
        self.table.activated.connect(self._open_index)  # Enter
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        outer.addWidget(self.table, 1)
        down_moves_into(self.search_edit, self.table)

        self.empty_label = QLabel()
        self.empty_label.setObjectName("scheduleEmpty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        set_tone(self.empty_label, "muted")
        self.empty_label.hide()
        outer.addWidget(self.empty_label)

    def _today(self) -> dt.date:
        return desk_now(self.ctx).astimezone(school_tz(self.ctx)).date()

    def _today_q(self) -> QDate:
        today = self._today()
        return QDate(today.year, today.month, today.day)

    def focus_search(self) -> None:
        """Ctrl+F in the main window."""
        self.search_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_edit.selectAll()

    @Slot()
    def go_today(self) -> None:
        self.date_edit.setDate(self._today_q())

    def span(self) -> tuple[dt.date, dt.date]:
        q = self.date_edit.date()
        start = dt.date(q.year(), q.month(), q.day())
        days = int(self.range_combo.currentData() or 1)
        return start, start + dt.timedelta(days=days - 1)

    # -- loading ---------------------------------------------------------------------------

    @Slot()
    def _search_now(self) -> None:
        self._search_timer.stop()
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        ctx = self.ctx
        if ctx.school_id is None:
            self.banner.show_message("warning", "No school is chosen for this desk.")
            return
        self._search_timer.stop()
        generation = self._latest.next()
        start, end = self.span()
        search = self.search_edit.text()
        today = self._today()
        desk, school_id = ctx.desk, ctx.school_id
        self.busy.start()
        run_in_background(
            self,
            lambda: school_schedule(
                desk, school_id, start, end, search=search, today=today, limit=PAGE_LIMIT
            ),
            lambda view: self._loaded(generation, view),
            lambda exc: self._failed(generation, exc),
        )

    def _loaded(self, generation: int, view: ScheduleView) -> None:
        if not self._latest.is_current(generation):
            return  # a newer search or date is on its way
        self.busy.reset()
        self.banner.clear()
        self.view_data = view
        self.model.set_entries(view.entries, self.ctx.school_timezone)
        self._size_columns()
        span = view.start.strftime("%a %d %b")
        if view.end != view.start:
            span += " – " + view.end.strftime("%a %d %b")
        shown = len(view.entries)
        count = f"{view.total} orders" if view.total != 1 else "1 order"
        if shown < view.total:
            count = f"first {shown} of {view.total} orders (narrow the filter)"
        warned = sum(1 for e in view.entries if e.authorization_code)
        extra = f"  ·  {warned} with an authorization warning" if warned else ""
        self.count_label.setText(f"{count}  ·  {span}{extra}")
        empty = not view.entries
        self.empty_label.setVisible(empty)
        if empty:
            self.empty_label.setText(
                f"No active orders match “{view.search}”."
                if view.search
                else "No active orders in this range."
            )
        self.refreshed.emit()

    def _failed(self, generation: int, exc: BaseException) -> None:
        if not self._latest.is_current(generation):
            return
        self.busy.reset()
        self.banner.show_message(
            "error", f"Could not load the schedule: {friendly_error(exc)}", action="Retry"
        )

    def _size_columns(self) -> None:
        if self._sized or not self.model.rowCount():
            return  # once: after that the nurse's own column widths stay
        self._sized = True
        self.table.resizeColumnsToContents()
        em = self.fontMetrics().averageCharWidth()
        # Long free text is capped (the tooltip has all of it); short columns fit their content.
        caps = {COL_STUDENT: 30, COL_MED: 40, COL_DOSE: 18, COL_ROUTE: 22, COL_LOGS: 40}
        for column, cap in caps.items():
            self.table.setColumnWidth(column, min(self.table.columnWidth(column), em * cap))

    # -- opening ---------------------------------------------------------------------------

    @Slot(QModelIndex)
    def _open_index(self, index: QModelIndex) -> None:
        entry = index.data(EntryRole) if index.isValid() else None
        if entry is not None:
            self.open_dose(entry.row.prescription_id)

    def open_dose(self, prescription_id: uuid.UUID) -> DoseDialog | None:
        return self._dose_slot.open(
            lambda: DoseDialog(self.ctx, prescription_id, None, parent=self)
        )

    @property
    def dose_dialog(self) -> DoseDialog | None:
        return self._dose_slot.current

    @property
    def correction_dialog(self) -> CorrectionDialog | None:
        return self._correction_slot.current

    @property
    def reaction_dialog(self) -> ReactionDialog | None:
        return self._reaction_slot.current

    def selected_entry(self) -> ScheduleEntry | None:
        index = self.table.currentIndex()
        return index.data(EntryRole) if index.isValid() else None

    def select_prescription(self, prescription_id: uuid.UUID) -> None:
        for row in range(self.proxy.rowCount()):
            entry = self.proxy.index(row, 0).data(EntryRole)
            if entry is not None and entry.row.prescription_id == prescription_id:
                self.table.setCurrentIndex(self.proxy.index(row, 0))
                return
        raise KeyError(prescription_id)

    @Slot(QModelIndex, QModelIndex)
    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        entry = current.data(EntryRole) if current.isValid() else None
        self.reaction_button.setEnabled(entry is not None)
        self.correct_button.setEnabled(entry is not None and bool(current_logs(entry)))

    @Slot()
    def correct_selected(self) -> CorrectionDialog | None:
        entry = self.selected_entry()
        return self.open_correction(entry) if entry is not None else None

    def open_correction(self, entry: ScheduleEntry) -> CorrectionDialog | None:
        """ "Correct…" on an order's row: its newest standing record is preselected; the
        dialog lists the order's other records to choose from."""
        logs = current_logs(entry)
        newest = max(logs, key=lambda log: log.time_given).id if logs else None
        return self._correction_slot.open(
            lambda: CorrectionDialog(self.ctx, entry.row.prescription_id, newest, parent=self)
        )

    @Slot()
    def report_reaction(self, entry: ScheduleEntry | None = None) -> ReactionDialog | None:
        entry = entry or self.selected_entry()
        if entry is None:
            return None
        return self._reaction_slot.open(
            lambda: ReactionDialog(
                self.ctx,
                entry.row.student_id,
                entry.row.medication_id,
                prescription_id=entry.row.prescription_id,
                parent=self,
            )
        )

    @Slot(QPoint)
    def _context_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        entry = index.data(EntryRole) if index.isValid() else None
        if entry is None:
            return
        self.context_menu = self.menu_for(entry)
        self.context_menu.popup(self.table.viewport().mapToGlobal(pos))

    def menu_for(self, entry: ScheduleEntry) -> QMenu:
        return dose_row_menu(
            self,
            self.ctx,
            object_name="scheduleMenu",
            record=lambda: self.open_dose(entry.row.prescription_id),
            correct=(lambda: self.open_correction(entry)) if current_logs(entry) else None,
            report_reaction=lambda: self.report_reaction(entry),
            prescription_id=entry.row.prescription_id,
            student_id=entry.row.student_id,
            student_name=entry.row.student_name,
            medication_name=entry.row.medication_name,
        )

    @Slot(str, str)
    def _on_data_changed(self, table: str, school: str) -> None:
        if table in WATCHED_TABLES and school in ("*", str(self.ctx.school_id)):
            self._coalesce.start()


def current_logs(entry: ScheduleEntry) -> list[LogEntry]:
    """The order's standing records in the range (what "Correct…" can act on)."""
    return [
        log for log in entry.row.logs if not log.superseded and log.status in ("GIVEN", "NOT_GIVEN")
    ]
