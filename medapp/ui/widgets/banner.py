"""An inline message above a table or form: error, warning, info or success, each with its own
icon shape (colour is never the only cue), an optional action button ("Retry") and a close
button. Errors shown here are sentences for the nurse, never tracebacks."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QToolButton

from medapp.ui.widgets.icons import set_icon, set_pixmap

KINDS = {
    "error": ("error", "expiredFg"),
    "warning": ("warning", "nearFg"),
    "info": ("info", "infoFg"),
    "success": ("ok", "okFg"),
}


class Banner(QFrame):
    action_clicked = Signal()
    closed = Signal()

    def __init__(self, object_name: str, parent: QFrame | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setProperty("banner", True)
        self.setProperty("kind", "info")
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 6, 6)
        row.setSpacing(8)
        self._icon = QLabel()
        self._icon.setObjectName(f"{object_name}Icon")
        self._icon.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        self.label = QLabel()
        self.label.setObjectName(f"{object_name}Text")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.action = QPushButton()
        self.action.setObjectName(f"{object_name}Action")
        self.action.setAutoDefault(False)  # Enter in a dialog must not press "Retry"
        self.action.clicked.connect(self.action_clicked)
        self.action.hide()
        self.close_button = QToolButton()
        self.close_button.setObjectName(f"{object_name}Close")
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Dismiss")
        self.close_button.setAccessibleName("Dismiss message")
        self.close_button.clicked.connect(self.dismiss)
        row.addWidget(self._icon)
        row.addWidget(self.label, 1)
        row.addWidget(self.action)
        row.addWidget(self.close_button)
        self.kind = "info"
        self.hide()

    def show_message(self, kind: str, text: str, action: str | None = None) -> None:
        kind = kind if kind in KINDS else "info"
        self.kind = kind
        self.setProperty("kind", kind)
        self.style().unpolish(self)
        self.style().polish(self)
        icon_name, token = KINDS[kind]
        side = self.fontMetrics().height()
        set_pixmap(self._icon, icon_name, side, token)
        set_icon(self.close_button, "close", token)
        self.close_button.setIconSize(QSize(side * 3 // 4, side * 3 // 4))
        self.label.setText(text)
        self.setAccessibleName(text)
        self.action.setVisible(bool(action))
        if action:
            self.action.setText(action)
        self.show()

    def error(self, text: str, action: str | None = None) -> None:
        self.show_message("error", text, action)

    def dismiss(self) -> None:
        self.hide()
        self.closed.emit()

    def clear(self) -> None:
        self.label.clear()
        self.hide()

    @property
    def text(self) -> str:
        return self.label.text() if not self.isHidden() else ""
