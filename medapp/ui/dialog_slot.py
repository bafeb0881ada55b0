"""One dialog of a kind at a time per pane (dose, correction, reaction), with one lifecycle.

A pane's row can be opened by a click, Enter, a double-click and a menu in quick succession;
a second dose dialog for the same desk would let a nurse record twice. The slot raises the
dialog already open instead, forgets it when it finishes, deletes it (deferred: never inside
its own signal's emission) and gives the focus back to the pane's list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QDialog, QWidget

D = TypeVar("D", bound=QDialog)


class DialogSlot(QObject, Generic[D]):
    """Holds the pane's open dialog of one kind; ``current`` is None when none is open."""

    def __init__(
        self,
        owner: QWidget,
        *,
        focus_back: QWidget | None = None,
        on_open: Callable[[QDialog], None] | None = None,
        on_close: Callable[[], None] | None = None,
        single: bool = True,
    ) -> None:
        super().__init__(owner)
        self.current: D | None = None
        self._focus_back = focus_back
        self._on_open = on_open
        self._on_close = on_close
        self._single = single

    def open(self, make: Callable[[], D]) -> D | None:
        """Make and open (window-modal) a new dialog — or, when one is already open and the
        slot allows one only, bring that one to the front and return None."""
        if self._single and self.current is not None:
            self.current.raise_()
            self.current.activateWindow()
            return None
        dialog = make()
        self.current = dialog
        dialog.finished.connect(lambda _result, d=dialog: self._finished(d))
        dialog.open()
        if self._on_open is not None:
            self._on_open(dialog)
        return dialog

    def _finished(self, dialog: D) -> None:
        if self.current is dialog:
            self.current = None
        dialog.deleteLater()  # deferred: runs after this signal and any nested loop are done
        if self._focus_back is not None:
            self._focus_back.setFocus()
        if self._on_close is not None:
            self._on_close()
