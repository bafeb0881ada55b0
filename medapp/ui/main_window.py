"""The nurse's desk window: four panes — Search, Schedule, Reminders, Inventory — beside a
sidebar, and a status bar saying who is at the desk, which school, which database, whether it
answers, and when the data was last refreshed.

Start-up, without ever waiting on the database on the GUI thread:

1. Who is at the desk: the ``ctx`` given (tests), or a real sign-in through the
   :class:`~medapp.ui.gate.Gatekeeper` — the first-run dialog on a private database with no
   account yet, else the sign-in dialog (user name and password; only the last user name is
   remembered). ``sign_in_as=(username, password)`` signs in without the dialog (the cold-start
   benchmark passes the demo password on standard input); nothing ever signs in by itself.
   After 10 idle minutes the desk locks: records are hidden until the same nurse types her
   password again or someone else signs in.
2. The panes are built and each loads its data on a worker; ``ctx.start_listening()`` follows
   changes from other PCs; the search vocabulary and the formulary snapshot are prepared.
3. A probe every minute (every 15 s while offline) tells online from offline; panes report
   failures and successes too, through ``hub.connection_changed``.

``MEDAPP_EXIT_WHEN_READY=1`` prints ``MEDAPP_READY <ms>`` and quits once every pane's first data
has landed (``medapp bench``'s cold-start measure); nothing is saved to QSettings then.

The lead adds reminder pop-ups on top through :meth:`MainWindow.show_notification`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from medapp.domain.due_cards import DueDose, tray_text
from medapp.runtime.context import AppContext
from medapp.services.desk import Actor, Desk, Role
from medapp.services.formulary_cache import is_connection_error, warm_search
from medapp.services.people import SchoolInfo, list_schools, still_allowed
from medapp.ui.dialogs.first_run import FirstRunDialog
from medapp.ui.dialogs.sign_in import SignInDialog, sign_in_error
from medapp.ui.gate import Gatekeeper, IdleWatcher, lock_minutes
from medapp.ui.panes.inventory_pane import InventoryPane
from medapp.ui.panes.reminders_pane import RemindersPane
from medapp.ui.panes.schedule_pane import SchedulePane
from medapp.ui.panes.search_pane import SearchPane, background_pool
from medapp.ui.widgets import render_svg
from medapp.ui.widgets.due_cards import SOUND_SETTING, DueCardStack, beep, sound_enabled
from medapp.ui.widgets.elide import ElidedLabel
from medapp.ui.widgets.icons import icon_size, retint_all, set_icon, set_pixmap
from medapp.ui.widgets.lock_page import LockPage
from medapp.ui.widgets.theme import THEME_MODES, apply_theme
from medapp.ui.workers import log_only, run_in_background

if TYPE_CHECKING:
    from medapp.ui.dialogs.end_of_day import EndOfDayDialog

log = logging.getLogger(__name__)

PROBE_ONLINE_MS = 60_000
PROBE_OFFLINE_MS = 15_000
READY_TIMEOUT_MS = 60_000
HOUSEKEEPING_AFTER_MS = 10_000  # at the latest, if a pane's first load is slow
READY_MARKER = "MEDAPP_READY"
PANES = (
    ("search", "Search", "search", "Find a medication by name, NDC or barcode"),
    ("schedule", "Schedule", "schedule", "Every active order and its school-day times"),
    ("reminders", "Reminders", "reminders", "Today's doses: due now, upcoming, missed, given"),
    ("inventory", "Inventory", "inventory", "Stock lots, expiry and reorder alerts"),
)
PANE_INDEX = {key: i for i, (key, *_rest) in enumerate(PANES)}
SETTINGS_DESK = "desk"


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def last_username() -> str:
    """The user name last signed in at this PC (never a password)."""
    return str(QSettings().value(f"{SETTINGS_DESK}/last_username", "") or "")


def remember_username(username: str) -> None:
    QSettings().setValue(f"{SETTINGS_DESK}/last_username", username)


def remembered_school() -> str:
    return str(QSettings().value(f"{SETTINGS_DESK}/school_id", "") or "")


def remember_school(school_id: uuid.UUID) -> None:
    QSettings().setValue(f"{SETTINGS_DESK}/school_id", str(school_id))


class MainWindow(QMainWindow):
    #: every pane's first data has landed (the window is usable)
    ready = Signal()
    #: the person at the desk is known and the panes exist
    desk_started = Signal()

    def __init__(
        self,
        ctx: AppContext,
        *,
        demo: bool = False,
        exit_when_ready: bool | None = None,
        gate: Gatekeeper | None = None,
        sign_in_as: tuple[str, str] | None = None,
        started_at: float | None = None,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.demo = demo
        self.setObjectName("mainWindow")
        self.exit_when_ready = (
            _env_flag("MEDAPP_EXIT_WHEN_READY") if exit_when_ready is None else exit_when_ready
        )
        self.gate = gate
        self._sign_in_as = sign_in_as
        #: the database the app opened (the private server's or the district's), kept so that
        #: each sign-in replaces only the signed-in user's own connection
        self._base_db = ctx.db
        self.idle: IdleWatcher | None = None
        self._started_at = started_at if started_at is not None else time.perf_counter()
        self.online: bool | None = None
        self.is_ready = False
        self.panes: list[QWidget] = []
        self.search_pane: SearchPane | None = None
        self.schedule_pane: QWidget | None = None
        self.reminders_pane: QWidget | None = None
        self.inventory_pane: InventoryPane | None = None
        self.sign_in_dialog: QDialog | None = None
        self.schools: tuple[SchoolInfo, ...] = ()
        self.last_notification: tuple[str, str] | None = None
        self._tray: QSystemTrayIcon | None = None
        self._pending_ready: set[int] = set()
        self._saved_pane = 0
        self._save_settings = not self.exit_when_ready
        self._housekeeping_started = False

        self._build_chrome()
        self._build_menus()
        self._restore_geometry()
        self._update_title()

        self._probe = QTimer(self)
        self._probe.setInterval(PROBE_ONLINE_MS)
        self._probe.timeout.connect(self.probe)
        ctx.hub.connection_changed.connect(self._set_online)
        ctx.hub.user_changed.connect(lambda *_: self._update_identity_labels())
        ctx.hub.data_changed.connect(self._on_data_changed)
        if self.exit_when_ready:
            QTimer.singleShot(READY_TIMEOUT_MS, self, self._ready_timeout)
        QTimer.singleShot(0, self, self._choose_identity)

    # -- chrome ------------------------------------------------------------------------------

    def _build_chrome(self) -> None:
        central = QWidget()
        central.setObjectName("central")
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)

        self.sidebar = QFrame()
        self.sidebar.setObjectName("sidebar")
        side = QVBoxLayout(self.sidebar)
        side.setContentsMargins(12, 14, 12, 12)
        side.setSpacing(6)
        brand = QHBoxLayout()
        brand.setSpacing(8)
        logo = QLabel()
        logo.setObjectName("appLogo")
        side_px = round(self.fontMetrics().height() * 1.8)
        logo.setPixmap(render_svg("medapp", side_px, None, self.devicePixelRatioF()))
        brand.addWidget(logo)
        title = QLabel("medapp")
        title.setObjectName("appTitle")
        brand.addWidget(title)
        brand.addStretch(1)
        side.addLayout(brand)
        self.school_side_label = QLabel()
        self.school_side_label.setObjectName("sidebarSchool")
        self.school_side_label.setWordWrap(True)
        side.addWidget(self.school_side_label)
        side.addSpacing(10)

        self.nav = QButtonGroup(self)
        self.nav.setExclusive(True)
        self.nav_buttons: list[QPushButton] = []
        side_icon = icon_size(self.fontMetrics().height(), 1.3)
        for i, (key, label, icon_name, tip) in enumerate(PANES):
            button = QPushButton(label)
            button.setObjectName(f"nav{key.title()}")
            button.setProperty("nav", True)
            button.setCheckable(True)
            set_icon(button, icon_name, "", "accentText")
            button.setIconSize(side_icon)
            button.setToolTip(f"{tip}  (Ctrl+{i + 1})")
            button.setAccessibleName(f"{label} pane")
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            self.nav.addButton(button, i)
            self.nav_buttons.append(button)
            side.addWidget(button)
        self.nav.idClicked.connect(self.show_pane)
        side.addStretch(1)

        self.switch_button = QPushButton("Switch user…")
        self.switch_button.setObjectName("switchUserButton")
        set_icon(self.switch_button, "switch-user")
        self.switch_button.setToolTip("Someone else takes the desk (Ctrl+Shift+U)")
        self.switch_button.clicked.connect(self.sign_in)
        side.addWidget(self.switch_button)
        cw = self.fontMetrics().averageCharWidth()
        self.sidebar.setFixedWidth(cw * 26)
        row.addWidget(self.sidebar)

        self.stack = QStackedWidget()
        self.stack.setObjectName("paneStack")
        self.lock_page = LockPage()
        self.lock_page.switch_requested.connect(self.sign_in)
        self.lock_page.unlock_requested.connect(self._unlock)
        self.stack.addWidget(self.lock_page)
        self.welcome = self.lock_page.text
        row.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        # due-dose cards: an overlay at the panes' top-right, there until the nurse acts
        self.due_cards = DueCardStack(self.ctx.now, self.ctx.school_timezone, central)
        self.due_cards.give_requested.connect(self.give_due_dose)
        self.due_cards.open_requested.connect(self.open_due_dose)
        self.due_cards.alert.connect(self._due_alert)
        self.due_cards.changed.connect(self._place_due_cards)
        central.installEventFilter(self)

        bar = self.statusBar()
        bar.setObjectName("statusBar")
        bar.setSizeGripEnabled(True)
        self.user_label = self._status_item("user", "statusUser", "Who is at the desk")
        self.school_label = self._status_item("school", "statusSchool", "School")
        self.db_label = self._status_item("database", "databaseLabel", "Database")
        self.db_label.setText(self.ctx.db.display_name)
        self.db_label.setToolTip(f"Database: {self.ctx.db.display_name}")
        self.state_icon = QLabel()
        self.state_icon.setObjectName("connectionIcon")
        self.state_label = QLabel("Connecting…")
        self.state_label.setObjectName("connectionState")
        self.state_label.setAccessibleName("Connection state")
        box = QWidget()
        lay = QHBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.state_icon)
        lay.addWidget(self.state_label)
        bar.addPermanentWidget(box)
        # a failing background job (reminders, offline sync…): shown until it runs again
        self.job_status = QLabel()
        self.job_status.setObjectName("jobStatus")
        self.job_status.setAccessibleName("Background task problem")
        self.job_status.hide()
        self._failing_jobs: dict[str, str] = {}
        bar.addWidget(self.job_status)
        self.refreshed_label = QLabel("Not loaded yet")
        self.refreshed_label.setObjectName("statusRefreshed")
        self.refreshed_label.setAccessibleName("Last refreshed")
        bar.addPermanentWidget(self.refreshed_label)
        self._update_identity_labels()

    def _status_item(self, icon_name: str, object_name: str, accessible: str) -> QLabel:
        box = QWidget()
        box.setObjectName(f"{object_name}Box")
        lay = QHBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        pic = QLabel()
        pic.setObjectName(f"{object_name}Icon")
        side = self.fontMetrics().height()
        set_pixmap(pic, icon_name, side, "muted")
        text = ElidedLabel(min_chars=8)  # a long school or database name must not hold the width
        text.setObjectName(object_name)
        text.setAccessibleName(accessible)
        lay.addWidget(pic)
        lay.addWidget(text)
        self.statusBar().addPermanentWidget(box)
        return text

    def _build_menus(self) -> None:
        menu = self.menuBar()
        menu.setObjectName("menuBar")
        desk = menu.addMenu("&Desk")
        desk.setObjectName("deskMenu")
        self.switch_action = self._action(
            desk, "Switch user…", "switchUserAction", self.sign_in, "Ctrl+Shift+U"
        )
        self.refresh_action = self._action(
            desk, "Refresh", "refreshAction", self.refresh_current, QKeySequence.StandardKey.Refresh
        )
        self.refresh_action.setShortcuts([QKeySequence("F5"), QKeySequence("Ctrl+R")])
        self.school_menu = desk.addMenu("School")
        self.school_menu.setObjectName("schoolMenu")
        self.school_menu.setEnabled(False)
        self.end_of_day_action = self._action(
            desk, "End of day…", "endOfDayAction", self.show_end_of_day
        )
        self.supplies_action = self._action(
            desk, "Supplies and letters…", "suppliesAction", self.show_supplies
        )
        self.print_action = self._action(
            desk, "Print…", "printAction", self.print_current, QKeySequence.StandardKey.Print
        )
        self.lock_action = self._action(desk, "Lock the desk", "lockAction", self.lock, "Ctrl+L")
        self.review_action = self._action(
            desk, "Offline doses to review…", "outboxReviewAction", self.show_outbox_review
        )
        desk.addSeparator()
        self._action(desk, "Quit", "quitAction", self.close, QKeySequence.StandardKey.Quit)

        view = menu.addMenu("&View")
        view.setObjectName("viewMenu")
        self.pane_actions: list[QAction] = []
        for i, (key, label, icon_name, _tip) in enumerate(PANES):
            action = self._action(
                view,
                label,
                f"show{key.title()}Action",
                lambda _c=False, i=i: self.show_pane(i),
                f"Ctrl+{i + 1}",
            )
            set_icon(action, icon_name)
            self.pane_actions.append(action)
        self.find_action = self._action(
            view, "Find", "findAction", self.focus_search, QKeySequence.StandardKey.Find
        )
        view.addSeparator()
        self.sound_action = QAction("Sound for due doses", self)
        self.sound_action.setObjectName("soundAction")
        self.sound_action.setCheckable(True)
        self.sound_action.setChecked(sound_enabled())
        self.sound_action.toggled.connect(self._set_sound)
        view.addAction(self.sound_action)
        theme_menu = view.addMenu("Theme")
        theme_menu.setObjectName("themeMenu")
        group = QActionGroup(self)
        current = str(QSettings().value("ui/theme", "system") or "system")
        self.theme_actions: dict[str, QAction] = {}
        for mode in THEME_MODES:
            action = QAction(mode.title(), self)
            action.setObjectName(f"theme{mode.title()}Action")
            action.setCheckable(True)
            action.setChecked(mode == current)
            action.triggered.connect(lambda _c=False, m=mode: self.set_theme(m))
            group.addAction(action)
            theme_menu.addAction(action)
            self.theme_actions[mode] = action

        help_menu = menu.addMenu("&Help")
        help_menu.setObjectName("helpMenu")
        self._action(help_menu, "Keyboard shortcuts", "shortcutsAction", self._show_shortcuts, "F1")

    def _action(
        self,
        menu: QWidget,
        text: str,
        name: str,
        slot: Callable[..., object],
        shortcut: str | QKeySequence.StandardKey | None = None,
    ) -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        self.addAction(action)
        return action

    # -- who is at the desk ------------------------------------------------------------------

    @Slot()
    def _choose_identity(self) -> None:
        ctx = self.ctx
        if ctx.user_id is not None and ctx.school_id is not None:  # given by the caller (tests)
            self._start_desk()
            return
        gate = self.gate
        if gate is None:
            self.lock_page.show_signed_out("This desk has no way to sign in; restart medapp.")
            return
        if self._sign_in_as is not None:
            username, password = self._sign_in_as
            self._sign_in_as = None
            run_in_background(
                self,
                lambda: gate.sign_in(username, password),
                self._signed_in,
                self._auto_sign_in_failed,
            )
            return
        run_in_background(self, gate.needs_first_admin, self._first_run_known, self._first_failed)

    def _first_run_known(self, needed: bool) -> None:
        if needed and self.gate is not None:
            dialog = FirstRunDialog(self.gate, self)
            dialog.signed_in.connect(self._signed_in)
            dialog.rejected.connect(self._sign_in_cancelled)
            self.sign_in_dialog = dialog
            dialog.open()
        else:
            self.sign_in()

    def _first_failed(self, exc: BaseException) -> None:
        self._set_online(not is_connection_error(exc))
        self.sign_in()

    def _auto_sign_in_failed(self, exc: BaseException) -> None:
        self.statusBar().showMessage(sign_in_error(exc), 20_000)
        if self.exit_when_ready:
            print(f"medapp: {sign_in_error(exc)}", file=sys.stderr, flush=True)
            print("MEDAPP_NOT_READY sign-in", file=sys.stderr, flush=True)
            app = QApplication.instance()
            if app is not None:
                app.exit(3)
            return
        self.sign_in()

    @Slot()
    def sign_in(self) -> None:
        """Someone takes the desk (at start, "Switch user", or from the lock page): hide every
        record first, then ask for a user name and password."""
        if self.sign_in_dialog is not None and self.sign_in_dialog.isVisible():
            self.sign_in_dialog.raise_()
            return
        if self.ctx.user_id is not None:
            self._gate_desk(locked=False, message="Sign in with your own user name and password.")
        if self.gate is None:
            return
        dialog = SignInDialog(self.gate, self, username=last_username())
        dialog.signed_in.connect(self._signed_in)
        dialog.rejected.connect(self._sign_in_cancelled)
        self.sign_in_dialog = dialog
        dialog.open()

    def _sign_in_cancelled(self) -> None:
        if self.ctx.user_id is None:  # nobody at the desk: nothing to show
            self.lock_page.show_signed_out(
                "Nobody is signed in. Use Desk → Switch user… (Ctrl+Shift+U) to begin."
            )

    def _signed_in(self, signed: object) -> None:
        """A sign-in succeeded: her own connection and identity replace the previous ones."""
        db = signed.db  # type: ignore[attr-defined]
        actor: Actor = signed.actor  # type: ignore[attr-defined]
        ctx = self.ctx
        previous = ctx.db
        ctx.stop()  # the change listener follows the new connection
        ctx.db = db
        if previous is not db and previous is not self._base_db:
            previous.dispose()
        ctx.set_user(actor.user_id, actor.display_name, actor)
        verify = getattr(signed, "verify", None)
        ctx.check_password = verify if callable(verify) else None  # the witness's own password
        # What the previous user could see is not hers to see (off the GUI thread: it walks the
        # cache; the services check her schools before any cached list is used meanwhile).
        run_in_background(
            self,
            ctx.cache.purge_student_data,
            lambda _n: None,
            log_only("purge of the previous user's cached lists"),
            pool=background_pool(),
        )
        if self._save_settings and actor.username:
            remember_username(actor.username)
        desk = Desk(db.sessions, actor)
        run_in_background(
            self, lambda: list_schools(desk), self._schools_loaded, self._identity_failed
        )

    def _schools_loaded(self, schools: tuple[SchoolInfo, ...]) -> None:
        actor = self.ctx.actor
        if actor is None:
            return
        if actor.role is not Role.AUDITOR:
            schools = tuple(sc for sc in schools if sc.id in actor.school_ids)
        self.schools = schools
        self._rebuild_school_menu()
        if not schools:
            self._gate_desk(
                locked=False,
                message=f"{actor.display_name} has no school at this desk "
                f"({actor.role.label.lower()}); ask district IT.",
            )
            self.ctx.set_user(None, "", None)  # type: ignore[arg-type]
            return
        wanted = remembered_school()
        school = next((sc for sc in schools if str(sc.id) == wanted), schools[0])
        self._apply_school(school)

    def _apply_school(self, school: SchoolInfo) -> None:
        ctx = self.ctx
        ctx.school_id, ctx.school_name, ctx.school_timezone = (
            school.id,
            school.name,
            school.timezone,
        )
        if self._save_settings:
            remember_school(school.id)
        self._ungate_desk()
        if self.panes:
            self._listen()
            self.refresh_all()
            self._update_identity_labels()
        else:
            self._start_desk()

    def _identity_failed(self, exc: BaseException) -> None:
        self._set_online(not is_connection_error(exc))
        self.statusBar().showMessage(sign_in_error(exc), 20_000)
        self.sign_in()

    def _rebuild_school_menu(self) -> None:
        menu = self.school_menu
        menu.clear()
        group = QActionGroup(menu)
        for sc in self.schools:
            action = QAction(sc.name, menu)
            action.setCheckable(True)
            action.setChecked(sc.id == self.ctx.school_id)
            action.triggered.connect(lambda _c=False, sc=sc: self._apply_school(sc))
            group.addAction(action)
            menu.addAction(action)
        menu.setEnabled(len(self.schools) > 1)

    # -- lock --------------------------------------------------------------------------------

    def _gate_desk(self, *, locked: bool, message: str | None = None) -> None:
        """Hide every record: close open dialogs, show the lock page, disable the sidebar."""
        for dialog in self.findChildren(QDialog):
            if dialog.isVisible() and dialog is not self.sign_in_dialog:
                dialog.reject()
        actor = self.ctx.actor
        if locked and actor is not None:
            self.lock_page.show_locked(actor.username, actor.display_name)
        else:
            self.lock_page.show_signed_out(message)
        self.stack.setCurrentWidget(self.lock_page)
        self.due_cards.set_locked(True)
        self.sidebar.setEnabled(False)
        for action in getattr(self, "pane_actions", []):
            action.setEnabled(False)
        if self.idle is not None:
            self.idle.pause()

    def _ungate_desk(self) -> None:
        self.sidebar.setEnabled(True)
        self.due_cards.set_locked(False)
        for action in getattr(self, "pane_actions", []):
            action.setEnabled(True)
        self.lock_page.show_signed_out()
        if self.panes:
            self.show_pane(max(0, self.nav.checkedId()))
        self._watch_idle()

    def _watch_idle(self) -> None:
        """(Re)start the idle lock's clock — only where a sign-in can unlock the desk again."""
        if self.gate is None:
            return
        if self.idle is None:
            self.idle = IdleWatcher(lock_minutes(), self)
            self.idle.idle.connect(self.lock)
        self.idle.resume()

    def _listen(self) -> None:
        """Changes from other PCs, on the signed-in user's own connection."""
        try:
            self.ctx.start_listening()
        except Exception as exc:  # noqa: BLE001 - changes from other PCs are an extra
            log.warning("change listener not started (%s)", type(exc).__name__)

    @property
    def locked(self) -> bool:
        return self.stack.currentWidget() is self.lock_page

    @Slot()
    def lock(self) -> None:
        """Idle too long: records hidden until the same nurse's password or another sign-in."""
        if self.ctx.actor is None:
            return
        self._gate_desk(locked=True)
        self.statusBar().clearMessage()
        self._release_connections()

    def _release_connections(self) -> None:
        """Connection budget: a locked desk holds no server connection (the listener stops,
        the pool closes; both come back on unlock, with a full refresh for what was missed)."""
        self.ctx.stop()
        if self.ctx.db is not self._base_db:
            self.ctx.db.dispose()

    @Slot(str, str)
    def _unlock(self, username: str, password: str) -> None:
        gate, expected = self.gate, self.ctx.actor
        if gate is None or expected is None:
            return
        run_in_background(
            self,
            lambda: gate.verify(username, password),
            lambda actor: self._unlocked(expected, actor),
            lambda exc: self.lock_page.failed(sign_in_error(exc)),
        )

    def _unlocked(self, expected: Actor, actor: Actor) -> None:
        self.lock_page.set_busy(False)
        if actor.user_id != expected.user_id or self.ctx.actor is not expected:
            self.lock_page.failed("That is not the password of the person who was signed in.")
            return
        self._ungate_desk()
        if self.panes:  # changes made while locked were not heard: reload what is shown
            self._listen()
            self.ctx.announce_change("*")  # drops cached lists
            self.refresh_all()

    # -- the desk ----------------------------------------------------------------------------

    def _start_desk(self) -> None:
        if self.panes:
            return
        ctx = self.ctx
        self.search_pane = SearchPane(ctx)
        self.schedule_pane = SchedulePane(ctx)
        self.reminders_pane = RemindersPane(ctx)
        self.inventory_pane = InventoryPane(ctx)
        self.panes = [
            self.search_pane,
            self.schedule_pane,
            self.reminders_pane,
            self.inventory_pane,
        ]
        self._pending_ready = set(range(len(self.panes)))
        for i, pane in enumerate(self.panes):
            self.stack.addWidget(pane)
            signal = getattr(pane, "refreshed", None)
            if signal is not None:
                signal.connect(lambda i=i: self._pane_refreshed(i))
            else:
                self._pending_ready.discard(i)
        self.show_pane(self._saved_pane)
        self._watch_idle()
        self._update_identity_labels()
        self._update_title()
        self._listen()
        # Housekeeping waits until the panes' first data is on screen, and then runs on its own
        # thread: on a slow or busy server it must not delay what the nurse is waiting for.
        self.ready.connect(self._housekeeping)
        QTimer.singleShot(HOUSEKEEPING_AFTER_MS, self, self._housekeeping)
        self._probe.start()
        self.probe()
        self.desk_started.emit()

    @Slot()
    def _housekeeping(self) -> None:
        """Once: the typo vocabulary for search and the formulary snapshot for offline use."""
        if self._housekeeping_started or self.search_pane is None:
            return
        self._housekeeping_started = True
        sessions = self.ctx.db.sessions
        run_in_background(
            self,
            lambda: warm_search(sessions),
            lambda _r: None,
            log_only("search warm-up"),
            pool=background_pool(),
        )
        self.search_pane.prepare_snapshot()

    def _school_now(self) -> dt.datetime:
        try:
            zone = ZoneInfo(self.ctx.school_timezone)
        except Exception:  # noqa: BLE001 - a bad setting must not stop the desk
            zone = ZoneInfo("America/New_York")
        return self.ctx.now().astimezone(zone)

    def _pane_refreshed(self, index: int) -> None:
        now = self._school_now()
        self.refreshed_label.setText(f"Updated {now:%H:%M}")
        self.refreshed_label.setToolTip(f"Data last loaded at {now:%H:%M:%S} (school time)")
        if index in self._pending_ready:
            self._pending_ready.discard(index)
            if not self._pending_ready and not self.is_ready:
                self.is_ready = True
                self.ready.emit()
                if self.exit_when_ready:
                    elapsed = (time.perf_counter() - self._started_at) * 1000
                    print(f"{READY_MARKER} {elapsed:.0f}", flush=True)
                    QTimer.singleShot(0, self, self.close)

    def _ready_timeout(self) -> None:
        if not self.is_ready:
            print("MEDAPP_NOT_READY timeout", file=sys.stderr, flush=True)
            app = QApplication.instance()
            if app is not None:
                app.exit(3)

    @Slot()
    def probe(self) -> None:
        """Is the database answering (and is the person at the desk still an active user)?"""
        ctx = self.ctx
        if ctx.user_id is None or ctx.school_id is None:
            return
        desk, user_id, school_id = ctx.desk, ctx.user_id, ctx.school_id
        run_in_background(
            self,
            lambda: still_allowed(desk, school_id),
            lambda allowed: self._probed(user_id, allowed),
            lambda exc: self._set_online(False if is_connection_error(exc) else bool(self.online)),
        )

    def _probed(self, user_id: uuid.UUID, allowed: bool) -> None:
        self._set_online(True)
        if not allowed and self.ctx.user_id == user_id:
            self.statusBar().showMessage(
                "The person at the desk is no longer an active user here; sign in again.",
                20_000,
            )
            self.sign_in()

    @Slot(bool)
    def _set_online(self, online: bool) -> None:
        was = self.online
        self.online = online
        self.state_label.setText("Online" if online else "Offline")
        self.state_label.setProperty("state", "online" if online else "offline")
        self.state_label.setToolTip(
            "The database answers."
            if online
            else "The database does not answer: search uses the formulary kept on this PC, "
            "doses are kept on this PC and sent later. Retrying every 15 seconds."
        )
        self.state_label.style().unpolish(self.state_label)
        self.state_label.style().polish(self.state_label)
        side = self.fontMetrics().height()
        set_pixmap(
            self.state_icon,
            "online" if online else "offline",
            side,
            "online" if online else "offline",
        )
        self._probe.setInterval(PROBE_ONLINE_MS if online else PROBE_OFFLINE_MS)
        if was is False and online:
            self.statusBar().showMessage("The database answers again.", 8_000)
            self.refresh_all()

    @Slot(str, str)
    def _on_data_changed(self, table: str, _school: str) -> None:
        if table in ("schools", "users") and self.ctx.user_id is not None:
            self.probe()

    # -- panes -------------------------------------------------------------------------------

    def current_pane(self) -> QWidget | None:
        widget = self.stack.currentWidget()
        return widget if widget in self.panes else None

    def current_index(self) -> int:
        return self.nav.checkedId()

    @Slot(int)
    def show_pane(self, index: int) -> None:
        if not self.sidebar.isEnabled():  # locked or signed out: no records on screen
            return
        index = max(0, min(int(index), len(PANES) - 1))
        self.nav_buttons[index].setChecked(True)
        if 0 <= index < len(self.panes):
            self.stack.setCurrentWidget(self.panes[index])
            if index == 0 and self.search_pane is not None:
                self.search_pane.focus_search()
        for i, action in enumerate(getattr(self, "pane_actions", [])):
            action.setCheckable(True)
            action.setChecked(i == index)

    @Slot()
    def focus_search(self) -> None:
        """Ctrl+F: the current pane's search or filter box (the formulary search otherwise)."""
        pane = self.current_pane()
        focus = getattr(pane, "focus_search", None)
        if callable(focus):
            focus()
            return
        self.show_pane(0)
        if self.search_pane is not None:
            self.search_pane.focus_search()

    @Slot()
    def refresh_current(self) -> None:
        pane = self.current_pane()
        refresh = getattr(pane, "refresh", None)
        if callable(refresh):
            refresh()
        self.probe()

    def refresh_all(self) -> None:
        for pane in self.panes:
            refresh = getattr(pane, "refresh", None)
            if callable(refresh):
                refresh()

    # -- notifications (reminder pop-ups are added on top of this) ---------------------------

    def show_outbox_review(self) -> None:
        """Offline doses the server refused (conflicts, values it cannot store): retry or
        dismiss them with a reason; nothing there is ever lost."""
        from medapp.services.desk import AccessDenied
        from medapp.ui.dialogs.outbox_review import OutboxReviewDialog

        try:
            desk = self.ctx.desk
        except AccessDenied:
            desk = None
        name = self.ctx.user_name or "desk"
        dialog = OutboxReviewDialog(self.ctx.outbox, name, self, desk=desk)
        self.outbox_review = dialog
        dialog.open()

    def show_notification(self, title: str, text: str) -> None:
        """A desktop notification when the system has a tray, else a status-bar message.
        While the desk is locked or signed out the text names nobody: it only says to sign in."""
        if self.locked:
            text = "Sign in to see it."
        self.last_notification = (title, text)
        if not self._tray_message(title, text):
            self.statusBar().showMessage(f"{title} — {text}", 30_000)

    def _tray_message(self, title: str, text: str) -> bool:
        """The desktop's own notification, where the desktop has a tray (False: none)."""
        if not QSystemTrayIcon.isSystemTrayAvailable():
            return False
        if self._tray is None:
            self._tray = QSystemTrayIcon(self.windowIcon(), self)
            self._tray.setObjectName("trayIcon")
            self._tray.setToolTip("medapp")
            self._tray.activated.connect(lambda _reason: self._bring_to_front())
            self._tray.messageClicked.connect(self._bring_to_front)
            self._tray.show()
        self._tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, 15_000)
        return True

    # -- due-dose cards (issue 14) -------------------------------------------------------------

    @Slot(object, object)
    def show_due_doses(
        self, doses: tuple[DueDose, ...], hours: tuple[dt.time, dt.time] | None = None
    ) -> None:
        """The jobs' open doses (``DeskJobs.signals.due``): a card per new due dose."""
        self.due_cards.set_locked(self.locked)
        self.due_cards.set_doses(doses, hours, self.ctx.school_timezone)

    def _due_alert(self, doses: list[DueDose]) -> None:
        """New cards in school hours: the bell (a setting) and the tray's message as well."""
        if sound_enabled():
            beep()
        text = tray_text(doses, self.due_cards.model.tz, locked=self.locked)
        self.last_notification = (text.title, text.body)
        self._tray_message(text.title, text.body)

    def _set_sound(self, on: bool) -> None:
        if self._save_settings:
            QSettings().setValue(SOUND_SETTING, on)

    @Slot(object, object)
    def give_due_dose(self, prescription_id: uuid.UUID, scheduled_for: dt.datetime) -> None:
        """A card's Give…: the dose dialog of that dose; the card steps aside while it is open
        and goes once the dose is recorded (it comes back if the dialog is cancelled)."""
        pane = self.reminders_pane
        if self.locked or not isinstance(pane, RemindersPane):
            return
        self.show_pane(PANE_INDEX["reminders"])
        dialog = pane.open_dose_at(prescription_id, scheduled_for)
        if dialog is None:
            return  # another dose dialog is open: it was raised instead
        key = (prescription_id, scheduled_for)
        self.due_cards.take(key)
        dialog.recorded.connect(lambda _r: self.due_cards.dismiss(key))
        dialog.finished.connect(lambda _r: self.due_cards.release(key))

    @Slot(object, object)
    def open_due_dose(self, prescription_id: uuid.UUID, scheduled_for: dt.datetime) -> None:
        """A card's Open: the dose selected in Reminders (the card's job is done)."""
        pane = self.reminders_pane
        if self.locked or not isinstance(pane, RemindersPane):
            return
        self.show_pane(PANE_INDEX["reminders"])
        pane.select_dose(prescription_id, scheduled_for)
        self.due_cards.dismiss((prescription_id, scheduled_for))

    def _place_due_cards(self) -> None:
        """The stack at the bottom-right of the pane area: over the list's last rows, never over
        a pane's title row, filter or counts (and not over the Reminders' first, due rows)."""
        central = self.centralWidget()
        if central is None:
            return
        cards = self.due_cards
        margin = self.fontMetrics().averageCharWidth() * 2
        room = max(0, central.width() - self.sidebar.width() - 2 * margin)
        width = min(max(cards.sizeHint().width(), self.fontMetrics().averageCharWidth() * 40), room)
        cards.setFixedWidth(width)
        height = min(cards.sizeHint().height(), max(0, central.height() - 2 * margin))
        cards.setFixedHeight(height)
        cards.move(central.width() - width - margin, central.height() - height - margin)
        cards.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if watched is self.centralWidget() and event.type() == QEvent.Type.Resize:
            self._place_due_cards()
        return super().eventFilter(watched, event)

    @Slot(str, int)
    def show_job_failed(self, name: str, retry_in: int) -> None:
        """A scheduled job failed (``DeskJobs.signals.job_failed``): say which and when it is
        tried again, in the status bar until it runs again (no names: it may be locked)."""
        from medapp.jobs.scheduler import failure_text

        self._failing_jobs[name] = failure_text(name, retry_in)
        self._show_job_status()

    @Slot(str)
    def show_job_recovered(self, name: str) -> None:
        self._failing_jobs.pop(name, None)
        self._show_job_status()

    def _show_job_status(self) -> None:
        text = "; ".join(self._failing_jobs.values())
        self.job_status.setText(text)
        self.job_status.setToolTip(text)
        self.job_status.setVisible(bool(text))

    def _bring_to_front(self) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    # -- look --------------------------------------------------------------------------------

    def set_theme(self, mode: str) -> None:
        app = QApplication.instance()
        if not isinstance(app, QApplication):
            return
        apply_theme(app, mode)
        if self._save_settings:
            QSettings().setValue("ui/theme", mode)
        for action_mode, action in self.theme_actions.items():
            action.setChecked(action_mode == mode)
        self._refresh_icons()

    def _refresh_icons(self) -> None:
        """Icons follow the palette (``retint_all``); drawn icons of the panes repaint."""
        retint_all()
        if self.online is not None:
            self._set_online(self.online)
        for pane in self.panes:
            pane.update()

    def _update_title(self) -> None:
        school = f" — {self.ctx.school_name}" if self.ctx.school_name else ""
        self.setWindowTitle(f"medapp{school}" + ("  (demo data)" if self.demo else ""))

    def _update_identity_labels(self) -> None:
        ctx = self.ctx
        self.user_label.setText(ctx.user_name or "Nobody signed in")
        self.user_label.setToolTip("Who is at the desk (Ctrl+Shift+U to switch)")
        self.school_label.setText(ctx.school_name or "No school chosen")
        self.school_side_label.setText(ctx.school_name)
        self._update_title()

    def show_end_of_day(self) -> EndOfDayDialog | None:
        """Desk → End of day…: the school day's summary, closing it, printing its report."""
        if not self.panes or self.locked or self.ctx.school_id is None:
            return None
        # imported on first use: it brings the report and PDF modules, not needed to start
        from medapp.ui.dialogs.end_of_day import EndOfDayDialog

        dialog = EndOfDayDialog(self.ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def show_supplies(self) -> QDialog | None:
        """Desk → Supplies and letters…: students' own supplies, refill and authorization
        letters, field-trip sign-out and count-back (issue 14)."""
        if not self.panes or self.locked or self.ctx.school_id is None:
            return None
        from medapp.ui.dialogs.supplies_dialog import SuppliesDialog

        dialog = SuppliesDialog(self.ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def print_current(self) -> None:
        """Ctrl+P: the current pane's natural report (its ``print_report`` when it has one),
        else the school day's report."""
        pane = self.current_pane()
        printer = getattr(pane, "print_report", None)
        if callable(printer):
            printer()
            return
        dialog = self.show_end_of_day()
        if dialog is not None:
            dialog.loaded.connect(dialog.print_report)

    def _show_shortcuts(self) -> None:
        QMessageBox.information(
            self,
            "Keyboard shortcuts",
            "Ctrl+1 … Ctrl+4  Search, Schedule, Reminders, Inventory\n"
            "Ctrl+F  the current pane's search box\n"
            "Enter  open the selected row      Esc  close a dialog\n"
            "F5  refresh      Ctrl+Shift+U  switch user      Ctrl+Q  quit\n"
            "Ctrl+P  print (the school day's report)\n"
            "In Search: type or scan a barcode (digits + Enter); ↓ moves into the results.",
        )

    # -- geometry ----------------------------------------------------------------------------

    def _restore_geometry(self) -> None:
        settings = QSettings()
        geometry = settings.value("mainWindow/geometry")
        if geometry is not None and not self.exit_when_ready:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        try:
            self._saved_pane = int(str(settings.value("mainWindow/pane", 0) or 0))
        except (TypeError, ValueError):
            self._saved_pane = 0

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if self._save_settings:
            settings = QSettings()
            settings.setValue("mainWindow/geometry", self.saveGeometry())
            settings.setValue("mainWindow/pane", max(0, self.nav.checkedId()))
        self._probe.stop()
        if self._tray is not None:
            self._tray.hide()
        super().closeEvent(event)


def show_fatal(message: str) -> None:
    QMessageBox.critical(None, "medapp", message)


def app_icon() -> QIcon:
    result = QIcon()
    for side in (16, 24, 32, 48, 64, 128, 256):
        result.addPixmap(render_svg("medapp", side))
    return result


__all__ = ["MainWindow", "app_icon", "show_fatal"]
