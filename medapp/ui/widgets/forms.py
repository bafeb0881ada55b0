"""Inline validation for dialogs: each field can show its own error sentence under it and a red
border, so the nurse sees what to fix where it is (no message box for a typo)."""

from __future__ import annotations

from PySide6.QtCore import Qt
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
        widget.setProperty("invalid", True)
        repolish(widget)
        widget.setFocus(Qt.FocusReason.OtherFocusReason)
        return True

    def clear(self, field: str | None = None) -> None:
        for name, (widget, label) in self._fields.items():
            if field is None or name == field:
                label.clear()
                label.hide()
                if widget.property("invalid"):
                    widget.setProperty("invalid", False)
                    repolish(widget)

    def message(self, field: str) -> str:
        entry = self._fields.get(field)
        return entry[1].text() if entry and not entry[1].isHidden() else ""

    def any_shown(self) -> bool:
        return any(not label.isHidden() for _w, label in self._fields.values())
