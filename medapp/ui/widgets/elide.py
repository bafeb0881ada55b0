"""A label that gives up width gracefully: "…" instead of holding the window wide.

A plain QLabel's minimum width is its whole text, so one long school or database name kept the
desk from shrinking below 1,100 px (issue 14). This label asks for its text's width but accepts
any width down to a few characters, draws the text elided and shows it whole in the tooltip.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class ElidedLabel(QLabel):
    """One line of plain text, elided on the right when narrow; the tooltip holds it all."""

    def __init__(self, text: str = "", parent: QWidget | None = None, *, min_chars: int = 6):
        super().__init__(text, parent)
        self._min_chars = min_chars
        self._own_tip = True
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(False)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        fm = self.fontMetrics()
        m = self.contentsMargins()
        width = fm.averageCharWidth() * self._min_chars + m.left() + m.right()
        return QSize(min(width, super().sizeHint().width()), super().minimumSizeHint().height())

    def setToolTip(self, tip: str) -> None:  # noqa: N802 - Qt override
        self._own_tip = not tip
        super().setToolTip(tip)

    def is_elided(self) -> bool:
        return self.fontMetrics().horizontalAdvance(self.text()) > self.contentsRect().width()

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        rect = self.contentsRect()
        shown = self.fontMetrics().elidedText(
            self.text(), Qt.TextElideMode.ElideRight, rect.width()
        )
        if self._own_tip:  # a tooltip the caller set stays; otherwise the full text when cut
            QLabel.setToolTip(self, self.text() if shown != self.text() else "")
        painter = QPainter(self)
        self.style().drawItemText(
            painter,
            rect,
            int(self.alignment()),
            self.palette(),
            self.isEnabled(),
            shown,
            self.foregroundRole(),
        )


__all__ = ["ElidedLabel"]
