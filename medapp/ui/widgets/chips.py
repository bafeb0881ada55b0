"""Status chips: small rounded counters ("Expired 3") with an icon per kind. A
:class:`ChipBar` makes them filters — click one to show only that kind, click it again (or
"All") to show everything."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

from medapp.ui.widgets.icons import set_icon

#: chip kind → (icon, colour token of its text and icon)
CHIP_KINDS = {
    "expired": ("expired", "expiredFg"),
    "near": ("near-expiry", "nearFg"),
    "low": ("low-stock", "lowFg"),
    "warning": ("warning", "warnFg"),
    "ok": ("ok", "okFg"),
    "info": ("info", "infoFg"),
    "offline": ("offline", "infoFg"),
    "controlled": ("controlled", "controlledFg"),
    "all": ("inventory", "text"),
}


def _icon_side(widget: QWidget) -> int:
    return max(14, round(widget.fontMetrics().height() * 1.05))


class StatusBadge(QLabel):
    """A passive chip: text on a tinted, rounded background (e.g. "C-II", "offline")."""

    def __init__(
        self, kind: str, text: str = "", object_name: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(text, parent)
        if object_name:
            self.setObjectName(object_name)
        self.setProperty("badge", True)
        self.set_kind(kind)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)

    def set_kind(self, kind: str) -> None:
        self.setProperty("kind", kind)
        self.style().unpolish(self)
        self.style().polish(self)


class StatusChip(QPushButton):
    """A checkable counter chip of one ``kind``."""

    def __init__(
        self, kind: str, label: str, object_name: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.kind = kind
        self.label_text = label
        self.count = 0
        self.setObjectName(object_name)
        self.setProperty("chip", True)
        self.setProperty("kind", kind)
        self.setCheckable(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        bold = self.font()
        bold.setBold(True)
        self.setFont(bold)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.refresh_icon()
        self.set_count(0)

    def refresh_icon(self) -> None:
        name, token = CHIP_KINDS.get(self.kind, ("info", "infoFg"))
        set_icon(self, name, token)
        side = _icon_side(self)
        self.setIconSize(QSize(side, side))

    def set_count(self, count: int | None) -> None:
        self.count = count or 0
        shown = f"{self.label_text}  {count}" if count is not None else self.label_text
        self.setText(shown)
        self.setProperty("empty", not self.count)
        self.setAccessibleName(shown)
        self.setToolTip(
            f"Show only: {self.label_text.lower()}" if self.kind != "all" else "Show every lot"
        )
        self.style().unpolish(self)
        self.style().polish(self)


class ChipBar(QWidget):
    """A row of filter chips; at most one checked. ``filter_changed`` carries the kind or ""."""

    filter_changed = Signal(str)

    def __init__(self, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self._row = QHBoxLayout(self)
        self._row.setContentsMargins(0, 0, 0, 0)
        self._row.setSpacing(8)
        self._row.addStretch(1)
        self.chips: dict[str, StatusChip] = {}
        self._current = ""

    def add_chip(self, chip: StatusChip) -> StatusChip:
        self._row.insertWidget(self._row.count() - 1, chip)
        self.chips[chip.kind] = chip
        chip.clicked.connect(lambda _checked=False, k=chip.kind: self._clicked(k))
        return chip

    @property
    def current(self) -> str:
        return self._current

    def select(self, kind: str) -> None:
        """Check ``kind`` ("" or "all": no filter) and announce the change."""
        kind = "" if kind == "all" else kind
        for k, chip in self.chips.items():
            chip.setChecked(k == kind or (kind == "" and k == "all"))
        if kind != self._current:
            self._current = kind
            self.filter_changed.emit(kind)

    def _clicked(self, kind: str) -> None:
        self.select("" if kind == self._current and kind != "all" else kind)

    def set_counts(self, counts: dict[str, int]) -> None:
        for kind, n in counts.items():
            if kind in self.chips:
                self.chips[kind].set_count(n)

    def refresh_icons(self) -> None:
        for chip in self.chips.values():
            chip.refresh_icon()
