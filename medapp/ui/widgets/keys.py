"""Keyboard paths between a pane's filter box and its list."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QLineEdit


class _DownIntoList(QObject):
    def __init__(self, edit: QLineEdit, view: QAbstractItemView) -> None:
        super().__init__(edit)
        self.view = view

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Down, Qt.Key.Key_PageDown)
            and event.modifiers() == Qt.KeyboardModifier.NoModifier
        ):
            move_into(self.view)
            return True
        return super().eventFilter(watched, event)


def move_into(view: QAbstractItemView) -> None:
    """The focus into the list, on its current row (or its first row that is not a section)."""
    view.setFocus(Qt.FocusReason.TabFocusReason)
    model = view.model()
    if model is None or model.rowCount() == 0:
        return
    current = view.currentIndex()
    if not current.isValid():
        current = model.index(0, 0)
    # a tree's row may be a section heading: its first child is the first real row
    if not current.parent().isValid() and model.rowCount(current) > 0:
        current = model.index(0, current.column(), current)
    view.setCurrentIndex(current)
    view.scrollTo(view.currentIndex())


def down_moves_into(edit: QLineEdit, view: QAbstractItemView) -> None:
    """Down (or Page Down) in ``edit`` moves the focus into ``view`` — the way the nurse types a
    filter and then picks the row without the mouse."""
    edit.installEventFilter(_DownIntoList(edit, view))


__all__ = ["down_moves_into", "move_into"]
