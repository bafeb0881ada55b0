"""First start on a private (single-PC) database: create the first account.

Nothing signs in by itself, so a fresh install needs one person who can sign in and add the
others (``medapp admin create-user``). The account is created by the accounts service with an
argon2id hash; the password is typed twice, checked for length here for a quick answer, and
checked again by the service (the authority). Then the dialog signs that person in.
"""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from medapp.ui.dialogs.sign_in import sign_in_error
from medapp.ui.gate import Gatekeeper
from medapp.ui.widgets import Banner, BusyIndicator
from medapp.ui.workers import run_in_background

MIN_PASSWORD = 10


class FirstRunDialog(QDialog):
    #: the Gatekeeper's sign-in answer for the new account
    signed_in = Signal(object)

    def __init__(self, gate: Gatekeeper, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.gate = gate
        self.setObjectName("firstRunDialog")
        self.setWindowTitle("Set up medapp on this PC")
        self.setModal(True)
        outer = QVBoxLayout(self)
        title = QLabel("Create the first account")
        title.setObjectName("firstRunTitle")
        title.setProperty("heading", True)
        outer.addWidget(title)
        hint = QLabel(
            "This PC keeps its own records. Create the account of the nurse who looks after "
            "them; she can add the others later. Choose a password of at least "
            f"{MIN_PASSWORD} characters — nobody can recover it."
        )
        hint.setObjectName("firstRunHint")
        hint.setWordWrap(True)
        hint.setProperty("muted", True)
        outer.addWidget(hint)
        self.banner = Banner("firstRunBanner")
        outer.addWidget(self.banner)
        form = QFormLayout()
        self.school_edit = self._field(form, "School", "firstRunSchool")
        self.school_edit.setPlaceholderText("Your school's name (if this PC has no school yet)")
        self.first_edit = self._field(form, "First name", "firstRunFirstName")
        self.last_edit = self._field(form, "Last name", "firstRunLastName")
        self.user_edit = self._field(form, "User name", "firstRunUser")
        self.user_edit.setPlaceholderText("e.g. mrivera")
        self.password_edit = self._field(form, "Password", "firstRunPassword", secret=True)
        self.repeat_edit = self._field(form, "Password again", "firstRunRepeat", secret=True)
        self.repeat_edit.returnPressed.connect(self.submit)
        outer.addLayout(form)
        self.busy = BusyIndicator("Creating the account…", "firstRunBusy")
        outer.addWidget(self.busy)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.create_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.create_button.setObjectName("firstRunCreate")
        self.create_button.setText("Create and sign in")
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        outer.addWidget(buttons)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 60)

    def _field(
        self, form: QFormLayout, label: str, name: str, *, secret: bool = False
    ) -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(name)
        edit.setAccessibleName(label)
        edit.setMaxLength(100)
        if secret:
            edit.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow(label, edit)
        return edit

    def problem(self) -> str | None:
        """What is wrong with the form, in one sentence (None when it can be sent)."""
        if not self.first_edit.text().strip() or not self.last_edit.text().strip():
            return "Enter the first and last name."
        if not self.user_edit.text().strip():
            return "Choose a user name."
        if len(self.password_edit.text()) < MIN_PASSWORD:
            return f"The password needs at least {MIN_PASSWORD} characters."
        if self.password_edit.text() != self.repeat_edit.text():
            return "The two passwords are not the same."
        return None

    def accept(self) -> None:
        self.submit()

    @Slot()
    def submit(self) -> None:
        if self.busy.busy:
            return
        problem = self.problem()
        if problem is not None:
            self.banner.error(problem)
            return
        gate = self.gate
        create = gate.create_first_admin
        if create is None:
            self.banner.error("This database does not take new accounts from the desk.")
            return
        username = self.user_edit.text().strip().lower()
        first, last = self.first_edit.text().strip(), self.last_edit.text().strip()
        school = self.school_edit.text().strip()
        password = self.password_edit.text()
        self.password_edit.clear()
        self.repeat_edit.clear()
        self.banner.dismiss()
        self.busy.start()

        def op() -> object:
            create(username, first, last, password, school)
            return gate.sign_in(username, password)

        run_in_background(self, op, self._done, self._failed)

    def _done(self, value: object) -> None:
        self.busy.stop()
        self.signed_in.emit(value)
        super().accept()

    def _failed(self, exc: BaseException) -> None:
        self.busy.stop()
        self.banner.error(sign_in_error(exc))
