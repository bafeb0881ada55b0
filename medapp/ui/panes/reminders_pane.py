"""Today's school doses, grouped: Due now, Upcoming, Missed, Given, Not given.

One click or Enter on a dose opens the dose dialog for exactly that scheduled dose. The list
reloads every minute (DUE turns into MISSED with the clock) and whenever a dose is logged
anywhere (``ctx.hub.data_changed``: this PC's ``announce_change`` or another PC's NOTIFY). The
load runs on a worker; an older answer arriving after a newer request is dropped. A
notification that names the dose-log rows it wrote (``hub.rows_changed``) re-reads only those
rows into the day the pane holds (one statement by primary key), coalesced with its burst; any
other change reloads the day.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPoint, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from medapp.db.repositories.reminders import (
    DayReminders,
    FlaggedPrescription,
    ReminderInputs,
    ReminderItem,
)
from medapp.domain.doses import DoseStatus
from medapp.runtime.context import AppContext
from medapp.services.reminders import patch_school_day, school_day
from medapp.services.students import friendly_error
from medapp.services.supplies import AttentionItem, supply_attention
from medapp.ui.dialog_slot import DialogSlot
from medapp.ui.dialogs.correction_dialog import CorrectionDialog
from medapp.ui.dialogs.dose_dialog import (
    DoseDialog,
    desk_now,
    repolish,
    school_tz,
    set_tone,
)
from medapp.ui.dialogs.reaction_dialog import ReactionDialog
from medapp.ui.models.reminders_model import (
    COL_DOSE,
    COL_MED,
    COL_ROUTE,
    COL_STUDENT,
    COL_TIME,
    SECTIONS,
    RemindersModel,
    SectionRole,
    StatusRole,
    status_icon,
    warning_icon,
)
from medapp.ui.panes.dose_menu import dose_row_menu
from medapp.ui.widgets import Banner, BusyIndicator
from medapp.ui.widgets.elide import ElidedLabel
from medapp.ui.widgets.keys import down_moves_into
from medapp.ui.widgets.tables import setup_row_view
from medapp.ui.workers import Latest, coalescing_timer, log_only, run_in_background

REFRESH_MS = 60_000
# Changes that alter today's list (formulary, stock and incident changes do not).
WATCHED_TABLES = frozenset(
    {
        "medication_logs",
        "student_medications",
        "students",
        "schools",
        "school_closures",
        "users",
        "*",
    }
)
_RED_FLAGS = frozenset({"AUTHORIZATION_EXPIRED", "FREQUENCY_INVALID", "DOSE_STRENGTH_CONFLICT"})
_SECTION_STATUS = {sec.key: sec.statuses[0] for sec in SECTIONS}


class RemindersPane(QWidget):
    #: a dose dialog was opened (tests and the main window may want it)
    dialog_opened = Signal(object)
    #: the list was (re)loaded
    refreshed = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("remindersPane")
        self.reminders: DayReminders | None = None
        self._inputs: ReminderInputs | None = None  # what ``reminders`` was computed from
        self._loading = False  # a whole-day load is on its way
        self._pending_ids: set[uuid.UUID] = set()  # dose logs named by notifications
        self._pending_reload = False  # a change without ids arrived: reload the day
        self._named: Counter[tuple[str, str]] = Counter()  # data_changed already seen with ids
        self.supply_notices: tuple[AttentionItem, ...] = ()  # refills, letters (issue 14)
        self._latest = Latest()
        self._sized = False
        self._collapsed: set[str] = set()  # section keys the nurse collapsed
        self._natural: dict[int, int] = {}  # column widths of the first sizing (see _fit_columns)
        self._build()
        # one dialog of each kind at a time; the focus goes back to the list when it closes
        self._dose_slot: DialogSlot[DoseDialog] = DialogSlot(
            self, focus_back=self.view, on_open=self.dialog_opened.emit
        )
        self._correction_slot: DialogSlot[CorrectionDialog] = DialogSlot(
            self, focus_back=self.view, on_open=self.dialog_opened.emit
        )
        self._reaction_slot: DialogSlot[ReactionDialog] = DialogSlot(self, single=False)

        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        # bursts of change notifications make one reload (or one patch)
        self._coalesce = coalescing_timer(self, 250, self._apply_changes)
        ctx.hub.rows_changed.connect(self._on_rows_changed)
        ctx.hub.data_changed.connect(self._on_data_changed)
        self.refresh()

    # -- layout ----------------------------------------------------------------------------

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        top = QHBoxLayout()
        title = QLabel("Today's doses")
        title.setObjectName("remindersTitle")
        title.setProperty("heading", True)
        self.date_label = ElidedLabel()
        self.date_label.setObjectName("remindersDate")
        top.addWidget(title)
        top.addWidget(self.date_label)
        top.addStretch(1)
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("remindersFilter")
        self.filter_edit.setPlaceholderText("Filter by student or medication")
        self.filter_edit.setAccessibleName("Filter today's doses")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._filter_changed)
        self.filter_edit.setMinimumWidth(self.fontMetrics().averageCharWidth() * 24)
        top.addWidget(self.filter_edit)
        self.correct_button = QPushButton("Correct…")
        self.correct_button.setObjectName("remindersCorrect")
        self.correct_button.setToolTip("Correct the record of the selected dose")
        self.correct_button.setEnabled(False)
        self.correct_button.clicked.connect(self.correct_selected)
        top.addWidget(self.correct_button)
        self.reaction_button = QPushButton("Report reaction…")
        self.reaction_button.setObjectName("remindersReaction")
        self.reaction_button.setToolTip(
            "Report an adverse reaction of the selected student (to any medication)"
        )
        self.reaction_button.setEnabled(False)
        self.reaction_button.clicked.connect(self.report_reaction)
        top.addWidget(self.reaction_button)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("remindersRefresh")
        self.refresh_button.clicked.connect(self.refresh)
        top.addWidget(self.refresh_button)
        outer.addLayout(top)

        counts = QHBoxLayout()
        self.count_labels: dict[str, QLabel] = {}
        for sec in SECTIONS:
            chip = QLabel()
            chip.setObjectName(f"count{sec.key.title().replace('_', '')}")
            chip.setProperty("status", sec.key)
            chip.setProperty("chip", True)
            chip.setTextFormat(Qt.TextFormat.PlainText)
            icon = QLabel()
            size = self.fontMetrics().height()
            icon.setPixmap(status_icon(_SECTION_STATUS[sec.key]).pixmap(size, size))
            counts.addWidget(icon)
            counts.addWidget(chip)
            counts.addSpacing(self.fontMetrics().averageCharWidth() * 2)
            self.count_labels[sec.key] = chip
        counts.addStretch(1)
        self.updated_label = QLabel()
        self.updated_label.setObjectName("remindersUpdated")
        set_tone(self.updated_label, "muted")
        counts.addWidget(self.updated_label)
        outer.addLayout(counts)

        self.attention = QFrame()
        self.attention.setObjectName("attentionStrip")
        self.attention.setProperty("attention", True)
        self.attention.setFrameShape(QFrame.Shape.StyledPanel)
        strip = QVBoxLayout(self.attention)
        strip.setContentsMargins(8, 6, 8, 6)
        self.attention_title = QLabel()
        self.attention_title.setObjectName("attentionTitle")
        font = self.attention_title.font()
        font.setBold(True)
        self.attention_title.setFont(font)
        set_tone(self.attention_title, "warning")
        self.attention_list = QListWidget()
        self.attention_list.setObjectName("attentionList")
        self.attention_list.setAccessibleName("Prescriptions that need attention")
        self.attention_list.setFrameShape(QFrame.Shape.NoFrame)
        self.attention_list.itemActivated.connect(self._attention_activated)
        self.attention_list.itemDoubleClicked.connect(self._attention_activated)
        strip.addWidget(self.attention_title)
        strip.addWidget(self.attention_list)
        self.attention.hide()
        outer.addWidget(self.attention)

        self.banner = Banner("remindersBanner")
        self.banner.action.clicked.connect(self.refresh)
        outer.addWidget(self.banner)
        self.busy = BusyIndicator("Loading today's doses…", "remindersBusy")
        outer.addWidget(self.busy)

        self.model = RemindersModel(self)
        self.view = QTreeView()
        setup_row_view(
            self.view,
            self.model,
            object_name="remindersView",
            accessible_name="Today's doses by status",
            sort_column=COL_TIME,
        )
        self.view.setUniformRowHeights(True)
        self.view.setAlternatingRowColors(True)
        self.view.setAllColumnsShowFocus(True)
        self.view.setExpandsOnDoubleClick(False)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.view.clicked.connect(self._row_clicked)
        self.view.activated.connect(self._row_clicked)  # Enter (and double-click on some styles)
        self.view.selectionModel().currentRowChanged.connect(self._current_changed)
        self.view.collapsed.connect(lambda i: self._collapsed.add(i.data(StatusRole)))
        self.view.expanded.connect(lambda i: self._collapsed.discard(i.data(StatusRole)))
        header = self.view.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        outer.addWidget(self.view, 1)
        down_moves_into(self.filter_edit, self.view)
        self.view.viewport().installEventFilter(self)

        self.empty_label = QLabel()
        self.empty_label.setObjectName("remindersEmpty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        set_tone(self.empty_label, "muted")
        self.empty_label.hide()
        outer.addWidget(self.empty_label, 1)
        self._update_counts()

    def focus_search(self) -> None:
        """Ctrl+F in the main window: the pane's filter field."""
        self.filter_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_edit.selectAll()

    # -- loading ---------------------------------------------------------------------------

    @Slot()
    def refresh(self) -> None:
        ctx = self.ctx
        if ctx.school_id is None:
            self.banner.show_message("warning", "No school is chosen for this desk.")
            return
        generation = self._latest.next()
        now = desk_now(ctx)
        tz = school_tz(ctx)
        day = now.astimezone(tz).date()
        desk, school_id = ctx.desk, ctx.school_id
        self._loading = True
        self._pending_ids.clear()  # the whole day is read again: they come with it
        self._pending_reload = False
        self.busy.start()
        run_in_background(
            self,
            lambda: school_day(desk, school_id, day, now=now),
            lambda result: self._loaded(generation, result),
            lambda exc: self._failed(generation, exc),
        )

    def _patch(self, inputs: ReminderInputs, log_ids: list[uuid.UUID]) -> None:
        """Re-read only the named dose logs into the day the pane holds."""
        generation = self._latest.next()
        now = desk_now(self.ctx)
        desk = self.ctx.desk
        run_in_background(
            self,
            lambda: patch_school_day(desk, inputs, log_ids, now=now),
            lambda result: self._loaded(generation, result),
            lambda exc: self._failed(generation, exc),
        )

    def _loaded(self, generation: int, result: tuple[ReminderInputs, DayReminders]) -> None:
        if not self._latest.is_current(generation):
            return  # an older answer: a newer request is on its way
        self._loading = False
        self._inputs, reminders = result
        self.busy.reset()
        self.banner.clear()
        keep = self.selected_item()
        self.reminders = reminders
        self.model.set_reminders(reminders, self.ctx.school_timezone)
        self.model.set_filter(self.filter_edit.text())
        self._after_reset(keep)
        tz = school_tz(self.ctx)
        self.date_label.setText(
            reminders.day.strftime("%A %d %B")
            + (f"  ·  {self.ctx.school_name}" if self.ctx.school_name else "")
        )
        self.updated_label.setText(f"updated {reminders.now.astimezone(tz).strftime('%H:%M')}")
        self._show_attention(reminders.flagged)
        self._load_supply_attention(generation)
        self.refreshed.emit()

    def _failed(self, generation: int, exc: BaseException) -> None:
        if not self._latest.is_current(generation):
            return
        self._loading = False
        self._inputs = None  # the next change reloads the whole day
        self.busy.reset()
        stale = " The list below may be out of date." if self.reminders is not None else ""
        self.banner.show_message(
            "error", f"Could not load today's doses: {friendly_error(exc)}{stale}", action="Retry"
        )

    def _after_reset(self, keep: ReminderItem | None) -> None:
        for row in range(self.model.rowCount()):
            section = self.model.index(row, 0)
            self.view.setFirstColumnSpanned(row, QModelIndex(), True)
            # Sections stay as the nurse left them (a collapsed "Given" stays collapsed).
            self.view.setExpanded(section, section.data(StatusRole) not in self._collapsed)
        if keep is not None:
            found = self.model.index_of(
                lambda i: (
                    i.rx.prescription_id == keep.rx.prescription_id
                    and i.scheduled_for == keep.scheduled_for
                )
            )
            if found.isValid():
                self.view.setCurrentIndex(found)
        self._size_columns()
        self._update_counts()
        empty = self.model.rowCount() == 0
        self.view.setVisible(not empty)
        self.empty_label.setVisible(empty)
        if empty:
            if self.reminders is not None and self.reminders.items:
                self.empty_label.setText("No dose matches the filter.")
            else:
                self.empty_label.setText(
                    "No school doses today (a weekend, a closure, or no scheduled orders)."
                )

    def _size_columns(self) -> None:
        if self._sized or self.model.rowCount() == 0:
            return  # once: after that the nurse's own column widths stay
        self._sized = True
        for column in range(self.model.columnCount()):
            self.view.resizeColumnToContents(column)
        em = self.fontMetrics().averageCharWidth()
        caps = {COL_STUDENT: 30, COL_MED: 46, COL_DOSE: 20, COL_ROUTE: 16}
        for column, cap in caps.items():
            self.view.setColumnWidth(column, min(self.view.columnWidth(column), em * cap))
        # The time sits under the section's expander: room for the indentation, "12:30" and
        # the cell padding the stylesheet adds.
        fm = self.view.fontMetrics()
        time_width = self.view.indentation() + fm.horizontalAdvance("00:00") + em * 6
        self.view.setColumnWidth(COL_TIME, max(time_width, self.view.columnWidth(COL_TIME)))
        self._natural = {c: self.view.columnWidth(c) for c in caps}
        self._fit_columns()

    def _fit_columns(self) -> None:
        """No sideways scrolling for the status (issue 14, 1024 px): when the columns are wider
        than the list, the long ones (medication, student, dose, route) give up width — their
        text elides — down to a floor, before the status is pushed out of sight."""
        if not self._sized or not self.view.isVisible():
            return  # a hidden list's width is not its real one: its first resize fits it
        em = self.fontMetrics().averageCharWidth()
        header = self.view.header()
        last = self.model.columnCount() - 1
        # the last column stretches into what is left: room for its heading at least
        note_room = max(em * 14, header.sectionSizeHint(last))
        over = sum(header.sectionSize(c) for c in range(last)) + note_room
        over -= self.view.viewport().width()
        # wider again (up to the first sizing) when there is room; narrower when there is not
        for column, natural in self._natural.items():
            width = header.sectionSize(column)
            if over < 0 and width < natural:
                take = min(-over, natural - width)
                self.view.setColumnWidth(column, width + take)
                over += take
        for column, floor in ((COL_MED, 18), (COL_DOSE, 8), (COL_ROUTE, 6), (COL_STUDENT, 16)):
            if over <= 0:
                break
            width = header.sectionSize(column)
            give = min(over, max(0, width - em * floor))
            if give:
                self.view.setColumnWidth(column, width - give)
                over -= give

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        # the list's own width (not the pane's: the list is hidden until it has rows)
        if event.type() == QEvent.Type.Resize and watched is self.view.viewport():
            self._fit_columns()
        return super().eventFilter(watched, event)

    def _update_counts(self) -> None:
        counts = self.model.counts
        for sec in SECTIONS:
            n = counts.get(sec.key, 0)
            chip = self.count_labels[sec.key]
            chip.setText(f"{sec.title}: {n}")
            chip.setProperty("empty", n == 0)
            set_tone(chip, sec.tone if n else "muted")
            repolish(chip)

    def _show_attention(self, flagged: tuple[FlaggedPrescription, ...]) -> None:
        self.attention_list.clear()
        for fp in flagged:
            messages = " ".join(message for _code, message in fp.flags)
            # Red for what stops doses (an expired order, a frequency nobody can read), amber
            # for what will (expiring soon). ``fp.blocking`` only means "no doses today".
            severe = any(code in _RED_FLAGS for code, _m in fp.flags)
            item = QListWidgetItem(
                warning_icon("error" if severe else "warning"),
                f"{fp.rx.student_name} — {fp.rx.medication_name}: {messages}",
            )
            item.setData(Qt.ItemDataRole.UserRole, fp.rx.prescription_id)
            item.setToolTip("Enter or double-click to open this order's dose dialog.")
            self.attention_list.addItem(item)
        self.attention_title.setText(f"Needs attention ({len(flagged)})")
        rows = min(len(flagged), 4)
        if rows:
            height = self.attention_list.sizeHintForRow(0) * rows + 4
            self.attention_list.setFixedHeight(height)
        self.attention.setVisible(bool(flagged))

    # -- filtering -------------------------------------------------------------------------

    @Slot(str)
    def _filter_changed(self, text: str) -> None:
        keep = self.selected_item()
        self.model.set_filter(text)
        self._after_reset(keep)

    # -- opening ---------------------------------------------------------------------------

    def selected_item(self) -> ReminderItem | None:
        return self.model.item_at(self.view.currentIndex())

    @Slot(QModelIndex)
    def _row_clicked(self, index: QModelIndex) -> None:
        if index.data(SectionRole):
            return
        item = self.model.item_at(index)
        if item is not None:
            self.open_dose(item)

    def open_dose(self, item: ReminderItem) -> DoseDialog | None:
        return self._open(item.rx.prescription_id, item.scheduled_for)

    def open_dose_at(
        self, prescription_id: uuid.UUID, scheduled_for: dt.datetime
    ) -> DoseDialog | None:
        """A due-dose card's Give…: that dose's dialog (None when one is already open)."""
        self.select_dose(prescription_id, scheduled_for)
        return self._open(prescription_id, scheduled_for)

    def select_dose(self, prescription_id: uuid.UUID, scheduled_for: dt.datetime) -> bool:
        """A due-dose card's Open: the dose's row selected and in view (a filter that hides it
        is cleared). False when the list does not hold it (not loaded yet)."""

        def match(i: ReminderItem) -> bool:
            return i.rx.prescription_id == prescription_id and i.scheduled_for == scheduled_for

        found = self.model.index_of(match)
        if not found.isValid() and self.filter_edit.text():
            self.filter_edit.clear()
            found = self.model.index_of(match)
        if not found.isValid():
            return False
        self.view.expand(found.parent())
        self.view.setCurrentIndex(found)
        self.view.scrollTo(found)
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)
        return True

    def _open(
        self, prescription_id: uuid.UUID, scheduled_for: dt.datetime | None
    ) -> DoseDialog | None:
        # one dose at a time (a click and an Enter, a double-click)
        return self._dose_slot.open(
            lambda: DoseDialog(self.ctx, prescription_id, scheduled_for, parent=self)
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

    @Slot(QListWidgetItem)
    def _attention_activated(self, item: QListWidgetItem) -> None:
        prescription_id = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(prescription_id, AttentionItem):
            self.open_supplies(prescription_id)
        elif prescription_id is not None:
            self._open(prescription_id, None)

    # -- students' supplies: refill notices and authorization letters (issue 14) -------------

    def _load_supply_attention(self, generation: int) -> None:
        desk, school_id = self.ctx.desk, self.ctx.school_id
        if school_id is None:
            return
        run_in_background(
            self,
            lambda: supply_attention(desk, school_id),
            lambda items: self._add_supply_attention(generation, items),
            log_only("supply notices"),
        )

    def _add_supply_attention(self, generation: int, items: tuple[AttentionItem, ...]) -> None:
        """Refill notices, and expiring authorizations not already flagged above, appended to
        "Needs attention"; Enter opens Supplies and letters… on the item (its letter)."""
        if not self._latest.is_current(generation) or self.reminders is None:
            return
        flagged = {fp.rx.prescription_id for fp in self.reminders.flagged}
        shown = [i for i in items if i.kind == "REFILL" or i.order_id not in flagged]
        for notice in shown:
            row = QListWidgetItem(warning_icon("warning"), notice.text)
            row.setData(Qt.ItemDataRole.UserRole, notice)
            row.setToolTip("Enter or double-click: the letter to the parent.")
            self.attention_list.addItem(row)
        total = self.attention_list.count()
        self.attention_title.setText(f"Needs attention ({total})")
        if total:
            rows = min(total, 4)
            self.attention_list.setFixedHeight(self.attention_list.sizeHintForRow(0) * rows + 4)
        self.attention.setVisible(bool(total))
        self.supply_notices = tuple(shown)

    def open_supplies(self, notice: AttentionItem | None = None) -> QDialog:
        from medapp.ui.dialogs.supplies_dialog import SuppliesDialog

        dialog = SuppliesDialog(self.ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if notice is not None:
            dialog.loaded.connect(lambda: dialog.select_attention(notice))
        dialog.show()
        return dialog

    @Slot(QModelIndex, QModelIndex)
    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        item = self.model.item_at(current)
        self.reaction_button.setEnabled(item is not None)
        self.correct_button.setEnabled(item is not None and has_record(item))

    @Slot()
    def report_reaction(self, item: ReminderItem | None = None) -> ReactionDialog | None:
        """A reaction of the selected row's student — to the row's medication by default, or
        any other (office stock, one the parent gave)."""
        item = item or self.selected_item()
        if item is None:
            return None
        return self._reaction_slot.open(
            lambda: ReactionDialog(
                self.ctx,
                item.rx.student_id,
                item.rx.medication_id,
                prescription_id=item.rx.prescription_id,
                log_id=item.log_id if _was_given(item) else None,  # type: ignore[arg-type]
                parent=self,
            )
        )

    @Slot()
    def correct_selected(self) -> CorrectionDialog | None:
        item = self.selected_item()
        return self.open_correction(item) if item is not None else None

    def open_correction(self, item: ReminderItem) -> CorrectionDialog | None:
        """ "Correct…" on a dose row: the correction dialog on that row's record (the order's
        other records are listed in it too)."""
        log_id = item.log_id if isinstance(item.log_id, uuid.UUID) else None
        return self._correction_slot.open(
            lambda: CorrectionDialog(self.ctx, item.rx.prescription_id, log_id, parent=self)
        )

    @Slot(QPoint)
    def _context_menu(self, pos: QPoint) -> None:
        item = self.model.item_at(self.view.indexAt(pos))
        if item is None:
            return
        self.context_menu = self.menu_for(item)
        self.context_menu.popup(self.view.viewport().mapToGlobal(pos))

    def menu_for(self, item: ReminderItem) -> QMenu:
        """The dose row's context menu (built here so tests can read and trigger it)."""
        return dose_row_menu(
            self,
            self.ctx,
            object_name="remindersMenu",
            record=lambda: self.open_dose(item),
            correct=(lambda: self.open_correction(item)) if has_record(item) else None,
            report_reaction=lambda: self.report_reaction(item),
            prescription_id=item.rx.prescription_id,
            student_id=item.rx.student_id,
            student_name=item.rx.student_name,
            medication_name=item.rx.medication_name,
        )

    # -- change notifications --------------------------------------------------------------

    @Slot(str, str, object)
    def _on_rows_changed(self, table: str, school: str, row_ids: tuple[str, ...]) -> None:
        """A notification that names its rows; its ``data_changed`` follows (same thread, same
        order) and is then only counted off."""
        self._named[(table, school)] += 1
        if not self._concerns(table, school):
            return
        if table != "medication_logs":
            self._pending_reload = True
        else:
            try:
                self._pending_ids.update(uuid.UUID(i) for i in row_ids)
            except ValueError:
                self._pending_reload = True  # not ids this version understands: reload all
        self._coalesce.start()

    @Slot(str, str)
    def _on_data_changed(self, table: str, school: str) -> None:
        if self._named[(table, school)] > 0:
            self._named[(table, school)] -= 1
            return  # already taken, with its ids, by _on_rows_changed
        if not self._concerns(table, school):
            return
        self._pending_reload = True
        self._coalesce.start()

    def _concerns(self, table: str, school: str) -> bool:
        return table in WATCHED_TABLES and school in ("*", str(self.ctx.school_id))

    @Slot()
    def _apply_changes(self) -> None:
        """The coalesced burst: patch the named logs, or reload the day when a change did not
        name its rows, nothing is held yet, a whole-day load is on its way, or the day turned."""
        ids, self._pending_ids = sorted(self._pending_ids), set()
        inputs = self._inputs
        if (
            self._pending_reload
            or inputs is None
            or self._loading
            or inputs.day != desk_now(self.ctx).astimezone(school_tz(self.ctx)).date()
        ):
            self.refresh()
        elif ids:
            self._patch(inputs, ids)


def has_record(item: ReminderItem) -> bool:
    """A row with a record to correct (given, given late, or not given)."""
    return item.log_id is not None and item.status in (
        DoseStatus.COMPLETED,
        DoseStatus.LATE,
        DoseStatus.NOT_GIVEN,
    )


def _was_given(item: ReminderItem) -> bool:
    return item.log_id is not None and item.status in (DoseStatus.COMPLETED, DoseStatus.LATE)
