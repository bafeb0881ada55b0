"""The schedule pane's table: one row per active prescription in the range (plain
``ScheduleEntry`` dataclasses from ``medapp.services.students.school_schedule``)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QFont

from medapp.services.students import ScheduleEntry
from medapp.ui.models.reminders_model import tone, warning_icon

_ROOT = QModelIndex()  # the invalid index: the default parent
EntryRole = Qt.ItemDataRole.UserRole + 1
SortRole = Qt.ItemDataRole.UserRole + 3
AuthorizationRole = Qt.ItemDataRole.UserRole + 5  # "AUTHORIZATION_EXPIRED" / "…_EXPIRING" / None

COLUMNS = (
    "Student",
    "Grade",
    "Medication",
    "Dose",
    "Route",
    "School times",
    "PRN limits",
    "Authorization",
    "Logged in range",
    "Student no.",
)
(
    COL_STUDENT,
    COL_GRADE,
    COL_MED,
    COL_DOSE,
    COL_ROUTE,
    COL_TIMES,
    COL_PRN,
    COL_AUTH,
    COL_LOGS,
    COL_NUMBER,
) = range(len(COLUMNS))


def _grade_key(grade: str) -> str:
    """A string (the proxy compares strings and numbers): K first, then 1, 2, … 12."""
    return "0" if grade.upper() == "K" else "1" + grade.zfill(3)


def prn_text(minutes: int | None, per_day: int | None, is_prn: bool) -> str:
    if not is_prn:
        return ""
    parts = []
    if minutes:
        hours, rest = divmod(minutes, 60)
        parts.append(f"≥ {hours} h apart" if hours and not rest else f"≥ {minutes} min apart")
    if per_day:
        parts.append(f"max {per_day}/day")
    return ", ".join(parts) or "as needed"


class ScheduleModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._entries: list[ScheduleEntry] = []
        self._tz = ZoneInfo("UTC")

    def set_entries(self, entries: tuple[ScheduleEntry, ...], timezone: str) -> None:
        self.beginResetModel()
        self._entries = list(entries)
        self._tz = ZoneInfo(timezone)
        self.endResetModel()

    def entries(self) -> list[ScheduleEntry]:
        return list(self._entries)

    def entry_at(self, row: int) -> ScheduleEntry | None:
        return self._entries[row] if 0 <= row < len(self._entries) else None

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._entries):
            return None
        entry = self._entries[index.row()]
        column = index.column()
        if role == EntryRole:
            return entry
        if role == AuthorizationRole:
            return entry.authorization_code
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._text(entry, column)
        if role == SortRole:
            return self._sort_key(entry, column)
        if column == COL_AUTH and entry.authorization_code:
            expired = entry.authorization_code == "AUTHORIZATION_EXPIRED"
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(tone("error" if expired else "warning"))
            if role == Qt.ItemDataRole.DecorationRole:
                return warning_icon("error" if expired else "warning")
            if role == Qt.ItemDataRole.FontRole:
                font = QFont()
                font.setBold(expired)
                return font
        if column == COL_DOSE and entry.dose_conflict:
            # The order's dose and the product's strength disagree (rule 6): said on the row.
            if role == Qt.ItemDataRole.DecorationRole:
                return warning_icon("warning")
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(tone("warning"))
        if role == Qt.ItemDataRole.ForegroundRole and column in (COL_AUTH, COL_LOGS, COL_NUMBER):
            return QBrush(tone("muted"))  # routine detail recedes; warnings (above) stand out
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(entry)
        return None

    def _text(self, entry: ScheduleEntry, column: int) -> str:
        row = entry.row
        if column == COL_STUDENT:
            return row.student_name
        if column == COL_GRADE:
            return row.grade
        if column == COL_NUMBER:
            return row.student_number
        if column == COL_MED:
            label = row.medication_name
            if row.strength and row.strength not in label:
                label = f"{label} {row.strength}"
            return label + ("  (controlled)" if row.is_controlled else "")
        if column == COL_DOSE:
            return row.dosage
        if column == COL_ROUTE:
            return row.route
        if column == COL_TIMES:
            if row.administration_times:
                return ", ".join(t.strftime("%H:%M") for t in row.administration_times)
            return "as needed" if row.is_prn else row.frequency
        if column == COL_PRN:
            return prn_text(row.prn_min_interval_minutes, row.prn_max_per_day, row.is_prn)
        if column == COL_AUTH:
            last = entry.authorization_last_day
            if entry.authorization_code == "AUTHORIZATION_EXPIRED":
                return f"Expired {last.isoformat()}" if last else "Expired"
            if entry.authorization_code == "AUTHORIZATION_EXPIRING":
                return f"Expires {last.isoformat()}" if last else "Expiring"
            return f"until {last.isoformat()}" if last else "—"
        if column == COL_LOGS:
            return self._logs_text(entry)
        return ""

    def _logs_text(self, entry: ScheduleEntry) -> str:
        current = [log for log in entry.row.logs if not log.superseded]
        if not current:
            return "none"
        given = sum(1 for log in current if log.status == "GIVEN")
        corrected = len(entry.row.logs) - len(current)
        last = max(current, key=lambda log: log.time_given)
        when = last.time_given.astimezone(self._tz).strftime("%b %d %H:%M")
        extra = f" · {corrected} corrected" if corrected else ""
        return f"{given} given{extra} · last {when} ({last.nurse_name})"

    def _tooltip(self, entry: ScheduleEntry) -> str:
        row = entry.row
        lines = [
            f"{row.student_name} — {row.medication_name} {row.strength}",
            f"Order: {row.frequency}",
        ]
        if row.end_date:
            lines.append(f"Ends {row.end_date.isoformat()}")
        if entry.authorization_message:
            lines.append(entry.authorization_message)
        if entry.dose_conflict:
            lines.append(entry.dose_conflict)
        corrected = [log for log in row.logs if log.superseded]
        if corrected:
            lines.append(
                f"{len(corrected)} record(s) corrected in the range (struck through in Correct…)."
            )
        lines.append("Double-click or Enter to record a dose; right-click to correct a record.")
        return "\n".join(lines)

    def _sort_key(self, entry: ScheduleEntry, column: int) -> Any:
        row = entry.row
        if column == COL_GRADE:
            return _grade_key(row.grade)
        if column == COL_TIMES:
            return row.administration_times[0].isoformat() if row.administration_times else "99"
        if column == COL_AUTH:
            return (entry.authorization_last_day or dt.date.max).isoformat()
        if column == COL_LOGS:
            return len(row.logs)
        return self._text(entry, column).casefold()
