"""Today's doses as a two-level Qt model: status sections (Due now, Upcoming, Missed, Given,
Not given), each holding its doses. Also the status vocabulary every view shares — labels,
colours for light and dark palettes, and icons whose *shape* differs by status (colour is never
the only cue).

The model holds plain dataclasses (``ReminderItem``) and is filled on the GUI thread with the
result of ``reminders_for_school``; it never loads anything itself.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QRectF,
    Qt,
)
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QIcon,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QPolygonF,
)

from medapp.db.repositories.reminders import DayReminders, ReminderItem
from medapp.domain.doses import DoseStatus, NotGivenReason
from medapp.ui.widgets import theme

_ROOT = QModelIndex()  # the invalid index: the default parent
ItemRole = Qt.ItemDataRole.UserRole + 1  # the ReminderItem of a dose row (None on a section)
StatusRole = Qt.ItemDataRole.UserRole + 2  # the status value ("DUE", …) / section key
SortRole = Qt.ItemDataRole.UserRole + 3
SectionRole = Qt.ItemDataRole.UserRole + 4  # True on a section row

STATUS_LABELS = {
    DoseStatus.DUE: "Due now",
    DoseStatus.UPCOMING: "Upcoming",
    DoseStatus.MISSED: "Missed",
    DoseStatus.COMPLETED: "Given",
    DoseStatus.LATE: "Given late",
    DoseStatus.NOT_GIVEN: "Not given",
}

# Text colours by meaning → the shared theme's tokens (medapp.ui.widgets.theme), so the light
# and dark palettes and the stylesheet's chips and banners all agree.
_TOKENS = {
    "due": "nearFg",
    "upcoming": "infoFg",
    "missed": "expiredFg",
    "done": "okFg",
    "late": "warnFg",
    "muted": "muted",
    "error": "expiredFg",
    "warning": "nearFg",
    "info": "infoFg",
}
# Icon fills: mid-tones that carry a white glyph on both palettes.
_FILLS = {
    "due": "#d97706",
    "upcoming": "#2563eb",
    "missed": "#dc2626",
    "done": "#16a34a",
    "late": "#ca8a04",
    "muted": "#6b7280",
    "warning": "#d97706",
    "error": "#dc2626",
}
_STATUS_TONE = {
    DoseStatus.DUE: "due",
    DoseStatus.UPCOMING: "upcoming",
    DoseStatus.MISSED: "missed",
    DoseStatus.COMPLETED: "done",
    DoseStatus.LATE: "late",
    DoseStatus.NOT_GIVEN: "muted",
}


def tone(name: str) -> QColor:
    """A text colour by meaning ("error", "due", …) for the current light or dark palette."""
    return theme.color(_TOKENS[name])


def status_tone(status: DoseStatus) -> str:
    return _STATUS_TONE[status]


# --------------------------------------------------------------------------------------------
# Icons (drawn, so they scale with the screen and need no files)
# --------------------------------------------------------------------------------------------


def _draw(kind: str, size: int) -> QPixmap:
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = float(size)
    m = s * 0.06
    fill = QColor(_FILLS.get(kind.split(":")[0], "#6b7280"))
    white = QPen(QColor("white"), max(1.5, s * 0.12))
    white.setCapStyle(Qt.PenCapStyle.RoundCap)
    white.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    body = QRectF(m, m, s - 2 * m, s - 2 * m)
    if kind == "due":  # filled circle, "!"
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(fill)
        p.drawEllipse(body)
        p.setPen(white)
        p.drawLine(QPointF(s / 2, s * 0.26), QPointF(s / 2, s * 0.58))
        p.drawPoint(QPointF(s / 2, s * 0.75))
    elif kind == "upcoming":  # clock face outline with hands
        pen = QPen(fill, max(1.5, s * 0.1))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawEllipse(body.adjusted(s * 0.04, s * 0.04, -s * 0.04, -s * 0.04))
        p.drawLine(QPointF(s / 2, s / 2), QPointF(s / 2, s * 0.26))
        p.drawLine(QPointF(s / 2, s / 2), QPointF(s * 0.7, s * 0.6))
    elif kind in ("missed", "warning", "error"):  # triangle, "!"
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(fill)
        tri = QPolygonF([QPointF(s / 2, m), QPointF(s - m, s - m * 1.5), QPointF(m, s - m * 1.5)])
        path = QPainterPath()
        path.addPolygon(tri)
        path.closeSubpath()
        p.drawPath(path)
        p.setPen(white)
        p.drawLine(QPointF(s / 2, s * 0.36), QPointF(s / 2, s * 0.62))
        p.drawPoint(QPointF(s / 2, s * 0.78))
    elif kind == "done":  # filled circle, check mark
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(fill)
        p.drawEllipse(body)
        p.setPen(white)
        p.drawPolyline(
            QPolygonF(
                [
                    QPointF(s * 0.28, s * 0.52),
                    QPointF(s * 0.44, s * 0.68),
                    QPointF(s * 0.73, s * 0.34),
                ]
            )
        )
    elif kind == "late":  # rounded square, check mark
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(fill)
        p.drawRoundedRect(body, s * 0.18, s * 0.18)
        p.setPen(white)
        p.drawPolyline(
            QPolygonF(
                [
                    QPointF(s * 0.28, s * 0.52),
                    QPointF(s * 0.44, s * 0.68),
                    QPointF(s * 0.73, s * 0.34),
                ]
            )
        )
    else:  # "muted" (not given): circle with a slash
        pen = QPen(fill, max(1.5, s * 0.12))
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        inner = body.adjusted(s * 0.06, s * 0.06, -s * 0.06, -s * 0.06)
        p.drawEllipse(inner)
        p.drawLine(QPointF(s * 0.27, s * 0.73), QPointF(s * 0.73, s * 0.27))
    p.end()
    return pm


@cache
def _icon(kind: str) -> QIcon:
    icon = QIcon()
    for size in (16, 20, 24, 32, 48):
        icon.addPixmap(_draw(kind, size))
    return icon


def status_icon(status: DoseStatus) -> QIcon:
    return _icon(_STATUS_TONE[status])


def warning_icon(kind: str = "warning") -> QIcon:
    """A triangle with "!" ("warning" amber, "error" red)."""
    return _icon(kind)


# --------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    statuses: tuple[DoseStatus, ...]
    tone: str


SECTIONS = (
    Section("DUE", "Due now", (DoseStatus.DUE,), "due"),
    Section("UPCOMING", "Upcoming", (DoseStatus.UPCOMING,), "upcoming"),
    Section("MISSED", "Missed", (DoseStatus.MISSED,), "missed"),
    Section("DONE", "Given", (DoseStatus.COMPLETED, DoseStatus.LATE), "done"),
    Section("NOT_GIVEN", "Not given", (DoseStatus.NOT_GIVEN,), "muted"),
)
_SECTION_OF = {status: i for i, sec in enumerate(SECTIONS) for status in sec.statuses}

COLUMNS = ("Time", "Student", "Grade", "Medication", "Dose", "Route", "Status", "Given / note")
COL_TIME, COL_STUDENT, COL_GRADE, COL_MED, COL_DOSE, COL_ROUTE, COL_STATUS, COL_NOTE = range(8)

_NO_PARENT = 0xFFFFFFFF  # internalId of section rows (dose rows carry their section's number)


def _grade_key(grade: str) -> tuple[int, str]:
    return (0, "") if grade.upper() == "K" else (1, grade.zfill(3))


class RemindersModel(QAbstractItemModel):
    """Sections at the top level (only non-empty ones), doses under them."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._tz = ZoneInfo("UTC")
        self._sections: list[tuple[Section, list[ReminderItem]]] = []
        self._sort: tuple[int, Qt.SortOrder] = (COL_TIME, Qt.SortOrder.AscendingOrder)
        self._all: list[ReminderItem] = []
        self._filter = ""
        self.day: dt.date | None = None
        self.counts: dict[str, int] = {}

    # -- filling ---------------------------------------------------------------------------

    def set_reminders(self, reminders: DayReminders, timezone: str) -> None:
        self._tz = ZoneInfo(timezone)
        self.day = reminders.day
        self._all = list(reminders.items)
        self._rebuild()

    def set_filter(self, text: str) -> None:
        """Show only doses whose student name/number or medication contains ``text``."""
        needle = text.strip().casefold()
        if needle != self._filter:
            self._filter = needle
            self._rebuild()

    def _matches(self, item: ReminderItem) -> bool:
        if not self._filter:
            return True
        rx = item.rx
        haystack = f"{rx.student_name} {rx.student_number} {rx.medication_name}".casefold()
        return all(word in haystack for word in self._filter.split())

    def _rebuild(self) -> None:
        self.beginResetModel()
        buckets: list[list[ReminderItem]] = [[] for _ in SECTIONS]
        for item in self._all:
            buckets[_SECTION_OF[item.status]].append(item)
        # Counts are the day's, whatever the filter shows.
        self.counts = {sec.key: len(items) for sec, items in zip(SECTIONS, buckets, strict=True)}
        shown = [[i for i in items if self._matches(i)] for items in buckets]
        self._sections = [(sec, items) for sec, items in zip(SECTIONS, shown, strict=True) if items]
        self._apply_sort()
        self.endResetModel()

    def clear(self) -> None:
        self.beginResetModel()
        self._all = []
        self._sections = []
        self.counts = {}
        self.endResetModel()

    def items(self) -> list[ReminderItem]:
        return [item for _sec, items in self._sections for item in items]

    def section_keys(self) -> list[str]:
        return [sec.key for sec, _items in self._sections]

    def index_of(self, predicate: Callable[[ReminderItem], bool]) -> QModelIndex:
        for s, (_sec, items) in enumerate(self._sections):
            for r, item in enumerate(items):
                if predicate(item):
                    return self.createIndex(r, 0, s)
        return QModelIndex()

    def item_at(self, index: QModelIndex | QPersistentModelIndex) -> ReminderItem | None:
        if not index.isValid() or index.internalId() == _NO_PARENT:
            return None
        return self._sections[index.internalId()][1][index.row()]

    # -- structure -------------------------------------------------------------------------

    def index(
        self, row: int, column: int, parent: QModelIndex | QPersistentModelIndex = _ROOT
    ) -> QModelIndex:
        if column < 0 or column >= len(COLUMNS):
            return QModelIndex()
        if not parent.isValid():
            if 0 <= row < len(self._sections):
                return self.createIndex(row, column, _NO_PARENT)
            return QModelIndex()
        if parent.internalId() != _NO_PARENT:
            return QModelIndex()
        items = self._sections[parent.row()][1]
        if 0 <= row < len(items):
            return self.createIndex(row, column, parent.row())
        return QModelIndex()

    def parent(self, index: QModelIndex | QPersistentModelIndex = _ROOT) -> QModelIndex:  # type: ignore[override]
        if not index.isValid() or index.internalId() == _NO_PARENT:
            return QModelIndex()
        return self.createIndex(index.internalId(), 0, _NO_PARENT)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:  # noqa: N802
        if not parent.isValid():
            return len(self._sections)
        if parent.internalId() == _NO_PARENT and parent.column() == 0:
            return len(self._sections[parent.row()][1])
        return 0

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:  # noqa: N802
        return len(COLUMNS)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if index.internalId() == _NO_PARENT:
            return Qt.ItemFlag.ItemIsEnabled
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    # -- data ------------------------------------------------------------------------------

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid():
            return None
        if index.internalId() == _NO_PARENT:
            return self._section_data(index, role)
        item = self._sections[index.internalId()][1][index.row()]
        return self._item_data(item, index.column(), role)

    def _section_data(self, index: QModelIndex | QPersistentModelIndex, role: int) -> Any:
        sec, items = self._sections[index.row()]
        if role == SectionRole:
            return True
        if role == StatusRole:
            return sec.key
        if index.column() != 0:
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return f"{sec.title} ({len(items)})"
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(tone(sec.tone))
        if role == Qt.ItemDataRole.DecorationRole:
            return _icon(sec.tone)
        return None

    def _item_data(self, item: ReminderItem, column: int, role: int) -> Any:
        if role == ItemRole:
            return item
        if role == StatusRole:
            return item.status.value
        if role == SectionRole:
            return False
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            text = self._text(item, column)
            if role == Qt.ItemDataRole.AccessibleTextRole and column == COL_TIME:
                return f"{text}, {STATUS_LABELS[item.status]}"
            return text
        if role == SortRole:
            return self._sort_key(item, column)
        if role == Qt.ItemDataRole.DecorationRole and column == COL_STATUS:
            return status_icon(item.status)
        if role == Qt.ItemDataRole.ForegroundRole and column == COL_STATUS:
            return QBrush(tone(_STATUS_TONE[item.status]))
        if (
            role == Qt.ItemDataRole.FontRole
            and column == COL_STATUS
            and item.status
            in (
                DoseStatus.DUE,
                DoseStatus.MISSED,
            )
        ):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(item)
        return None

    def _local(self, moment: dt.datetime) -> str:
        return moment.astimezone(self._tz).strftime("%H:%M")

    def _text(self, item: ReminderItem, column: int) -> str:
        rx = item.rx
        if column == COL_TIME:
            return self._local(item.scheduled_for)
        if column == COL_STUDENT:
            return rx.student_name
        if column == COL_GRADE:
            return rx.grade
        if column == COL_MED:
            label = rx.medication_name
            if rx.strength and rx.strength not in label:
                label = f"{label} {rx.strength}"
            return label + ("  (controlled)" if rx.is_controlled else "")
        if column == COL_DOSE:
            return rx.dosage
        if column == COL_ROUTE:
            return rx.route
        if column == COL_STATUS:
            return STATUS_LABELS[item.status]
        if column == COL_NOTE:
            return self._note(item)
        return ""

    def _note(self, item: ReminderItem) -> str:
        if item.status is DoseStatus.NOT_GIVEN and item.not_given_reason:
            who = f" — {item.nurse_name}" if item.nurse_name else ""
            return f"{NotGivenReason(item.not_given_reason).label}{who}"
        if item.given_at is not None:
            who = f" by {item.nurse_name}" if item.nurse_name else ""
            return f"{self._local(item.given_at)}{who}"
        return ""

    def _tooltip(self, item: ReminderItem) -> str:
        lines = [
            f"{item.rx.student_name} (grade {item.rx.grade}, #{item.rx.student_number})",
            f"{item.rx.medication_name} {item.rx.strength} — {item.rx.dosage}, {item.rx.route}",
            f"Scheduled {self._local(item.scheduled_for)}: {STATUS_LABELS[item.status]}",
        ]
        if item.flags:
            lines.append("Flags: " + ", ".join(f.replace("_", " ").lower() for f in item.flags))
        return "\n".join(lines)

    def _sort_key(self, item: ReminderItem, column: int) -> Any:
        if column == COL_TIME:
            return item.scheduled_for.timestamp()
        if column == COL_GRADE:
            return _grade_key(item.rx.grade)
        if column == COL_STATUS:
            return list(DoseStatus).index(item.status)
        return self._text(item, column).casefold()

    # -- sorting (within each section; sections keep their order) ------------------------------

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        old_items = [(self.item_at(i), i.column(), i.internalId(), i.row()) for i in old]
        self._sort = (column, order)
        self._apply_sort()
        new = []
        for item, col, section_id, row in old_items:
            if item is None:
                new.append(self.createIndex(row, col, section_id))
            else:
                found = self.index_of(functools.partial(operator.is_, item))
                new.append(
                    self.createIndex(found.row(), col, found.internalId())
                    if found.isValid()
                    else QModelIndex()
                )
        self.changePersistentIndexList(old, new)
        self.layoutChanged.emit()

    def _apply_sort(self) -> None:
        column, order = self._sort
        reverse = order == Qt.SortOrder.DescendingOrder
        for _sec, items in self._sections:
            items.sort(
                key=lambda i: (i.scheduled_for.timestamp(), i.rx.student_name)
            )  # stable tie-break
            items.sort(key=lambda i: self._sort_key(i, column), reverse=reverse)


def summary_text(counts: dict[str, int], sections: Sequence[Section] = SECTIONS) -> str:
    """ "Due now 3 · Upcoming 12 · Missed 1 · Given 20 · Not given 0"."""
    return " · ".join(f"{sec.title} {counts.get(sec.key, 0)}" for sec in sections)
