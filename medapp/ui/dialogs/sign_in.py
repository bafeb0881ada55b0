"""Sign-in: her own user name and password; nothing signs in by itself.

Why it looks like this: every record carries the name of the nurse who wrote it, and on the
district server the sign-in *is* a connection as her own PostgreSQL role, so the server knows who
acts and what she may see. The dialog therefore asks the :class:`~medapp.ui.gate.Gatekeeper`
(off the GUI thread) and returns what it answered. The last user name may be pre-filled; a
password is never remembered, and the field is emptied after every attempt. A failure is one
sentence in the banner ("User name or password is not right."), the same for an unknown name and
a wrong password. The demo shows its accounts and password (demo data only).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from medapp.services.desk import AccessDenied
from medapp.ui.gate import Gatekeeper
from medapp.ui.widgets import Banner, BusyIndicator
from medapp.ui.workers import run_in_background


def sign_in_error(exc: BaseException) -> str:
    """One sentence for the banner; never a traceback, never the password."""
    if isinstance(exc, (AccessDenied, ValueError, LookupError)) or type(exc).__name__ in (
        "SignInFailed",
        "DatabaseUnavailable",
    ):
        text = str(exc).strip()
        if text:
            return text
    return "The database did not answer; check the network and try again."


class SignInDialog(QDialog):
    #: the Gatekeeper's answer (an object with ``db`` and ``actor``)
    signed_in = Signal(object)

    def __init__(
        self,
        gate: Gatekeeper,
        parent: QWidget | None = None,
        *,
        username: str = "",
        reason: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.gate = gate
        self.result_value: object | None = None
        self._attempt = 0
        self.setObjectName("signInDialog")
        self.setWindowTitle("Sign in — medapp")
        self.setModal(True)

        outer = QVBoxLayout(self)
        outer.setSpacing(10)
        title = QLabel("Sign in")
        title.setObjectName("signInTitle")
        title.setProperty("heading", True)
        outer.addWidget(title)
        hint = QLabel(
            reason
            or "Use your own user name and password. Everything you record is signed with it."
        )
        hint.setObjectName("signInHint")
        hint.setProperty("muted", True)
        hint.setWordWrap(True)
        outer.addWidget(hint)
        if gate.demo_hint:
            demo = QLabel(gate.demo_hint)
            demo.setObjectName("signInDemoHint")
            demo.setWordWrap(True)
            demo.setTextFormat(Qt.TextFormat.RichText)  # the password on a line of its own
            demo.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            outer.addWidget(demo)
        self.banner = Banner("signInBanner")
        outer.addWidget(self.banner)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.user_edit = QLineEdit(username)
        self.user_edit.setObjectName("signInUser")
        self.user_edit.setAccessibleName("User name")
        self.user_edit.setMaxLength(63)
        self.user_edit.textChanged.connect(lambda *_: self._update_button())
        form.addRow("User name", self.user_edit)
        self.password_edit = QLineEdit()
        self.password_edit.setObjectName("signInPassword")
        self.password_edit.setAccessibleName("Password")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setMaxLength(200)
        self.password_edit.textChanged.connect(lambda *_: self._update_button())
        self.password_edit.returnPressed.connect(self.submit)
        self.user_edit.returnPressed.connect(self._user_entered)
        form.addRow("Password", self.password_edit)
        outer.addLayout(form)
        self.busy = BusyIndicator("Signing in…", "signInBusy")
        outer.addWidget(self.busy)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.setObjectName("signInButtons")
        self.start_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.start_button.setObjectName("signInStart")
        self.start_button.setText("Sign in")
        self.start_button.setDefault(True)
        self.start_button.setAutoDefault(False)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setObjectName("signInCancel")
        cancel.setAutoDefault(False)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        outer.addWidget(self.buttons)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 64)
        (self.password_edit if username else self.user_edit).setFocus()
        self._update_button()

    def _update_button(self) -> None:
        ready = bool(self.user_edit.text().strip() and self.password_edit.text())
        self.start_button.setEnabled(ready and not self.busy.busy)

    @Slot()
    def _user_entered(self) -> None:
        if self.password_edit.text():
            self.submit()
        else:
            self.password_edit.setFocus()

    def accept(self) -> None:  # Enter on the default button goes through submit, never straight in
        self.submit()

    @Slot()
    def submit(self) -> None:
        username = self.user_edit.text().strip()
        password = self.password_edit.text()
        if not username or not password or self.busy.busy:
            return
        self.password_edit.clear()  # never kept, whatever happens next
        self.banner.dismiss()
        self.busy.start()
        self._update_button()
        self._attempt += 1
        attempt, gate = self._attempt, self.gate
        run_in_background(
            self,
            lambda: gate.sign_in(username, password),
            lambda value: self._done(attempt, value),
            lambda exc: self._failed(attempt, exc),
        )

    def _done(self, attempt: int, value: object) -> None:
        if attempt != self._attempt:
            return
        self.busy.stop()
        self.result_value = value
        self.signed_in.emit(value)
        super().accept()

    def _failed(self, attempt: int, exc: BaseException) -> None:
        if attempt != self._attempt:
            return
        self.busy.stop()
        self.banner.error(sign_in_error(exc))
        self.password_edit.setFocus()
        self._update_button()
