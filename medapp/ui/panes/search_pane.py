"""Formulary search: type (or scan) → ranked results → details with the office's stock.

How it stays responsive and right:

* Search as you type, debounced (150 ms after the last key); each search carries a request
  number and an answer to an older request is dropped, so a slow "a" never overwrites "albut".
* A barcode scanner types digits and Enter: Enter on digits looks the code up at once
  (``lookup_ndc``) and jumps to that product; the text is selected so the next scan replaces it.
* When the database cannot be reached the same box searches the formulary snapshot kept on this
  PC (``services.formulary_cache``), and says so: "offline — cached formulary".
* All database work runs on workers (``run_in_background``); the busy bar appears after 200 ms.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from PySide6.QtCore import (
    QItemSelectionModel,
    QModelIndex,
    QSortFilterProxyModel,
    Qt,
    QThreadPool,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QFont, QFontMetrics, QIcon, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from medapp.formulary.search import MedicationHit
from medapp.runtime.context import AppContext
from medapp.services.formulary_cache import (
    SearchOutcome,
    SnapshotHolder,
    is_connection_error,
    lookup_code,
    offline_caption,
    product_group,
    search_formulary,
)
from medapp.services.inventory_admin import InventoryOverview, school_lots, school_today
from medapp.services.student_page import (
    StudentHit,
    find_students,
    looks_like_student_number,
    student_by_number,
)
from medapp.services.students import friendly_error
from medapp.ui.models.inventory_model import (
    COL_EXPIRES,
    COL_FORM,
    COL_MEDICATION,
    COL_REORDER,
    COL_STATUS,
    LotsModel,
)
from medapp.ui.models.inventory_model import SortRole as LotSortRole
from medapp.ui.models.search_model import (
    COL_CONTROLLED,
    COL_GENERIC,
    COL_MAKER,
    COL_NAME,
    COL_NDC,
    COL_STRENGTH,
    HitRole,
    SearchResultsModel,
    SortRole,
    controlled_label,
    title_case_form,
)
from medapp.ui.models.search_model import (
    COL_FORM as RES_FORM,
)
from medapp.ui.panes.student_page import (
    StudentMatches,
    StudentPageDialog,
    open_give_prn_for_medication,
    open_student_page,
)
from medapp.ui.widgets import Banner, BusyIndicator, StatusBadge
from medapp.ui.widgets.icons import icon_size, set_icon
from medapp.ui.widgets.tables import setup_row_view
from medapp.ui.workers import Latest, coalescing_timer, log_only, run_in_background

DEBOUNCE_MS = 150
RESULT_LIMIT = 100
MIN_BARCODE_DIGITS = 8
FORMULARY_TABLES = frozenset({"medications", "medication_packages", "*"})
STOCK_TABLES = frozenset({"medication_inventory", "inventory_adjustments", "medication_logs", "*"})


@dataclass(frozen=True)
class ProductDetails:
    hit: MedicationHit
    members: tuple[MedicationHit, ...]
    stock: InventoryOverview | None  # None: offline (stock unknown)
    offline: bool = False


_background: QThreadPool | None = None


def background_pool() -> QThreadPool:
    """One thread for housekeeping (formulary snapshot, typo vocabulary): the global pool's
    threads stay free for the loads and searches the nurse is waiting for."""
    global _background
    if _background is None:
        _background = QThreadPool()
        _background.setObjectName("medappBackgroundPool")
        _background.setMaxThreadCount(1)
    return _background


def _strip_code(text: str) -> str:
    return "".join(ch for ch in text if ch not in " -")


class SearchBox(QLineEdit):
    """The search line: Down/PageDown move into the results, Esc clears."""

    move_down = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() in (Qt.Key.Key_Down, Qt.Key.Key_PageDown):
            self.move_down.emit()
            return
        if event.key() == Qt.Key.Key_Escape and self.text():
            self.clear()
            return
        super().keyPressEvent(event)


class DetailsPanel(QFrame):
    """The selected product: its fields, its group, and the lots on this school's shelf."""

    receive_requested = Signal(object)  # MedicationHit
    give_prn_requested = Signal(object)  # MedicationHit

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("detailsPanel")
        self.hit: MedicationHit | None = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 14, 16, 14)
        outer.setSpacing(8)

        self.placeholder = QLabel(
            "Select a medication to see its details and the stock on this school's shelf."
        )
        self.placeholder.setObjectName("detailsPlaceholder")
        self.placeholder.setProperty("muted", True)
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.body = QWidget()
        self.body.setObjectName("detailsBody")
        columns = QHBoxLayout(self.body)
        columns.setContentsMargins(0, 0, 0, 0)
        columns.setSpacing(24)
        info = QWidget()
        info.setObjectName("detailsInfo")
        body = QVBoxLayout(info)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(6)
        self.name = QLabel()
        self.name.setObjectName("detailsName")
        self.name.setProperty("heading", True)
        self.name.setWordWrap(True)
        self.name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.generic = QLabel()
        self.generic.setObjectName("detailsGeneric")
        self.generic.setProperty("muted", True)
        self.generic.setWordWrap(True)
        badges = QHBoxLayout()
        badges.setSpacing(6)
        self.controlled_badge = StatusBadge("controlled", "", "detailsControlled")
        self.otc_badge = StatusBadge("info", "Over the counter", "detailsOtc")
        self.inactive_badge = StatusBadge("muted", "No longer marketed", "detailsInactive")
        for b in (self.controlled_badge, self.otc_badge, self.inactive_badge):
            badges.addWidget(b)
        badges.addStretch(1)
        body.addWidget(self.name)
        body.addWidget(self.generic)
        body.addLayout(badges)

        form = QFormLayout()
        form.setHorizontalSpacing(14)
        form.setVerticalSpacing(4)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.fields: dict[str, QLabel] = {}
        for key, label in (
            ("strength", "Strength"),
            ("form", "Form"),
            ("route", "Route"),
            ("manufacturer", "Manufacturer"),
            ("ndc", "NDC"),
            ("package", "Package"),
            ("group", "Same product"),
        ):
            value = QLabel()
            value.setObjectName(f"details{key.title()}")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            caption = QLabel(label)
            caption.setProperty("formLabel", True)
            form.addRow(caption, value)
            self.fields[key] = value
        self._form = form
        body.addLayout(form)
        body.addStretch(1)
        columns.addWidget(info, 4)

        stock = QWidget()
        stock.setObjectName("detailsStock")
        body = QVBoxLayout(stock)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(6)
        columns.addWidget(stock, 5)
        stock_head = QHBoxLayout()
        self.stock_title = QLabel("Stock at this school")
        self.stock_title.setObjectName("detailsStockTitle")
        self.stock_title.setProperty("subheading", True)
        stock_head.addWidget(self.stock_title)
        stock_head.addStretch(1)
        self.receive_button = QPushButton("Receive stock…")
        self.receive_button.setObjectName("detailsReceive")
        self.receive_button.setToolTip("Put a newly received lot of this medication on the shelf")
        self.receive_button.clicked.connect(self._receive)
        stock_head.addWidget(self.receive_button)
        self.give_prn_button = QPushButton("Give PRN…")
        self.give_prn_button.setObjectName("detailsGivePrn")
        self.give_prn_button.setToolTip(
            "Give an as-needed dose of this medication to a student with an order for it"
        )
        self.give_prn_button.clicked.connect(self._give_prn)
        stock_head.addWidget(self.give_prn_button)
        body.addLayout(stock_head)
        self.stock_summary = QLabel()
        self.stock_summary.setObjectName("detailsStockSummary")
        self.stock_summary.setWordWrap(True)
        body.addWidget(self.stock_summary)

        self.lots_model = LotsModel(self)
        self.lots_proxy = QSortFilterProxyModel(self)
        self.lots_proxy.setSourceModel(self.lots_model)
        self.lots_proxy.setSortRole(LotSortRole)
        self.lots_view = QTableView()
        self.lots_view.setObjectName("detailsLots")
        self.lots_view.setAccessibleName("Lots of this medication on the shelf")
        self.lots_view.setModel(self.lots_proxy)
        self.lots_view.setSortingEnabled(True)
        self.lots_view.sortByColumn(COL_EXPIRES, Qt.SortOrder.AscendingOrder)
        self.lots_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.lots_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.lots_view.verticalHeader().hide()
        self.lots_view.setAlternatingRowColors(True)
        self.lots_view.setShowGrid(False)
        self.lots_view.setWordWrap(False)
        for col in (COL_MEDICATION, COL_FORM, COL_REORDER):
            self.lots_view.setColumnHidden(col, True)
        header = self.lots_view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_STATUS, QHeaderView.ResizeMode.Stretch)
        self.lots_view.setMinimumHeight(self.fontMetrics().height() * 5)
        body.addWidget(self.lots_view, 100)
        body.addStretch(1)  # keeps the summary at the top while there is no table
        self.lots_view.hide()

        outer.addWidget(self.placeholder, 1)
        outer.addWidget(self.body, 1)
        self.body.hide()

    def clear(self) -> None:
        self.hit = None
        self.body.hide()
        self.placeholder.show()
        self.lots_model.set_lots(())

    def show_hit(self, hit: MedicationHit) -> None:
        """The product fields at once (known from the result row); stock follows."""
        self.hit = hit
        self.placeholder.hide()
        self.body.show()
        self.name.setText(hit.name)
        generic = hit.generic_name or ""
        self.generic.setText(generic)
        self.generic.setVisible(bool(generic) and generic.lower() != hit.name.lower())
        label = controlled_label(hit)
        self.controlled_badge.setText(
            f"Controlled {label}" if label and label != "Controlled" else "Controlled substance"
        )
        self.controlled_badge.setVisible(hit.is_controlled)
        self.otc_badge.setVisible(hit.is_otc)
        self.inactive_badge.setVisible(not hit.is_active)
        values = {
            "strength": hit.strength or "—",
            "form": title_case_form(hit.dosage_form),
            "route": (hit.route or "").capitalize()
            if hit.route and hit.route.isupper()
            else (hit.route or ""),
            "manufacturer": hit.manufacturer or "",
            "ndc": hit.ndc or "none (added by hand)",
            "package": " — ".join(x for x in (hit.package_ndc, hit.package_description) if x),
            "group": "…",
        }
        for key, value in values.items():
            self._set_row(key, value)
        self.stock_title.setText("Stock at this school")
        self.stock_summary.setText("Loading…")
        self.lots_model.set_lots(())
        self.lots_view.hide()
        self.receive_button.setEnabled(False)

    def _set_row(self, key: str, value: str) -> None:
        field = self.fields[key]
        field.setText(value)
        visible = bool(value)
        field.setVisible(visible)
        caption = self._form.labelForField(field)
        if caption is not None:
            caption.setVisible(visible)

    def show_details(self, details: ProductDetails, school_name: str) -> None:
        if self.hit is None or details.hit.id != self.hit.id:
            return
        n = len(details.members)
        if details.offline:
            self._set_row("group", "")
        elif n > 1:
            makers = sorted({m.manufacturer for m in details.members if m.manufacturer})
            shown = ", ".join(makers[:3]) + (
                f" and {len(makers) - 3} more" if len(makers) > 3 else ""
            )
            self._set_row("group", f"{n} products (same name, strength and form): {shown}")
        else:
            self._set_row("group", "")
        self.stock_title.setText(
            f"Stock at {school_name}" if school_name else "Stock at this school"
        )
        if details.stock is None:
            self.stock_summary.setText("Stock is not available offline.")
            self.lots_model.set_lots(())
            self.lots_view.hide()
            self.receive_button.setEnabled(False)
            return
        lots = details.stock.lots
        self.lots_model.set_lots(lots)
        self.lots_view.setVisible(bool(lots))
        self.receive_button.setEnabled(True)
        if not lots:
            self.stock_summary.setText("No lots of this medication on the shelf.")
            return
        on_shelf = sum(lot.quantity for lot in lots if lot.expiry_status != "EXPIRED")
        parts = [f"{len(lots)} lot{'s' if len(lots) != 1 else ''}", f"{on_shelf:,} usable units"]
        alerts = details.stock.counts
        words = {
            "EXPIRED": "expired",
            "NEAR_EXPIRY": "near expiry",
            "LOW_STOCK": "low",
            "WARNING": "nearly low",
        }
        parts += [f"{alerts[k]} {w}" for k, w in words.items() if alerts.get(k)]
        self.stock_summary.setText("  ·  ".join(parts))

    def show_error(self, text: str) -> None:
        self.stock_summary.setText(text)

    def _give_prn(self) -> None:
        if self.hit is not None:
            self.give_prn_requested.emit(self.hit)

    def _receive(self) -> None:
        if self.hit is not None:
            self.receive_requested.emit(self.hit)


class SearchPane(QWidget):
    #: a search was sent (request number) — the debounce fired or Enter was pressed
    search_started = Signal(int)
    #: results of the newest request are in the table (request number)
    results_shown = Signal(int)
    #: the details panel finished loading (ProductDetails)
    details_shown = Signal(object)
    #: first load / refresh done (the main window's "updated" time and readiness)
    refreshed = Signal()
    #: the database answered (True) or could not be reached (False)
    online_changed = Signal(bool)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("searchPane")
        self.snapshot = SnapshotHolder(ctx.cache)
        self.offline = False
        self.outcome: SearchOutcome | None = None
        self._latest = Latest()
        self._detail_latest = Latest()
        self._select_after: uuid.UUID | None = None
        self._started_at = 0.0
        self.last_latency_ms: float | None = None
        self.dialog: QWidget | None = None
        self._build()

        self._debounce = coalescing_timer(self, DEBOUNCE_MS, self._run_search)
        # coalesces formulary changes into one rebuild
        self._snapshot_timer = coalescing_timer(
            self, 2000, lambda: self.prepare_snapshot(refresh=True)
        )
        ctx.hub.data_changed.connect(self._on_data_changed)
        ctx.hub.connection_changed.connect(self._on_connection_changed)
        QTimer.singleShot(0, self, self.refreshed.emit)

    # -- layout ----------------------------------------------------------------------------

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(12, 10, 12, 8)
        outer.setSpacing(10)
        top = QHBoxLayout()
        top.setSpacing(10)
        self.search_box = SearchBox()
        self.search_box.setObjectName("searchBox")
        self.search_box.setPlaceholderText(
            "Search medications — brand or generic name, NDC, or scan a package barcode"
        )
        self.search_box.setAccessibleName("Search the formulary")
        self.search_box.setClearButtonEnabled(True)
        set_icon(
            self.search_box.addAction(QIcon(), QLineEdit.ActionPosition.LeadingPosition),
            "search",
            "muted",
        )
        self.search_box.textEdited.connect(self._text_edited)
        self.search_box.returnPressed.connect(self._return_pressed)
        self.search_box.move_down.connect(self._focus_results)
        top.addWidget(self.search_box, 1)
        self.add_button = QPushButton("Add medication…")
        self.add_button.setObjectName("addMedicationButton")
        set_icon(self.add_button, "add-medication")
        self.add_button.setToolTip("Add a medication the formulary lacks (e.g. an OTC item)")
        self.add_button.clicked.connect(self.add_medication)
        top.addWidget(self.add_button)
        outer.addLayout(top)

        status = QHBoxLayout()
        status.setSpacing(10)
        self.offline_badge = StatusBadge("offline", "offline — cached formulary", "searchOffline")
        self.offline_badge.setToolTip(
            "The database cannot be reached: results come from the formulary kept on this PC; "
            "stock is not shown."
        )
        self.offline_badge.hide()
        status.addWidget(self.offline_badge)
        self.count_label = QLabel()
        self.count_label.setObjectName("searchCount")
        self.count_label.setProperty("muted", True)
        status.addWidget(self.count_label, 1)
        self.busy = BusyIndicator("Searching…", "searchBusy")
        status.addWidget(self.busy)
        outer.addLayout(status)
        # students whose name or number matches; a scanned student ID opens the page at once
        self.student_matches = StudentMatches()
        self.student_matches.chosen.connect(self.open_student_page)
        outer.addWidget(self.student_matches)
        self._student_latest = Latest()

        self.banner = Banner("searchBanner")
        self.banner.action_clicked.connect(self._run_search)
        outer.addWidget(self.banner)

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("searchSplitter")
        self.splitter.setChildrenCollapsible(False)

        self.results_stack = QStackedWidget()
        self.results_stack.setObjectName("searchResultsStack")
        self.empty_label = QLabel()
        self.empty_label.setObjectName("searchEmpty")
        self.empty_label.setProperty("muted", True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self._set_empty_text()
        self.model = SearchResultsModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SortRole)
        self.view = QTableView()
        setup_row_view(
            self.view,
            self.proxy,
            object_name="searchResults",
            accessible_name="Search results",
            sort_column=COL_NAME,
        )
        self.view.setAlternatingRowColors(True)
        self.view.setShowGrid(False)
        self.view.setWordWrap(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(round(self.fontMetrics().height() * 1.9))
        self.view.setIconSize(icon_size(self.fontMetrics().height(), 0.9))
        header = self.view.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        cw = self.fontMetrics().averageCharWidth()
        fm = self.view.fontMetrics()
        bold_font = QFont(self.view.font())
        bold_font.setBold(True)
        bold = QFontMetrics(bold_font)
        for col, sample in (
            (COL_GENERIC, "albuterol sulfate, inhal"),
            (COL_STRENGTH, "90 mcg/actuation"),
            (RES_FORM, "Aerosol, metered"),
            (COL_MAKER, "GlaxoSmithKline LLC"),
            (COL_NDC, "00000-0000-00"),
            (COL_CONTROLLED, "C-II"),
        ):
            title = str(self.model.headerData(col, Qt.Orientation.Horizontal))
            width = max(
                fm.horizontalAdvance(sample) + cw * 3,
                bold.horizontalAdvance(title) + fm.height() + cw * 3,
            )
            self.view.setColumnWidth(col, width)
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Stretch)
        self.view.selectionModel().currentRowChanged.connect(self._current_changed)
        self.view.activated.connect(self._activated)
        self.results_stack.addWidget(self.empty_label)
        self.results_stack.addWidget(self.view)
        self.splitter.addWidget(self.results_stack)

        self.details = DetailsPanel()
        self.details.receive_requested.connect(self.receive_stock)
        self.details.give_prn_requested.connect(
            lambda hit: open_give_prn_for_medication(self.ctx, hit.id, hit.name, self)
        )
        scroll = QScrollArea()
        scroll.setObjectName("detailsScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.details)
        scroll.setMinimumHeight(self.fontMetrics().height() * 10)
        self.splitter.addWidget(scroll)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([390, 330])
        outer.addWidget(self.splitter, 1)
        self.details.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)

    def _set_empty_text(self, text: str | None = None) -> None:
        self.empty_label.setText(
            text
            or "Type a brand or generic name (a few letters are enough), an NDC,\n"
            "or scan the barcode on a package."
        )

    # -- public ------------------------------------------------------------------------------

    def focus_search(self) -> None:
        self.search_box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_box.selectAll()

    def set_query(self, text: str, *, immediate: bool = True) -> None:
        """Put ``text`` in the box and search (tests, the main window, after adding an item)."""
        self.search_box.setText(text)
        if immediate:
            self._run_search()
        else:
            self._debounce.start()

    @Slot()
    def refresh(self) -> None:
        """Search again for what is in the box, and reload the selected product's stock."""
        if self.search_box.text().strip():
            current = self.current_hit()
            self._select_after = current.id if current else None
            self._run_search()
        else:
            self.refreshed.emit()

    def current_hit(self) -> MedicationHit | None:
        index = self.view.currentIndex()
        if not index.isValid():
            return None
        value = index.siblingAtColumn(0).data(HitRole)
        return value if isinstance(value, MedicationHit) else None

    def select_medication(self, medication_id: uuid.UUID) -> bool:
        row = self.model.row_of(medication_id)
        if row < 0:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        self.view.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.view.scrollTo(index)
        return True

    # -- searching ---------------------------------------------------------------------------

    @Slot(str)
    def _text_edited(self, _text: str) -> None:
        self._debounce.start()

    @Slot()
    def _return_pressed(self) -> None:
        text = self.search_box.text().strip()
        if looks_like_student_number(text):
            self._open_scanned_student(text)
            return
        self._search_or_lookup(text)

    def _search_or_lookup(self, text: str) -> None:
        code = _strip_code(text)
        if code.isdigit() and len(code) >= MIN_BARCODE_DIGITS:
            self._debounce.stop()
            self._lookup(text)
            return
        if self._debounce.isActive() or (self.outcome and self.outcome.query != text):
            self._run_search()
            return
        self._focus_results()

    def _next_generation(self) -> int:
        generation = self._latest.next()
        self._started_at = time.perf_counter()
        self.search_started.emit(generation)
        return generation

    @Slot()
    def _run_search(self) -> None:
        self._debounce.stop()
        query = self.search_box.text()
        self._find_students(query)
        generation = self._next_generation()
        if not query.strip():
            self._show_outcome(generation, SearchOutcome("", (), 0, "empty"))
            return
        desk, holder, offline = self.ctx.desk, self.snapshot, self.offline
        self.busy.start()
        run_in_background(
            self,
            lambda: search_formulary(desk, holder, query, limit=RESULT_LIMIT, offline=offline),
            lambda outcome: self._show_outcome(generation, outcome),
            lambda exc: self._search_failed(generation, exc),
        )

    # -- students (the student's page) ----------------------------------------------------

    def _find_students(self, query: str) -> None:
        generation = self._student_latest.next()
        if len(query.strip()) < 2 or self.offline:
            self.student_matches.show_hits(())
            return
        desk = self.ctx.desk

        def show(hits: tuple[StudentHit, ...]) -> None:
            if self._student_latest.is_current(generation):
                self.student_matches.show_hits(hits)

        run_in_background(self, lambda: find_students(desk, query), show, log_only("find students"))

    def _open_scanned_student(self, text: str) -> None:
        """A student ID card's number + Enter: her page when she is a student of this desk,
        else the text is searched as usual (it may be a product code)."""
        desk = self.ctx.desk

        def found(hit: StudentHit | None) -> None:
            if hit is None:
                self._search_or_lookup(text)
                return
            self.search_box.selectAll()  # the next scan replaces this one
            self.open_student_page(hit.id)

        run_in_background(
            self,
            lambda: student_by_number(desk, text),
            found,
            lambda _exc: self._search_or_lookup(text),
        )

    def open_student_page(self, student_id: uuid.UUID) -> StudentPageDialog:
        return open_student_page(self.ctx, student_id, self)

    def _lookup(self, code: str) -> None:
        generation = self._next_generation()
        desk, holder, offline = self.ctx.desk, self.snapshot, self.offline
        self.busy.start()
        run_in_background(
            self,
            lambda: lookup_code(desk, holder, code, offline=offline),
            lambda outcome: self._show_scan(generation, outcome),
            lambda exc: self._search_failed(generation, exc),
        )

    def _show_scan(self, generation: int, outcome: SearchOutcome) -> None:
        self._show_outcome(generation, outcome)
        if not self._latest.is_current(generation):
            return
        self.search_box.selectAll()  # the next scan replaces this one
        if outcome.hits:
            self.select_medication(outcome.hits[0].id)
        else:
            self.banner.show_message(
                "warning",
                f"No product in the formulary has the code {outcome.query}. Check the number "
                "printed beside the barcode, or add the medication by hand.",
            )

    def _show_outcome(self, generation: int, outcome: SearchOutcome) -> None:
        if not self._latest.is_current(generation):
            return  # an answer to an older request: a newer one is on its way
        self.busy.stop()
        if outcome.kind != "empty":
            self._set_online(not outcome.offline)
        if outcome.offline and outcome.snapshot_built_at is not None:
            self.offline_badge.setText(offline_caption(outcome.snapshot_built_at))
        self.outcome = outcome
        if outcome.kind != "ndc" or outcome.hits:
            self.banner.clear()
        keep = self._select_after
        self._select_after = None
        self.model.set_hits(outcome.hits)
        self.results_stack.setCurrentWidget(self.view if outcome.hits else self.empty_label)
        self._show_count(outcome)
        if keep is not None and self.select_medication(keep):
            pass
        elif outcome.hits and outcome.kind == "ndc":
            self.select_medication(outcome.hits[0].id)
        else:
            self.details.clear()
        self.last_latency_ms = (time.perf_counter() - self._started_at) * 1000
        self.results_shown.emit(generation)
        self.refreshed.emit()

    def _show_count(self, outcome: SearchOutcome) -> None:
        q = outcome.query.strip()
        if outcome.kind == "empty" and not q:
            self.count_label.setText("")
            self._set_empty_text()
            return
        if outcome.offline and outcome.snapshot_size is None:
            self.count_label.setText("")
            self._set_empty_text(
                "The database cannot be reached and this PC has no copy of the formulary yet."
            )
            return
        if not outcome.hits:
            self.count_label.setText("")
            if outcome.message:
                self._set_empty_text(f"“{q}”: {outcome.message}.")
            elif outcome.kind == "empty":
                self._set_empty_text("Type at least two letters.")
            else:
                self._set_empty_text(
                    f"Nothing in the formulary matches “{q}”.\n"
                    "Check the spelling, try the generic name, or add the medication by hand."
                )
            return
        shown = len(outcome.hits)
        noun = "result" if outcome.total == 1 else "results"
        text = f"{outcome.total:,} {noun}"
        if shown < outcome.total:
            text = f"First {shown} of {outcome.total:,} results — type more to narrow them"
        if outcome.corrected:
            text += f"  ·  showing results for “{outcome.corrected}”"
        self.count_label.setText(text)

    def _search_failed(self, generation: int, exc: BaseException) -> None:
        if not self._latest.is_current(generation):
            return
        self.busy.stop()
        if is_connection_error(exc):
            self._set_online(False)
        self.banner.show_message("error", f"The search failed: {friendly_error(exc)}", "Retry")
        self.refreshed.emit()

    def _set_online(self, online: bool) -> None:
        changed = self.offline == online
        self.offline = not online
        self.offline_badge.setVisible(self.offline)
        if changed:
            if online:
                self.prepare_snapshot(refresh=True)  # the server answers: a newer last good copy
            self.online_changed.emit(online)
            self.ctx.hub.connection_changed.emit(online)

    # -- details -----------------------------------------------------------------------------

    @Slot(QModelIndex, QModelIndex)
    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        hit = current.siblingAtColumn(0).data(HitRole) if current.isValid() else None
        if not isinstance(hit, MedicationHit):
            self.details.clear()
            return
        self.details.show_hit(hit)
        self._load_details(hit)

    def _load_details(self, hit: MedicationHit) -> None:
        generation = self._detail_latest.next()
        desk, school_id, offline = self.ctx.desk, self.ctx.school_id, self.offline
        today = school_today(self.ctx.school_timezone, self.ctx.now())

        def load() -> ProductDetails:
            if offline:
                return ProductDetails(hit, (hit,), None, offline=True)
            members = product_group(desk, hit)
            ids = [m.id for m in members] or [hit.id]
            stock = (
                school_lots(desk, school_id, medication_ids=ids, today=today)
                if school_id is not None
                else None
            )
            return ProductDetails(hit, members, stock)

        run_in_background(
            self,
            load,
            lambda details: self._details_loaded(generation, details),
            lambda exc: self._details_failed(generation, exc),
        )

    def _details_loaded(self, generation: int, details: ProductDetails) -> None:
        if not self._detail_latest.is_current(generation):
            return
        self.details.show_details(details, self.ctx.school_name)
        self.details_shown.emit(details)

    def _details_failed(self, generation: int, exc: BaseException) -> None:
        if not self._detail_latest.is_current(generation):
            return
        if is_connection_error(exc):
            self._set_online(False)
        self.details.show_error(f"Stock could not be loaded: {friendly_error(exc)}")

    @Slot()
    def _focus_results(self) -> None:
        if self.proxy.rowCount() == 0:
            return
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)
        if not self.view.currentIndex().isValid():
            self.view.selectRow(0)
            self.view.setCurrentIndex(self.proxy.index(0, 0))

    @Slot(QModelIndex)
    def _activated(self, index: QModelIndex) -> None:
        """Enter / double-click on a result: its stock table takes the keyboard."""
        if not index.isValid():
            return
        if self.details.lots_proxy.rowCount():
            self.details.lots_view.setFocus(Qt.FocusReason.OtherFocusReason)
        elif self.details.receive_button.isEnabled():
            self.details.receive_button.setFocus(Qt.FocusReason.OtherFocusReason)

    # -- actions -------------------------------------------------------------------------------

    @Slot()
    def add_medication(self) -> None:
        from medapp.ui.dialogs.add_medication import AddMedicationDialog

        dialog = AddMedicationDialog(self.ctx, self, name=self.search_box.text().strip())
        dialog.added.connect(self._medication_added)
        self.dialog = dialog
        dialog.open()

    def _medication_added(self, hit: MedicationHit) -> None:
        self._select_after = hit.id
        self.search_box.setText(hit.name)
        self._run_search()

    def receive_stock(self, hit: MedicationHit) -> None:
        from medapp.ui.dialogs.adjust_stock import AddLotDialog, MedicationChoice

        dialog = AddLotDialog(self.ctx, MedicationChoice.from_hit(hit), self)
        self.dialog = dialog
        dialog.open()

    # -- changes from elsewhere ----------------------------------------------------------------

    @Slot(str, str)
    def _on_data_changed(self, table: str, school: str) -> None:
        if table in FORMULARY_TABLES:
            self.snapshot.forget()
            self._snapshot_timer.start()
        if table in STOCK_TABLES and school in ("*", str(self.ctx.school_id)):
            hit = self.details.hit
            if hit is not None and not self.offline:
                self._load_details(hit)

    @Slot(bool)
    def _on_connection_changed(self, online: bool) -> None:
        if online and self.offline:
            self.offline = False
            self.offline_badge.hide()
            self.prepare_snapshot(refresh=True)  # the server answers: a newer last good copy
            if self.search_box.text().strip():
                self.refresh()

    def prepare_snapshot(self, *, refresh: bool = False, pool: QThreadPool | None = None) -> None:
        """Make sure this PC holds a formulary snapshot (built off the GUI thread; ``pool``:
        a low-priority pool, so it never delays what the nurse is waiting for)."""
        sessions, holder = self.ctx.db.sessions, self.snapshot
        run_in_background(
            self,
            lambda: holder.ensure(sessions, refresh=refresh),
            lambda _snapshot: None,
            # offline at start: the old snapshot (if any) stays in use
            log_only("formulary snapshot"),
            pool=pool or background_pool(),
        )
