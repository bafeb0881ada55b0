"""Stock lots as a table (``LotRow`` dataclasses from ``services.inventory_admin``), and the
proxy that filters them by alert chip and typed text and sorts on ``SortRole``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QFont

from medapp.formulary.text import search_key
from medapp.services.inventory_admin import LotRow
from medapp.ui.models.search_model import title_case_form
from medapp.ui.widgets.icons import icon
from medapp.ui.widgets.theme import color

LotRole = Qt.ItemDataRole.UserRole + 1
SortRole = Qt.ItemDataRole.UserRole + 2

(
    COL_MEDICATION,
    COL_FORM,
    COL_BATCH,
    COL_OWNER,
    COL_QUANTITY,
    COL_REORDER,
    COL_EXPIRES,
    COL_STATUS,
) = range(8)
HEADERS = ("Medication", "Form", "Lot", "Kept for", "Quantity", "Reorder at", "Expires", "Status")
_Index = QModelIndex | QPersistentModelIndex

#: alert class → (chip kind, label, icon, colour token)
STATUS_STYLE = {
    "EXPIRED": ("expired", "Expired", "expired", "expiredFg"),
    "NEAR_EXPIRY": ("near", "Near expiry", "near-expiry", "nearFg"),
    "LOW_STOCK": ("low", "Low stock", "low-stock", "lowFg"),
    "WARNING": ("warning", "Warning", "warning", "warnFg"),
    "EMPTY": ("empty", "Empty", "empty", "muted"),
    "OK": ("ok", "OK", "ok", "okFg"),
}
CHIP_TO_ALERT = {
    "expired": "EXPIRED",
    "near": "NEAR_EXPIRY",
    "low": "LOW_STOCK",
    "warning": "WARNING",
}


def medication_label(name: str, strength: str) -> str:
    """ "Ritalin 10 mg", not "Ritalin 10 mg 10 mg" when the name already says the strength."""
    strength = (strength or "").strip()
    if not strength or strength.lower() in name.lower():
        return name
    return f"{name} {strength}"


def status_text(lot: LotRow) -> str:
    if lot.empty:
        return "Empty"
    if not lot.alerts:
        return "OK"
    return " · ".join(STATUS_STYLE[a][1] for a in lot.alerts)


def expires_text(lot: LotRow) -> str:
    date = lot.expiration_date.strftime("%d %b %Y")
    nb = "\u00a0"  # the date and its "(in 7 d)" never split over two lines
    date = date.replace(" ", nb)
    if lot.days_left < 0:
        return f"{date}{nb}{nb}({-lot.days_left}{nb}d{nb}ago)"
    if lot.days_left == 0:
        return f"{date}{nb}{nb}(today)"
    if lot.days_left <= 60:
        return f"{date}{nb}{nb}(in{nb}{lot.days_left}{nb}d)"
    return date


def _status_rank(lot: LotRow) -> int:
    order = ("EXPIRED", "NEAR_EXPIRY", "LOW_STOCK", "WARNING", "OK", "EMPTY")
    return order.index(lot.status)


class LotsModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.lots: list[LotRow] = []
        self._bold = QFont()
        self._bold.setBold(True)

    def set_lots(self, lots: Sequence[LotRow]) -> None:
        self.beginResetModel()
        self.lots = list(lots)
        self.endResetModel()

    def lot(self, row: int) -> LotRow | None:
        return self.lots[row] if 0 <= row < len(self.lots) else None

    def row_of(self, lot_id: object) -> int:
        for i, lot in enumerate(self.lots):
            if lot.id == lot_id:
                return i
        return -1

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.lots)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:  # noqa: N802
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        if role == Qt.ItemDataRole.TextAlignmentRole and section in (COL_QUANTITY, COL_REORDER):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.lots):
            return None
        lot = self.lots[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(lot, col)
        if role == LotRole:
            return lot
        if role == SortRole:
            return self._sort_key(lot, col)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (COL_QUANTITY, COL_REORDER):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.DecorationRole:
            if col == COL_STATUS:
                _k, _l, name, token = STATUS_STYLE[lot.status]
                return icon(name, color(token))
            if col == COL_MEDICATION and lot.is_controlled:
                return icon("controlled", color("controlledFg"))
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == COL_STATUS:
                return color(STATUS_STYLE[lot.status][3])
            if col == COL_EXPIRES and lot.expiry_status != "OK" and not lot.empty:
                return color(STATUS_STYLE[lot.expiry_status][3])
            if col == COL_QUANTITY and lot.stock_status != "OK" and not lot.empty:
                return color(STATUS_STYLE[lot.stock_status][3])
            if lot.empty:
                return color("muted")
        if role == Qt.ItemDataRole.FontRole and col in (COL_STATUS, COL_QUANTITY) and lot.alerts:
            return self._bold
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == COL_MEDICATION:
                parts = [lot.generic_name or lot.medication_name, title_case_form(lot.dosage_form)]
                if lot.is_controlled:
                    parts.append(
                        f"controlled ({lot.dea_schedule})" if lot.dea_schedule else "controlled"
                    )
                return " — ".join(parts)
            if col == COL_STATUS:
                return status_text(lot)
        return None

    @staticmethod
    def _display(lot: LotRow, col: int) -> str:
        if col == COL_MEDICATION:
            return medication_label(lot.medication_name, lot.strength)
        if col == COL_FORM:
            return title_case_form(lot.dosage_form)
        if col == COL_BATCH:
            return lot.batch_number
        if col == COL_OWNER:
            return lot.student_name or "Office stock"
        if col == COL_QUANTITY:
            return f"{lot.quantity:,}"
        if col == COL_REORDER:
            return f"{lot.reorder_level:,}"
        if col == COL_EXPIRES:
            return expires_text(lot)
        if col == COL_STATUS:
            return status_text(lot)
        return ""

    @staticmethod
    def _sort_key(lot: LotRow, col: int) -> Any:
        if col == COL_QUANTITY:
            return lot.quantity
        if col == COL_REORDER:
            return lot.reorder_level
        if col == COL_EXPIRES:
            return lot.expiration_date.toordinal()
        if col == COL_STATUS:
            return _status_rank(lot) * 10_000_000 + lot.expiration_date.toordinal()
        return LotsModel._display(lot, col).lower()


class LotsFilterProxy(QSortFilterProxyModel):
    """Rows of one alert chip ("expired", "near", "low", "warning"; "" = all) whose medication,
    lot number or student matches every typed word."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setSortRole(SortRole)
        self._alert = ""
        self._words: list[str] = []
        self._show_empty = True

    def _refilter(self, change: Callable[[], None]) -> None:
        begin = getattr(self, "beginFilterChange", None)  # Qt >= 6.10
        if begin is None:
            change()
            self.invalidateFilter()
            return
        begin()
        change()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_alert(self, chip: str) -> None:
        self._refilter(lambda: setattr(self, "_alert", CHIP_TO_ALERT.get(chip, "")))

    def set_text(self, text: str) -> None:
        self._refilter(lambda: setattr(self, "_words", search_key(text).split()))

    def set_show_empty(self, show: bool) -> None:
        self._refilter(lambda: setattr(self, "_show_empty", show))

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:  # noqa: N802
        model = self.sourceModel()
        lot = model.lot(source_row) if isinstance(model, LotsModel) else None
        if lot is None:
            return False
        if self._alert and self._alert not in lot.alerts:
            return False
        if not self._show_empty and lot.empty:
            return False
        if self._words:
            hay = " " + search_key(
                " ".join(
                    x
                    for x in (
                        lot.medication_name,
                        lot.generic_name,
                        lot.strength,
                        lot.batch_number,
                        lot.student_name,
                    )
                    if x
                )
            )
            return all(f" {w}" in hay for w in self._words)
        return True


def today_marker(today: dt.date) -> str:
    return today.strftime("%A %d %B %Y")
