"""Who is at the desk: pick the school, then your name (passwords come later).

Schools and people load on a worker (``services.people``). Type to filter the names; Enter or
a double-click starts the desk; Esc cancels. The choice is returned as ``chosen`` (a
``DeskIdentity``); remembering it is the main window's business.
"""

from __future__ import annotations

import uuid

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from medapp.db.engine import Database
from medapp.services.people import DeskIdentity, DeskUser, SchoolInfo, desk_users, list_schools
from medapp.services.students import friendly_error
from medapp.ui.widgets import Banner, BusyIndicator, icon
from medapp.ui.workers import run_in_background

UserRole = Qt.ItemDataRole.UserRole + 1


class SignInDialog(QDialog):
    signed_in = Signal(object)  # DeskIdentity
    #: schools (or a school's people) finished loading
    loaded = Signal()

    def __init__(
        self,
        db: Database,
        parent: QWidget | None = None,
        *,
        school_id: uuid.UUID | None = None,
        user_id: uuid.UUID | None = None,
    ) -> None:
        super().__init__(parent)
        self.db = db
        self.setObjectName("signInDialog")
        self.setWindowTitle("Who is at the desk?")
        self.setModal(True)
        self.chosen: DeskIdentity | None = None
        self.schools: tuple[SchoolInfo, ...] = ()
        self.users: tuple[DeskUser, ...] = ()
        self._prefer_school = school_id
        self._prefer_user = user_id
        self._generation = 0

        outer = QVBoxLayout(self)
        outer.setSpacing(10)
        title = QLabel("Who is at the desk?")
        title.setObjectName("signInTitle")
        title.setProperty("heading", True)
        outer.addWidget(title)
        hint = QLabel("Choose your school and your name. Everything you record is signed with it.")
        hint.setObjectName("signInHint")
        hint.setProperty("muted", True)
        hint.setWordWrap(True)
        outer.addWidget(hint)
        self.banner = Banner("signInBanner")
        self.banner.action_clicked.connect(self.load)
        outer.addWidget(self.banner)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.school_combo = QComboBox()
        self.school_combo.setObjectName("signInSchool")
        self.school_combo.setAccessibleName("School")
        self.school_combo.currentIndexChanged.connect(self._school_changed)
        form.addRow("School", self.school_combo)
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("signInFilter")
        self.filter_edit.setPlaceholderText("Type to find your name")
        self.filter_edit.setAccessibleName("Find your name")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._filter)
        form.addRow("Name", self.filter_edit)
        outer.addLayout(form)

        self.user_list = QListWidget()
        self.user_list.setObjectName("signInUsers")
        self.user_list.setAccessibleName("People at this school")
        self.user_list.setIconSize(QSize(22, 22))
        self.user_list.setMinimumHeight(self.fontMetrics().height() * 9)
        self.user_list.itemActivated.connect(lambda _item: self.accept())
        self.user_list.currentItemChanged.connect(lambda *_: self._update_button())
        outer.addWidget(self.user_list, 1)
        self.busy = BusyIndicator("Loading…", "signInBusy")
        outer.addWidget(self.busy)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.setObjectName("signInButtons")
        self.start_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.start_button.setObjectName("signInStart")
        self.start_button.setText("Start")
        self.start_button.setDefault(True)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setObjectName("signInCancel")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        outer.addWidget(self.buttons)
        self.resize(self.fontMetrics().averageCharWidth() * 60, self.fontMetrics().height() * 26)
        self._update_button()
        self.load()

    # -- loading -------------------------------------------------------------------------------

    @Slot()
    def load(self) -> None:
        self.banner.clear()
        self.busy.start("Loading schools…")
        sessions = self.db.sessions
        run_in_background(self, lambda: list_schools(sessions), self._schools_loaded, self._failed)

    def _schools_loaded(self, schools: tuple[SchoolInfo, ...]) -> None:
        self.busy.stop()
        self.schools = schools
        self.school_combo.blockSignals(True)
        self.school_combo.clear()
        for school in schools:
            self.school_combo.addItem(icon("school"), school.name, school.id)
        index = next(
            (i for i, s in enumerate(schools) if s.id == self._prefer_school), 0 if schools else -1
        )
        self.school_combo.setCurrentIndex(index)
        self.school_combo.blockSignals(False)
        if not schools:
            self.banner.show_message(
                "warning", "This database has no schools yet. Ask district IT to set it up."
            )
            self.loaded.emit()
            return
        self._school_changed(index)

    @Slot(int)
    def _school_changed(self, index: int) -> None:
        if index < 0 or index >= len(self.schools):
            return
        school = self.schools[index]
        self._generation += 1
        generation = self._generation
        self.user_list.clear()
        self.busy.start("Loading people…")
        sessions = self.db.sessions
        run_in_background(
            self,
            lambda: desk_users(sessions, school.id),
            lambda users: self._users_loaded(generation, users),
            self._failed,
        )

    def _users_loaded(self, generation: int, users: tuple[DeskUser, ...]) -> None:
        if generation != self._generation:
            return
        self.busy.stop()
        self.users = users
        self.user_list.clear()
        for user in users:
            item = QListWidgetItem(icon("user"), f"{user.display_name}  —  {user.role_label}")
            item.setData(UserRole, user)
            item.setToolTip(user.username)
            self.user_list.addItem(item)
        self._filter(self.filter_edit.text())
        preferred = next(
            (i for i, u in enumerate(users) if u.id == self._prefer_user), 0 if users else -1
        )
        if preferred >= 0:
            self.user_list.setCurrentRow(preferred)
        if not users:
            self.banner.show_message("warning", "Nobody is registered at this school yet.")
        self._update_button()
        self.loaded.emit()

    def _failed(self, exc: BaseException) -> None:
        self.busy.reset()
        self.banner.show_message(
            "error", f"The list of people did not load: {friendly_error(exc)}", "Retry"
        )
        self.loaded.emit()

    # -- choosing ------------------------------------------------------------------------------

    @Slot(str)
    def _filter(self, text: str) -> None:
        words = text.lower().split()
        first_visible = -1
        for i in range(self.user_list.count()):
            item = self.user_list.item(i)
            user = item.data(UserRole)
            hay = f"{user.display_name} {user.username} {user.role_label}".lower()
            hidden = not all(w in hay for w in words)
            item.setHidden(hidden)
            if not hidden and first_visible < 0:
                first_visible = i
        current = self.user_list.currentItem()
        if (current is None or current.isHidden()) and first_visible >= 0:
            self.user_list.setCurrentRow(first_visible)
        self._update_button()

    def visible_names(self) -> list[str]:
        return [
            self.user_list.item(i).data(UserRole).display_name
            for i in range(self.user_list.count())
            if not self.user_list.item(i).isHidden()
        ]

    def selected_user(self) -> DeskUser | None:
        item = self.user_list.currentItem()
        if item is None or item.isHidden():
            return None
        user = item.data(UserRole)
        return user if isinstance(user, DeskUser) else None

    def selected_school(self) -> SchoolInfo | None:
        index = self.school_combo.currentIndex()
        return self.schools[index] if 0 <= index < len(self.schools) else None

    def _update_button(self) -> None:
        self.start_button.setEnabled(self.selected_user() is not None)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Up) and self.filter_edit.hasFocus():
            self.user_list.setFocus()
            self.user_list.keyPressEvent(event)
            return
        super().keyPressEvent(event)

    def accept(self) -> None:
        user, school = self.selected_user(), self.selected_school()
        if user is None or school is None:
            return
        self.chosen = DeskIdentity(user, school)
        self.signed_in.emit(self.chosen)
        super().accept()
