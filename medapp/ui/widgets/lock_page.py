"""What the desk shows when nobody may see records: locked (after the idle time) or signed out.

Locked: the name of the nurse who was at the desk, a password field and "Unlock" (her own
password, checked by the accounts service off the GUI thread), and "Sign in as someone else".
Signed out: only the sign-in button. Nothing of the panes is visible behind it — the window swaps
this page in front of them in its stack, and disables the sidebar.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from medapp.ui.widgets.banner import Banner
from medapp.ui.widgets.busy import BusyIndicator


class LockPage(QWidget):
    #: (username, password) typed to unlock
    unlock_requested = Signal(str, str)
    #: someone else wants the desk
    switch_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lockPage")
        self.username = ""
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        box = QWidget()
        box.setObjectName("lockBox")
        box.setMaximumWidth(self.fontMetrics().averageCharWidth() * 60)
        col = QVBoxLayout(box)
        col.setSpacing(10)
        self.title = QLabel()
        self.title.setObjectName("lockTitle")
        self.title.setProperty("heading", True)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        col.addWidget(self.title)
        self.text = QLabel()
        self.text.setObjectName("lockText")
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text.setProperty("muted", True)
        col.addWidget(self.text)
        self.banner = Banner("lockBanner")
        col.addWidget(self.banner)
        self.password_edit = QLineEdit()
        self.password_edit.setObjectName("lockPassword")
        self.password_edit.setAccessibleName("Password")
        self.password_edit.setPlaceholderText("Password")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.returnPressed.connect(self._unlock)
        col.addWidget(self.password_edit)
        self.busy = BusyIndicator("Checking…", "lockBusy")
        col.addWidget(self.busy)
        row = QHBoxLayout()
        self.unlock_button = QPushButton("Unlock")
        self.unlock_button.setObjectName("lockUnlock")
        self.unlock_button.setProperty("primary", True)
        self.unlock_button.clicked.connect(self._unlock)
        self.switch_button = QPushButton("Sign in as someone else")
        self.switch_button.setObjectName("lockSwitch")
        self.switch_button.clicked.connect(self.switch_requested)
        row.addWidget(self.unlock_button)
        row.addWidget(self.switch_button)
        col.addLayout(row)
        centre = QHBoxLayout()
        centre.addStretch(1)
        centre.addWidget(box, 3)
        centre.addStretch(1)
        outer.addLayout(centre)
        outer.addStretch(2)
        self.show_signed_out()

    @property
    def locked(self) -> bool:
        return bool(self.username)

    def show_locked(self, username: str, display_name: str) -> None:
        self.username = username
        self.title.setText("The desk is locked")
        self.text.setText(
            f"Signed in: {display_name}. Type the password to go on, or sign in as someone else."
        )
        for widget in (self.password_edit, self.unlock_button):
            widget.setVisible(True)
        self.switch_button.setText("Sign in as someone else")
        self.banner.dismiss()
        self.password_edit.clear()
        self.password_edit.setFocus()

    def show_signed_out(self, message: str | None = None) -> None:
        self.username = ""
        self.title.setText("Nobody is signed in")
        self.text.setText(message or "Sign in with your own user name and password to begin.")
        for widget in (self.password_edit, self.unlock_button):
            widget.setVisible(False)
        self.switch_button.setText("Sign in…")
        self.banner.dismiss()

    def set_busy(self, busy: bool) -> None:
        if busy:
            self.busy.start()
        else:
            self.busy.stop()
        self.unlock_button.setEnabled(not busy)

    def failed(self, message: str) -> None:
        self.set_busy(False)
        self.banner.error(message)
        self.password_edit.setFocus()

    @Slot()
    def _unlock(self) -> None:
        password = self.password_edit.text()
        self.password_edit.clear()
        if not password or not self.username or self.busy.busy:
            return
        self.set_busy(True)
        self.unlock_requested.emit(self.username, password)
