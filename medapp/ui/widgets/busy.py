"""A "working…" indicator that appears only when the work takes longer than 200 ms, so quick
answers never flash a spinner."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

BUSY_DELAY_MS = 200


class BusyIndicator(QWidget):
    """Call :meth:`start` when work begins and :meth:`stop` when it ends (any number of
    overlapping starts: it hides when the last one stops)."""

    def __init__(self, text: str, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setProperty("busy", True)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(8)
        self._bar = QProgressBar()
        self._bar.setObjectName(f"{object_name}Bar")
        self._bar.setRange(0, 0)
        self._bar.setTextVisible(False)
        self._bar.setFixedHeight(max(4, self.fontMetrics().height() // 3))
        self._bar.setMaximumWidth(self.fontMetrics().averageCharWidth() * 18)
        self.label = QLabel(text)
        self.label.setObjectName(f"{object_name}Text")
        self.label.setProperty("muted", True)
        row.addWidget(self._bar)
        row.addWidget(self.label)
        row.addStretch(1)
        self.setAccessibleName(text)
        self._depth = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(BUSY_DELAY_MS)
        self._timer.timeout.connect(self.show)
        self.hide()

    @property
    def busy(self) -> bool:
        return self._depth > 0

    def set_text(self, text: str) -> None:
        self.label.setText(text)
        self.setAccessibleName(text)

    def start(self, text: str | None = None) -> None:
        if text is not None:
            self.set_text(text)
        self._depth += 1
        if self._depth == 1 and not self.isVisible():
            self._timer.start()

    def stop(self) -> None:
        self._depth = max(0, self._depth - 1)
        if self._depth == 0:
            self._timer.stop()
            self.hide()

    def reset(self) -> None:
        self._depth = 0
        self._timer.stop()
        self.hide()
