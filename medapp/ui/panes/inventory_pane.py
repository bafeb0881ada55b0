"""The office shelf: every lot with its quantity, reorder level and expiry; alert chips
(expired, near expiry, low stock, warning) that filter the table; "Adjust quantity…" records a
count change with its reason; "Receive stock…" adds a lot of the selected medication.

The lots load on a worker (``services.inventory_admin.school_lots``) when the pane opens, every
five minutes (expiry moves with the calendar), and whenever stock changes on this PC or another
(``hub.data_changed``). An older answer arriving after a newer request is dropped.
"""

from __future__ import annotations

import uuid

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QFont, QFontMetrics, QIcon
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from medapp.runtime.context import AppContext
from medapp.services.formulary_cache import is_connection_error
from medapp.services.history import HistorySubject
from medapp.services.inventory_admin import InventoryOverview, LotRow, school_lots, school_today
from medapp.services.students import friendly_error
from medapp.ui.dialogs.history_dialog import HistoryDialog, may_read_history
from medapp.ui.models.inventory_model import (
    COL_BATCH,
    COL_EXPIRES,
    COL_FORM,
    COL_MEDICATION,
    COL_OWNER,
    COL_QUANTITY,
    COL_REORDER,
    COL_STATUS,
    LotRole,
    LotsFilterProxy,
    LotsModel,
)
from medapp.ui.widgets import Banner, BusyIndicator, ChipBar, StatusChip
from medapp.ui.widgets.elide import ElidedLabel
from medapp.ui.widgets.icons import icon_size, set_icon
from medapp.ui.widgets.keys import down_moves_into
from medapp.ui.widgets.tables import setup_row_view
from medapp.ui.workers import Latest, coalescing_timer, run_in_background

REFRESH_MS = 5 * 60_000
WATCHED_TABLES = frozenset(
    {"medication_inventory", "inventory_adjustments", "medication_logs", "medications", "*"}
)
CHIPS = (
    ("all", "All lots", "chipAll"),
    ("expired", "Expired", "chipExpired"),
    ("near", "Near expiry", "chipNearExpiry"),
    ("low", "Low stock", "chipLowStock"),
    ("warning", "Warning", "chipWarning"),
)


class InventoryPane(QWidget):
    refreshed = Signal()
    dialog_opened = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("inventoryPane")
        self.overview: InventoryOverview | None = None
        self.dialog: QWidget | None = None
        self._latest = Latest()
        self._keep: uuid.UUID | None = None
        self._build()
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        # coalesce bursts of change notifications
        self._soon = coalescing_timer(self, 300, self.refresh)
        ctx.hub.data_changed.connect(self._on_data_changed)
        self.refresh()

    # -- layout ----------------------------------------------------------------------------

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(12, 10, 12, 8)
        outer.setSpacing(10)
        top = QHBoxLayout()
        top.setSpacing(10)
        title = QLabel("Stock on the shelf")
        title.setObjectName("inventoryTitle")
        title.setProperty("heading", True)
        top.addWidget(title)
        self.school_label = ElidedLabel()
        self.school_label.setObjectName("inventorySchool")
        self.school_label.setProperty("muted", True)
        top.addWidget(self.school_label)
        top.addStretch(1)
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("inventoryFilter")
        self.filter_edit.setPlaceholderText("Filter by medication, lot or student")
        self.filter_edit.setAccessibleName("Filter the lots")
        self.filter_edit.setClearButtonEnabled(True)
        set_icon(
            self.filter_edit.addAction(QIcon(), QLineEdit.ActionPosition.LeadingPosition),
            "search",
            "muted",
        )
        self.filter_edit.setMinimumWidth(self.fontMetrics().averageCharWidth() * 24)
        self.filter_edit.textChanged.connect(self._filter_changed)
        top.addWidget(self.filter_edit)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("inventoryRefresh")
        set_icon(self.refresh_button, "refresh")
        self.refresh_button.setToolTip("Load the lots again (F5)")
        self.refresh_button.clicked.connect(self.refresh)
        top.addWidget(self.refresh_button)
        outer.addLayout(top)

        chips_row = QHBoxLayout()
        chips_row.setSpacing(10)
        self.chips = ChipBar("inventoryChips")
        for kind, label, name in CHIPS:
            self.chips.add_chip(StatusChip(kind, label, name))
        self.chips.select("all")
        self.chips.filter_changed.connect(self._chip_changed)
        chips_row.addWidget(self.chips, 1)
        self.empty_check = QCheckBox("Show empty lots")
        self.empty_check.setObjectName("inventoryShowEmpty")
        self.empty_check.setChecked(False)
        self.empty_check.toggled.connect(self._empty_toggled)
        # in the title row, not after the chips: the chips alone fill the width at 1024 px
        top.insertWidget(top.indexOf(self.refresh_button), self.empty_check)
        outer.addLayout(chips_row)

        self.banner = Banner("inventoryBanner")
        self.banner.action_clicked.connect(self.refresh)
        outer.addWidget(self.banner)
        self.busy = BusyIndicator("Loading the stock…", "inventoryBusy")
        outer.addWidget(self.busy)

        self.model = LotsModel(self)
        self.proxy = LotsFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.set_show_empty(False)
        self.view = QTableView()
        setup_row_view(
            self.view,
            self.proxy,
            object_name="inventoryTable",
            accessible_name="Stock lots",
            sort_column=COL_STATUS,
        )
        self.view.setAlternatingRowColors(True)
        self.view.setShowGrid(False)
        self.view.setWordWrap(False)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(round(self.fontMetrics().height() * 1.9))
        self.view.setIconSize(icon_size(self.fontMetrics().height(), 0.9))
        header = self.view.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        cw = self.fontMetrics().averageCharWidth()
        fm = self.view.fontMetrics()
        expires_sample = "31\u00a0Oct\u00a02026\u00a0\u00a0(29\u00a0d\u00a0ago)"
        bold_font = QFont(self.view.font())
        bold_font.setBold(True)
        bold = QFontMetrics(bold_font)
        for col, sample, strong in (
            (COL_FORM, "Aerosol, metered", False),
            (COL_BATCH, "ZT5707290", False),
            (COL_OWNER, "Kuznetsov, Sofiya", False),
            (COL_QUANTITY, "10,000", True),
            (COL_REORDER, "1,000", False),
            (COL_EXPIRES, expires_sample, False),
            (COL_STATUS, "Near expiry", True),
        ):
            heading = str(self.model.headerData(col, Qt.Orientation.Horizontal))
            text_w = (bold if strong else fm).horizontalAdvance(sample)
            if col == COL_STATUS:
                text_w += self.view.iconSize().width() + cw * 2
            self.view.setColumnWidth(
                col, max(text_w + cw * 4, bold.horizontalAdvance(heading) + cw * 4)
            )
        header.setSectionResizeMode(COL_MEDICATION, QHeaderView.ResizeMode.Stretch)
        # The form is in the medication's tooltip: the name gets the room (1280 px wide).
        self.view.setColumnHidden(COL_FORM, True)
        self.view.activated.connect(self._activated)
        self.view.selectionModel().currentRowChanged.connect(self._selection_changed)

        self.table_stack = QStackedWidget()
        self.table_stack.setObjectName("inventoryStack")
        self.empty_label = QLabel("Loading…")
        self.empty_label.setObjectName("inventoryEmpty")
        self.empty_label.setProperty("muted", True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.table_stack.addWidget(self.view)
        self.table_stack.addWidget(self.empty_label)
        outer.addWidget(self.table_stack, 1)
        down_moves_into(self.filter_edit, self.view)

        bottom = QHBoxLayout()
        self.count_label = ElidedLabel()
        self.count_label.setObjectName("inventoryCount")
        self.count_label.setProperty("muted", True)
        bottom.addWidget(self.count_label, 1)
        self.receive_button = QPushButton("Receive stock…")
        self.receive_button.setObjectName("inventoryReceive")
        set_icon(self.receive_button, "receive")
        self.receive_button.setToolTip("Put a new lot of the selected medication on the shelf")
        self.receive_button.clicked.connect(self.receive_stock)
        bottom.addWidget(self.receive_button)
        self.adjust_button = QPushButton("Adjust quantity…")
        self.adjust_button.setObjectName("inventoryAdjust")
        set_icon(self.adjust_button, "adjust", "accentText")
        self.adjust_button.setProperty("primary", True)
        self.adjust_button.setToolTip("Correct the selected lot's count, with a reason (Enter)")
        self.adjust_button.clicked.connect(self.adjust_selected)
        bottom.addWidget(self.adjust_button)
        self.history_button = QPushButton("History…")
        self.history_button.setObjectName("inventoryHistory")
        self.history_button.setToolTip("Who changed this lot and when (lead nurses and auditors)")
        self.history_button.clicked.connect(self.show_history)
        self.history_button.setVisible(may_read_history(self.ctx))
        self.history_button.setEnabled(False)
        bottom.addWidget(self.history_button)
        outer.addLayout(bottom)
        self._selection_changed(QModelIndex(), QModelIndex())

    # -- loading ---------------------------------------------------------------------------

    def focus_search(self) -> None:
        self.filter_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_edit.selectAll()

    @Slot()
    def refresh(self) -> None:
        self._soon.stop()
        ctx = self.ctx
        if ctx.school_id is None:
            self.banner.show_message("warning", "No school is chosen for this desk.")
            return
        generation = self._latest.next()
        desk, school_id = ctx.desk, ctx.school_id
        today = school_today(ctx.school_timezone, ctx.now())
        self.busy.start()
        self.refresh_button.setEnabled(False)
        run_in_background(
            self,
            lambda: school_lots(desk, school_id, today=today),
            lambda overview: self._loaded(generation, overview),
            lambda exc: self._failed(generation, exc),
        )

    def _loaded(self, generation: int, overview: InventoryOverview) -> None:
        if not self._latest.is_current(generation):
            return
        self.busy.stop()
        self.refresh_button.setEnabled(True)
        self.banner.clear()
        selected = self.selected_lot()
        keep = self._keep or (selected.id if selected is not None else None)
        self._keep = None
        self.overview = overview
        self.model.set_lots(overview.lots)
        counts = {
            "expired": overview.counts["EXPIRED"],
            "near": overview.counts["NEAR_EXPIRY"],
            "low": overview.counts["LOW_STOCK"],
            "warning": overview.counts["WARNING"],
            "all": sum(1 for lot in overview.lots if not lot.empty),
        }
        self.chips.set_counts(counts)
        self.school_label.setText(
            f"{self.ctx.school_name}  ·  {overview.today.strftime('%A %d %B %Y')}"
        )
        if keep is not None:
            self.select_lot(keep)
        elif self.proxy.rowCount() and not self.view.currentIndex().isValid():
            self.view.selectRow(0)  # Enter works at once: the most urgent lot
        self._update_counts()
        self.ctx.hub.connection_changed.emit(True)
        self.refreshed.emit()

    def _failed(self, generation: int, exc: BaseException) -> None:
        if not self._latest.is_current(generation):
            return
        self.busy.stop()
        self.refresh_button.setEnabled(True)
        if is_connection_error(exc):
            self.ctx.hub.connection_changed.emit(False)
        self.banner.show_message(
            "error", f"Could not load the stock: {friendly_error(exc)}", "Retry"
        )
        if self.overview is None:
            self.empty_label.setText("The stock list is not available.")
            self.table_stack.setCurrentWidget(self.empty_label)
        self.refreshed.emit()

    def _update_counts(self) -> None:
        shown = self.proxy.rowCount()
        total = self.model.rowCount()
        if self.overview is None:
            return
        if shown == 0:
            if self.chips.current or self.filter_edit.text().strip():
                self.empty_label.setText("No lots match this filter.")
            else:
                self.empty_label.setText("No stock on this school's shelf yet.")
            self.table_stack.setCurrentWidget(self.empty_label)
        else:
            self.table_stack.setCurrentWidget(self.view)

        attention = self.overview.attention
        self.count_label.setText(
            f"Showing {shown} of {total} lots  ·  {attention} need attention"
            if attention
            else f"Showing {shown} of {total} lots"
        )

    # -- filters -------------------------------------------------------------------------------

    @Slot(str)
    def _chip_changed(self, kind: str) -> None:
        self.proxy.set_alert(kind)
        self._update_counts()

    @Slot(str)
    def _filter_changed(self, text: str) -> None:
        self.proxy.set_text(text)
        self._update_counts()

    @Slot(bool)
    def _empty_toggled(self, show: bool) -> None:
        self.proxy.set_show_empty(show)
        self._update_counts()

    def show_alert(self, kind: str) -> None:
        """Select a chip ("expired", "near", "low", "warning"; "" for all)."""
        self.chips.select(kind or "all")

    # -- selection and actions -----------------------------------------------------------------

    def selected_lot(self) -> LotRow | None:
        index = self.view.currentIndex()
        if not index.isValid() or not self.view.selectionModel().isRowSelected(
            index.row(), QModelIndex()
        ):
            return None
        value = index.siblingAtColumn(0).data(LotRole)
        return value if isinstance(value, LotRow) else None

    def select_lot(self, lot_id: uuid.UUID) -> bool:
        row = self.model.row_of(lot_id)
        if row < 0:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if not index.isValid():
            return False
        self.view.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.view.scrollTo(index)
        return True

    @Slot(QModelIndex, QModelIndex)
    def _selection_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        has = current.isValid()
        self.adjust_button.setEnabled(has)
        self.receive_button.setEnabled(has)
        self.history_button.setEnabled(has)
        self.history_button.setVisible(may_read_history(self.ctx))

    @Slot(QModelIndex)
    def _activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.adjust_selected()

    @Slot()
    def adjust_selected(self) -> None:
        lot = self.selected_lot()
        if lot is None:
            return
        from medapp.ui.dialogs.adjust_stock import AdjustStockDialog

        dialog = AdjustStockDialog(self.ctx, lot, self)
        dialog.adjusted.connect(lambda result: self._after_change(result.inventory_id))
        self._open(dialog)

    @Slot()
    def receive_stock(self) -> None:
        lot = self.selected_lot()
        if lot is None:
            return
        from medapp.ui.dialogs.adjust_stock import AddLotDialog, MedicationChoice

        dialog = AddLotDialog(self.ctx, MedicationChoice.from_lot(lot), self)
        dialog.added.connect(lambda new: self._after_change(new.id))
        self._open(dialog)

    @Slot()
    def show_history(self) -> None:
        lot = self.selected_lot()
        if lot is None or not may_read_history(self.ctx):
            return
        dialog = HistoryDialog(
            self.ctx,
            HistorySubject.LOT,
            lot.id,
            f"lot {lot.batch_number} ({lot.medication_name})",
            self,
        )
        self._open(dialog)

    def _open(self, dialog: QWidget) -> None:
        self.dialog = dialog
        self.dialog_opened.emit(dialog)
        dialog.open()  # type: ignore[attr-defined]

    def _after_change(self, lot_id: uuid.UUID) -> None:
        self._keep = lot_id
        self.refresh()

    @Slot(str, str)
    def _on_data_changed(self, table: str, school: str) -> None:
        if table in WATCHED_TABLES and school in ("*", str(self.ctx.school_id)):
            self._soon.start()
