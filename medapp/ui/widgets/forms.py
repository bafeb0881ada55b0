"""Inline validation for dialogs: each field can show its own error sentence under it and a red
border, so the nurse sees what to fix where it is (no message box for a typo)."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


def repolish(widget: QWidget) -> None:
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class FieldErrors:
    """Error labels keyed by field name; ``wrap`` builds a field + its error label."""

    def __init__(self) -> None:
        self._fields: dict[str, tuple[QWidget, QLabel]] = {}

    def wrap(self, field: str, widget: QWidget, object_name: str) -> QWidget:
        box = QWidget()
        col = QVBoxLayout(box)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(2)
        col.addWidget(widget)
        label = QLabel()
        label.setObjectName(f"{object_name}Error")
        label.setProperty("fieldError", True)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        label.hide()
        col.addWidget(label)
        self._fields[field] = (widget, label)
        return box

    def set(self, field: str, message: str) -> bool:
        """Show ``message`` under ``field``; False if there is no such field."""
        entry = self._fields.get(field)
        if entry is None:
            return False
        widget, label = entry
        label.setText(message)
        label.show()
        # a wrapped sentence needs its height for the field's width (form layouts do not ask)
        fm = label.fontMetrics()
        width = max(widget.width(), fm.averageCharWidth() * 40) - fm.averageCharWidth() * 2
        flags = int(Qt.AlignmentFlag.AlignLeft) | int(Qt.TextFlag.TextWordWrap)
        needed = fm.boundingRect(QRect(0, 0, width, 10_000), flags, message).height()
        label.setMinimumHeight(needed + fm.lineSpacing() // 2)
        box = label.parentWidget()
        if box is not None:  # QFormLayout gives a row only its first guess: insist
            box.setMinimumHeight(widget.sizeHint().height() + 2 + label.minimumHeight())
        widget.setProperty("invalid", True)
        repolish(widget)
        widget.setFocus(Qt.FocusReason.OtherFocusReason)
        return True

    def clear(self, field: str | None = None) -> None:
        for name, (widget, label) in self._fields.items():
            if field is None or name == field:
                label.clear()
                label.setMinimumHeight(0)
                holder = label.parentWidget()
                if holder is not None:
                    holder.setMinimumHeight(0)
                label.hide()
                if widget.property("invalid"):
                    widget.setProperty("invalid", False)
                    repolish(widget)

    def message(self, field: str) -> str:
        entry = self._fields.get(field)
        return entry[1].text() if entry and not entry[1].isHidden() else ""

    def any_shown(self) -> bool:
        return any(not label.isHidden() for _w, label in self._fields.values())
