"""One order's dose records, newest first, corrections included (``dose_history``'s
``DoseHistoryEntry`` rows): the correction dialog's list.

Records are never deleted: a corrected record stays in the list, struck through (the font's
strike-out, through ``Qt.FontRole``, so every view and a screen reader's "formatting" agree),
next to the correction that replaced it with the correcting nurse's name and reason.
"""

from __future__ import annotations

import uuid
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QFont

from medapp.domain.doses import NotGivenReason
from medapp.services.corrections import DoseHistoryEntry
from medapp.ui.models.reminders_model import tone

_ROOT = QModelIndex()
EntryRole = Qt.ItemDataRole.UserRole + 1  # the DoseHistoryEntry
CurrentRole = Qt.ItemDataRole.UserRole + 2  # True while the record stands (not superseded)
CorrectableRole = Qt.ItemDataRole.UserRole + 3  # a current GIVEN / NOT_GIVEN record

COLUMNS = ("Time", "Record", "Dose", "By", "Details")
COL_TIME, COL_RECORD, COL_DOSE, COL_BY, COL_DETAILS = range(len(COLUMNS))


def record_label(entry: DoseHistoryEntry) -> str:
    """ "Given", "Not given — Refused", "Entered in error"."""
    if entry.status == "NOT_GIVEN":
        reason = entry.not_given_reason
        try:
            return f"Not given — {NotGivenReason(reason).label}" if reason else "Not given"
        except ValueError:
            return f"Not given — {reason}"
    if entry.status == "ENTERED_IN_ERROR":
        return "Entered in error"
    if entry.status == "MISSED":
        return "Missed (end of day)"
    return "Given"


def is_correctable(entry: DoseHistoryEntry) -> bool:
    """A record that stands and says something about the dose (an "entered in error" marker
    has nothing left to correct: the dose may simply be given again)."""
    return entry.is_current and entry.status in ("GIVEN", "NOT_GIVEN")


class DoseHistoryModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._entries: list[DoseHistoryEntry] = []
        self._tz = ZoneInfo("UTC")
        self._by_id: dict[uuid.UUID, DoseHistoryEntry] = {}

    def set_entries(self, entries: tuple[DoseHistoryEntry, ...], timezone: str) -> None:
        self.beginResetModel()
        self._entries = list(entries)
        self._by_id = {e.log_id: e for e in self._entries}
        self._tz = ZoneInfo(timezone)
        self.endResetModel()

    def entries(self) -> list[DoseHistoryEntry]:
        return list(self._entries)

    def entry_at(self, row: int) -> DoseHistoryEntry | None:
        return self._entries[row] if 0 <= row < len(self._entries) else None

    def row_of(self, log_id: uuid.UUID | None) -> int:
        for row, entry in enumerate(self._entries):
            if entry.log_id == log_id:
                return row
        return -1

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        entry = self.entry_at(index.row()) if index.isValid() else None
        if entry is None:
            return None
        if role == EntryRole:
            return entry
        if role == CurrentRole:
            return entry.is_current
        if role == CorrectableRole:
            return is_correctable(entry)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(entry, index.column())
        if role == Qt.ItemDataRole.AccessibleTextRole:
            text = self._text(entry, index.column())
            return text if entry.is_current else f"{text} (superseded)"
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()
            font.setStrikeOut(not entry.is_current)
            font.setBold(index.column() == COL_RECORD and entry.is_current)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and not entry.is_current:
            return QBrush(tone("muted"))
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(entry)
        return None

    def _local(self, entry_time: Any, fmt: str = "%a %d %b %H:%M") -> str:
        return entry_time.astimezone(self._tz).strftime(fmt) if entry_time else ""

    def _text(self, entry: DoseHistoryEntry, column: int) -> str:
        if column == COL_TIME:
            return self._local(entry.time_given)
        if column == COL_RECORD:
            return record_label(entry)
        if column == COL_DOSE:
            return entry.dosage_given or ""
        if column == COL_BY:
            return entry.nurse_name
        if column == COL_DETAILS:
            return self._details(entry)
        return ""

    def _details(self, entry: DoseHistoryEntry) -> str:
        parts: list[str] = []
        if not entry.is_current:
            replaced_by = (
                self._by_id.get(entry.superseded_by_id) if entry.superseded_by_id else None
            )
            who = f" by {replaced_by.nurse_name}" if replaced_by else ""
            when = f" at {self._local(entry.corrected_at, '%H:%M')}" if entry.corrected_at else ""
            parts.append(f"Corrected{who}{when}")
        if entry.supersedes_id is not None:
            reason = f": {entry.correction_reason}" if entry.correction_reason else ""
            parts.append(f"Correction by {entry.nurse_name}{reason}")
        if entry.scheduled_for is not None:
            parts.append(f"for the {self._local(entry.scheduled_for, '%H:%M')} dose")
        if entry.override_reason:
            parts.append(entry.override_reason)
        if entry.notes and entry.notes != entry.correction_reason:
            parts.append(entry.notes)
        return " · ".join(parts)

    def _tooltip(self, entry: DoseHistoryEntry) -> str:
        lines = [f"{record_label(entry)} at {self._local(entry.time_given)} by {entry.nurse_name}"]
        details = self._details(entry)
        if details:
            lines.append(details)
        if is_correctable(entry):
            lines.append("Select it and choose what is wrong to correct it.")
        return "\n".join(lines)
