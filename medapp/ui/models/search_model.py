"""Search results as a table: one row per ``MedicationHit`` (a plain dataclass), in the order
the search ranked them; a ``QSortFilterProxyModel`` on ``SortRole`` sorts by any column."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from medapp.formulary.search import MedicationHit
from medapp.ui.widgets.icons import icon
from medapp.ui.widgets.theme import color

HitRole = Qt.ItemDataRole.UserRole + 1
SortRole = Qt.ItemDataRole.UserRole + 2

COL_NAME, COL_GENERIC, COL_STRENGTH, COL_FORM, COL_MAKER, COL_NDC, COL_CONTROLLED = range(7)
HEADERS = ("Name", "Generic name", "Strength", "Form", "Manufacturer", "NDC", "Controlled")
_Index = QModelIndex | QPersistentModelIndex


def controlled_label(hit: MedicationHit) -> str:
    if not hit.is_controlled:
        return ""
    if hit.dea_schedule:
        return f"C-{hit.dea_schedule[1:]}" if hit.dea_schedule.startswith("C") else hit.dea_schedule
    return "Controlled"


def title_case_form(form: str) -> str:
    """FDA forms are upper case ("TABLET, FILM COATED"); show them calmly."""
    return form.capitalize() if form.isupper() else form


class SearchResultsModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.hits: list[MedicationHit] = []

    def set_hits(self, hits: Sequence[MedicationHit]) -> None:
        self.beginResetModel()
        self.hits = list(hits)
        self.endResetModel()

    def hit(self, row: int) -> MedicationHit | None:
        return self.hits[row] if 0 <= row < len(self.hits) else None

    def row_of(self, medication_id: object) -> int:
        for i, hit in enumerate(self.hits):
            if hit.id == medication_id:
                return i
        return -1

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.hits)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.hits):
            return None
        hit = self.hits[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(hit, col)
        if role == SortRole:
            if col == COL_NAME:
                return index.row()  # the search's own ranking
            if col == COL_CONTROLLED:
                return f"{0 if hit.is_controlled else 1}{hit.dea_schedule or ''}"
            return (self._display(hit, col) or "").lower()
        if role == HitRole:
            return hit
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == COL_NAME and hit.group_size > 1:
                return f"{hit.group_size} products share this name, strength and form"
            if col == COL_CONTROLLED and hit.is_controlled:
                return "Controlled substance: counts are witnessed"
            if col == COL_NAME and not hit.is_active:
                return "No longer marketed (kept for history)"
            return None
        if role == Qt.ItemDataRole.DecorationRole and col == COL_CONTROLLED and hit.is_controlled:
            return icon("controlled", color("controlledFg"))
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == COL_CONTROLLED and hit.is_controlled:
                return color("controlledFg")
            if not hit.is_active:
                return color("muted")
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return self._display(hit, col) or "none"
        return None

    @staticmethod
    def _display(hit: MedicationHit, col: int) -> str:
        if col == COL_NAME:
            extra = f"  (+{hit.group_size - 1})" if hit.group_size > 1 else ""
            return hit.name + extra
        if col == COL_GENERIC:
            return hit.generic_name or ""
        if col == COL_STRENGTH:
            return hit.strength
        if col == COL_FORM:
            return title_case_form(hit.dosage_form)
        if col == COL_MAKER:
            return hit.manufacturer or ""
        if col == COL_NDC:
            return hit.package_ndc or hit.ndc or ""
        if col == COL_CONTROLLED:
            return controlled_label(hit)
        return ""
